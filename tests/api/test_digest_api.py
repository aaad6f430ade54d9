"""Digest routes over HTTP: admins read and change the policy (409 on a stale version), preview,
send now and send a test email through the SMTP server on loopback the server is configured
with; members cannot; nobody but an admin is ever a recipient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crm_lib.outbox.smtp import SMTPTransport
from tests.api.conftest import LiveServer, start
from tests.api.conftest import session_for as api
from tests.digest.conftest import Inbox, smtp  # noqa: F401 (a fixture)

BASE = "/api/admin/digest"


@pytest.fixture
def mailing(
    tmp_path: Path,
    smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
) -> Iterator[tuple[LiveServer, Inbox]]:
    """A server of its own whose digest goes to the SMTP server on loopback."""
    inbox, transport = smtp
    for server in start(
        tmp_path,
        CRM_SMTP_HOST=transport.host,
        CRM_SMTP_PORT=str(transport.port),
        CRM_SMTP_SECURITY="none",
        CRM_PUBLIC_URL="https://crm.fund.example",
    ):
        yield server, inbox


def test_policy_changes_are_versioned_and_validated(live: LiveServer) -> None:
    admin = api(live, "admin")
    policy = admin.get(f"{live.base}{BASE}/policy").json()
    assert policy["enabled"] is False and policy["send_at"] == "18:00"
    changed = admin.patch(
        f"{live.base}{BASE}/policy",
        json={"enabled": True, "send_at": "17:30", "expected_version": policy["version"]},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["next_send_at"] is not None
    stale = admin.patch(
        f"{live.base}{BASE}/policy", json={"enabled": False, "expected_version": policy["version"]}
    )
    assert stale.status_code == 409
    bad = admin.patch(
        f"{live.base}{BASE}/policy",
        json={"timezone": "Mars/Olympus", "expected_version": changed.json()["version"]},
    )
    assert bad.status_code == 422 and bad.json()["field"] == "timezone"
    unknown = admin.patch(
        f"{live.base}{BASE}/policy", json={"recipients": ["x@evil.example"], "expected_version": 2}
    )
    assert unknown.status_code == 422
    admin.patch(
        f"{live.base}{BASE}/policy",
        json={"enabled": False, "expected_version": changed.json()["version"]},
    )


def test_members_cannot_reach_the_digest(live: LiveServer) -> None:
    member = api(live, "member")
    assert member.get(f"{live.base}{BASE}/policy").status_code == 403
    assert member.get(f"{live.base}{BASE}/preview").status_code == 403
    assert member.post(f"{live.base}{BASE}/send-now", json={}).status_code == 403
    assert member.post(f"{live.base}{BASE}/test-email", json={}).status_code == 403


def test_without_a_transport_send_now_is_a_502_that_says_what_to_set(live: LiveServer) -> None:
    admin = api(live, "admin")
    sent = admin.post(f"{live.base}{BASE}/send-now", json={})
    assert sent.status_code == 502
    assert sent.json()["error"] == "external" and "CRM_SMTP_HOST" in sent.json()["detail"]
    bad_window = admin.get(f"{live.base}{BASE}/preview", params={"since": "yesterday"})
    assert bad_window.status_code == 422 and bad_window.json()["field"] == "since"


def test_preview_send_now_and_test_email_over_smtp(
    mailing: tuple[LiveServer, Inbox],
) -> None:
    server, inbox = mailing
    admin = api(server, "admin")
    preview = admin.get(f"{server.base}{BASE}/preview")
    assert preview.status_code == 200, preview.text
    assert "https://crm.fund.example/record?id=" in preview.json()["html"]
    sent = admin.post(f"{server.base}{BASE}/send-now", json={})
    assert sent.status_code == 200, sent.text
    assert sent.json()["recipients"] == ["alice@fund.example"]
    outsider = admin.post(f"{server.base}{BASE}/test-email", json={"to": ["eve@evil.example"]})
    assert outsider.status_code == 422 and outsider.json()["field"] == "to"
    member = admin.post(f"{server.base}{BASE}/test-email", json={"to": ["bob@fund.example"]})
    assert member.status_code == 422
    test = admin.post(f"{server.base}{BASE}/test-email", json={})
    assert test.status_code == 201
    assert [m["to"] for m in inbox.messages] == [["alice@fund.example"]] * 2
    sends = admin.get(f"{server.base}{BASE}/sends").json()
    assert [s["kind"] for s in sends] == ["test", "manual"]
