"""Playwright driving Debian's Chromium (flags from ../shared/notes/panel.md §5)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

import crm_lib
from crm_lib import services
from crm_lib.config import Settings

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    opened = context.new_page()
    yield opened
    context.close()


#: How Chromium reports a request the browser dropped itself: a navigation or a reload cancels the
#: stylesheets, scripts and fetches still loading for the page it leaves. Nothing failed.
NAVIGATION_ABORT = "net::ERR_ABORTED"


def page_errors(page: Page) -> list[str]:
    """What goes wrong in ``page`` from now on, as a list that fills as it happens: console
    errors, HTTP answers of 400 and above, and requests that failed on the network.

    Requests the browser aborted because the page navigated (``net::ERR_ABORTED``) are left
    out: under load a reload catches a stylesheet in flight, and counting that made the grid's
    tests fail at random although nothing was wrong. A missing or broken file still counts,
    as its HTTP status (and the console error Chromium logs for it)."""
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console error: {message.text}")

    def answered(response: Response) -> None:
        if response.status >= 400:
            errors.append(f"HTTP {response.status}: {response.request.method} {response.url}")

    def failed(request: Request) -> None:
        failure = request.failure or ""
        if NAVIGATION_ABORT not in failure:
            errors.append(f"request failed ({failure}): {request.method} {request.url}")

    page.on("console", console)
    page.on("response", answered)
    page.on("requestfailed", failed)
    return errors


ADMIN_EMAIL = "alice@fund.example"
PASSWORD = "tangerine orbit mosaic"


@pytest.fixture
def demo_with_admin(demo_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the demo fund with an admin who can log in (the shared copy stays as is)."""
    data_dir = tmp_path / "data"
    shutil.copytree(demo_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    link = services.invite_user(ctx, ADMIN_EMAIL, "admin")
    services.accept_link(ctx, link.token, name="Alice", password=PASSWORD)
    ctx.close()
    return data_dir


def log_in(page: Page, base: str, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> None:
    """Through the login form, as a person would."""
    page.goto(f"{base}/")
    page.wait_for_url("**/login?next=%2F")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


BOB = "bob@fund.example"


@pytest.fixture
def team_data(demo_with_admin: Path) -> Path:
    """The demo fund with Alice (admin) and Bob (member)."""
    settings = Settings(data_dir=demo_with_admin, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    link = services.invite_user(ctx, BOB, "member")
    services.accept_link(ctx, link.token, name="Bob", password=PASSWORD)
    ctx.close()
    return demo_with_admin
