"""The admin, account and feature-request pages, driven through their widgets without a browser
(as Panel's own tutorials test pages): each action goes through the services as the page's user."""

from __future__ import annotations

import pytest

import crm_lib
from apps.account.page import AccountPage
from apps.admin.page import AdminPage
from apps.chrome import nav_bar
from apps.contacts.page import ContactsPage
from apps.funds.page import FundsPage
from apps.requests.page import RequestsPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.errors import NotAuthenticated
from tests.apps.conftest import PASSWORD, session_of


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    return Runtime(settings_with_team, secret_key="k" * 48)


def test_admin_invites_changes_roles_and_deactivates(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    assert list(page.users_table.value["Email"]) == ["alice@fund.example", "bob@fund.example"]
    assert page.user_choice.value == page.users_table.value["Id"].iloc[0]  # never an empty pick
    assert "FAIL" in page.security.object and "Secret key" in page.security.object
    page.invite_email.value = "carol@fund.example"
    page.invite_role.value = "member"
    page.invite()
    assert page.link_output.visible and "/invite/" in page.link_output.value
    assert list(page.invites_table.value["Email"]) == ["carol@fund.example"]
    page.invite_choice.value = page.invites_table.value["Id"].iloc[0]
    page.revoke()
    assert page.message == "Invite revoked." and page.invites_table.value.empty

    bob_session = session_of(runtime, "bob@fund.example")
    page.user_choice.value = next(v for k, v in page.user_choice.options.items() if "bob" in k)
    page.role_choice.value = "admin"
    page.set_role()
    assert list(page.users_table.value["Role"])[1] == "Admin"  # the role's label
    page.set_active(False)
    assert page.message == "Deactivated." and list(page.users_table.value["Active"]) == ["✓", ""]
    with runtime.context() as ctx, pytest.raises(crm_lib.errors.NotAuthenticated):
        services.authenticate_session(ctx, bob_session.token)


def test_admin_page_reports_refusals_instead_of_crashing(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.invite_email.value = "not an email"
    page.invite()
    assert page.failed and "is not an email address" in page.message
    page.user_choice.value = next(v for k, v in page.user_choice.options.items() if "alice" in k)
    page.set_active(False)
    assert page.failed and page.message == "You cannot deactivate your own account"


def test_a_member_opening_the_admin_page_gets_nothing(runtime: Runtime) -> None:
    page = AdminPage(runtime, session=session_of(runtime, "bob@fund.example"))
    assert page.failed and page.message == "Only admins can manage users and invites"
    assert page.users_table.value.empty


def test_actions_after_logout_are_refused(runtime: Runtime) -> None:
    session = session_of(runtime, "bob@fund.example")
    page = AccountPage(runtime, session=session)
    with runtime.context() as ctx:
        services.logout(ctx, session.token)
    page.token_name.value = "late"
    page.create_token()
    assert page.failed and "log in" in page.message.lower()
    with runtime.context() as ctx:
        assert services.list_api_tokens(ctx.as_user(session.user)) == []


def test_account_page_tokens_and_password(runtime: Runtime) -> None:
    session = session_of(runtime, "bob@fund.example")
    page = AccountPage(runtime, session=session)
    page.token_name.value = "nightly sync"
    page.create_token()
    token = page.new_token.value
    assert token.startswith("crm_") and list(page.tokens_table.value["Name"]) == ["nightly sync"]
    with runtime.context() as ctx:
        assert services.authenticate_api_token(ctx, token)["email"] == "bob@fund.example"
    page.current_password.value = PASSWORD
    page.new_password.value = "lantern quarry velvet"
    page.repeat_password.value = "lantern quarry velvet x"
    page.change_password()
    assert page.failed and page.message == "The two new passwords differ"
    page.repeat_password.value = "lantern quarry velvet"
    page.change_password()
    assert not page.failed and page.current_password.value == ""
    runtime.authenticate(session.token)  # this session was kept
    # ... but a new password revokes every API token, as it ends other sessions
    assert page.tokens_table.value.empty
    with runtime.context() as ctx, pytest.raises(NotAuthenticated):
        services.authenticate_api_token(ctx, token)
    page.token_name.value = "after the change"
    page.create_token()
    page.token_choice.value = page.tokens_table.value["Id"].iloc[0]
    page.revoke_token()
    assert page.tokens_table.value.empty


def test_requests_page_files_votes_and_admin_sets_status(runtime: Runtime) -> None:
    bob = RequestsPage(runtime, session=session_of(runtime, "bob@fund.example"))
    bob.title.value = "Pipeline board"
    bob.file()
    assert list(bob.table.value["Votes"]) == [1] and not bob.is_admin
    bob.toggle_vote()
    assert list(bob.table.value["Votes"]) == [0]
    alice = RequestsPage(runtime, session=session_of(runtime, "alice@fund.example"))
    alice.choice.value = alice.rows[0]["id"]
    alice.status_choice.value = "planned"
    alice.set_status()
    assert list(alice.table.value["Status"]) == ["Planned"] and alice.is_admin
    bob.choice.value = bob.rows[0]["id"]
    bob.set_status()
    assert bob.failed and "Only admins" in bob.message


def test_navigation_shows_admin_only_to_admins(runtime: Runtime) -> None:
    member = nav_bar(session_of(runtime, "bob@fund.example"), "/").object
    admin = nav_bar(session_of(runtime, "alice@fund.example"), "/").object
    assert 'href="/admin"' not in member and 'href="/admin"' in admin
    assert 'href="/logout"' in member


def test_funds_page_creates_edits_and_shows_the_matrix(runtime: Runtime) -> None:
    page = FundsPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.fund_name.value = "Fund IV"
    page.vintage.value = 2026
    page.target.value = "$200,000,000"
    page.save()
    assert not page.failed and list(page.funds_table.value["Fund"]) == ["Fund IV"]
    fund_id = page.choice.value
    with runtime.context() as ctx:
        acme = services.create_investor(ctx, {"name": "Acme"})
        beta = services.create_investor(ctx, {"name": "Beta"})
        services.set_commitment(ctx, acme["id"], fund_id, 30_000_000)
        services.set_commitment(ctx, beta["id"], fund_id, 50_000_000)
    page.refresh()
    matrix = page.matrix_table.value
    assert list(matrix["Investor"]) == ["Beta", "Acme"]
    assert list(matrix[f"fund_{fund_id}"]) == [50e6, 30e6]
    assert page.matrix_table.titles[f"fund_{fund_id}"] == "Fund IV"
    assert "$80,000,000 of $200,000,000 (40%)" in page.matrix_info.object
    page.status_choice.value = "closed"
    page.save()
    assert list(page.funds_table.value["Status"]) == ["Closed"]
    page.fund_name.value = ""
    page.save()
    assert page.failed and page.message == "A fund needs a name"


def test_members_cannot_manage_funds(runtime: Runtime) -> None:
    page = FundsPage(runtime, session=session_of(runtime, "bob@fund.example"))
    page.fund_name.value = "Sneaky Fund"
    page.save()
    assert page.failed and page.message == "Only admins can create or change funds"


def test_every_table_says_what_to_do_when_it_has_no_rows(runtime: Runtime) -> None:
    session = session_of(runtime, "alice@fund.example")
    funds = FundsPage(runtime, session=session)
    tables = {
        "funds": funds.funds_table,
        "commitments": funds.matrix_table,
        "contacts": ContactsPage(runtime, session=session).table,
        "tokens": AccountPage(runtime, session=session).tokens_table,
        "requests": RequestsPage(runtime, session=session).table,
    }
    for name, table in tables.items():
        sentence = table._configuration.get("placeholder", "")
        assert sentence.startswith("No ") and sentence.endswith("."), name
