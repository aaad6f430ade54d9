-- Venture CRM schema 19: which investors each committed write changed, by grid version.
--
-- Every write to the grid's tables bumps fundraising_state.version; this table gets one row per
-- bump, in the same transaction: the write's txn id and, as JSON, the investors it touched:
-- [[first_id, last_id, action, [columns] or null], ...] (a bulk insert is one range). A view's
-- ordered ids, remembered at version V (crm_lib/grid/ordered_ids.py), catch up with a later
-- version by re-placing just those investors, in any process, instead of reading every matching
-- row again. Rows are pruned past GRID_CHANGES_KEPT versions: a remembered list older than that,
-- or one that finds a version missing (a restore, an older program's write), is read afresh.
CREATE TABLE grid_changes (
    version INTEGER PRIMARY KEY,
    txn TEXT NOT NULL,
    investors TEXT NOT NULL DEFAULT '[]'
);
