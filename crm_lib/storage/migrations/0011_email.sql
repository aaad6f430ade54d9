-- Venture CRM schema 11: email capture. The team's mail (Gmail via a service account, or
-- mailbox files) stored once per message, linked to investors and their people, with a
-- propose -> approve queue for mail that matches an investor only by domain.
-- Table names are the ones the team's earlier tools used. Bookkeeping and soft delete as
-- everywhere: an archived row leaves every read path.

-- One synced or imported mailbox of a team member.
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
CREATE UNIQUE INDEX email_accounts_email_live ON email_accounts (lower(email))
    WHERE deleted_at IS NULL;
CREATE INDEX email_accounts_user ON email_accounts (user_id);

-- A conversation: keyed by the first Message-ID of its References (RFC 5322 threading), which
-- every mailbox holding it agrees on (Gmail's thread ids differ from mailbox to mailbox).
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
CREATE UNIQUE INDEX email_threads_key ON email_threads (thread_key);
CREATE INDEX email_threads_private ON email_threads (private_by);

-- One message, stored once however many team mailboxes hold it.
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
CREATE UNIQUE INDEX emails_fingerprint ON emails (fingerprint);
CREATE INDEX emails_thread ON emails (thread_id, sent_at);
CREATE INDEX emails_sent ON emails (sent_at);
CREATE INDEX emails_team_member ON emails (team_member_id, sent_at);

-- Which mailbox holds which message (and under which Gmail id and labels).
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
CREATE UNIQUE INDEX email_account_messages_pair ON email_account_messages (account_id, email_id);
CREATE UNIQUE INDEX email_account_messages_gmail ON email_account_messages (account_id, gmail_id)
    WHERE gmail_id IS NOT NULL;
CREATE INDEX email_account_messages_email ON email_account_messages (email_id);

-- A message linked to an investor, and to the specific person when one matched.
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
CREATE UNIQUE INDEX email_investor_links_live ON email_investor_links (email_id, investor_id)
    WHERE deleted_at IS NULL;
CREATE INDEX email_investor_links_investor ON email_investor_links (investor_id, email_id);
CREATE INDEX email_investor_links_person ON email_investor_links (person_id);
CREATE INDEX email_investor_links_email ON email_investor_links (email_id);

-- A message that matches an investor only by domain, waiting for a person's decision.
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
CREATE UNIQUE INDEX email_activity_proposals_live
    ON email_activity_proposals (email_id, investor_id) WHERE deleted_at IS NULL;
CREATE INDEX email_activity_proposals_status ON email_activity_proposals (status, id);
CREATE INDEX email_activity_proposals_investor ON email_activity_proposals (investor_id);
CREATE INDEX email_activity_proposals_email ON email_activity_proposals (email_id);

-- Decisions remembered: a domain rejected for an investor is not proposed for it again.
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
CREATE UNIQUE INDEX email_domain_decisions_live ON email_domain_decisions (investor_id, domain)
    WHERE deleted_at IS NULL;
CREATE INDEX email_domain_decisions_investor ON email_domain_decisions (investor_id);

-- More addresses of a person (an admin adds them): their mail links like the person's own.
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
CREATE UNIQUE INDEX email_aliases_address_live ON email_aliases (address) WHERE deleted_at IS NULL;
CREATE INDEX email_aliases_person ON email_aliases (person_id);

-- Addresses ("jane@lp.example") and domains ("@lp.example") whose mail is never captured.
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
CREATE UNIQUE INDEX email_blocklist_live ON email_blocklist (lower(pattern)) WHERE deleted_at IS NULL;

-- Messages that could not be read or stored, with the reason (a sync never stops for one).
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
CREATE INDEX email_failures_account ON email_failures (account_id, id);

-- Relationship signals from linked email, kept by the library (crm_lib/mail/signals.py) like
-- formula values: read-only grid fields that sort, filter, export and feed formulas.
ALTER TABLE fundraising_investors ADD COLUMN email_last_inbound_at TEXT;
ALTER TABLE fundraising_investors ADD COLUMN email_last_outbound_at TEXT;
ALTER TABLE fundraising_investors ADD COLUMN email_touches_30d INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fundraising_investors ADD COLUMN email_touches_90d INTEGER NOT NULL DEFAULT 0;
ALTER TABLE fundraising_investors ADD COLUMN email_strength TEXT;
ALTER TABLE fundraising_investors ADD COLUMN email_connection_id INTEGER REFERENCES users (id);
CREATE INDEX investors_email_connection ON fundraising_investors (email_connection_id);

-- Their fields, after every field there is; a label a team already uses gets " (email)".
INSERT INTO grid_fields
    (key, label, type, options, position, is_builtin, is_editable, created_at, created_by, updated_at, updated_by)
SELECT new.key,
       CASE WHEN EXISTS (SELECT 1 FROM grid_fields g WHERE lower(g.label) = lower(new.label)
                         AND g.deleted_at IS NULL)
            THEN new.label || ' (email)' ELSE new.label END,
       new.type, new.options,
       (SELECT COALESCE(MAX(position), 0) FROM grid_fields) + new.offset,
       1, 0,
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), 'system:migrate',
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), 'system:migrate'
FROM (
    SELECT 'email_last_inbound_at' AS key, 'Last inbound email' AS label, 'datetime' AS type,
           '{}' AS options, 1 AS offset
    UNION ALL SELECT 'email_last_outbound_at', 'Last outbound email', 'datetime', '{}', 2
    UNION ALL SELECT 'email_touches_30d', 'Emails in 30 days', 'number', '{"precision": 0}', 3
    UNION ALL SELECT 'email_touches_90d', 'Emails in 90 days', 'number', '{"precision": 0}', 4
    UNION ALL SELECT 'email_strength', 'Relationship strength', 'single_select',
        '{"choices": ["Very weak", "Weak", "Medium", "Strong", "Very strong"]}', 5
    UNION ALL SELECT 'email_connection_id', 'Strongest connection', 'user', '{}', 6
) AS new;

-- What a job run did, in counts, as its notebook reported them (JSON; e.g. the email sync's
-- messages stored, linked and proposed per run).
ALTER TABLE job_runs ADD COLUMN summary TEXT;
