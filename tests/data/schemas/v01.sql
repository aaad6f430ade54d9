BEGIN TRANSACTION;
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
INSERT INTO "fundraising_commitments" VALUES(1,1,1,2500000.0,'committed',NULL,NULL,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL);
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
INSERT INTO "fundraising_contacts" VALUES(1,2,NULL,'Jane Doe','jane@bloom.example',NULL,NULL,0,NULL,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL);
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
INSERT INTO "fundraising_funds" VALUES(1,'Fund III',2025,NULL,'USD','raising',NULL,NULL,'',1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL);
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
INSERT INTO "fundraising_investors" VALUES(1,'Acme Capital',NULL,NULL,'main',NULL,NULL,NULL,NULL,NULL,NULL,2500000.0,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL);
INSERT INTO "fundraising_investors" VALUES(2,'Bloom Pension',NULL,NULL,'main',NULL,NULL,NULL,NULL,NULL,NULL,0.0,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL);
INSERT INTO "fundraising_investors" VALUES(3,'Cedar Trust (archived)',NULL,NULL,'main',NULL,NULL,NULL,NULL,NULL,NULL,0.0,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture');
CREATE TABLE fundraising_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
INSERT INTO "fundraising_state" VALUES(1,1,'2026-12-07T09:16:59.065000+00:00','system:migrate');
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
INSERT INTO "grid_fields" VALUES(1,'name','Name','text','{}',NULL,0,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(2,'type','Type','single_select','{"choices": ["Family office", "Endowment", "Foundation", "Pension", "Fund of funds", "Corporate", "Sovereign wealth", "Bank", "Individual", "Other"]}',NULL,1,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(3,'status','Status','single_select','{"choices": ["Prospect", "Contacted", "Meeting", "Due diligence", "Committed", "Passed"]}',NULL,2,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(4,'list_membership','List','single_select','{"choices": ["main", "follow_up", "graveyard", "longshot"], "required": true}',NULL,3,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(5,'owner_id','Owner','user','{}',NULL,4,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(6,'location','Location','text','{}',NULL,5,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(7,'website','Website','url','{}',NULL,6,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(8,'tags','Tags','multi_select','{"choices": [], "allow_new": true}',NULL,7,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(9,'last_contacted_at','Last contacted','date','{}',NULL,8,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(10,'total_invested','Total invested','currency','{"currency": "USD"}',NULL,9,1,0,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(11,'notes','Notes','long_text','{}',NULL,10,1,1,NULL,1,'2026-12-07T09:16:59.065000+00:00','system:migrate','2026-12-07T09:16:59.065000+00:00','system:migrate',NULL,NULL);
CREATE TABLE schema_migrations ( version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL);
INSERT INTO "schema_migrations" VALUES(1,'initial','b4a90d5dc123e3cf450072ceef7c5707399cb1cb9251ec12f5c7f51c7703ef4f','2026-01-15T10:00:00.000000+00:00');
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
CREATE UNIQUE INDEX funds_name_live ON fundraising_funds (lower(name)) WHERE deleted_at IS NULL;
CREATE INDEX investors_name_live ON fundraising_investors (name COLLATE NOCASE, id)
    WHERE deleted_at IS NULL;
CREATE INDEX investors_owner ON fundraising_investors (owner_id);
CREATE INDEX investors_list_live ON fundraising_investors (list_membership, name COLLATE NOCASE, id)
    WHERE deleted_at IS NULL;
CREATE INDEX contacts_email_lower ON contacts (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX fundraising_contacts_investor ON fundraising_contacts (investor_id);
CREATE UNIQUE INDEX commitments_investor_fund_live
    ON fundraising_commitments (investor_id, fund_id) WHERE deleted_at IS NULL;
CREATE INDEX commitments_investor ON fundraising_commitments (investor_id);
CREATE INDEX commitments_fund ON fundraising_commitments (fund_id, investor_id);
CREATE UNIQUE INDEX grid_fields_key ON grid_fields (key);
CREATE UNIQUE INDEX grid_fields_label_live ON grid_fields (lower(label)) WHERE deleted_at IS NULL;
CREATE INDEX views_owner ON fundraising_views (owner_id);
CREATE INDEX audit_entity ON audit_log (entity, entity_id, id);
COMMIT;
