-- Venture CRM schema 5: the web grid's "Archived" list is counted and listed on every page load.
CREATE INDEX investors_archived ON fundraising_investors (name COLLATE NOCASE, id)
    WHERE deleted_at IS NOT NULL;
