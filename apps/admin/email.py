"""The admin page's email section: connect Google (the service account key, uploaded once and
never shown again), test it with one team member, choose whose Gmail syncs, the fund's own
domains, the blocklist, "Sync now", and each mailbox's status with its last error.

Every action goes through the services, which check again that the user is an admin. A sync
reads Gmail over the network for seconds or minutes: it runs off the event loop
(:meth:`apps.chrome.UserPage.launch`) with the section's buttons disabled meanwhile."""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.chrome import UserPage, Working, read_only_table, set_choices, table_frame
from apps.formatting import PLAIN, WHEN, Show, browser_zone, plural
from apps.markup import escape_text
from crm_lib import limits, services

ACCOUNT_COLUMNS = {
    "email": "Mailbox",
    "owner_name": "Team member",
    "source": "Source",
    "sync": "Synced",
    "sharing": "Sharing",
    "status": "Status",
    "stage": "Stage",
    "last_sync_at": "Last sync",
    "messages_stored": "Stored",
    "messages_total": "In the mailbox",
    "failures": "Unreadable",
    "last_error": "Last error",
}
ACCOUNT_SHOWS: dict[str, Show] = {
    "last_sync_at": WHEN,
    "messages_stored": PLAIN,
    "messages_total": PLAIN,
    "failures": PLAIN,
}


