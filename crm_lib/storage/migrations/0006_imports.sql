-- Venture CRM schema 6: imports of other systems' exports, and the mappings they reuse.

-- One row per committed import: who, when, which file (name, SHA-256, size), how it was read and
-- what it did. Audit rows written by the import share its txn, so a record's history can say
-- "imported from Investors-Grid view.csv".
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
CREATE INDEX imports_txn ON imports (txn);
CREATE INDEX imports_created ON imports (created_at);

-- A saved mapping: column -> target, the key column and reading options, by name. The next
-- import of the same table (same headers) reuses it.
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
CREATE UNIQUE INDEX import_profiles_name_live ON import_profiles (lower(name))
    WHERE deleted_at IS NULL;

-- What each investor's row looked like in the last import that read it (a fingerprint of its
-- cells and of the mapping), and the investor's version after that import. A re-import skips a
-- row whose fingerprint is the same while the investor, its people and its commitments have not
-- changed since: derived data, like stored formula results, rewritten by each import.
CREATE TABLE import_row_fingerprints (
    investor_id INTEGER PRIMARY KEY REFERENCES fundraising_investors (id),
    fingerprint TEXT NOT NULL,
    investor_version INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);
