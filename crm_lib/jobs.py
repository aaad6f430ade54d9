"""Scheduled notebook jobs: each run executes a parameterised notebook with papermill, renders
the executed notebook to HTML with nbconvert, and is recorded in ``job_runs``.

:class:`Scheduler` decides what is due from the clock it is given (tests inject the time; nothing
sleeps): each job has a daily local time, and the latest such moment that has passed is its
*slot*. A slot with no finished run is run — so a night missed while the machine was off is
caught up at the next start — and a failed run is retried once; a second failure stays failed
and the admin page shows it as an alert. A job never runs twice at once: each run holds an
exclusive lock on ``<data>/jobs/<job>.lock`` (across processes) while it runs.

A run row stays ``running`` if the server died mid-run. The lock tells such a row apart from a
run that is still going: the kernel drops a dead process's lock, so if the job's lock can be
taken, no run of that job is going anywhere. Each tick first marks such rows failed
(:data:`INTERRUPTED`) through the write path, so the slot is caught up by the next attempt
instead of counting as done forever.
"""

from __future__ import annotations

import fcntl
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

from crm_lib.clock import timestamp
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.digest.policy import latest_slot
from crm_lib.errors import NotFound, ValidationError
from crm_lib.mail.signals import due_for_refresh
from crm_lib.storage.reads import query_dicts
from crm_lib.storage.writes import write

log = logging.getLogger(__name__)
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
RUNS = "job_runs"
ERROR_LIMIT = 2000
#: The error recorded on a run that was still ``running`` when its process died.
INTERRUPTED = "interrupted: the server stopped during the run"
#: (notebook, executed copy, parameters): what actually runs a notebook.
Runner = Callable[[Path, Path, Mapping[str, Any]], None]


@dataclass(frozen=True)
class Job:
    """A notebook the scheduler runs: daily at ``at`` (local time), or every ``every``; only
    while ``active`` says there is something to do (e.g. mailboxes to sync)."""

    name: str
    notebook: str
    doc: str
    at: Callable[[Settings], time]
    parameters: Callable[[Settings], dict[str, Any]]
    every: Callable[[Settings], timedelta] | None = None
    active: Callable[[Context], bool] | None = None
    #: the notebook takes ``summary_file`` and writes its counts there (JSON), kept on the run
    summary: bool = False
    #: a daily time, zone and floor read from the database (a policy admins change), instead of
    #: ``at``: slots at or before the floor (the last send, the moment it was turned on) are
    #: not due
    schedule: Callable[[Context], tuple[time, tzinfo, datetime | None]] | None = None
    #: the notebook takes ``slot`` (the scheduled moment, ISO; None when run by hand)
    slot_parameter: bool = False


def _has_opportunities(ctx: Context) -> bool:
    """The pipeline report has something to report: an opportunity exists."""
    row = ctx.db.execute("SELECT 1 FROM opportunities WHERE deleted_at IS NULL LIMIT 1")
    return row.fetchone() is not None


def _mailboxes_to_sync(ctx: Context) -> bool:
    """The email sync has work: some team member's Gmail is chosen for syncing, or (for teams
    that only import mailbox files) the email signals are a day old."""
    row = ctx.db.execute(
        "SELECT 1 FROM email_accounts WHERE source = 'gmail' AND sync_enabled = 1"
        " AND deleted_at IS NULL LIMIT 1"
    ).fetchone()
    return row is not None or due_for_refresh(ctx.db.conn, ctx.clock.now())


def _time_rules_on(ctx: Context) -> bool:
    """Some time-based automation rule is turned on."""
    from crm_lib.automations.triggers import TRIGGERS

    kinds = [kind for kind, trigger in TRIGGERS.items() if trigger.time_based]
    row = ctx.db.execute(
        "SELECT 1 FROM automation_rules WHERE enabled = 1 AND deleted_at IS NULL"
        f" AND json_extract(trigger, '$.kind') IN ({', '.join('?' * len(kinds))}) LIMIT 1",
        kinds,
    ).fetchone()
    return row is not None


