"""Running a rule: find the investors it applies to, plan each one's changes, and (unless it is
a dry run) apply them; every run is recorded with what it matched and changed.

* **Who**: live investors the trigger selects (time-based: by their email signals now; an
  event: the investors it concerns) and the conditions keep (the saved views' filter tree, or
  a saved view's list and filters).
* **Plan** (:mod:`crm_lib.automations.actions`): per investor the changes, field by field,
  before and after. A dry run stops here: its changes are exactly what a real run would apply.
* **Cap**: a run that would change more than ``CRM_AUTOMATION_CAP`` investors applies nothing and
  says so (a rule that is too broad must never run away).
* **Apply**: per investor one transaction, acting as ``automation:<rule id>``: its field changes
  as one update checked against the version read when planning (a person's edit meanwhile
  wins; the rule reports the conflict and leaves the record as the person left it), then its
  task and notification. A failing action rolls the investor's whole transaction back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from crm_lib.automations.actions import (
    ACTIONS,
    DRAFT,
    NOTIFICATION,
    TASK,
    Known,
    assignee_of,
    draft_parts,
    task_title,
)
from crm_lib.automations.triggers import trigger_of
from crm_lib.clock import timestamp, today
from crm_lib.context import Context
from crm_lib.errors import CRMError, ExternalServiceError
from crm_lib.grid.fields import load_fields
from crm_lib.grid.filters import compile_tree
from crm_lib.services.investors import INVESTORS, decode_investors, update_investor
from crm_lib.services.tasks import create_task
from crm_lib.services.views import get_view
from crm_lib.storage.reads import query_dicts
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import write

#: Changes and errors a run keeps in its log (the counts cover them all).
LOGGED = 1000
RUNS = "automation_runs"


def actor_of(rule_id: int) -> str:
    """How history names a rule's changes."""
    return f"automation:{rule_id}"


def conditions_sql(ctx: Context, conditions: Any) -> tuple[str, list[Any]]:
    """A rule's conditions as SQL over the investors' columns ("" for none)."""
    if not conditions:
        return "", []
    fields, day = load_fields(ctx.db), today(ctx.clock)
    if "view_id" in conditions:
        view = get_view(ctx, int(conditions["view_id"]))
        sql, values = compile_tree(fields, view.get("filters"), today=day)
        listed = view.get("list_membership") or "all"
        if listed != "all":
            sql = f"({sql}) AND list_membership = ?" if sql else "list_membership = ?"
            values = [*values, listed]
        return sql, values
    return compile_tree(fields, conditions, today=day)


def matching(
    ctx: Context,
    rule: Mapping[str, Any],
    investor_ids: Sequence[int] | None = None,
    *,
    conditions: bool = True,
) -> list[dict[str, Any]]:
    """The live investors the rule applies to now, decoded as the grid reads them
    (``conditions`` False: an investor that just stopped matching them)."""
    trigger = trigger_of(rule["trigger"])
    where, values = ["i.deleted_at IS NULL"], []
    if trigger.due_sql is not None and investor_ids is None:
        sql, params = trigger.due_sql(rule["trigger"], ctx.clock.now())
        where.append(f"({sql})")
        values += params
    sql, params = conditions_sql(ctx, rule.get("conditions")) if conditions else ("", [])
    if sql:
        where.append(f"({sql})")
        values += params
    if investor_ids is not None:
        where.append("i.id IN (SELECT value FROM json_each(?))")
        values.append(json.dumps(list(investor_ids)))
    fields = load_fields(ctx.db)
    columns = _read_columns(rule, fields)
    rows = query_dicts(
        ctx.db,
        f"SELECT {', '.join(f'i.{quote(c)}' for c in columns)} FROM {INVESTORS} i"
        f" WHERE {' AND '.join(where)} ORDER BY i.id",
        values,
    )
    return decode_investors({k: v for k, v in fields.items() if k in columns}, rows)


