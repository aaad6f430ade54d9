"""The app shell in Chromium, on every main page, as an admin and as a member: the same header
(product name, full width, the current page marked, admin entries for admins only, the user menu
with profile, API tokens and log out), the design tokens on the login pages too, the confirm
step in front of destructive actions (Cancel and Escape write nothing), notifications that keep
clear of the grid's controls, and a save state that resolves. No console errors anywhere."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import profiles
from playwright.sync_api import Locator, Page, expect

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.server import free_port, running
from tests.browser.conftest import ADMIN_EMAIL, BOB, log_in, page_errors

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
VIEWPORT = {"width": 1300, "height": 1000}
#: page -> whether only admins see it
PAGES = {
    "/": False,
    "/grid": False,
    "/contacts": False,
    "/activity": False,
    "/requests": False,
    "/funds": True,
    "/account": False,
    "/admin": True,
}
#: The primary colour tokens (apps/theme/tokens.css), as the browser computes them.
PRIMARY = "rgb(47, 91, 211)"
PRIMARY_TEXT = "rgb(36, 73, 176)"
PAGE_BACKGROUND = "rgb(245, 246, 248)"
GRID_CELL = '.tabulator-row .tabulator-cell[tabulator-field="name"]'


def shots(tmp_path: Path) -> Path:
    return DOCS if os.environ.get("CRM_UPDATE_SCREENSHOTS") == "1" else tmp_path


@contextmanager
def crm(data_dir: Path) -> Iterator[crm_lib.Context]:
    """The test's own look at the database (what the browser did, or set-up)."""
    ctx = crm_lib.open_crm(
        settings=Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST),
        actor="system:test",
    )
    try:
        yield ctx
    finally:
        ctx.close()


@contextmanager
def served(data_dir: Path) -> Iterator[str]:
    port = free_port()
    with running([sys.executable, "-m", "apps.serve", "--port", str(port)], data_dir, port) as base:
        yield base


def open_page(page: Page, base: str, path: str) -> Locator:
    """Go to ``path`` and wait for the shell's header; returns it."""
    page.goto(f"{base}{path}")
    header = page.locator(".crm-header")
    expect(header.locator(".crm-brand")).to_have_text("VCVenture CRM", timeout=30_000)
    return header


def check_shell(page: Page, path: str, *, admin: bool) -> None:
    """The header of ``path`` as this user sees it."""
    header = page.locator(".crm-header")
    box = header.bounding_box()
    assert box is not None
    # the same header on every page: full width, at the top, the same height
    assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, VIEWPORT["width"], 56), (
        path,
        box,
    )
    current = header.locator('.crm-nav a[aria-current="page"]')
    if path == "/account":  # your account lives in the user menu, which marks it
        expect(current).to_have_count(0)
        expect(header.locator('.crm-menu-profile[aria-current="page"]')).to_have_count(1)
        expect(header.locator(".crm-user-menu.crm-current")).to_have_count(1)
    else:
        expect(current).to_have_count(1)
        expect(current).to_have_attribute("href", path)
        # visibly marked: the current link is drawn unlike the others
        assert current.evaluate("a => getComputedStyle(a).color") == PRIMARY_TEXT
        other = header.locator('.crm-nav a:not([aria-current="page"])').first
        assert other.evaluate("a => getComputedStyle(a).color") != PRIMARY_TEXT
    for admin_path in ("/admin", "/funds"):
        expect(header.locator(f'.crm-nav a[href="{admin_path}"]')).to_have_count(int(admin))
    # the content column is shown once the page has rendered (apps.shell.reveal_when_ready)
    main = page.locator(".crm-main").first
    expect(main).to_have_attribute("data-crm-shown", "1", timeout=10_000)
    expect(main).to_have_css("opacity", "1")
    expect(header.locator(f".{'crm-search-slot'}")).to_have_count(1)
    box = header.locator('.crm-search-slot input[name="q"]')  # the search box, on every page
    expect(box).to_be_visible()
    expect(box).to_have_attribute("placeholder", "Search email and notes")
    # the user menu: closed, opens on a click, closes on Escape
    menu = header.locator(".crm-menu")
    expect(menu).to_be_hidden()
    header.locator(".crm-user-menu summary").click()
    expect(menu.locator(".crm-menu-profile")).to_have_attribute("href", "/account")
    expect(menu.locator(".crm-menu-tokens")).to_have_attribute("href", "/account#api-tokens")
    expect(menu.locator(".crm-menu-logout")).to_have_attribute("href", "/logout")
    for label in ("Profile", "API tokens", "Log out"):
        expect(menu.get_by_role("menuitem", name=label)).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()


