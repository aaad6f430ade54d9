"""The admin page's backups, jobs and alerts: back up now, verify, the retention policy, preview
and restore with a typed confirmation, the job runs with their rendered notebooks, and alerts.
Every action goes through the services, which check again that the user is an admin."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import panel as pn

from apps.chrome import read_only_table, set_choices, table_frame
from crm_lib import services

if TYPE_CHECKING:
    from apps.admin.page import AdminPage

BACKUP_COLUMNS = {
    "id": "Id",
    "started_at": "When (UTC)",
    "kind": "Kind",
    "size": "Size",
    "verify_status": "Verified",
    "created_by": "By",
}
RUN_COLUMNS = {
    "id": "Run",
    "job": "Job",
    "started_at": "Started (UTC)",
    "status": "Status",
    "attempt": "Attempt",
    "notebook": "Notebook",
    "error": "Error",
}


class BackupsSection:
    """Widgets and actions for backups and jobs; the admin page lays them out."""

    def __init__(self, page: AdminPage) -> None:
        self.page = page
        self.alerts = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["crm-alerts"])
        self.backups = read_only_table(BACKUP_COLUMNS)
        self.choice = pn.widgets.Select(
            label="Backup", options={}, css_classes=["crm-backup-choice"]
        )
        self.preview = pn.pane.HTML(
            "", sizing_mode="stretch_width", css_classes=["crm-restore-preview"]
        )
        self.confirm = pn.widgets.TextInput(
            label="Type the backup id to confirm", width=220, css_classes=["crm-restore-confirm"]
        )
        self.policy = {
            key: pn.widgets.IntInput(label=label, start=0, end=1000, width=110)
            for key, label in (("daily", "Daily"), ("weekly", "Weekly"), ("monthly", "Monthly"))
        }
        self.policy_version = 0
        self.runs = read_only_table(RUN_COLUMNS)
        self.runs.formatters = {"Notebook": {"type": "html"}}
        self.buttons = {
            "backup": pn.widgets.Button(label="Back up now", color="primary"),
            "verify": pn.widgets.Button(label="Verify"),
            "preview": pn.widgets.Button(label="Preview restore"),
            "restore": pn.widgets.Button(label="Restore", color="danger", disabled=True),
            "policy": pn.widgets.Button(label="Save policy"),
        }
        b = self.buttons
        b["backup"].on_click(lambda _: self.back_up())
        b["verify"].on_click(lambda _: self.verify())
        b["preview"].on_click(lambda _: self.show_preview())
        b["restore"].on_click(lambda _: self.restore())
        b["policy"].on_click(lambda _: self.save_policy())
        self.confirm.param.watch(lambda _: self._arm(), "value_input")
        self.confirm.param.watch(lambda _: self._arm(), "value")
        self.choice.param.watch(lambda _: self._reset_preview(), "value")

    # -- loading ------------------------------------------------------------------------------
    def refresh(self) -> None:
        def load(ctx: Any) -> tuple:
            return (
                services.list_backups(ctx),
                services.backup_policy(ctx),
                services.list_job_runs(ctx, limit=30),
                services.alerts(ctx),
            )

        loaded = self.page.act(load)
        if loaded is None:
            return
        backups, policy, runs, alerts = loaded
        shown = [
            {
                **b,
                "started_at": b["started_at"][:19].replace("T", " "),
                "size": f"{b['size_bytes'] / 1024 / 1024:.1f} MB",
                "verify_status": b["verify_status"] or "—",
            }
            for b in backups
        ]
        self.backups.value = table_frame(shown, BACKUP_COLUMNS)
        set_choices(
            self.choice,
            {
                f"#{b['id']} {b['started_at'][:16].replace('T', ' ')} {b['kind']}": b["id"]
                for b in backups
            },
        )
        for key, widget in self.policy.items():
            widget.value = policy[key]
        self.policy_version = policy["version"]
        self.runs.value = table_frame(
            [
                {
                    **r,
                    "started_at": r["started_at"][:19].replace("T", " "),
                    "notebook": (
                        f'<a href="/api/jobs/runs/{r["id"]}/notebook" target="_blank">open</a>'
                        if r["html_file"]
                        else ""
                    ),
                    "error": r["error"] or "",
                }
                for r in runs
            ],
            RUN_COLUMNS,
        )
        self.alerts.object = (
            "".join(
                f'<div class="crm-alert" style="color:#b02a37"><b>Alert:</b> {html.escape(a["message"])}</div>'
                for a in alerts
            )
            or '<div style="color:#198754">No alerts: backups and jobs are healthy.</div>'
        )

    # -- actions ------------------------------------------------------------------------------
    def back_up(self) -> None:
        row = self.page.act(lambda ctx: services.create_backup(ctx, "manual"))
        if row is not None:
            self.page._report(
                f"Backup {row['id']} taken and verified ({row['integrity']}).", failed=False
            )
            self.refresh()

    def verify(self) -> None:
        backup_id = self.choice.value
        if backup_id is None:
            return
        row = self.page.act(lambda ctx: services.verify_backup(ctx, backup_id))
        if row is not None:
            self.page._report(
                f"Backup {backup_id}: {row['verify_status']} ({row['verify_detail']})",
                failed=row["verify_status"] != "ok",
            )
            self.refresh()

    def show_preview(self) -> None:
        backup_id = self.choice.value
        if backup_id is None:
            return
        preview = self.page.act(lambda ctx: services.restore_preview(ctx, backup_id))
        if preview is None:
            return
        if not preview["restorable"]:
            self.preview.object = f"<b>{html.escape(preview['reason'])}</b>"
            self.preview_for = None
            self._arm()
            return
        lines = [
            f"<b>Restoring backup #{backup_id}</b> (schema {preview['backup']['schema_version']}):"
        ]
        for key, label in (
            ("investors_back", "come back"),
            ("investors_gone", "disappear"),
            ("investors_changed", "change"),
        ):
            part = preview[key]
            examples = html.escape(", ".join(part["examples"]))
            lines.append(
                f"{part['count']:,} investors {label}" + (f" (e.g. {examples})" if examples else "")
            )
        tables = "".join(
            f"<tr><td>{html.escape(t['table'])}</td><td>{t['live']:,}</td><td>{t['backup']:,}</td></tr>"
            for t in preview["tables"]
            if t["live"] or t["backup"]
        )
        lines.append(
            f"<table><tr><th>Table</th><th>Now</th><th>In the backup</th></tr>{tables}</table>"
        )
        self.preview.object = "<br>".join(lines)
        self.preview_for = backup_id
        self._arm()

    preview_for: int | None = None

    def _reset_preview(self) -> None:
        self.preview_for = None
        self.preview.object = ""
        self.confirm.value = ""
        self._arm()

    def _arm(self) -> None:
        typed = (self.confirm.value_input or self.confirm.value or "").strip()
        self.buttons["restore"].disabled = not (
            self.preview_for is not None and typed == str(self.preview_for)
        )

    def restore(self) -> None:
        backup_id = self.preview_for
        typed = (self.confirm.value_input or self.confirm.value or "").strip()
        if backup_id is None or typed != str(backup_id):
            self.page._report("Preview the restore and type the backup id first.", failed=True)
            return
        done = self.page.act(lambda ctx: services.restore_backup(ctx, backup_id))
        if done is not None:
            self.page._report(
                f"Restored backup {backup_id}. The data before it is backup {done['pre_restore_backup']}.",
                failed=False,
            )
            self._reset_preview()
            self.refresh()

    def save_policy(self) -> None:
        values = {key: widget.value for key, widget in self.policy.items()}
        saved = self.page.act(
            lambda ctx: services.set_backup_policy(
                ctx, values, expected_version=self.policy_version
            ),
            success="Retention policy saved.",
        )
        if saved is not None:
            self.refresh()

    def layout(self) -> list[Any]:
        b = self.buttons
        return [
            pn.pane.Markdown("## Alerts"),
            self.alerts,
            pn.pane.Markdown("## Backups"),
            pn.Row(b["backup"]),
            self.backups,
            pn.Row(self.choice, b["verify"], b["preview"]),
            self.preview,
            pn.Row(self.confirm, b["restore"]),
            pn.pane.Markdown(
                "### Retention (newest backup of each of the last N days, weeks, months)"
            ),
            pn.Row(*self.policy.values(), b["policy"]),
            pn.pane.Markdown(
                "## Job runs (nightly backup; `crm jobs run nightly_backup` runs it now)"
            ),
            self.runs,
        ]
