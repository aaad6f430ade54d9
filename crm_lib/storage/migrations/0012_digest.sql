-- Venture CRM schema 12: the daily digest. One row per digest sent (or attempted): the window it
-- covers, who it went to, through which transport, its sizes and figures, and the error when it
-- failed. A scheduled digest carries its slot; the unique index is what makes "never twice for
-- one window" hold across restarts and across two server processes.
CREATE TABLE digest_sends (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('scheduled', 'manual', 'copy', 'test')),
    slot TEXT,                          -- the scheduled moment (UTC) a scheduled digest is for
    window_start TEXT,
    window_end TEXT,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'interrupted')),
    transport TEXT,                     -- 'gmail' or 'smtp' (the one that delivered it)
    sender TEXT,
    recipients TEXT NOT NULL DEFAULT '[]',      -- JSON array of addresses
    subject TEXT NOT NULL DEFAULT '',
    html_bytes INTEGER NOT NULL DEFAULT 0,
    text_bytes INTEGER NOT NULL DEFAULT 0,
    figures TEXT NOT NULL DEFAULT '{}',         -- JSON: emails, investors, members, edits, ...
    narrative TEXT,                     -- 'model' or 'data' (how the narratives were written)
    error TEXT,
    attempts TEXT NOT NULL DEFAULT '[]',        -- JSON: each transport tried and its outcome
    started_at TEXT NOT NULL,
    finished_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE UNIQUE INDEX digest_sends_slot ON digest_sends (slot) WHERE kind = 'scheduled';
CREATE INDEX digest_sends_started ON digest_sends (started_at);
