"""The pipeline and tasks: stages (admins configure them), opportunities (create, change with
the version read, move, close as lost, archive, their stage history), a fund's summary per
stage, and tasks (list, create, change, complete, archive; yours as overdue, today, upcoming).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import (
    CloseBody,
    MoveBody,
    OpportunityBody,
    OpportunityPatchBody,
    StageBody,
    StagePatchBody,
    TaskBody,
    TaskPatchBody,
    VersionBody,
)
from apps.api.registry import API
from apps.api.routes.fundraising import lifecycle
from crm_lib import services
from crm_lib.errors import ValidationError

TAG = "pipeline"
GRID = "use_grid"
ERRS = (401, 403, 404, 409, 422, 429)
ID = {"type": "integer", "minimum": 1, "maximum": 2**53}
STAGE = s.obj(
    {
        **s.BOOKKEEPING,
        "name": s.STR,
        "position": s.INT,
        "probability": s.NUM,
        "kind": {"type": "string", "enum": ["open", "won", "lost"]},
    }
)
OPPORTUNITY = s.obj(
    {
        **s.BOOKKEEPING,
        "investor_id": s.INT,
        "fund_id": s.INT,
        "stage_id": s.INT,
        "status": {"type": "string", "enum": ["open", "won", "lost"]},
        "expected_amount": s.NUM_OR_NULL,
        "probability": s.NUM_OR_NULL,
        "probability_used": s.NUM,
        "weighted_amount": s.NUM_OR_NULL,
        "owner_id": s.INT_OR_NULL,
        "owner_name": s.TEXT_OR_NULL,
        "expected_close": s.TEXT_OR_NULL,
        "next_step": s.STR,
        "lost_reason": s.STR,
        "stage_entered_at": s.STR,
        "days_in_stage": s.INT,
        "closed_at": s.TEXT_OR_NULL,
        "investor_name": s.STR,
        "fund_name": s.STR,
        "stage_name": s.STR,
        "last_inbound_at": s.TEXT_OR_NULL,
        "last_outbound_at": s.TEXT_OR_NULL,
    }
)
TASK = s.obj(
    {
        **s.BOOKKEEPING,
        "title": s.STR,
        "notes": s.STR,
        "investor_id": s.INT_OR_NULL,
        "investor_name": s.TEXT_OR_NULL,
        "person_id": s.INT_OR_NULL,
        "person_name": s.TEXT_OR_NULL,
        "opportunity_id": s.INT_OR_NULL,
        "assignee_id": s.INT_OR_NULL,
        "assignee_name": s.TEXT_OR_NULL,
        "due_on": s.TEXT_OR_NULL,
        "priority": {"type": "string", "enum": ["low", "normal", "high"]},
        "status": {"type": "string", "enum": ["open", "done", "dismissed"]},
        "source": {"type": "string", "enum": ["manual", "automation", "email"]},
        "completed_at": s.TEXT_OR_NULL,
    }
)


def _changes(body: Any) -> dict[str, Any]:
    """The fields the caller sent (``null`` included: it clears), without the version."""
    return body.model_dump(exclude_unset=True, exclude={"expected_version"})


# soft delete (archive), naming the version read
for _path, _id, _noun, _archive, _action in (
    ("/pipeline/stages", "stage_id", "stage", services.archive_stage, "manage_pipeline"),
    ("/opportunities", "opportunity_id", "opportunity", services.archive_opportunity, GRID),
    ("/tasks", "task_id", "task", services.archive_task, GRID),
):
    lifecycle(_path, _id, _noun, _archive, None, s.obj(s.BOOKKEEPING), _action, TAG)


def _fund_id(call: Call) -> int:
    """The ``fund_id`` a fund's figures need."""
    fund_id = _optional_id(call, "fund_id")
    if fund_id is None:
        raise ValidationError("Name the fund: fund_id", field="fund_id")
    return fund_id


def _optional_id(call: Call, name: str) -> int | None:
    return call.query_int(name, 0, low=1, high=2**53) if call.query.get(name) else None


# -- stages -----------------------------------------------------------------------------------
@API.add(
    "GET",
    "/pipeline/stages",
    summary="The pipeline's stages in board order",
    action=GRID,
    tag=TAG,
    response=s.list_of(STAGE),
    errors=(401,),
)
def list_stages(call: Call) -> list[dict[str, Any]]:
    return services.list_stages(call.ctx)


@API.add(
    "POST",
    "/pipeline/stages",
    summary="Add a stage (admins)",
    action="manage_pipeline",
    tag=TAG,
    body=StageBody,
    response=STAGE,
    errors=ERRS,
)
def create_stage(call: Call) -> dict[str, Any]:
    body: StageBody = call.body  # type: ignore[assignment]
    return services.create_stage(call.ctx, body.model_dump(exclude_none=True))


