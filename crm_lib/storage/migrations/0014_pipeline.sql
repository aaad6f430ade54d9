-- Venture CRM schema 14: the pipeline (stages, opportunities) and tasks.
--
-- Stages are configurable by admins, each with a default probability and a kind: open, won
-- (the commitment is made) or lost. An opportunity is one investor's prospect of coming into
-- one fund: at most one open per investor and fund (a closed one can be reopened). Its stage
-- history is the audit log of its stage_id; stage_entered_at says since when it is where it is.
-- A task is a piece of follow-up for a team member, about an investor, a person or an
-- opportunity (all optional). Every row has the usual bookkeeping, version and soft delete.
CREATE TABLE pipeline_stages (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    position INTEGER NOT NULL,
    probability REAL NOT NULL CHECK (probability >= 0 AND probability <= 1),
    kind TEXT NOT NULL DEFAULT 'open' CHECK (kind IN ('open', 'won', 'lost')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE UNIQUE INDEX pipeline_stages_name_live ON pipeline_stages (lower(name))
    WHERE deleted_at IS NULL;
INSERT INTO pipeline_stages (name, position, probability, kind, created_at, created_by,
    updated_at, updated_by)
SELECT column1, column2, column3, column4, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'),
    'system:migration', strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'), 'system:migration'
FROM (VALUES ('Prospect', 1, 0.10, 'open'), ('Intro', 2, 0.20, 'open'),
    ('Meeting', 3, 0.30, 'open'), ('Diligence', 4, 0.50, 'open'),
    ('Soft circle', 5, 0.75, 'open'), ('Committed', 6, 1.0, 'won'), ('Lost', 7, 0.0, 'lost'));

CREATE TABLE opportunities (
    id INTEGER PRIMARY KEY,
    investor_id INTEGER NOT NULL REFERENCES fundraising_investors (id),
    fund_id INTEGER NOT NULL REFERENCES fundraising_funds (id),
    stage_id INTEGER NOT NULL REFERENCES pipeline_stages (id),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'won', 'lost')),
    expected_amount REAL CHECK (expected_amount IS NULL OR expected_amount >= 0),
    probability REAL CHECK (probability IS NULL OR (probability >= 0 AND probability <= 1)),
    owner_id INTEGER REFERENCES users (id),
    expected_close TEXT,                -- ISO date
    next_step TEXT NOT NULL DEFAULT '',
    lost_reason TEXT NOT NULL DEFAULT '',
    stage_entered_at TEXT NOT NULL,
    closed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE UNIQUE INDEX opportunities_open ON opportunities (investor_id, fund_id)
    WHERE status = 'open' AND deleted_at IS NULL;
-- not partial: SQLite checks foreign keys through full indexes only. The board's: a fund's
-- stage in amount order, and what its totals add up (read from the index alone).
CREATE INDEX opportunities_board ON opportunities
    (fund_id, stage_id, expected_amount, probability, investor_id, deleted_at);
CREATE INDEX opportunities_stage ON opportunities (stage_id);
CREATE INDEX opportunities_investor ON opportunities (investor_id);
CREATE INDEX opportunities_owner ON opportunities (owner_id);

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL CHECK (length(trim(title)) > 0),
    notes TEXT NOT NULL DEFAULT '',
    investor_id INTEGER REFERENCES fundraising_investors (id),
    person_id INTEGER REFERENCES fundraising_contacts (id),
    opportunity_id INTEGER REFERENCES opportunities (id),
    assignee_id INTEGER REFERENCES users (id),
    due_on TEXT,                        -- ISO date
    priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'dismissed')),
    source TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'automation', 'email')),
    completed_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_on);
CREATE INDEX tasks_investor ON tasks (investor_id);
CREATE INDEX tasks_person ON tasks (person_id);
CREATE INDEX tasks_opportunity ON tasks (opportunity_id);

-- A fund's committed total (the pipeline's summary sets it against the target) from the index.
CREATE INDEX commitments_fund_amount ON fundraising_commitments
    (fund_id, deleted_at, investor_id, amount);
