"""`crm digest`: preview prints the digest (text or HTML) without sending; send, test-email and
status go through the same services, to admins only, over the SMTP server on loopback."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from crm_lib.cli import main
from crm_lib.context import Context
from crm_lib.outbox.smtp import SMTPTransport
from tests.digest.conftest import ALICE, BOB, Inbox, deliver, mail
from tests.mail.conftest import day


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], env=env)


def test_preview_prints_the_digest_and_sends_nothing(ctx: Context, crm: dict) -> None:
    deliver(ctx, ALICE, mail("Fund III", "Jane Doe <jane@acme.example>", ALICE, day(25, 10)))
    data_dir = ctx.settings.data_dir
    window = ("--since", "2026-11-25T00:00", "--until", "2026-11-26")
    text = run(data_dir, "digest", "preview", *window)
    assert text.exit_code == 0, text.output
    assert "BY TEAM MEMBER" in text.output and "Acme Capital" in text.output
    assert "(written from the data: no local model is configured)" in text.output
    html = run(data_dir, "digest", "preview", *window, "--format", "html")
    assert html.output.startswith("<!DOCTYPE html>")
    bad = run(data_dir, "digest", "preview", "--since", "last tuesday")
    assert bad.exit_code == 2 and "is not an ISO date or time" in bad.output
    assert ctx.db.execute("SELECT count(*) FROM digest_sends").fetchone()[0] == 0


def test_send_test_email_and_status(
    ctx: Context, crm: dict, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    env = {
        "CRM_SMTP_HOST": transport.host,
        "CRM_SMTP_PORT": str(transport.port),
        "CRM_SMTP_SECURITY": "none",
    }
    data_dir = ctx.settings.data_dir
    refused = run(data_dir, "digest", "send", "--to", BOB, env=env)
    assert refused.exit_code == 1 and "the digest goes only to admins" in refused.output
    sent = run(data_dir, "digest", "send", env=env)
    assert sent.exit_code == 0, sent.output
    assert f"to {ALICE} by smtp" in sent.output
    tested = run(data_dir, "digest", "test-email", "--to", ALICE, env=env)
    assert tested.exit_code == 0, tested.output
    assert len(inbox.messages) == 2
    status = run(data_dir, "digest", "status", env=env)
    assert "Digest off" in status.output
    assert status.output.count(" sent ") == 2
    no_transport = run(data_dir, "digest", "send")
    assert no_transport.exit_code == 1 and "CRM_SMTP_HOST" in no_transport.output
