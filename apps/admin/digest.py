"""The admin page's digest section: turn the daily digest on, its send time, time zone and
transport; "Send digest now", "Send test email", a preview of the digest the next send would
build, and the last sends (time, kind, recipients, transport, sizes, errors).

Sending and previewing can wait on the local model or a mail server for seconds: they run off
the event loop (:meth:`apps.chrome.UserPage.launch`) with the section's buttons disabled. The
preview is shown in a sandboxed frame (no scripts, its own document), so nothing in it can act
on the page around it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import available_timezones

import panel as pn

from apps.chrome import UserPage, Working
from apps.formatting import PLAIN, WHEN, Show, browser_zone, read_only_table, table_frame
from apps.forms import FormErrors
from apps.markup import escape_text
from crm_lib import limits, services
from crm_lib.context import Context
from crm_lib.errors import ExternalServiceError

SEND_COLUMNS = {
    "started_at": "When",
    "kind": "Kind",
    "status": "Status",
    "recipients": "Recipients",
    "transport": "Transport",
    "emails": "Emails",
    "investors": "Investors",
    "html_bytes": "HTML bytes",
    "narrative": "Narratives",
    "error": "Error",
}
SEND_SHOWS: dict[str, Show] = {
    "started_at": WHEN,
    "emails": PLAIN,
    "investors": PLAIN,
    "html_bytes": PLAIN,
}
TRANSPORTS = {
    "Gmail, then SMTP if Gmail fails": "auto",
    "Gmail only": "gmail",
    "SMTP only": "smtp",
}
NARRATIVES = {"model": "local model", "data": "from the data"}


class DigestSection:
    """Widgets and actions for the daily digest; the admin page lays them out."""

    def __init__(self, page: UserPage) -> None:
        self.page = page
        self.version = 0
        self.status = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["crm-digest"])
        self.enabled = pn.widgets.Checkbox(label="Send the daily digest to the admins")
        self.send_at = pn.widgets.TextInput(
            label="Send time (HH:MM)",
            placeholder="18:00",
            width=140,
            max_length=limits.max_length("clock_time"),
        )
        self.timezone = pn.widgets.AutocompleteInput(
            label="Time zone",
            options=sorted(available_timezones()),
            restrict=True,
            case_sensitive=False,
            search_strategy="includes",
            min_characters=1,
            width=260,
        )
        self.transport = pn.widgets.Select(label="Send through", options=TRANSPORTS, width=260)
        self.form = FormErrors(
            {
                "send_at": self.send_at,
                "timezone": self.timezone,
                "transport": self.transport,
            }
        )
        self.preview = pn.pane.HTML("", sizing_mode="stretch_width", visible=False)
        self.sends = read_only_table(
            SEND_COLUMNS,
            SEND_SHOWS,
            empty="No digest sent yet. Turn it on above, or press Send digest now.",
        )
        self.buttons = {
            "save": pn.widgets.Button(label="Save digest settings", color="primary"),
            "send": pn.widgets.Button(label="Send digest now"),
            "test": pn.widgets.Button(label="Send test email"),
            "preview": pn.widgets.Button(label="Preview today's digest"),
        }
        self.working = Working(lambda: self.buttons.values())
        b = self.buttons
        b["save"].on_click(lambda _: self.save())
        b["send"].on_click(lambda _: self.send_now())
        b["test"].on_click(lambda _: self.send_test())
        b["preview"].on_click(lambda _: self.show_preview())

    def refresh(self) -> None:
        loaded = self.page.act(
            lambda ctx: (services.digest_policy(ctx), services.digest_sends(ctx, limit=20))
        )
        if loaded is None:
            return
        policy, sends = loaded
        self.version = policy["version"]
        self.enabled.value = policy["enabled"]
        self.send_at.value = policy["send_at"]
        self.timezone.value = policy["timezone"]
        self.transport.value = policy["transport"]
        if policy["enabled"]:
            state = (
                f"The digest is <b>on</b>: every day at {escape_text(policy['send_at'])}"
                f" ({escape_text(policy['timezone'])}), to every active admin. Each digest covers"
                " the time since the last one."
            )
        else:
            state = "The digest is <b>off</b>. Turn it on to send it every evening to the admins."
        self.status.object = f"<p>{state}</p>"
        rows = [
            {
                **row,
                "recipients": ", ".join(row["recipients"]),
                "transport": row["transport"] or "",
                "emails": row["figures"].get("emails"),
                "investors": row["figures"].get("investors"),
                "narrative": NARRATIVES.get(row["narrative"] or "", ""),
                "error": row["error"] or "",
            }
            for row in sends
        ]
        self.sends.value = table_frame(rows, SEND_COLUMNS, SEND_SHOWS, zone=browser_zone())

    def save(self) -> None:
        values = {
            "enabled": bool(self.enabled.value),
            "send_at": (self.send_at.value_input or self.send_at.value or "").strip(),
            "timezone": self.timezone.value or "",
            "transport": self.transport.value,
        }
        version = self.version
        if self.page.act(
            lambda ctx: services.set_digest_policy(ctx, values, expected_version=version),
            success="Digest settings saved.",
            form=self.form,
        ):
            self.refresh()

    def send_now(self) -> None:
        self._send(services.send_digest, "Digest", "Building and sending the digest…")

    def send_test(self) -> None:
        self._send(services.send_test_email, "Test email", "Sending a test email…")

    def _send(self, send: Callable[[Context], dict[str, Any]], what: str, doing: str) -> None:
        """Send off the event loop; a transport's refusal is reported and, being recorded,
        shown in the last sends as well (so the table refreshes either way)."""

        def attempt(ctx: Context) -> dict[str, Any]:
            try:
                return send(ctx)
            except ExternalServiceError as exc:
                return {"failed": exc.message}

        def settled(row: dict[str, Any]) -> None:
            if "failed" in row:
                self.page._report(row["failed"], failed=True)
            else:
                self.page._report(
                    f"{what} sent to {', '.join(row['recipients'])} through {row['transport']}.",
                    failed=False,
                )
            self.refresh()

        self.page.launch(attempt, settled, working=self.working, what=doing)

    def show_preview(self) -> None:
        def shown(preview: dict[str, Any]) -> None:
            document = escape_text(preview["html"])  # the whole page, as one attribute value
            self.preview.object = (
                f"<p><b>{escape_text(preview['subject'])}</b></p>"
                f'<iframe title="Digest preview" sandbox="" srcdoc="{document}"'
                ' style="width:100%;height:640px;border:1px solid var(--crm-border, #ccc);'
                'border-radius:6px;background:#fff"></iframe>'
            )
            self.preview.visible = True

        self.page.launch(
            lambda ctx: services.preview_digest(ctx),
            shown,
            working=self.working,
            what="Building the preview…",
        )

    def layout(self) -> list[Any]:
        b = self.buttons
        return [
            pn.pane.Markdown("## Daily digest"),
            self.status,
            self.enabled,
            pn.Row(
                self.form.field("send_at"),
                self.form.field("timezone"),
                self.form.field("transport"),
            ),
            pn.Row(b["save"], b["send"], b["test"], b["preview"]),
            self.working.layout,
            self.sends,
            self.preview,
        ]
