"""The stack's own floor under bench_ui.py's figures: what Panel, Bokeh and Tabulator take on
this machine with none of the CRM's code, so the CRM's numbers can be read against it.

Serves three bare Panel pages with ``panel serve`` on 127.0.0.1 (no login, no database):

* ``/a`` and ``/b``: a heading and a link to the other: a page switch with nothing on the page;
* ``/t``: one Tabulator of 50 rows by 22 columns with set widths, the grid's shape and size.

and times, in headless Chromium like bench_ui.py, a click from ``/a`` to ``/b`` until Bokeh is
idle, and opening ``/t`` in a fresh browser context until its rows show.

    python bench/bench_ui_floor.py --rounds 5
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ui import CHROMIUM, FLAGS, READY, free_port, percentile
from playwright.sync_api import sync_playwright

LINK_PAGE = """
import panel as pn
pn.pane.Markdown("# Page {name}\\n\\n[to the other page](/{other})").servable()
"""
TABLE_PAGE = """
import pandas as pd
import panel as pn
columns = [f"c{{i}}" for i in range(22)]
frame = pd.DataFrame({{c: [f"value {{r}} {{c}}" for r in range(50)] for c in columns}})
pn.widgets.Tabulator(
    frame, layout="fit_data_fill", height=620, sizing_mode="stretch_width",
    widths={{c: 150 for c in columns}}, configuration={{"rowHeight": 30}}, show_index=False,
).servable()
"""
ROW = '.tabulator-row .tabulator-cell[tabulator-field="c0"]'


def serve(folder: Path, port: int) -> subprocess.Popen[bytes]:
    apps = [str(folder / name) for name in ("a.py", "b.py", "t.py")]
    command = [sys.executable, "-m", "panel", "serve", *apps, "--port", str(port)]
    command += ["--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    switches: list[float] = []
    tables: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a.py").write_text(LINK_PAGE.format(name="A", other="b"))
        (folder / "b.py").write_text(LINK_PAGE.format(name="B", other="a"))
        (folder / "t.py").write_text(TABLE_PAGE.format())
        port = free_port()
        server = serve(folder, port)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
                deadline = time.monotonic() + 60
                while True:  # the server is up once a page answers
                    try:
                        probe = browser.new_page()
                        probe.goto(f"{base}/a", timeout=5_000)
                        probe.close()
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.5)
                for _ in range(args.rounds):
                    context = browser.new_context(viewport={"width": 1440, "height": 900})
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(f"{base}/t")
                    page.wait_for_selector(ROW, state="visible", timeout=60_000)
                    tables.append(time.perf_counter() - started)
                    page.goto(f"{base}/a")
                    page.wait_for_function(READY, timeout=60_000)
                    started = time.perf_counter()
                    page.get_by_role("link", name="to the other page").click()
                    page.wait_for_url(f"{base}/b", timeout=60_000)
                    page.wait_for_function(READY, timeout=60_000)
                    switches.append(time.perf_counter() - started)
                    context.close()
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.rounds} rounds, 1440 x 900, headless Chromium, bare Panel on 127.0.0.1\n")
    print(f"{'measure':52} {'p50':>9} {'p95':>9}")
    for name, values in (
        ("bare page switch (heading + link) → Bokeh idle", switches),
        ("bare Tabulator 50 x 22, new context → rows visible", tables),
    ):
        print(f"{name:52} {percentile(values, 0.5):7.3f} s {percentile(values, 0.95):7.3f} s")


if __name__ == "__main__":
    main()
