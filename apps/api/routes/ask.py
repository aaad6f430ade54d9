"""Ask in plain English: curated questions, free-form questions through Claude (scrubbed), and
edited SQL, all through the same validator; the asker's log (an admin's: everyone's)."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call
from apps.api.models import AskBody, AskSqlBody
from apps.api.registry import API
from crm_lib import services

TAG = "ask"
ANY = {}
PARAMS = {
    "type": "object",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}
ANSWER = s.obj(
    {
        "ask_id": s.INT,
        "source": {"type": "string", "enum": ["curated", "model", "sql", "dry_run"]},
        "question": s.STR,
        "curated_key": s.TEXT_OR_NULL,
        "scrubbed_question": s.TEXT_OR_NULL,
        "model": s.TEXT_OR_NULL,
        "sql": s.STR,
        "params": PARAMS,
        "explanation": s.STR,
        "columns": s.list_of(s.STR),
        "rows": s.list_of({"type": "array", "items": ANY}),
        "row_count": s.INT,
        "truncated": s.BOOL,
        "milliseconds": s.NUM,
        "investor_ids": {"type": ["array", "null"], "items": s.INT},
        # a dry run: what would be sent, and nothing else
        "placeholders": s.list_of(s.STR),
        "request_body": {"type": "object"},
        "model_ready": s.BOOL,
    },
    required=["ask_id", "source", "question"],
    extra=False,
)
QUESTION = s.obj(
    {
        "key": s.STR,
        "question": s.STR,
        "parameters": s.list_of(
            s.obj(
                {
                    "name": s.STR,
                    "kind": s.STR,
                    "label": s.STR,
                    "default": {"type": ["string", "number", "null"]},
                },
                extra=False,
            )
        ),
        "opens_investors": s.BOOL,
        "sql": s.STR,
    },
    extra=False,
)
LOGGED = s.obj(
    {
        "id": s.INT,
        "user_id": s.INT_OR_NULL,
        "asked_by": s.STR,
        "source": s.STR,
        "curated_key": s.TEXT_OR_NULL,
        "model": s.TEXT_OR_NULL,
        "question": s.STR,
        "scrubbed_question": s.TEXT_OR_NULL,
        "sql": s.TEXT_OR_NULL,
        "explanation": s.TEXT_OR_NULL,
        "status": {"type": "string", "enum": ["answered", "refused", "failed", "dry_run"]},
        "rule": s.TEXT_OR_NULL,
        "error": s.TEXT_OR_NULL,
        "row_count": s.INT_OR_NULL,
        "duration_ms": s.NUM,
        "opens_investors": s.BOOL,
        "created_at": s.STR,
    },
    extra=False,
)


@API.add(
    "GET",
    "/ask/questions",
    summary="The curated questions (they work without any model), with their parameters",
    action="ask",
    tag=TAG,
    response=s.obj({"questions": s.list_of(QUESTION), "model_ready": s.BOOL}, extra=False),
    errors=(401,),
)
def ask_questions(call: Call) -> dict[str, Any]:
    return {
        "questions": services.curated_questions(call.ctx),
        "model_ready": services.model_ready(call.ctx),
    }


@API.add(
    "POST",
    "/ask",
    summary="Ask a question: a curated one (by text or key), else Claude writes the SQL",
    action="ask",
    tag=TAG,
    body=AskBody,
    response=ANSWER,
    slow=True,
    errors=(401, 404, 422, 429, 502),
)
def ask(call: Call) -> dict[str, Any]:
    body: AskBody = call.body  # type: ignore[assignment]
    return services.ask(
        call.ctx,
        call.runtime.ask_engine,
        body.question,
        params=body.params,
        key=body.key,
        dry_run=body.dry_run,
    )


@API.add(
    "POST",
    "/ask/sql",
    summary="Run SQL (an answer's, edited) through the same validator and locked-down database",
    action="ask",
    tag=TAG,
    body=AskSqlBody,
    response=ANSWER,
    slow=True,
    errors=(401, 422, 429),
)
def ask_sql(call: Call) -> dict[str, Any]:
    body: AskSqlBody = call.body  # type: ignore[assignment]
    return services.ask_sql(
        call.ctx, call.runtime.ask_engine, body.sql, params=body.params, question=body.question
    )


@API.add(
    "GET",
    "/ask/log",
    summary="Questions asked, newest first: your own (admins: everyone's, or one member's)",
    action="ask",
    tag=TAG,
    query=(
        s.param("user_id", {"type": "integer", "minimum": 1, "maximum": 2**53}, "one member"),
        s.param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "default 50"),
    ),
    response=s.list_of(LOGGED),
    errors=(401, 422),
)
def ask_log(call: Call) -> list[dict[str, Any]]:
    user_id = call.query_int("user_id", 0, low=1, high=2**53) if call.query.get("user_id") else None
    return services.ask_history(
        call.ctx, user_id=user_id, limit=call.query_int("limit", 50, low=1, high=500)
    )
