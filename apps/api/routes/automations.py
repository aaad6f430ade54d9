"""Automations over REST: rules (list, get, create or from a template, patch with the version
read, toggle, archive), a rule's dry run and run, and the runs with their changes. Members
read; admins change and run."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import RuleBody, RulePatchBody, VersionBody
from apps.api.registry import API
from apps.api.routes.fundraising import lifecycle
from crm_lib import services
from crm_lib.errors import ValidationError

TAG = "automations"
MANAGE = "manage_automations"
ERRS = (401, 403, 404, 409, 422, 429)
RULE = s.obj(
    {
        **s.BOOKKEEPING,
        "name": s.STR,
        "enabled": {"type": "boolean"},
        "trigger": {"type": "object"},
        "conditions": {"type": ["object", "null"]},
        "actions": s.list_of({"type": "object"}),
        "sentence": s.STR,
        "time_based": {"type": "boolean"},
        "evaluated_at": s.TEXT_OR_NULL,
    }
)
RUN = s.obj(
    {
        "id": s.INT,
        "rule_id": s.INT,
        "trigger_event": s.STR,
        "dry_run": {"type": ["boolean", "integer"]},
        "status": {"type": "string", "enum": ["running", "done", "refused", "failed"]},
        "started_at": s.STR,
        "finished_at": s.TEXT_OR_NULL,
        "matched": s.INT,
        "changed": s.INT,
        "changes": s.list_of({"type": "object"}),
        "errors": s.list_of({"type": "object"}),
        "message": s.STR,
    }
)


@API.add(
    "GET",
    "/automations/rules",
    summary="The automation rules, each with its sentence and last run",
    action="use_grid",
    tag=TAG,
    response=s.list_of(RULE),
    errors=(401,),
)
def list_rules(call: Call) -> list[dict[str, Any]]:
    return services.list_rules(call.ctx)


@API.add(
    "GET",
    "/automations/rules/{rule_id}",
    summary="One rule",
    action="use_grid",
    tag=TAG,
    response=RULE,
    errors=(401, 404),
)
def get_rule(call: Call) -> dict[str, Any]:
    return services.get_rule(call.ctx, call.arg("rule_id"))


@API.add(
    "POST",
    "/automations/rules",
    summary="Create a rule (disabled unless enabled is true), or one from a template (admins)",
    action=MANAGE,
    tag=TAG,
    body=RuleBody,
    response=RULE,
    status=201,
    errors=ERRS,
)
def create_rule(call: Call) -> Reply:
    body: RuleBody = call.body  # type: ignore[assignment]
    if body.template is not None:
        if any(v is not None for v in (body.name, body.trigger, body.actions, body.conditions)):
            raise ValidationError("A template comes whole: send only its name", field="template")
        return Reply(services.create_rule_from_template(call.ctx, body.template), status=201)
    values = body.model_dump(exclude={"template"}, exclude_none=True)
    values.setdefault("conditions", None)
    return Reply(services.create_rule(call.ctx, values), status=201)


@API.add(
    "PATCH",
    "/automations/rules/{rule_id}",
    summary="Change a rule read at expected_version (admins)",
    action=MANAGE,
    tag=TAG,
    body=RulePatchBody,
    response=RULE,
    errors=ERRS,
)
def update_rule(call: Call) -> dict[str, Any]:
    body: RulePatchBody = call.body  # type: ignore[assignment]
    changes = body.model_dump(exclude={"expected_version"}, exclude_unset=True)
    return services.update_rule(
        call.ctx, call.arg("rule_id"), changes, expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/automations/rules/{rule_id}/toggle",
    summary="Turn a rule on if off, off if on (admins)",
    action=MANAGE,
    tag=TAG,
    body=VersionBody,
    response=RULE,
    errors=ERRS,
)
def toggle_rule(call: Call) -> dict[str, Any]:
    body: VersionBody = call.body  # type: ignore[assignment]
    return services.toggle_rule(
        call.ctx, call.arg("rule_id"), expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/automations/rules/{rule_id}/dry-run",
    summary="Which investors the rule would change now, and how; nothing is changed (admins)",
    action=MANAGE,
    tag=TAG,
    response=RUN,
    errors=ERRS,
)
def dry_run_rule(call: Call) -> dict[str, Any]:
    return services.dry_run_rule(call.ctx, call.arg("rule_id"))


@API.add(
    "POST",
    "/automations/rules/{rule_id}/run",
    summary="Run the rule now and record the run (admins)",
    action=MANAGE,
    tag=TAG,
    response=RUN,
    errors=ERRS,
)
def run_rule(call: Call) -> dict[str, Any]:
    return services.run_rule(call.ctx, call.arg("rule_id"))


lifecycle(
    "/automations/rules",
    "rule_id",
    "automation rule",
    services.archive_rule,
    None,
    RULE,
    action=MANAGE,
    tag=TAG,
)


@API.add(
    "GET",
    "/automations/runs",
    summary="Runs, newest first, with their changes and errors",
    action="use_grid",
    tag=TAG,
    query=(
        s.param("rule_id", {"type": "integer", "minimum": 1}, "one rule's"),
        s.param("dry_run", {"type": "boolean"}, "only dry runs (true) or real ones (false)"),
        s.param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "default 50"),
    ),
    response=s.list_of(RUN),
    errors=(401, 422),
)
def list_runs(call: Call) -> list[dict[str, Any]]:
    rule_id = call.query_int("rule_id", 0, low=1, high=2**53) if call.query.get("rule_id") else None
    dry = call.query.get("dry_run")
    dry_run = None if not dry else {"true": True, "false": False}.get(str(dry).lower())
    if dry and dry_run is None:
        raise ValidationError("dry_run is true or false", field="dry_run")
    return services.list_runs(
        call.ctx,
        rule_id=rule_id,
        dry_run=dry_run,
        limit=call.query_int("limit", 50, low=1, high=500),
    )
