-- Venture CRM schema 16: automations (rules that keep lists, follow-ups and tasks right) and
-- in-app notifications.
--
-- A rule reads as a sentence: When <trigger>, if <conditions>, then <actions>. Its trigger,
-- conditions (the saved views' filter tree, or a view) and actions are JSON checked by
-- crm_lib/automations. A run records what one evaluation matched and changed (record, field,
-- before -> after), its errors, and whether it was a dry run. Every row has the usual
-- bookkeeping, version and soft delete; a rule's own changes are audited with the actor
-- "automation:<rule id>".
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
CREATE UNIQUE INDEX automation_rules_name_live ON automation_rules (lower(name))
    WHERE deleted_at IS NULL;

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
CREATE INDEX automation_runs_rule ON automation_runs (rule_id, id);

-- What a rule told the team (shown in the app and in the next digest).
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
CREATE INDEX notifications_user ON notifications (user_id, read_at);
CREATE INDEX notifications_investor ON notifications (investor_id);
CREATE INDEX notifications_rule ON notifications (rule_id, investor_id);
