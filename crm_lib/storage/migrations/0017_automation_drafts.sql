-- Venture CRM schema 17: follow-up drafts that automation rules put in a team member's Gmail
-- drafts (the rule drafts; a person sends). One row per draft, so a rule never drafts twice
-- for the same investor and the same last outbound email (``mark``).
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
CREATE INDEX automation_drafts_rule ON automation_drafts (rule_id, investor_id, mark);
CREATE INDEX automation_drafts_investor ON automation_drafts (investor_id);
