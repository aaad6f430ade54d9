"""A full disk during a write: 503 ``{"error": "disk_full"}`` and nothing half-written.

The disk fills for real as far as SQLite is concerned: the server's connection gets
``PRAGMA max_page_count`` at the database's current size, so the engine itself answers
SQLITE_FULL ("database or disk is full") when a write needs another page, exactly as it does when
the file system has no room left. The API runs in this process (on loopback, as served) so that
the test can set the limit on the very connection that writes.
"""

from __future__ import annotations

import asyncio
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
from tests.api.conftest import SECRET_KEY, seed_accounts
from tests.apps.server import free_port

NOTES = "a note that needs pages of its own " * 2_000  # about 70 KB


@dataclass
class InProcessAPI:
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
def api(tmp_path: Path) -> Iterator[InProcessAPI]:
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


def counts(settings: Settings) -> tuple[int, int, int]:
    """Investors, audit rows and the grid's version, read on a connection of our own."""
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        return (
            services.list_investors(ctx, page_size=1000).total,
            ctx.db.execute("SELECT count(*) FROM audit_log").fetchone()[0],
            services.grid_state(ctx)["version"],
        )
    finally:
        ctx.close()


def test_a_full_disk_answers_503_disk_full_and_writes_nothing(api: InProcessAPI) -> None:
    headers = {"Authorization": f"Bearer {api.token}"}
    url = f"{api.base}/api/fundraising/investors"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200  # connection open
    before = counts(api.settings)
    api.on_server_connection("PRAGMA max_page_count = 1")  # clamps to the current size

    full = requests.post(
        url, json={"fields": {"name": "Disk Full LP", "notes": NOTES}}, headers=headers, timeout=10
    )
    assert full.status_code == 503, full.text
    error = full.json()
    assert error["error"] == "disk_full" and "nothing was saved" in error["detail"]
    assert counts(api.settings) == before
    assert requests.get(url, headers=headers, timeout=10).status_code == 200  # reads go on

    api.on_server_connection("PRAGMA max_page_count = 1073741823")  # space freed
    again = requests.post(
        url, json={"fields": {"name": "Disk Full LP", "notes": NOTES}}, headers=headers, timeout=10
    )
    assert again.status_code == 201, again.text
    assert counts(api.settings)[0] == before[0] + 1
