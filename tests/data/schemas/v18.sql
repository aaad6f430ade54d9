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
, last_entity_id INTEGER
    CHECK (last_entity_id IS NULL OR last_entity_id >= entity_id));
CREATE TABLE automation_drafts (
    id INTEGER PRIMARY KEY,
    rule_id INTEGER NOT NULL REFERENCES automation_rules (id),
    investor_id INTEGER NOT NULL REFERENCES fundraising_investors (id),
    mark TEXT NOT NULL DEFAULT '',      -- the investor's last outbound email when drafted
    sender TEXT NOT NULL,               -- the team member whose drafts hold it
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    gmail_draft_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE automation_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL CHECK (length(trim(name)) > 0),
    enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
    trigger TEXT NOT NULL,              -- JSON {"kind": ..., ...}
    conditions TEXT,                    -- JSON filter tree, {"view_id": n}, or NULL (every investor)
    actions TEXT NOT NULL,              -- JSON [{"kind": ..., ...}, ...]
    evaluated_at TEXT,                  -- the last time-based evaluation (catch-up after downtime)
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE automation_runs (
    id INTEGER PRIMARY KEY,
    rule_id INTEGER NOT NULL REFERENCES automation_rules (id),
    trigger_event TEXT NOT NULL,        -- what started it: "schedule", "manual", "dry run", an event
    dry_run INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'refused', 'failed')),
    started_at TEXT NOT NULL,
    finished_at TEXT,
    matched INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    changes TEXT NOT NULL DEFAULT '[]', -- JSON [{investor_id, name, field, before, after}]
    errors TEXT NOT NULL DEFAULT '[]',  -- JSON [{investor_id, name, error}]
    message TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
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
CREATE TABLE email_account_messages (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES email_accounts (id),
    email_id INTEGER NOT NULL REFERENCES emails (id),
    gmail_id TEXT,
    gmail_thread_id TEXT,
    labels TEXT NOT NULL DEFAULT '[]',
    source_ref TEXT,                   -- for mailbox files: the file and the message's place in it
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_accounts (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL CHECK (length(trim(email)) > 0),
    user_id INTEGER REFERENCES users (id),
    source TEXT NOT NULL DEFAULT 'gmail' CHECK (source IN ('gmail', 'file')),
    -- what others see of this mailbox's mail, applied when mail is read
    sharing TEXT NOT NULL DEFAULT 'everything'
        CHECK (sharing IN ('everything', 'subject', 'metadata')),
    sync_enabled INTEGER NOT NULL DEFAULT 0 CHECK (sync_enabled IN (0, 1)),
    history_id TEXT,                   -- Gmail's cursor: the last history id fully stored
    status TEXT NOT NULL DEFAULT 'idle'
        CHECK (status IN ('idle', 'syncing', 'paused', 'failed')),
    stage TEXT,                        -- 'first sync', 'incremental', 'resync', 'import'
    last_sync_at TEXT,
    last_error TEXT,
    paused_until TEXT,
    throttled INTEGER NOT NULL DEFAULT 0,  -- throttles in a row (the pause doubles each time)
    messages_stored INTEGER NOT NULL DEFAULT 0,
    messages_total INTEGER,            -- the mailbox's own count (users.getProfile)
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_activity_proposals (
    id INTEGER PRIMARY KEY,
    email_id INTEGER NOT NULL REFERENCES emails (id),
    investor_id INTEGER NOT NULL REFERENCES fundraising_investors (id),
    address TEXT NOT NULL,             -- the counterparty address the evidence is about
    name TEXT NOT NULL DEFAULT '',     -- its display name, for "add as a person"
    evidence TEXT NOT NULL,
    confidence REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    may_add_person INTEGER NOT NULL DEFAULT 0 CHECK (may_add_person IN (0, 1)),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by TEXT,
    decided_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_aliases (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES fundraising_contacts (id),
    address TEXT NOT NULL,             -- canonical (crm_lib.mail.addresses.canonical)
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_blocklist (
    id INTEGER PRIMARY KEY,
    pattern TEXT NOT NULL CHECK (length(trim(pattern)) > 0),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_domain_decisions (
    id INTEGER PRIMARY KEY,
    investor_id INTEGER NOT NULL REFERENCES fundraising_investors (id),
    domain TEXT NOT NULL,
    decision TEXT NOT NULL DEFAULT 'rejected' CHECK (decision IN ('rejected')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_failures (
    id INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES email_accounts (id),
    source_ref TEXT NOT NULL,          -- the Gmail id, or the file and place
    reason TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_investor_links (
    id INTEGER PRIMARY KEY,
    email_id INTEGER NOT NULL REFERENCES emails (id),
    investor_id INTEGER NOT NULL REFERENCES fundraising_investors (id),
    person_id INTEGER REFERENCES fundraising_contacts (id),
    method TEXT NOT NULL CHECK (method IN ('person', 'approved')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE email_threads (
    id INTEGER PRIMARY KEY,
    thread_key TEXT NOT NULL,
    subject TEXT NOT NULL DEFAULT '',
    first_at TEXT,
    last_at TEXT,
    private_by INTEGER REFERENCES users (id),  -- marked private by this owner: only they see it
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE emails (
    id INTEGER PRIMARY KEY,
    message_id TEXT,                   -- RFC Message-ID without angle brackets
    fingerprint TEXT NOT NULL,         -- the Message-ID, else a digest of the message's facts
    thread_id INTEGER NOT NULL REFERENCES email_threads (id),
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    team_member_id INTEGER REFERENCES users (id),  -- who sent it (outbound) or first received it
    from_address TEXT NOT NULL DEFAULT '',
    from_name TEXT NOT NULL DEFAULT '',
    to_addresses TEXT NOT NULL DEFAULT '[]',   -- JSON arrays of lower-case addresses
    cc_addresses TEXT NOT NULL DEFAULT '[]',
    subject TEXT NOT NULL DEFAULT '',
    sent_at TEXT,                      -- UTC; NULL when the message had no readable Date
    snippet TEXT NOT NULL DEFAULT '',
    body_text TEXT NOT NULL DEFAULT '',
    reply_text TEXT NOT NULL DEFAULT '',
    body_html TEXT,                    -- sanitised (nh3) when the message had HTML
    attachments TEXT NOT NULL DEFAULT '[]',    -- JSON [{filename, content_type, size}]
    size INTEGER NOT NULL DEFAULT 0,
    defects TEXT NOT NULL DEFAULT '[]',        -- what was repaired while reading
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
, email_last_inbound_at TEXT, email_last_outbound_at TEXT, email_touches_30d INTEGER NOT NULL DEFAULT 0, email_touches_90d INTEGER NOT NULL DEFAULT 0, email_strength TEXT, email_connection_id INTEGER REFERENCES users (id), tasks__next_due TEXT);
INSERT INTO "fundraising_investors" VALUES(1,'Acme Capital',NULL,NULL,'main',NULL,NULL,NULL,NULL,NULL,NULL,2500000.0,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL,NULL,NULL,0,0,NULL,NULL,NULL);
INSERT INTO "fundraising_investors" VALUES(2,'Bloom Pension',NULL,NULL,'main',NULL,NULL,NULL,NULL,NULL,NULL,0.0,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL,NULL,NULL,0,0,NULL,NULL,NULL);
INSERT INTO "fundraising_investors" VALUES(3,'Cedar Trust (archived)',NULL,NULL,'main',NULL,NULL,NULL,NULL,NULL,NULL,0.0,1,'2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture','2026-01-15T10:00:00.000000+00:00','system:fixture',NULL,NULL,0,0,NULL,NULL,NULL);
CREATE TABLE fundraising_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
INSERT INTO "fundraising_state" VALUES(1,1,'2026-12-07T13:50:21.455000+00:00','system:migrate');
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
, field_order TEXT NOT NULL DEFAULT '[]', group_by TEXT);
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
INSERT INTO "grid_fields" VALUES(1,'name','Name','text','{}',NULL,0,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(2,'type','Type','single_select','{"choices": ["Family office", "Endowment", "Foundation", "Pension", "Fund of funds", "Corporate", "Sovereign wealth", "Bank", "Individual", "Other"]}',NULL,1,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(3,'status','Status','single_select','{"choices": ["Prospect", "Contacted", "Meeting", "Due diligence", "Committed", "Passed"]}',NULL,2,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(4,'list_membership','List','single_select','{"choices": ["main", "follow_up", "graveyard", "longshot"], "required": true}',NULL,3,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(5,'owner_id','Owner','user','{}',NULL,4,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(6,'location','Location','text','{}',NULL,5,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(7,'website','Website','url','{}',NULL,6,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(8,'tags','Tags','multi_select','{"choices": [], "allow_new": true}',NULL,7,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(9,'last_contacted_at','Last contacted','date','{}',NULL,8,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(10,'total_invested','Total invested','currency','{"currency": "USD"}',NULL,9,1,0,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(11,'notes','Notes','long_text','{}',NULL,10,1,1,NULL,1,'2026-12-07T13:50:21.455000+00:00','system:migrate','2026-12-07T13:50:21.455000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(12,'email_last_inbound_at','Last inbound email','datetime','{}',NULL,11,1,0,NULL,1,'2026-12-07T13:50:21.463000+00:00','system:migrate','2026-12-07T13:50:21.463000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(13,'email_last_outbound_at','Last outbound email','datetime','{}',NULL,12,1,0,NULL,1,'2026-12-07T13:50:21.463000+00:00','system:migrate','2026-12-07T13:50:21.463000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(14,'email_touches_30d','Emails in 30 days','number','{"precision": 0}',NULL,13,1,0,NULL,1,'2026-12-07T13:50:21.463000+00:00','system:migrate','2026-12-07T13:50:21.463000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(15,'email_touches_90d','Emails in 90 days','number','{"precision": 0}',NULL,14,1,0,NULL,1,'2026-12-07T13:50:21.463000+00:00','system:migrate','2026-12-07T13:50:21.463000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(16,'email_strength','Relationship strength','single_select','{"choices": ["Very weak", "Weak", "Medium", "Strong", "Very strong"]}',NULL,15,1,0,NULL,1,'2026-12-07T13:50:21.463000+00:00','system:migrate','2026-12-07T13:50:21.463000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(17,'email_connection_id','Strongest connection','user','{}',NULL,16,1,0,NULL,1,'2026-12-07T13:50:21.463000+00:00','system:migrate','2026-12-07T13:50:21.463000+00:00','system:migrate',NULL,NULL);
INSERT INTO "grid_fields" VALUES(18,'tasks__next_due','Next task due','date','{"overdue": true}',NULL,17,1,0,NULL,1,'2026-12-07T13:50:21.466000+00:00','system:migrate','2026-12-07T13:50:21.466000+00:00','system:migrate',NULL,NULL);
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
CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job TEXT NOT NULL,
    slot TEXT,
    attempt INTEGER NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    parameters TEXT NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
    error TEXT,
    notebook_file TEXT,
    html_file TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
, summary TEXT);
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users (id),          -- NULL: the whole team
    investor_id INTEGER REFERENCES fundraising_investors (id),
    rule_id INTEGER REFERENCES automation_rules (id),
    text TEXT NOT NULL,
    read_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
CREATE TABLE offbox_copies (
    id INTEGER PRIMARY KEY,
    backup_id INTEGER NOT NULL,        -- backups.id (no foreign key: restores merge catalogs)
    backup_started_at TEXT NOT NULL,
    destination TEXT NOT NULL CHECK (destination IN ('folder', 's3')),
    location TEXT NOT NULL,
    remote_key TEXT NOT NULL,          -- the copy's S3 key, or its path in the folder
    sha256 TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    detail TEXT NOT NULL DEFAULT '',   -- 'ok', or what went wrong
    duration_ms INTEGER NOT NULL DEFAULT 0,
    copied_at TEXT,                    -- NULL when the attempt failed before the copy was whole
    verified_at TEXT,                  -- last read back with the right SHA-256
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
);
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
INSERT INTO "pipeline_stages" VALUES(1,'Prospect',1,0.1,'open',1,'2026-12-07T13:50:21.465+00:00','system:migration','2026-12-07T13:50:21.465+00:00','system:migration',NULL,NULL);
INSERT INTO "pipeline_stages" VALUES(2,'Intro',2,0.2,'open',1,'2026-12-07T13:50:21.465+00:00','system:migration','2026-12-07T13:50:21.465+00:00','system:migration',NULL,NULL);
INSERT INTO "pipeline_stages" VALUES(3,'Meeting',3,0.3,'open',1,'2026-12-07T13:50:21.465+00:00','system:migration','2026-12-07T13:50:21.465+00:00','system:migration',NULL,NULL);
INSERT INTO "pipeline_stages" VALUES(4,'Diligence',4,0.5,'open',1,'2026-12-07T13:50:21.465+00:00','system:migration','2026-12-07T13:50:21.465+00:00','system:migration',NULL,NULL);
INSERT INTO "pipeline_stages" VALUES(5,'Soft circle',5,0.75,'open',1,'2026-12-07T13:50:21.465+00:00','system:migration','2026-12-07T13:50:21.465+00:00','system:migration',NULL,NULL);
INSERT INTO "pipeline_stages" VALUES(6,'Committed',6,1.0,'won',1,'2026-12-07T13:50:21.465+00:00','system:migration','2026-12-07T13:50:21.465+00:00','system:migration',NULL,NULL);
INSERT INTO "pipeline_stages" VALUES(7,'Lost',7,0.0,'lost',1,'2026-12-07T13:50:21.465+00:00','system:migration','2026-12-07T13:50:21.465+00:00','system:migration',NULL,NULL);
CREATE TABLE schema_migrations ( version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL);
INSERT INTO "schema_migrations" VALUES(1,'initial','b4a90d5dc123e3cf450072ceef7c5707399cb1cb9251ec12f5c7f51c7703ef4f','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(2,'auth','5aeed6c88a7c3d157f28e4f67c4c2ad05a009a3ec8c240beab05ed1cda120d0a','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(3,'investor_total_index','4304a0cac6b4fc517b461ad6f68904df857c281ee8ad90b46e1450950552a6e5','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(4,'views','a23d28b9885ab6f1bb39e5960abf60db4eb382f288568e895801fa548332869a','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(5,'grid','d8e6325abe445028cfa3ded7a88575e7433771c530462cb3f2bbdca7714a27fa','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(6,'imports','9a1ebbd5d7fc6bd83620099855b4b5def4e7e9b7305ec79415152c14b5f38677','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(7,'backups','ecad49e59e71466e8b04e79b14b32d3cf048e4da014fc173a3fa191ad4b5c8a8','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(8,'jobs','6ff99292b97bc6c8352d75357233eae83d9d90d1dc15a22ee92bacf5b7291d75','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(9,'audit_ranges','99c1406cc031a03751c8dfc213cd880c579a3df61e72ff280cc41241d2b43637','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(10,'view_grouping','6472d983aa86edfce4efea7dbe3db1ec1cb98884271c1ae4a754e1209ec19ade','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(11,'email','0b1eed61789e4cb3ab6d709645b08bc66d01ba909fc88f5a9166c16743a1fb78','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(12,'digest','6bcdc0ccc5a069f53872d6ecc8e33905ddb56fef5d63afe76d4c13e0db12057d','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(13,'ask','240d85870da727bfdc63886d61a4e97486cd756d96efe1117a199b1d4b8376f4','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(14,'pipeline','3ce47ced342dd4a06305f2d62cd02dac28aa198e0dcb76773e00ddc377d21755','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(15,'next_task_due','cf0e2cc568a643eceef03b317ff8222f7aa7398091b5ee4ed2137fdf87a9cc06','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(16,'automations','cfc22e4fb0703289533432a7e8b5f17eb3c9e901ede6c4af7b9dbfcf1cc4dc54','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(17,'automation_drafts','7ba2dce43598367c8cf79455b407895fd50088a61dd522a121ad3288037bffe7','2026-01-15T10:00:00.000000+00:00');
INSERT INTO "schema_migrations" VALUES(18,'offbox_copies','9644250816ffeef1461045e8267f38c790e13d651dbe857de8490cb462317afa','2026-01-15T10:00:00.000000+00:00');
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
CREATE INDEX job_runs_job ON job_runs (job, started_at);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_ranges ON audit_log (entity, entity_id, last_entity_id)
    WHERE last_entity_id IS NOT NULL;
CREATE UNIQUE INDEX email_accounts_email_live ON email_accounts (lower(email))
    WHERE deleted_at IS NULL;
CREATE INDEX email_accounts_user ON email_accounts (user_id);
CREATE UNIQUE INDEX email_threads_key ON email_threads (thread_key);
CREATE INDEX email_threads_private ON email_threads (private_by);
CREATE UNIQUE INDEX emails_fingerprint ON emails (fingerprint);
CREATE INDEX emails_thread ON emails (thread_id, sent_at);
CREATE INDEX emails_sent ON emails (sent_at);
CREATE INDEX emails_team_member ON emails (team_member_id, sent_at);
CREATE UNIQUE INDEX email_account_messages_pair ON email_account_messages (account_id, email_id);
CREATE UNIQUE INDEX email_account_messages_gmail ON email_account_messages (account_id, gmail_id)
    WHERE gmail_id IS NOT NULL;
CREATE INDEX email_account_messages_email ON email_account_messages (email_id);
CREATE UNIQUE INDEX email_investor_links_live ON email_investor_links (email_id, investor_id)
    WHERE deleted_at IS NULL;
CREATE INDEX email_investor_links_investor ON email_investor_links (investor_id, email_id);
CREATE INDEX email_investor_links_person ON email_investor_links (person_id);
CREATE INDEX email_investor_links_email ON email_investor_links (email_id);
CREATE UNIQUE INDEX email_activity_proposals_live
    ON email_activity_proposals (email_id, investor_id) WHERE deleted_at IS NULL;
CREATE INDEX email_activity_proposals_status ON email_activity_proposals (status, id);
CREATE INDEX email_activity_proposals_investor ON email_activity_proposals (investor_id);
CREATE INDEX email_activity_proposals_email ON email_activity_proposals (email_id);
CREATE UNIQUE INDEX email_domain_decisions_live ON email_domain_decisions (investor_id, domain)
    WHERE deleted_at IS NULL;
CREATE INDEX email_domain_decisions_investor ON email_domain_decisions (investor_id);
CREATE UNIQUE INDEX email_aliases_address_live ON email_aliases (address) WHERE deleted_at IS NULL;
CREATE INDEX email_aliases_person ON email_aliases (person_id);
CREATE UNIQUE INDEX email_blocklist_live ON email_blocklist (lower(pattern)) WHERE deleted_at IS NULL;
CREATE INDEX email_failures_account ON email_failures (account_id, id);
CREATE INDEX investors_email_connection ON fundraising_investors (email_connection_id);
CREATE UNIQUE INDEX digest_sends_slot ON digest_sends (slot) WHERE kind = 'scheduled';
CREATE INDEX digest_sends_started ON digest_sends (started_at);
CREATE INDEX ask_log_created ON ask_log (created_at);
CREATE INDEX ask_log_user ON ask_log (user_id, created_at);
CREATE UNIQUE INDEX pipeline_stages_name_live ON pipeline_stages (lower(name))
    WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX opportunities_open ON opportunities (investor_id, fund_id)
    WHERE status = 'open' AND deleted_at IS NULL;
CREATE INDEX opportunities_board ON opportunities
    (fund_id, stage_id, expected_amount, probability, investor_id, deleted_at);
CREATE INDEX opportunities_stage ON opportunities (stage_id);
CREATE INDEX opportunities_investor ON opportunities (investor_id);
CREATE INDEX opportunities_owner ON opportunities (owner_id);
CREATE INDEX tasks_assignee ON tasks (assignee_id, status, due_on);
CREATE INDEX tasks_investor ON tasks (investor_id);
CREATE INDEX tasks_person ON tasks (person_id);
CREATE INDEX tasks_opportunity ON tasks (opportunity_id);
CREATE INDEX commitments_fund_amount ON fundraising_commitments
    (fund_id, deleted_at, investor_id, amount);
CREATE INDEX tasks_investor_open ON tasks (investor_id, status, deleted_at, due_on);
CREATE UNIQUE INDEX automation_rules_name_live ON automation_rules (lower(name))
    WHERE deleted_at IS NULL;
CREATE INDEX automation_runs_rule ON automation_runs (rule_id, id);
CREATE INDEX notifications_user ON notifications (user_id, read_at);
CREATE INDEX notifications_investor ON notifications (investor_id);
CREATE INDEX notifications_rule ON notifications (rule_id, investor_id);
CREATE INDEX automation_drafts_rule ON automation_drafts (rule_id, investor_id, mark);
CREATE INDEX automation_drafts_investor ON automation_drafts (investor_id);
CREATE INDEX offbox_copies_location ON offbox_copies (location, created_at);
CREATE INDEX offbox_copies_backup ON offbox_copies (backup_id);
COMMIT;
