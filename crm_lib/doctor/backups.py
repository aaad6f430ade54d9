"""Backups: a recent verified backup that is still on disk, no failed re-check, no failed nightly
job, and each off-box destination's newest copy (from ``services.offbox_status``, which reads the
record of copies and contacts no remote)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from crm_lib import services
from crm_lib.doctor.core import Finding, Setup, check, open_crm
from crm_lib.doctor.wording import ago, minute

#: The newest verified backup may be this old (a nightly job plus two hours' grace) ...
BACKUP_WARN_AGE = timedelta(hours=26)
#: ... and this old before the doctor fails.
BACKUP_FAIL_AGE = timedelta(days=3)


@check("backups")
def check_backups(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    with open_crm(setup) as crm:
        if isinstance(crm, Finding):
            yield crm
            return
        rows = services.list_backups(crm, limit=1_000_000)
        runs = services.list_job_runs(crm, job="nightly_backup", limit=10)
        offbox = services.offbox_status(crm)
    folder = settings.backup_dir
    schedule = (
        "check the nightly job with `crm jobs list`"
        if settings.jobs
        else "CRM_JOBS=off, so the server takes no nightly backup: run `crm backup` from cron "
        "or a systemd timer"
    )
    verified = [r for r in rows if r["verify_status"] == "ok" and r["integrity"] == "ok"]
    if not verified:
        failed = f" ({len(rows)} failed verification)" if rows else ""
        yield Finding(
            "fail", f"No verified backup in {folder}{failed}", f"run `crm backup` now; {schedule}"
        )
    else:
        newest = verified[0]
        age = setup.clock.now() - datetime.fromisoformat(newest["started_at"])
        said = f"The newest verified backup, {newest['file_name']}, is {ago(age)} old"
        if not (folder / newest["file_name"]).is_file():
            yield Finding(
                "fail",
                f"{newest['file_name']}, the newest verified backup, is missing from {folder}",
                f"run `crm backup` now, and find out what removed it; {schedule}",
            )
        elif age > BACKUP_FAIL_AGE:
            yield Finding("fail", said, f"run `crm backup` now; {schedule}")
        elif age > BACKUP_WARN_AGE:
            yield Finding("warn", f"{said} (a nightly backup was expected)", schedule)
        else:
            yield Finding("ok", f"{said}; verified backups in {folder}: {len(verified)}")
    checked = [r for r in rows if r["verified_at"]]
    last = max(checked, key=lambda r: r["verified_at"], default=None)
    if last is not None and last["verify_status"] == "failed":
        yield Finding(
            "fail",
            f"Backup {last['id']} ({last['file_name']}) failed its last check at "
            f"{minute(last['verified_at'])}: {last['verify_detail']}",
            f"take a fresh backup (`crm backup`), look for disk errors under {folder}, and "
            f"re-check it with `crm backup verify {last['id']}`",
        )
    last_run = next((r for r in runs if r["status"] != "running"), None)
    if last_run is not None and last_run["status"] == "failed":
        yield Finding(
            "fail",
            f"The nightly backup job failed at {minute(last_run['started_at'])}: "
            f"{last_run['error']}",
            "`crm jobs list` shows the run; `crm jobs run nightly_backup` retries it",
        )
    yield from _offbox_findings(offbox)


def _offbox_findings(status: dict[str, Any]) -> Iterable[Finding]:
    """Each off-box destination's newest copy and last attempt, from ``offbox_status`` (which
    reads the record of copies and contacts no remote; a mounted folder is only ``stat``-ed)."""
    retry = (
        "`crm backup offbox` copies the newest verified backup there now; `crm backup status` "
        "shows each destination, `crm jobs list` the nightly job's errors"
    )
    for place in status["destinations"]:
        where = place["location"]
        for problem in place["problems"]:
            fix = f"mount the share at {where}, then {retry}" if "mounted" in problem else retry
            yield Finding("fail", problem, fix)
        copy = place["last_copy"]
        if copy is None or place["problems"]:
            continue
        age = timedelta(hours=copy["age_hours"])
        said = f"The newest off-box copy at {where} is of a backup {ago(age)} old"
        if age > BACKUP_WARN_AGE:
            yield Finding("warn", f"{said} (a nightly copy was expected)", retry)
        else:
            yield Finding("ok", f"{said}; copies kept there: {place['copies']}")