@API.add(
    "PATCH",
    "/pipeline/stages/{stage_id}",
    summary="Rename a stage or change its probability, place or kind (admins)",
    action="manage_pipeline",
    tag=TAG,
    body=StagePatchBody,
    response=STAGE,
    errors=ERRS,
)
def update_stage(call: Call) -> dict[str, Any]:
    body: StagePatchBody = call.body  # type: ignore[assignment]
    changes = {k: v for k, v in _changes(body).items() if v is not None}
    return services.update_stage(
        call.ctx, call.arg("stage_id"), changes, expected_version=body.expected_version
    )


@API.add(
    "GET",
    "/pipeline/summary",
    summary="A fund's pipeline per stage: count, expected and weighted, against its target",
    action=GRID,
    tag=TAG,
    query=(s.param("fund_id", ID, "the fund", True),),
    response=s.obj(
        {
            "id": s.INT,
            "name": s.STR,
            "currency": s.TEXT_OR_NULL,
            "target_size": s.NUM_OR_NULL,
            "committed": s.NUM,
            "open_expected": s.NUM,
            "open_weighted": s.NUM,
            "open_count": s.INT,
            "stages": s.list_of(
                s.obj(
                    {
                        "id": s.INT,
                        "name": s.STR,
                        "kind": s.STR,
                        "probability": s.NUM,
                        "position": s.INT,
                        "count": s.INT,
                        "expected": s.NUM,
                        "weighted": s.NUM,
                    },
                    extra=False,
                )
            ),
        },
        extra=False,
    ),
    errors=(401, 404, 422),
)
def pipeline_summary(call: Call) -> dict[str, Any]:
    fund_id = _fund_id(call)
    return services.pipeline_summary(call.ctx, fund_id)


@API.add(
    "GET",
    "/pipeline/board",
    summary="A fund's board: its summary, and per stage its largest cards (going cold marked)",
    action=GRID,
    tag=TAG,
    query=(
        s.param("fund_id", ID, "the fund", True),
        s.param("owner_id", ID, "one owner's cards"),
        s.param("view_id", ID, "the investors of a saved view"),
        s.param(
            "cold_days",
            {"type": "integer", "minimum": 1, "maximum": 3650},
            "default CRM_GOING_COLD_DAYS (30)",
        ),
    ),
    response=s.obj(
        {
            "id": s.INT,
            "name": s.STR,
            "target_size": s.NUM_OR_NULL,
            "committed": s.NUM,
            "open_weighted": s.NUM,
            "cold_days": s.INT,
            "columns": s.list_of(
                s.obj(
                    {
                        "id": s.INT,
                        "name": s.STR,
                        "count": s.INT,
                        "weighted": s.NUM,
                        "cards": s.list_of(OPPORTUNITY),
                    }
                )
            ),
        }
    ),
    errors=(401, 404, 422),
)
def pipeline_board(call: Call) -> dict[str, Any]:
    fund_id = _fund_id(call)
    return services.pipeline_board(
        call.ctx,
        fund_id,
        **_narrowing(call),
        cold_days=call.query_int("cold_days", call.ctx.settings.going_cold_days, low=1, high=3650),
    )


def _narrowing(call: Call) -> dict[str, Any]:
    """The owner and view filters of a fund's board, forecast and funnel."""
    return {"owner_id": _optional_id(call, "owner_id"), "investor_ids": _view_ids(call)}


def _view_ids(call: Call) -> list[int] | None:
    view_id = _optional_id(call, "view_id")
    return None if view_id is None else services.view_investor_ids(call.ctx, view_id)


NARROWING = (
    s.param("fund_id", ID, "the fund", True),
    s.param("owner_id", ID, "one owner's opportunities"),
    s.param("view_id", ID, "the investors of a saved view"),
)


@API.add(
    "GET",
    "/pipeline/forecast",
    summary="A fund's open opportunities by expected close month: count, expected, weighted",
    action=GRID,
    tag=TAG,
    query=NARROWING,
    response=s.list_of(
        s.obj(
            {"month": s.STR, "count": s.INT, "expected": s.NUM, "weighted": s.NUM},
            extra=False,
        )
    ),
    errors=(401, 404, 422),
)
def pipeline_forecast(call: Call) -> list[dict[str, Any]]:
    fund_id = _fund_id(call)
    return services.pipeline_forecast(call.ctx, fund_id, **_narrowing(call))