#: Sums the page's layout shifts (the Cumulative Layout Shift of web vitals) from its start.
LAYOUT_SHIFT_PROBE = """
window.__crmShift = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!entry.hadRecentInput) window.__crmShift += entry.value;
  }
}).observe({type: "layout-shift", buffered: true});
"""
#: Web vitals call a page's layout shift good up to 0.1.
GOOD_LAYOUT_SHIFT = 0.1


def test_every_page_has_the_shell_for_an_admin(page: Page, team_data: Path, tmp_path: Path) -> None:
    page.set_viewport_size(VIEWPORT)
    page.add_init_script(LAYOUT_SHIFT_PROBE)
    errors = page_errors(page)
    with served(team_data) as base:
        log_in(page, base)
        for path in PAGES:
            open_page(page, base, path)
            check_shell(page, path, admin=True)
            page.wait_for_timeout(300)  # anything late to draw has drawn
            shift = page.evaluate("window.__crmShift")
            assert shift < GOOD_LAYOUT_SHIFT, (path, shift)
            name = path.strip("/") or "home"
            page.screenshot(path=str(shots(tmp_path) / f"shell-admin-{name}.png"))
    assert errors == []


def test_every_page_has_the_shell_for_a_member_without_admin_entries(
    page: Page, team_data: Path, tmp_path: Path
) -> None:
    page.set_viewport_size(VIEWPORT)
    errors = page_errors(page)
    with served(team_data) as base:
        log_in(page, base, email=BOB)
        for path, admin_only in PAGES.items():
            if not admin_only:
                open_page(page, base, path)
                check_shell(page, path, admin=False)
        assert errors == []
        # an admin page typed in by hand: refused, in the product's look
        page.goto(f"{base}/admin")
        expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
        expect(page.locator(".crm-auth-brand")).to_have_text("VCVenture CRM")
        page.screenshot(path=str(shots(tmp_path) / "shell-member-forbidden.png"))


def test_the_user_menu_leads_to_the_api_tokens_and_logs_out(page: Page, team_data: Path) -> None:
    page.set_viewport_size({"width": 1300, "height": 500})  # the tokens are below the fold
    errors = page_errors(page)
    with served(team_data) as base:
        log_in(page, base, email=BOB)
        header = open_page(page, base, "/contacts")
        header.locator(".crm-user-menu summary").click()
        page.mouse.click(650, 450)  # a click elsewhere closes the menu
        expect(header.locator(".crm-menu")).to_be_hidden()
        header.locator(".crm-user-menu summary").click()
        header.get_by_role("menuitem", name="API tokens").click()
        page.wait_for_url("**/account#api-tokens")
        tokens = page.get_by_role("heading", name="API tokens")
        expect(tokens).to_be_in_viewport(timeout=10_000)  # scrolled to the tokens section
        assert page.evaluate("window.scrollY") > 0
        header = page.locator(".crm-header")
        header.locator(".crm-user-menu summary").click()
        header.get_by_role("menuitem", name="Log out").click()
        page.wait_for_url("**/logout")
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert errors == []


def test_the_login_pages_use_the_same_tokens_and_name(page: Page, team_data: Path) -> None:
    errors = page_errors(page)
    with served(team_data) as base:
        page.goto(f"{base}/login")
        expect(page.locator(".crm-auth-brand")).to_have_text("VCVenture CRM")
        button = page.locator("button[type=submit]")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == PRIMARY
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == PAGE_BACKGROUND
        with crm(team_data) as ctx:
            link = services.invite_user(ctx, "carol@fund.example", "member")
        page.goto(link.url.replace(link.url.split("/invite/")[0], base))
        expect(page.get_by_role("heading", name="Join Venture CRM")).to_be_visible()
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == PRIMARY
        log_in(page, base)
        page.goto(f"{base}/logout")
        expect(page.locator(".crm-auth-brand")).to_have_text("VCVenture CRM")
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == PRIMARY
        # Panel pages get the same tokens: the page background and a primary button
        open_page(page, base, "/account")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == PAGE_BACKGROUND
        create = page.get_by_role("button", name="Create token")
        assert create.evaluate("b => getComputedStyle(b).backgroundColor") == PRIMARY
        revoke = page.get_by_role("button", name="Revoke token")
        assert revoke.evaluate("b => getComputedStyle(b).backgroundColor") != PRIMARY  # danger
    assert errors == []


