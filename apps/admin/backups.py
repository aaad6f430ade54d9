"""The admin page's backups, jobs and alerts: back up now, verify, the retention policy, preview
and restore with a typed confirmation, the off-box copies (newest and last failure per
destination, copy now), the job runs with their rendered notebooks, and alerts.
Every action goes through the services, which check again that the user is an admin.

Backing up, verifying, previewing a restore and restoring read or copy the whole database
(seconds at 100,000 investors): they run off the event loop (:meth:`apps.chrome.UserPage.launch`)
with the section's buttons disabled and "Working…" shown, so other sessions are served meanwhile."""

from __future__ import annotations

import json
from typing import Any

import panel as pn

from apps.chrome import UserPage, Working, read_only_table, set_choices, table_frame
from apps.formatting import (
    PLAIN,
    WHEN,
    Show,
    browser_zone,
    label,
    people_names,
    person,
    pills,
    plural,
    table_time,
)
from apps.markup import escape_text, link_formatter
from crm_lib import limits, services

BACKUP_COLUMNS = {
    "id": "Id",
    "started_at": "When",
    "kind": "Kind",
    "size": "Size",
    "verify_status": "Verified",
    "created_by": "By",
}
RUN_COLUMNS = {
    "id": "Run",
    "job": "Job",
    "started_at": "Started",
    "status": "Status",
    "attempt": "Attempt",
    "notebook": "Notebook",
    "counts": "Counts",
    "error": "Error",
}
BACKUP_SHOWS: dict[str, Show] = {
    "id": PLAIN,
    "started_at": WHEN,
    "kind": pills("backup_kind"),
    "verify_status": pills("verify_status"),
}
RUN_SHOWS: dict[str, Show] = {
    "id": PLAIN,
    "started_at": WHEN,
    "status": pills("run_status"),
    "attempt": PLAIN,
}


def run_counts(summary: str | None) -> str:
    """A run's reported counts in a few words ("12 stored, 9 linked"), zeros left out."""
    if not summary:
        return ""
    try:
        counts = json.loads(summary)
    except ValueError:
        return ""
    return ", ".join(
        f"{value:,} {key}"
        for key, value in counts.items()
        if isinstance(value, int) and not isinstance(value, bool) and value
    )


def offbox_html(status: dict[str, Any], zone: str | None) -> str:
    """Each off-box destination's newest copy, copies kept, last failure and what needs doing
    (``services.offbox_status``), as HTML; every value escaped."""
    if not status["configured"]:
        return (
            "Off-box copies are not configured: set <code>CRM_OFFBOX_DIR</code> (a mounted NAS "
            "folder) and/or <code>CRM_OFFBOX_S3_URL</code> (S3 or an S3-compatible service)."
        )
    danger = 'style="color:var(--crm-color-danger-text)"'
    lines = []
    for dest in status["destinations"]:
        last = dest["last_copy"]
        newest = (
            f"newest copy: backup #{last['backup_id']} of {table_time(last['backup_started_at'], zone)}"
            f" ({last['age_hours']:,.0f} h old), {plural(dest['copies'], 'copy', 'copies')} kept"
            if last
            else "no copy yet"
        )
        lines.append(
            f'<div class="crm-offbox-destination"><b>{escape_text(dest["destination"])}</b>'
            f" {escape_text(dest['location'])}: {escape_text(newest)}</div>"
        )
        failure = dest["last_failure"]
        if failure:
            lines.append(
                f'<div class="crm-offbox-failure">Last failure {table_time(failure["at"], zone)}'
                f" (backup #{failure['backup_id']}): {escape_text(failure['detail'])}</div>"
            )
        lines += [
            f'<div class="crm-alert" {danger}><b>Needs attention:</b> {escape_text(p)}</div>'
            for p in dest["problems"]
        ]
    return "".join(lines)


