"""Importing an Airtable export from the served grid in Chromium: upload, preview, import, and the
new investor in the grid (the steps run off the event loop; progress arrives on the next tick)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_grid_page import cell, open_grid, served, shots

pytestmark = pytest.mark.browser
EXPORT = b"""Name,Record ID,Status,Contacts
Zephyr Imported Capital,recZZZZZZZZZZZZZZ,Meeting,"Jane Doe <jane@zephyr.example>"
Yonder Imported Partners,recYYYYYYYYYYYYYY,Prospect,
"""


def test_upload_preview_and_import_an_airtable_export(
    page: Page, demo_with_admin: Path, tmp_path: Path
) -> None:
    with served(demo_with_admin) as base:
        open_grid(page, base)
        page.get_by_role("button", name="⇪ Import").click()
        page.set_input_files(
            ".crm-import-file input[type=file]",
            files=[{"name": "Investors-Grid view.csv", "mimeType": "text/csv", "buffer": EXPORT}],
        )
        expect(page.locator(".crm-import-facts")).to_contain_text(
            "Investors-Grid view.csv: 2 rows", timeout=10_000
        )
        expect(page.locator(".crm-import-target select")).to_have_count(4)
        import_button = page.get_by_role("button", name="Import", exact=True)
        expect(import_button).to_be_disabled()
        page.get_by_role("button", name="Preview changes").click()
        summary = page.locator(".crm-import-summary")
        expect(summary).to_contain_text("Would create 2", timeout=10_000)
        expect(summary).to_contain_text("Dry run: nothing was written.")
        expect(import_button).to_be_enabled()
        page.screenshot(path=str(shots(tmp_path) / "import.png"), full_page=True)
        assert (shots(tmp_path) / "import.png").stat().st_size > 10_000
        import_button.click()
        expect(summary).to_contain_text("Did create 2", timeout=10_000)
        expect(
            page.get_by_text("Imported Investors-Grid view.csv: 2 created").first
        ).to_be_visible()
        search = page.locator(".crm-search input")
        search.fill("Zephyr Imported")
        search.press("Enter")
        expect(cell(page, "name")).to_have_text("Zephyr Imported Capital", timeout=10_000)
        expect(cell(page, "status")).to_have_text("Meeting")
