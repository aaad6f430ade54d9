"""The one mapping from errors to the JSON error shape ``{"error": code, "detail": ...}``.

Library errors (:class:`~crm_lib.errors.CRMError`) carry their own code, status and data; anything
else is an HTTP-level refusal named by its status, or a 500 whose details go to the log only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import tornado.web

from crm_lib.errors import CRMError

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
}


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
        exc = exc_info[1] if isinstance(exc_info, tuple) else None
        if isinstance(exc, CRMError):
            self.set_status(exc.http_status)
        self.finish(json.dumps(error_body(self.get_status(), exc, self._reason), default=str))

    def log_exception(self, typ, value, tb):  # type: ignore[no-untyped-def]
        if isinstance(value, CRMError):
            log.info("%s %s: %s", self.request.method, self.request.path, value.message)
        else:
            super().log_exception(typ, value, tb)


class NotFoundHandler(JSONHandler):
    """Any other /api/... path: a JSON 404 instead of tornado's HTML page."""

    def prepare(self) -> None:
        self.send_json(
            {"error": "not_found", "detail": f"No API route {self.request.path}"}, status=404
        )
