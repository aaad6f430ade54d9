"""The digest's pipeline and tasks: the window's stage moves (from the audit log, each move
once, oldest first) and each team member's open tasks due by the end of the window's last day
(overdue and due that day), so nobody's follow-up waits unseen.

Archived opportunities, tasks and investors are left out, as everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.digest.collect import team_members

#: Stage moves and tasks per member listed at most (the rest are counted).
MOVES_SHOWN = 50
TASKS_SHOWN = 15


@dataclass
class MemberTasks:
    """One team member's open tasks due by the digest's day."""

    name: str
    overdue: list[dict[str, Any]] = field(default_factory=list)
    today: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shown(self) -> list[dict[str, Any]]:
        return [*self.overdue, *self.today][:TASKS_SHOWN]

    @property
    def more(self) -> int:
        return len(self.overdue) + len(self.today) - len(self.shown)


def stage_moves(ctx: Context, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Each opportunity put in a stage in ``[since, until)``: created in one, or moved, with
    who did it: ``investor_id``, ``investor``, ``fund``, ``from_stage`` (None: new), ``to_stage``,
    ``by``."""
    names = {m["email"].casefold(): m["name"] for m in team_members(ctx)}
    stages = dict(ctx.db.execute("SELECT id, name FROM pipeline_stages").fetchall())
    moves = []
    for action, old, new, actor, values, investor_id, investor, fund in ctx.db.execute(
        "SELECT a.action, a.old_value, a.new_value, a.actor, a.new_value,"
        " o.investor_id, i.name, f.name FROM audit_log a"
        " JOIN opportunities o ON o.id = a.entity_id AND o.deleted_at IS NULL"
        " JOIN fundraising_investors i ON i.id = o.investor_id AND i.deleted_at IS NULL"
        " JOIN fundraising_funds f ON f.id = o.fund_id AND f.deleted_at IS NULL"
        " WHERE a.entity = 'opportunities' AND a.at >= ? AND a.at < ?"
        " AND (a.field = 'stage_id' OR a.action = 'create') ORDER BY a.id",
        [timestamp(since), timestamp(until)],
    ).fetchall():
        if action == "create":
            before, after = None, json.loads(values or "{}").get("stage_id")
        else:
            before, after = json.loads(old), json.loads(new)
        moves.append(
            {
                "investor_id": investor_id,
                "investor": investor,
                "fund": fund,
                "from_stage": stages.get(before) if before is not None else None,
                "to_stage": stages.get(after, str(after)),
                "by": names.get(
                    actor.casefold(), "the system" if actor.startswith("system:") else actor
                ),
            }
        )
    return moves


def tasks_due(ctx: Context, until: datetime, zone: tzinfo) -> list[MemberTasks]:
    """Per active team member (by name), their open tasks overdue or due on the day the window
    ends in the digest's zone; members with none are left out."""
    day = until.astimezone(zone).date().isoformat()
    members = {m["id"]: MemberTasks(m["name"]) for m in team_members(ctx)}
    for assignee, task_id, title, due, investor_id, investor, priority in ctx.db.execute(
        "SELECT t.assignee_id, t.id, t.title, t.due_on, t.investor_id, i.name, t.priority"
        " FROM tasks t INDEXED BY tasks_assignee"
        " LEFT JOIN fundraising_investors i ON i.id = t.investor_id"
        " WHERE t.status = 'open' AND t.deleted_at IS NULL AND t.due_on <= ?"
        " AND (t.investor_id IS NULL OR i.deleted_at IS NULL)"
        " ORDER BY t.due_on, t.priority = 'high' DESC, t.id",
        [day],
    ).fetchall():
        member = members.get(assignee)
        if member is None:
            continue
        task = {
            "id": task_id,
            "title": title,
            "due_on": due,
            "investor_id": investor_id,
            "investor": investor,
            "high": priority == "high",
            "late": due < day,
        }
        (member.today if due == day else member.overdue).append(task)
    return [m for m in members.values() if m.overdue or m.today]


def notices(ctx: Context, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """What automation rules told the team in ``[since, until)`` (archived investors left
    out), oldest first: ``text``, ``rule``, ``investor_id``."""
    rows = ctx.db.execute(
        "SELECT n.text, r.name, n.investor_id FROM notifications n"
        " LEFT JOIN automation_rules r ON r.id = n.rule_id"
        " LEFT JOIN fundraising_investors i ON i.id = n.investor_id"
        " WHERE n.created_at >= ? AND n.created_at < ? AND n.deleted_at IS NULL"
        " AND (n.investor_id IS NULL OR i.deleted_at IS NULL) ORDER BY n.id",
        [timestamp(since), timestamp(until)],
    ).fetchall()
    return [{"text": r[0], "rule": r[1] or "", "investor_id": r[2]} for r in rows]
