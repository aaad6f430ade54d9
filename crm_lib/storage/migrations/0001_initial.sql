-- Venture CRM schema 1: the fundraising model.
-- Every mutable table carries the same bookkeeping: id, version, created/updated/deleted at and by.
-- Timestamps are ISO-8601 UTC text; "by" columns hold the actor label (a user's email or "system:...").
-- Nothing is hard-deleted by the app: archive sets deleted_at, restore clears it.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL CHECK (length(trim(email)) > 0),
    name TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member')),
    password_hash TEXT,
    is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE UNIQUE INDEX users_email_live ON users (lower(email)) WHERE deleted_at IS NULL;

CREATE TABLE fundraising_funds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    vintage_year INTEGER,
    target_size REAL CHECK (target_size IS NULL OR target_size >= 0),
    currency TEXT NOT NULL DEFAULT 'USD',
    status TEXT NOT NULL DEFAULT 'raising',
    first_close_on TEXT,
    final_close_on TEXT,
    notes TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE UNIQUE INDEX funds_name_live ON fundraising_funds (lower(name)) WHERE deleted_at IS NULL;

CREATE TABLE fundraising_investors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    type TEXT,
    status TEXT,
    list_membership TEXT NOT NULL DEFAULT 'main'
        CHECK (list_membership IN ('main', 'follow_up', 'graveyard', 'longshot')),
    owner_id INTEGER REFERENCES users (id),
    location TEXT,
    website TEXT,
    notes TEXT,
    tags TEXT,                         -- JSON array of strings
    last_contacted_at TEXT,            -- ISO date or datetime
    total_invested REAL NOT NULL DEFAULT 0,  -- rollup of live commitments, kept by the service layer
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
-- The grid sorts by name (case-insensitively) with id as the stable tiebreak; matching looks names up.
CREATE INDEX investors_name_live ON fundraising_investors (name COLLATE NOCASE, id)
    WHERE deleted_at IS NULL;
CREATE INDEX investors_owner ON fundraising_investors (owner_id);
CREATE INDEX investors_list_live ON fundraising_investors (list_membership, name COLLATE NOCASE, id)
    WHERE deleted_at IS NULL;

-- The directory: one row per person the fund knows, whether or not linked to an investor yet.
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    full_name TEXT NOT NULL CHECK (length(trim(full_name)) > 0),
    email TEXT,
    title TEXT,
    phone TEXT,
    organization TEXT,                 -- only for people not linked to an investor
    fundraising_contact_id INTEGER UNIQUE
        REFERENCES fundraising_contacts (id) DEFERRABLE INITIALLY DEFERRED,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE INDEX contacts_email_lower ON contacts (lower(email)) WHERE deleted_at IS NULL;

-- A person at an investor. Mirrors into contacts: contact_id here, fundraising_contact_id there
-- (unique on both sides). Matching by email uses the directory's lower(email) index.
-- Every foreign-key child column is indexed: without one, SQLite scans the child table on each
-- parent insert while deferred violations are outstanding (measured: quadratic bulk inserts).
CREATE TABLE fundraising_contacts (
    id INTEGER PRIMARY KEY,
    investor_id INTEGER NOT NULL REFERENCES fundraising_investors (id),
    contact_id INTEGER UNIQUE REFERENCES contacts (id) DEFERRABLE INITIALLY DEFERRED,
    full_name TEXT NOT NULL CHECK (length(trim(full_name)) > 0),
    email TEXT,
    title TEXT,
    phone TEXT,
    is_primary INTEGER NOT NULL DEFAULT 0 CHECK (is_primary IN (0, 1)),
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE INDEX fundraising_contacts_investor ON fundraising_contacts (investor_id);

CREATE TABLE fundraising_commitments (
    id INTEGER PRIMARY KEY,
    investor_id INTEGER NOT NULL REFERENCES fundraising_investors (id),
    fund_id INTEGER NOT NULL REFERENCES fundraising_funds (id),
    amount REAL NOT NULL CHECK (amount >= 0),
    status TEXT NOT NULL DEFAULT 'committed'
        CHECK (status IN ('soft_circled', 'committed', 'closed')),
    committed_on TEXT,
    notes TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
-- One live commitment per investor and fund.
CREATE UNIQUE INDEX commitments_investor_fund_live
    ON fundraising_commitments (investor_id, fund_id) WHERE deleted_at IS NULL;
CREATE INDEX commitments_investor ON fundraising_commitments (investor_id);
CREATE INDEX commitments_fund ON fundraising_commitments (fund_id, investor_id);

-- Describes every column of the investor grid: built-in ones and user-defined ones
-- (user-defined fields are real columns of fundraising_investors, added by the service layer).
CREATE TABLE grid_fields (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,                 -- the column name in fundraising_investors
    label TEXT NOT NULL,
    type TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',  -- JSON: choices, precision, currency...
    formula TEXT,
    position INTEGER NOT NULL,
    is_builtin INTEGER NOT NULL DEFAULT 0 CHECK (is_builtin IN (0, 1)),
    is_editable INTEGER NOT NULL DEFAULT 1 CHECK (is_editable IN (0, 1)),
    width INTEGER,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE UNIQUE INDEX grid_fields_key ON grid_fields (key);
CREATE UNIQUE INDEX grid_fields_label_live ON grid_fields (lower(label)) WHERE deleted_at IS NULL;

CREATE TABLE fundraising_views (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    owner_id INTEGER REFERENCES users (id),    -- NULL: shared with the team
    list_membership TEXT NOT NULL DEFAULT 'all'
        CHECK (list_membership IN ('all', 'main', 'follow_up', 'graveyard', 'longshot')),
    filters TEXT NOT NULL DEFAULT '{"op": "and", "conditions": []}',
    sorts TEXT NOT NULL DEFAULT '[]',
    hidden_fields TEXT NOT NULL DEFAULT '[]',
    frozen_fields TEXT NOT NULL DEFAULT '[]',
    widths TEXT NOT NULL DEFAULT '{}',
    position INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);

CREATE INDEX views_owner ON fundraising_views (owner_id);

-- The grid's global version: any change to fields, rows or views bumps it.
CREATE TABLE fundraising_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE feature_requests (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL CHECK (length(trim(title)) > 0),
    body TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'planned', 'done', 'declined')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);

CREATE TABLE app_settings (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    value TEXT NOT NULL,                -- JSON
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);

-- Append-only history: one row per created record, per changed field, per archive/restore.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    txn TEXT NOT NULL,                 -- groups the rows written by one transaction
    entity TEXT NOT NULL,              -- table name
    entity_id INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('create', 'update', 'archive', 'restore')),
    field TEXT,                        -- NULL for create/archive/restore
    old_value TEXT,                    -- JSON of the stored value (update)
    new_value TEXT                     -- JSON: the stored value (update) or the row (create/archive/restore)
);
CREATE INDEX audit_entity ON audit_log (entity, entity_id, id);
-- No index on `at`: ids grow with time, so the activity feed reads by id.

-- Seed rows: the grid's global version and the built-in investor fields.
INSERT INTO fundraising_state (id, version, updated_at, updated_by)
VALUES (1, 1, strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), 'system:migrate');

