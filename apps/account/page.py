"""Your account: change your password, manage personal API tokens, see where you are logged in."""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.chrome import UserPage, choice_label, read_only_table, set_choices, table_frame
from apps.formatting import PLAIN, WHEN, Show, browser_zone, on_browser_zone
from apps.forms import FormErrors
from apps.shell import TOKENS_ANCHOR, anchor
from crm_lib import limits, services

TOKEN_COLUMNS = {
    "id": "Id",
    "name": "Name",
    "token_hint": "Starts with",
    "last_used_at": "Last used",
    "expires_at": "Expires",
    "created_at": "Created",
}
TOKEN_SHOWS: dict[str, Show] = {
    "id": PLAIN,
    "last_used_at": WHEN,
    "expires_at": WHEN,
    "created_at": WHEN,
}
SESSION_COLUMNS = {
    "id": "Id",
    "ip": "IP",
    "user_agent": "Browser",
    "created_at": "Since",
    "last_seen_at": "Last seen",
}
SESSION_SHOWS: dict[str, Show] = {"id": PLAIN, "created_at": WHEN, "last_seen_at": WHEN}
SHARING_OPTIONS = {
    "Everything (subject and text)": "everything",
    "The subject only": "subject",
    "Who and when only": "metadata",
}
SHARING_WORDS = {"everything": "everything", "subject": "the subject", "metadata": "who and when"}


class AccountPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_password = pn.widgets.PasswordInput(
            label="Current password", max_length=limits.max_length("password")
        )
        self.new_password = pn.widgets.PasswordInput(
            label="New password (12+ characters)", max_length=limits.max_length("password")
        )
        self.repeat_password = pn.widgets.PasswordInput(
            label="Repeat the new password", max_length=limits.max_length("password")
        )
        self.token_name = pn.widgets.TextInput(
            label="Token name",
            placeholder="e.g. nightly sync",
            max_length=limits.max_length("token_name"),
        )
        self.token_days = pn.widgets.IntInput(
            label="Expires after (days, 0 = never)", value=90, start=0, end=3650
        )
        #: the library's field names: a wrong current password shows under its box
        self.password_form = FormErrors(
            {
                "current_password": self.current_password,
                "password": self.new_password,
                "repeat": self.repeat_password,
            }
        )
        self.token_form = FormErrors({"name": self.token_name, "expires_in_days": self.token_days})
        self.token_choice = pn.widgets.Select(label="Token", options={})
        #: your mailboxes (synced or imported) and what others see of their mail
        self.mailboxes: list[dict[str, Any]] = []
        self.mailbox_choice = pn.widgets.Select(label="Your mailbox", options={}, width=300)
        self.sharing_choice = pn.widgets.Select(
            label="Others on the team see", options=SHARING_OPTIONS, width=260
        )
        self.sharing_button = pn.widgets.Button(label="Save sharing", color="primary")
        self.sharing_button.on_click(lambda _: self.save_sharing())
        self.mailbox_choice.param.watch(lambda _: self._show_sharing(), "value")
        self.mailbox_section = pn.Column(
            pn.pane.Markdown(
                "## Your mail\nWhat the rest of the team sees of the mail in your mailbox. You"
                " always see your own mail in full; a thread can also be made private from the"
                " email page."
            ),
            pn.Row(self.mailbox_choice, self.sharing_choice, self.sharing_button),
            visible=False,
            sizing_mode="stretch_width",
        )
        self.new_token = pn.widgets.TextInput(
            label="Your new token (shown once: copy it now)",
            disabled=True,
            visible=False,
            sizing_mode="stretch_width",
        )
        self.tokens_table = read_only_table(
            TOKEN_COLUMNS,
            TOKEN_SHOWS,
            empty="No API tokens. Create one below for scripts and notebooks.",
        )
        self.sessions_table = read_only_table(
            SESSION_COLUMNS, SESSION_SHOWS, empty="No other sessions."
        )
        self.change_button = pn.widgets.Button(label="Change password", color="primary")
        self.create_button = pn.widgets.Button(label="Create token", color="primary")
        self.revoke_button = pn.widgets.Button(label="Revoke token", color="danger")
        self.change_button.on_click(lambda _: self.change_password())
        self.create_button.on_click(lambda _: self.create_token())
        self.revoke_button.on_click(lambda _: self.ask_revoke_token())
        self.refresh()
        on_browser_zone(lambda _zone: self.refresh())  # times in the user's zone once known

    def refresh(self) -> None:
        loaded = self.act(
            lambda ctx: (
                services.list_api_tokens(ctx),
                services.list_sessions(ctx),
                services.email_accounts(ctx),
            )
        )
        if loaded is None:
            return
        tokens, sessions, accounts = loaded
        me = self.session.user["id"] if self.session else None
        self.mailboxes = [a for a in accounts if me is not None and a["user_id"] == me]
        set_choices(self.mailbox_choice, {a["email"]: a["id"] for a in self.mailboxes})
        self.mailbox_section.visible = bool(self.mailboxes)
        self._show_sharing()
        zone = browser_zone()
        self.tokens_table.value = table_frame(tokens, TOKEN_COLUMNS, TOKEN_SHOWS, zone=zone)
        set_choices(
            self.token_choice, {f"{t['name']} ({t['token_hint']}…)": t["id"] for t in tokens}
        )
        self.sessions_table.value = table_frame(sessions, SESSION_COLUMNS, SESSION_SHOWS, zone=zone)

    def _mailbox(self) -> dict[str, Any] | None:
        return next((a for a in self.mailboxes if a["id"] == self.mailbox_choice.value), None)

    def _show_sharing(self) -> None:
        mailbox = self._mailbox()
        if mailbox is not None:
            self.sharing_choice.value = mailbox["sharing"]

    def save_sharing(self) -> None:
        mailbox = self._mailbox()
        if mailbox is None:
            return
        sharing = self.sharing_choice.value
        done = self.act(
            lambda ctx: services.set_sharing(
                ctx, mailbox["id"], sharing, expected_version=mailbox["version"]
            ),
            success=f"Others now see {SHARING_WORDS[sharing]} of {mailbox['email']}'s mail.",
        )
        if done is not None:
            self.refresh()

    def change_password(self) -> None:
        if self.new_password.value != self.repeat_password.value:
            self.password_form.flag("repeat", "The two new passwords differ")
            self._report("The two new passwords differ", failed=True)
            return
        keep = self.session.session.session_id if self.session else None
        done = self.act(
            lambda ctx: services.change_password(
                ctx, self.current_password.value, self.new_password.value, keep_session_id=keep
            ),
            success="Password changed; your other sessions were logged out and your API tokens revoked.",
            form=self.password_form,
        )
        if done is not None:
            for widget in (self.current_password, self.new_password, self.repeat_password):
                widget.value = ""
            self.refresh()

    def create_token(self) -> None:
        days = self.token_days.value or None
        made = self.act(
            lambda ctx: services.create_api_token(ctx, self.token_name.value, expires_in_days=days),
            success=f"Token {self.token_name.value!r} created.",
            form=self.token_form,
        )
        if made is not None:
            self.new_token.param.update(value=made["token"], visible=True)
            self.token_name.value = ""
            self.refresh()

    def ask_revoke_token(self) -> None:
        """The revoke button: confirm first (a script using the token stops working at once)."""
        token_id = self.token_choice.value
        if token_id is None:
            return
        self.confirm(
            f"Revoke the token {choice_label(self.token_choice, token_id)}?",
            "Revoke",
            lambda: self.revoke_token(token_id),
            "Scripts using it are refused from now on. This cannot be undone.",
        )

    def revoke_token(self, token_id: int | None = None) -> None:
        """Revoke ``token_id`` (default: the chosen token)."""
        token_id = self.token_choice.value if token_id is None else token_id
        if token_id is not None:
            self.act(lambda ctx: services.revoke_api_token(ctx, token_id), success="Token revoked.")
            self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/account",
            "Your account",
            pn.pane.Markdown("## Password"),
            pn.Row(*map(self.password_form.field, ("current_password", "password", "repeat"))),
            self.change_button,
            anchor(TOKENS_ANCHOR),  # the user menu's "API tokens" scrolls here
            pn.pane.Markdown(
                "## API tokens\nScripts send `Authorization: Bearer <token>` to "
                "`/api/...` (see `/api/openapi.json`). A token acts as you."
            ),
            self.tokens_table,
            pn.Row(
                self.token_form.field("name"),
                self.token_form.field("expires_in_days"),
                self.create_button,
            ),
            self.new_token,
            pn.Row(self.token_choice, self.revoke_button),
            self.mailbox_section,
            pn.pane.Markdown("## Where you are logged in"),
            self.sessions_table,
        )
