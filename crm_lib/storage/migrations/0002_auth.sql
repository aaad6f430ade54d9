-- Venture CRM schema 2: invite-only accounts, server-side sessions, personal API tokens, votes.
-- Secrets are never stored: tokens are kept as SHA-256 digests, passwords as argon2id hashes,
-- and the write path leaves both out of audit rows.

ALTER TABLE users ADD COLUMN password_changed_at TEXT;
ALTER TABLE users ADD COLUMN last_login_at TEXT;

-- One-time links: "setup" creates the first admin (24 h), "invite" a new user (7 days),
-- "reset" sets a new password for an existing user. Single use: accepted_at is set on use;
-- revoking archives the row (deleted_at), so every read that filters archived rows ignores it.
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
CREATE INDEX invites_user ON invites (user_id);

-- A login. The browser holds the token (in a signed cookie); we hold its digest. Logging out,
-- deactivation and expiry archive the row, with the reason in end_reason.
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
CREATE INDEX sessions_user ON sessions (user_id);

-- Personal API tokens for scripts (Authorization: Bearer crm_...). Revoking archives the row.
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
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One live vote per user and feature request; withdrawing a vote archives it.
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
CREATE UNIQUE INDEX feature_request_votes_live
    ON feature_request_votes (feature_request_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX feature_request_votes_user ON feature_request_votes (user_id);
CREATE INDEX feature_request_votes_request ON feature_request_votes (feature_request_id);
