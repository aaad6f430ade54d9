"""Load and soak: browser-like grid sessions plus a steady stream of API writes through Caddy.

    python bench/bench_load.py [--duration 300 | --soak 3600] [--sessions 20]
        [--writes-per-second 50] [--investors 2000] [--data-dir D] [--no-proxy]

Builds the demo fund (``crm_lib.demo``) with one team member per session and an API token,
starts ``python -m apps.serve`` on a free loopback port (``CRM_BEHIND_PROXY=on``,
``CRM_PUBLIC_URL`` = the proxy, ``CRM_JOBS=off``, and ``CRM_RATE_LIMITS=off``: this is a
benchmark, and 50 writes/s from one user would be throttled at CRM_WRITE_RATE_PER_MINUTE=600)
behind Debian's Caddy with the project's own ``deploy/Caddyfile`` (``tests/deploy/caddy.py``),
and for ``--duration`` seconds:

* **grid sessions** (``--sessions``, all concurrent, in this process's event loop): each logs in
  through the login form over HTTPS (GET ``/login`` for the ``_xsrf`` cookie, POST the form),
  GETs ``/grid``, takes the Bokeh session token from the page and opens the real websocket
  (``wss://…/grid/ws``, subprotocols ``["bokeh", token]``, its session cookie and Origin), pulls
  the document and keeps it in step with the server's patches, as BokehJS does. Then, paced like
  a person (an action every 1 to 3 s, seeded random):

  - *scroll*: a click on the grid's ▶ (or ◀ at the last page) button, sent as BokehJS sends it
    (a ``button_click`` event); timed until the table's new rows arrive;
  - *edit*: a double click on a Location cell (two ``cell-click`` events), a second of typing,
    then the commit exactly as Panel's Tabulator JS does it (``table-edit`` pre, a patch of the
    table's ColumnDataSource, ``table-edit``); timed until the page's save state says "Saved"
    (or a conflict: another writer was first, an expected outcome counted apart from errors);
  - *reopen*: now and then (1 action in 40) the page is left and ``/grid`` opened again (a new
    Bokeh session; the old one must be released, or memory grows).

  The grid's own pages are windowed (``apps/grid/page.py``: Tabulator without pagination, the
  page's ◀/▶ buttons re-query SQL), so scrolling is those buttons, not Tabulator's ``page``.

* **API writes** (in a separate process, so its timing does not share this process's GIL with
  the sessions' document handling): ``--writes-per-second`` PATCHes of one investor's Notes with
  the version last seen (optimistic concurrency; a 409 conflict is an expected outcome, counted
  apart) on an open-loop schedule: each request is sent at its planned time whether or not
  earlier ones have answered, and its latency counts from that planned time, so a stall shows
  as latency instead of fewer requests. With 200 writes unanswered, a write that falls due is
  not sent and counts as an error (the server is minutes behind by then).

* **server memory**: VmRSS of the server process from ``/proc`` every 5 s.

Prints, per operation (login, open grid, scroll, edit, api write), the count, p50/p95/p99 and
the errors (target 0) with the first messages; the API write rate achieved; the server's RSS
per minute and its least-squares slope over the second half of the run (growth trend); then,
with the server stopped, checks in the SQLite file (read-only) that every acknowledged write is
there: its row in the audit log, and for the API's Notes the last acknowledged value stored
(or a later write's). Exit code 1 on any error or missing write; on failure the server's and
Caddy's logs are kept. ``--no-proxy`` sends the same traffic to the app
directly (plain HTTP) for comparison. Every connection goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import multiprocessing
import os
import pkgutil
import random
import re
import resource
import shutil
import sqlite3
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from benchstats import percentile
from bokeh.core.serialization import Serializable, Serializer
from tornado.httpclient import HTTPClientError
from tornado.websocket import WebSocketError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "tangerine orbit mosaic"
#: The grid column the sessions edit and the field the API writes: apart, so the last
#: acknowledged API value of each investor must be the one stored.
GRID_FIELD = "location"
API_FIELD = "notes"
#: Seconds between a session's actions (uniform), and the share of each kind of action.
PAUSE_S = (1.0, 3.0)
TYPING_S = (0.5, 1.5)
EDIT_SHARE = 0.35
REOPEN_SHARE = 1 / 40
#: No answer within this long is an error.
TIMEOUT_S = 30.0
#: API writes waiting for an answer at most: a write due when this many are (the server is
#: minutes behind) is not sent and counts as an error, instead of queueing in the client, whose
#: connection pool then burns the CPU the server needs.
MAX_IN_FLIGHT = 200
RSS_EVERY_S = 5.0
#: RSS slope over the second half above which memory counts as growing.
GROWTH_LIMIT_MB_PER_MIN = 1.0
OPERATIONS = ("login", "open grid", "scroll", "edit", "api write")
SAVE_STATE = re.compile(r"crm-(saving|slow|retrying|saved|conflict|failed)")
FINAL_STATES = frozenset({"saved", "conflict", "failed"})


# -- what was measured ----------------------------------------------------------------------
@dataclass
class Tally:
    """Latencies (ms), conflicts and errors per operation."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    conflicts: dict[str, int] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def ok(self, operation: str, ms: float) -> None:
        self.latencies.setdefault(operation, []).append(ms)

    def conflict(self, operation: str, ms: float) -> None:
        self.ok(operation, ms)
        self.conflicts[operation] = self.conflicts.get(operation, 0) + 1

    def error(self, operation: str, message: str) -> None:
        self.errors.setdefault(operation, []).append(message)


