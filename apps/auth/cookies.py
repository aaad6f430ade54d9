"""The session cookie: a signed random token, HttpOnly, SameSite=Lax, Secure in production.

The cookie carries only the session token; the session itself lives in the database, so revoking
it there ends it at once. The signature (tornado's, keyed by ``CRM_SECRET_KEY``) means a forged or
altered cookie is rejected before any database lookup.

Tornado's ``_xsrf`` cookie gets the same SameSite and Secure flags (:func:`xsrf_cookie_kwargs`);
it stays readable by scripts, which send its value back in the ``X-XSRFToken`` header.
"""

from __future__ import annotations

import tornado.web

from crm_lib.config import Settings

SESSION_COOKIE = "crm_session"
#: Signed-cookie age tornado accepts; the database's absolute expiry is the real limit.
MAX_AGE_DAYS = 31


def read_session_token(handler: tornado.web.RequestHandler, secret_key: str) -> str | None:
    """The session token from the request's cookie, or None if absent, forged or too old."""
    raw = handler.get_cookie(SESSION_COOKIE)
    if not raw:
        return None
    value = tornado.web.decode_signed_value(
        secret_key, SESSION_COOKIE, raw, max_age_days=MAX_AGE_DAYS
    )
    return value.decode() if value else None


def set_session_cookie(
    handler: tornado.web.RequestHandler, token: str, settings: Settings, secret_key: str
) -> None:
    """Set the session cookie (a browser-session cookie: it goes when the browser closes)."""
    signed = tornado.web.create_signed_value(secret_key, SESSION_COOKIE, token).decode()
    handler.set_cookie(
        SESSION_COOKIE,
        signed,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=settings.production,
    )


def clear_session_cookie(handler: tornado.web.RequestHandler, settings: Settings) -> None:
    handler.clear_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=settings.production
    )


def xsrf_cookie_kwargs(settings: Settings) -> dict[str, object]:
    """Tornado's ``xsrf_cookie_kwargs`` setting: the ``_xsrf`` cookie is SameSite=Lax like the
    session cookie and, in production (served over HTTPS behind a proxy), ``Secure``, so it never
    travels over plain HTTP."""
    return {"path": "/", "samesite": "Lax", "secure": settings.production}
