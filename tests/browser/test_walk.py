"""Every page of the demo as a new admin sees it in Chromium, read for what a person should never
see: "NaN", "None", "null" or "undefined" where a value belongs, raw ISO timestamps, console
errors or failed requests, and a page wider than the window at 1280 and 1440 px.

Each page is its own test (one server for the module), so a failure names the page. The demo is
topped up with what it lacks so every table has rows: a pending invite, an API token never used,
a feature request and a backup (blank "last used" and "verified" cells were where NaN showed).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Browser, Page, expect

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.server import free_port, running
from tests.browser.conftest import ADMIN_EMAIL, PASSWORD, log_in, page_errors

pytestmark = pytest.mark.browser

#: Words that only reach the screen when a missing value was turned into text.
BAD_TOKENS = re.compile(r"\b(NaN|None|null|undefined|NaT)\b")
#: A timestamp as stored (``2026-12-03T14:05``), which no person should have to read.
RAW_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
WIDTHS = (1280, 1440)
#: The browser's timezone: not UTC, so pages redraw their times once the browser tells it.
ZONE = "America/New_York"
#: A table's rows: the page has drawn its data.
ROWS = ".tabulator-row"
#: A small Airtable export for the import panel: one good row, one the preview flags.
EXPORT = b"""Name,Record ID,Status,Website
Walk Imported Capital,recWALKWALKWALK01,Meeting,https://walk.example
Walk Broken Partners,recWALKWALKWALK02,Not a status,
"""


@pytest.fixture(scope="module")
def walk_data(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the demo with an admin, plus a row in each table the demo leaves empty."""
    data_dir = tmp_path_factory.mktemp("walk") / "data"
    shutil.copytree(demo_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    link = services.invite_user(ctx, ADMIN_EMAIL, "admin")
    alice = ctx.as_user(services.accept_link(ctx, link.token, name="Alice", password=PASSWORD))
    services.invite_user(alice, "pending@fund.example", "member")
    services.create_api_token(alice, "never used")
    services.create_feature_request(alice, "Walk request", "")
    services.create_backup(alice, "manual")
    ctx.close()
    return data_dir


@pytest.fixture(scope="module")
def walk_base(walk_data: Path) -> Iterator[str]:
    port = free_port()
    with running(
        [sys.executable, "-m", "apps.serve", "--port", str(port)], walk_data, port
    ) as base:
        yield base


@pytest.fixture(scope="module")
def signed_in(browser: Browser, walk_base: str) -> dict:
    """Alice's cookies, logged in once through the form for every page of the walk."""
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    page = context.new_page()
    log_in(page, walk_base)
    state = context.storage_state()
    context.close()
    return state


def _grid(page: Page, base: str) -> None:
    page.goto(f"{base}/grid")
    page.wait_for_selector('.tabulator-row .tabulator-cell[tabulator-field="name"]', timeout=30_000)


def _grid_list(key: str) -> Callable[[Page, str], None]:
    def visit(page: Page, base: str) -> None:
        _grid(page, base)
        tabs = page.locator(".crm-lists button")
        labels = {"main": "Main", "follow_up": "Follow-up", "graveyard": "Graveyard"}
        labels |= {"longshot": "Longshot", "all": "All", "archived": "Archived"}
        tabs.filter(has_text=re.compile(rf"^{labels[key]}\b")).click()
        page.wait_for_timeout(1500)  # the page of that list replaces the rows

    return visit


def _record(page: Page, base: str) -> None:
    _grid(page, base)
    page.locator('.tabulator-row .tabulator-cell[tabulator-field="open"]').first.click()
    expect(page.locator(".crm-record-title")).not_to_be_empty(timeout=10_000)
    page.wait_for_timeout(1000)


def _import(page: Page, base: str) -> None:
    _grid(page, base)
    page.get_by_role("button", name="⇪ Import").click()
    page.set_input_files(
        ".crm-import-file input[type=file]",
        files=[{"name": "Walk.csv", "mimeType": "text/csv", "buffer": EXPORT}],
    )
    expect(page.locator(".crm-import-facts")).to_contain_text("Walk.csv", timeout=15_000)
    page.get_by_role("button", name="Preview changes").click()
    expect(page.locator(".crm-import-summary")).to_contain_text("Dry run", timeout=15_000)
    page.wait_for_timeout(1000)


def _simple(path: str, ready: str | None = ROWS) -> Callable[[Page, str], None]:
    """Open ``path`` and wait for ``ready`` (a table's rows); pages without one are given the
    time their document takes to arrive."""

    def visit(page: Page, base: str) -> None:
        page.goto(f"{base}{path}")
        page.wait_for_load_state("networkidle")
        if ready is not None:
            page.wait_for_selector(ready, timeout=30_000)
        else:
            page.wait_for_timeout(1500)
        page.wait_for_timeout(1000)  # late updates (the browser's timezone) settle

    return visit


PAGES: dict[str, Callable[[Page, str], None]] = {
    "home": _simple("/", None),
    "grid": _grid,
    **{f"grid-list-{key}": _grid_list(key) for key in ("main", "follow_up", "graveyard")},
    **{f"grid-list-{key}": _grid_list(key) for key in ("longshot", "all", "archived")},
    "grid-record": _record,
    "grid-import": _import,
    "contacts": _simple("/contacts"),
    "activity": _simple("/activity", None),
    "requests": _simple("/requests"),
    "funds": _simple("/funds"),
    "account": _simple("/account"),
    "admin": _simple("/admin"),
}


#: The text a person sees: Bokeh draws every widget in a shadow root, where ``innerText`` of the
#: body does not reach, so the walk goes into each one; rendered text nodes and the values of
#: inputs count; hidden elements, scripts, styles, password boxes and tick boxes (whose value is
#: "on") do not.
SHOWN_TEXT = r"""() => {
  const out = [];
  const shown = (el) => el && el.checkVisibility({visibilityProperty: true});
  const walk = (root) => {
    const it = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = it.currentNode; n; n = it.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE) {
        const el = n.parentElement || (n.parentNode && n.parentNode.host);
        if (el && !["SCRIPT", "STYLE", "TEMPLATE"].includes(el.tagName) && shown(el)) {
          out.push(n.textContent);
        }
        continue;
      }
      const typed = n.tagName === "TEXTAREA" || (n.tagName === "INPUT"
        && !["password", "hidden", "checkbox", "radio", "file"].includes(n.type));
      if (typed && shown(n) && n.value) {
        out.push(n.value);
      }
      if (n.shadowRoot) walk(n.shadowRoot);
    }
  };
  walk(document.body);
  return out.join("\n");
}"""


def shown_text(page: Page) -> str:
    return page.evaluate(SHOWN_TEXT)


def visible_problems(page: Page) -> list[str]:
    """Bad tokens and raw timestamps in the text the page shows (each with a little context)."""
    text = shown_text(page)
    problems = []
    for pattern, what in ((BAD_TOKENS, "blank shown as"), (RAW_ISO, "raw timestamp")):
        for match in pattern.finditer(text):
            around = text[max(0, match.start() - 40) : match.end() + 40].replace("\n", " | ")
            problems.append(f"{what} {match.group(0)!r}: …{around}…")
    return problems


def overflow(page: Page) -> int:
    """How many pixels the document is wider than the window (0: it fits)."""
    return page.evaluate(
        "(() => { const e = document.scrollingElement;"
        " return Math.max(0, e.scrollWidth - e.clientWidth); })()"
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_shows_values_as_people_read_them(
    name: str, browser: Browser, walk_base: str, signed_in: dict, tmp_path: Path
) -> None:
    context = browser.new_context(
        viewport={"width": WIDTHS[0], "height": 900}, storage_state=signed_in, timezone_id=ZONE
    )
    page = context.new_page()
    errors = page_errors(page)
    try:
        PAGES[name](page, walk_base)
        problems = visible_problems(page)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_timeout(500)  # layouts that follow the width settle
            extra = overflow(page)
            if extra:
                problems.append(f"{extra} px wider than the window at {width} px")
    finally:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        (tmp_path / f"{name}.txt").write_text(shown_text(page))
        context.close()
    assert problems + errors == [], "\n".join(problems + errors)
