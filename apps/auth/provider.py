"""Bokeh's auth hook, backed by our sessions: every page GET and websocket handshake checks the
session in the database; an anonymous page request is redirected to ``/login?next=...`` and an
anonymous websocket is refused (403). Which logged-in user may open which page is
:mod:`apps.auth.page_access`'s business.

The user is stashed on the tornado request (``request.crm_session``), which Panel exposes to the
page as ``pn.state.curdoc.session_context.request``. Panel's own ``pn.state.user`` reads Panel's
cookies and stays None with a custom provider, so pages use :func:`current_session` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import panel as pn
import tornado.web
from bokeh.server.auth_provider import AuthProvider

from apps.auth.cookies import read_session_token
from apps.runtime import Runtime
from crm_lib.errors import NotAuthenticated
from crm_lib.services import SessionUser

LOGIN_URL = "/login"
LOGOUT_URL = "/logout"


@dataclass(frozen=True)
class PageSession:
    """The logged-in session a page was opened with."""

    token: str
    session: SessionUser

    @property
    def user(self) -> dict[str, Any]:
        return self.session.user


def session_from_request(
    runtime: Runtime, handler: tornado.web.RequestHandler
) -> PageSession | None:
    """The valid session behind the request's cookie, or None."""
    token = read_session_token(handler, runtime.secret_key)
    if token is None:
        return None
    try:
        return PageSession(token=token, session=runtime.authenticate(token))
    except NotAuthenticated:
        return None


class CRMAuthProvider(AuthProvider):
    """Our sessions as Bokeh's user source. Login/logout routes are our own handlers."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        super().__init__()

    @property
    def get_user(self) -> Callable[[tornado.web.RequestHandler], dict[str, Any] | None]:
        def get_user(handler: tornado.web.RequestHandler) -> dict[str, Any] | None:
            found = session_from_request(self.runtime, handler)
            handler.request.crm_session = found  # type: ignore[attr-defined]
            return None if found is None else found.user

        return get_user

    @property
    def login_url(self) -> str:
        return LOGIN_URL

    @property
    def logout_url(self) -> str:
        return LOGOUT_URL


def current_session() -> PageSession | None:
    """Inside a Panel page: the session it was opened with (None outside a served page)."""
    context = pn.state.curdoc.session_context if pn.state.curdoc else None
    request = getattr(context, "request", None)
    return getattr(request, "crm_session", None)