@dataclass(frozen=True)
class Write:
    """An acknowledged write: the investor, the field, the value, and the version the server
    answered with (None for grid edits: the page does not show versions)."""

    investor: int
    field: str
    value: str
    version: int | None = None


@dataclass(frozen=True)
class Target:
    """Where the clients go: the proxy (HTTPS, verified against Caddy's root) or the app."""

    base: str
    cafile: Path | None

    def ssl_context(self) -> ssl.SSLContext | None:
        return ssl.create_default_context(cafile=self.cafile) if self.cafile else None

    @property
    def websocket(self) -> str:
        return self.base.replace("https://", "wss://").replace("http://", "ws://")


def ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# -- the demo fund -------------------------------------------------------------------------
@dataclass(frozen=True)
class Fixture:
    emails: list[str]
    token: str
    versions: dict[int, int]
    audit_from: int


def prepare(data_dir: Path, investors: int, sessions: int) -> Fixture:
    """The demo fund (built once per data folder), one member per session and an API token
    (new each run), the investors' versions and the audit log's last id before the run."""
    from argon2 import profiles

    import crm_lib
    from crm_lib import services
    from crm_lib.config import Settings
    from crm_lib.demo import load_demo_data

    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    if services.count_by_list(ctx)["all"] == 0:
        started = time.perf_counter()
        load_demo_data(ctx, investors=investors)
        print(f"demo fund: {investors:,} investors in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing the demo fund in {data_dir}")
    stamp = time.strftime("%Y%m%d%H%M%S")
    emails = []
    for number in range(sessions + 1):  # the last one owns the API token
        email = f"load{stamp}-{number:02d}@fund.example"
        link = services.invite_user(ctx, email, "member")
        user = services.accept_link(ctx, link.token, name=f"Load {number:02d}", password=PASSWORD)
        emails.append(email)
    token = services.create_api_token(ctx.as_user(user), "bench_load")["token"]
    versions = dict(
        ctx.db.execute(
            "SELECT id, version FROM fundraising_investors WHERE deleted_at IS NULL"
        ).fetchall()
    )
    audit_from = ctx.db.execute("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0]
    ctx.close()
    return Fixture(emails[:sessions], token, versions, audit_from)


@contextmanager
def deployment(data_dir: Path, state: Path, proxy: bool) -> Iterator[tuple[Target, int, Path]]:
    """The app (and Caddy in front of it, unless not ``proxy``): the target, the server's pid
    and its log."""
    from tests.apps.server import free_port, server_log, serving
    from tests.deploy.caddy import caddy_in_front

    app_port, https_port = free_port(), free_port()
    env = {"CRM_RATE_LIMITS": "off", "CRM_JOBS": "off"}
    if proxy:
        env |= {"CRM_BEHIND_PROXY": "on", "CRM_PUBLIC_URL": f"https://127.0.0.1:{https_port}"}
    command = [sys.executable, "-m", "apps.serve", "--port", str(app_port)]
    with serving(command, data_dir, app_port, extra_env=env) as served:
        if not proxy:
            yield Target(served.base, None), served.pid, server_log(data_dir)
            return
        with caddy_in_front(f"127.0.0.1:{app_port}", state, https_port) as caddy:
            yield Target(caddy.base, caddy.root_certificate), served.pid, server_log(data_dir)


# -- a browser's Bokeh session, without the browser -----------------------------------------
class BrowserEvent(Serializable):
    """A UI event as BokehJS sends it (``{model, column, row, ...}``): Panel's Python event
    classes cannot be sent, they do not serialize their values."""

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self.name = name
        self.values = values

    def to_serializable(self, serializer: Serializer) -> Any:
        return {"type": "event", "name": self.name, "values": serializer.encode(self.values)}


@functools.cache
def import_panel_models() -> None:
    """Panel's Bokeh models (DataTabulator, ...), which Panel itself imports only on use."""
    import panel.models

    for module in pkgutil.iter_modules(panel.models.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"panel.models.{module.name}")


def register_models(definitions: list[dict[str, Any]]) -> None:
    """Make the document's model types known here, as BokehJS learns them: Panel's own, and the
    data models the server defines at run time (``GridBridge1``: the page's ``defs``), which
    Bokeh's Python client would otherwise refuse to deserialize."""
    from bokeh.core.properties import Any as AnyProperty
    from bokeh.model import DataModel, Model

    import_panel_models()
    for definition in definitions:
        name = definition["name"]
        if name in Model.model_class_reverse_map:
            continue
        properties = {p["name"]: AnyProperty() for p in definition.get("properties", [])}
        attributes = {"__view_model__": name, "__qualified_model__": name, **properties}
        type(name, (DataModel,), {"__module__": "bench_load_models", **attributes})


class BokehPage:
    """One open page's Bokeh session: the document pulled over the websocket, kept in step with
    the server's patches; the browser's events and edits sent back in order."""

    def __init__(self, on_error: Callable[[str], None]) -> None:
        from bokeh.protocol import Protocol
        from bokeh.protocol.receiver import Receiver

        self.protocol = Protocol()
        self.receiver = Receiver(self.protocol)
        self.on_error = on_error
        self.watchers: list[Callable[[dict[str, Any]], None]] = []
        self.changed = asyncio.Condition()
        self.outbox: asyncio.Queue[Any] = asyncio.Queue()
        self.closed = False
        self.closing = False
        self.websocket: Any = None
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, url: str, token: str, headers: dict[str, str], tls: Any) -> None:
        from bokeh.client.websocket import WebSocketClientConnectionWrapper
        from bokeh.document import Document
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        request = HTTPRequest(url, headers=headers, ssl_options=tls, request_timeout=TIMEOUT_S)
        self.websocket = await websocket_connect(
            request, subprotocols=["bokeh", token], max_message_size=100 * 1024 * 1024
        )
        self.socket = WebSocketClientConnectionWrapper(self.websocket)
        first = await self._receive()
        if first is None or first.msgtype != "ACK":
            raise ConnectionError(f"expected ACK, got {first and first.msgtype}")
        await self.protocol.create("PULL-DOC-REQ").send(self.socket)
        while True:  # patches sent before the document are already in it (BokehJS drops them)
            reply = await self._receive()
            if reply is None:
                raise ConnectionError("the websocket closed before the document came")
            if reply.msgtype == "PULL-DOC-REPLY":
                break
        register_models(reply.content["doc"].get("defs", []))
        self.document = Document()
        reply.push_to_document(self.document)
        self.document.models.flush_synced()  # the server knows these: send references only
        self.document.callbacks.on_change_dispatch_to(self)
        self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._write())]

    def model(self, kind: str, test: Callable[[Any], bool] = lambda m: True) -> Any:
        for model in self.document.models:
            if type(model).__name__ == kind and test(model):
                return model
        raise ValueError(f"no {kind} in the page's document")

    def send_event(self, name: str, **values: Any) -> None:
        from bokeh.document.events import MessageSentEvent

        event = MessageSentEvent(self.document, "bokeh_event", BrowserEvent(name, values))
        self.outbox.put_nowait(event)

    async def until(self, predicate: Callable[[], bool], timeout: float = TIMEOUT_S) -> None:
        """Wait until ``predicate`` holds after a patch from the server."""
        async with self.changed:
            await asyncio.wait_for(
                self.changed.wait_for(lambda: self.closed or predicate()), timeout
            )
        if not predicate():
            raise ConnectionError("the websocket closed")

    async def close(self) -> None:
        self.closing = True
        if self.websocket is not None:
            self.websocket.close(1000, "page left")
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    # Bokeh calls this for every change of the document: ours go to the server, in order
    def _document_patched(self, event: Any) -> None:
        if event.setter is not self:
            self.outbox.put_nowait(event)

    async def _receive(self) -> Any:
        while True:
            fragment = await self.socket.read_message()
            if fragment is None:
                return None
            message = await self.receiver.consume(fragment)
            if message is not None:
                return message

    async def _read(self) -> None:
        try:
            while (message := await self._receive()) is not None:
                if message.msgtype == "PATCH-DOC":
                    for event in message.content["events"]:
                        for watch in self.watchers:
                            watch(event)
                    message.apply_to_document(self.document, self)
                    async with self.changed:
                        self.changed.notify_all()
                elif message.msgtype == "ERROR":
                    self.on_error(f"server ERROR reply: {message.content.get('text', '')[:200]}")
        except Exception as exc:  # a patch this client cannot apply: the page is lost, say so
            self.on_error(f"patch not applied: {type(exc).__name__}: {exc}"[:300])
            self.closing = True
            self.websocket.close(1000, "client error")
        finally:
            self.closed = True
            if not self.closing:
                self.on_error("the server closed the websocket")
            async with self.changed:
                self.changed.notify_all()

    async def _write(self) -> None:
        while not self.closed:
            event = await self.outbox.get()
            try:
                await self.protocol.create("PATCH-DOC", [event]).send(self.socket)
            except WebSocketError:  # closed: the reader says so
                return


