"""Event-triggered rules: matched against every committed change of the process.

:func:`install` subscribes one :class:`AutomationListener` to an event bus (the server's, and
every context :func:`crm_lib.open_crm` opens: the shell, notebooks and jobs). After each commit,
on the writer's thread and through the writer's own connection (free again), the listener reads the enabled event rules (one cheap query; nothing else when there are none),
turns the changes into events (an investor created; a field changed, with its old and new
value from the audit log; an investor starting or stopping to match a rule's conditions; a
commitment recorded; an email received from an investor's person; an opportunity's stage
changed) and runs each rule whose trigger they meet, for just the investors concerned.

Loops cannot run away:

* a rule's own changes (actor ``automation:<id>``) never trigger it again;
* a chain of rules triggering rules stops at :data:`MAX_DEPTH` (each level is one nested run,
  counted per thread);
* each run is capped as every run is (``CRM_AUTOMATION_CAP``).

A failing rule is logged and recorded as a failed run; the write that triggered it has
committed already and stays.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from crm_lib.automations import engine
from crm_lib.automations.rules import decode_rule
from crm_lib.automations.triggers import trigger_of
from crm_lib.context import Context
from crm_lib.errors import CRMError
from crm_lib.events import Change, EventBus, publisher
from crm_lib.grid.fields import load_fields, resolve_field
from crm_lib.storage.reads import query_dicts

log = logging.getLogger(__name__)
#: Rules triggering rules stop at this depth.
MAX_DEPTH = 3
_DEPTH: contextvars.ContextVar[int] = contextvars.ContextVar("automation_depth", default=0)
INVESTORS = "fundraising_investors"
_WATCHED = frozenset(
    {INVESTORS, "fundraising_commitments", "opportunities", "email_investor_links"}
)
_EVENT_KINDS = (
    "record_created",
    "field_changed",
    "starts_matching",
    "stops_matching",
    "commitment_recorded",
    "email_received",
    "stage_changed",
)


def install(events: EventBus) -> None:
    """Subscribe the automation listener to ``events`` (once per bus)."""
    if getattr(events, "automations_installed", False):
        return
    events.subscribe(AutomationListener())
    events.automations_installed = True  # type: ignore[attr-defined]


class AutomationListener:
    """Runs the event rules a batch of committed changes triggers (see the module docstring)."""

    def __call__(self, changes: list[Change]) -> None:
        relevant = [c for c in changes if c.entity in _WATCHED]
        if not relevant:
            return
        depth = _DEPTH.get()
        if depth >= MAX_DEPTH:
            log.warning("Automation chain stopped at depth %d", depth)
            return
        writer = publisher()
        if writer is None:  # not a write's delivery (a restore's notice): nothing to match
            return
        # the writer's connection, free again after its commit, on the writer's thread
        ctx = writer.as_actor("system:automations")
        rules = _event_rules(ctx)
        if not rules:
            return
        actors = {c.actor for c in relevant}
        token = _DEPTH.set(depth + 1)
        try:
            for rule in rules:
                if engine.actor_of(rule["id"]) in actors:
                    continue  # its own changes never trigger it again
                self._run(ctx, rule, relevant)
        finally:
            _DEPTH.reset(token)

    def _run(self, ctx: Context, rule: dict[str, Any], changes: list[Change]) -> None:
        kind = rule["trigger"]["kind"]
        try:
            ids = MATCHERS[kind](ctx, rule, changes)
            if ids:
                engine.run(
                    ctx,
                    rule,
                    trigger_event=_event_name(kind, changes),
                    investor_ids=sorted(ids),
                    conditions=kind != "stops_matching",
                )
        except CRMError as exc:
            log.warning("Automation %s could not run: %s", rule["id"], exc.message)


def _event_rules(ctx: Context) -> list[dict[str, Any]]:
    marks = ", ".join("?" for _ in _EVENT_KINDS)
    rows = query_dicts(
        ctx.db,
        "SELECT * FROM automation_rules WHERE enabled = 1 AND deleted_at IS NULL"
        f" AND json_extract(trigger, '$.kind') IN ({marks}) ORDER BY id",
        list(_EVENT_KINDS),
    )
    return [decode_rule(row) for row in rows]


def _event_name(kind: str, changes: list[Change]) -> str:
    actors = sorted({c.actor for c in changes})
    return f"{kind.replace('_', ' ')} (by {', '.join(actors)})"[:200]


def _ids(change: Change) -> Iterable[int]:
    last = change.last_entity_id or change.entity_id
    return range(change.entity_id, last + 1)


def _investors(changes: list[Change], action: str | None = None) -> list[int]:
    return [
        i
        for c in changes
        if c.entity == INVESTORS and (action is None or c.action == action)
        for i in _ids(c)
    ]


def _updates(ctx: Context, changes: list[Change], field: str | None = None) -> list[dict]:
    """The audit rows (old and new values) of the investor updates in ``changes``."""
    wanted = [c for c in changes if c.entity == INVESTORS and c.action == "update"]
    if field is not None:
        wanted = [c for c in wanted if field in c.fields]
    rows: list[dict[str, Any]] = []
    for txn, ids in _by_txn(wanted).items():
        rows += query_dicts(
            ctx.db,
            "SELECT entity_id, field, old_value, new_value FROM audit_log WHERE txn = ?"
            " AND entity = ? AND action = 'update'"
            " AND entity_id IN (SELECT value FROM json_each(?))"
            + (" AND field = ?" if field else "")
            + " ORDER BY id",
            [txn, INVESTORS, json.dumps(sorted(ids)), *([field] if field else [])],
        )
    return rows


def _by_txn(changes: list[Change]) -> dict[str, set[int]]:
    grouped: dict[str, set[int]] = defaultdict(set)
    for change in changes:
        grouped[change.txn].add(change.entity_id)
    return grouped


def _same(stored_json: str | None, wanted: Any) -> bool:
    value = json.loads(stored_json) if stored_json else None
    if isinstance(value, list):
        return str(wanted).casefold() in {str(v).casefold() for v in value}
    return str(value if value is not None else "").casefold() == str(wanted).casefold()


# -- matchers: (ctx, rule, changes) -> the investors the event concerns ---------------------
def _created(_ctx: Context, _rule: Mapping[str, Any], changes: list[Change]) -> set[int]:
    return set(_investors(changes, "create"))


def _field_changed(ctx: Context, rule: Mapping[str, Any], changes: list[Change]) -> set[int]:
    trigger = rule["trigger"]
    key = resolve_field(load_fields(ctx.db), trigger["field"]).key
    found = set()
    for row in _updates(ctx, changes, key):
        if "to" in trigger and not _same(row["new_value"], trigger["to"]):
            continue
        if "from" in trigger and not _same(row["old_value"], trigger["from"]):
            continue
        found.add(row["entity_id"])
    return found


def _matches(ctx: Context, conditions: Any, investor_id: int, overrides: Mapping) -> bool:
    """Whether the investor, with ``overrides`` (column -> stored value) in place of its
    current values, meets the conditions: its row as it was before a change, or is now."""
    sql, values = engine.conditions_sql(ctx, conditions)
    if not sql:
        return True
    columns = [c.name for c in ctx.db[INVESTORS].columns]
    select = ", ".join(
        f"? AS {json.dumps(col)}" if col in overrides else json.dumps(col) for col in columns
    )
    params = [overrides[col] for col in columns if col in overrides]
    row = ctx.db.execute(
        f"WITH i AS (SELECT {select} FROM {INVESTORS} WHERE id = ? AND deleted_at IS NULL)"
        f" SELECT 1 FROM i WHERE {sql}",
        [*params, investor_id, *values],
    ).fetchone()
    return row is not None


def _matching_changed(starts: bool) -> Callable[..., set[int]]:
    def matcher(ctx: Context, rule: Mapping[str, Any], changes: list[Change]) -> set[int]:
        conditions = rule.get("conditions")
        before: dict[int, dict[str, Any]] = defaultdict(dict)
        for row in _updates(ctx, changes):
            # the first old value of a field in the batch is what it was before
            before[row["entity_id"]].setdefault(row["field"], _stored(row["old_value"]))
        found = set()
        for investor_id in set(before) | set(_investors(changes, "create")):
            now = _matches(ctx, conditions, investor_id, {})
            then = investor_id in before and _matches(
                ctx, conditions, investor_id, before[investor_id]
            )
            if (now and not then) if starts else (then and not now):
                found.add(investor_id)
        return found

    return matcher


def _stored(value: str | None) -> Any:
    """An audit value back in its stored form (lists as the JSON text columns hold)."""
    decoded = json.loads(value) if value else None
    return json.dumps(decoded) if isinstance(decoded, list) else decoded


def _committed(ctx: Context, _rule: Mapping[str, Any], changes: list[Change]) -> set[int]:
    ids = [
        c.entity_id
        for c in changes
        if c.entity == "fundraising_commitments"
        and (c.action in ("create", "restore") or "amount" in c.fields)
    ]
    return _owners(ctx, "fundraising_commitments", ids, "amount > 0")


def _email_received(ctx: Context, _rule: Mapping[str, Any], changes: list[Change]) -> set[int]:
    links = [
        link_id
        for c in changes
        if c.entity == "email_investor_links" and c.action == "create"
        for link_id in _ids(c)  # an import may link many at once
    ]
    if not links:
        return set()
    rows = query_dicts(
        ctx.db,
        "SELECT l.investor_id FROM email_investor_links l JOIN emails e ON e.id = l.email_id"
        " WHERE l.id IN (SELECT value FROM json_each(?)) AND e.direction = 'inbound'"
        " AND l.deleted_at IS NULL AND e.deleted_at IS NULL",
        [json.dumps(links)],
    )
    return {row["investor_id"] for row in rows}


def _stage_changed(ctx: Context, rule: Mapping[str, Any], changes: list[Change]) -> set[int]:
    ids = [
        c.entity_id
        for c in changes
        if c.entity == "opportunities" and (c.action == "create" or "stage_id" in c.fields)
    ]
    to = rule["trigger"].get("to")
    condition = "stage_id IN (SELECT id FROM pipeline_stages WHERE lower(name) = lower(?))"
    return _owners(ctx, "opportunities", ids, condition if to else "", [to] if to else [])


def _owners(
    ctx: Context, table: str, ids: list[int], condition: str = "", values: list[Any] | None = None
) -> set[int]:
    """The investors of rows of ``table`` (commitments, opportunities) that meet ``condition``."""
    if not ids:
        return set()
    rows = query_dicts(
        ctx.db,
        f"SELECT investor_id FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
        f" AND deleted_at IS NULL{f' AND {condition}' if condition else ''}",
        [json.dumps(ids), *(values or [])],
    )
    return {row["investor_id"] for row in rows}


MATCHERS: dict[str, Callable[[Context, Mapping[str, Any], list[Change]], set[int]]] = {
    "record_created": _created,
    "field_changed": _field_changed,
    "starts_matching": _matching_changed(True),
    "stops_matching": _matching_changed(False),
    "commitment_recorded": _committed,
    "email_received": _email_received,
    "stage_changed": _stage_changed,
}
assert set(MATCHERS) == set(_EVENT_KINDS)
assert not any(trigger_of({"kind": k}).time_based for k in MATCHERS)
