"""Automations: rules that keep lists, follow-ups and tasks right without anyone remembering to.

Admins create, change (with the version read), toggle and archive rules; every member sees
them and their runs. A rule is created disabled unless said otherwise: dry-run it first
(:func:`dry_run_rule` shows which investors would change and how), then turn it on. Running a
rule (:func:`run_rule`, the scheduler's :func:`run_time_based_rules`) applies the same plan and
records the run. See :mod:`crm_lib.automations` for triggers, conditions and actions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.automations import engine
from crm_lib.automations.rules import decode_rule, parse_rule, sentence
from crm_lib.automations.templates import TEMPLATES
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.storage.reads import LIVE, name_taken, query_dicts
from crm_lib.storage.writes import write

RULES = "automation_rules"
RUNS = engine.RUNS


def _unique_name(ctx: Context, name: str, except_id: int | None = None) -> None:
    if name_taken(ctx.db, RULES, name, except_id=except_id):
        raise ValidationError(f"A rule called {name!r} already exists", field="name")


def _decoded(ctx: Context, row: Mapping[str, Any]) -> dict[str, Any]:
    """A rule with its sentence naming the view its conditions are (if they are one)."""
    rule = decode_rule(row)
    conditions = rule.get("conditions")
    if conditions and "view_id" in conditions:
        names = query_dicts(
            ctx.db, "SELECT name FROM fundraising_views WHERE id = ?", [conditions["view_id"]]
        )
        rule["sentence"] = sentence(rule, names[0]["name"] if names else None)
    return rule


def list_rules(ctx: Context) -> list[dict[str, Any]]:
    """Live rules by name, each with its sentence and its last run."""
    require(ctx, "use_grid")
    rules = [
        _decoded(ctx, row)
        for row in query_dicts(ctx.db, f"SELECT * FROM {RULES} WHERE {LIVE} ORDER BY lower(name)")
    ]
    last = {
        row["rule_id"]: row
        for row in query_dicts(
            ctx.db,
            f"SELECT r.* FROM {RUNS} r WHERE r.id IN (SELECT max(id) FROM {RUNS}"
            " WHERE deleted_at IS NULL AND dry_run = 0 GROUP BY rule_id)",
        )
    }
    for rule in rules:
        rule["last_run"] = _run_summary(last.get(rule["id"]))
    return rules


def get_rule(ctx: Context, rule_id: int) -> dict[str, Any]:
    require(ctx, "use_grid")
    rows = query_dicts(ctx.db, f"SELECT * FROM {RULES} WHERE id = ? AND {LIVE}", [rule_id])
    if not rows:
        raise NotFound("automation rule", rule_id)
    return _decoded(ctx, rows[0])


def create_rule(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """A new rule (disabled unless ``enabled`` is true)."""
    require(ctx, "manage_automations")
    stored = parse_rule(ctx, values, creating=True)
    stored.setdefault("conditions", "null")
    with write(ctx) as tx:
        _unique_name(ctx, stored["name"])
        rule_id = tx.insert(RULES, stored)
    return get_rule(ctx, rule_id)


def create_rule_from_template(ctx: Context, template: str) -> dict[str, Any]:
    """One of :data:`TEMPLATES` as a new (disabled) rule."""
    if template not in TEMPLATES:
        raise ValidationError(
            f"Unknown template {template!r}; use one of {', '.join(TEMPLATES)}", field="template"
        )
    return create_rule(ctx, TEMPLATES[template])


def update_rule(
    ctx: Context, rule_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    require(ctx, "manage_automations")
    stored = parse_rule(ctx, changes, creating=False)
    with write(ctx) as tx:
        get_rule(ctx, rule_id)
        if "name" in stored:
            _unique_name(ctx, stored["name"], except_id=rule_id)
        tx.update(RULES, rule_id, stored, expected_version=expected_version)
    return get_rule(ctx, rule_id)


def toggle_rule(ctx: Context, rule_id: int, *, expected_version: int) -> dict[str, Any]:
    """Turn a rule on if off, off if on."""
    current = get_rule(ctx, rule_id)
    return update_rule(
        ctx, rule_id, {"enabled": not current["enabled"]}, expected_version=expected_version
    )


def archive_rule(ctx: Context, rule_id: int, *, expected_version: int) -> dict[str, Any]:
    require(ctx, "manage_automations")
    with write(ctx) as tx:
        return tx.archive(RULES, rule_id, expected_version=expected_version)


def dry_run_rule(ctx: Context, rule_id: int) -> dict[str, Any]:
    """What running the rule now would change (recorded as a dry run; nothing else written)."""
    require(ctx, "manage_automations")
    return engine.run(ctx, get_rule(ctx, rule_id), dry_run=True, trigger_event="dry run")


def run_rule(ctx: Context, rule_id: int) -> dict[str, Any]:
    """Run the rule now (even if disabled: an admin asked), and record the run."""
    require(ctx, "manage_automations")
    return engine.run(ctx, get_rule(ctx, rule_id), trigger_event="manual")


def run_time_based_rules(ctx: Context) -> list[dict[str, Any]]:
    """Evaluate every enabled time-based rule now (the scheduler, hourly and at start-up: the
    selection is by the signals as they stand, so a missed hour is caught up by the next)."""
    runs = []
    for rule in list_rules(ctx):
        if rule["enabled"] and rule["time_based"]:
            runs.append(engine.run(ctx, rule, trigger_event="schedule"))
    return runs


def list_runs(
    ctx: Context,
    *,
    rule_id: int | None = None,
    dry_run: bool | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Runs, newest first, with their changes and errors."""
    require(ctx, "use_grid")
    if not 1 <= limit <= 500:
        raise ValidationError("limit must be between 1 and 500", field="limit")
    where, values = [f"r.{LIVE}"], []
    if rule_id is not None:
        where.append("r.rule_id = ?")
        values.append(rule_id)
    if dry_run is not None:
        where.append("r.dry_run = ?")
        values.append(int(dry_run))
    rows = query_dicts(
        ctx.db,
        f"SELECT r.*, a.name AS rule_name FROM {RUNS} r JOIN {RULES} a ON a.id = r.rule_id"
        f" WHERE {' AND '.join(where)} ORDER BY r.id DESC LIMIT ?",
        [*values, limit],
    )
    return [_decoded_run(row) for row in rows]


