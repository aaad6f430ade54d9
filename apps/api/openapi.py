"""/api/openapi.json, generated from the route table: paths, permissions, bodies (from the pydantic
models), responses and the error shape. Nothing is written by hand, so it cannot drift."""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import models_json_schema

from apps.api import schemas as s
from apps.api.registry import PUBLIC, Route, RouteTable
from crm_lib.auth.permissions import ACTIONS

ERROR_TEXT = {
    400: "Malformed request (e.g. the body is not JSON)",
    401: "Not logged in, or the session or token is no longer valid",
    403: "Logged in, but this needs another role (or the CSRF token is missing)",
    404: "No such record (or it is archived)",
    405: "Method not allowed",
    409: "Someone changed the record first; nothing was written",
    413: "Request body too large",
    415: "The body must be JSON (Content-Type: application/json)",
    422: "Invalid input; the detail names the field",
    429: "Too many requests; retry after Retry-After seconds",
    502: "A service outside the CRM (mail transport, Gmail, local model) failed; the detail"
    " says which and what to check",
    503: "The database cannot be used now (disk full, damaged file, held by another program);"
    " nothing was written",
}


def _error_statuses(route: Route) -> set[int]:
    statuses = set(route.errors) | {503}  # every route reads or writes the database
    if route.body is not None:
        statuses |= {400, 413, 415, 422}
    if route.method in ("POST", "PUT", "PATCH", "DELETE"):
        statuses |= {403, 429}
    if route.action is not PUBLIC:
        statuses |= {401, 403}
    if route.path_params:
        statuses |= {404, 422}  # 422: an id past the documented maximum
    if route.query:
        statuses |= {422}
    return statuses


def _operation(route: Route, body_refs: dict[type, dict[str, Any]]) -> dict[str, Any]:
    who = (
        "Public."
        if route.action is PUBLIC
        else "Roles: " + ", ".join(sorted(ACTIONS[route.action][0])) + "."
    )
    operation: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": f"{route.summary}. {who}",
        "tags": [route.tag],
        "parameters": [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
            }
            for name in route.path_params
        ]
        + [
            {
                "name": q.name,
                "in": "query",
                "required": q.required,
                "schema": q.schema,
                "description": q.description,
            }
            for q in route.query
        ],
        "responses": {},
    }
    if route.action is PUBLIC:
        operation["security"] = []
    if route.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_refs[route.body]}},
        }
    if route.status == 204:
        operation["responses"]["204"] = {"description": "Done"}
    else:
        schema = route.response if isinstance(route.response, dict) else {}
        content = {route.content_type: {"schema": schema}}
        for media_type in route.alternate_types:
            content[media_type] = {"schema": {"type": "string"}}
        operation["responses"][str(route.status)] = {"description": "OK", "content": content}
    for status in sorted(_error_statuses(route)):
        operation["responses"][str(status)] = {
            "description": ERROR_TEXT.get(status, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return operation


def openapi_document(table: RouteTable) -> dict[str, Any]:
    models = sorted({r.body for r in table.routes if r.body is not None}, key=lambda m: m.__name__)
    refs, definitions = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    body_refs = {m: refs[(m, "validation")] for m in models}
    paths: dict[str, dict[str, Any]] = {}
    for route in table.routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, body_refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Venture CRM API",
            "version": "1",
            "description": (
                "JSON API of Venture CRM. Authenticate with a personal API token "
                "(`Authorization: Bearer crm_...`, created under /api/me/tokens) or with the "
                "session cookie from POST /api/auth/login; cookie-authenticated writes need the "
                "`X-XSRFToken` header (value of the `_xsrf` cookie). Errors are "
                '`{"error": code, "detail": message, ...}`. Writes name the version they read '
                "(`expected_version`) and get 409 if someone changed the record first."
            ),
        },
        "servers": [{"url": "/api"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": paths,
        "components": {
            "schemas": {**definitions.get("$defs", {}), "Error": s.ERROR},
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "crm_session"},
            },
        },
    }
