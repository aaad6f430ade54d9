"""What a rule does to each investor it matches: one registered kind per action, each checked
when the rule is saved, described as part of the rule's sentence, and *planned* before anything
is written: the plan is the list of changes (field, before, after) a dry run shows and a real
run applies, so the two cannot differ.

Actions are idempotent: moving an investor to the list it is on, adding a tag it has, a task it
already has open from the same title, or a notification still unread plans nothing. Field
changes of one investor are applied together (one versioned update), then its task and
notification, all in one transaction (:mod:`crm_lib.automations.engine`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.fields import load_fields, resolve_field
from crm_lib.limits import check_text
from crm_lib.services.investors import validated_values
from crm_lib.storage.reads import query_value

LISTS = ("main", "follow_up", "graveyard", "longshot")
LIST_LABELS = {
    "main": "Main",
    "follow_up": "Follow-up",
    "graveyard": "Graveyard",
    "longshot": "Longshot",
}
#: Who a task goes to: the investor's owner, its strongest email connection, or a member's id.
ASSIGNEES = ("owner", "closest")
#: Pseudo-fields of planned changes that are not investor fields.
TASK, NOTIFICATION, DRAFT = "task", "notification", "draft"


class Known:
    """What a run reads once for all the investors it plans (instead of a query each): the
    open tasks by investor and title, and the rule's unread notices by investor."""

    def __init__(self) -> None:
        self._tasks: set[tuple[int, str]] | None = None
        self._notices: set[int] | None = None
        self._drafts: set[tuple[int, str]] | None = None
        self._members: dict[int, str] | None = None

    def open_tasks(self, ctx: Context) -> set[tuple[int, str]]:
        if self._tasks is None:
            self._tasks = {
                (row[0], row[1])
                for row in ctx.db.execute(
                    "SELECT investor_id, title FROM tasks WHERE status = 'open'"
                    " AND deleted_at IS NULL AND investor_id IS NOT NULL"
                )
            }
        return self._tasks

    def drafted(self, ctx: Context, rule_id: int) -> set[tuple[int, str]]:
        """(investor, mark) pairs the rule already drafted a follow-up for."""
        if self._drafts is None:
            self._drafts = {
                (row[0], row[1])
                for row in ctx.db.execute(
                    "SELECT investor_id, mark FROM automation_drafts WHERE rule_id = ?"
                    " AND deleted_at IS NULL",
                    [rule_id],
                )
            }
        return self._drafts

    def members(self, ctx: Context) -> dict[int, str]:
        """Active team members' emails by id (a draft's sender)."""
        if self._members is None:
            self._members = {
                row[0]: row[1]
                for row in ctx.db.execute(
                    "SELECT id, email FROM users WHERE is_active = 1 AND deleted_at IS NULL"
                )
            }
        return self._members

    def unread_notices(self, ctx: Context, rule_id: int) -> set[int]:
        if self._notices is None:
            self._notices = {
                row[0]
                for row in ctx.db.execute(
                    "SELECT investor_id FROM notifications WHERE rule_id = ? AND read_at IS NULL"
                    " AND deleted_at IS NULL AND investor_id IS NOT NULL",
                    [rule_id],
                )
            }
        return self._notices


@dataclass(frozen=True)
class Action:
    kind: str
    label: str
    parse: Callable[[Context, Mapping[str, Any]], dict[str, Any]]
    describe: Callable[[Mapping[str, Any]], str]
    #: (ctx, params, investor, rule id, known: what the run read once for every investor)
    plan: Callable[..., list[dict[str, Any]]]
    #: the investor columns the plan reads (the run selects just these)
    reads: tuple[str, ...] = ()


def _investor_name(template: str, investor: Mapping[str, Any]) -> str:
    """A title or text with ``{investor}`` replaced by the investor's name (no other
    placeholders: a name with braces is inserted as it is, never formatted again)."""
    return template.replace("{investor}", str(investor.get("name") or ""))


def _text(params: Mapping[str, Any], key: str, limit: str, what: str) -> str:
    value = " ".join(str(params.get(key) or "").split())
    if not value:
        raise ValidationError(f"The action needs {what}", field="actions")
    return check_text(value, limit, field="actions", label=what.capitalize())


