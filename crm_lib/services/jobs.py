"""Job runs and alerts as the admin page and the CLI see them."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crm_lib import jobs
from crm_lib.auth.permissions import require
from crm_lib.context import Context
from crm_lib.errors import NotFound
from crm_lib.storage.reads import LIVE, query_dicts

#: No verified backup for longer than this is an alert (a nightly job plus two hours' grace).
BACKUP_MAX_AGE = timedelta(hours=26)
#: Free disk below this is an alert: a backup needs room for a full copy.
LOW_DISK_BYTES = 1024**3


def list_job_runs(ctx: Context, *, job: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Recent runs, newest first."""
    require(ctx, "manage_backups")
    where, params = ("job = ? AND ", [job]) if job else ("", [])
    return query_dicts(
        ctx.db,
        f"SELECT * FROM job_runs WHERE {where}{LIVE} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    )


def run_job_now(ctx: Context, name: str) -> dict[str, Any]:
    """Run a job at once (admins; the CLI): its row, ok or failed."""
    require(ctx, "manage_backups")
    return jobs.run_job(ctx, name)


def job_run_file(ctx: Context, run_id: int, kind: str = "html") -> Path:
    """The rendered (``html``) or executed (``ipynb``) notebook of a run."""
    require(ctx, "manage_backups")
    rows = query_dicts(ctx.db, f"SELECT * FROM job_runs WHERE id = ? AND {LIVE}", [run_id])
    name = rows[0]["html_file" if kind == "html" else "notebook_file"] if rows else None
    path = ctx.settings.jobs_dir / "runs" / name if name else None
    if path is None or not path.exists():
        raise NotFound("job run notebook", run_id)
    return path


def alerts(ctx: Context) -> list[dict[str, str]]:
    """What needs an admin: failed jobs, no verified backup in 26 h, low disk."""
    require(ctx, "manage_backups")
    found: list[dict[str, str]] = []
    for name in jobs.JOBS:
        last = query_dicts(
            ctx.db,
            f"SELECT * FROM job_runs WHERE job = ? AND status != 'running' AND {LIVE}"
            " ORDER BY id DESC LIMIT 1",
            [name],
        )
        if last and last[0]["status"] == "failed":
            found.append(
                {
                    "kind": "job_failed",
                    "message": f"{name} failed at {last[0]['started_at'][:16]} UTC"
                    f" (attempt {last[0]['attempt']}): {last[0]['error']}",
                }
            )
    newest = query_dicts(
        ctx.db,
        f"SELECT started_at FROM backups WHERE verify_status = 'ok' AND {LIVE}"
        " ORDER BY started_at DESC LIMIT 1",
    )
    now = ctx.clock.now()
    if not newest or now - datetime.fromisoformat(newest[0]["started_at"]) > BACKUP_MAX_AGE:
        when = f"since {newest[0]['started_at'][:16]} UTC" if newest else "ever"
        found.append({"kind": "no_backup", "message": f"No verified backup {when}"})
    folder = ctx.settings.backup_dir if ctx.settings.backup_dir.exists() else ctx.settings.data_dir
    free = shutil.disk_usage(folder).free
    if free < LOW_DISK_BYTES:
        found.append(
            {"kind": "low_disk", "message": f"Only {free / 1024**2:,.0f} MB free where backups go"}
        )
    return found