#: The columns every plan may read: who the investor is, its version, and what the actions
#: look at (list, owner, strongest connection); tags only for tag actions (decoding 100,000
#: JSON lists costs 0.4 s).
BASE_COLUMNS = ("id", "name", "version", "list_membership", "owner_id", "email_connection_id")


def _read_columns(rule: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    """Only the columns the rule's actions read (a set field's too): 100,000 whole rows decoded
    cost a second; these, a fraction."""
    columns = [c for c in BASE_COLUMNS if c in fields or c in ("id", "version")]
    for action in rule["actions"]:
        wanted = {
            "set_field": action.get("field"),
            "add_tag": "tags",
            "remove_tag": "tags",
            "draft_email": "email_last_outbound_at",
        }
        column = wanted.get(action["kind"])
        if column and column not in columns:
            columns.append(column)
    return columns


def plan(
    ctx: Context, rule: Mapping[str, Any], investors: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], list[dict[str, Any]]]]:
    """Per investor (those with something to change only) its changes, actions in order."""
    planned = []
    known = Known()
    for investor in investors:
        changes: list[dict[str, Any]] = []
        shown = dict(investor)
        for action in rule["actions"]:
            for change in ACTIONS[action["kind"]].plan(ctx, action, shown, rule["id"], known):
                changes.append({**change, "action": action["kind"]})
                if change["field"] not in (TASK, NOTIFICATION, DRAFT):
                    shown[change["field"]] = change["after"]  # the next action sees it
        if changes:
            planned.append((investor, changes))
    return planned


#: (sender's email) -> a Gmail API client with the compose scope acting as them
Drafts = Callable[[str], Any]


def gmail_drafts(ctx: Context) -> Drafts:
    """The Gmail clients of the connected Google service account (compose scope)."""
    from crm_lib.outbox.gmail import compose_service
    from crm_lib.services.email_sync import google_key

    key = google_key(ctx)
    if key is None:
        raise ExternalServiceError(
            "gmail", "Google is not connected: an admin connects it on the admin page"
        )
    return lambda sender: compose_service(key, sender)


def _apply_one(
    ctx: Context,
    rule: Mapping[str, Any],
    investor: Mapping[str, Any],
    changes: list[dict],
    drafts: Drafts | None = None,
) -> None:
    """One investor's changes in one transaction (all or nothing; a draft Gmail refused rolls
    the rest back too)."""
    fields = {}
    for change in changes:
        if change["field"] not in (TASK, NOTIFICATION, DRAFT):
            fields[change["field"]] = change["after"]
    with write(ctx) as tx:
        if fields:
            update_investor(ctx, investor["id"], fields, expected_version=investor["version"])
        for action in rule["actions"]:
            if action["kind"] == "create_task" and any(c["field"] == TASK for c in changes):
                due = today(ctx.clock) + timedelta(days=action["due_in_days"])
                create_task(
                    ctx,
                    {
                        "title": task_title(action, investor),
                        "investor_id": investor["id"],
                        "assignee_id": assignee_of(action, investor),
                        "due_on": due.isoformat(),
                        "source": "automation",
                    },
                )
        for change in changes:
            if change["field"] == NOTIFICATION:
                tx.insert(
                    "notifications",
                    {"investor_id": investor["id"], "rule_id": rule["id"], "text": change["after"]},
                )
        for action in rule["actions"]:
            if action["kind"] == "draft_email" and any(c["field"] == DRAFT for c in changes):
                _draft(ctx, tx, rule, action, investor, drafts or gmail_drafts(ctx))


