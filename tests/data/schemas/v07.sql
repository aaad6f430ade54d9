BEGIN TRANSACTION;
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    token_hash TEXT NOT NULL UNIQUE,
    token_hint TEXT NOT NULL,          -- the first characters, so a person can tell tokens apart
    last_used_at TEXT,
    expires_at TEXT,
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
CREATE TABLE backups (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('nightly', 'manual', 'pre-restore', 'pre-migration')),
    file_name TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    integrity TEXT NOT NULL,          -- 'ok', or the first problem integrity_check reported
    schema_version INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    verified_at TEXT,
    verify_status TEXT CHECK (verify_status IN ('ok', 'failed')),
    verify_detail TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
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
CREATE TABLE feature_request_votes (
    id INTEGER PRIMARY KEY,
    feature_request_id INTEGER NOT NULL REFERENCES feature_requests (id),
    user_id INTEGER NOT NULL REFERENCES users (id),
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
INSERT INTO "fundraising_state" VALUES(1,1,'2026-12-07T09:16:59.096000+00:00','system:migrate');
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
, field_order TEXT NOT NULL DEFAULT '[]');
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
INSERT INTO "grid_fields" VALUES(1,'name','Name','text','{}',NULL,0,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(2,'type','Type','single_select','{"choices": ["Family office", "Endowment", "Foundation", "Pension", "Fund of funds", "Corporate", "Sovereign wealth", "Bank", "Individual", "Other"]}',NULL,1,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(3,'status','Status','single_select','{"choices": ["Prospect", "Contacted", "Meeting", "Due diligence", "Committed", "Passed"]}',NULL,2,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(4,'list_membership','List','single_select','{"choices": ["main", "follow_up", "graveyard", "longshot"], "required": true}',NULL,3,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(5,'owner_id','Owner','user','{}',NULL,4,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(6,'location','Location','text','{}',NULL,5,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(7,'website','Website','url','{}',NULL,6,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(8,'tags','Tags','multi_select','{"choices": [], "allow_new": true}',NULL,7,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(9,'last_contacted_at','Last contacted','date','{}',NULL,8,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(10,'total_invested','Total invested','currency','{"currency": "USD"}',NULL,9,1,0,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(11,'notes','Notes','long_text','{}',NULL,10,1,1,NULL,1,'2026-12-07T09:16:59.096000+00:00','system:migrate','2026-12-07T09:16:59.096000+00:00','system:migrate',NULL,NULL);
CREATE TABLE import_profiles (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    source TEXT NOT NULL DEFAULT 'airtable',
    columns TEXT NOT NULL,                -- JSON object: header -> target
    key_column TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',   -- JSON: date_orders, encoding, delimiter
    header_signature TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE import_row_fingerprints (
    investor_id INTEGER PRIMARY KEY REFERENCES fundraising_investors (id),
    fingerprint TEXT NOT NULL,
    investor_version INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL DEFAULT 'airtable',
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    encoding TEXT NOT NULL,
    profile TEXT,
    key_column TEXT NOT NULL,
    options TEXT NOT NULL DEFAULT '{}',   -- JSON: skip_bad_rows, archive_missing, mapping
    counts TEXT NOT NULL DEFAULT '{}',    -- JSON: rows, created, updated, unchanged, ...
    txn TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE invites (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('setup', 'invite', 'reset')),
    email TEXT,                        -- NULL for the setup link: the first admin types it
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    user_id INTEGER REFERENCES users (id),  -- reset: whose password; others: the user created
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TEXT NOT NULL,
    accepted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE schema_migrations ( version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL);
INSERT INTO "schema_migrations" VALUES(1,'initial','b4a90d5dc123e3cf450072ceef7c5707399cb1cb9251ec12f5c7f51c7703ef4f','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(2,'auth','5aeed6c88a7c3d157f28e4f67c4c2ad05a009a3ec8c240beab05ed1cda120d0a','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(3,'investor_total_index','4304a0cac6b4fc517b461ad6f68904df857c281ee8ad90b46e1450950552a6e5','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(4,'views','a23d28b9885ab6f1bb39e5960abf60db4eb382f288568e895801fa548332869a','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(5,'grid','d8e6325abe445028cfa3ded7a88575e7433771c530462cb3f2bbdca7714a27fa','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(6,'imports','9a1ebbd5d7fc6bd83620099855b4b5def4e7e9b7305ec79415152c14b5f38677','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(7,'backups','ecad49e59e71466e8b04e79b14b32d3cf048e4da014fc173a3fa191ad4b5c8a8','2026-01-15T10:00:00.000000+00:00');
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL UNIQUE,
    ip TEXT,
    user_agent TEXT,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,          -- absolute expiry; idle expiry is last_seen_at + idle time
    end_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
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
, password_changed_at TEXT, last_login_at TEXT, default_view_id INTEGER REFERENCES fundraising_views (id));
CREATE UNIQUE INDEX users_email_live ON users (lower(email)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX funds_name_live ON fundraising_funds (lower(name)) WHERE deleted_at IS NULL;
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
CREATE INDEX invites_user ON invites (user_id);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
CREATE UNIQUE INDEX feature_request_votes_live
    ON feature_request_votes (feature_request_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX feature_request_votes_user ON feature_request_votes (user_id);
CREATE INDEX feature_request_votes_request ON feature_request_votes (feature_request_id);
CREATE INDEX investors_total_live ON fundraising_investors (total_invested, name COLLATE NOCASE, id)
    WHERE deleted_at IS NULL;
CREATE INDEX investors_name_live ON fundraising_investors (name COLLATE NOCASE, id, total_invested)
    WHERE deleted_at IS NULL;
CREATE INDEX users_default_view ON users (default_view_id);
CREATE INDEX investors_archived ON fundraising_investors (name COLLATE NOCASE, id)
    WHERE deleted_at IS NOT NULL;
CREATE INDEX imports_txn ON imports (txn);
CREATE INDEX imports_created ON imports (created_at);
CREATE UNIQUE INDEX import_profiles_name_live ON import_profiles (lower(name))
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX backups_file_name ON backups (file_name);
CREATE INDEX backups_started ON backups (started_at) WHERE deleted_at IS NULL;
COMMIT;