@API.add(
    "GET",
    "/pipeline/funnel",
    summary="A fund's funnel: opportunities reaching each stage, and the conversion between",
    action=GRID,
    tag=TAG,
    query=NARROWING,
    response=s.list_of(
        s.obj(
            {
                "stage_id": s.INT,
                "name": s.STR,
                "kind": s.STR,
                "reached": s.INT,
                "conversion": s.NUM_OR_NULL,
            },
            extra=False,
        )
    ),
    errors=(401, 404, 422),
)
def pipeline_funnel(call: Call) -> list[dict[str, Any]]:
    fund_id = _fund_id(call)
    return services.pipeline_funnel(call.ctx, fund_id, **_narrowing(call))


@API.add(
    "GET",
    "/pipeline/going-cold",
    summary="Investors with an open opportunity or a commitment and no two-way email touch",
    action=GRID,
    tag=TAG,
    query=(
        s.param(
            "days",
            {"type": "integer", "minimum": 1, "maximum": 3650},
            "default CRM_GOING_COLD_DAYS (30)",
        ),
        s.param("owner_id", ID, "those one team member owns"),
    ),
    response=s.obj(
        {
            "days": s.INT,
            "total": s.INT,
            "rows": s.list_of(
                s.obj(
                    {
                        "id": s.INT,
                        "name": s.STR,
                        "reason": s.STR,
                        "owner_name": s.TEXT_OR_NULL,
                        "last_touch_at": s.TEXT_OR_NULL,
                    },
                    extra=False,
                )
            ),
        },
        extra=False,
    ),
    errors=(401, 422),
)
def going_cold(call: Call) -> dict[str, Any]:
    return services.going_cold(
        call.ctx,
        days=call.query_int("days", call.ctx.settings.going_cold_days, low=1, high=3650),
        owner_id=_optional_id(call, "owner_id"),
    )


# -- opportunities ----------------------------------------------------------------------------
@API.add(
    "GET",
    "/opportunities",
    summary="Opportunities in board order (open ones unless status says)",
    action=GRID,
    tag=TAG,
    query=(
        s.param("fund_id", ID, "one fund"),
        s.param("owner_id", ID, "one owner"),
        s.param("investor_id", ID, "one investor"),
        s.param("stage_id", ID, "one stage"),
        s.param("status", {"type": "string", "enum": ["open", "won", "lost", "all"]}, "open"),
        s.param("limit", {"type": "integer", "minimum": 1, "maximum": 5000}, "default 500"),
        s.param("offset", {"type": "integer", "minimum": 0, "maximum": 2**31}, "default 0"),
    ),
    response=s.list_of(OPPORTUNITY),
    errors=(401, 422),
)
def list_opportunities(call: Call) -> list[dict[str, Any]]:
    status = call.query.get("status") or "open"
    return services.list_opportunities(
        call.ctx,
        fund_id=_optional_id(call, "fund_id"),
        owner_id=_optional_id(call, "owner_id"),
        investor_id=_optional_id(call, "investor_id"),
        stage_id=_optional_id(call, "stage_id"),
        status=None if status == "all" else status,
        limit=call.query_int("limit", 500, low=1, high=5000),
        offset=call.query_int("offset", 0, low=0, high=2**31),
    )


@API.add(
    "POST",
    "/opportunities",
    summary="Open an opportunity for an investor and a fund (one open per pair)",
    action=GRID,
    tag=TAG,
    body=OpportunityBody,
    response=OPPORTUNITY,
    status=201,
    errors=ERRS,
)
def create_opportunity(call: Call) -> Any:
    body: OpportunityBody = call.body  # type: ignore[assignment]
    values = body.model_dump(exclude_unset=True, exclude={"investor_id", "fund_id"})
    made = services.create_opportunity(call.ctx, body.investor_id, body.fund_id, values)
    return Reply(payload=made, status=201)


@API.add(
    "GET",
    "/opportunities/{opportunity_id}",
    summary="One opportunity",
    action=GRID,
    tag=TAG,
    response=OPPORTUNITY,
    errors=(401, 404),
)
def get_opportunity(call: Call) -> dict[str, Any]:
    return services.get_opportunity(call.ctx, call.arg("opportunity_id"))


@API.add(
    "PATCH",
    "/opportunities/{opportunity_id}",
    summary="Change an opportunity read at expected_version",
    action=GRID,
    tag=TAG,
    body=OpportunityPatchBody,
    response=OPPORTUNITY,
    errors=ERRS,
)
def update_opportunity(call: Call) -> dict[str, Any]:
    body: OpportunityPatchBody = call.body  # type: ignore[assignment]
    return services.update_opportunity(
        call.ctx,
        call.arg("opportunity_id"),
        _changes(body),
        expected_version=body.expected_version,
    )