def _draft(
    ctx: Context,
    tx: Any,
    rule: Mapping[str, Any],
    action: Mapping[str, Any],
    investor: Mapping[str, Any],
    drafts: Drafts,
) -> None:
    """Put the follow-up in the team member's Gmail drafts and record it (last: a refusal
    rolls the investor's other changes back with it)."""
    from email.message import EmailMessage

    from crm_lib.outbox.gmail import create_draft

    parts = draft_parts(ctx, action, investor, Known())
    if parts is None:
        return
    message = EmailMessage()
    message["From"] = parts["sender"]
    message["To"] = parts["recipient"]
    message["Subject"] = parts["subject"]
    message.set_content(parts["body"])
    draft_id = create_draft(drafts(parts["sender"]), parts["sender"], message)
    tx.insert(
        "automation_drafts",
        {
            "rule_id": rule["id"],
            "investor_id": investor["id"],
            "mark": parts["mark"],
            "sender": parts["sender"],
            "recipient": parts["recipient"],
            "subject": parts["subject"],
            "gmail_draft_id": draft_id,
        },
    )


def run(
    ctx: Context,
    rule: Mapping[str, Any],
    *,
    dry_run: bool = False,
    trigger_event: str = "manual",
    investor_ids: Sequence[int] | None = None,
    cap: int | None = None,
    conditions: bool = True,
    drafts: Drafts | None = None,
) -> dict[str, Any]:
    """Evaluate ``rule`` now (``investor_ids``: only those, for an event) and record the run;
    returns it (``changes``: the first :data:`LOGGED`, ``errors``, counts, ``status``,
    ``message``)."""
    cap = ctx.settings.automation_cap if cap is None else cap
    actor = ctx.as_actor(actor_of(rule["id"]))
    started = timestamp(ctx.clock.now())
    investors = matching(actor, rule, investor_ids, conditions=conditions)
    planned = plan(actor, rule, investors)
    changes = _logged(planned)
    errors: list[dict[str, Any]] = []
    status, message = "done", ""
    applied = 0
    if len(planned) > cap:
        status = "refused"
        message = (
            f"Would change {len(planned):,} investors, over the cap of {cap:,} a run may change:"
            f" nothing was {'to be ' if dry_run else ''}applied. Narrow the conditions, or run"
            " it on a view."
        )
    elif not dry_run:
        for investor, investor_changes in planned:
            try:
                _apply_one(actor, rule, investor, investor_changes, drafts)
                applied += 1
            except CRMError as exc:  # a conflict or a refused value: this investor untouched
                errors.append(
                    {"investor_id": investor["id"], "name": investor["name"], "error": exc.message}
                )
        if errors:
            failed = {e["investor_id"] for e in errors}
            changes = _logged([(inv, ch) for inv, ch in planned if inv["id"] not in failed])
    if dry_run and status == "done":
        message = (
            f"A real run would change {len(planned):,} of the {len(investors):,} investors matched."
        )
    elif status == "done":
        message = f"Changed {applied:,} of the {len(investors):,} investors matched." + (
            f" {len(errors):,} could not be changed." if errors else ""
        )
    record = {
        "rule_id": rule["id"],
        "trigger_event": trigger_event,
        "dry_run": int(dry_run),
        "status": status,
        "started_at": started,
        "finished_at": timestamp(ctx.clock.now()),
        "matched": len(investors),
        "changed": len(planned) if dry_run else applied,
        "changes": json.dumps(changes, default=str),
        "errors": json.dumps(errors[:LOGGED], default=str),
        "message": message,
    }
    with write(actor) as tx:
        run_id = tx.insert(RUNS, record)
        if not dry_run and rule["trigger"].get("kind") and trigger_of(rule["trigger"]).time_based:
            # bookkeeping, not an edit: the rule's version (what its editor holds) stays
            tx.touch("automation_rules", rule["id"], {"evaluated_at": record["finished_at"]})
    return {**record, "id": run_id, "changes": changes, "errors": errors}


def _logged(planned: list[tuple[Mapping[str, Any], list[dict[str, Any]]]]) -> list[dict]:
    """The first :data:`LOGGED` changes, each naming its investor (the counts cover them all)."""
    logged: list[dict[str, Any]] = []
    for investor, changes in planned:
        for change in changes:
            if len(logged) == LOGGED:
                return logged
            logged.append({"investor_id": investor["id"], "name": investor["name"], **change})
    return logged
