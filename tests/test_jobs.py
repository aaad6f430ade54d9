"""The job scheduler with an injected clock and a stand-in runner: missed runs are caught up,
a job never runs twice at once, a failure is retried once and then alerts."""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from crm_lib import jobs, services
from crm_lib.clock import FixedClock, timestamp
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.storage.writes import write


class Notebooks:
    """Stands in for papermill: copies the notebook (a run that worked) or raises."""

    def __init__(self) -> None:
        self.calls: list[Mapping[str, Any]] = []
        self.fail = False

    def __call__(self, notebook: Path, output: Path, parameters: Mapping[str, Any]) -> None:
        self.calls.append(parameters)
        shutil.copyfile(notebook, output)
        if self.fail:
            raise RuntimeError("disk full")


@pytest.fixture
def runner() -> Notebooks:
    return Notebooks()


def scheduler(runner: Notebooks) -> jobs.Scheduler:
    return jobs.Scheduler(runner=runner, local=UTC)


def test_the_latest_missed_slot_is_run_once_at_start_then_each_night(
    ctx: Context, clock: FixedClock, runner: Notebooks
) -> None:
    clock._now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the server starts at 09:00
    runs = scheduler(runner).tick(ctx)
    assert [(r["job"], r["slot"][:16], r["status"]) for r in runs] == [
        ("nightly_backup", "2026-11-25T02:00", "ok")
    ]
    assert runner.calls[0]["data_dir"] == str(ctx.settings.data_dir)
    assert scheduler(runner).tick(ctx) == []  # done for this night
    clock.advance(hours=16)  # 01:00 next day: not yet
    assert scheduler(runner).tick(ctx) == []
    clock.advance(hours=1, minutes=1)
    assert [r["slot"][:16] for r in scheduler(runner).tick(ctx)] == ["2026-11-26T02:00"]
    html = ctx.settings.jobs_dir / "runs" / runs[0]["html_file"]
    assert html.exists() and "<html" in html.read_text()[:500].lower()


def test_a_job_never_runs_twice_at_once(ctx: Context, runner: Notebooks) -> None:
    lock = ctx.settings.jobs_dir / "nightly_backup.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is running it
        with pytest.raises(ValidationError, match="nightly_backup is already running"):
            jobs.run_job(ctx, "nightly_backup", runner=runner)
        assert scheduler(runner).tick(ctx) == []
    assert runner.calls == []
    assert len(scheduler(runner).tick(ctx)) == 1  # free again: the slot is still due


def test_a_failed_run_is_retried_once_then_shown_as_an_alert(
    ctx: Context, runner: Notebooks
) -> None:
    runner.fail = True
    runs = scheduler(runner).tick(ctx)
    assert [(r["attempt"], r["status"], r["error"]) for r in runs] == [
        (1, "failed", "RuntimeError: disk full"),
        (2, "failed", "RuntimeError: disk full"),
    ]
    assert runs[0]["html_file"]  # the executed notebook is rendered even when it failed
    assert scheduler(runner).tick(ctx) == []  # no third attempt
    kinds = {a["kind"]: a["message"] for a in services.alerts(ctx)}
    assert "RuntimeError: disk full" in kinds["job_failed"]
    assert kinds["no_backup"] == "No verified backup ever"


def _left_running(ctx: Context, slot: datetime) -> int:
    """A run row as a server that died mid-run leaves it: 'running', no lock held by anyone."""
    with write(ctx) as tx:
        return tx.insert(
            jobs.RUNS,
            {"job": "nightly_backup", "slot": timestamp(slot), "attempt": 1, "status": "running"}
            | {"started_at": tx.now},
        )


def test_a_run_left_running_by_a_dead_server_is_marked_failed_and_caught_up(
    ctx: Context, clock: FixedClock, runner: Notebooks
) -> None:
    clock._now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    slot = scheduler(runner).slot(jobs.JOBS["nightly_backup"], ctx.settings, clock.now())
    stale = _left_running(ctx, slot)
    runs = scheduler(runner).tick(ctx)  # the next start
    assert [(r["attempt"], r["status"]) for r in runs] == [(2, "ok")]
    [row] = [r for r in services.list_job_runs(ctx) if r["id"] == stale]
    assert (row["status"], row["error"]) == ("failed", jobs.INTERRUPTED)
    assert row["finished_at"]
    audited = ctx.db.execute(
        "SELECT field, new_value FROM audit_log WHERE entity = 'job_runs' AND entity_id = ?"
        " AND action = 'update' ORDER BY field",
        [stale],
    ).fetchall()
    assert [f for f, _ in audited] == ["error", "finished_at", "status"]
    assert scheduler(runner).tick(ctx) == []  # the slot is done now


def test_a_run_still_holding_its_lock_is_left_running(ctx: Context, runner: Notebooks) -> None:
    slot = scheduler(runner).slot(jobs.JOBS["nightly_backup"], ctx.settings, ctx.clock.now())
    alive = _left_running(ctx, slot)
    lock = ctx.settings.jobs_dir / "nightly_backup.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another process is in the middle of that run
        assert scheduler(runner).tick(ctx) == []
        [row] = [r for r in services.list_job_runs(ctx) if r["id"] == alive]
        assert row["status"] == "running"
    assert runner.calls == []


def test_alerts_clear_once_a_backup_is_verified(ctx: Context, clock: FixedClock) -> None:
    services.create_backup(ctx)
    assert [a["kind"] for a in services.alerts(ctx)] == []
    clock.advance(hours=27)
    assert [a["kind"] for a in services.alerts(ctx)] == ["no_backup"]


def test_unknown_jobs_are_named(ctx: Context) -> None:
    with pytest.raises(Exception, match="nightly_backup"):
        jobs.run_job(ctx, "weekly_report")