class GridSession:
    """One person with the grid open: logs in, opens /grid, scrolls and edits."""

    def __init__(
        self, number: int, email: str, target: Target, tally: Tally, acked: list[Write]
    ) -> None:
        self.number = number
        self.email = email
        self.target = target
        self.tally = tally
        self.acked = acked
        self.rng = random.Random(1000 + number)
        self.tls = target.ssl_context()
        self.page: BokehPage | None = None
        self.direction = 1
        self.edits = 0
        #: the last action got no answer: what the page shows next may be that action's late
        #: outcome (a "Saved" that would be taken for the next edit's), so it is opened anew
        self.stale = False

    async def run(self, start: float, end: float) -> None:
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, start - loop.time()))
        verify: Any = self.tls or True
        async with httpx.AsyncClient(verify=verify, timeout=TIMEOUT_S) as http:
            if not await self.step("login", self.log_in(http)):
                return
            await self.step("open grid", self.open_grid(http))
            while loop.time() < end:
                await asyncio.sleep(self.rng.uniform(*PAUSE_S))
                if loop.time() >= end:
                    break
                choice = self.rng.random()
                if self.page is None or self.page.closed or self.stale or choice < REOPEN_SHARE:
                    await self.step("open grid", self.open_grid(http))
                elif choice < REOPEN_SHARE + EDIT_SHARE:
                    await self.step("edit", self.edit())
                else:
                    await self.step("scroll", self.scroll())
            if self.page is not None:
                await self.page.close()

    async def step(self, operation: str, action: Any) -> bool:
        """Run one action; a failure is recorded as that operation's error, and the session
        goes on (a lost page is opened again at the next action)."""
        try:
            await asyncio.wait_for(action, TIMEOUT_S)
        except TimeoutError:
            self.tally.error(operation, f"session {self.number}: no answer in {TIMEOUT_S:.0f} s")
        except (OSError, httpx.HTTPError, HTTPClientError, WebSocketError, ValueError) as exc:
            self.tally.error(operation, f"session {self.number}: {type(exc).__name__}: {exc}")
        else:
            self.stale = False
            return True
        self.stale = True
        return False

    async def log_in(self, http: httpx.AsyncClient) -> None:
        base = self.target.base
        form = await http.get(f"{base}/login", params={"next": "/grid"})
        form.raise_for_status()
        started = time.perf_counter()
        answer = await http.post(
            f"{base}/login",
            data={
                "_xsrf": http.cookies.get("_xsrf", ""),
                "email": self.email,
                "password": PASSWORD,
                "next": "/grid",
            },
        )
        if answer.status_code != 302 or answer.headers.get("Location") != "/grid":
            raise ValueError(f"login answered {answer.status_code}: {answer.text[:200]}")
        self.tally.ok("login", ms_since(started))

    async def open_grid(self, http: httpx.AsyncClient) -> None:
        if self.page is not None:
            await self.page.close()
            self.page = None
        started = time.perf_counter()
        answer = await http.get(f"{self.target.base}/grid")
        if answer.status_code != 200:
            raise ValueError(f"/grid answered {answer.status_code}")
        found = re.search(r"render_items = (\[.*?\]);", answer.text)
        if found is None:
            raise ValueError("no Bokeh session token in /grid")
        token = json.loads(found.group(1))[0]["token"]
        cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies.jar)
        page = BokehPage(lambda message: self.tally.error("websocket", message))
        try:
            await page.open(
                f"{self.target.websocket}/grid/ws",
                token,
                {"Cookie": cookies, "Origin": self.target.base},
                self.tls,
            )
        except BaseException:  # failed or timed out: leave no half-open page behind
            await page.close()
            raise
        self.page = page
        self.table = page.model("DataTabulator")
        self.summary = page.model("HTML", lambda m: "crm-summary" in m.css_classes)
        self.buttons = {b.label: b for b in page.document.models if type(b).__name__ == "Button"}
        await page.until(lambda: len(self.table.source.data.get("id", [])) > 0)
        self.tally.ok("open grid", ms_since(started))

    async def scroll(self) -> None:
        page = self.page
        assert page is not None
        forward, back = self.buttons["▶"], self.buttons["◀"]
        if self.direction > 0 and forward.disabled:
            self.direction = -1
        elif self.direction < 0 and back.disabled:
            self.direction = 1
        button = forward if self.direction > 0 else back
        shown = list(self.table.source.data["id"])
        started = time.perf_counter()
        page.send_event("button_click", model=button)
        await page.until(lambda: list(self.table.source.data["id"]) != shown)
        self.tally.ok("scroll", ms_since(started))

    async def edit(self) -> None:
        page = self.page
        assert page is not None
        rows = len(self.table.source.data["id"])
        row = self.rng.randrange(rows)
        for _ in range(2):  # a double click opens the editor
            page.send_event("cell-click", model=self.table, column=GRID_FIELD, row=row)
            await asyncio.sleep(0.12)
        await asyncio.sleep(self.rng.uniform(*TYPING_S))
        data = self.table.source.data
        if len(data["id"]) != rows:  # the page changed under the editor: nothing to commit
            return
        investor = int(data["id"][row])
        self.edits += 1
        value = f"load s{self.number:02d} e{self.edits} {time.time():.3f}"
        states: list[str] = []

        def watch(event: dict[str, Any]) -> None:
            if event.get("attr") == "text" and event.get("model", {}).get("id") == self.summary.id:
                states.extend(SAVE_STATE.findall(str(event.get("new", "")))[:1])

        def settled() -> bool:  # how it ended ("Saving…" first, or at once: a refused edit)
            return any(s in FINAL_STATES for s in states)

        page.watchers.append(watch)
        try:
            started = time.perf_counter()
            page.send_event("table-edit", model=self.table, column=GRID_FIELD, row=row, pre=True)
            self.table.source.patch({GRID_FIELD: [(row, value)]})
            page.send_event("table-edit", model=self.table, column=GRID_FIELD, row=row, pre=False)
            await page.until(settled)
            elapsed = ms_since(started)
        finally:
            page.watchers.remove(watch)
        final = next(s for s in states if s in FINAL_STATES)
        if final == "saved":
            self.tally.ok("edit", elapsed)
            self.acked.append(Write(investor, GRID_FIELD, value))
        elif final == "conflict":
            self.tally.conflict("edit", elapsed)
        else:
            self.tally.error("edit", f"session {self.number}: {self.summary.text[:200]}")


