"""notebooks/pipeline_report.ipynb through the jobs runner, as the weekly job runs it: each fund
by stage with the figures the service gives, the weekly chart of the pipeline as it stood (a
stage move in the audit log changes the past weeks it should, and no others), the aging table,
and the HTML rendering the admin page's job history opens."""

from __future__ import annotations

import re

import nbformat

from crm_lib import jobs, services
from crm_lib.clock import FixedClock
from crm_lib.context import Context


def test_the_weekly_report_runs_through_the_jobs_runner(ctx: Context, clock: FixedClock) -> None:
    fund = services.create_fund(ctx, {"name": "Fund Report", "target_size": 100e6})
    stages = {s["name"]: s["id"] for s in services.list_stages(ctx)}
    assert not jobs.JOBS["pipeline_report"].active(ctx)  # nothing to report yet
    made = []
    for name, amount in (("Slow LP", 10e6), ("Quick LP", 20e6)):
        investor = services.create_investor(ctx, {"name": name})
        made.append(
            services.create_opportunity(
                ctx, investor["id"], fund["id"], {"expected_amount": amount}
            )
        )
    clock.advance(days=14)
    services.move_opportunity(
        ctx, made[1]["id"], stages["Soft circle"], expected_version=made[1]["version"]
    )
    clock.advance(days=3)
    assert jobs.JOBS["pipeline_report"].active(ctx)
    summary = services.pipeline_summary(ctx, fund["id"])
    run = jobs.run_job(
        ctx, "pipeline_report", parameters={"as_of": clock.now().date().isoformat(), "weeks": 3}
    )
    assert run["status"] == "ok", run["error"]
    html = (ctx.settings.jobs_dir / "runs" / run["html_file"]).read_text()
    assert f"Pipeline report as of {clock.now().date()}: Fund Report" in html
    assert (
        f"Fund Report: open 2, expected {summary['open_expected']:,.0f},"
        f" weighted {summary['open_weighted']:,.0f}" in html
    )
    assert summary["open_weighted"] == 10e6 * 0.10 + 20e6 * 0.75
    # the pipeline as it stood each week: nothing before the opportunities, both in Prospect
    # (1,000,000 + 2,000,000), then the quick one in Soft circle (1,000,000 + 15,000,000)
    weekly = re.findall(r"<td>([0-9,]+)</td>", html.split("weighted open pipeline")[-1])[:4]
    assert weekly == ["0", "3,000,000", "3,000,000", "16,000,000"]
    executed = nbformat.read(ctx.settings.jobs_dir / "runs" / run["notebook_file"], as_version=4)
    charts = [
        o for c in executed.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert len(charts) == 3  # by stage, week by week, aging
    assert "Soft circle" in html.split("Median days in stage")[0]
