"""Inline validation: every form shows a refused value's message under the field it is about,
outlines that field, writes nothing, and drops the mark once the field is changed or the form
saves (apps/forms.py, through UserPage.act)."""

from __future__ import annotations

import panel as pn
import pytest

from apps.account.page import AccountPage
from apps.admin.page import AdminPage
from apps.forms import INVALID, FormErrors
from apps.funds.page import FundsPage
from apps.record.page import RecordPage
from apps.requests.page import RequestsPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.errors import CRMError, ValidationError
from tests.apps.conftest import PASSWORD, session_of

ALICE = "alice@fund.example"


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    return Runtime(settings_with_team, secret_key="k" * 48)


def marked(form: FormErrors) -> list[str]:
    """The fields outlined as refused (their widget carries the class)."""
    return [key for key, widget in form.fields.items() if INVALID in widget.css_classes]


def test_a_fund_without_a_name_is_marked_at_its_name_and_typing_clears_it(
    runtime: Runtime,
) -> None:
    page = FundsPage(runtime, session=session_of(runtime, ALICE))
    page.fund_name.value = ""
    page.save()
    assert page.failed and set(page.form.flagged) == {"name"} and marked(page.form) == ["name"]
    assert "A fund needs a name" in page.form.flagged["name"]
    assert 'role="alert"' in page.form.flagged["name"]
    page.fund_name.value_input = "Fund IV"  # a keystroke: the mark goes
    assert page.form.flagged == {} and marked(page.form) == []
    with runtime.context() as ctx:
        assert services.list_funds(ctx) == []  # nothing was written


def test_a_bad_target_names_its_field_without_the_key_and_a_save_clears_every_mark(
    runtime: Runtime,
) -> None:
    page = FundsPage(runtime, session=session_of(runtime, ALICE))
    page.fund_name.value = "Fund IV"
    page.target.value = "lots"
    page.save()
    assert list(page.form.flagged) == ["target_size"]
    assert not page.form.flagged["target_size"].startswith('<span role="alert">target_size')
    page.target.value = "$300,000,000"
    page.vintage.value = 1800  # below the widget's start: the service refuses it too
    page.save()
    assert list(page.form.flagged) == ["vintage_year"]
    page.vintage.value = 2026
    page.save()
    assert not page.failed and page.form.flagged == {}
    with runtime.context() as ctx:
        assert [f["target_size"] for f in services.list_funds(ctx)] == [300_000_000]


def test_a_message_names_the_field_as_typed_escaped(runtime: Runtime) -> None:
    page = FundsPage(runtime, session=session_of(runtime, ALICE))
    with runtime.context() as ctx:
        services.create_fund(ctx, {"name": "<b>Fund</b> & Co"})
    page.refresh()
    page.choice.value = None
    page.fund_name.value = "<b>Fund</b> & Co"
    page.save()
    shown = page.form.flagged["name"]
    assert "&lt;b&gt;Fund&lt;/b&gt; &amp; Co" in shown and "<b>" not in shown


def test_account_marks_the_password_box_that_is_wrong(runtime: Runtime) -> None:
    page = AccountPage(runtime, session=session_of(runtime, ALICE))
    page.current_password.value = PASSWORD
    page.new_password.value = "a much longer passphrase"
    page.repeat_password.value = "a different passphrase"
    page.change_password()
    assert list(page.password_form.flagged) == ["repeat"]
    page.current_password.value = "not my password"
    page.repeat_password.value = page.new_password.value
    page.change_password()
    assert list(page.password_form.flagged) == ["current_password"]
    page.current_password.value = PASSWORD
    page.new_password.value = page.repeat_password.value = "short"
    page.change_password()
    assert list(page.password_form.flagged) == ["password"]
    page.token_name.value = ""
    page.create_token()
    assert list(page.token_form.flagged) == ["name"] and page.password_form.flagged


def test_requests_and_invites_mark_their_fields(runtime: Runtime) -> None:
    requests = RequestsPage(runtime, session=session_of(runtime, ALICE))
    requests.title.value = "   "
    requests.file()
    assert list(requests.form.flagged) == ["title"]
    admin = AdminPage(runtime, session=session_of(runtime, ALICE))
    admin.invite_email.value = "not an email"
    admin.invite()
    assert list(admin.invite_form.flagged) == ["email"]
    assert "not an email address" in admin.invite_form.flagged["email"]
    assert "Email:" not in admin.invite_form.flagged["email"]  # under Email, no need to repeat it
    admin.invite_email.value = "carol@fund.example"
    admin.invite()
    assert not admin.failed and admin.invite_form.flagged == {}


def test_the_record_page_marks_a_person_and_a_commitment_field(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        investor = services.create_investor(ctx, {"name": "Acme Capital"})
        services.create_fund(ctx, {"name": "Fund III"})
    page = RecordPage(runtime, session=session_of(runtime, ALICE), investor_id=investor["id"])
    page.person_name.value = ""
    page.add_person()
    assert list(page.person_errors.flagged) == ["full_name"]
    page.person_name.value = "Jane Doe"
    page.person_email.value = "jane at acme"
    page.add_person()
    assert list(page.person_errors.flagged) == ["email"]
    page.person_email.value = "jane@acme.example"
    page.add_person()
    assert not page.failed and page.person_errors.flagged == {}
    page.commitment_amount.value = None
    page.add_commitment()
    assert list(page.commitment_errors.flagged) == ["amount"]
    page.commitment_amount.value = 5_000_000
    page.add_commitment()
    assert not page.failed and page.commitment_errors.flagged == {}


def test_an_error_naming_no_field_of_the_form_marks_nothing() -> None:
    form = FormErrors({"name": pn.widgets.TextInput()})
    assert form.show(ValidationError("Name is wrong", field="name"))
    assert not form.show(CRMError("The database is busy"))
    assert form.flagged == {}  # an unrelated failure drops a stale mark
    assert not form.show(ValidationError("Unknown", field="other"))