# -- the API writer (its own process) -------------------------------------------------------
def write_api(
    base: str,
    cafile: str | None,
    token: str,
    versions: dict[int, int],
    rate: float,
    start_wall: float,
    duration: float,
) -> dict[str, Any]:
    """PATCH one investor's Notes ``rate`` times a second from ``start_wall`` (``time.time``)
    for ``duration`` seconds, each at its planned time; the results for the report."""
    return asyncio.run(_write_api(base, cafile, token, versions, rate, start_wall, duration))


async def _write_api(
    base: str,
    cafile: str | None,
    token: str,
    versions: dict[int, int],
    rate: float,
    start_wall: float,
    duration: float,
) -> dict[str, Any]:
    rng = random.Random(5)
    ids = sorted(versions)
    loop = asyncio.get_running_loop()
    start = loop.time() + (start_wall - time.time())
    latencies: list[float] = []
    acked: list[tuple[int, str, int]] = []  # plain tuples: this runs in another process
    errors: list[str] = []
    lateness: list[float] = []
    conflicts = 0
    running: set[asyncio.Task[None]] = set()
    verify: Any = ssl.create_default_context(cafile=cafile) if cafile else True
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        base_url=base,
        verify=verify,
        timeout=TIMEOUT_S,
        limits=limits,
        headers={"Authorization": f"Bearer {token}"},
    ) as http:

        async def one(number: int, planned: float) -> None:
            nonlocal conflicts
            investor = rng.choice(ids)
            value = f"load api w{number} {time.time():.3f}"
            body = {"fields": {API_FIELD: value}, "expected_version": versions[investor]}
            try:
                answer = await http.patch(f"/api/fundraising/investors/{investor}", json=body)
            except httpx.HTTPError as exc:
                errors.append(f"investor {investor}: {type(exc).__name__}: {exc}")
                return
            elapsed = (loop.time() - planned) * 1000
            if answer.status_code == 200:
                version = answer.json()["version"]
                versions[investor] = max(versions[investor], version)
                acked.append((investor, value, version))
                latencies.append(elapsed)
            elif answer.status_code == 409:
                conflicts += 1
                latencies.append(elapsed)
                current = answer.json().get("current_version", versions[investor])
                versions[investor] = max(versions[investor], current)
            else:
                errors.append(f"investor {investor}: {answer.status_code} {answer.text[:200]}")

        for number in range(int(duration * rate)):
            planned = start + number / rate
            await asyncio.sleep(max(0.0, planned - loop.time()))
            lateness.append((loop.time() - planned) * 1000)
            if len(running) >= MAX_IN_FLIGHT:
                errors.append(f"write {number} not sent: {MAX_IN_FLIGHT} writes still unanswered")
                continue
            task = asyncio.create_task(one(number, planned))
            running.add(task)
            task.add_done_callback(running.discard)
        await asyncio.sleep(max(0.0, start + duration - loop.time()))
        await asyncio.gather(*running)
        elapsed = loop.time() - start  # until the last answer
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "latencies": latencies,
        "acked": acked,
        "conflicts": conflicts,
        "errors": errors,
        "sent": len(lateness),
        "elapsed": elapsed,
        "lateness": lateness,
        "cpu": usage.ru_utime + usage.ru_stime,
    }