INSERT INTO grid_fields
    (key, label, type, options, position, is_builtin, is_editable, created_at, created_by, updated_at, updated_by)
SELECT key, label, type, options, position, 1, is_editable,
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), 'system:migrate',
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), 'system:migrate'
FROM (
    SELECT 'name' AS key, 'Name' AS label, 'text' AS type, '{}' AS options, 0 AS position, 1 AS is_editable
    UNION ALL SELECT 'type', 'Type', 'single_select',
        '{"choices": ["Family office", "Endowment", "Foundation", "Pension", "Fund of funds", "Corporate", "Sovereign wealth", "Bank", "Individual", "Other"]}', 1, 1
    UNION ALL SELECT 'status', 'Status', 'single_select',
        '{"choices": ["Prospect", "Contacted", "Meeting", "Due diligence", "Committed", "Passed"]}', 2, 1
    UNION ALL SELECT 'list_membership', 'List', 'single_select',
        '{"choices": ["main", "follow_up", "graveyard", "longshot"], "required": true}', 3, 1
    UNION ALL SELECT 'owner_id', 'Owner', 'user', '{}', 4, 1
    UNION ALL SELECT 'location', 'Location', 'text', '{}', 5, 1
    UNION ALL SELECT 'website', 'Website', 'url', '{}', 6, 1
    UNION ALL SELECT 'tags', 'Tags', 'multi_select', '{"choices": [], "allow_new": true}', 7, 1
    UNION ALL SELECT 'last_contacted_at', 'Last contacted', 'date', '{}', 8, 1
    UNION ALL SELECT 'total_invested', 'Total invested', 'currency', '{"currency": "USD"}', 9, 0
    UNION ALL SELECT 'notes', 'Notes', 'long_text', '{}', 10, 1
);
