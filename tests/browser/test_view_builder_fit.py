"""The view builder fits its panel at 1280 px: nested groups, a two-value condition and the rows of
buttons wrap inside the panel instead of running past its edge."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.apps.server import free_port, running
from tests.browser.conftest import log_in, page_errors

pytestmark = pytest.mark.browser


def overflow(page: Page) -> list[str]:
    """Every control of the view builder that ends past the builder's right edge (by more than
    a pixel), and the page itself if it scrolls sideways. Playwright's CSS pierces the open
    shadow roots Bokeh renders widgets in; document.querySelector does not."""
    edge = page.locator(".crm-view-builder").bounding_box() or {"x": 0, "width": 0}
    right = edge["x"] + edge["width"] + 1
    controls = page.locator(
        ".crm-view-builder select, .crm-view-builder input, .crm-view-builder button"
    )
    ends = controls.evaluate_all(
        "els => els.map(e => [e.tagName + ' ' + (e.textContent || e.placeholder || ''),"
        " e.getBoundingClientRect().width, e.getBoundingClientRect().right])"
    )
    out = [
        f"{name} ends at {end:.0f} > {right:.0f}"
        for name, width, end in ends
        if width and end > right
    ]
    wide = page.evaluate(
        "() => document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    )
    return out + ([f"the page scrolls sideways by {wide} px"] if wide > 1 else [])


@pytest.mark.parametrize("width", [1280, 1440])
def test_the_view_builder_fits_its_panel_with_nested_groups(
    browser: Browser, demo_with_admin: Path, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = page_errors(page)
    port = free_port()
    serve = [sys.executable, "-m", "apps.serve", "--port", str(port)]
    with running(serve, demo_with_admin, port) as base:
        log_in(page, base)
        page.goto(f"{base}/grid")
        page.wait_for_selector('.tabulator-row .tabulator-cell[tabulator-field="name"]')
        page.get_by_role("button", name="☰ View: filter, sort, columns, export").click()
        conditions = page.locator(".crm-condition")
        page.get_by_role("button", name="+ Condition").first.click()
        expect(conditions).to_have_count(1)  # each change re-renders the builder: wait for it
        page.get_by_role("button", name="+ Group").first.click()
        expect(page.locator(".crm-group-2")).to_have_count(1)
        page.locator(".crm-group-2").get_by_role("button", name="+ Group").click()
        expect(page.locator(".crm-group-3")).to_have_count(1)
        deepest = page.locator(".crm-group-3 .crm-condition").last
        deepest.locator("select").nth(0).select_option(label="Total invested")
        expect(deepest.locator("select").nth(1)).to_contain_text("between")
        deepest.locator("select").nth(1).select_option(label="between")
        expect(page.locator(".crm-group-3 .crm-condition input")).to_have_count(2)  # from, to
        page.wait_for_timeout(500)  # the operator's change re-renders the builder once more
        page.get_by_role("button", name="+ Sort").click()
        expect(page.locator(".crm-sort")).to_have_count(1)
        assert overflow(page) == []
        assert errors == []
    context.close()
