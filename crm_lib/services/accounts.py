"""Accounts: the first admin's setup link, invites, accepting them, passwords, roles, deactivation.

No one signs up. A one-time link is the only way in: the setup link (first admin, 24 h), an invite
(7 days) or a password reset (24 h). Each link is a random 256-bit token that the database keeps
only as a SHA-256 digest; it works once, can be revoked (archived), and says clearly why it no
longer works. Accepting a link, changing a password and deactivating a user end the affected
sessions in the same transaction, so an old login never outlives the change; a new password,
deactivation and reactivation also revoke every API token of the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from crm_lib import running_server
from crm_lib.auth import passwords
from crm_lib.auth.permissions import require
from crm_lib.auth.tokens import new_token, token_digest
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.limits import check_text
from crm_lib.services.api_tokens import revoke_user_tokens
from crm_lib.services.sessions import end_user_sessions
from crm_lib.services.users import PUBLIC_COLUMNS, check_role, clean_email, get_user
from crm_lib.storage.reads import LIVE, query_dicts, query_value
from crm_lib.storage.writes import WriteTransaction, write

LINK_LIFETIMES = {
    "setup": timedelta(hours=24),
    "invite": timedelta(days=7),
    "reset": timedelta(hours=24),
}
#: Columns of ``invites`` safe to show (never the token digest).
INVITE_COLUMNS = "id, kind, email, role, user_id, expires_at, accepted_at, created_at, created_by,"
INVITE_COLUMNS += " deleted_at, deleted_by, version"


@dataclass(frozen=True)
class Link:
    """A freshly made one-time link. ``token`` exists only here: show it once, never store it."""

    invite: dict[str, Any]
    token: str
    url: str


def link_url(ctx: Context, token: str) -> str:
    """The address a person opens to use a one-time link: on the server's address, wherever the
    link is made (see :mod:`crm_lib.running_server`)."""
    return f"{running_server.link_base_url(ctx.settings)}/invite/{token}"


def has_admin_login(ctx: Context) -> bool:
    """True once an active admin who can log in exists (the setup link is then refused)."""
    return (
        query_value(
            ctx.db,
            "SELECT 1 FROM users WHERE role = 'admin' AND is_active = 1"
            f" AND password_hash IS NOT NULL AND {LIVE} LIMIT 1",
        )
        is not None
    )


def _issue(
    ctx: Context,
    tx: WriteTransaction,
    *,
    kind: str,
    role: str,
    email: str | None = None,
    user_id: int | None = None,
) -> Link:
    """Make a link, archiving any still-pending link of the same kind for the same person."""
    if kind == "setup":  # there is no person yet: any pending setup link is replaced
        same, params = "email IS NULL AND user_id IS NULL", []
    elif email is None:  # a reset names the user only
        same, params = "user_id = ?", [user_id]
    elif user_id is None:
        same, params = "lower(email) = lower(?)", [email]
    else:  # an invite for an existing user row: by address or by that row
        same, params = "(lower(email) = lower(?) OR user_id = ?)", [email, user_id]
    pending = query_dicts(
        ctx.db,
        f"SELECT id, version FROM invites WHERE kind = ? AND accepted_at IS NULL AND {LIVE}"
        f" AND {same}",
        [kind, *params],
    )
    for old in pending:
        tx.archive("invites", old["id"], expected_version=old["version"])
    token = new_token()
    expires = ctx.clock.now() + LINK_LIFETIMES[kind]
    invite_id = tx.insert(
        "invites",
        {
            "kind": kind,
            "email": email,
            "role": role,
            "user_id": user_id,
            "token_hash": token_digest(token),
            "expires_at": timestamp(expires),
        },
    )
    invite = query_dicts(ctx.db, f"SELECT {INVITE_COLUMNS} FROM invites WHERE id = ?", [invite_id])
    return Link(invite=invite[0], token=token, url=link_url(ctx, token))


def create_setup_link(ctx: Context) -> Link:
    """The one-time link that creates the first admin (only while there is none)."""
    require(ctx, "manage_users")
    with write(ctx) as tx:
        if has_admin_login(ctx):
            raise ValidationError(
                "An admin account already exists; an admin can invite you from the admin page"
            )
        return _issue(ctx, tx, kind="setup", role="admin")


def invite_user(ctx: Context, email: str, role: str = "member") -> Link:
    """Invite ``email`` with ``role``; the link is valid 7 days, once. Admins (and the shell) only.

    A team member who exists without a password (added as an owner before logins existed) gets
    the invite for that same user row, so their investors stay theirs.
    """
    require(ctx, "manage_users")
    address = clean_email(email)
    check_role(role)
    with write(ctx) as tx:
        existing = query_dicts(
            ctx.db,
            f"SELECT id, password_hash, is_active FROM users WHERE lower(email) = lower(?) AND {LIVE}",
            [address],
        )
        if existing and existing[0]["password_hash"] is not None:
            raise ValidationError(
                f"{address} already has an account; use 'reset password' instead", field="email"
            )
        user_id = existing[0]["id"] if existing else None
        return _issue(ctx, tx, kind="invite", role=role, email=address, user_id=user_id)


def create_admin_link(ctx: Context, email: str) -> Link:
    """``crm create-admin EMAIL``: an admin invite from the shell, also when admins exist
    (the operator's way back in if every admin lost their password)."""
    return invite_user(ctx, email, role="admin")


def reset_password_link(ctx: Context, user_id: int) -> Link:
    """A new single-use link that sets a new password for ``user_id`` (admins only)."""
    require(ctx, "manage_users")
    user = get_user(ctx, user_id)
    with write(ctx) as tx:
        return _issue(ctx, tx, kind="reset", role=user["role"], user_id=user_id)


def list_invites(ctx: Context, *, include_finished: bool = False) -> list[dict[str, Any]]:
    """Links with their state (pending, accepted, expired, revoked), newest first; no secrets."""
    require(ctx, "manage_users")
    rows = query_dicts(ctx.db, f"SELECT {INVITE_COLUMNS} FROM invites ORDER BY id DESC LIMIT 500")
    now = timestamp(ctx.clock.now())
    for row in rows:
        row["state"] = _state(row, now)
    return [r for r in rows if include_finished or r["state"] == "pending"]


def _state(invite: dict[str, Any], now: str) -> str:
    if invite["deleted_at"] is not None:
        return "revoked"
    if invite["accepted_at"] is not None:
        return "accepted"
    if invite["expires_at"] <= now:
        return "expired"
    return "pending"


def revoke_invite(ctx: Context, invite_id: int) -> dict[str, Any]:
    """Make a pending link stop working (admins only)."""
    require(ctx, "manage_users")
    with write(ctx) as tx:
        row = tx.fetch("invites", invite_id)
        if row["deleted_at"] is not None or row["accepted_at"] is not None:
            raise ValidationError(f"Invite {invite_id} is no longer pending")
        tx.archive("invites", invite_id, expected_version=row["version"])
    return query_dicts(ctx.db, f"SELECT {INVITE_COLUMNS} FROM invites WHERE id = ?", [invite_id])[0]


LINK_PROBLEMS = {
    "missing": "This link is not valid; check that you copied all of it",
    "revoked": "This link was revoked; ask an admin for a new one",
    "accepted": "This link has already been used; log in instead, or ask an admin for a new one",
    "expired": "This link has expired; ask an admin for a new one",
}


def _pending_link(ctx: Context, token: str) -> dict[str, Any]:
    rows = query_dicts(
        ctx.db,
        f"SELECT {INVITE_COLUMNS} FROM invites WHERE token_hash = ?",
        [token_digest(token)],
    )
    if not rows:
        raise ValidationError(LINK_PROBLEMS["missing"], field="token")
    state = _state(rows[0], timestamp(ctx.clock.now()))
    if state != "pending":
        raise ValidationError(LINK_PROBLEMS[state], field="token")
    return rows[0]


def inspect_link(ctx: Context, token: str) -> dict[str, Any]:
    """What a link is for (kind, email, role, expiry), or why it cannot be used."""
    invite = _pending_link(ctx, token)
    email = invite["email"]
    if invite["kind"] == "reset":
        email = get_user(ctx, invite["user_id"])["email"]
    return {
        "kind": invite["kind"],
        "email": email,
        "role": invite["role"],
        "expires_at": invite["expires_at"],
    }


def accept_link(
    ctx: Context, token: str, *, password: str, name: str = "", email: str | None = None
) -> dict[str, Any]:
    """Use a one-time link: create the account (setup, invite) or set a new password (reset).

    ``email`` is asked for only by the setup link. Returns the user (without secrets). The
    link is re-read inside the transaction, so two people racing with one link cannot both win.
    """
    with write(ctx) as tx:
        invite = _pending_link(ctx, token)
        kind = invite["kind"]
        if kind == "reset":
            user = get_user(ctx, invite["user_id"])
            passwords.check_policy(password, email=user["email"], name=user["name"])
            _set_password(ctx, tx, user, password)
            end_user_sessions(ctx, user["id"], reason="password_reset")
            user_id = user["id"]
        else:
            address = clean_email(email if kind == "setup" else invite["email"] or "")
            display = name.strip()
            if not display:
                raise ValidationError("Please enter your name", field="name")
            check_text(display, "display_name", field="name", label="Name")
            passwords.check_policy(password, email=address, name=display)
            if kind == "setup" and has_admin_login(ctx):
                raise ValidationError(LINK_PROBLEMS["accepted"], field="token")
            user_id = _account_for(ctx, tx, invite, address, display)
            user = query_dicts(ctx.db, "SELECT * FROM users WHERE id = ?", [user_id])[0]
            _set_password(ctx, tx, user, password)
        tx.update(
            "invites",
            invite["id"],
            {"accepted_at": tx.now, "user_id": user_id},
            expected_version=invite["version"],
        )
    return get_user(ctx, user_id)


def _account_for(
    ctx: Context, tx: WriteTransaction, invite: dict[str, Any], address: str, name: str
) -> int:
    """The user row an invite or setup link turns into: existing without password, or new."""
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM users WHERE lower(email) = lower(?) AND {LIVE}",
        [address],
    )
    if rows and rows[0]["password_hash"] is not None:
        raise ValidationError(
            f"{address} already has an account; log in, or ask an admin to reset your password",
            field="email",
        )
    if rows:
        user = rows[0]
        tx.update(
            "users",
            user["id"],
            {"name": name, "role": invite["role"], "is_active": 1},
            expected_version=user["version"],
        )
        return int(user["id"])
    return tx.insert("users", {"email": address, "name": name, "role": invite["role"]})


