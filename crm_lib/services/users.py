"""Team members: the people who own investors and (from the auth issue on) log in."""

from __future__ import annotations

from typing import Any

from crm_lib.auth.permissions import ROLES, require
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.grid.field_types import FieldValueError, parse_email
from crm_lib.limits import check_text
from crm_lib.storage.reads import LIVE, query_dicts, query_value
from crm_lib.storage.writes import write

USERS = "users"

#: Columns safe to hand to any caller (never the password hash).
PUBLIC_COLUMNS = "id, email, name, role, is_active, version, created_at, updated_at"


def clean_email(email: str) -> str:
    """A user's email as stored, or :class:`ValidationError` naming the problem."""
    try:
        address = parse_email(email, {})
    except FieldValueError as exc:
        raise ValidationError(f"Email: {exc}", field="email") from None
    if address is None:
        raise ValidationError("Email cannot be empty", field="email")
    return address


def check_role(role: str) -> None:
    """Refuse a role that does not exist."""
    if role not in ROLES:
        raise ValidationError(f"Role must be one of {', '.join(ROLES)}, not {role!r}", field="role")


def create_user(ctx: Context, email: str, name: str = "", role: str = "member") -> dict[str, Any]:
    """Add a team member (without a password: they get one through an invite). Admins only."""
    require(ctx, "manage_users")
    address = clean_email(email)
    check_role(role)
    check_text(name.strip(), "display_name", field="name", label="Name")
    with write(ctx) as tx:
        taken = query_value(
            ctx.db, f"SELECT id FROM users WHERE lower(email) = lower(?) AND {LIVE}", [address]
        )
        if taken is not None:
            raise ValidationError(f"A user with email {address} already exists", field="email")
        user_id = tx.insert(USERS, {"email": address, "name": name.strip(), "role": role})
    return get_user(ctx, user_id)


def get_user(ctx: Context, user_id: int) -> dict[str, Any]:
    """One live user, without secrets."""
    rows = query_dicts(
        ctx.db, f"SELECT {PUBLIC_COLUMNS} FROM users WHERE id = ? AND {LIVE}", [user_id]
    )
    if not rows:
        raise NotFound("user", user_id)
    return rows[0]


def list_users(ctx: Context) -> list[dict[str, Any]]:
    """Live users by name, without secrets."""
    return query_dicts(
        ctx.db, f"SELECT {PUBLIC_COLUMNS} FROM users WHERE {LIVE} ORDER BY lower(name), id"
    )


def require_live_user(ctx: Context, user_id: int | None, field: str = "owner_id") -> None:
    """Refuse a reference to a user who does not exist or is archived."""
    if user_id is None:
        return
    if query_value(ctx.db, f"SELECT 1 FROM users WHERE id = ? AND {LIVE}", [user_id]) is None:
        raise ValidationError(f"Owner: no active user with id {user_id}", field=field)
