"""The app shell without a browser: the header every page gets (product name, navigation with
the current page marked, admin entries for admins only, the user menu, the empty search slot),
the confirm step in front of destructive actions (Cancel writes nothing), the design tokens, and
the grid's save state, which always ends in saved, a conflict or "not saved"."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from types import SimpleNamespace
from typing import Any

import panel as pn
import pytest

import crm_lib
from apps import theme
from apps.account.page import AccountPage
from apps.activity.page import ActivityPage
from apps.admin.page import AdminPage
from apps.chrome import nav_bar
from apps.contacts.page import ContactsPage
from apps.funds.page import FundsPage
from apps.grid import saving
from apps.grid.page import GridPage
from apps.requests.page import RequestsPage
from apps.runtime import Runtime
from apps.shell import NAV, SEARCH_SLOT_CLASS, AppHeader, ConfirmDialog, nav_html, user_menu_html
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.errors import DatabaseBusy
from tests.apps.conftest import PASSWORD, session_of

ADMIN, MEMBER = "alice@fund.example", "bob@fund.example"
ADMIN_ONLY = ("/admin", "/funds")
#: page class -> the path its header marks as current
USER_PAGES = {
    ContactsPage: "/contacts",
    ActivityPage: "/activity",
    RequestsPage: "/requests",
    FundsPage: "/funds",
    AccountPage: "/account",
    AdminPage: "/admin",
}


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    services.bulk_create_investors(
        ctx, [{"name": f"Investor {n:02d}", "list_membership": "main"} for n in range(1, 6)]
    )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def current_links(html: str) -> list[str]:
    """The hrefs marked as the current page."""
    return re.findall(r'href="([^"]+)" aria-current="page"', html)


def nav_links(html: str) -> list[str]:
    return re.findall(r'<li><a href="([^"]+)"', html)


# -- the header ----------------------------------------------------------------------------------
@pytest.mark.parametrize("here", [path for path, _, _ in NAV])
def test_the_header_marks_exactly_the_current_page(runtime: Runtime, here: str) -> None:
    html = nav_html(session_of(runtime, ADMIN), here)
    assert "Venture CRM" in html
    assert current_links(html) == [here]


def test_admin_entries_are_hidden_from_members(runtime: Runtime) -> None:
    member = nav_links(nav_html(session_of(runtime, MEMBER), "/"))
    admin = nav_links(nav_html(session_of(runtime, ADMIN), "/"))
    assert member == [
        "/",
        "/grid",
        "/pipeline",
        "/tasks",
        "/contacts",
        "/activity",
        "/email",
        "/ask",
        "/automations",
        "/requests",
    ]
    assert admin == [*member, "/funds", "/admin"]


def test_the_user_menu_has_profile_tokens_and_log_out(runtime: Runtime) -> None:
    html = user_menu_html(session_of(runtime, MEMBER), "/grid")
    entries = re.findall(r'role="menuitem" class="crm-menu-(\w+)" href="([^"]+)"', html)
    assert entries == [
        ("profile", "/account"),
        ("tokens", "/account#api-tokens"),
        ("logout", "/logout"),
    ]
    assert "Signed in as <b>Bob</b> (member)" in html and "bob@fund.example" in html
    # on the account page, its menu entry is marked current (it is not in the navigation)
    assert current_links(user_menu_html(session_of(runtime, MEMBER), "/account")) == ["/account"]


def test_the_users_name_is_text_in_the_header(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        link = services.invite_user(ctx, "eve@fund.example", "member")
        services.accept_link(
            ctx, link.token, name='<img src=x onerror="alert(1)">', password=PASSWORD
        )
    html = user_menu_html(session_of(runtime, "eve@fund.example"), "/")
    assert "<img" not in html and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html


def test_nav_bar_is_the_shell_header_with_the_search_box(runtime: Runtime) -> None:
    header = nav_bar(session_of(runtime, MEMBER), "/grid")
    assert isinstance(header, AppHeader)
    assert header.search_slot.css_classes == [SEARCH_SLOT_CLASS]
    [box] = list(header.search_slot)
    assert '<form class="crm-search-form" role="search" action="/search" method="get">' in (
        box.object
    )
    assert 'name="q"' in box.object
    assert 'href="/admin"' not in header.object and 'href="/logout"' in header.object


@pytest.mark.parametrize("page_class", list(USER_PAGES))
def test_every_page_is_laid_out_in_the_shell(runtime: Runtime, page_class: type) -> None:
    page = page_class(runtime, session=session_of(runtime, ADMIN))
    layout = pn.panel(page).get_root()  # lays the page out as a served session would
    assert layout is not None
    headers = [o for o in pn.panel(page).select(AppHeader)]
    assert len(headers) == 1
    assert current_links(headers[0].object) == [USER_PAGES[page_class]]
    assert page.confirmation.modal in list(pn.panel(page).select(pn.Modal))


def test_the_grid_and_home_use_the_shell_too(runtime: Runtime) -> None:
    from apps.home.page import HomePage

    grid = GridPage(runtime, session=session_of(runtime, MEMBER))
    [header] = pn.panel(grid).select(AppHeader)
    assert current_links(header.object) == ["/grid"]
    home = HomePage(runtime)
    assert len(pn.panel(home).select(AppHeader)) == 1


# -- the confirm step ----------------------------------------------------------------------------
def test_the_confirm_step_calls_nothing_until_confirmed() -> None:
    calls: list[str] = []
    dialog = ConfirmDialog()
    dialog.ask("Archive <b>Acme</b>?", "Archive", lambda: calls.append("archived"), "Restorable.")
    assert dialog.pending and calls == []
    assert dialog._body.question == "Archive <b>Acme</b>?"  # drawn as text by the browser:
    assert "textContent" in dialog._body._esm and "innerHTML" not in dialog._body._esm
    assert dialog._yes.label == "Archive" and dialog._yes.color == "danger"
    dialog._body.escapes += 1  # Escape in the browser
    assert not dialog.pending and calls == []
    dialog.accept()  # nothing pending any more: nothing runs
    assert calls == []
    dialog.ask("Archive Acme?", "Archive", lambda: calls.append("archived"))
    dialog.accept()
    dialog.accept()
    assert calls == ["archived"]  # once


def click(button: pn.widgets.Button) -> None:
    """What a click in the browser does to a Panel button."""
    button.clicks += 1


def test_deactivating_a_user_asks_first_and_cancel_writes_nothing(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, ADMIN))
    page.user_choice.value = next(v for k, v in page.user_choice.options.items() if "bob" in k)
    click(page.buttons["deactivate"])
    assert page.confirmation.pending
    assert page.confirmation.question == "Deactivate Bob <bob@fund.example>?"
    page.confirmation.cancel()
    assert is_active(runtime, MEMBER)
    click(page.buttons["deactivate"])
    page.confirmation.accept()
    assert page.message == "Deactivated." and not is_active(runtime, MEMBER)


def is_active(runtime: Runtime, email: str) -> bool:
    with runtime.context() as ctx:
        return bool(
            next(u for u in services.list_accounts(ctx) if u["email"] == email)["is_active"]
        )


def test_revoking_an_invite_asks_first(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, ADMIN))
    page.invite_email.value = "carol@fund.example"
    page.invite()
    page.invite_choice.value = page.invites_table.value["Id"].iloc[0]
    click(page.buttons["revoke"])
    page.confirmation.cancel()
    assert len(page.invites_table.value) == 1
    click(page.buttons["revoke"])
    page.confirmation.accept()
    assert page.invites_table.value.empty


def test_revoking_a_token_asks_first_and_cancel_keeps_it(runtime: Runtime) -> None:
    page = AccountPage(runtime, session=session_of(runtime, MEMBER))
    page.token_name.value = "nightly sync"
    page.create_token()
    token = page.new_token.value
    page.token_choice.value = page.tokens_table.value["Id"].iloc[0]
    click(page.revoke_button)
    assert page.confirmation.question.startswith("Revoke the token nightly sync")
    page.confirmation.cancel()
    with runtime.context() as ctx:
        assert services.authenticate_api_token(ctx, token)["email"] == MEMBER
    click(page.revoke_button)
    page.confirmation.accept()
    assert page.tokens_table.value.empty


def test_archiving_rows_asks_first_and_restoring_does_not(runtime: Runtime) -> None:
    page = GridPage(runtime, session=session_of(runtime, MEMBER))
    page.table.selection = [0, 1]
    click(page.rows_button)
    assert page.confirmation.question == "Archive 2 investors?"
    page.confirmation.cancel()
    assert page.store.counts.get("archived", 0) == 0 and page.store.total == 5
    page.table.selection = [0]
    click(page.rows_button)
    page.confirmation.accept()
    assert page.store.counts["archived"] == 1 and page.store.total == 4
    page.list_tabs.value = "archived"
    page.table.selection = [0]
    click(page.rows_button)  # restoring is not destructive: no question
    assert not page.confirmation.pending and page.store.total == 0


def test_the_record_panel_asks_before_archiving_the_investor(runtime: Runtime) -> None:
    page = GridPage(runtime, session=session_of(runtime, MEMBER))
    investor_id = int(page.table.value["id"].iloc[0])
    page.open_record(investor_id)
    click(page.record.archive_button)
    assert page.confirmation.question == "Archive Investor 01?"
    page.confirmation.cancel()
    assert page.store.total == 5
    click(page.record.archive_button)
    page.confirmation.accept()
    assert page.store.total == 4


# -- the design tokens ---------------------------------------------------------------------------
TOKEN_GROUPS = ("--crm-color-", "--crm-space-", "--crm-font-size-", "--crm-radius-", "--crm-focus-")


def test_the_tokens_define_colours_spacing_type_radii_and_focus_rings() -> None:
    tokens = theme.TOKENS_CSS.read_text()
    for group in TOKEN_GROUPS:
        assert f"{group}" in tokens, group
    # Panel's own variables follow the tokens, so widgets we do not style by hand do too
    assert "--panel-primary-color: var(--crm-color-primary)" in tokens


@pytest.mark.parametrize("sheet", [theme.COMPONENTS_CSS, theme.PAGE_CSS])
def test_other_stylesheets_use_the_tokens_not_their_own_colours(sheet: Any) -> None:
    text = re.sub(r"/\*.*?\*/", "", sheet.read_text(), flags=re.S)
    assert not re.findall(r"#[0-9a-fA-F]{3,8}\b", text.replace("#ffffff", ""))
    assert "var(--crm-" in text


def test_tabulator_is_themed_by_the_tokens() -> None:
    text = theme.COMPONENTS_CSS.read_text()
    assert ":host .tabulator .tabulator-header {" in text
    assert "var(--crm-color-selected)" in text


def test_nothing_is_fetched_from_the_internet() -> None:
    for path in theme.THEME_DIR.glob("*.css"):
        assert "http" not in path.read_text() and "@import" not in path.read_text(), path


def test_install_sets_the_design_and_the_page_stylesheet() -> None:
    design, raw = pn.config.design, list(pn.config.raw_css)
    try:
        theme.install()
        theme.install()  # idempotent
        assert pn.config.design is theme.CRMDesign
        assert pn.config.raw_css.count(theme.page_css()) == 1
        assert "--crm-color-primary" in theme.page_css() and ".notyf__toast" in theme.page_css()
    finally:
        pn.config.design, pn.config.raw_css = design, raw


# -- the grid's save state -----------------------------------------------------------------------
def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_a_slow_save_says_so_and_then_resolves() -> None:
    shown: list[str] = []

    async def slow() -> SimpleNamespace:
        await asyncio.sleep(0.05)
        return SimpleNamespace(error=None)

    outcome = run(saving.save_patiently(slow, shown.append, "Location", slow_s=0.01))
    assert outcome.error is None
    assert shown == [saving.state_html("slow", "Location")]


def test_a_busy_database_is_retried_once_then_reported() -> None:
    shown: list[str] = []
    answers = [DatabaseBusy(5), None]

    async def busy_then_saved() -> SimpleNamespace:
        return SimpleNamespace(error=answers.pop(0))

    outcome = run(saving.save_patiently(busy_then_saved, shown.append, "Status", delay_s=0))
    assert outcome.error is None and shown == [saving.state_html("retrying", "Status")]

    always_busy: list[int] = []

    async def busy() -> SimpleNamespace:
        always_busy.append(1)
        return SimpleNamespace(error=DatabaseBusy(5))

    outcome = run(saving.save_patiently(busy, shown.append, "Status", delay_s=0))
    assert isinstance(outcome.error, DatabaseBusy) and len(always_busy) == 2  # not forever


def edit_in_browser(page: GridPage, position: int, key: str, value: Any) -> list[str]:
    """What a browser edit does (Tabulator's edit event, then the page's async handler); the
    save states the page showed, in order."""
    shown: list[str] = []
    set_state = page.set_save_state

    def record(text: str) -> None:
        shown.append(text)
        set_state(text)

    page.set_save_state = record  # type: ignore[method-assign]
    old = page.table.value[key].iloc[position]
    page.table.patch({key: [(position, value)]}, as_index=False)
    page._on_edit(SimpleNamespace(column=key, row=position, value=value, old=old))
    return shown


def test_an_edit_shows_saving_then_saved(runtime: Runtime) -> None:
    page = GridPage(runtime, session=session_of(runtime, MEMBER))
    shown = edit_in_browser(page, 0, "location", "Boston, MA")
    assert [re.sub("<[^>]+>", "", s) for s in shown] == [
        "Saving Location… ·",
        "Saved Location ·",
    ]


def test_an_edit_that_fails_unexpectedly_still_resolves(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = GridPage(runtime, session=session_of(runtime, MEMBER))

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "update_field", broken)
    shown = edit_in_browser(page, 0, "location", "Boston, MA")
    assert "crm-failed" in shown[-1] and "Not saved: Location" in shown[-1]
    assert page.failed and "nothing was saved" in page.message
    assert page.table.value["location"].iloc[0] != "Boston, MA"  # the value was put back


def test_an_edit_behind_a_locked_database_retries_and_resolves(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = GridPage(runtime, session=session_of(runtime, MEMBER))
    real, calls = services.update_field, []

    def locked_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise DatabaseBusy(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "update_field", locked_once)
    monkeypatch.setattr(saving, "RETRY_DELAY_S", 0)
    shown = edit_in_browser(page, 0, "location", "Boston, MA")
    assert len(calls) == 2 and "crm-retrying" in shown[1] and "crm-saved" in shown[-1]


def test_a_driver_error_during_a_save_is_reported_not_raised(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = GridPage(runtime, session=session_of(runtime, MEMBER))

    def disk_full(*_args: Any, **_kwargs: Any) -> None:
        error = sqlite3.OperationalError("database or disk is full")
        error.sqlite_errorcode = 13  # type: ignore[attr-defined]
        raise error

    monkeypatch.setattr(services, "update_field", disk_full)
    shown = edit_in_browser(page, 0, "location", "Boston, MA")
    assert "crm-failed" in shown[-1] and page.failed
