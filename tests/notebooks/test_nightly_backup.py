"""notebooks/nightly_backup.ipynb under papermill, as the scheduler runs it: a backup, verified,
retention applied, a restore test, and the HTML rendering the admin page opens."""

from __future__ import annotations

from crm_lib import jobs, services
from crm_lib.context import Context
from tests.conftest import make_investors


def test_nightly_backup_notebook_backs_up_verifies_prunes_and_test_restores(ctx: Context) -> None:
    make_investors(ctx, ["Acme", "Beta"])
    services.create_backup(ctx)
    run = jobs.run_job(
        ctx, "nightly_backup", parameters={"policy": {"daily": 1, "weekly": 0, "monthly": 0}}
    )
    assert run["status"] == "ok", run["error"]
    backups = services.list_backups(ctx)
    assert [b["kind"] for b in backups] == ["nightly"]  # the older manual one was pruned
    assert backups[0]["verify_status"] == "ok"
    html = (ctx.settings.jobs_dir / "runs" / run["html_file"]).read_text()
    assert "Retention removed 1 backup(s)" in html
    assert "restore test" in html and "fundraising_investors" in html
    assert services.alerts(ctx) == []
