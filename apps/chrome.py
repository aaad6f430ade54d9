"""What every page shares: the app shell's header and running a user's action through the services.

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
from functools import partial
from typing import Any, Generic, TypeVar

import panel as pn
import param
from panel.viewable import Viewer

from apps.auth.live import OpenPages
from apps.auth.provider import PageSession, current_session
from apps.formatting import read_only_table, table_frame  # noqa: F401 - moved; kept importable
from apps.forms import FormErrors
from apps.markup import escape_markdown, escape_text
from apps.runtime import Runtime, run_long
from apps.shell import AppHeader, ConfirmDialog, shell
from crm_lib import services
from crm_lib.auth.permissions import allowed
from crm_lib.context import Context
from crm_lib.errors import CRMError, DatabaseError, NotAuthenticated, database_failure

T = TypeVar("T")
log = logging.getLogger(__name__)


def nav_bar(session: PageSession | None, here: str) -> AppHeader:
    """The app shell's header for ``here`` (see :mod:`apps.shell`): product name, the links this
    user may open with ``here`` marked, the search slot and the user menu. Pages that lay
    themselves out put it first; :meth:`UserPage.frame` and :func:`apps.shell.shell` do."""
    return AppHeader(session, here)


def nav_counts(runtime: Runtime, session: PageSession | None) -> dict[str, int]:
    """Numbers on the navigation's links: the user's tasks due today or overdue, and the
    proposals waiting on the email page (for those who may read mail). A failure to count shows
    no number, never an error: the page itself reports what is wrong with the database."""
    if session is None:
        return {}
    counts: dict[str, int] = {}
    try:
        with runtime.user_context(session.token) as ctx:
            if allowed(session.user["role"], "use_grid"):
                due = services.count_my_tasks(ctx)
                if due["overdue"] + due["today"]:
                    counts["/tasks"] = due["overdue"] + due["today"]
            if allowed(session.user["role"], "read_email"):
                counts["/email"] = services.list_proposals(ctx, limit=1)["total"]
    except Exception:
        return counts
    return counts


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
        #: the page's confirm step for destructive actions (see :meth:`confirm`)
        self.confirmation = ConfirmDialog()
        document = pn.state.curdoc
        #: the served document this page is in (None without a server: tests, notebooks)
        self._document = document if document and document.session_context else None

    def on_loop(self, update: Callable[[], Any]) -> None:
        """Apply ``update`` (widget changes) from a locked callback of the page's document, or
        at once without one (tests, notebooks).

        Widget changes made in a coroutine after an ``await`` (a save or a long action that
        finished on a worker thread) can stay in Panel's buffer of held changes until the
        browser's next event: a grid edit showed "Saving…" for good in 2 of 5 tries although
        its save had committed in 20 ms. What a locked next-tick callback changes is sent at
        once."""
        if self._document is None:
            update()
        else:
            self._document.add_next_tick_callback(update)

    def confirm(
        self, question: str, confirm_label: str, action: Callable[[], Any], detail: str = ""
    ) -> None:
        """Ask ``question`` before a destructive ``action`` (archive, remove, revoke, disable):
        nothing is called until the user clicks ``confirm_label``; Cancel calls nothing. Button
        handlers call this; tests call the action itself or answer via ``self.confirmation``."""
        self.confirmation.ask(question, confirm_label, action, detail)

    def act(
        self, action: Callable[[Context], T], success: str = "", form: FormErrors | None = None
    ) -> T | None:
        """Run ``action`` as the user; report success or the library's message. Never raises.
        With ``form``, a refused value is also shown under its field (see :mod:`apps.forms`)."""
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
            if form is not None:
                form.show(exc)
            self._report(exc.message, failed=True)
            return None
        except Exception as exc:
            self._report(_database_failure(exc).message, failed=True)
            return None
        if form is not None:
            form.clear()
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

    def _settle(
        self, attempt: Attempt[T], success: str, form: FormErrors | None = None
    ) -> T | None:
        """Show what an attempt did, as :meth:`act` does (on the event loop)."""
        error = attempt.error
        if form is not None:
            if error is None:
                form.clear()
            else:
                form.show(error)
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
            attempt: Attempt[T] | None = None
            try:
                attempt = await self._attempt_off_loop(action)
            finally:  # the outcome reaches the browser at once (see on_loop)
                self.on_loop(partial(self._conclude, working, attempt, done, success))

        pn.state.execute(off_loop)

    def _conclude(
        self,
        working: Working | None,
        attempt: Attempt[T] | None,
        done: Callable[[T], None] | None,
        success: str,
    ) -> None:
        """The end of a long action: controls back, then its outcome (none if cancelled)."""
        if working is not None:
            working.stop()
        if attempt is not None:
            self._finish(attempt, done, success)

    def _finish(self, attempt: Attempt[T], done: Callable[[T], None] | None, success: str) -> None:
        result = self._settle(attempt, success)
        if attempt.error is None and done is not None:
            done(result)  # type: ignore[arg-type]

    def nav_counts(self) -> dict[str, int]:
        """Numbers on the navigation's links (see :func:`nav_counts`)."""
        return nav_counts(self.runtime, self.session)

    def frame(self, here: str, title: str, *body: Any) -> pn.Column:
        """The page in the app shell: header (``here`` marked), title, the outcome of the last
        action, ``body``, and the page's confirm dialog."""
        return shell(
            self.session,
            here,
            pn.pane.Markdown(f"# {escape_markdown(title)}", css_classes=["crm-page-title"]),
            self.status,
            *body,
            dialog=self.confirmation,
            counts=self.nav_counts(),
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
            object=(
                "<span style='color:var(--crm-color-primary-text)'>"
                f"Working… {escape_text(what)}</span>"
            ),
            visible=True,
        )
        self.bar.visible = True

    def stop(self) -> None:
        for widget, disabled in self._was:
            widget.disabled = disabled
        self._was = []
        self.text.param.update(object="", visible=False)
        self.bar.visible = False


def set_choices(select: pn.widgets.Select, options: dict[str, Any]) -> None:
    """New options for a picker, keeping the current choice if it is still there, else the first
    (so the buttons next to it act on what the picker shows, never on an empty choice)."""
    current = select.value
    select.options = options
    values = list(options.values())
    select.value = current if current in values else (values[0] if values else None)


def choice_label(select: pn.widgets.Select, value: Any) -> str:
    """What a picker shows for ``value``: a confirm step names what it is about to act on."""
    return next((label for label, v in select.options.items() if v == value), str(value))


def _database_failure(exc: Exception) -> DatabaseError:
    """A driver error the database's state explains (damaged file, missing table, full disk)
    as the library's error, shown like any other; anything else is a bug and propagates (Panel
    logs it)."""
    failure = database_failure(exc)
    if failure is None:
        raise exc
    log.warning("A page action failed on the database: %s", failure.message)
    return failure
