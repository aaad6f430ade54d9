"""When the digest goes: its policy (off by default, versioned), the daily slot in the policy's
time zone across daylight-saving changes, catch-up after downtime, and at most one send per
slot across restarts and two server processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import crm_lib
from crm_lib import jobs, services
from crm_lib.clock import FixedClock, timestamp
from crm_lib.context import Context
from crm_lib.digest.policy import DigestPolicy, box_zone_name, due_slot, latest_slot
from crm_lib.errors import ConflictError, ValidationError
from crm_lib.outbox.smtp import SMTPTransport
from crm_lib.storage.writes import write
from tests.digest.conftest import Inbox

ROOT = Path(__file__).resolve().parents[2]
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_18_00_stays_18_00_across_daylight_saving_changes() -> None:
    six_pm = time(18, 0)
    # New York leaves daylight time on 1 Nov 2026: 18:00 is 22:00 UTC before, 23:00 after
    assert latest_slot(six_pm, NEW_YORK, utc(2026, 10, 31, 23, 30)) == utc(2026, 10, 31, 22)
    assert latest_slot(six_pm, NEW_YORK, utc(2026, 11, 1, 23, 30)) == utc(2026, 11, 1, 23)
    # just before the 1 Nov slot, the latest is 31 Oct's
    assert latest_slot(six_pm, NEW_YORK, utc(2026, 11, 1, 22, 59)) == utc(2026, 10, 31, 22)
    # London enters summer time on 28 Mar 2027: 18:00 is 18:00 UTC before, 17:00 after
    assert latest_slot(six_pm, LONDON, utc(2027, 3, 27, 19)) == utc(2027, 3, 27, 18)
    assert latest_slot(six_pm, LONDON, utc(2027, 3, 28, 17, 30)) == utc(2027, 3, 28, 17)
    # a time that does not exist that night (01:30 on 28 Mar in London) still has a slot
    assert latest_slot(time(1, 30), LONDON, utc(2027, 3, 28, 3)) == utc(2027, 3, 28, 1, 30)


def test_turning_it_on_after_the_hour_waits_for_the_next_day() -> None:
    policy = DigestPolicy(True, "18:00", "UTC", "auto", enabled_at=utc(2026, 12, 1, 19).isoformat())
    assert due_slot(policy, None, utc(2026, 12, 1, 19, 5)) is None
    assert due_slot(policy, None, utc(2026, 12, 2, 18, 0)) == utc(2026, 12, 2, 18)
    # sent at 18:00; moving the time to 19:00 at 18:30 does not send a second one that day
    sent = utc(2026, 12, 2, 18, 0, 2)
    moved = DigestPolicy(True, "19:00", "UTC", "auto", enabled_at=policy.enabled_at)
    assert due_slot(moved, sent, utc(2026, 12, 2, 18, 30)) is None
    assert due_slot(moved, sent, utc(2026, 12, 2, 19, 0)) is None
    assert due_slot(moved, sent, utc(2026, 12, 3, 19)) == utc(2026, 12, 3, 19)
    # "send now" at 17:00 and the 18:00 slot waits a day
    assert due_slot(policy, utc(2026, 12, 3, 17), utc(2026, 12, 3, 18)) is None
    off = DigestPolicy(False, "18:00", "UTC")
    assert due_slot(off, None, utc(2026, 12, 3, 19)) is None


def test_the_policy_is_off_by_default_seeded_from_the_environment_and_versioned(
    admin: Context, settings: Any
) -> None:
    policy = services.digest_policy(admin)
    assert policy["enabled"] is False
    assert policy["send_at"] == "18:00"
    assert policy["timezone"] == (settings.digest_timezone or box_zone_name())
    changed = services.set_digest_policy(
        admin,
        {"enabled": True, "send_at": "7:05", "timezone": "Asia/Singapore"},
        expected_version=policy["version"],
    )
    assert (changed["enabled"], changed["send_at"], changed["timezone"]) == (
        True,
        "07:05",
        "Asia/Singapore",
    )
    assert changed["enabled_at"] == timestamp(admin.clock.now())
    with pytest.raises(ConflictError):
        services.set_digest_policy(admin, {"enabled": False}, expected_version=policy["version"])
    for values, field in (
        ({"send_at": "25:00"}, "send_at"),
        ({"send_at": "18:00; DROP"}, "send_at"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"transport": "carrier pigeon"}, "transport"),
    ):
        with pytest.raises(ValidationError) as refused:
            services.set_digest_policy(admin, values, expected_version=changed["version"])
        assert refused.value.field == field
    assert services.digest_policy(admin)["version"] == changed["version"]


def test_a_missed_evening_is_caught_up_at_start_in_one_digest(
    admin: Context, clock: FixedClock, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    _turn_on(admin, "UTC")
    clock.advance(days=1)  # 26 Nov 09:00: the 25th's 18:00 was after turning on
    first = services.send_scheduled_digest(admin, transports=[transport])
    assert first["slot"] == "2026-11-25T18:00:00.000000+00:00"
    clock.advance(days=3)  # the server was off for three evenings
    caught_up = services.send_scheduled_digest(admin, transports=[transport])
    assert caught_up["window_start"] == first["window_end"]
    assert caught_up["slot"] == "2026-11-28T18:00:00.000000+00:00"
    assert services.send_scheduled_digest(admin, transports=[transport]) == {
        "skipped": "no digest is due"
    }
    assert len(inbox.messages) == 2


def test_two_server_processes_send_one_digest_per_slot(
    settings: Any, clock: FixedClock, admin: Context, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    _turn_on(admin, "UTC")
    clock.advance(days=1)
    contexts = [
        crm_lib.open_crm(settings=settings, clock=clock, actor="system:job:daily_digest")
        for _ in range(4)
    ]
    results: list[Any] = []
    start = threading.Barrier(len(contexts))

    def run(ctx: Context) -> None:
        start.wait()
        try:
            results.append(
                services.send_scheduled_digest(
                    ctx, slot=utc(2026, 11, 25, 18), transports=[transport]
                )
            )
        except ValidationError as exc:  # the other process holds the send lock right now
            results.append({"skipped": exc.message})

    threads = [threading.Thread(target=run, args=(c,)) for c in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for ctx in contexts:
        ctx.close()
    assert len(inbox.messages) == 1
    assert sum(r.get("status") == "sent" for r in results) == 1
    assert [s["status"] for s in services.digest_sends(admin)] == ["sent"]


def test_a_send_cut_off_by_a_crash_is_not_sent_again_by_itself(
    admin: Context, clock: FixedClock, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    _turn_on(admin, "UTC")
    clock.advance(days=1)
    with write(admin) as tx:  # what a process that died mid-send leaves behind
        tx.insert(
            "digest_sends",
            {
                "kind": "scheduled",
                "slot": "2026-11-25T18:00:00.000000+00:00",
                "status": "sending",
                "started_at": tx.now,
            },
        )
    result = services.send_scheduled_digest(admin, transports=[transport])
    assert "skipped" in result
    assert inbox.messages == []
    assert services.digest_sends(admin)[0]["status"] == "interrupted"


def test_a_failed_slot_is_tried_again_and_then_sent_once(
    admin: Context, clock: FixedClock, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    _turn_on(admin, "UTC")
    clock.advance(days=1)
    down = SMTPTransport("127.0.0.1", 9, "none", timeout_s=2)  # discard port: nothing listens
    with pytest.raises(Exception, match="could not send"):
        services.send_scheduled_digest(admin, transports=[down])
    sent = services.send_scheduled_digest(admin, transports=[transport])
    assert sent["status"] == "sent"
    assert [s["status"] for s in services.digest_sends(admin)] == ["sent"]  # the same row
    assert len(inbox.messages) == 1


def test_the_scheduler_runs_the_digest_job_only_when_turned_on_and_due(
    admin: Context, clock: FixedClock, tmp_path: Path
) -> None:
    ran: list[dict] = []

    def runner(notebook: Path, output: Path, parameters: dict) -> None:
        ran.append(dict(parameters))
        output.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')

    scheduler = jobs.Scheduler({"daily_digest": jobs.JOBS["daily_digest"]}, runner=runner)
    clock.advance(days=1)
    assert scheduler.due(admin) == []  # off by default
    _turn_on(admin, "America/New_York")  # 26 Nov 09:00 UTC = 04:00 in New York
    assert scheduler.due(admin) == []  # 25 Nov 18:00 New York was before turning it on
    clock.advance(hours=14)  # 23:00 UTC = 18:00 New York
    [(_spec, slot, _attempt)] = scheduler.due(admin)
    assert slot == utc(2026, 11, 26, 23)
    scheduler.tick(admin)
    assert ran[0]["slot"] == "2026-11-26T23:00:00.000000+00:00"
    assert ran[0]["dry_run"] is False
    assert scheduler.due(admin) == []  # that slot has its run


def _turn_on(ctx: Context, zone: str) -> None:
    policy = services.digest_policy(ctx)
    services.set_digest_policy(
        ctx, {"enabled": True, "timezone": zone}, expected_version=policy["version"]
    )


def test_two_real_processes_racing_for_one_slot_send_it_once(
    admin: Context, settings: Any, smtp: tuple[Inbox, SMTPTransport]
) -> None:
    inbox, transport = smtp
    _turn_on(admin, "UTC")
    script = (
        "import sys\n"
        "from datetime import datetime\n"
        "import crm_lib\n"
        "from crm_lib import services\n"
        "from crm_lib.config import load_settings\n"
        "from crm_lib.errors import ValidationError\n"
        f"ctx = crm_lib.open_crm(settings=load_settings(data_dir={str(settings.data_dir)!r}),"
        " actor='system:job:daily_digest')\n"
        "try:\n"
        "    row = services.send_scheduled_digest("
        "ctx, slot=datetime.fromisoformat('2026-11-25T18:00:00+00:00'))\n"
        "    print(row.get('status') or row.get('skipped'))\n"
        "except ValidationError as exc:\n"
        "    print('locked:', exc.message)\n"
    )
    env = {
        **os.environ,
        "CRM_SMTP_HOST": transport.host,
        "CRM_SMTP_PORT": str(transport.port),
        "CRM_SMTP_SECURITY": "none",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err[-1500:] for _, err in outputs]
    said = sorted(out.strip() for out, _ in outputs)
    assert said.count("sent") == 1, said
    assert len(inbox.messages) == 1
    assert [s["status"] for s in services.digest_sends(admin)] == ["sent"]
