"""Tasks: the follow-up that makes sure no investor goes cold. A title, notes, whom it is for
(the assignee; by default whoever creates it), when it is due, its priority, and what it is
about (an investor, one of its people, an opportunity: all optional, each checked to be live
and to belong together). Open, done or dismissed; created by hand, by an automation or from an
email. Every change is one transaction with a version check, audited; nothing is deleted.

"My tasks" (:func:`my_tasks`) is the assignee's open tasks as overdue, today and upcoming, in
the CRM's date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.grid.field_types import FieldValueError, field_type
from crm_lib.grid.rollups import refresh_next_task_due
from crm_lib.limits import check_text
from crm_lib.storage.reads import LIVE, query_dicts, query_value
from crm_lib.storage.writes import write

TASKS = "tasks"
STATUSES = ("open", "done", "dismissed")
PRIORITIES = ("low", "normal", "high")
SOURCES = ("manual", "automation", "email")
FIELDS = (
    "title",
    "notes",
    "investor_id",
    "person_id",
    "opportunity_id",
    "assignee_id",
    "due_on",
    "priority",
    "status",
    "source",
)
_TASK = (
    "SELECT t.*, i.name AS investor_name, p.full_name AS person_name,"
    " coalesce(nullif(u.name, ''), u.email) AS assignee_name"
    f" FROM {TASKS} t"
    " LEFT JOIN fundraising_investors i ON i.id = t.investor_id"
    " LEFT JOIN fundraising_contacts p ON p.id = t.person_id"
    " LEFT JOIN users u ON u.id = t.assignee_id"
    " WHERE t.deleted_at IS NULL AND (t.investor_id IS NULL OR i.deleted_at IS NULL)"
)


def _parse_task(ctx: Context, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValidationError(
            f"Unknown task fields: {', '.join(sorted(unknown))}; known: {', '.join(FIELDS)}"
        )
    stored = dict(values)
    if creating or "title" in stored:
        title = " ".join(str(stored.get("title") or "").split())
        if not title:
            raise ValidationError("A task needs a title", field="title")
        stored["title"] = check_text(title, "task_title", field="title", label="Title")
    if "notes" in stored:
        stored["notes"] = check_text(str(stored["notes"] or ""), "long_text", field="notes")
    if "due_on" in stored:
        try:
            stored["due_on"] = field_type("date").parse(stored["due_on"], {})
        except FieldValueError as exc:
            raise ValidationError(f"Due date: {exc}", field="due_on") from None
    for key, allowed in (("priority", PRIORITIES), ("status", STATUSES), ("source", SOURCES)):
        if key in stored and stored[key] not in allowed:
            raise ValidationError(f"{key} is one of {', '.join(allowed)}", field=key)
    for key in ("investor_id", "person_id", "opportunity_id", "assignee_id"):
        value = stored.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValidationError(f"{key} must be an id", field=key)
    return stored


def _check_links(ctx: Context, task: Mapping[str, Any]) -> None:
    """What a task is about must be live and belong together (the person to the investor,
    the opportunity to the investor); the assignee must be an active team member."""
    investor_id = task.get("investor_id")
    if investor_id is not None and not _exists(ctx, "fundraising_investors", investor_id):
        raise NotFound("investor", investor_id)
    for key, table, what in (
        ("person_id", "fundraising_contacts", "person"),
        ("opportunity_id", "opportunities", "opportunity"),
    ):
        row_id = task.get(key)
        if row_id is None:
            continue
        owner = query_value(
            ctx.db, f"SELECT investor_id FROM {table} WHERE id = ? AND {LIVE}", [row_id]
        )
        if owner is None:
            raise NotFound(what, row_id)
        if investor_id is not None and owner != investor_id:
            raise ValidationError(
                f"{what.capitalize()} {row_id} is not one of investor {investor_id}'s",
                field=key,
            )
    assignee = task.get("assignee_id")
    if assignee is not None and not query_value(
        ctx.db,
        f"SELECT count(*) FROM users WHERE id = ? AND is_active = 1 AND {LIVE}",
        [assignee],
    ):
        raise ValidationError(f"No active team member {assignee}", field="assignee_id")


def _exists(ctx: Context, table: str, row_id: int) -> bool:
    return bool(
        query_value(ctx.db, f"SELECT count(*) FROM {table} WHERE id = ? AND {LIVE}", [row_id])
    )


def create_task(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """A new open task (assigned to whoever creates it unless ``assignee_id`` says; about the
    investor of its person or opportunity when only those are given)."""
    require(ctx, "use_grid")
    stored = _parse_task(ctx, values, creating=True)
    stored.setdefault("assignee_id", ctx.user_id)
    stored["status"] = "open"
    if stored.get("investor_id") is None:
        for key, sql in (
            ("person_id", "SELECT investor_id FROM fundraising_contacts WHERE id = ?"),
            ("opportunity_id", "SELECT investor_id FROM opportunities WHERE id = ?"),
        ):
            if stored.get(key) is not None:
                stored["investor_id"] = query_value(ctx.db, sql, [stored[key]])
                break
    with write(ctx) as tx:
        _check_links(ctx, stored)
        task_id = tx.insert(TASKS, stored)
        refresh_next_task_due(tx, [stored.get("investor_id")])
    return get_task(ctx, task_id)


def update_task(
    ctx: Context, task_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Change a task (the version read must still be current); done or dismissed stamps
    ``completed_at``, open again clears it."""
    require(ctx, "use_grid")
    stored = _parse_task(ctx, changes, creating=False)
    with write(ctx) as tx:
        current = get_task(ctx, task_id)
        _check_links(ctx, {**current, **stored})
        if "status" in stored and stored["status"] != current["status"]:
            stored["completed_at"] = None if stored["status"] == "open" else tx.now
        tx.update(TASKS, task_id, stored, expected_version=expected_version)
        refresh_next_task_due(tx, [current["investor_id"], stored.get("investor_id")])
    return get_task(ctx, task_id)


