"""The REST API's one route table: each route's method, path, permission, body model, response
schema and handler function. The tornado dispatch, the OpenAPI document and the permission-matrix
test are all generated from it, so they cannot drift apart.

Handlers are plain functions ``fn(call) -> payload | Reply`` that turn an HTTP call into one or two
service calls; they hold no SQL and no business rules (permissions included: ``action`` names an
entry of :data:`crm_lib.auth.permissions.ACTIONS`, and the services check again).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from apps.api.calls import Call

Handler = Callable[["Call"], Any]
JSONSchema = dict[str, Any]
PUBLIC = None


@dataclass(frozen=True)
class QueryParam:
    """A query-string parameter, for parsing and for the OpenAPI document."""

    name: str
    schema: JSONSchema
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI form under /api, e.g. "/fundraising/investors/{investor_id}"
    handler: Handler
    summary: str
    action: str | None  # permission needed; None: public (no login)
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | JSONSchema | None = None
    status: int = 200
    query: tuple[QueryParam, ...] = ()
    errors: tuple[int, ...] = ()  # statuses beyond the common ones this route can answer
    content_type: str = "application/json"
    #: other media types the success response may have (their body is text), e.g. text/csv
    alternate_types: tuple[str, ...] = ()
    #: a read that can take long (whole-grid state, exports): run off the event loop
    slow: bool = False
    #: a page of a list or view: milliseconds once its order is remembered (answered on the
    #: loop), but the first read of a new filter scans every investor (seconds at a million), so
    #: that read runs on a read thread (apps.runtime.READ_WORK), never on the loop
    page: bool = False

    @property
    def operation_id(self) -> str:
        return self.handler.__name__

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def pattern(self) -> str:
        """The tornado URL pattern: ``{x_id}`` becomes a group of digits (any number of them:
        the handler refuses ids past the documented maximum with a 422 naming the parameter)."""
        return "/api" + re.sub(r"{\w+}", r"([0-9]+)", self.path) + "/?"


@dataclass
class RouteTable:
    routes: list[Route] = field(default_factory=list)

    def add(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        action: str | None,
        tag: str,
        **options: Any,
    ) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            self.routes.append(
                Route(method, path, fn, summary, action, tag, **options)  # type: ignore[arg-type]
            )
            return fn

        return decorate

    def by_path(self) -> dict[str, dict[str, Route]]:
        """path -> {method: route}: one tornado handler per path."""
        grouped: dict[str, dict[str, Route]] = {}
        for route in self.routes:
            grouped.setdefault(route.path, {})[route.method] = route
        return grouped


#: Every API route; modules in apps/api/routes/ add to it when imported.
API = RouteTable()
