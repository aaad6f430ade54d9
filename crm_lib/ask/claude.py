"""The free-form path: Claude writes the SQL of a question it has only seen scrubbed.

The request holds the scrubbed question, the schema of the allowed views and the curated
questions as examples; nothing else (no rows, no values, no notes, no mail). Claude must answer
by calling the one tool, :data:`TOOL_NAME`, with the SQL and a one-line explanation (forced by
``tool_choice``): free text is never executed, and an answer without the tool call, or with a
malformed one, is reported as such. The request body built here is exactly what is sent, which
is what ``--dry-run`` and the page's "Show what would be sent" print.

The SDK is imported only when a question is sent (the digest's processes must never load a
cloud model's client: tests/digest/test_privacy.py). It is told the key and the address
explicitly (it reads no profile or credentials file), retries once on a dropped connection or
an overloaded API, and gives up after the setting's timeout. Neither the key nor the question
is ever logged.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm_lib.ask.curated import CURATED
from crm_lib.config import Settings
from crm_lib.errors import ExternalServiceError

if TYPE_CHECKING:
    import anthropic

TOOL_NAME = "answer_with_sql"
MAX_TOKENS = 2048
MAX_SQL_CHARS = 20_000
MAX_EXPLANATION_CHARS = 300
TOOL = {
    "name": TOOL_NAME,
    "description": (
        "Answer the question with one DuckDB SELECT over the views, and say in one line what it"
        " returns."
    ),
    "input_schema": {
        "type": "object",
        "properties": {
            "sql": {
                "type": "string",
                "description": "One read-only DuckDB SELECT (CTEs allowed) over the views only.",
            },
            "explanation": {
                "type": "string",
                "description": "One plain-English line on what the rows are.",
            },
        },
        "required": ["sql", "explanation"],
        "additionalProperties": False,
    },
}
RULES = """You write DuckDB SQL for a venture fund's CRM. Answer only by calling the tool.
- One SELECT (WITH allowed) over these views only; no other tables, no table functions, no files.
- Placeholders such as INVESTOR_1, PERSON_1, EMAIL_1, DOMAIN_1, PHONE_1, AMOUNT_1 stand for values
  the question named; use them as named parameters ($INVESTOR_1), never as literal text.
  Compare names case-insensitively: lower(i.name) = lower($INVESTOR_1).
- $TODAY is today's date (DATE). Use it for "this week", "last 30 days", and so on.
- Return ids and names (investors.id AS id, investors.name) when the rows are investors.
- Keep it under 1000 rows; order the rows usefully.
- If the question cannot be answered from these views, still call the tool with a SELECT that
  returns what comes closest, and say so in the explanation."""


class ModelError(ExternalServiceError):
    """Claude could not answer: not configured, unreachable, too slow, declined, or malformed
    (``kind`` says which)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__("claude", message)
        self.kind = kind

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "kind": self.kind}


@dataclass(frozen=True)
class ModelAnswer:
    sql: str
    explanation: str
    model: str


def request_body(scrubbed_question: str, schema: str, model: str) -> dict[str, Any]:
    """The Messages API request for ``scrubbed_question`` (see module doc)."""
    examples = "\n\n".join(f"Q: {question.question}\nSQL: {question.sql}" for question in CURATED)
    system = f"{RULES}\n\nSCHEMA\n{schema}\n\nEXAMPLES (reviewed)\n{examples}"
    return {
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": system,
        "tools": [TOOL],
        "tool_choice": {"type": "tool", "name": TOOL_NAME},
        "messages": [{"role": "user", "content": scrubbed_question}],
    }


def ask_claude(body: dict[str, Any], settings: Settings) -> ModelAnswer:
    """Send ``body`` and return the tool call's SQL and explanation, or :class:`ModelError`."""
    if not settings.anthropic_api_key:
        raise ModelError(
            "not_configured",
            "Free-form questions need ANTHROPIC_API_KEY; the curated questions work without it",
        )
    import anthropic  # here, not at import: only this path may load a cloud model's client

    client = _client(
        settings.anthropic_api_key, settings.anthropic_base_url, float(settings.ask_timeout_s)
    )
    try:
        message = client.messages.create(**body)
    except anthropic.APITimeoutError:
        raise ModelError(
            "timeout", f"Claude did not answer within {settings.ask_timeout_s} s; try again"
        ) from None
    except anthropic.APIConnectionError:
        raise ModelError(
            "unreachable", f"Could not reach the Claude API at {settings.anthropic_base_url}"
        ) from None
    except anthropic.AuthenticationError:
        raise ModelError("rejected_key", "The Claude API refused ANTHROPIC_API_KEY") from None
    except anthropic.APIStatusError as exc:
        raise ModelError(
            "api_error", f"The Claude API answered {exc.status_code}: {_api_message(exc)}"
        ) from None
    return _answer(message, body["model"])


@functools.lru_cache(maxsize=4)
def _client(api_key: str, base_url: str, timeout: float) -> anthropic.Anthropic:
    """One client per key and address, kept: its connection pool and TLS context are reused
    (a new client per question cost tens of milliseconds). Thread-safe, as its HTTP client is."""
    import anthropic

    return anthropic.Anthropic(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=1)


def _api_message(exc: anthropic.APIStatusError) -> str:
    """The API's own one-line message (its JSON error body), without the request echoed."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    text = str(error.get("message") or exc.message or "error")
    return " ".join(text.split())[:200]


def _answer(message: Any, model: str) -> ModelAnswer:
    if getattr(message, "stop_reason", None) == "refusal":
        raise ModelError("refused", "Claude declined to answer this question")
    calls = [
        block
        for block in getattr(message, "content", None) or []
        if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == TOOL_NAME
    ]
    if not calls:
        raise ModelError(
            "no_sql", "Claude answered without SQL; rephrase the question or pick a curated one"
        )
    given = calls[0].input
    if isinstance(given, str):  # some gateways pass the arguments through as JSON text
        try:
            given = json.loads(given)
        except ValueError:
            given = None
    sql = given.get("sql") if isinstance(given, dict) else None
    explanation = given.get("explanation", "") if isinstance(given, dict) else ""
    if not isinstance(sql, str) or not sql.strip() or len(sql) > MAX_SQL_CHARS:
        raise ModelError("malformed", "Claude's answer had no usable SQL; try again")
    if not isinstance(explanation, str):
        explanation = ""
    explanation = " ".join(explanation.split())[:MAX_EXPLANATION_CHARS]
    return ModelAnswer(sql.strip(), explanation, str(getattr(message, "model", "") or model))
