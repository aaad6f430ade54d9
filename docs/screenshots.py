"""Take the README's screenshots: each main page of the demo fund, as an admin sees it.

    python docs/screenshots.py [--out docs] [--investors 300] [--width 1440]

Builds the demo fund (``crm_lib.demo``, what ``./panel_serve.sh --demo`` shows) in a temporary
folder with an admin, starts ``python -m apps.serve`` on a free loopback port, and saves one PNG
per page into ``--out`` (``docs/`` by default: the files the README shows). Pages are captured
when BokehJS says every view has rendered, so a screenshot never shows a half-built page.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_ui import CHROMIUM, EMAIL, FLAGS, PASSWORD, READY, make_demo, server  # noqa: E402

#: (file name, path, what to wait for besides the page being rendered)
PAGES = (
    ("home.png", "/", None),
    ("grid.png", "/grid", '.tabulator-row .tabulator-cell[tabulator-field="name"]'),
    ("record.png", "/record?id=1", None),
    ("activity.png", "/activity", None),
    ("contacts.png", "/contacts", None),
    ("funds.png", "/funds", None),
    ("requests.png", "/requests", None),
    ("admin.png", "/admin", None),
    ("pipeline.png", "/pipeline", ".crm-opp"),
    ("tasks.png", "/tasks?whose=everyone", ".crm-task"),
    ("automations.png", "/automations", ".crm-sentence"),
    (
        "ask.png",
        "/ask?q=Who+are+our+largest+investors+across+all+funds%3F",
        ".crm-ask-history .tabulator-row",
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--investors", type=int, default=300)
    parser.add_argument("--width", type=int, default=1440)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="crm-screenshots-"))
    data_dir = folder / "data"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        make_demo(data_dir, args.investors)
        with server(data_dir) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=FLAGS
            )
            page = browser.new_page(viewport={"width": args.width, "height": 900})
            page.goto(f"{base}/login?next=%2F")
            page.fill("input[name=email]", EMAIL)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            for name, path, selector in PAGES:
                page.goto(f"{base}{path}")
                page.wait_for_function(READY, timeout=60_000)
                if selector is not None:
                    page.wait_for_selector(selector, timeout=60_000)
                page.wait_for_timeout(300)  # fonts and the last paint
                page.screenshot(path=str(args.out / name), full_page=True)
                print(f"{args.out / name}: {path}")
            browser.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
