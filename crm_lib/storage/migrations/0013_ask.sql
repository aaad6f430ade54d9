-- Venture CRM schema 13: plain-English questions. One row per question asked on the Ask page,
-- through the API or the CLI: who asked, what they typed, what left the box (the scrubbed
-- question, for the free-form path), the SQL that ran, how it went and how long it took. The
-- placeholders' values are not kept here: they are the names the question was scrubbed of.
CREATE TABLE ask_log (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users (id),    -- NULL: the operator's shell or a notebook
    source TEXT NOT NULL CHECK (source IN ('curated', 'model', 'sql', 'dry_run')),
    curated_key TEXT,                   -- the curated question, when one answered
    model TEXT,                         -- the Claude model, on the free-form path
    question TEXT NOT NULL,
    scrubbed_question TEXT,             -- what was sent (free-form path) or would be (dry run)
    sql TEXT,
    explanation TEXT,
    status TEXT NOT NULL CHECK (status IN ('answered', 'refused', 'failed', 'dry_run')),
    rule TEXT,                          -- the rule a refused query broke (views_only, ...)
    error TEXT,
    row_count INTEGER,
    investor_ids TEXT,                  -- JSON array, when the rows are investors: Open in grid
    duration_ms REAL NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE INDEX ask_log_created ON ask_log (created_at);
CREATE INDEX ask_log_user ON ask_log (user_id, created_at);