def complete_task(ctx: Context, task_id: int, *, expected_version: int) -> dict[str, Any]:
    """Mark a task done (one click or key)."""
    return update_task(ctx, task_id, {"status": "done"}, expected_version=expected_version)


def archive_task(ctx: Context, task_id: int, *, expected_version: int) -> dict[str, Any]:
    """Archive a task made by mistake (soft delete)."""
    require(ctx, "use_grid")
    with write(ctx) as tx:
        archived = tx.archive(TASKS, task_id, expected_version=expected_version)
        refresh_next_task_due(tx, [archived["investor_id"]])
        return archived


def get_task(ctx: Context, task_id: int) -> dict[str, Any]:
    """A live task with the names of its investor, person and assignee."""
    rows = query_dicts(ctx.db, _TASK + " AND t.id = ?", [task_id])
    if not rows:
        raise NotFound("task", task_id)
    return rows[0]


def list_tasks(
    ctx: Context,
    *,
    assignee_id: int | None = None,
    investor_id: int | None = None,
    due_before: date | None = None,
    status: str | None = "open",
    limit: int = 200,
) -> list[dict[str, Any]]:
    """Tasks (open ones by default; ``status=None``: all) by due date, undated last."""
    require(ctx, "use_grid")
    if status is not None and status not in STATUSES:
        raise ValidationError(f"status is one of {', '.join(STATUSES)}", field="status")
    if not 1 <= limit <= 5000:
        raise ValidationError("limit must be between 1 and 5,000", field="limit")
    where, values = [], []
    for column, value in (
        ("t.assignee_id", assignee_id),
        ("t.investor_id", investor_id),
        ("t.status", status),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            values.append(value)
    if due_before is not None:
        where.append("t.due_on < ?")
        values.append(due_before.isoformat())
    sql = _TASK + "".join(f" AND {w}" for w in where)
    sql += " ORDER BY t.due_on IS NULL, t.due_on, t.priority = 'high' DESC, t.id LIMIT ?"
    return query_dicts(ctx.db, sql, [*values, limit])


def my_tasks(ctx: Context, *, limit: int = 200) -> dict[str, list[dict[str, Any]]]:
    """The caller's open tasks: ``overdue`` (due before today), ``today`` and ``upcoming``
    (later, then undated), each by due date."""
    if ctx.user_id is None:
        raise ValidationError("My tasks are a team member's; the shell has none")
    day = today(ctx.clock).isoformat()
    grouped: dict[str, list[dict[str, Any]]] = {"overdue": [], "today": [], "upcoming": []}
    for task in list_tasks(ctx, assignee_id=ctx.user_id, limit=limit):
        due = task["due_on"]
        key = "upcoming" if due is None or due > day else "today" if due == day else "overdue"
        grouped[key].append(task)
    return grouped


def count_my_tasks(ctx: Context) -> dict[str, int]:
    """How many of the caller's open tasks are ``overdue`` and due ``today`` (the navigation's
    number), from the assignee index."""
    if ctx.user_id is None:
        return {"overdue": 0, "today": 0}
    day = today(ctx.clock).isoformat()
    overdue, due_today = ctx.db.execute(
        f"SELECT count(*) FILTER (WHERE due_on < ?), count(*) FILTER (WHERE due_on = ?)"
        f" FROM {TASKS} t INDEXED BY tasks_assignee"
        " WHERE t.assignee_id = ? AND t.status = 'open' AND t.due_on <= ? AND t.deleted_at IS NULL"
        " AND (t.investor_id IS NULL OR t.investor_id NOT IN"
        "  (SELECT id FROM fundraising_investors WHERE deleted_at IS NOT NULL))",
        [day, day, ctx.user_id, day],
    ).fetchone()
    return {"overdue": overdue, "today": due_today}
