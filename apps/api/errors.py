"""The one mapping from library errors to the JSON error shape ``{"error": code, "detail": ...}``."""

from __future__ import annotations

import json
import logging

import tornado.web

from crm_lib.errors import CRMError

log = logging.getLogger(__name__)


class JSONHandler(tornado.web.RequestHandler):
    """Base for API handlers: JSON bodies, CRMError → its status and shape, no tracebacks."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def send_json(self, payload: object, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload, default=str))

    def write_error(self, status_code: int, **kwargs: object) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if isinstance(exc_info, tuple) else None
        if isinstance(exc, CRMError):
            self.set_status(exc.http_status)
            self.finish(json.dumps(exc.to_dict(), default=str))
            return
        reason = self._reason if status_code < 500 else "Internal server error"
        self.finish(json.dumps({"error": "http_error", "detail": reason}))

    def log_exception(self, typ, value, tb):  # type: ignore[no-untyped-def]
        if isinstance(value, CRMError):
            log.info("%s %s: %s", self.request.method, self.request.path, value.message)
        else:
            super().log_exception(typ, value, tb)