# -- server memory and CPU ------------------------------------------------------------------
class Sampler(threading.Thread):
    """VmRSS of ``pid`` every RSS_EVERY_S seconds: (seconds since start, MB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []
        self.stopped = threading.Event()
        self.started_at = time.monotonic()

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise ValueError(f"no VmRSS for {self.pid}")

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run(self) -> None:
        self.started_at = time.monotonic()
        while True:
            self.samples.append((time.monotonic() - self.started_at, self.rss_mb()))
            if self.stopped.wait(RSS_EVERY_S):
                return


async def loop_lag(end: float, lags: list[float]) -> None:
    """How late this process's event loop wakes up (ms): a busy client would show here."""
    loop = asyncio.get_running_loop()
    while loop.time() < end:
        planned = loop.time() + 0.1
        await asyncio.sleep(0.1)
        lags.append((loop.time() - planned) * 1000)


# -- the run --------------------------------------------------------------------------------
async def drive_sessions(
    fixture: Fixture, target: Target, start_wall: float, duration: float, lags: list[float]
) -> tuple[Tally, list[Write]]:
    tally, acked = Tally(), []
    loop = asyncio.get_running_loop()
    start = loop.time() + (start_wall - time.time())
    end = start + duration
    ramp = min(10.0, duration / 10)  # people arrive over the first seconds, not in one instant
    sessions = [
        GridSession(number, email, target, tally, acked)
        for number, email in enumerate(fixture.emails)
    ]
    spacing = ramp / max(1, len(sessions))
    await asyncio.gather(
        loop_lag(end, lags),
        *(s.run(start + i * spacing, end) for i, s in enumerate(sessions)),
    )
    return tally, acked