@API.add(
    "POST",
    "/opportunities/{opportunity_id}/move",
    summary="Move an opportunity to another stage",
    action=GRID,
    tag=TAG,
    body=MoveBody,
    response=OPPORTUNITY,
    errors=ERRS,
)
def move_opportunity(call: Call) -> dict[str, Any]:
    body: MoveBody = call.body  # type: ignore[assignment]
    return services.move_opportunity(
        call.ctx, call.arg("opportunity_id"), body.stage_id, expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/opportunities/{opportunity_id}/close",
    summary="Close an opportunity as lost, with the reason (it is kept)",
    action=GRID,
    tag=TAG,
    body=CloseBody,
    response=OPPORTUNITY,
    errors=ERRS,
)
def close_opportunity(call: Call) -> dict[str, Any]:
    body: CloseBody = call.body  # type: ignore[assignment]
    return services.close_opportunity(
        call.ctx, call.arg("opportunity_id"), body.reason, expected_version=body.expected_version
    )


@API.add(
    "GET",
    "/opportunities/{opportunity_id}/history",
    summary="Where an opportunity has been: each stage move, oldest first",
    action=GRID,
    tag=TAG,
    response=s.list_of(
        s.obj(
            {"at": s.STR, "actor": s.STR, "from_stage": s.TEXT_OR_NULL, "to_stage": s.STR},
            extra=False,
        )
    ),
    errors=(401, 404),
)
def opportunity_history(call: Call) -> list[dict[str, Any]]:
    return services.stage_history(call.ctx, call.arg("opportunity_id"))


# -- tasks ------------------------------------------------------------------------------------
@API.add(
    "GET",
    "/tasks",
    summary="Tasks by due date (open ones unless status says)",
    action=GRID,
    tag=TAG,
    query=(
        s.param("assignee", ID, "one team member's"),
        s.param("investor_id", ID, "about one investor"),
        s.param("due_before", {"type": "string", "format": "date"}, "due before this date"),
        s.param("status", {"type": "string", "enum": ["open", "done", "dismissed", "all"]}, "open"),
        s.param("limit", {"type": "integer", "minimum": 1, "maximum": 5000}, "default 200"),
    ),
    response=s.list_of(TASK),
    errors=(401, 422),
)
def list_tasks(call: Call) -> list[dict[str, Any]]:
    status = call.query.get("status") or "open"
    due_before = None
    if call.query.get("due_before"):
        try:
            due_before = date.fromisoformat(call.query["due_before"])
        except ValueError:
            raise ValidationError(
                "due_before must be a date: YYYY-MM-DD", field="due_before"
            ) from None
    return services.list_tasks(
        call.ctx,
        assignee_id=_optional_id(call, "assignee"),
        investor_id=_optional_id(call, "investor_id"),
        due_before=due_before,
        status=None if status == "all" else status,
        limit=call.query_int("limit", 200, low=1, high=5000),
    )


@API.add(
    "GET",
    "/me/tasks",
    summary="Your open tasks: overdue, today and upcoming",
    action=GRID,
    tag=TAG,
    response=s.obj(
        {"overdue": s.list_of(TASK), "today": s.list_of(TASK), "upcoming": s.list_of(TASK)},
        extra=False,
    ),
    errors=(401, 422),
)
def my_tasks(call: Call) -> dict[str, Any]:
    return services.my_tasks(call.ctx)


@API.add(
    "POST",
    "/tasks",
    summary="Add a task (yours unless assignee_id says)",
    action=GRID,
    tag=TAG,
    body=TaskBody,
    response=TASK,
    status=201,
    errors=ERRS,
)
def create_task(call: Call) -> Any:
    body: TaskBody = call.body  # type: ignore[assignment]
    return Reply(
        payload=services.create_task(call.ctx, body.model_dump(exclude_unset=True)), status=201
    )


@API.add(
    "PATCH",
    "/tasks/{task_id}",
    summary="Change a task read at expected_version",
    action=GRID,
    tag=TAG,
    body=TaskPatchBody,
    response=TASK,
    errors=ERRS,
)
def update_task(call: Call) -> dict[str, Any]:
    body: TaskPatchBody = call.body  # type: ignore[assignment]
    return services.update_task(
        call.ctx, call.arg("task_id"), _changes(body), expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/tasks/{task_id}/complete",
    summary="Mark a task done",
    action=GRID,
    tag=TAG,
    body=VersionBody,
    response=TASK,
    errors=ERRS,
)
def complete_task(call: Call) -> dict[str, Any]:
    body: VersionBody = call.body  # type: ignore[assignment]
    return services.complete_task(
        call.ctx, call.arg("task_id"), expected_version=body.expected_version
    )
