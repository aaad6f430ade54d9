"""Who may open which page, checked wherever Bokeh would build the page's document.

Bokeh serves each page (app) through three routes, and each of them creates a server session,
which runs the page's code and builds its document: the page (``/admin``), its autoload script
(``/admin/autoload.js``) and its websocket (``/admin/ws``), which creates a session for any token
it is handed. Panel's ``authorize_callback`` guards only the first, so a member refused ``/admin``
still got the admin document through the other two (the services refused its data, but the page
was built and its layout sent).

The check therefore sits in ``prepare()`` of all three handlers (:func:`install`): a user who may
not open the page gets 403 before any session exists: the forbidden page, an empty script, or a
refused websocket handshake. Anonymous requests (never logged in, logged out, expired, or the
account deactivated: the session lookup refuses them all) are sent to the login page for the page
route and refused for the other two. :func:`checked_in_session` repeats the check inside the
session for every page factory, so a session created by any other path still builds nothing.

The rule is one table, page path -> permission action (``{"/admin": "manage_users"}``; pages not
in it need ``use_grid``, i.e. any login), checked with :func:`crm_lib.auth.permissions.allowed`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import bokeh.server.urls
import panel as pn
import panel.io.server
import tornado.web
from bokeh.server.contexts import ApplicationContext

from apps.auth.handlers import TEMPLATES
from apps.auth.provider import current_session
from crm_lib.auth.permissions import allowed

log = logging.getLogger(__name__)

#: Tornado application setting holding the page -> action table (passed through ``pn.serve``).
SETTING = "crm_page_actions"
FORBIDDEN_PAGE = Path(__file__).parent / "templates" / "forbidden.html"
PageFactory = Callable[[], Any]


def page_action(page_actions: Mapping[str, str], page: str) -> str:
    """The permission action a page needs (any login for pages not in the table)."""
    return page_actions.get(page.rstrip("/") or "/", "use_grid")


def may_open(user: Mapping[str, Any] | None, page: str, page_actions: Mapping[str, str]) -> bool:
    """True when ``user`` (None: no valid session) may have ``page``'s document."""
    return user is not None and allowed(user["role"], page_action(page_actions, page))


@functools.cache
def _forbidden_html() -> str:
    """The "Not allowed" page, in the login pages' look (their template and design tokens)."""
    return TEMPLATES.get_template(FORBIDDEN_PAGE.name).render(title="Not allowed")


class PageAccess(tornado.web.RequestHandler):
    """Mixin for Bokeh's per-page handlers (listed first in the bases): refuse, in ``prepare()``,
    a user who may not open the handler's page. Runs after Bokeh's own ``prepare`` (and Panel's,
    which refuses anonymous websockets), before the handler method that creates the session."""

    application_context: ApplicationContext
    #: How this route refuses a user who may not open the page.
    refusal = "forbidden page"

    async def prepare(self) -> None:
        pending = super().prepare()
        if pending is not None:
            await pending
        if self._finished:
            return
        page = self.application_context.url
        user = self.current_user
        if user is None and self.refusal == "forbidden page":
            return  # the page route itself sends anonymous users to the login page
        table = self.settings.get(SETTING)
        # without a table (a server started some other way) everything is refused: fail closed
        if table is not None and may_open(user, page, table):
            return
        log.info("Refused the %s of page %s to %s", self.refusal, page, _who(user))
        self.set_status(403)
        if self.refusal == "forbidden page":
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(_forbidden_html())
        else:
            self.finish()


def _who(user: Mapping[str, Any] | None) -> str:
    return "an anonymous request" if user is None else f"user {user['id']} ({user['role']})"


def _guarded(handler: type, refusal: str) -> type:
    if issubclass(handler, PageAccess):
        return handler
    return type(
        f"Guarded{handler.__name__}", (PageAccess, handler), {"refusal": refusal, "__doc__": None}
    )


def install() -> None:
    """Put :class:`PageAccess` in front of the page, autoload and websocket handlers of every
    page Bokeh serves from now on (in place, as Panel itself patches this table). Idempotent."""
    refusals = {
        panel.io.server.DocHandler: "forbidden page",
        panel.io.server.AutoloadJsHandler: "autoload script",
        panel.io.server.WSHandler: "websocket",
    }
    patterns = bokeh.server.urls.per_app_patterns
    for position, (route, handler, *rest) in enumerate(patterns):
        for base, refusal in refusals.items():
            if issubclass(handler, base):
                patterns[position] = (route, _guarded(handler, refusal), *rest)
    guarded = {p[1] for p in patterns if issubclass(p[1], PageAccess)}
    if len(guarded) != len(refusals):  # a Panel/Bokeh upgrade moved the handlers: stop here
        raise RuntimeError(f"Page access could not guard every page route: {patterns}")


def checked_in_session(
    pages: Mapping[str, PageFactory], page_actions: Mapping[str, str]
) -> dict[str, PageFactory]:
    """The page factories for ``pn.serve``, each building its page only for a session user who
    may open it (else a short "Not allowed" notice, with no data)."""

    def checked(page: str, build: PageFactory) -> PageFactory:
        def app() -> Any:
            found = current_session()
            if not may_open(found.user if found else None, page, page_actions):
                log.warning("Refused to build page %s in a session without access", page)
                return pn.pane.Markdown("# Not allowed\n\nThis page is for admins.")
            return build()

        return app

    return {page: checked(page, build) for page, build in pages.items()}
