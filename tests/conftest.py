"""Shared fixtures: real, migrated SQLite files in tmp_path, a fixed clock, small builders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Browser, sync_playwright

import crm_lib
from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.demo import load_demo_data
from crm_lib.events import EventBus

#: Tests and the servers they start talk to loopback only: a Claude key or address in the
#: shell that runs the suite must never reach the Messages API (tests/ask plays it locally).
for _name in [name for name in os.environ if name.startswith("ANTHROPIC_")]:
    del os.environ[_name]

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
DEMO_AS_OF = date(2026, 11, 25)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # argon2's cheapest profile keeps password tests fast; tests/auth checks the real default.
    return Settings(data_dir=tmp_path / "data", password_hashing=profiles.CHEAPEST)


@pytest.fixture
def events() -> EventBus:
    return EventBus()


@pytest.fixture
def ctx(settings: Settings, clock: FixedClock, events: EventBus) -> Iterator[Context]:
    """Alice's context on a fresh, migrated database."""
    context = crm_lib.open_crm(
        settings=settings, clock=clock, actor="alice@fund.example", events=events
    )
    yield context
    context.close()


@pytest.fixture
def bob(ctx: Context, settings: Settings, clock: FixedClock, events: EventBus) -> Iterator[Context]:
    """Bob's context: a second connection to Alice's database (another browser session)."""
    context = crm_lib.open_crm(
        settings=settings, clock=clock, actor="bob@fund.example", events=events
    )
    yield context
    context.close()


@pytest.fixture
def fund(ctx: Context) -> dict:
    return services.create_fund(
        ctx, {"name": "Fund III", "vintage_year": 2025, "target_size": 350e6}
    )


def make_investors(ctx: Context, names: list[str], **values: object) -> list[dict]:
    """Create investors with the given names through the normal write path."""
    return [services.create_investor(ctx, {"name": name, **values}) for name in names]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding a small demo fund (read-only use: tests must not modify it)."""
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    context = crm_lib.open_crm(data_dir, actor="system:demo", clock=FixedClock(START))
    load_demo_data(context, investors=300, seed=11, as_of=DEMO_AS_OF)
    context.close()
    return data_dir


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright (flags in tests/browser/conftest.py), one per test
    process: Playwright's sync API allows one instance per thread, so every directory that
    drives a browser (tests/browser, tests/deploy) shares this one."""
    from tests.browser.conftest import CHROMIUM, FLAGS

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()