def _set_password(ctx: Context, tx: WriteTransaction, user: dict[str, Any], password: str) -> None:
    """Store a new password hash; every API token of the user ends with the old password
    (a token copied by whoever knew it must not outlive the change)."""
    current = query_value(ctx.db, "SELECT version FROM users WHERE id = ?", [user["id"]])
    tx.update(
        "users",
        user["id"],
        {
            "password_hash": passwords.hash_password(password, ctx.settings.password_hashing),
            "password_changed_at": tx.now,
        },
        expected_version=current,
    )
    revoke_user_tokens(ctx, user["id"])


def change_password(
    ctx: Context, current_password: str, new_password: str, *, keep_session_id: int | None = None
) -> dict[str, Any]:
    """The logged-in user changes their password; their other sessions end."""
    require(ctx, "manage_own_account")
    if ctx.user_id is None:
        raise ValidationError("Only a logged-in user can change their password")
    row = query_dicts(ctx.db, f"SELECT * FROM users WHERE id = ? AND {LIVE}", [ctx.user_id])
    if not row:
        raise NotFound("user", ctx.user_id)
    user = row[0]
    if not passwords.verify_password(
        user["password_hash"], current_password, ctx.settings.password_hashing
    ):
        raise ValidationError("Current password is incorrect", field="current_password")
    if current_password == new_password:
        raise ValidationError("The new password must differ from the current one", field="password")
    passwords.check_policy(new_password, email=user["email"], name=user["name"])
    with write(ctx) as tx:
        _set_password(ctx, tx, user, new_password)
        end_user_sessions(
            ctx, user["id"], reason="password_changed", except_session_id=keep_session_id
        )
    return get_user(ctx, user["id"])


