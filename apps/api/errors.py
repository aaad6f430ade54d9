"""The one mapping from errors to the JSON error shape ``{"error": code, "detail": ...}``.

Library errors (:class:`~crm_lib.errors.CRMError`) carry their own code, status and data; errors
of the SQLite driver that the database's state explains (a full disk, a damaged file) become the
library's :class:`~crm_lib.errors.DatabaseError` (503) through
:func:`crm_lib.errors.database_failure`; anything else is an HTTP-level refusal named by its
status, or a 500 whose details go to the log only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import tornado.web

from crm_lib.errors import CRMError, database_failure

log = logging.getLogger(__name__)

#: Codes for HTTP-level statuses that no library error produced.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
    502: "external",
}


def as_library_error(exc: BaseException | None) -> BaseException | None:
    """``exc``, or the library error a SQLite driver error stands for (a full disk: 503)."""
    return (database_failure(exc) or exc) if exc is not None else None


def error_body(status: int, exc: BaseException | None, reason: str) -> dict[str, Any]:
    """The JSON body for an error response; never a traceback."""
    if isinstance(exc, CRMError):
        return exc.to_dict()
    if status >= 500:
        return {"error": "internal", "detail": "Internal server error; it has been logged"}
    return {"error": STATUS_CODES.get(status, "http_error"), "detail": reason}


class JSONHandler(tornado.web.RequestHandler):
    """Base for API handlers: JSON bodies, CRMError → its status and shape, no tracebacks."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def compute_etag(self) -> None:
        """No ETag: API answers are never cached (no-store), so hashing each body is waste."""
        return None

    def send_json(self, payload: object, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload, default=str))

    def write_error(self, status_code: int, **kwargs: object) -> None:
        exc_info = kwargs.get("exc_info")
        exc = as_library_error(exc_info[1] if isinstance(exc_info, tuple) else None)
        if isinstance(exc, CRMError):
            self.set_status(exc.http_status)
        self.finish(json.dumps(error_body(self.get_status(), exc, self._reason), default=str))

    def log_exception(self, typ, value, tb):  # type: ignore[no-untyped-def]
        if isinstance(value, CRMError):
            log.info("%s %s: %s", self.request.method, self.request.path, value.message)
        else:
            super().log_exception(typ, value, tb)


@tornado.web.stream_request_body
class NotFoundHandler(JSONHandler):
    """Any other /api/... path: a JSON 404 instead of tornado's HTML page.

    Streaming, so the 404 goes out as soon as the headers are in, whatever body follows (it is
    never read); no CSRF check, since nothing here ever acts (it would turn the 404 into a 403).
    """

    def check_xsrf_cookie(self) -> None:
        return None

    def data_received(self, chunk: bytes) -> None:
        return None

    def prepare(self) -> None:
        self.send_json(
            {"error": "not_found", "detail": f"No API route {self.request.path}"}, status=404
        )
