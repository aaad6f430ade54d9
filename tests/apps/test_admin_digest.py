"""The admin page's digest section, driven through its widgets: turn it on with a send time and
zone (a bad time is marked under its box), preview today's digest in a sandboxed frame, send a
test email and the digest through the SMTP server on loopback, and see the last sends."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.admin.page import AdminPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.outbox.smtp import SMTPTransport
from tests.apps.conftest import session_of
from tests.digest.conftest import Inbox, smtp  # noqa: F401 (a fixture)


@pytest.fixture
def runtime(settings_with_team: Settings, smtp: tuple[Inbox, SMTPTransport]) -> Runtime:  # noqa: F811
    _, transport = smtp
    settings = replace(
        settings_with_team,
        smtp_host=transport.host,
        smtp_port=transport.port,
        smtp_security="none",
    )
    return Runtime(settings, secret_key="k" * 48)


def test_admin_turns_the_digest_on_previews_and_sends_it(
    runtime: Runtime,
    smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
) -> None:
    inbox, _ = smtp
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    section = page.digest_section
    assert "The digest is <b>off</b>" in section.status.object
    assert section.send_at.value == "18:00"

    section.enabled.value = True
    section.send_at.value = "7pm"
    section.save()
    assert "Send time must be a time like 18:00" in section.form.flagged["send_at"]
    section.send_at.value = "19:30"
    section.timezone.value = "Europe/Paris"
    section.save()
    assert page.message == "Digest settings saved."
    assert "every day at 19:30 (Europe/Paris)" in section.status.object
    with runtime.context() as ctx:
        policy = services.digest_policy(ctx)
    assert (policy["enabled"], policy["send_at"], policy["timezone"]) == (
        True,
        "19:30",
        "Europe/Paris",
    )

    section.show_preview()
    assert section.preview.visible
    assert '<iframe title="Digest preview" sandbox=""' in section.preview.object
    assert 'srcdoc="&lt;!DOCTYPE html&gt;' in section.preview.object

    section.send_test()
    assert page.message.startswith("Test email sent to alice@fund.example through smtp")
    section.send_now()
    assert page.message.startswith("Digest sent to alice@fund.example through smtp")
    assert len(inbox.messages) == 2
    assert list(section.sends.value["Kind"]) == ["manual", "test"]
    assert list(section.sends.value["Status"]) == ["sent", "sent"]


def test_a_failed_send_is_reported_and_listed(settings_with_team: Settings) -> None:
    runtime = Runtime(settings_with_team, secret_key="k" * 48)  # no transport configured
    page = AdminPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.digest_section.send_now()
    assert "No mail transport for the digest" in page.message
    sends = page.digest_section.sends.value
    assert list(sends["Status"]) == ["failed"]
    assert "CRM_SMTP_HOST" in sends["Error"].iloc[0]
