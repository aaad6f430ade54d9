-- Venture CRM schema 7: the catalog of backups.

-- One row per backup file under <data>/backups/: what kind, who took it, how big, its SHA-256
-- and PRAGMA integrity_check when it was taken, and the last verification (re-hash + re-check).
-- Retention archives the row (deleted_at) when it removes the file. A restore copies this
-- catalog into the restored database, so no backup is ever forgotten by going back in time.
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
CREATE UNIQUE INDEX backups_file_name ON backups (file_name);
CREATE INDEX backups_started ON backups (started_at) WHERE deleted_at IS NULL;
