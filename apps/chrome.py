"""What every page shares: the navigation bar and running a user's action through the services.

:class:`UserPage` is the base of pages that act as the logged-in user: each action re-checks the
session (:meth:`apps.runtime.Runtime.user_context`), turns library errors into a message on the
page (and a notification in the browser), and sends an ended session back to the login page.

Long actions (a formula column over every investor, an import, an export, a backup) go through
:meth:`UserPage.launch` or :meth:`UserPage.act_async`: the service call runs on a worker thread, so
the event loop that serves every session of the process stays free, and :class:`Working` shows
that it runs, with its controls disabled, until the outcome is shown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import pandas as pd
import panel as pn
import param
from panel.viewable import Viewer

from apps.auth.live import OpenPages
from apps.auth.provider import PageSession, current_session
from apps.markup import escape_markdown, escape_text
from apps.runtime import Runtime, run_long
from crm_lib.auth.permissions import allowed
from crm_lib.context import Context
from crm_lib.errors import CRMError, DatabaseError, NotAuthenticated, database_failure

T = TypeVar("T")
log = logging.getLogger(__name__)

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
    name = escape_text(user["name"] or user["email"])
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
        except Exception as exc:
            self._report(_database_failure(exc).message, failed=True)
            return None
        if success:
            self._report(success, failed=False)
        return result

    def _report(self, text: str, *, failed: bool) -> None:
        """Show ``text`` (plain text: messages name fields, funds and people as members typed
        them) in the page's alert, a Markdown pane, and as a notification, which Notyf sets as
        HTML: each gets the text escaped for it, so a name is never markup."""
        self.param.update(message=text, failed=failed)
        self.status.param.update(
            object=escape_markdown(text),
            alert_type="danger" if failed else "success",
            visible=bool(text),
        )
        notifications = pn.state.notifications
        if notifications is not None:
            notify = notifications.error if failed else notifications.success
            notify(escape_text(text), duration=5000)

    # -- long actions, off the event loop -----------------------------------------------------
    def _attempt(self, action: Callable[[Context], T]) -> Attempt[T]:
        """Run ``action`` as the user without touching widgets: safe on any thread."""
        token = self.session.token if self.session else None
        try:
            with self.runtime.user_context(token) as ctx:
                return Attempt(result=action(ctx))
        except CRMError as exc:
            return Attempt(error=exc)
        except Exception as exc:
            return Attempt(error=_database_failure(exc))

    def _settle(self, attempt: Attempt[T], success: str) -> T | None:
        """Show what an attempt did, as :meth:`act` does (on the event loop)."""
        error = attempt.error
        if error is not None:
            self._report(error.message, failed=True)
            if isinstance(error, NotAuthenticated) and pn.state.location is not None:
                pn.state.location.reload = True
            return None
        if success:
            self._report(success, failed=False)
        return attempt.result

    async def _attempt_off_loop(self, action: Callable[[Context], T]) -> Attempt[T]:
        try:
            return await run_long(self._attempt, action)
        except Exception:  # a bug or a full disk: say so rather than leave the page waiting
            log.exception("A page action failed")
            return Attempt(
                error=CRMError(
                    "That failed unexpectedly; the server log has the details. Nothing was"
                    " half-written: each change is one transaction."
                )
            )

    async def act_async(self, action: Callable[[Context], T], success: str = "") -> T | None:
        """:meth:`act` with ``action`` on a long-work thread: other sessions are served meanwhile."""
        return self._settle(await self._attempt_off_loop(action), success)

    def launch(
        self,
        action: Callable[[Context], T],
        done: Callable[[T], None] | None = None,
        *,
        success: str = "",
        working: Working | None = None,
        what: str = "",
    ) -> None:
        """Start a long action from a widget callback and return at once: ``working`` shows
        ``what`` runs (its controls disabled), ``action`` runs as the user on a long-work thread,
        then, back on the event loop, the outcome is reported and ``done(result)`` called if it
        succeeded. Read everything ``action`` needs from widgets before calling this.

        Without a served document (tests, notebooks) there is no event loop to keep free, and
        it all happens inline, before this returns.
        """
        if working is not None:
            working.start(what)
        document = pn.state.curdoc
        if document is None or document.session_context is None:
            try:
                attempt = self._attempt(action)
            finally:
                if working is not None:
                    working.stop()
            self._finish(attempt, done, success)
            return

        async def off_loop() -> None:
            try:
                attempt = await self._attempt_off_loop(action)
            finally:
                if working is not None:
                    working.stop()
            self._finish(attempt, done, success)

        pn.state.execute(off_loop)

    def _finish(self, attempt: Attempt[T], done: Callable[[T], None] | None, success: str) -> None:
        result = self._settle(attempt, success)
        if attempt.error is None and done is not None:
            done(result)  # type: ignore[arg-type]

    def frame(self, here: str, title: str, *body: Any) -> pn.Column:
        return pn.Column(
            nav_bar(self.session, here),
            pn.pane.Markdown(f"# {title}"),
            self.status,
            *body,
            sizing_mode="stretch_width",
            styles={"max-width": "1100px", "margin": "0 auto"},
        )


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What an action did on a worker thread: its result, or the library's error to show."""

    result: T | None = None
    error: CRMError | None = None


class Working:
    """Shows that a long action runs: "Working… <what>" over a moving bar, with the controls
    disabled meanwhile (each put back as it was), so the same action cannot start twice."""

    def __init__(self, controls: Callable[[], Iterable[Any]]) -> None:
        self._controls = controls
        self._was: list[tuple[Any, bool]] = []
        self.text = pn.pane.HTML(
            "", visible=False, sizing_mode="stretch_width", css_classes=["crm-working"]
        )
        self.bar = pn.indicators.Progress(
            value=-1, active=True, visible=False, height=12, sizing_mode="stretch_width"
        )
        self.layout = pn.Column(self.text, self.bar, sizing_mode="stretch_width")

    @property
    def active(self) -> bool:
        return bool(self.text.visible)

    def start(self, what: str) -> None:
        self._was = [(widget, widget.disabled) for widget in self._controls()]
        for widget, _ in self._was:
            widget.disabled = True
        self.text.param.update(
            object=f"<span style='color:#0d6efd'>Working… {escape_text(what)}</span>",
            visible=True,
        )
        self.bar.visible = True

    def stop(self) -> None:
        for widget, disabled in self._was:
            widget.disabled = disabled
        self._was = []
        self.text.param.update(object="", visible=False)
        self.bar.visible = False


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


def _database_failure(exc: Exception) -> DatabaseError:
    """A driver error the database's state explains (damaged file, missing table, full disk)
    as the library's error, shown like any other; anything else is a bug and propagates (Panel
    logs it)."""
    failure = database_failure(exc)
    if failure is None:
        raise exc
    log.warning("A page action failed on the database: %s", failure.message)
    return failure
