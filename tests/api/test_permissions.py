"""Every API route, walked as anonymous, member and admin: the status each gets.

The route table drives the walk, so a new route is covered the day it is added. Each call sends an
empty JSON body and ids that do not exist, so an allowed call ends in 422 (body checked), 404 (no
such id) or its success status: never 401/403, and never a 5xx.
"""

from __future__ import annotations

import pydantic
import pytest
import requests

import apps.api.routes  # noqa: F401  (registers the routes)
from apps.api.registry import API, PUBLIC, Route
from crm_lib.auth.permissions import allowed
from tests.api.conftest import LiveServer

MISSING_ID = 987654321
ROLES = (None, "member", "admin")


def expected_status(route: Route, role: str | None) -> int:
    if route.action is not PUBLIC:
        if role is None:
            return 401
        if not allowed(role, route.action):
            return 403
    if route.body is not None and not accepts_empty_body(route):
        return 422
    if route.path_params:
        return 404
    if any(q.required for q in route.query):
        return 422  # called without its required query parameter
    if 502 in route.errors:
        return 502  # it reaches an outside service (a mail transport) this server has none of
    return route.status


def accepts_empty_body(route: Route) -> bool:
    try:
        route.body.model_validate({})  # type: ignore[union-attr]
    except pydantic.ValidationError:
        return False
    return True


def call(live: LiveServer, route: Route, role: str | None) -> requests.Response:
    path = route.path
    for name in route.path_params:
        path = path.replace(f"{{{name}}}", str(MISSING_ID))
    return requests.request(
        route.method, f"{live.base}/api{path}", json={}, headers=live.bearer(role), timeout=30
    )


CASES = [
    pytest.param(route, role, id=f"{route.method} {route.path} as {role or 'anonymous'}")
    for route in API.routes
    # logging out and listing are fine to repeat; nothing here changes the seeded accounts
    for role in ROLES
]


@pytest.mark.parametrize(("route", "role"), CASES)
def test_route_answers_each_role_as_its_permission_says(
    live: LiveServer, route: Route, role: str | None
) -> None:
    response = call(live, route, role)
    assert response.status_code == expected_status(route, role), response.text
    if response.status_code >= 400:
        body = response.json()
        assert set(body) >= {"error", "detail"} and "Traceback" not in response.text


def test_the_matrix_covers_admin_only_routes() -> None:
    admin_only = [r for r in API.routes if r.action and not allowed("member", r.action)]
    assert {r.path for r in admin_only} >= {"/users", "/invites", "/security/status"}