def _digest_enabled(ctx: Context) -> bool:
    from crm_lib.services.digest import digest_schedule

    policy, _ = digest_schedule(ctx)
    return policy.enabled


def _digest_schedule(ctx: Context) -> tuple[time, tzinfo, datetime | None]:
    """The digest policy's send time and zone, and the moment before which no slot is due
    (:func:`crm_lib.digest.policy.schedule_floor`)."""
    from crm_lib.digest.policy import schedule_floor
    from crm_lib.services.digest import digest_schedule

    policy, cursor = digest_schedule(ctx)
    return policy.time_of_day, policy.zone, schedule_floor(policy, cursor)


JOBS: dict[str, Job] = {
    "nightly_backup": Job(
        "nightly_backup",
        "nightly_backup.ipynb",
        "Back up the database, verify the copy, apply the retention policy, test-restore",
        at=lambda s: time.fromisoformat(s.nightly_backup_at),
        parameters=lambda s: {
            "data_dir": str(s.data_dir),
            "backup_dir": str(s.backup_dir),
            "policy": None,
        },
    ),
    "email_sync": Job(
        "email_sync",
        "email_sync.ipynb",
        "Sync the chosen team members' Gmail into the CRM (new mail linked and proposed)",
        at=lambda s: time(0, 0),
        parameters=lambda s: {"data_dir": str(s.data_dir), "account": None},
        every=lambda s: timedelta(minutes=s.email_sync_minutes),
        active=_mailboxes_to_sync,
        summary=True,
    ),
    "pipeline_report": Job(
        "pipeline_report",
        "pipeline_report.ipynb",
        "The weekly pipeline report: each fund by stage, weighted against target, aging",
        at=lambda s: time(0, 0),
        parameters=lambda s: {"data_dir": str(s.data_dir), "fund": None, "as_of": None},
        every=lambda s: timedelta(days=7),
        active=_has_opportunities,
    ),
    "automations": Job(
        "automations",
        "automations.ipynb",
        "Evaluate the time-based automation rules that are on (each evaluation is also the"
        " rule's run)",
        at=lambda s: time(0, 0),
        parameters=lambda s: {"data_dir": str(s.data_dir)},
        every=lambda s: timedelta(minutes=s.automations_minutes),
        active=_time_rules_on,
        summary=True,
    ),
    "daily_digest": Job(
        "daily_digest",
        "daily_digest.ipynb",
        "Send the daily digest to the admins (at the policy's time; off until turned on)",
        at=lambda s: time.fromisoformat(s.digest_at),
        parameters=lambda s: {"data_dir": str(s.data_dir), "window": None, "dry_run": False},
        active=_digest_enabled,
        summary=True,
        schedule=_digest_schedule,
        slot_parameter=True,
    ),
}


def job(name: str) -> Job:
    try:
        return JOBS[name]
    except KeyError:
        raise NotFound("job", f"{name!r} (jobs: {', '.join(JOBS)})") from None


def papermill_runner(notebook: Path, output: Path, parameters: Mapping[str, Any]) -> None:
    """Execute the notebook headless on this Python's kernel (raises if a cell fails)."""
    import papermill

    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=dict(parameters),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOKS.parent),
    )


def render_html(executed: Path, html: Path) -> None:
    """The executed notebook as a standalone HTML page (what the admin page opens)."""
    import nbconvert
    import nbformat

    body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    html.write_text(body, encoding="utf-8")


def _summary(path: Path) -> str | None:
    """The counts a notebook wrote (JSON, at most 10 kB), or None."""
    try:
        text = path.read_text(encoding="utf-8")[:10_000]
        json.loads(text)
    except (OSError, ValueError):
        return None
    return text


def _describe(exc: BaseException) -> str:
    name = getattr(exc, "ename", None) or type(exc).__name__
    value = getattr(exc, "evalue", None) or str(exc)
    return f"{name}: {value}"[:ERROR_LIMIT]


