"""Liveness and readiness probes.

``/healthz``: the process answers, and says how it sees the caller (the scheme and client address
after ``CRM_TRUSTED_PROXIES`` is applied), so an operator or ``crm doctor --url`` can tell whether
the proxy's forwarded headers arrive and are believed. ``/readyz``: the database opens, is at the schema this code
expects, and answers a query; otherwise 503 with the reason.
"""

from __future__ import annotations

from apps.api.errors import JSONHandler
from apps.runtime import Runtime
from crm_lib.errors import DatabaseError
from crm_lib.services import database_status


class HealthHandler(JSONHandler):
    def get(self) -> None:
        self.send_json(
            {"status": "ok", "scheme": self.request.protocol, "client": self.request.remote_ip}
        )


class ReadyHandler(JSONHandler):
    def initialize(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def get(self) -> None:
        with self.runtime.context("system:readyz") as ctx:
            status = database_status(ctx)
        if not status["ready"]:
            raise DatabaseError(status["detail"])
        self.send_json({"status": "ready", **status})


def routes(runtime: Runtime) -> list[tuple]:
    """Tornado routes for the probes."""
    return [
        (r"/healthz", HealthHandler),
        (r"/readyz", ReadyHandler, {"runtime": runtime}),
    ]