# -- move to a list -----------------------------------------------------------------------
def _parse_list(_ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    target = params.get("list")
    if target not in LISTS:
        raise ValidationError(f"Move to which list? One of {', '.join(LISTS)}", field="actions")
    return {"list": target}


def _plan_list(
    _ctx: Context,
    params: Mapping[str, Any],
    investor: Mapping[str, Any],
    _rule_id: int,
    _known: Known,
) -> list[dict[str, Any]]:
    before = investor.get("list_membership")
    if before == params["list"]:
        return []
    return [{"field": "list_membership", "before": before, "after": params["list"]}]


# -- set a field -------------------------------------------------------------------------
def _parse_set(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    name = params.get("field")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("Set which field?", field="actions")
    fields = load_fields(ctx.db)
    spec = resolve_field(fields, name)
    if not spec.is_editable or spec.formula is not None:
        raise ValidationError(f"{spec.label} is computed: a rule cannot set it", field="actions")
    stored = validated_values(ctx, fields, {spec.key: params.get("value")}, creating=False)
    return {"field": spec.key, "value": stored[spec.key]}


def _plan_set(
    _ctx: Context,
    params: Mapping[str, Any],
    investor: Mapping[str, Any],
    _rule_id: int,
    _known: Known,
) -> list[dict[str, Any]]:
    before = investor.get(params["field"])
    after = params["value"]
    if _same(before, after):
        return []
    return [{"field": params["field"], "before": before, "after": after}]


def _same(before: Any, after: Any) -> bool:
    """A stored value (multi-selects as JSON text) against the decoded one the grid reads."""
    if isinstance(after, str) and after.startswith("[") and isinstance(before, list):
        return json.loads(after) == before
    return before == after


# -- tags ----------------------------------------------------------------------------------
def _parse_tag(_ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"tag": _text(params, "tag", "text", "a tag")}


def _plan_tag(adding: bool) -> Callable[..., list[dict[str, Any]]]:
    def plan(
        _ctx: Context,
        params: Mapping[str, Any],
        investor: Mapping[str, Any],
        _rule_id: int,
        _known: Known,
    ) -> list[dict[str, Any]]:
        tags = list(investor.get("tags") or [])
        has = params["tag"] in tags
        if has == adding:
            return []
        after = [*tags, params["tag"]] if adding else [t for t in tags if t != params["tag"]]
        return [{"field": "tags", "before": tags, "after": after}]

    return plan


# -- create a task -------------------------------------------------------------------------
def _parse_task(ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    title = _text(params, "title", "task_title", "a task title")
    due = params.get("due_in_days", 0)
    if isinstance(due, bool) or not isinstance(due, int) or not 0 <= due <= 365:
        raise ValidationError("A task is due in 0 to 365 days", field="actions")
    assignee = params.get("assignee", "owner")
    if assignee not in ASSIGNEES and not _active_member(ctx, assignee):
        raise ValidationError(
            "A task goes to 'owner', 'closest' (the strongest email connection) or an"
            " active team member's id",
            field="actions",
        )
    return {"title": title, "due_in_days": due, "assignee": assignee}


def _active_member(ctx: Context, user_id: Any) -> bool:
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        return False
    return bool(
        query_value(
            ctx.db,
            "SELECT count(*) FROM users WHERE id = ? AND is_active = 1 AND deleted_at IS NULL",
            [user_id],
        )
    )


def task_title(params: Mapping[str, Any], investor: Mapping[str, Any]) -> str:
    return " ".join(_investor_name(params["title"], investor).split())[:200]


def _plan_task(
    ctx: Context,
    params: Mapping[str, Any],
    investor: Mapping[str, Any],
    _rule_id: int,
    known: Known,
) -> list[dict[str, Any]]:
    title = task_title(params, investor)
    if (investor["id"], title) in known.open_tasks(ctx):
        return []  # already there: evaluating again never repeats it
    return [{"field": TASK, "before": None, "after": title}]


def assignee_of(params: Mapping[str, Any], investor: Mapping[str, Any]) -> int | None:
    """The member a rule's task goes to (None: whoever the task service picks)."""
    chosen = params["assignee"]
    if chosen == "closest":
        return investor.get("email_connection_id") or investor.get("owner_id")
    if chosen == "owner":
        return investor.get("owner_id")
    return int(chosen)


# -- notify ----------------------------------------------------------------------------------
def _parse_notify(_ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"text": _text(params, "text", "text", "the notification's text")}


def _plan_notify(
    ctx: Context, params: Mapping[str, Any], investor: Mapping[str, Any], rule_id: int, known: Known
) -> list[dict[str, Any]]:
    text = _investor_name(params["text"], investor)
    if investor["id"] in known.unread_notices(ctx, rule_id):
        return []
    return [{"field": NOTIFICATION, "before": None, "after": text}]


# -- draft a follow-up email ----------------------------------------------------------------
def _parse_draft(_ctx: Context, params: Mapping[str, Any]) -> dict[str, Any]:
    subject = _text(params, "subject", "text", "the draft's subject")
    body = str(params.get("body") or "").strip()
    if not body:
        raise ValidationError("The draft needs a body", field="actions")
    body = check_text(body, "long_text", field="actions", label="Body")
    sender = params.get("sender", "closest")
    if sender not in ASSIGNEES:
        raise ValidationError(
            "A draft goes into the drafts of 'closest' (the strongest email connection) or 'owner'",
            field="actions",
        )
    return {"subject": subject, "body": body, "sender": sender}


def draft_parts(
    ctx: Context, params: Mapping[str, Any], investor: Mapping[str, Any], known: Known
) -> dict[str, str] | None:
    """Whose drafts, to whom, the subject and the body of an investor's follow-up (None when
    it has no person with an address, or no team member to draft it)."""
    person = ctx.db.execute(
        "SELECT full_name, email FROM fundraising_contacts WHERE investor_id = ?"
        " AND deleted_at IS NULL AND email IS NOT NULL AND email != ''"
        " ORDER BY is_primary DESC, id LIMIT 1",
        [investor["id"]],
    ).fetchone()
    member_id = assignee_of({"assignee": params["sender"]}, investor)
    sender = known.members(ctx).get(member_id) if member_id else None
    if person is None or sender is None:
        return None
    first = (person[0] or "").split()[0] if person[0] else ""

    def fill(template: str) -> str:
        return _investor_name(template, investor).replace("{person}", first)

    return {
        "sender": sender,
        "recipient": person[1],
        "subject": " ".join(fill(params["subject"]).split()),
        "body": fill(params["body"]),
        "mark": str(investor.get("email_last_outbound_at") or ""),
    }


def _plan_draft(
    ctx: Context, params: Mapping[str, Any], investor: Mapping[str, Any], rule_id: int, known: Known
) -> list[dict[str, Any]]:
    parts = draft_parts(ctx, params, investor, known)
    if parts is None or (investor["id"], parts["mark"]) in known.drafted(ctx, rule_id):
        return []  # nobody to write to, or drafted already since our last email
    summary = f"to {parts['recipient']} in {parts['sender']}'s drafts: {parts['subject']}"
    return [{"field": DRAFT, "before": None, "after": summary}]


def _quoted(value: Any) -> str:
    return f"“{value}”"


ACTIONS: dict[str, Action] = {
    action.kind: action
    for action in (
        Action(
            "move_to_list",
            "Move to a list",
            _parse_list,
            lambda p: f"move it to {LIST_LABELS[p['list']]}",
            _plan_list,
        ),
        Action(
            "set_field",
            "Set a field",
            _parse_set,
            lambda p: f"set {p['field']} to {_quoted(p['value'])}",
            _plan_set,
        ),
        Action(
            "add_tag",
            "Add a tag",
            _parse_tag,
            lambda p: f"tag it {_quoted(p['tag'])}",
            _plan_tag(True),
        ),
        Action(
            "remove_tag",
            "Remove a tag",
            _parse_tag,
            lambda p: f"remove the tag {_quoted(p['tag'])}",
            _plan_tag(False),
        ),
        Action(
            "create_task",
            "Create a task",
            _parse_task,
            lambda p: (
                f"create the task {_quoted(p['title'])} for "
                + {"owner": "its owner", "closest": "the closest team member"}.get(
                    str(p["assignee"]), "a team member"
                )
                + (f", due in {p['due_in_days']} days" if p["due_in_days"] else ", due today")
            ),
            _plan_task,
        ),
        Action(
            "draft_email",
            "Draft a follow-up email",
            _parse_draft,
            lambda p: (
                f"draft the email {_quoted(p['subject'])} into the"
                + {"owner": " owner's", "closest": " closest team member's"}[p["sender"]]
                + " Gmail drafts (a person sends it)"
            ),
            _plan_draft,
        ),
        Action(
            "notify",
            "Notify the team",
            _parse_notify,
            lambda p: f"notify the team: {_quoted(p['text'])}",
            _plan_notify,
        ),
    )
}


def parse_actions(ctx: Context, value: Any) -> list[dict[str, Any]]:
    """A rule's actions as stored, each checked (at least one, at most ten)."""
    if not isinstance(value, list) or not value or len(value) > 10:
        raise ValidationError("A rule has one to ten actions", field="actions")
    parsed = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, Mapping) or item.get("kind") not in ACTIONS:
            raise ValidationError(
                f"Action {index}: the kind is one of {', '.join(ACTIONS)}", field="actions"
            )
        params = {k: v for k, v in item.items() if k != "kind"}
        parsed.append({"kind": item["kind"], **ACTIONS[item["kind"]].parse(ctx, params)})
    return parsed
