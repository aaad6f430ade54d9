"""The activity feed, and the admin's job runs and alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.registry import API
from crm_lib import services
from crm_lib.errors import ValidationError
from crm_lib.services.activity import KINDS

#: One piece of an event's sentence: its text and what it is (actor, investor, field, old, new,
#: person, fund, file...); an investor piece carries the investor's id.
PART = s.obj(
    {"text": s.STR, "role": s.STR, "investor_id": s.INT_OR_NULL, "archived": s.BOOL},
    required=["text", "role"],
)
EVENT = s.obj(
    {
        "at": s.STR,
        "kind": s.STR,
        "actor": s.STR,
        "entity": s.STR,
        "entity_id": s.INT_OR_NULL,
        "summary": s.STR,
        "sentence": s.STR,
        "parts": s.list_of(PART),
        "actor_name": s.STR,
        "verb": s.STR,
        "target_name": s.TEXT_OR_NULL,
        "field_label": s.TEXT_OR_NULL,
        "old_text": s.TEXT_OR_NULL,
        "new_text": s.TEXT_OR_NULL,
        "investor_id": s.INT_OR_NULL,
        "investor_name": s.TEXT_OR_NULL,
        "cursor": s.STR,
    },
    required=["at", "kind", "actor", "summary", "sentence", "parts", "actor_name", "cursor"],
)


def _moment(call: Call, name: str) -> datetime | None:
    text = call.query.get(name)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{name} must be a date like 2026-11-30, not {text!r}", field=name
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.now().astimezone().tzinfo)


def _either(call: Call, name: str, alias: str, parse: Callable[[str], Any] = str.strip) -> Any:
    """The value given as ``name`` or as ``alias`` (the team's scripts send ``user_id`` and
    ``investor_id``), parsed; both given and different is ambiguous, so a 422 names both.

    The route's declared schemas have already checked each value (an integer is digits)."""
    first, second = (call.query.get(n) or None for n in (name, alias))
    if first and second and parse(first) != parse(second):
        raise ValidationError(
            f"Query parameters {name}={first[:40]!r} and {alias}={second[:40]!r} disagree:"
            f" give one of them",
            field=alias,
        )
    given = first or second
    return parse(given) if given else None


USER = {"type": "string", "maxLength": 320}
INVESTOR = {"type": "integer", "minimum": 1, "maximum": 2**53}


@API.add(
    "GET",
    "/activity",
    summary="Everything that happened, newest first: record changes, imports, backups,"
    " restores and job runs; filter by user, investor, kind and date",
    action="use_grid",
    tag="activity",
    response=s.list_of(EVENT),
    query=(
        s.param("user", USER, "who (email or system:...)"),
        s.param("user_id", USER, "the same as user (either name; both must agree)"),
        s.param("investor", INVESTOR, "investor id"),
        s.param("investor_id", INVESTOR, "the same as investor (either name; both must agree)"),
        s.param(
            "kind", {"type": "string", "maxLength": 100}, f"comma-separated: {', '.join(KINDS)}"
        ),
        s.param("since", {"type": "string", "maxLength": 40}, "ISO date or time (inclusive)"),
        s.param("until", {"type": "string", "maxLength": 40}, "ISO date or time (exclusive)"),
        s.param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "default 100"),
        s.param(
            "before",
            {"type": "string", "maxLength": 80},
            "an event's cursor: the events after it (the next page)",
        ),
    ),
    errors=(401, 422),
)
def activity(call: Call) -> list[dict[str, Any]]:
    kinds = tuple(
        k.strip() for k in (call.query.get("kind") or ",".join(KINDS)).split(",") if k.strip()
    )
    return services.activity(
        call.ctx,
        actor=_either(call, "user", "user_id"),
        investor_id=_either(call, "investor", "investor_id", int),
        kinds=kinds,
        since=_moment(call, "since"),
        until=_moment(call, "until"),
        limit=call.query_int("limit", 100, low=1, high=500),
        before=call.query.get("before") or None,
    )


@API.add(
    "GET",
    "/jobs/runs",
    summary="Recent runs of the scheduled notebook jobs, newest first",
    action="manage_backups",
    tag="jobs",
    response=s.list_of({"type": "object"}),
    errors=(401, 403),
)
def job_runs(call: Call) -> list[dict[str, Any]]:
    return services.list_job_runs(call.ctx)


@API.add(
    "GET",
    "/jobs/runs/{run_id}/notebook",
    summary="The executed notebook of a job run, rendered as HTML",
    action="manage_backups",
    tag="jobs",
    response={"type": "string"},
    content_type="text/html",
    errors=(401, 403, 404),
)
def job_run_notebook(call: Call) -> Reply:
    path = services.job_run_file(call.ctx, call.arg("run_id"))
    return Reply(
        text=path.read_text(encoding="utf-8"),
        headers={
            "Content-Type": "text/html; charset=utf-8",
            # the rendering holds the notebook's own scripts: keep it away from our cookies
            "Content-Security-Policy": "sandbox allow-scripts",
        },
    )


@API.add(
    "GET",
    "/alerts",
    summary="What needs an admin: failed jobs, no verified backup in 26 h, low disk",
    action="manage_backups",
    tag="jobs",
    response=s.list_of(s.obj({"kind": s.STR, "message": s.STR}, extra=False)),
    errors=(401, 403),
)
def alerts(call: Call) -> list[dict[str, str]]:
    return services.alerts(call.ctx)
