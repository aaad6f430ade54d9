"""A demo fund with its mail for the Ask tests, shared by a module (questions only add rows to
``ask_log``), with an admin and a member, and a Context per test whose settings point the
Claude path at pytest-httpserver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

import crm_lib
from crm_lib import services
from crm_lib.ask.engine import AskEngine
from crm_lib.clock import FixedClock
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.demo import load_demo_data, load_demo_email
from tests.conftest import DEMO_AS_OF, START


@pytest.fixture(scope="module")
def asked_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("asked") / "data"
    ctx = crm_lib.open_crm(data_dir, actor="system:test", clock=FixedClock(START))
    load_demo_data(ctx, investors=300, seed=11, as_of=DEMO_AS_OF)
    load_demo_email(ctx, 450, as_of=DEMO_AS_OF)
    services.create_user(ctx, "alice@fund.example", "Alice", "admin")
    services.create_user(ctx, "bob@fund.example", "Bob", "member")
    ctx.close()
    return data_dir


@pytest.fixture
def claude_settings(asked_dir: Path, httpserver: HTTPServer) -> Settings:
    """Settings with a key and the Messages API played by the stub on loopback."""
    return Settings(
        data_dir=asked_dir,
        anthropic_api_key="sk-test-not-a-real-key",
        anthropic_base_url=httpserver.url_for("").rstrip("/"),
        ask_timeout_s=2,
    )


@pytest.fixture
def engine(claude_settings: Settings) -> Iterator[AskEngine]:
    found = AskEngine(claude_settings)
    yield found
    found.close()


def _as(ctx: Context, email: str) -> Context:
    user = ctx.db.execute("SELECT id, email, role FROM users WHERE email = ?", [email]).fetchone()
    return ctx.as_user({"id": user[0], "email": user[1], "role": user[2]})


@pytest.fixture
def system(claude_settings: Settings) -> Iterator[Context]:
    ctx = crm_lib.open_crm(settings=claude_settings, actor="system:test", clock=FixedClock(START))
    yield ctx
    ctx.close()


@pytest.fixture
def alice(system: Context) -> Context:
    return _as(system, "alice@fund.example")


@pytest.fixture
def bob(system: Context) -> Context:
    return _as(system, "bob@fund.example")


@pytest.fixture
def offline(alice: Context) -> Context:
    """Alice with no ANTHROPIC_API_KEY: curated questions only."""
    return replace(alice, settings=replace(alice.settings, anthropic_api_key=""))
