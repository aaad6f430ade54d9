-- Venture CRM schema 8: runs of the scheduled notebook jobs.

-- One row per attempt: the job, the scheduled moment it is for (NULL when run by hand), its
-- parameters, when it started and ended, ok or failed with the error, and the executed notebook
-- and its HTML rendering under <data>/jobs/. A failed scheduled run is retried once (attempt 2).
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
);
CREATE INDEX job_runs_job ON job_runs (job, started_at);

-- The activity feed reads the audit log newest first.
CREATE INDEX audit_log_at ON audit_log (at);