class BackupsSection:
    """Widgets and actions for backups and jobs; the admin page lays them out."""

    def __init__(self, page: UserPage) -> None:
        self.page = page
        self.alerts = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["crm-alerts"])
        self.backups = read_only_table(
            BACKUP_COLUMNS, BACKUP_SHOWS, empty="No backups yet. Take the first with “Back up now”."
        )
        self.choice = pn.widgets.Select(
            label="Backup", options={}, css_classes=["crm-backup-choice"]
        )
        self.preview = pn.pane.HTML(
            "", sizing_mode="stretch_width", css_classes=["crm-restore-preview"]
        )
        self.confirm = pn.widgets.TextInput(
            label="Type the backup id to confirm",
            width=220,
            css_classes=["crm-restore-confirm"],
            max_length=limits.max_length("confirmation"),
        )
        self.policy = {
            key: pn.widgets.IntInput(label=label, start=0, end=1000, width=110)
            for key, label in (("daily", "Daily"), ("weekly", "Weekly"), ("monthly", "Monthly"))
        }
        self.policy_version = 0
        self.offbox = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["crm-offbox"])
        self.runs = read_only_table(
            RUN_COLUMNS,
            RUN_SHOWS,
            empty="No job runs yet: the nightly jobs record each run here once they have run.",
        )
        # the cell holds the run's id; drawn as a link, never as HTML from the data
        self.runs.formatters = {
            **self.runs.formatters,
            "Notebook": link_formatter("/api/jobs/runs/{}/notebook", "open", new_tab=True),
        }
        self.buttons = {
            "backup": pn.widgets.Button(label="Back up now", color="primary"),
            "verify": pn.widgets.Button(label="Verify"),
            "preview": pn.widgets.Button(label="Preview restore"),
            "restore": pn.widgets.Button(label="Restore", color="danger", disabled=True),
            "policy": pn.widgets.Button(label="Save policy"),
            "offbox": pn.widgets.Button(label="Copy off the box"),
        }
        self.working = Working(lambda: self.buttons.values())
        b = self.buttons
        b["backup"].on_click(lambda _: self.back_up())
        b["verify"].on_click(lambda _: self.verify())
        b["preview"].on_click(lambda _: self.show_preview())
        b["restore"].on_click(lambda _: self.restore())
        b["policy"].on_click(lambda _: self.save_policy())
        b["offbox"].on_click(lambda _: self.copy_offbox())
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
                services.list_users(ctx),
                services.offbox_status(ctx),
            )

        loaded = self.page.act(load)
        if loaded is None:
            return
        backups, policy, runs, alerts, users, offbox = loaded
        zone, names = browser_zone(), people_names(users)
        shown = [
            {
                **b,
                "size": f"{b['size_bytes'] / 1024 / 1024:,.1f} MB",
                "created_by": person(b["created_by"], names),
            }
            for b in backups
        ]
        self.backups.value = table_frame(shown, BACKUP_COLUMNS, BACKUP_SHOWS, zone=zone)
        set_choices(
            self.choice,
            {
                f"#{b['id']} {table_time(b['started_at'], zone)}"
                f" {label('backup_kind', b['kind']).lower()}": b["id"]
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
                    "notebook": r["id"] if r["html_file"] else None,
                    "counts": run_counts(r.get("summary")),
                }
                for r in runs
            ],
            RUN_COLUMNS,
            RUN_SHOWS,
            zone=zone,
        )
        self.offbox.object = offbox_html(offbox, zone)
        self.alerts.object = (
            "".join(
                f'<div class="crm-alert" style="color:var(--crm-color-danger-text)"><b>Alert:</b> {escape_text(a["message"])}</div>'
                for a in alerts
            )
            or '<div style="color:var(--crm-color-success-text)">No alerts: backups and jobs are healthy.</div>'
        )

    # -- actions ------------------------------------------------------------------------------
    def back_up(self) -> None:
        def taken(row: dict[str, Any]) -> None:
            self.page._report(
                f"Backup {row['id']} taken and verified ({row['integrity']}).", failed=False
            )
            self.refresh()

        self.page.launch(
            lambda ctx: services.create_backup(ctx, "manual"),
            taken,
            working=self.working,
            what="Backing up and verifying the database",
        )

    def verify(self) -> None:
        backup_id = self.choice.value
        if backup_id is None:
            return

        def verified(row: dict[str, Any]) -> None:
            self.page._report(
                f"Backup {backup_id}: {row['verify_status']} ({row['verify_detail']})",
                failed=row["verify_status"] != "ok",
            )
            self.refresh()

        self.page.launch(
            lambda ctx: services.verify_backup(ctx, backup_id),
            verified,
            working=self.working,
            what=f"Verifying backup {backup_id}",
        )

    def show_preview(self) -> None:
        backup_id = self.choice.value
        if backup_id is None:
            return
        self.page.launch(
            lambda ctx: services.restore_preview(ctx, backup_id),
            lambda preview: self._show_preview(backup_id, preview),
            working=self.working,
            what=f"Comparing backup {backup_id} with the live data",
        )

    def _show_preview(self, backup_id: int, preview: dict[str, Any]) -> None:
        if self.choice.value != backup_id:
            return  # another backup was chosen meanwhile: this preview is not what is shown
        if not preview["restorable"]:
            self.preview.object = f"<b>{escape_text(preview['reason'])}</b>"
            self.preview_for = None
            self._arm()
            return
        lines = [
            f"<b>Restoring backup #{backup_id}</b> (schema {preview['backup']['schema_version']}):"
        ]
        for key, verb, verb_one in (
            ("investors_back", "come back", "comes back"),
            ("investors_gone", "disappear", "disappears"),
            ("investors_changed", "change", "changes"),
        ):
            part = preview[key]
            verb = verb_one if part["count"] == 1 else verb
            examples = escape_text(", ".join(part["examples"]))
            lines.append(
                f"{plural(part['count'], 'investor')} {verb}"
                + (f" (e.g. {examples})" if examples else "")
            )
        tables = "".join(
            f"<tr><td>{escape_text(t['table'])}</td><td>{t['live']:,}</td><td>{t['backup']:,}</td></tr>"
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
        self.buttons["restore"].disabled = self.working.active or not (
            self.preview_for is not None and typed == str(self.preview_for)
        )

    def restore(self) -> None:
        backup_id = self.preview_for
        typed = (self.confirm.value_input or self.confirm.value or "").strip()
        if backup_id is None or typed != str(backup_id):
            self.page._report("Preview the restore and type the backup id first.", failed=True)
            return

        def restored(done: dict[str, Any]) -> None:
            self.page._report(
                f"Restored backup {backup_id}. The data before it is backup {done['pre_restore_backup']}.",
                failed=False,
            )
            self._reset_preview()
            self.refresh()

        self.page.launch(
            lambda ctx: services.restore_backup(ctx, backup_id),
            restored,
            working=self.working,
            what=f"Restoring backup {backup_id} (a backup of the data now is taken first)",
        )

    def copy_offbox(self) -> None:
        backup_id = self.choice.value  # None: the newest verified backup

        def copied(copies: list[dict[str, Any]]) -> None:
            failed = [c for c in copies if c["status"] != "ok"]
            if not copies:
                message = (
                    "No off-box destination is configured (CRM_OFFBOX_DIR, CRM_OFFBOX_S3_URL)."
                )
            elif failed:
                message = "Off-box copy failed: " + "; ".join(
                    f"{c['destination']}: {c['detail']}" for c in failed
                )
            else:
                message = (
                    f"Backup {copies[0]['backup_id']} copied off the box and read back intact."
                )
            self.page._report(message, failed=bool(failed) or not copies)
            self.refresh()

        self.page.launch(
            lambda ctx: services.copy_offbox(ctx, backup_id),
            copied,
            working=self.working,
            what="Copying the backup off the box and reading it back",
        )

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
            self.working.layout,
            self.backups,
            pn.Row(self.choice, b["verify"], b["preview"], b["offbox"]),
            self.preview,
            pn.Row(self.confirm, b["restore"]),
            pn.pane.Markdown(
                "### Retention (newest backup of each of the last N days, weeks, months)"
            ),
            pn.Row(*self.policy.values(), b["policy"]),
            pn.pane.Markdown(
                "### Off-box copies (each nightly and manual backup, read back and checked)"
            ),
            self.offbox,
            pn.pane.Markdown(
                "## Job runs (nightly backup; `crm jobs run nightly_backup` runs it now)"
            ),
            self.runs,
        ]
