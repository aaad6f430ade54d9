"""The admin page: alerts, backups and jobs, users and invites, email, the digest, the
pipeline's stages, and the security checklist. Admins only (the server's
authorize callback refuses members with 403, and every action is checked again by the services)."""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.admin.backups import BackupsSection
from apps.admin.digest import DigestSection
from apps.admin.email import EmailSection
from apps.admin.stages import StagesSection
from apps.chrome import UserPage, choice_label, read_only_table, set_choices, table_frame
from apps.formatting import (
    CHECK,
    PLAIN,
    WHEN,
    Show,
    browser_zone,
    label,
    on_browser_zone,
    people_names,
    person,
    pills,
)
from apps.forms import FormErrors
from apps.markup import escape_text
from crm_lib import limits, services

USER_COLUMNS = {
    "id": "Id",
    "name": "Name",
    "email": "Email",
    "role": "Role",
    "is_active": "Active",
    "has_password": "Can log in",
    "last_login_at": "Last login",
}
INVITE_COLUMNS = {
    "id": "Id",
    "kind": "Kind",
    "email": "Email",
    "role": "Role",
    "expires_at": "Expires",
    "created_by": "By",
}
USER_SHOWS: dict[str, Show] = {
    "id": PLAIN,
    "role": pills("role"),
    "is_active": CHECK,
    "has_password": CHECK,
    "last_login_at": WHEN,
}
INVITE_SHOWS: dict[str, Show] = {
    "id": PLAIN,
    "kind": pills("invite_kind"),
    "role": pills("role"),
    "expires_at": WHEN,
}
ROLE_OPTIONS = {label("role", role): role for role in ("member", "admin")}


class AdminPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.users_table = read_only_table(
            USER_COLUMNS, USER_SHOWS, empty="No team members yet. Invite one below."
        )
        self.invites_table = read_only_table(
            INVITE_COLUMNS, INVITE_SHOWS, empty="No open invitations. Invite a team member below."
        )
        self.user_choice = pn.widgets.Select(label="User", options={})
        self.role_choice = pn.widgets.Select(label="Role", options=ROLE_OPTIONS)
        self.invite_email = pn.widgets.TextInput(
            label="Email", placeholder="name@fund.com", max_length=limits.max_length("email")
        )
        self.invite_role = pn.widgets.Select(label="Role", options=ROLE_OPTIONS)
        self.invite_form = FormErrors({"email": self.invite_email, "role": self.invite_role})
        self.invite_choice = pn.widgets.Select(label="Pending invite", options={})
        self.link_output = pn.widgets.TextInput(
            label="One-time link (shown once: copy it now)",
            disabled=True,
            visible=False,
            sizing_mode="stretch_width",
        )
        self.security = pn.pane.HTML("", sizing_mode="stretch_width")
        self.buttons = {
            "invite": pn.widgets.Button(label="Send invite", color="primary"),
            "deactivate": pn.widgets.Button(label="Deactivate", color="danger"),
            "reactivate": pn.widgets.Button(label="Reactivate"),
            "role": pn.widgets.Button(label="Set role"),
            "reset": pn.widgets.Button(label="Password reset link"),
            "revoke": pn.widgets.Button(label="Revoke invite", color="danger"),
        }
        self.buttons["invite"].on_click(lambda _: self.invite())
        self.buttons["deactivate"].on_click(lambda _: self.ask_deactivate())
        self.buttons["reactivate"].on_click(lambda _: self.set_active(True))
        self.buttons["role"].on_click(lambda _: self.set_role())
        self.buttons["reset"].on_click(lambda _: self.reset_link())
        self.buttons["revoke"].on_click(lambda _: self.ask_revoke())
        self.backup_section = BackupsSection(self)
        self.email_section = EmailSection(self)
        self.digest_section = DigestSection(self)
        self.stages_section = StagesSection(self)
        self.refresh()
        if not self.failed:  # a member was already told this page is not theirs
            self.backup_section.refresh()
            self.email_section.refresh()
            self.digest_section.refresh()
            self.stages_section.refresh()
            on_browser_zone(lambda _zone: self._show_times())

    def _show_times(self) -> None:
        """The browser said its timezone: show the times in it."""
        self.refresh()
        self.backup_section.refresh()
        self.digest_section.refresh()

    # -- loading ------------------------------------------------------------------------------
    def refresh(self) -> None:
        def load(ctx):
            return (
                services.list_accounts(ctx),
                services.list_invites(ctx),
                services.security_status(ctx),
            )

        loaded = self.act(load)
        if loaded is None:
            return
        users, invites, security = loaded
        zone, names = browser_zone(), people_names(users)
        self.users_table.value = table_frame(users, USER_COLUMNS, USER_SHOWS, zone=zone)
        set_choices(
            self.user_choice, {f"{u['name'] or u['email']} <{u['email']}>": u["id"] for u in users}
        )
        self.invites_table.value = table_frame(
            [{**i, "created_by": person(i["created_by"], names)} for i in invites],
            INVITE_COLUMNS,
            INVITE_SHOWS,
            zone=zone,
        )
        kinds = {i["id"]: label("invite_kind", i["kind"]).lower() for i in invites}
        set_choices(
            self.invite_choice,
            {f"{i['email'] or 'first admin'} ({kinds[i['id']]})": i["id"] for i in invites},
        )
        rows = "".join(
            f"<tr><td>{'pass' if c['passed'] else '<b>FAIL</b>'}</td>"
            f"<td><b>{escape_text(c['label'])}</b></td><td>{escape_text(c['detail'])}</td></tr>"
            for c in security["checks"]
        )
        self.security.object = f'<table class="crm-security">{rows}</table>'

    # -- actions ------------------------------------------------------------------------------
    def invite(self) -> None:
        link = self.act(
            lambda ctx: services.invite_user(ctx, self.invite_email.value, self.invite_role.value),
            success=f"Invited {self.invite_email.value}",
            form=self.invite_form,
        )
        if link is not None:
            self._show_link(link.url)
            self.invite_email.value = ""
            self.refresh()

    def ask_deactivate(self) -> None:
        """The deactivate button: confirm first (the user is logged out everywhere at once)."""
        user_id = self.user_choice.value
        if user_id is None:
            return
        self.confirm(
            f"Deactivate {choice_label(self.user_choice, user_id)}?",
            "Deactivate",
            lambda: self.set_active(False, user_id),
            "They are logged out everywhere and cannot log in until an admin reactivates them.",
        )

    def set_active(self, active: bool, user_id: int | None = None) -> None:
        """(De)activate ``user_id`` (default: the chosen user)."""
        user_id = self.user_choice.value if user_id is None else user_id
        verb = "Reactivated" if active else "Deactivated"
        if user_id is not None and self.act(
            lambda ctx: services.set_user_active(ctx, user_id, active), success=f"{verb}."
        ):
            self.refresh()

    def set_role(self) -> None:
        user_id, role = self.user_choice.value, self.role_choice.value
        if user_id is not None and self.act(
            lambda ctx: services.set_user_role(ctx, user_id, role),
            success=f"Role set to {label('role', role).lower()}.",
        ):
            self.refresh()

    def reset_link(self) -> None:
        user_id = self.user_choice.value
        if user_id is None:
            return
        link = self.act(
            lambda ctx: services.reset_password_link(ctx, user_id),
            success="Password reset link made (valid 24 h).",
        )
        if link is not None:
            self._show_link(link.url)
            self.refresh()

    def ask_revoke(self) -> None:
        """The revoke button: confirm first (the invite link stops working)."""
        invite_id = self.invite_choice.value
        if invite_id is None:
            return
        self.confirm(
            f"Revoke the invite {choice_label(self.invite_choice, invite_id)}?",
            "Revoke",
            lambda: self.revoke(invite_id),
            "Its link stops working; you can invite the person again.",
        )

    def revoke(self, invite_id: int | None = None) -> None:
        """Revoke ``invite_id`` (default: the chosen invite)."""
        invite_id = self.invite_choice.value if invite_id is None else invite_id
        if invite_id is not None and self.act(
            lambda ctx: services.revoke_invite(ctx, invite_id), success="Invite revoked."
        ):
            self.refresh()

    def _show_link(self, url: str) -> None:
        self.link_output.param.update(value=url, visible=True)

    def __panel__(self) -> pn.viewable.Viewable:
        b = self.buttons
        return self.frame(
            "/admin",
            "Admin",
            *self.backup_section.layout(),
            pn.pane.Markdown("## Users"),
            self.users_table,
            pn.Row(self.user_choice, self.role_choice),
            pn.Row(b["role"], b["deactivate"], b["reactivate"], b["reset"]),
            pn.pane.Markdown("## Invite someone"),
            pn.Row(self.invite_form.field("email"), self.invite_form.field("role"), b["invite"]),
            self.link_output,
            pn.pane.Markdown("## Pending invites"),
            self.invites_table,
            pn.Row(self.invite_choice, b["revoke"]),
            *self.email_section.layout(),
            *self.digest_section.layout(),
            *self.stages_section.layout(),
            pn.pane.Markdown("## Security checklist (see SECURITY.md)"),
            self.security,
        )
