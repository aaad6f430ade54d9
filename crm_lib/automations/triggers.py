"""What starts a rule: one registered kind per trigger, each checked, described as the "When"
of the rule's sentence, and, for the time-based ones, the SQL that finds the investors due.

Time-based triggers are evaluated on a schedule (and at start-up, so nothing is missed after
downtime): they select every investor whose email signals say so *now*, and the actions are
idempotent (a list move to the list it is on, a tag it has, a task it already has from this
rule change nothing), so evaluating again never repeats an action.

A task becoming overdue is time-based too (an open task due before today). Event triggers (a
record created, a field changed, starts or stops matching the conditions, a commitment
recorded, an email received, a stage changed) are matched against committed changes by
:mod:`crm_lib.automations.events`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm_lib.clock import timestamp
from crm_lib.errors import ValidationError

#: Days a time-based trigger may wait: a day to ten years.
MAX_DAYS = 3650


@dataclass(frozen=True)
class Trigger:
    """A kind of trigger: its parameters' check, its words, and (time-based) its SQL."""

    kind: str
    label: str
    parse: Callable[[Mapping[str, Any]], dict[str, Any]]
    describe: Callable[[Mapping[str, Any]], str]
    #: (params, now) -> SQL over the investors table aliased ``i`` and its parameters
    due_sql: Callable[[Mapping[str, Any], datetime], tuple[str, list[Any]]] | None = None

    @property
    def time_based(self) -> bool:
        return self.due_sql is not None


def _days(params: Mapping[str, Any]) -> dict[str, Any]:
    days = params.get("days")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise ValidationError(
            f"The trigger needs days: a whole number from 1 to {MAX_DAYS:,}", field="trigger"
        )
    return {"days": days}


def _no_params(_params: Mapping[str, Any]) -> dict[str, Any]:
    return {}


def _field_change(params: Mapping[str, Any]) -> dict[str, Any]:
    field = params.get("field")
    if not isinstance(field, str) or not field.strip():
        raise ValidationError("The trigger needs the field that changes", field="trigger")
    parsed: dict[str, Any] = {"field": field.strip()}
    for key in ("to", "from"):
        if key in params and params[key] is not None:
            parsed[key] = params[key]
    return parsed


def _stage_change(params: Mapping[str, Any]) -> dict[str, Any]:
    to = params.get("to")
    if to is not None and (not isinstance(to, str) or not to.strip()):
        raise ValidationError("A stage change's 'to' is a stage's name", field="trigger")
    return {"to": to.strip()} if to else {}


def _silent_since(params: Mapping[str, Any], now: datetime) -> tuple[str, list[Any]]:
    """No two-way touch in N days: not both an inbound and an outbound message since then."""
    cutoff = timestamp(now - timedelta(days=params["days"]))
    return (
        "NOT (coalesce(i.email_last_inbound_at, '') >= ?"
        " AND coalesce(i.email_last_outbound_at, '') >= ?)",
        [cutoff, cutoff],
    )


def _unanswered(params: Mapping[str, Any], now: datetime) -> tuple[str, list[Any]]:
    """Our last email is N days old and nothing came back since it."""
    cutoff = timestamp(now - timedelta(days=params["days"]))
    return (
        "i.email_last_outbound_at IS NOT NULL AND i.email_last_outbound_at <= ?"
        " AND coalesce(i.email_last_inbound_at, '') < i.email_last_outbound_at",
        [cutoff],
    )


def _task_overdue(_params: Mapping[str, Any], now: datetime) -> tuple[str, list[Any]]:
    """An open task about the investor was due before today (the rule's own actions being
    idempotent, a task overdue for a week is acted on once)."""
    return (
        "EXISTS (SELECT 1 FROM tasks t WHERE t.investor_id = i.id AND t.status = 'open'"
        " AND t.deleted_at IS NULL AND t.due_on < ?)",
        [now.date().isoformat()],
    )


def _plural_days(params: Mapping[str, Any]) -> str:
    days = params["days"]
    return f"{days:,} day{'s' if days != 1 else ''}"


TRIGGERS: dict[str, Trigger] = {
    trigger.kind: trigger
    for trigger in (
        Trigger(
            "no_two_way_touch",
            "No two-way email for N days",
            _days,
            lambda p: f"an investor has had no two-way email for {_plural_days(p)}",
            _silent_since,
        ),
        Trigger(
            "no_reply",
            "No reply N days after our last email",
            _days,
            lambda p: f"our last email to an investor is {_plural_days(p)} old with no reply",
            _unanswered,
        ),
        Trigger(
            "record_created", "An investor is added", _no_params, lambda _p: "an investor is added"
        ),
        Trigger(
            "field_changed",
            "A field changes",
            _field_change,
            lambda p: (
                f"an investor's {p['field']} changes"
                + (f" from “{p['from']}”" if "from" in p else "")
                + (f" to “{p['to']}”" if "to" in p else "")
            ),
        ),
        Trigger(
            "starts_matching",
            "An investor starts matching the conditions",
            _no_params,
            lambda _p: "an investor starts matching the conditions",
        ),
        Trigger(
            "stops_matching",
            "An investor stops matching the conditions",
            _no_params,
            lambda _p: "an investor stops matching the conditions",
        ),
        Trigger(
            "commitment_recorded",
            "A commitment is recorded",
            _no_params,
            lambda _p: "a commitment is recorded for an investor",
        ),
        Trigger(
            "email_received",
            "An email arrives from an investor's person",
            _no_params,
            lambda _p: "an email arrives from one of an investor's people",
        ),
        Trigger(
            "task_overdue",
            "A task becomes overdue",
            _no_params,
            lambda _p: "a task about an investor is overdue",
            _task_overdue,
        ),
        Trigger(
            "stage_changed",
            "An opportunity changes stage",
            _stage_change,
            lambda p: "an investor's opportunity moves" + (f" to {p['to']}" if p.get("to") else ""),
        ),
    )
}


def parse_trigger(value: Any) -> dict[str, Any]:
    """A trigger as stored: ``{"kind": ..., **params}``, checked."""
    if not isinstance(value, Mapping) or "kind" not in value:
        kinds = ", ".join(TRIGGERS)
        raise ValidationError(
            f"A rule needs a trigger: {{'kind': one of {kinds}}}", field="trigger"
        )
    kind = str(value["kind"])
    if kind not in TRIGGERS:
        raise ValidationError(
            f"Unknown trigger {kind!r}; use one of {', '.join(TRIGGERS)}", field="trigger"
        )
    params = {k: v for k, v in value.items() if k != "kind"}
    return {"kind": kind, **TRIGGERS[kind].parse(params)}


def trigger_of(stored: Mapping[str, Any]) -> Trigger:
    return TRIGGERS[str(stored["kind"])]
