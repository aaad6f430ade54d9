"""notebooks/daily_digest.ipynb under papermill, through the jobs runner as the scheduler runs
it: the rendered run shows the digest and its figures; a slot is sent once however often the
notebook runs; the mail goes to the SMTP server on loopback named by CRM_SMTP_*."""

from __future__ import annotations

import json

import pytest

from crm_lib import jobs, services
from crm_lib.context import Context
from crm_lib.outbox.smtp import SMTPTransport
from tests.digest.conftest import ALICE, Inbox, admin, crm, deliver, mail, smtp  # noqa: F401
from tests.mail.conftest import day

WINDOW = "2026-11-25T00:00:00+00:00/2026-11-26T00:00:00+00:00"


@pytest.fixture
def acme_mail(ctx: Context, crm: dict) -> None:  # noqa: F811
    deliver(
        ctx, ALICE, mail("Fund III allocation", "Jane Doe <jane@acme.example>", ALICE, day(25, 10))
    )


def test_a_dry_run_shows_the_digest_and_its_figures_and_sends_nothing(
    ctx: Context, acme_mail: None
) -> None:
    run = jobs.run_job(ctx, "daily_digest", parameters={"dry_run": True, "window": WINDOW})
    assert run["status"] == "ok", run["error"]
    figures = json.loads(run["summary"])
    assert figures["outcome"] == "preview"
    assert (figures["emails"], figures["investors"], figures["narrative"]) == (1, 1, "data")
    html = (ctx.settings.jobs_dir / "runs" / run["html_file"]).read_text()
    assert "Acme Capital" in html and "Fund III allocation" in html
    assert ctx.db.execute("SELECT count(*) FROM digest_sends").fetchone()[0] == 0


def test_the_scheduled_run_sends_its_slot_once(
    ctx: Context,
    acme_mail: None,
    smtp: tuple[Inbox, SMTPTransport],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, transport = smtp
    monkeypatch.setenv("CRM_SMTP_HOST", transport.host)
    monkeypatch.setenv("CRM_SMTP_PORT", str(transport.port))
    monkeypatch.setenv("CRM_SMTP_SECURITY", "none")
    monkeypatch.setenv("CRM_DIGEST_SENDER", ALICE)
    policy = services.digest_policy(ctx)
    services.set_digest_policy(ctx, {"enabled": True}, expected_version=policy["version"])
    slot = {"slot": "2026-11-25T18:00:00.000000+00:00"}
    first = jobs.run_job(ctx, "daily_digest", parameters=slot)
    assert first["status"] == "ok", first["error"]
    assert json.loads(first["summary"])["outcome"] == "sent"
    again = jobs.run_job(ctx, "daily_digest", parameters=slot)
    assert again["status"] == "ok", again["error"]
    assert "was already sent" in json.loads(again["summary"])["outcome"]
    assert len(inbox.messages) == 1
    assert inbox.messages[0]["to"] == [ALICE]