@dataclass
class Verification:
    acknowledged: int
    present: int
    missing: list[str]
    stale: list[str]


def verify(database: Path, audit_from: int, acked: list[Write]) -> Verification:
    """Every acknowledged write in the audit log (read-only), and each investor's last
    acknowledged API value (by version) stored, or replaced by a later write."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        written = {  # (investor, field, value) -> the audit row's id (values are unique)
            (entity_id, name, json.loads(value)): audit_id
            for audit_id, entity_id, name, value in connection.execute(
                "SELECT id, entity_id, field, new_value FROM audit_log WHERE id > ?"
                " AND entity = 'fundraising_investors' AND action = 'update'"
                " AND field IN (?, ?) ORDER BY id",
                (audit_from, GRID_FIELD, API_FIELD),
            )
        }
        stored = {
            (investor, name): value
            for investor, grid_value, api_value in connection.execute(
                f"SELECT id, {GRID_FIELD}, {API_FIELD} FROM fundraising_investors"
            )
            for name, value in ((GRID_FIELD, grid_value), (API_FIELD, api_value))
        }
    finally:
        connection.close()
    missing = [
        f"investor {w.investor} {w.field} = {w.value!r}"
        f" (stored now: {stored.get((w.investor, w.field))!r})"
        for w in acked
        if (w.investor, w.field, w.value) not in written
    ]
    last: dict[int, Write] = {}
    for write in acked:
        if write.version is not None and write.version > getattr(
            last.get(write.investor), "version", 0
        ):
            last[write.investor] = write
    # a later write (acknowledged or not: its answer may have been lost) may have replaced the
    # last acknowledged one; an earlier value must not come back
    stale = [
        f"investor {i}: stored {stored.get((i, API_FIELD))!r},"
        f" last acknowledged {w.value!r} (v{w.version})"
        for i, w in sorted(last.items())
        if written.get((i, API_FIELD, stored.get((i, API_FIELD))), 0)
        < written.get((i, API_FIELD, w.value), 0)
    ]
    return Verification(len(acked), len(acked) - len(missing), missing, stale)


def server_errors(log: Path, offset: int) -> list[str]:
    """ERROR lines and tracebacks the server logged during the run."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode(errors="replace")
    return [
        line
        for line in text.splitlines()
        if " ERROR " in line or line.startswith(("ERROR:", "Traceback"))
    ]


