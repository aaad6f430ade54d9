"""Long work in a served page does not stall the server: while one session adds a costly formula
field, another request is answered at once, and the outcome reaches the page afterwards.

A real Panel server (Bokeh/Tornado, one event loop, as ``apps.serve`` runs it) serves the grid
page and the health probe; a page load creates a real session, and its "Add field" button is
clicked on the server's loop as a browser's click would be.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import panel as pn
import pytest
from argon2 import profiles

import crm_lib
from apps.api import health
from apps.grid.page import GridPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import load_settings
from tests.apps.conftest import PASSWORD, session_of
from tests.apps.server import free_port, get
from tests.services.test_formula_budget import HEAVY

#: The longest another request may wait while the formula field is computed.
RESPONSIVE_S = 1.0


@pytest.fixture
def runtime(tmp_path: Path) -> Runtime:
    """400 investors, Alice (admin), and changes allowed 2 s of formula computing, set as the
    server reads it (CRM_FORMULA_BUDGET_S)."""
    settings = dataclasses.replace(
        load_settings({"CRM_FORMULA_BUDGET_S": "2"}, data_dir=tmp_path / "data"),
        password_hashing=profiles.CHEAPEST,
    )
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    link = services.invite_user(ctx, "alice@fund.example", "admin")
    services.accept_link(ctx, link.token, name="Alice", password=PASSWORD)
    services.bulk_create_investors(
        ctx, [{"name": f"Investor {n:04d} Capital Partners"} for n in range(400)]
    )
    ctx.close()
    return Runtime(settings, secret_key="k" * 48)


@pytest.fixture
def served(runtime: Runtime) -> Iterator[tuple[str, list[GridPage]]]:
    """The grid page and /healthz on one server thread; yields its URL and the pages it built."""
    pages: list[GridPage] = []

    def grid() -> GridPage:
        page = GridPage(runtime, session=session_of(runtime, "alice@fund.example"))
        pages.append(page)
        return page

    port = free_port()
    server = pn.serve(
        {"/grid": grid},
        port=port,
        address="127.0.0.1",
        websocket_origin=[f"127.0.0.1:{port}"],
        show=False,
        threaded=True,
        extra_patterns=health.routes(runtime),
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if get(f"{base}/healthz")[0] == 200:
                break
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)
    try:
        yield base, pages
    finally:
        server.stop()


def probe(url: str, timeout: float = 5.0) -> float:
    """Seconds until ``url`` answered (``timeout`` if it did not)."""
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
    except TimeoutError:
        return timeout
    return time.perf_counter() - started


def on_loop(page: GridPage, action: Callable[[], Any]) -> None:
    """Run ``action`` on the server's event loop, in the page's document, as a browser event is."""
    page.document.add_next_tick_callback(action)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_adding_a_heavy_formula_field_leaves_other_sessions_responsive(
    served: tuple[str, list[GridPage]], runtime: Runtime
) -> None:
    base, pages = served
    assert get(f"{base}/grid")[0] == 200  # a session: its page built in a served document
    page = pages[0]
    assert page.document is not None and page.document.session_context is not None
    filled, clicked = threading.Event(), threading.Event()

    def fill_in() -> None:  # the person opens the fields panel and types
        panel = page.fields_panel
        page.show_side(panel)
        panel.new_label.value = "Heavy"
        panel.new_type.value = "formula"
        panel.formula.value = HEAVY
        filled.set()

    def click_add() -> None:
        clicked.set()
        page.fields_panel.add_button.clicks += 1  # what Panel does on the browser's click

    on_loop(page, fill_in)
    assert filled.wait(10)
    probe(f"{base}/healthz")  # answered once the loop is done with the panel
    on_loop(page, click_add)
    assert clicked.wait(10)
    panel = page.fields_panel
    waits: list[float] = []
    seen: set[tuple[bool, bool]] = set()  # (shows "Working…", "Add field" disabled)
    while not page.message and len(waits) < 100:  # the change is refused after 2 s
        waits.append(probe(f"{base}/healthz"))
        assert waits[-1] < RESPONSIVE_S, f"/healthz waited {waits[-1]:.2f} s: {waits}"
        seen.add((panel.working.active, panel.add_button.disabled))
        time.sleep(0.1)
    assert (True, True) in seen, seen  # while it ran: "Working…", and no second click possible
    wait_for(lambda: bool(page.message))
    assert page.failed, page.message
    assert page.message.startswith("Formulas took longer than the 2 s one change may use: {Heavy}")
    assert not panel.working.active and not panel.add_button.disabled
    with runtime.context() as ctx:
        assert "heavy" not in {f.key for f in services.list_fields(ctx)}
        assert "heavy" not in {c.name for c in ctx.db["fundraising_investors"].columns}


def test_exports_are_written_on_a_worker_thread_with_their_buttons_disabled_meanwhile(
    runtime: Runtime,
) -> None:
    page = GridPage(runtime, session=session_of(runtime, "alice@fund.example"))
    builder = page.view_builder

    async def download() -> tuple[tuple[bool, bool, bool], io.BytesIO]:
        export = asyncio.ensure_future(builder.csv_export())  # what the CSV button calls
        await asyncio.sleep(0)  # the export has started: its file is written on a worker thread
        during = (
            builder.exporting.active,
            builder.csv_download.disabled,
            builder.xlsx_download.disabled,
        )
        return during, await export

    during, csv_file = asyncio.run(download())
    assert during == (True, True, True)
    assert not (builder.exporting.active or builder.csv_download.disabled)
    assert csv_file.getvalue().decode("utf-8-sig").count("Capital Partners") == 400
    workbook = openpyxl.load_workbook(asyncio.run(builder.xlsx_export()))
    assert workbook.active.max_row == 401  # the titles and every investor
