"""schemathesis against /api/openapi.json on a live server: for every operation, generated valid
and invalid requests never get a 5xx, invalid ones are refused, and every response matches the
documented schema, status codes, headers and content type. One test per operation, from our own
route table.

One check is left out: "schema-valid data must be accepted". Grid values are validated by each
field's type and options (a name is required, a date must be a date, a select value one of the
choices), which a JSON Schema of ``{"fields": {...}}`` cannot express, so a 422 there is correct.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

import apps.api.routes  # noqa: F401  (registers the routes)
from apps.api.registry import API, Route
from tests.api.conftest import LiveServer, start

#: Revoking the fuzzer's own token would turn every later call into a 401; tests/api covers it.
SKIP = {("DELETE", "/me/tokens/{token_id}")}
EXAMPLES = 20


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from start(tmp_path_factory.mktemp("fuzz"), CRM_WRITE_RATE_PER_MINUTE="1000000")


@pytest.fixture(scope="module")
def api_schema(fuzz_server: LiveServer):
    schema = schemathesis.openapi.from_url(f"{fuzz_server.base}/api/openapi.json", timeout=10)
    schema.config.update(base_url=f"{fuzz_server.base}/api", headers=fuzz_server.bearer("admin"))
    return schema


def modes(route: Route) -> list[GenerationMode]:
    """Invalid requests exist only where the request has inputs (body, path or query)."""
    has_inputs = route.body is not None or route.path_params or route.query
    return [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if has_inputs else [])]


ROUTES = [
    pytest.param(route, mode, id=f"{route.method} {route.path} {mode.value}")
    for route in API.routes
    if (route.method, route.path) not in SKIP
    for mode in modes(route)
]


@pytest.mark.slow
@pytest.mark.parametrize(("route", "mode"), ROUTES)
def test_operation_never_fails_and_matches_its_schema(
    api_schema, route: Route, mode: GenerationMode, tmp_path: Path
) -> None:
    operation = api_schema[route.path][route.method]

    @given(case=operation.as_strategy(generation_mode=mode))
    # derandomize: CI sees the same examples every run (a failure reproduces by rerunning);
    # raise EXAMPLES locally to explore further.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def check(case) -> None:
        case.call_and_validate(timeout=30, excluded_checks=[positive_data_acceptance])

    check()