# -- the report -----------------------------------------------------------------------------
def report_operations(tally: Tally) -> int:
    print(
        f"{'operation':<12} {'count':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f" {'conflicts':>9} {'errors':>6}"
    )
    errors = 0
    for operation in (*OPERATIONS, *(o for o in tally.errors if o not in OPERATIONS)):
        values = tally.latencies.get(operation, [])
        failed = tally.errors.get(operation, [])
        errors += len(failed)
        if values:
            figures = (
                " ".join(f"{percentile(values, q):8.1f}" for q in (0.5, 0.95, 0.99))
                + f" {max(values):8.1f}"
            )
        else:
            figures = " ".join(f"{'-':>8}" for _ in range(4))
        conflicts = tally.conflicts.get(operation, 0)
        print(f"{operation:<12} {len(values):>7,} {figures} {conflicts:>9,} {len(failed):>6,}")
    for operation, messages in tally.errors.items():
        for message in messages[:3]:
            print(f"  {operation} error: {message}")
        if len(messages) > 3:
            print(f"  ... and {len(messages) - 3} more {operation} errors")
    return errors


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MB), in MB per minute."""
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    spread = sum((t - mean_t) ** 2 for t, _ in samples)
    if spread == 0:
        return 0.0
    return sum((t - mean_t) * (m - mean_m) for t, m in samples) / spread * 60


def report_memory(samples: list[tuple[float, float]], duration: float) -> None:
    print(f"\nserver RSS (VmRSS every {RSS_EVERY_S:.0f} s, {len(samples)} samples)")
    print(f"{'minute':>6} {'min MB':>8} {'max MB':>8}")
    minutes = int(max(t for t, _ in samples) // 60) + 1
    for minute in range(minutes):
        inside = [m for t, m in samples if minute * 60 <= t < (minute + 1) * 60]
        if inside:
            print(f"{minute:>6} {min(inside):8.1f} {max(inside):8.1f}")
    second_half = [(t, m) for t, m in samples if t >= duration / 2]
    if len(second_half) < 3:
        print("too few samples in the second half for a trend")
        return
    slope = slope_mb_per_min(second_half)
    verdict = (
        "no growth trend"
        if slope <= GROWTH_LIMIT_MB_PER_MIN
        else "GROWING (look for sessions or caches that are not released)"
    )
    print(
        f"trend over the second half: {slope:+.2f} MB/min ({verdict};"
        f" limit {GROWTH_LIMIT_MB_PER_MIN:.1f} MB/min)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of load")
    parser.add_argument("--soak", type=float, help="the same as --duration (e.g. 3600)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--writes-per-second", type=float, default=50)
    parser.add_argument("--investors", type=int, default=2000, help="demo size")
    parser.add_argument("--data-dir", type=Path, help="keep the demo database here (reused)")
    parser.add_argument("--no-proxy", action="store_true", help="hit the app without Caddy")
    args = parser.parse_args()
    duration = args.soak or args.duration
    folder = Path(tempfile.mkdtemp(prefix="crm-bench-load-"))
    data_dir = args.data_dir or folder / "data"
    ok = False
    try:
        fixture = prepare(data_dir, args.investors, args.sessions)
        ok = run(fixture, data_dir, folder, args, duration)
    finally:  # Caddy's state and log (and the demo fund, unless --data-dir)
        if ok:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(
                f"kept for a look: the server's log {data_dir.parent / f'{data_dir.name}-server.log'},"
                f" Caddy's in {folder / 'caddy'}"
            )
    sys.exit(0 if ok else 1)


def run(
    fixture: Fixture, data_dir: Path, folder: Path, args: argparse.Namespace, duration: float
) -> bool:
    proxy = not args.no_proxy
    spawn = multiprocessing.get_context("spawn")
    with (
        deployment(data_dir, folder / "caddy", proxy) as (target, pid, log),
        ProcessPoolExecutor(max_workers=1, mp_context=spawn) as writer_pool,
    ):
        route = "through Caddy (deploy/Caddyfile, TLS verified)" if proxy else "straight to the app"
        print(
            f"{args.sessions} grid sessions + {args.writes_per_second:g} API writes/s for"
            f" {duration:.0f} s, {target.base} {route}; server pid {pid};"
            " CRM_RATE_LIMITS=off (a benchmark), CRM_JOBS=off",
            flush=True,
        )
        log_offset = log.stat().st_size
        sampler = Sampler(pid)
        cpu_before = sampler.cpu_s()
        usage_before = resource.getrusage(resource.RUSAGE_SELF)
        start_wall = time.time() + 5  # the writer process starts meanwhile
        api = writer_pool.submit(
            write_api,
            target.base,
            str(target.cafile) if target.cafile else None,
            fixture.token,
            fixture.versions,
            args.writes_per_second,
            start_wall,
            duration,
        )
        time.sleep(max(0.0, start_wall - time.time()))
        sampler.start()
        lags: list[float] = []
        tally, acked = asyncio.run(drive_sessions(fixture, target, start_wall, duration, lags))
        writes = api.result()
        sampler.stopped.set()
        sampler.join()
        cpu = sampler.cpu_s() - cpu_before
        usage = resource.getrusage(resource.RUSAGE_SELF)
        client_cpu = usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime
    logged = server_errors(log, log_offset)
    for latency in writes["latencies"]:
        tally.ok("api write", latency)
    tally.conflicts["api write"] = writes["conflicts"]
    tally.errors.setdefault("api write", []).extend(writes["errors"])
    if logged:
        tally.errors["server log"] = logged
    acked.extend(Write(i, API_FIELD, value, version) for i, value, version in writes["acked"])
    check = verify(data_dir / "crm.db", fixture.audit_from, acked)

    print(f"\n{'=' * 78}")
    errors = report_operations(tally)
    print(
        f"\nAPI writes: {writes['sent']:,} sent ({writes['sent'] / duration:.1f}/s, planned"
        f" {args.writes_per_second:g}/s, send lateness p99"
        f" {percentile(writes['lateness'] or [0.0], 0.99):.1f} ms);"
        f" {len(writes['acked']):,} acknowledged = {len(writes['acked']) / writes['elapsed']:.1f}/s"
        f" achieved (until the last answer, {writes['elapsed']:.1f} s),"
        f" {writes['conflicts']:,} conflicts (409), {len(writes['errors']):,} errors"
    )
    report_memory(sampler.samples, duration)
    print(
        f"\nCPU over the run: server {cpu / duration * 100:.0f}% of one core;"
        f" clients: sessions {client_cpu / duration * 100:.0f}%,"
        f" API writer {writes['cpu'] / duration * 100:.0f}% ({os.cpu_count()} cores for all"
        f" of them{' and Caddy' if proxy else ''});"
        f" sessions' event-loop lag p99 {percentile(lags, 0.99):.0f} ms, max {max(lags):.0f} ms"
    )
    print(
        f"\nacknowledged writes: {check.acknowledged:,} acknowledged"
        f" ({check.acknowledged - len(writes['acked']):,} grid edits,"
        f" {len(writes['acked']):,} API), {check.present:,} present,"
        f" {len(check.missing):,} missing"
    )
    for line in check.missing[:20]:
        print(f"  missing: {line}")
    print(
        "last acknowledged API value stored (or a later write's):"
        f" {len(check.stale):,} investors show an older value"
        + "".join(f"\n  {line}" for line in check.stale[:20])
    )
    ok = errors == 0 and not check.missing and not check.stale
    print(f"\n{'PASS' if ok else 'FAIL'}: {errors} errors, {len(check.missing)} missing writes")
    return ok


if __name__ == "__main__":
    main()
