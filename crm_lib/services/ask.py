"""Ask in plain English, as every front end (the Ask page, the API, the CLI) calls it.

A question is answered one of two ways. A **curated** question (typed as offered, or picked by
its key) runs its reviewed SQL with typed parameters, with no model at all. Any other question
goes to **Claude** when ``ANTHROPIC_API_KEY`` is set: scrubbed of every known name, address,
phone number and amount first (:mod:`crm_lib.ask.scrub`), sent with the schema and the curated
examples only (:mod:`crm_lib.ask.claude`); the SQL that comes back names the placeholders as
parameters, bound here to the values they stand for, never spliced into the text. Edited SQL
(the page's editor, ``POST /api/ask/sql``, ``crm ask --sql``) runs through the same gate.

Whatever wrote the SQL, it passes the validator (:mod:`crm_lib.ask.validate`) and runs in the
locked-down DuckDB (:mod:`crm_lib.ask.execute`) over a snapshot as new as the database
(:class:`~crm_lib.ask.engine.AskEngine`). Every question, answered, refused or failed, is one
row of ``ask_log``: its asker's and the admins' to read, and an event of their activity feed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock_time
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any
from uuid import UUID

import nbformat

from crm_lib.ask import claude
from crm_lib.ask.claude import ModelError
from crm_lib.ask.curated import BY_KEY, CURATED, CuratedQuestion
from crm_lib.ask.engine import AskEngine
from crm_lib.ask.execute import Result, run
from crm_lib.ask.schema import describe_views, grid_vocabulary, schema_text
from crm_lib.ask.validate import MAX_ROWS, QueryRefused, ValidQuery, validate
from crm_lib.auth.permissions import require
from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.errors import CRMError, NotFound, ValidationError
from crm_lib.limits import check_text
from crm_lib.services.exports import csv_cell
from crm_lib.storage.reads import query_dicts
from crm_lib.storage.writes import write

__all__ = ["AskEngine"]  # the front ends hold one per process
MAX_PARAMETER_CHARS = 200
LOG = "ask_log"
#: How close a typed question must be to a curated one to be offered as "did you mean".
NEAR = 0.45
_SPACES = re.compile(r"[\s?.!]+")


@dataclass(frozen=True)
class Asked:
    """What one question is about to run: its SQL and values, and where they came from."""

    source: str  # curated | model | sql
    question: str
    sql: str
    values: dict[str, Any]
    explanation: str = ""
    curated: CuratedQuestion | None = None
    scrubbed: str | None = None
    model: str | None = None


def curated_questions(ctx: Context) -> list[dict[str, Any]]:
    """The curated questions with their parameters (kind, label, default): the page's
    autocomplete and ``GET /api/ask/questions``."""
    require(ctx, "ask")
    return [
        {
            "key": q.key,
            "question": q.question,
            "parameters": [
                {"name": p.name, "kind": p.kind, "label": p.label, "default": p.default}
                for p in q.parameters
            ],
            "opens_investors": q.opens_investors,
            "sql": q.sql,
        }
        for q in CURATED
    ]


def model_ready(ctx: Context) -> bool:
    """True when free-form questions can go to Claude (a key is set)."""
    return bool(ctx.settings.anthropic_api_key)


def ask(
    ctx: Context,
    engine: AskEngine,
    question: str,
    *,
    params: Mapping[str, Any] | None = None,
    key: str | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """Answer ``question`` (or the curated question ``key``) as a table; see the module doc.
    ``dry_run`` (free-form only) returns the scrubbed question and the exact request body
    Claude would get, and sends and runs nothing."""
    require(ctx, "ask")
    question = check_text(
        " ".join((question or "").split()), "question", field="question", label="Question"
    )
    curated = _curated(question, key)
    if curated is None and not question:
        raise ValidationError("Type a question, or pick one of the curated ones", field="question")
    started = time.perf_counter()
    if curated is not None:
        values = curated.values(dict(params or {}), today(ctx.clock))
        asked = Asked("curated", question or curated.question, curated.sql, values, curated=curated)
        return _answer(ctx, engine, asked, started)
    scrubbed = engine.matcher(ctx.db.conn).scrub(question)
    body = claude.request_body(scrubbed.text, _schema(ctx, engine), ctx.settings.anthropic_model)
    if dry_run:
        entry = {
            "source": "dry_run",
            "question": question,
            "scrubbed_question": scrubbed.text,
            "status": "dry_run",
            "model": ctx.settings.anthropic_model,
        }
        ask_id = _log(ctx, engine, entry, started)
        return {
            "ask_id": ask_id,
            "source": "dry_run",
            "question": question,
            "scrubbed_question": scrubbed.text,
            "placeholders": sorted(scrubbed.values),
            "request_body": body,
            "model_ready": model_ready(ctx),
        }
    if not model_ready(ctx):
        refusal = ValidationError(_no_model_message(question), field="question")
        _log_failure(
            ctx, engine, question, started, refusal, source="model", scrubbed=scrubbed.text
        )
        raise refusal
    try:
        found = claude.ask_claude(body, ctx.settings)
    except ModelError as exc:
        _log_failure(ctx, engine, question, started, exc, source="model", scrubbed=scrubbed.text)
        raise
    values = {**scrubbed.values, "TODAY": today(ctx.clock)}
    asked = Asked(
        "model",
        question,
        found.sql,
        values,
        explanation=found.explanation,
        scrubbed=scrubbed.text,
        model=found.model,
    )
    return _answer(ctx, engine, asked, started)


def ask_sql(
    ctx: Context,
    engine: AskEngine,
    sql: str,
    *,
    params: Mapping[str, Any] | None = None,
    question: str = "",
) -> dict[str, Any]:
    """Run edited SQL through the same validator and database; ``params`` are the values of
    its named parameters (an earlier answer's), ``$TODAY`` always the CRM's date."""
    require(ctx, "ask")
    question = check_text(
        " ".join((question or "").split()), "question", field="question", label="Question"
    )
    sql = check_text(sql or "", "sql", field="sql", label="SQL")
    values = {name: _parameter_value(name, value) for name, value in (params or {}).items()}
    values["TODAY"] = today(ctx.clock)
    asked = Asked("sql", question or "(edited SQL)", sql, values)
    return _answer(ctx, engine, asked, time.perf_counter())


def _curated(question: str, key: str | None) -> CuratedQuestion | None:
    if key:
        found = BY_KEY.get(key)
        if found is None:
            raise ValidationError(f"No curated question {key!r}", field="key")
        return found
    typed = _normal(question)
    return next((q for q in CURATED if _normal(q.question) == typed or q.key == question), None)


def _normal(text: str) -> str:
    return _SPACES.sub(" ", text.casefold()).strip()


def closest_questions(question: str, limit: int = 3) -> list[CuratedQuestion]:
    """The curated questions nearest to ``question`` in wording (for "did you mean")."""
    typed = _normal(question)
    scored = sorted(
        ((SequenceMatcher(None, typed, _normal(q.question)).ratio(), q) for q in CURATED),
        key=lambda pair: -pair[0],
    )
    return [q for score, q in scored[:limit] if score >= NEAR]


def _no_model_message(question: str) -> str:
    near = closest_questions(question)
    hint = f" Closest: “{near[0].question}”" if near else ""
    return (
        "That is not one of the curated questions, and free-form questions need Claude"
        f" (ANTHROPIC_API_KEY is not set).{hint}"
    )


def _schema(ctx: Context, engine: AskEngine) -> str:
    """The schema text Claude is shown (read from the views; see crm_lib.ask.schema), built
    once per change of the data."""

    def build() -> str:
        cursor = engine.cursor()
        try:
            views = describe_views(cursor)
        finally:
            cursor.close()
        return schema_text(views, grid_vocabulary(ctx.db.conn, engine.matcher(ctx.db.conn)))

    return engine.derived("schema", build)


def _parameter_value(name: str, value: Any) -> Any:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", name):
        raise ValidationError(f"{str(name)[:70]!r} is not a parameter name", field="params")
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= MAX_PARAMETER_CHARS:
        return value
    raise ValidationError(
        f"${name} must be text of at most {MAX_PARAMETER_CHARS} characters or a number",
        field="params",
    )


def _answer(ctx: Context, engine: AskEngine, asked: Asked, started: float) -> dict[str, Any]:
    """Validate, bind, run and log ``asked``; the answer as JSON-ready values."""
    try:
        query = validate(asked.sql)
        unknown = [p for p in query.parameters if p not in asked.values]
        if unknown:
            raise QueryRefused(
                "parameters",
                f"The SQL names ${unknown[0]}, which the question gave no value for",
            )
        cursor = engine.cursor()
        try:
            result = run(cursor, query, asked.values)
        finally:
            cursor.close()
    except CRMError as exc:
        _log_failure(ctx, engine, asked.question, started, exc, asked=asked)
        raise
    rows = [[_json_value(v) for v in row] for row in result.rows]
    investor_ids = _investor_ids(ctx, asked, query, result)
    params = {k: _json_value(v) for k, v in asked.values.items() if k in query.parameters}
    answer = {
        "source": asked.source,
        "question": asked.question,
        "curated_key": asked.curated.key if asked.curated else None,
        "scrubbed_question": asked.scrubbed,
        "model": asked.model,
        "sql": asked.sql,  # as written: the row limit is imposed again whenever it runs
        "params": params,
        "explanation": asked.explanation or _curated_explanation(asked),
        "columns": result.columns,
        "rows": rows,
        "row_count": len(rows),
        "truncated": len(rows) >= MAX_ROWS,
        "milliseconds": round(result.milliseconds, 1),
        "investor_ids": investor_ids,
    }
    answer["ask_id"] = _log(
        ctx,
        engine,
        {
            "source": asked.source,
            "curated_key": answer["curated_key"],
            "model": asked.model,
            "question": asked.question,
            "scrubbed_question": asked.scrubbed,
            "sql": asked.sql,
            "explanation": answer["explanation"],
            "status": "answered",
            "row_count": len(rows),
            "investor_ids": json.dumps(investor_ids) if investor_ids is not None else None,
        },
        started,
    )
    return answer


def _curated_explanation(asked: Asked) -> str:
    return f"Curated question: {asked.curated.question}" if asked.curated else ""


def _investor_ids(
    ctx: Context, asked: Asked, query: ValidQuery, result: Result
) -> list[int] | None:
    """The investors the rows are, when they are investors (an ``id`` column over the
    investors view, or ``investor_id``, all of them live investors): "Open in grid"."""
    if asked.curated is not None and not asked.curated.opens_investors:
        return None
    column = next(
        (
            c
            for c in ("id", "investor_id")
            if c in result.columns
            and (c == "investor_id" or "investors" in query.views or asked.curated is not None)
        ),
        None,
    )
    if column is None or not result.rows:
        return None
    at = result.columns.index(column)
    ids = list(dict.fromkeys(row[at] for row in result.rows))
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        return None
    live = {
        r[0]
        for r in ctx.db.execute(
            "SELECT id FROM fundraising_investors WHERE deleted_at IS NULL"
            " AND id IN (SELECT value FROM json_each(?))",
            [json.dumps(ids)],
        )
    }
    return ids if live == set(ids) else None


def _json_value(value: Any) -> Any:
    """A DuckDB value as JSON: dates and times as ISO text, decimals as numbers."""
    if isinstance(value, datetime | date | clock_time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


def _log(ctx: Context, engine: AskEngine, entry: Mapping[str, Any], started: float) -> int:
    """One ``ask_log`` row for a question (see the module doc), written through the engine's
    connection: logging a question does not make the next one take a new snapshot."""
    row = {
        "user_id": ctx.user_id,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        **entry,
    }

    def insert(logging: Context) -> int:
        with write(logging) as tx:
            return tx.insert(LOG, row)

    return engine.write(ctx, insert)


def _log_failure(
    ctx: Context,
    engine: AskEngine,
    question: str,
    started: float,
    exc: CRMError,
    *,
    asked: Asked | None = None,
    source: str = "sql",
    scrubbed: str | None = None,
) -> None:
    refused = isinstance(exc, QueryRefused)
    _log(
        ctx,
        engine,
        {
            "source": asked.source if asked else source,
            "curated_key": asked.curated.key if asked and asked.curated else None,
            "model": asked.model if asked else ctx.settings.anthropic_model,
            "question": question,
            "scrubbed_question": asked.scrubbed if asked else scrubbed,
            "sql": asked.sql if asked else None,
            "explanation": asked.explanation if asked else None,
            "status": "refused" if refused else "failed",
            "rule": exc.rule if refused else None,
            "error": exc.message[:500],
        },
        started,
    )


def ask_history(
    ctx: Context, *, user_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Questions asked, newest first: a member sees their own, an admin everyone's (or one
    member's with ``user_id``)."""
    require(ctx, "ask")
    if not 1 <= limit <= 500:
        raise ValidationError("limit must be between 1 and 500", field="limit")
    where, values = ["l.deleted_at IS NULL"], []
    if ctx.role == "member":
        if user_id is not None and user_id != ctx.user_id:
            raise ValidationError("Members see only their own questions", field="user_id")
        user_id = ctx.user_id
    if user_id is not None:
        where.append("l.user_id = ?")
        values.append(user_id)
    rows = query_dicts(
        ctx.db,
        "SELECT l.id, l.user_id, coalesce(nullif(u.name, ''), u.email, l.created_by) AS asked_by,"
        " l.source, l.curated_key, l.model, l.question, l.scrubbed_question, l.sql,"
        " l.explanation, l.status, l.rule, l.error, l.row_count, l.duration_ms,"
        " l.investor_ids IS NOT NULL AS opens_investors, l.created_at"
        f" FROM {LOG} l LEFT JOIN users u ON u.id = l.user_id WHERE {' AND '.join(where)}"
        " ORDER BY l.created_at DESC, l.id DESC LIMIT ?",
        [*values, limit],
    )
    for row in rows:
        row["opens_investors"] = bool(row["opens_investors"])
    return rows


def asked_investor_ids(ctx: Context, ask_id: int) -> list[int]:
    """The investors an answer listed ("Open in grid"), if the asker (or an admin) asks."""
    require(ctx, "ask")
    row = ctx.db.execute(
        f"SELECT user_id, investor_ids FROM {LOG} WHERE id = ? AND deleted_at IS NULL", [ask_id]
    ).fetchone()
    if row is None or (ctx.role == "member" and row[0] != ctx.user_id):
        raise NotFound("question", ask_id)
    if row[1] is None:
        raise ValidationError("That answer's rows are not investors", field="ask_id")
    return [int(i) for i in json.loads(row[1])]


def answer_csv(answer: Mapping[str, Any]) -> str:
    """An answer's table as CSV (text a spreadsheet would run as a formula is defused)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(c) for c in answer["columns"]])
    for row in answer["rows"]:
        writer.writerow([csv_cell(_csv_value(v)) for v in row])
    return out.getvalue()


def _csv_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def answer_notebook(ctx: Context, answer: Mapping[str, Any]) -> Path:
    """Write the answer as an analyst notebook (its SQL in a DuckDB cell, its values bound as
    parameters) under the notebooks folder; returns the file's path."""
    require(ctx, "ask")
    folder = ctx.settings.notebooks_dir
    folder.mkdir(parents=True, exist_ok=True)
    stamp = ctx.clock.now().strftime("%Y%m%d-%H%M%S")
    path = folder / f"ask-{stamp}-{int(answer.get('ask_id') or 0)}.ipynb"
    nbformat.write(notebook(answer), path)
    return path


def notebook(answer: Mapping[str, Any]) -> nbformat.NotebookNode:
    """The notebook of an answer (see :func:`answer_notebook`)."""
    v4 = nbformat.v4
    params = {k: v for k, v in (answer.get("params") or {}).items() if k != "TODAY"}
    uses_today = "TODAY" in (answer.get("params") or {})
    heading = "\n".join(
        [
            f"# {_markdown_line(answer.get('question') or 'A question')}",
            "",
            _markdown_line(answer.get("explanation") or ""),
            "",
            "Re-run it against today's data: `connect()` takes a fresh snapshot of the CRM.",
        ]
    )
    setup = "from datetime import date\n\nfrom crm_lib.analytics import connect\n\ncon = connect()"
    values = f"params = {params!r}" + ("\nparams['TODAY'] = date.today()" if uses_today else "")
    text = str(answer["sql"])
    literal = f'"""\n{text}\n"""' if '"""' not in text and "\\" not in text else repr(text)
    query = f"sql = {literal}\ncon.execute(sql, params).df()"
    return v4.new_notebook(
        cells=[
            v4.new_markdown_cell(heading),
            v4.new_code_cell(setup),
            v4.new_code_cell(values),
            v4.new_code_cell(query),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def _markdown_line(text: str) -> str:
    """Text as one Markdown line that renders as itself (a question is not markup)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|])", r"\\\1", " ".join(str(text).split()))