class EmailSection:
    """Widgets and actions for email capture; the admin page lays them out."""

    def __init__(self, page: UserPage) -> None:
        self.page = page
        self.status = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["crm-google"])
        self.key_file = pn.widgets.FileInput(accept=".json", multiple=False)
        self.mailboxes = pn.widgets.MultiChoice(
            label="Team members whose Gmail syncs", options=[], sizing_mode="stretch_width"
        )
        self.test_choice = pn.widgets.Select(label="Test with", options={}, width=260)
        self.test_result = pn.pane.HTML("", sizing_mode="stretch_width")
        self.domains = pn.widgets.TextInput(
            label="The fund's own domains (besides the team's)",
            placeholder="fund-partners.example, other-fund.example",
            sizing_mode="stretch_width",
            max_length=limits.max_length("domain_list"),
        )
        self.blocklist = pn.widgets.TextAreaInput(
            label="Never capture mail with (one address or @domain per line)",
            height=100,
            sizing_mode="stretch_width",
            max_length=limits.max_length("blocklist"),
        )
        self.accounts = read_only_table(
            ACCOUNT_COLUMNS,
            ACCOUNT_SHOWS,
            empty="No mailboxes yet. Choose whose Gmail syncs above, or import a mailbox file"
            " with `crm email import-mbox`.",
        )
        self.buttons = {
            "key": pn.widgets.Button(label="Save key"),
            "mailboxes": pn.widgets.Button(label="Save synced mailboxes", color="primary"),
            "test": pn.widgets.Button(label="Test connection"),
            "domains": pn.widgets.Button(label="Save domains"),
            "blocklist": pn.widgets.Button(label="Save blocklist"),
            "sync": pn.widgets.Button(label="Sync now", color="primary"),
        }
        self.working = Working(lambda: self.buttons.values())
        b = self.buttons
        b["key"].on_click(lambda _: self.save_key())
        b["mailboxes"].on_click(lambda _: self.save_mailboxes())
        b["test"].on_click(lambda _: self.test())
        b["domains"].on_click(lambda _: self.save_domains())
        b["blocklist"].on_click(lambda _: self.save_blocklist())
        b["sync"].on_click(lambda _: self.sync_now())

    def refresh(self) -> None:
        def load(ctx: Any) -> tuple:
            return (
                services.google_status(ctx),
                services.email_accounts(ctx),
                services.list_users(ctx),
                services.internal_domains(ctx),
                services.email_blocklist(ctx),
            )

        loaded = self.page.act(load)
        if loaded is None:
            return
        google, accounts, users, domains, blocked = loaded
        if google["connected"]:
            self.status.object = (
                "<p>Google is connected as <b>"
                f"{escape_text(google['service_account'])}</b> (scope gmail.readonly). Upload"
                " another key to replace it.</p>"
            )
        else:
            self.status.object = f"<p>{escape_text(google['problem'])}.</p>"
        team = {u["email"]: u["email"] for u in users if u.get("is_active", True)}
        self.mailboxes.options = list(team)
        self.mailboxes.value = [
            a["email"] for a in accounts if a["sync_enabled"] and a["email"] in team
        ]
        set_choices(self.test_choice, team)
        self.domains.value = ", ".join(domains)
        self.blocklist.value = "\n".join(blocked)
        shown = [
            {
                **a,
                "sync": "✓" if a["sync_enabled"] else "",
                "owner_name": a["owner_name"] or "",
                "last_error": a["last_error"] or "",
            }
            for a in accounts
        ]
        self.accounts.value = table_frame(
            shown, ACCOUNT_COLUMNS, ACCOUNT_SHOWS, zone=browser_zone()
        )

    def save_key(self) -> None:
        content = self.key_file.value
        if not content:
            self.page._report("Choose the service account's JSON key file first.", failed=True)
            return
        done = self.page.act(lambda ctx: services.save_google_key(ctx, content))
        self.key_file.clear()  # the key is not kept in the page once saved (or refused)
        self.key_file.param.update(value=None, filename=None)
        if done is not None:
            self.page._report(
                f"Google connected as {done['service_account']}. The key is kept on the"
                " server (mode 0600) and never shown again.",
                failed=False,
            )
            self.refresh()

    def save_mailboxes(self) -> None:
        chosen = list(self.mailboxes.value)
        if self.page.act(
            lambda ctx: services.set_synced_mailboxes(ctx, chosen),
            success=f"{plural(len(chosen), 'mailbox', 'mailboxes')} chosen for syncing.",
        ):
            self.refresh()

    def test(self) -> None:
        address = self.test_choice.value
        if not address:
            return
        result = self.page.act(lambda ctx: services.check_google(ctx, address))
        if result is not None:
            failed = result.startswith("Failed")
            self.test_result.object = (
                f"<p class='{'crm-failed' if failed else 'crm-ok'}'>{escape_text(result)}</p>"
            )

    def save_domains(self) -> None:
        domains = [d for d in self.domains.value.replace(";", ",").split(",") if d.strip()]
        saved = self.page.act(
            lambda ctx: services.set_internal_domains(ctx, domains),
            success="Internal domains saved.",
        )
        if saved is not None:
            self.domains.value = ", ".join(saved)

    def save_blocklist(self) -> None:
        patterns = self.blocklist.value.splitlines()
        done = self.page.act(lambda ctx: services.set_email_blocklist(ctx, patterns))
        if done is not None:
            self.page._report(
                f"Blocklist saved ({plural(done['blocked'], 'entry', 'entries')});"
                f" {plural(done['hidden'], 'stored email')} hidden.",
                failed=False,
            )
            self.refresh()

    def sync_now(self) -> None:
        def summary(results: list[dict[str, Any]]) -> None:
            if not results:
                self.page._report("No mailbox is due: choose whose Gmail syncs first.", failed=True)
            else:
                stored = sum(r.get("stored", 0) for r in results)
                failed = [r["account"] for r in results if r["status"] == "failed"]
                self.page._report(
                    f"Synced {plural(len(results), 'mailbox', 'mailboxes')}:"
                    f" {plural(stored, 'new email')}"
                    + (f"; failed: {', '.join(failed)}" if failed else "."),
                    failed=bool(failed),
                )
            self.refresh()

        self.page.launch(
            lambda ctx: services.sync_email(ctx),
            summary,
            working=self.working,
            what="Syncing Gmail…",
        )

    def layout(self) -> list[Any]:
        b = self.buttons
        return [
            pn.pane.Markdown("## Email"),
            self.status,
            pn.Row(self.key_file, b["key"]),
            self.mailboxes,
            pn.Row(b["mailboxes"], self.test_choice, b["test"], b["sync"]),
            self.working.layout,
            self.test_result,
            self.accounts,
            pn.Row(self.domains, b["domains"]),
            self.blocklist,
            b["blocklist"],
        ]
