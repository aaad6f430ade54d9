"""What a user feels in the browser: Chromium (Playwright) against a real server on the demo fund.

    python bench/bench_ui.py [--investors 2000] [--rounds 7] [--data-dir D]

Builds a demo database (``crm_lib.demo``, the same data ``./panel_serve.sh --demo`` shows) with an
admin who can log in, starts ``python -m apps.serve`` on a free loopback port, and measures with a
fresh browser context each round (no cache carried over, as after a restart of the browser):

* **login → grid**: from pressing "Sign in" on ``/login?next=/grid`` until the grid's first rows
  are on screen (a name cell of the first row is visible);
* **page switch**: from clicking a page's link in the navigation until that page is ready: its
  Bokeh documents are idle (every view rendered) and the URL is the page's;
* **layout shift**: Chromium's cumulative layout shift (``layout-shift`` entries without recent
  input) after each page was ready, over the next second — content moving under the user's
  eyes after it appeared.

Prints p50/p95 per measure, the targets of issue 16 (grid after login <= 1.5 s median, page
switch <= 300 ms, no layout shift after load) and PASS/FAIL for each. The browser runs headless
with the flags of ``tests/browser``; every request goes to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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
EMAIL = "bench@fund.example"
PASSWORD = "tangerine orbit mosaic"
#: The pages a member of the team moves between, by the path their navigation link opens.
PAGES = ("/", "/grid", "/contacts", "/activity", "/funds", "/requests", "/account", "/admin")
GRID_ROW = '.tabulator-row .tabulator-cell[tabulator-field="name"]'
#: Every Bokeh document of the page has rendered all its views (BokehJS's own "idle").
READY = (
    "() => !!window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents.every(d => d.is_idle)"
)
#: Collects layout shifts (not caused by input) from the start of each document.
WATCH_SHIFTS = """
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__shifts.push([performance.now(), entry.value]);
  }
}).observe({type: "layout-shift", buffered: true});
"""
TARGET_LOGIN_S = 1.5
TARGET_SWITCH_S = 0.3


@dataclass
class Measures:
    """Seconds (or shift scores) per measure, over rounds."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.values.setdefault(name, []).append(value)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_demo(data_dir: Path, investors: int) -> None:
    """The demo fund and an admin (cheap password hashing: the login is timed, not argon2)."""
    from argon2 import profiles

    import crm_lib
    from crm_lib import services
    from crm_lib.config import Settings
    from crm_lib.demo import load_demo_data

    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    load_demo_data(ctx, investors=investors)
    link = services.invite_user(ctx, EMAIL, "admin")
    services.accept_link(ctx, link.token, name="Bench Admin", password=PASSWORD)
    ctx.close()


@contextmanager
def server(data_dir: Path) -> Iterator[str]:
    """``python -m apps.serve`` on a free port until /healthz answers; stopped with its group."""
    port = free_port()
    env = {**os.environ, "CRM_DATA_DIR": str(data_dir), "CRM_JOBS": "off"}
    log = (data_dir.parent / "server.log").open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "apps.serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise SystemExit(f"the server exited: see {data_dir.parent / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("the server did not answer /healthz within 120 s")
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def timed(action: Callable[[], None], until: Callable[[], None]) -> float:
    started = time.perf_counter()
    action()
    until()
    return time.perf_counter() - started


def shift_after(page, ready_at_ms: float, settle_s: float = 1.0) -> float:  # type: ignore[no-untyped-def]
    """The layout shift score of the page's entries after ``ready_at_ms`` (performance.now)."""
    page.wait_for_timeout(settle_s * 1000)
    shifts = page.evaluate("() => window.__shifts || []")
    return sum(value for at, value in shifts if at > ready_at_ms)


def one_round(browser, base: str, measures: Measures) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(WATCH_SHIFTS)
    page = context.new_page()
    page.goto(f"{base}/login?next=%2Fgrid")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    measures.add(
        "login → grid rows visible",
        timed(
            lambda: page.click("button[type=submit]"),
            lambda: page.wait_for_selector(GRID_ROW, state="visible", timeout=60_000),
        ),
    )
    page.wait_for_function(READY, timeout=60_000)
    ready_at = page.evaluate("() => performance.now()")
    measures.add("layout shift after load: /grid", shift_after(page, ready_at))
    for path in PAGES:
        if path == "/grid":
            continue
        link = page.locator(f'a[href="{path}"]:visible').first
        if not link.count():  # in the user menu (Profile: /account): open the menu first
            page.locator("details.crm-user-menu summary").first.click()

        def opened(path: str = path) -> None:
            page.wait_for_url(f"{base}{path}", timeout=60_000)
            page.wait_for_function(READY, timeout=60_000)

        measures.add(f"page switch → {path}", timed(link.click, opened))
        ready_at = page.evaluate("() => performance.now()")
        measures.add(f"layout shift after load: {path}", shift_after(page, ready_at))
    context.close()


def report(measures: Measures) -> bool:
    print(f"{'measure':44} {'p50':>9} {'p95':>9} {'max':>9}")
    ok = True
    for name, values in measures.values.items():
        shift = name.startswith("layout shift")
        unit = "" if shift else " s"
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        text = f"{p50:.3f}{unit}", f"{p95:.3f}{unit}", f"{max(values):.3f}{unit}"
        print(f"{name:44} {text[0]:>9} {text[1]:>9} {text[2]:>9}")
    login = measures.values["login → grid rows visible"]
    switches = [v for k, vs in measures.values.items() if k.startswith("page switch") for v in vs]
    shifts = [v for k, vs in measures.values.items() if k.startswith("layout shift") for v in vs]
    checks = [
        (
            f"grid after login <= {TARGET_LOGIN_S} s median",
            statistics.median(login) <= TARGET_LOGIN_S,
            f"{statistics.median(login):.2f} s",
        ),
        (
            f"page switch <= {TARGET_SWITCH_S * 1000:.0f} ms median",
            statistics.median(switches) <= TARGET_SWITCH_S,
            f"{statistics.median(switches) * 1000:.0f} ms",
        ),
        ("no layout shift after load (score < 0.01)", max(shifts) < 0.01, f"{max(shifts):.3f}"),
    ]
    print()
    for label, passed, shown in checks:
        ok &= passed
        print(f"{'PASS' if passed else 'FAIL'}  {label} ({shown})")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--investors", type=int, default=2000, help="demo size (the demo's own)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="keep the demo database here")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="crm-bench-ui-"))
    data_dir = args.data_dir or folder / "data"
    if not (data_dir / "crm.db").exists():
        started = time.perf_counter()
        make_demo(data_dir, args.investors)
        print(f"demo fund: {args.investors:,} investors in {time.perf_counter() - started:.1f} s")
    measures = Measures()
    try:
        with server(data_dir) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=FLAGS
            )
            one_round(browser, base, Measures())  # warm-up: first compiles, caches of the server
            for _ in range(args.rounds):
                one_round(browser, base, measures)
            browser.close()
    finally:
        if args.data_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{args.rounds} rounds, 1440 x 900, headless Chromium, server on 127.0.0.1\n")
    report(measures)


if __name__ == "__main__":
    main()
