"""Long work in Chromium against the served app: a costly formula field shows "Working…", the
server keeps answering meanwhile, and the refusal appears on the page; an export downloads."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.apps.server import free_port, running
from tests.apps.test_long_work import RESPONSIVE_S, probe
from tests.browser.test_grid_page import open_grid
from tests.services.test_formula_budget import HEAVY

pytestmark = pytest.mark.browser


def test_a_heavy_formula_field_works_off_the_loop_and_is_refused_over_budget(
    page: Page, demo_with_admin: Path
) -> None:
    port = free_port()
    command = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(command, demo_with_admin, port, extra_env={"CRM_FORMULA_BUDGET_S": "2"}) as base:
        open_grid(page, base)
        page.get_by_role("button", name="⚙ Fields").click()
        page.locator(".crm-new-field input").fill("Heavy")
        page.locator(".crm-new-type select").select_option(label="Formula")
        formula = page.locator(".crm-new-formula textarea")
        formula.fill(HEAVY)
        formula.press("End")
        add = page.get_by_role("button", name="Add field")
        add.click()
        expect(page.get_by_text("Working… Adding Heavy")).to_be_visible(timeout=10_000)
        expect(add).to_be_disabled()
        waits = [probe(f"{base}/healthz") for _ in range(5)]
        assert max(waits) < RESPONSIVE_S, waits
        expect(page.get_by_text("Formulas took longer than the 2 s").first).to_be_visible(
            timeout=30_000
        )
        expect(add).to_be_enabled()
        expect(page.locator('.tabulator-col[tabulator-field="heavy"]')).to_have_count(0)

        page.get_by_role("button", name="☰ View: filter, sort, columns, export").click()
        with page.expect_download(timeout=30_000) as download:
            page.get_by_role("button", name="CSV").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0].startswith("id,Name") and len(text.splitlines()) > 1
