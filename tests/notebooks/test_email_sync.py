"""notebooks/email_sync.ipynb under papermill, as the scheduler runs it, and when the scheduler
runs it: every CRM_EMAIL_SYNC_MINUTES while some mailbox is chosen, never otherwise."""

from __future__ import annotations

import json
import mailbox
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from crm_lib import jobs, services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.mail.signals import due_for_refresh
from crm_lib.services.email_sync import set_synced_mailboxes, sync_email
from tests.mail import messages as m

PASSWORD = "tangerine orbit mosaic"


def team(ctx: Context) -> None:
    link = services.invite_user(ctx, "alice@fund.example", "admin")
    services.accept_link(ctx, link.token, name="Alice", password=PASSWORD)


def test_the_notebook_fails_the_run_with_the_reason_when_google_is_not_connected(
    ctx: Context,
) -> None:
    team(ctx)
    set_synced_mailboxes(ctx, ["alice@fund.example"])
    run = jobs.run_job(ctx, "email_sync")
    assert run["status"] == "failed"
    assert "Google is not connected" in run["error"]
    assert run["html_file"] and (ctx.settings.jobs_dir / "runs" / run["html_file"]).exists()


def test_the_sync_is_due_every_interval_only_while_a_mailbox_is_chosen(ctx: Context) -> None:
    ran: list[str] = []

    def runner(notebook: Path, output: Path, parameters: dict[str, Any]) -> None:
        ran.append(notebook.name)
        output.write_text(notebook.read_text())

    scheduler = jobs.Scheduler({"email_sync": jobs.JOBS["email_sync"]}, runner=runner, local=UTC)
    assert scheduler.due(ctx) == []  # nothing chosen: no run every 15 minutes for nothing
    team(ctx)
    set_synced_mailboxes(ctx, ["alice@fund.example"])
    ((spec, slot, attempt),) = scheduler.due(ctx)
    assert spec.name == "email_sync" and attempt == 1
    assert slot == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the clock's 15-minute slot
    later = jobs.Scheduler.slot(
        scheduler, spec, ctx.settings, datetime(2026, 11, 25, 9, 29, tzinfo=UTC)
    )
    assert later == datetime(2026, 11, 25, 9, 15, tzinfo=UTC)
    scheduler.tick(ctx)
    assert ran == ["email_sync.ipynb"] and scheduler.due(ctx) == []  # done for this slot


def test_signals_are_refreshed_daily_even_without_gmail(ctx: Context, tmp_path: Path) -> None:
    team(ctx)
    acme = services.create_investor(ctx, {"name": "Acme"})
    services.add_person(ctx, acme["id"], {"full_name": "Jane", "email": "jane@acme.example"})
    box = mailbox.mbox(tmp_path / "a.mbox")
    box.add(m.plain(sender="jane@acme.example", to="alice@fund.example").as_bytes())
    box.flush()
    box.close()
    services.import_mailbox(ctx, tmp_path / "a.mbox", "alice@fund.example")
    assert due_for_refresh(ctx.db.conn, ctx.clock.now())  # linked mail, never refreshed
    assert jobs.JOBS["email_sync"].active(ctx)  # so the job runs for file-only teams too
    assert sync_email(ctx) == []  # no Gmail mailbox: only the refresh
    assert not due_for_refresh(ctx.db.conn, ctx.clock.now())
    assert not jobs.JOBS["email_sync"].active(ctx)
    later = FixedClock(ctx.clock.now() + timedelta(hours=25))
    assert due_for_refresh(ctx.db.conn, later.now())


def test_a_run_keeps_the_counts_its_notebook_reported(ctx: Context) -> None:
    run = jobs.run_job(ctx, "email_sync")  # nothing chosen: a signals refresh, no mailbox
    assert run["status"] == "ok", run["error"]
    assert json.loads(run["summary"]) == {
        "mailboxes": 0,
        "read": 0,
        "stored": 0,
        "duplicates": 0,
        "linked": 0,
        "proposed": 0,
        "deleted": 0,
        "unfetched": 0,
        "failed": [],
    }
    assert services.list_job_runs(ctx)[0]["summary"] == run["summary"]
