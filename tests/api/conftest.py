"""A live server on loopback with an admin and a member (and their API tokens), for API tests."""

from __future__ import annotations

import asyncio
import secrets
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import tornado.web
from argon2 import profiles
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

import crm_lib
from apps.api import server as api_server
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.server import free_port, running

PASSWORD = "tangerine orbit mosaic"
SECRET_KEY = secrets.token_urlsafe(48)


@dataclass
class LiveServer:
    base: str
    data_dir: Path
    admin_token: str
    member_token: str
    admin_email: str = "alice@fund.example"
    member_email: str = "bob@fund.example"

    def bearer(self, role: str | None) -> dict[str, str]:
        if role is None:
            return {}
        token = self.admin_token if role == "admin" else self.member_token
        return {"Authorization": f"Bearer {token}"}

    def login(self, email: str | None = None, password: str = PASSWORD) -> requests.Session:
        """A browser-like session: logged in through the HTML form, with its XSRF cookie."""
        session = requests.Session()
        response = post_login(session, self.base, email or self.member_email, password)
        assert response.status_code == 302, response.text
        return session


def post_login(
    session: requests.Session, base: str, email: str, password: str, next_path: str = "/"
) -> requests.Response:
    """Fill in and submit the login form (fetching it first for its XSRF cookie)."""
    if "_xsrf" not in session.cookies:
        session.get(f"{base}/login")
    return session.post(
        f"{base}/login",
        data={
            "email": email,
            "password": password,
            "_xsrf": session.cookies["_xsrf"],
            "next": next_path,
        },
        allow_redirects=False,
    )


def set_password_through_link(url: str, password: str, name: str = "") -> requests.Session:
    """Open a one-time link (invite or reset) and submit its form, as a person would."""
    browser = requests.Session()
    page = browser.get(url)
    assert page.status_code == 200, page.text
    form = {"_xsrf": browser.cookies["_xsrf"], "password": password, "confirm": password}
    if name:
        form["name"] = name
    done = browser.post(page.url, data=form, allow_redirects=False)
    assert done.status_code == 302, done.text
    return browser


def invited(live: LiveServer, email: str, role: str, name: str) -> tuple[requests.Session, int]:
    """A new team member invited by the admin who has set a password through the link: their
    logged-in browser session and their user id."""
    admin = requests.Session()
    admin.headers.update(live.bearer("admin"))
    invite = admin.post(f"{live.base}/api/invites", json={"email": email, "role": role}).json()
    browser = set_password_through_link(invite["url"], PASSWORD, name=name)
    return browser, browser.get(f"{live.base}/api/me").json()["user"]["id"]


def seed_accounts(data_dir: Path) -> tuple[str, str]:
    """An admin (via the setup link) and a member (via an invite), each with an API token."""
    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        setup = services.create_setup_link(ctx)
        alice = services.accept_link(
            ctx, setup.token, email="alice@fund.example", name="Alice", password=PASSWORD
        )
        invite = services.invite_user(ctx, "bob@fund.example", "member")
        bob = services.accept_link(ctx, invite.token, name="Bob", password=PASSWORD)
        admin_token = services.create_api_token(ctx.as_user(alice), "tests")["token"]
        member_token = services.create_api_token(ctx.as_user(bob), "tests")["token"]
        services.create_fund(ctx, {"name": "Fund I", "vintage_year": 2024})
        services.create_investor(ctx, {"name": "Acme Family Office"})
    finally:
        ctx.close()
    return admin_token, member_token


def start(tmp: Path, **env: str) -> Iterator[LiveServer]:
    data_dir = tmp / "data"
    admin_token, member_token = seed_accounts(data_dir)
    port = free_port()
    extra = {"CRM_SECRET_KEY": SECRET_KEY, **env}
    with running(
        [sys.executable, "-m", "apps.serve", "--port", str(port)], data_dir, port, extra_env=extra
    ) as base:
        yield LiveServer(base, data_dir, admin_token, member_token)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Rate limits set high: these tests make many writes quickly."""
    yield from start(tmp_path_factory.mktemp("live"), CRM_WRITE_RATE_PER_MINUTE="100000")


@pytest.fixture
def strict(tmp_path: Path) -> Iterator[LiveServer]:
    """A server of its own with tight limits, for back-off, rate-limit and CORS tests."""
    yield from start(
        tmp_path,
        CRM_LOGIN_MAX_FAILURES="2",
        CRM_WRITE_RATE_PER_MINUTE="60",
        CRM_MAX_BODY_KB="4",
        CRM_CORS_ORIGIN="https://app.fund.example",
    )


def session_for(live: LiveServer, role: str = "member") -> requests.Session:
    """A script's session: the role's API token on every request."""
    session = requests.Session()
    session.headers.update(live.bearer(role))
    return session


@dataclass
class InProcessAPI:
    """The API served in this process: its URL, the member's token, its loop and runtime."""

    base: str
    token: str
    loop: IOLoop
    runtime: Runtime
    settings: Settings

    def on_server_connection(self, sql: str) -> None:
        """Run ``sql`` on the connection the server's loop thread writes with."""
        done: Future[None] = Future()

        def run() -> None:
            try:
                with self.runtime.context() as ctx:
                    ctx.db.execute(sql).fetchall()
                done.set_result(None)
            except Exception as exc:  # handed to the test thread, which raises it
                done.set_exception(exc)

        self.loop.add_callback(run)
        done.result(timeout=10)


@pytest.fixture
def in_process_api(tmp_path: Path) -> Iterator[InProcessAPI]:
    """The REST API served by a tornado loop on a thread of this process (on loopback, as
    served), so that a test can act on the very connections and locks the server uses."""
    data_dir = tmp_path / "data"
    _, member_token = seed_accounts(data_dir)
    settings = Settings(
        data_dir=data_dir, password_hashing=profiles.CHEAPEST, write_rate_per_minute=100_000
    )
    runtime = Runtime(settings, secret_key=SECRET_KEY)
    application = tornado.web.Application(
        api_server.routes(runtime), cookie_secret=SECRET_KEY, xsrf_cookies=True
    )
    port = free_port()
    ready: Future[tuple[IOLoop, HTTPServer]] = Future()

    def serve() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        server = HTTPServer(application)
        server.listen(port, "127.0.0.1")
        ready.set_result((loop, server))
        loop.start()
        loop.close()

    thread = threading.Thread(target=serve, name="in-process-api")
    thread.start()
    loop, server = ready.result(timeout=10)
    try:
        yield InProcessAPI(f"http://127.0.0.1:{port}", member_token, loop, runtime, settings)
    finally:
        loop.add_callback(server.stop)
        loop.add_callback(loop.stop)
        thread.join(timeout=10)
        runtime.connections.close_all()
