-- Overdue follow-ups in the grid: each investor's earliest due date among its open tasks,
-- kept by the tasks service in the same transaction as the task (crm_lib/grid/rollups.py), as
-- a read-only date field that filters ("is before today": overdue) and sorts. The key has a
-- double underscore, which the key made for a field a team adds never has (runs of other
-- characters become one "_"), so a team's own "Next task due" field cannot collide with it.
ALTER TABLE fundraising_investors ADD COLUMN tasks__next_due TEXT;

UPDATE fundraising_investors SET tasks__next_due = (
    SELECT min(t.due_on) FROM tasks t
    WHERE t.investor_id = fundraising_investors.id AND t.status = 'open'
      AND t.deleted_at IS NULL
)
WHERE id IN (SELECT investor_id FROM tasks WHERE status = 'open' AND deleted_at IS NULL);

CREATE INDEX tasks_investor_open ON tasks (investor_id, status, deleted_at, due_on);

-- After every field there is; a label a team already uses gets " (tasks)".
INSERT INTO grid_fields
    (key, label, type, options, position, is_builtin, is_editable, created_at, created_by, updated_at, updated_by)
SELECT 'tasks__next_due',
       CASE WHEN EXISTS (SELECT 1 FROM grid_fields g WHERE lower(g.label) = 'next task due'
                         AND g.deleted_at IS NULL)
            THEN 'Next task due (tasks)' ELSE 'Next task due' END,
       'date', '{"overdue": true}',
       (SELECT COALESCE(MAX(position), 0) FROM grid_fields) + 1,
       1, 0,
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), 'system:migrate',
       strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), 'system:migrate';
