"""What every page shares: the navigation bar and running a user's action through the services.

:class:`UserPage` is the base of pages that act as the logged-in user: each action re-checks the
session (:meth:`apps.runtime.Runtime.user_context`), turns library errors into a message on the
page (and a notification in the browser), and sends an ended session back to the login page.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from apps.auth.live import OpenPages
from apps.auth.provider import PageSession, current_session
from apps.runtime import Runtime
from crm_lib.auth.permissions import allowed
from crm_lib.context import Context
from crm_lib.errors import CRMError, NotAuthenticated

T = TypeVar("T")

#: (path, label, permission needed to see the link)
NAV = (
    ("/", "Home", "use_grid"),
    ("/grid", "Grid", "use_grid"),
    ("/contacts", "Contacts", "use_grid"),
    ("/activity", "Activity", "use_grid"),
    ("/requests", "Feature requests", "file_feature_requests"),
    ("/funds", "Funds", "manage_funds"),
    ("/account", "Account", "manage_own_account"),
    ("/admin", "Admin", "manage_users"),
)


def nav_bar(session: PageSession | None, here: str) -> pn.pane.HTML:
    """Links to the pages this user may open, who is signed in, and the logout link."""
    if session is None:
        return pn.pane.HTML("")
    user = session.user
    links = " · ".join(
        f"<b>{label}</b>" if path == here else f'<a href="{path}">{label}</a>'
        for path, label, action in NAV
        if allowed(user["role"], action)
    )
    name = html.escape(user["name"] or user["email"])
    return pn.pane.HTML(
        f'<div class="crm-nav">{links}'
        f'<span style="float:right">Signed in as <b>{name}</b> ({user["role"]}) · '
        '<a href="/logout">Log out</a></span></div>',
        sizing_mode="stretch_width",
    )


class UserPage(Viewer):
    """A page acting as its logged-in user. ``message`` shows the outcome of the last action."""

    message = param.String(default="")
    failed = param.Boolean(default=False)

    def __init__(
        self,
        runtime: Runtime,
        pages: OpenPages | None = None,
        session: PageSession | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.runtime = runtime
        self.session = session or current_session()
        if self.session is not None and pages is not None:
            pages.register(self.session.session.session_id)
        self.status = pn.pane.Alert("", visible=False, sizing_mode="stretch_width")

    def act(self, action: Callable[[Context], T], success: str = "") -> T | None:
        """Run ``action`` as the user; report success or the library's message. Never raises."""
        token = self.session.token if self.session else None
        try:
            with self.runtime.user_context(token) as ctx:
                result = action(ctx)
        except NotAuthenticated as exc:
            self._report(exc.message, failed=True)
            if pn.state.location is not None:
                pn.state.location.reload = True
            return None
        except CRMError as exc:
            self._report(exc.message, failed=True)
            return None
        if success:
            self._report(success, failed=False)
        return result

    def _report(self, text: str, *, failed: bool) -> None:
        self.param.update(message=text, failed=failed)
        self.status.param.update(
            object=text, alert_type="danger" if failed else "success", visible=bool(text)
        )
        notifications = pn.state.notifications
        if notifications is not None:
            (notifications.error if failed else notifications.success)(text, duration=5000)

    def frame(self, here: str, title: str, *body: Any) -> pn.Column:
        return pn.Column(
            nav_bar(self.session, here),
            pn.pane.Markdown(f"# {title}"),
            self.status,
            *body,
            sizing_mode="stretch_width",
            styles={"max-width": "1100px", "margin": "0 auto"},
        )


def read_only_table(columns: dict[str, str]) -> pn.widgets.Tabulator:
    """An empty read-only table with these column titles (``key -> title``)."""
    return pn.widgets.Tabulator(
        pd.DataFrame(columns=list(columns.values())),
        disabled=True,
        show_index=False,
        sizing_mode="stretch_width",
    )


def table_frame(rows: list[dict[str, Any]], columns: dict[str, str]) -> pd.DataFrame:
    """Rows as a DataFrame of these columns, titled. ``object`` dtype: pandas 3 would make text
    columns StringDtype, which Tabulator's sync refuses non-text values into (notes/panel.md)."""
    return pd.DataFrame(rows, columns=list(columns)).astype(object).rename(columns=columns)


def set_choices(select: pn.widgets.Select, options: dict[str, Any]) -> None:
    """New options for a picker, keeping the current choice if it is still there, else the first
    (so the buttons next to it act on what the picker shows, never on an empty choice)."""
    current = select.value
    select.options = options
    values = list(options.values())
    select.value = current if current in values else (values[0] if values else None)
