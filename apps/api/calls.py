"""What a route handler receives (:class:`Call`) and may return (:class:`Reply`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from apps.runtime import Runtime
from crm_lib.context import Context
from crm_lib.errors import ValidationError


@dataclass
class Reply:
    """A response other than "200 with this JSON": another status, headers, cookies, raw text."""

    payload: Any = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None  # sent as-is (CSV) instead of JSON
    body: bytes | None = None  # sent as-is (an XLSX workbook)
    set_session: str | None = None  # a new session token to put in the cookie
    clear_session: bool = False


@dataclass
class Call:
    """One API request, already authenticated and validated."""

    ctx: Context  # acting as the caller (role, user_id), on its own connection
    runtime: Runtime
    path_args: dict[str, int]
    query: dict[str, str]
    body: BaseModel | None
    ip: str
    user_agent: str
    session_token: str | None  # set when the caller used the session cookie
    session_id: int | None
    csrf_token: str = ""  # what a cookie-authenticated client sends as X-XSRFToken

    def arg(self, name: str) -> int:
        return self.path_args[name]

    def query_moment(self, name: str) -> datetime | None:
        """An ISO date or time query parameter (naive means UTC), None when absent, or a 422
        naming it."""
        text = self.query.get(name)
        if not text:
            return None
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                f"Query parameter {name!r} must be an ISO date or time, not {text[:40]!r}",
                field=name,
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def query_int(self, name: str, default: int, *, low: int, high: int) -> int:
        """An integer query parameter within [low, high], or a 422 naming it."""
        text = self.query.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise ValidationError(
                f"Query parameter {name!r} must be a whole number, not {text!r}", field=name
            ) from None
        if not low <= value <= high:
            raise ValidationError(
                f"Query parameter {name!r} must be between {low} and {high}", field=name
            )
        return value
