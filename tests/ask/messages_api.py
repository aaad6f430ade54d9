"""What the Messages API answers, as the stubs of the Ask tests play it (pytest-httpserver)."""

from __future__ import annotations

from typing import Any

from crm_lib.ask.claude import TOOL_NAME


def tool_answer(sql: Any, explanation: Any = "What you asked for.", **extra: Any) -> dict:
    """A message whose one content block calls the SQL tool with ``sql`` (None: no sql key)."""
    given = {"sql": sql, "explanation": explanation} if sql is not None else {"explanation": "x"}
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-5",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": TOOL_NAME, "input": given}],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 900, "output_tokens": 60},
        **extra,
    }