def _decoded_run(row: Mapping[str, Any]) -> dict[str, Any]:
    run = dict(row)
    run["changes"] = json.loads(run["changes"])
    run["errors"] = json.loads(run["errors"])
    run["dry_run"] = bool(run["dry_run"])
    return run


def _run_summary(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        key: row[key]
        for key in ("id", "status", "finished_at", "matched", "changed", "message", "trigger_event")
    }


def list_notifications(ctx: Context, *, unread: bool = True, limit: int = 50) -> dict[str, Any]:
    """What rules told the team (newest first; ``unread``: those nobody marked read), each
    with its investor's and rule's names; ``total`` counts them all."""
    require(ctx, "use_grid")
    where = "n.deleted_at IS NULL AND (n.user_id IS NULL OR n.user_id = ?)" + (
        " AND n.read_at IS NULL" if unread else ""
    )
    base = (
        "FROM notifications n LEFT JOIN fundraising_investors i ON i.id = n.investor_id"
        " LEFT JOIN automation_rules r ON r.id = n.rule_id"
        f" WHERE {where} AND (n.investor_id IS NULL OR i.deleted_at IS NULL)"
    )
    total = query_dicts(ctx.db, f"SELECT count(*) AS n {base}", [ctx.user_id])[0]["n"]
    rows = query_dicts(
        ctx.db,
        f"SELECT n.id, n.text, n.investor_id, i.name AS investor_name, r.name AS rule_name,"
        f" n.created_at, n.read_at, n.version {base} ORDER BY n.id DESC LIMIT ?",
        [ctx.user_id, limit],
    )
    return {"rows": rows, "total": total}


def mark_notifications_read(ctx: Context, ids: list[int] | None = None) -> int:
    """Mark notifications read (``ids``, else every unread one the caller sees)."""
    require(ctx, "use_grid")
    shown = list_notifications(ctx, unread=True, limit=5000)["rows"]
    chosen = [n for n in shown if ids is None or n["id"] in set(ids)]
    with write(ctx) as tx:
        for notification in chosen:
            tx.update(
                "notifications",
                notification["id"],
                {"read_at": tx.now},
                expected_version=None,
            )
    return len(chosen)
