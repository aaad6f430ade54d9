"""Logins: password check with back-off, server-side sessions, and their end.

A session is a row in ``sessions``; the browser holds only a random token (inside a cookie the
web app signs). Every request looks the token up, so logging out, deactivating a user, resetting
a password or reaching the idle or absolute limit ends the session at once, everywhere: there is
no stateless cookie that outlives it. Ending a session archives its row (with ``end_reason``),
which publishes a change event the web app uses to close that session's open pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crm_lib.auth import passwords
from crm_lib.auth.ratelimit import LoginThrottle
from crm_lib.auth.tokens import new_token, token_digest
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import NotAuthenticated
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import bookkeeping, write

#: The one message for a failed login, whatever failed: no account enumeration.
WRONG_LOGIN = "Email or password is incorrect"
#: ``last_seen_at`` is refreshed at most this often (a write per request would be wasteful).
TOUCH_EVERY = timedelta(seconds=60)
USER_AGENT_MAX = 300


@dataclass(frozen=True)
class Login:
    """A successful login. ``token`` goes into the cookie and is never stored."""

    token: str
    session_id: int
    user: dict[str, Any]
    expires_at: str


@dataclass(frozen=True)
class SessionUser:
    """Who a valid session belongs to."""

    session_id: int
    user: dict[str, Any]  # id, email, name, role


def login(
    ctx: Context,
    email: str,
    password: str,
    *,
    ip: str,
    user_agent: str = "",
    throttle: LoginThrottle | None = None,
) -> Login:
    """Check the password and open a session, or raise :class:`NotAuthenticated` /
    :class:`~crm_lib.errors.RateLimited`.

    Unknown email, wrong password, deactivated account and not-yet-accepted invite all give the
    same message and take the same time (a dummy hash is verified when there is no real one).
    """
    account = email.strip().lower()
    if throttle is not None:
        throttle.check(account, ip)
    rows = query_dicts(
        ctx.db,
        f"SELECT id, email, name, role, is_active, password_hash, version FROM users"
        f" WHERE lower(email) = ? AND {LIVE}",
        [account],
    )
    user = rows[0] if rows else None
    parameters = ctx.settings.password_hashing
    ok = passwords.verify_password(user["password_hash"] if user else None, password, parameters)
    if not ok or user is None or not user["is_active"]:
        if throttle is not None:
            throttle.failed(account, ip)
        raise NotAuthenticated(WRONG_LOGIN)
    if throttle is not None:
        throttle.succeeded(account, ip)
    token = new_token()
    now = ctx.clock.now()
    expires = timestamp(now + timedelta(hours=ctx.settings.session_max_hours))
    as_user = ctx.as_user(user)
    with write(as_user) as tx:
        session_id = tx.insert(
            "sessions",
            {
                "user_id": user["id"],
                "token_hash": token_digest(token),
                "ip": ip,
                "user_agent": user_agent[:USER_AGENT_MAX],
                "last_seen_at": tx.now,
                "expires_at": expires,
            },
        )
        changes: dict[str, Any] = {"last_login_at": tx.now}
        if passwords.needs_rehash(user["password_hash"], parameters):
            changes["password_hash"] = passwords.hash_password(password, parameters)
        tx.touch("users", user["id"], changes)
    public = {k: user[k] for k in ("id", "email", "name", "role")}
    return Login(token=token, session_id=session_id, user=public, expires_at=expires)


def authenticate_session(ctx: Context, token: str | None) -> SessionUser:
    """The user behind a session token, or :class:`NotAuthenticated`.

    Ends (archives) a session found past its idle or absolute limit, so it shows as ended in the
    account's session list with the reason.
    """
    if not token:
        raise NotAuthenticated()
    rows = query_dicts(
        ctx.db,
        "SELECT s.id AS session_id, s.version AS session_version, s.last_seen_at, s.expires_at,"
        " u.id, u.email, u.name, u.role, u.is_active"
        " FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.token_hash = ? AND s.deleted_at IS NULL AND u.deleted_at IS NULL",
        [token_digest(token)],
    )
    if not rows:
        raise NotAuthenticated()
    row = rows[0]
    now = ctx.clock.now()
    idle_limit = datetime.fromisoformat(row["last_seen_at"]) + timedelta(
        minutes=ctx.settings.session_idle_minutes
    )
    reason = None
    if not row["is_active"]:
        reason = "deactivated"
    elif now >= datetime.fromisoformat(row["expires_at"]):
        reason = "expired"
    elif now >= idle_limit:
        reason = "idle"
    if reason is not None:
        _end(ctx, row["session_id"], reason)
        raise NotAuthenticated("Your session has ended; please log in again")
    if now - datetime.fromisoformat(row["last_seen_at"]) >= TOUCH_EVERY:
        with bookkeeping(), write(ctx, wait_s=0) as tx:
            tx.touch("sessions", row["session_id"], {"last_seen_at": tx.now})
    user = {k: row[k] for k in ("id", "email", "name", "role")}
    return SessionUser(session_id=row["session_id"], user=user)


def _end(ctx: Context, session_id: int, reason: str) -> None:
    with write(ctx) as tx:
        row = tx.fetch("sessions", session_id)
        if row["deleted_at"] is not None:
            return
        tx.touch("sessions", session_id, {"end_reason": reason})
        tx.archive("sessions", session_id, expected_version=row["version"])


def logout(ctx: Context, token: str | None) -> bool:
    """End the session holding ``token``; True if there was one to end."""
    if not token:
        return False
    rows = query_dicts(
        ctx.db,
        f"SELECT id FROM sessions WHERE token_hash = ? AND {LIVE}",
        [token_digest(token)],
    )
    if not rows:
        return False
    _end(ctx, rows[0]["id"], "logout")
    return True


def end_user_sessions(
    ctx: Context, user_id: int, *, reason: str, except_session_id: int | None = None
) -> int:
    """End every live session of ``user_id`` (deactivation, password change); returns how many."""
    rows = query_dicts(
        ctx.db,
        f"SELECT id FROM sessions WHERE user_id = ? AND {LIVE}",
        [user_id],
    )
    ended = 0
    with write(ctx):
        for row in rows:
            if row["id"] != except_session_id:
                _end(ctx, row["id"], reason)
                ended += 1
    return ended


def list_sessions(ctx: Context) -> list[dict[str, Any]]:
    """The logged-in user's open sessions (where and when), newest first."""
    return query_dicts(
        ctx.db,
        "SELECT id, ip, user_agent, created_at, last_seen_at, expires_at FROM sessions"
        f" WHERE user_id = ? AND {LIVE} ORDER BY id DESC",
        [ctx.user_id],
    )
