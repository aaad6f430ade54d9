-- Venture CRM schema 10: a view can group its rows by one field (the grid draws a header per
-- value; the rows are ordered by that field first). NULL: not grouped.
ALTER TABLE fundraising_views ADD COLUMN group_by TEXT;
