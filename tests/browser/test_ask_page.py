"""Ask in Chromium: type part of a question, pick a curated one from the suggestions, answer it
as a table with its SQL highlighted, edit the SQL and run it again, then open the answer's
investors in the grid as a temporary view."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.apps.server import free_port, running
from tests.browser.conftest import log_in, page_errors

pytestmark = pytest.mark.browser


def test_pick_a_suggested_question_edit_its_sql_and_open_it_in_the_grid(
    page: Page, demo_with_admin: Path
) -> None:
    errors = page_errors(page)
    port = free_port()
    command = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(command, demo_with_admin, port, extra_env={"CRM_JOBS": "off"}) as base:
        log_in(page, base)
        page.locator(".crm-nav a[href='/ask']").click()
        page.wait_for_url("**/ask")
        box = page.locator(".crm-ask-question input")
        expect(box).to_be_visible(timeout=30_000)
        box.press_sequentially("largest investors in", delay=30)
        suggestion = page.get_by_text("Who are the largest investors in a fund?")
        expect(suggestion).to_be_visible(timeout=10_000)
        suggestion.click()
        expect(page.get_by_text("Fund", exact=True).first).to_be_visible(timeout=10_000)
        page.locator(".bk-btn", has_text=re.compile(r"^Ask$")).click()
        rows = page.locator(".crm-ask-answer .tabulator-row")
        expect(rows.first).to_be_visible(timeout=30_000)
        expect(page.get_by_text(re.compile(r"\d+ rows · "))).to_be_visible()
        expect(page.locator(".crm-sql .k", has_text="SELECT").first).to_be_visible()
        page.locator(".bk-btn", has_text="Edit SQL").click()
        editor = page.locator(".crm-ask-sql-editor textarea")
        expect(editor).to_be_visible()
        editor.fill("SELECT id, name FROM investors ORDER BY id LIMIT 3")
        page.locator(".bk-btn", has_text="Run SQL").click()
        expect(page.get_by_text("3 rows · ")).to_be_visible(timeout=30_000)
        expect(rows).to_have_count(3)
        link = page.locator("a.crm-ask-grid")
        expect(link).to_have_text("Open 3 investors in the grid")
        link.click()
        page.wait_for_url("**/grid?ask=*")
        expect(page.get_by_text("the 3 investors of an answer")).to_be_visible(timeout=30_000)
        expect(page.locator(".tabulator-row")).to_have_count(3, timeout=30_000)
    assert errors == []
