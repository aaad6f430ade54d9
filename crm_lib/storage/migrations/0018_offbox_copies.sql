-- Venture CRM schema 18: off-box copies of backups (a mounted folder, S3-compatible storage).

-- One row per attempt to copy a backup to a destination: which kind ('folder' or 's3') and
-- where (a path, or s3://bucket/prefix and the endpoint's host: never credentials), the key or
-- path of the copy there, the SHA-256 it must have and its size, ok or failed with why, when it
-- was copied and when it was last read back and found identical. A failed attempt stays as
-- history; a repeat is a new row. Retention at the destination deletes the remote copy, then
-- archives its row (deleted_at). The backup's time is kept here too, so off-box retention never
-- depends on the local catalog of backups (nor on backup ids, which a restore onto a new machine
-- may reuse). A restore carries this table over from the live database, like ``backups``.
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
CREATE INDEX offbox_copies_location ON offbox_copies (location, created_at);
CREATE INDEX offbox_copies_backup ON offbox_copies (backup_id);