def archived_count(data_dir: Path) -> int:
    with crm(data_dir) as ctx:
        return services.count_by_list(ctx).get("archived", 0)


def test_destructive_actions_confirm_and_cancel_writes_nothing(
    page: Page, team_data: Path, tmp_path: Path
) -> None:
    page.set_viewport_size(VIEWPORT)
    errors = page_errors(page)
    with crm(team_data) as ctx:
        alice = next(u for u in services.list_accounts(ctx) if u["email"] == ADMIN_EMAIL)
        token = services.create_api_token(ctx.as_user(alice), "nightly sync")["token"]
    with served(team_data) as base:
        log_in(page, base)
        open_page(page, base, "/grid")
        page.wait_for_selector(GRID_CELL, timeout=30_000)
        page.locator(".tabulator-row").first.locator("input[type=checkbox]").first.click()
        page.get_by_role("button", name="Archive selected").click()
        question = page.locator(".crm-confirm-question")
        expect(question).to_have_text("Archive 1 investor?")
        page.screenshot(path=str(shots(tmp_path) / "shell-confirm.png"))
        page.get_by_role("button", name="Cancel").click()
        expect(question).to_be_hidden()
        page.get_by_role("button", name="Archive selected").click()
        expect(question).to_be_visible()
        page.keyboard.press("Escape")  # Escape cancels too
        expect(question).to_be_hidden()
        assert archived_count(team_data) == 0
        page.get_by_role("button", name="Archive selected").click()
        page.get_by_role("button", name="Archive", exact=True).click()
        expect(page.get_by_text("Archived 1 investor").first).to_be_visible(timeout=10_000)
        assert archived_count(team_data) == 1

        open_page(page, base, "/account")
        page.get_by_role("button", name="Revoke token").click()
        expect(question).to_contain_text("Revoke the token nightly sync")
        page.get_by_role("button", name="Cancel").click()
        expect(question).to_be_hidden()
        with crm(team_data) as ctx:
            assert services.authenticate_api_token(ctx, token)["email"] == ADMIN_EMAIL
    assert errors == []


def boxes_overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_toasts_and_the_save_state_keep_clear_of_the_grid(
    page: Page, team_data: Path, tmp_path: Path
) -> None:
    page.set_viewport_size(VIEWPORT)
    errors = page_errors(page)
    with served(team_data) as base:
        log_in(page, base)
        open_page(page, base, "/grid")
        page.wait_for_selector(GRID_CELL, timeout=30_000)
        # a long save state: the pager stays where it was, the text is cut, not spread
        pager = page.get_by_role("button", name="▶")
        before = pager.bounding_box()
        cell = page.locator(".tabulator-row").first.locator(
            '.tabulator-cell[tabulator-field="location"]'
        )
        cell.dblclick()
        editor = page.locator(".tabulator-cell.tabulator-editing input")
        editor.press("Control+a")
        editor.type("Somewhere new, MA")
        editor.press("Enter")
        expect(page.locator(".crm-summary .crm-saved")).to_have_text(
            "Saved Location", timeout=10_000
        )
        assert pager.bounding_box() == before
        summary = page.locator(".crm-summary").bounding_box()
        assert summary is not None and before is not None
        assert not boxes_overlap(summary, page.get_by_role("button", name="◀").bounding_box())
        # a notification: bottom-right, narrow, over none of the grid's controls or rows
        page.get_by_role("button", name="Archive selected").click()  # nothing ticked: says so
        toast = page.locator(".notyf__toast").first
        expect(toast).to_contain_text("Tick the rows to archive first.")
        page.wait_for_timeout(500)  # its entry animation
        box = toast.bounding_box()
        assert box is not None and box["width"] <= 360
        assert box["x"] + box["width"] >= VIEWPORT["width"] - 40
        assert box["y"] + box["height"] >= VIEWPORT["height"] - 40
        for selector in (
            ".crm-header",
            ".crm-lists",
            ".crm-search",
            ".crm-summary",
            ".tabulator",
            ".crm-grid-footer",
        ):
            other = page.locator(selector).first.bounding_box()
            assert other is not None and not boxes_overlap(box, other), selector
        page.screenshot(path=str(shots(tmp_path) / "shell-toast.png"))
    assert errors == []
