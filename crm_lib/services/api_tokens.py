"""Personal API tokens: how scripts call the REST API (``Authorization: Bearer crm_...``).

A token acts as its owner, with the owner's role, and stops working the moment it is revoked,
expires, or its owner is deactivated. Like sessions, tokens end for good when their owner is
deactivated (or reactivated) or gets a new password (changed or reset): a credential that leaked
before the change must not come back to life after it (:func:`revoke_user_tokens`). It is shown
once, when created; the database keeps its SHA-256 digest and a short hint (its first characters)
so a person can tell tokens apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.auth.tokens import API_TOKEN_PREFIX, new_token, token_digest
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import NotAuthenticated, NotFound, PermissionDenied, ValidationError
from crm_lib.limits import check_text, max_length
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import bookkeeping, write

TOKEN_COLUMNS = "id, user_id, name, token_hint, last_used_at, expires_at, created_at, version"
HINT_LENGTH = len(API_TOKEN_PREFIX) + 4
TOUCH_EVERY = timedelta(seconds=60)


def create_api_token(
    ctx: Context, name: str, *, expires_in_days: int | None = None
) -> dict[str, Any]:
    """A new token for the logged-in user; the result's ``token`` is the only copy."""
    require(ctx, "manage_own_account")
    if ctx.user_id is None:
        raise ValidationError("API tokens belong to a logged-in user")
    label = name.strip()
    if not label:
        limit = max_length("token_name")
        raise ValidationError(f"Give the token a name (1 to {limit} characters)", field="name")
    check_text(label, "token_name", field="name", label="Token name")
    if expires_in_days is not None and not 1 <= expires_in_days <= 3650:
        raise ValidationError("Expiry must be between 1 and 3650 days", field="expires_in_days")
    token = new_token(API_TOKEN_PREFIX)
    expires = (
        timestamp(ctx.clock.now() + timedelta(days=expires_in_days)) if expires_in_days else None
    )
    with write(ctx) as tx:
        token_id = tx.insert(
            "api_tokens",
            {
                "user_id": ctx.user_id,
                "name": label,
                "token_hash": token_digest(token),
                "token_hint": token[:HINT_LENGTH],
                "expires_at": expires,
            },
        )
    row = query_dicts(ctx.db, f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ?", [token_id])
    return {**row[0], "token": token}


def list_api_tokens(ctx: Context) -> list[dict[str, Any]]:
    """The logged-in user's live tokens (no secrets)."""
    return query_dicts(
        ctx.db,
        f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = ? AND {LIVE} ORDER BY id DESC",
        [ctx.user_id],
    )


def revoke_api_token(ctx: Context, token_id: int) -> None:
    """Revoke one of your tokens (admins may revoke anyone's)."""
    with write(ctx) as tx:
        row = tx.fetch("api_tokens", token_id)
        if row["deleted_at"] is not None:
            raise NotFound("API token", token_id)
        if row["user_id"] != ctx.user_id and ctx.role not in ("admin", "system"):
            raise PermissionDenied("revoke_api_token", "You can only revoke your own tokens")
        tx.archive("api_tokens", token_id, expected_version=row["version"])


def revoke_user_tokens(ctx: Context, user_id: int) -> int:
    """Revoke (archive) every live token of ``user_id``; returns how many.

    Called by the account services inside their own transaction, so the audit rows of the revoked
    tokens share the ``txn`` of the change that caused them (``users.is_active`` or
    ``users.password_hash``) and are made by the same actor: history says who ended them and why.
    Not a user-facing action, so no permission check: the callers have done theirs.
    """
    rows = query_dicts(
        ctx.db, f"SELECT id, version FROM api_tokens WHERE user_id = ? AND {LIVE}", [user_id]
    )
    with write(ctx) as tx:
        for row in rows:
            tx.archive("api_tokens", row["id"], expected_version=row["version"])
    return len(rows)


def authenticate_api_token(ctx: Context, token: str) -> dict[str, Any]:
    """The active user a bearer token belongs to, or :class:`NotAuthenticated`."""
    rows = query_dicts(
        ctx.db,
        "SELECT t.id AS token_id, t.expires_at, t.last_used_at, u.id, u.email, u.name, u.role"
        " FROM api_tokens t JOIN users u ON u.id = t.user_id"
        " WHERE t.token_hash = ? AND t.deleted_at IS NULL AND u.deleted_at IS NULL"
        " AND u.is_active = 1",
        [token_digest(token)],
    )
    if not rows:
        raise NotAuthenticated("Invalid or revoked API token")
    row = rows[0]
    now = ctx.clock.now()
    if row["expires_at"] is not None and now >= datetime.fromisoformat(row["expires_at"]):
        raise NotAuthenticated("This API token has expired")
    last = row["last_used_at"]
    if last is None or now - datetime.fromisoformat(last) >= TOUCH_EVERY:
        with bookkeeping(), write(ctx, wait_s=0) as tx:
            tx.touch("api_tokens", row["token_id"], {"last_used_at": tx.now})
    return {k: row[k] for k in ("id", "email", "name", "role")}