def _active_admins(ctx: Context) -> int:
    return int(
        query_value(
            ctx.db,
            f"SELECT count(*) FROM users WHERE role = 'admin' AND is_active = 1 AND {LIVE}",
        )
    )


def set_user_active(ctx: Context, user_id: int, active: bool) -> dict[str, Any]:
    """Deactivate (their sessions end at once) or reactivate a user. Admins only.

    Both revoke the user's API tokens: deactivation so that reactivating never revives them,
    reactivation for tokens left live by a deactivation made before tokens were revoked with it.
    A reactivated user makes new tokens.
    """
    require(ctx, "manage_users")
    with write(ctx) as tx:
        user = tx.fetch("users", user_id)
        if user["deleted_at"] is not None:
            raise NotFound("user", user_id)
        if not active:
            if user_id == ctx.user_id:
                raise ValidationError("You cannot deactivate your own account")
            if user["role"] == "admin" and user["is_active"] and _active_admins(ctx) <= 1:
                raise ValidationError("Cannot deactivate the last active admin")
            end_user_sessions(ctx, user_id, reason="deactivated")
        tx.update("users", user_id, {"is_active": int(active)}, expected_version=user["version"])
        revoke_user_tokens(ctx, user_id)
    return get_user(ctx, user_id)


def set_user_role(ctx: Context, user_id: int, role: str) -> dict[str, Any]:
    """Make a user admin or member. Admins only; the last active admin stays admin."""
    require(ctx, "manage_users")
    check_role(role)
    with write(ctx) as tx:
        user = tx.fetch("users", user_id)
        if user["deleted_at"] is not None:
            raise NotFound("user", user_id)
        demoting = user["role"] == "admin" and role != "admin" and user["is_active"]
        if demoting and _active_admins(ctx) <= 1:
            raise ValidationError("Cannot demote the last active admin")
        tx.update("users", user_id, {"role": role}, expected_version=user["version"])
    return get_user(ctx, user_id)


def list_accounts(ctx: Context) -> list[dict[str, Any]]:
    """Every live user with whether they can log in and when they last did. Admins only."""
    require(ctx, "manage_users")
    return query_dicts(
        ctx.db,
        f"SELECT {PUBLIC_COLUMNS}, last_login_at, password_changed_at,"
        " password_hash IS NOT NULL AS has_password"
        f" FROM users WHERE {LIVE} ORDER BY lower(name), id",
    )
