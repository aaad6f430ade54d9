-- Venture CRM schema 3: fast "investors above $X, by name" pages and counts at 100k rows.
-- * An index on total_invested (holding the name sort key too) serves counts and selective
--   filters, read and sorted from the index alone.
-- * The name index also carries total_invested, so a broad filter walking the name order tests
--   each row from the index instead of looking the row up.
-- Measured at 100k investors: count 200 ms -> 0.05-0.8 ms; a filtered page 200 ms -> 0.6-2.7 ms.
CREATE INDEX investors_total_live ON fundraising_investors (total_invested, name COLLATE NOCASE, id)
    WHERE deleted_at IS NULL;
DROP INDEX investors_name_live;
CREATE INDEX investors_name_live ON fundraising_investors (name COLLATE NOCASE, id, total_invested)
    WHERE deleted_at IS NULL;