class RunLock:
    """An exclusive, non-blocking lock file per job (released when the process dies)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = path.open("w")

    def __enter__(self) -> RunLock:
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise ValidationError(f"{Path(self.handle.name).stem} is already running") from None
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.handle, fcntl.LOCK_UN)
        self.handle.close()


def run_job(
    ctx: Context,
    name: str,
    *,
    slot: datetime | None = None,
    attempt: int = 1,
    parameters: Mapping[str, Any] | None = None,
    runner: Runner = papermill_runner,
) -> dict[str, Any]:
    """Run a job now and record it; returns its ``job_runs`` row (status ok or failed).

    Raises :class:`ValidationError` if the job is already running (here or in another process).
    """
    spec = job(name)
    params = {**spec.parameters(ctx.settings), **(parameters or {})}
    runs = ctx.settings.jobs_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    with RunLock(ctx.settings.jobs_dir / f"{name}.lock"):
        if slot is not None and _slot_done(ctx, name, slot):
            # another process ran this slot between its check and this lock
            raise ValidationError(f"{name} already ran for {timestamp(slot)}")
        with write(ctx) as tx:
            run_id = tx.insert(
                RUNS,
                {
                    "job": name,
                    "slot": timestamp(slot) if slot else None,
                    "attempt": attempt,
                    "parameters": json.dumps(params),
                    "started_at": tx.now,
                    "status": "running",
                },
            )
        executed = runs / f"{run_id:06d}-{name}.ipynb"
        html = executed.with_suffix(".html")
        counts = executed.with_suffix(".json")
        error = None
        given = {**params, "summary_file": str(counts)} if spec.summary else dict(params)
        if spec.slot_parameter:
            given.setdefault("slot", timestamp(slot) if slot else None)
        try:
            runner(NOTEBOOKS / spec.notebook, executed, given)
        except Exception as exc:  # any failure of the notebook is the run's outcome, recorded
            error = _describe(exc)
        if executed.exists():
            try:
                render_html(executed, html)
            except Exception as exc:  # a run that worked but could not be rendered says so
                error = error or f"rendering the notebook failed: {_describe(exc)}"
        with write(ctx) as tx:
            row = tx.fetch(RUNS, run_id)
            tx.update(
                RUNS,
                run_id,
                {
                    "status": "failed" if error else "ok",
                    "error": error,
                    "finished_at": timestamp(ctx.clock.now()),
                    "notebook_file": executed.name if executed.exists() else None,
                    "html_file": html.name if html.exists() else None,
                    "summary": _summary(counts),
                },
                expected_version=row["version"],
            )
    return query_dicts(ctx.db, f"SELECT * FROM {RUNS} WHERE id = ?", [run_id])[0]


def _slot_done(ctx: Context, name: str, slot: datetime) -> bool:
    row = ctx.db.execute(
        f"SELECT 1 FROM {RUNS} WHERE job = ? AND slot = ? AND status = 'ok' LIMIT 1",
        [name, timestamp(slot)],
    ).fetchone()
    return row is not None


def fail_interrupted_runs(ctx: Context, name: str) -> list[int]:
    """Mark the job's ``running`` rows failed when no run of it can still be going; their ids.

    Holding the job's lock while the rows are updated proves that no process is running the job
    (a live run holds it; a dead process's lock is gone) and keeps a new run from starting
    meanwhile. If the lock is held, the rows belong to a live run and are left alone.
    """
    try:
        lock = RunLock(ctx.settings.jobs_dir / f"{name}.lock").__enter__()
    except ValidationError:
        return []  # a run holds the lock: its row is really running
    try:
        stale = query_dicts(
            ctx.db,
            f"SELECT id, version FROM {RUNS}"
            " WHERE job = ? AND status = 'running' AND deleted_at IS NULL ORDER BY id",
            [name],
        )
        if not stale:
            return []
        with write(ctx) as tx:
            for row in stale:
                tx.update(
                    RUNS,
                    row["id"],
                    {"status": "failed", "error": INTERRUPTED, "finished_at": tx.now},
                    expected_version=row["version"],
                )
    finally:
        lock.__exit__()
    log.warning("scheduled jobs: %s run(s) %s were interrupted", name, [r["id"] for r in stale])
    return [r["id"] for r in stale]


class Scheduler:
    """What is due, from the clock in the context; :meth:`tick` runs it."""

    def __init__(
        self,
        jobs: Mapping[str, Job] | None = None,
        *,
        runner: Runner = papermill_runner,
        local: tzinfo | None = None,
    ) -> None:
        self.jobs = dict(JOBS if jobs is None else jobs)
        self.runner = runner
        self.local = local

    def slot(self, spec: Job, settings: Settings, now: datetime) -> datetime:
        """The latest moment at the job's local time of day that is not after ``now`` (UTC);
        for a job run every few minutes, the start of the current interval."""
        if spec.every is not None:
            step = spec.every(settings).total_seconds()
            return datetime.fromtimestamp(now.timestamp() // step * step, UTC)
        local_now = now.astimezone(self.local) if self.local else now.astimezone()
        at = spec.at(settings)
        candidate = local_now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
        if candidate > local_now:
            candidate -= timedelta(days=1)
        return candidate.astimezone(UTC)

    def due(self, ctx: Context) -> list[tuple[Job, datetime, int]]:
        """(job, slot, attempt) for each job whose latest slot has no finished run yet."""
        found = []
        now = ctx.clock.now()
        for spec in self.jobs.values():
            if spec.active is not None and not spec.active(ctx):
                continue
            if spec.schedule is not None:
                at, zone, floor = spec.schedule(ctx)
                slot = latest_slot(at, zone, now)
                if floor is not None and slot <= floor:
                    continue  # sent since that slot (or turned on after it)
            else:
                slot = self.slot(spec, ctx.settings, now)
            runs = query_dicts(
                ctx.db,
                f"SELECT status, attempt FROM {RUNS} WHERE job = ? AND slot = ? ORDER BY id",
                [spec.name, timestamp(slot)],
            )
            if any(r["status"] in ("ok", "running") for r in runs):
                continue
            failures = sum(r["status"] == "failed" for r in runs)
            if failures >= 2:
                continue  # retried once already: it stays failed and shows as an alert
            found.append((spec, slot, failures + 1))
        return found

    def tick(self, ctx: Context) -> list[dict[str, Any]]:
        """Run what is due (a failure is retried once, at once); returns the runs made.

        Runs left ``running`` by a process that died are marked failed first, so their slot is
        due again (an interrupted run counts as that slot's failed attempt).
        """
        for name in self.jobs:
            fail_interrupted_runs(ctx, name)
        made = []
        for spec, slot, attempt in self.due(ctx):
            try:
                row = run_job(ctx, spec.name, slot=slot, attempt=attempt, runner=self.runner)
            except ValidationError:
                continue  # already running elsewhere: that run will record the slot
            made.append(row)
            if row["status"] == "failed" and attempt == 1:
                made.append(run_job(ctx, spec.name, slot=slot, attempt=2, runner=self.runner))
        return made


def start_scheduler(
    open_context: Callable[[], Context], *, every_seconds: float = 60.0
) -> threading.Event:
    """Run :meth:`Scheduler.tick` in a daemon thread every minute; set the returned event to stop.

    The server calls this once at start-up (``CRM_JOBS=on``), so a missed night is caught up then.
    """
    stop = threading.Event()
    scheduler = Scheduler()

    def loop() -> None:
        ctx = open_context()
        try:
            while not stop.is_set():
                try:
                    scheduler.tick(ctx)
                except Exception:  # the next minute tries again; the failure is in the log
                    log.exception("scheduled jobs: tick failed")
                stop.wait(every_seconds)
        finally:
            ctx.close()

    threading.Thread(target=loop, name="crm-jobs", daemon=True).start()
    return stop
