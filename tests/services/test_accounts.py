"""Accounts end to end on a real database: setup link, invites, resets, roles, deactivation."""

from __future__ import annotations

import json

import pytest

from crm_lib import services
from crm_lib.auth.tokens import token_digest
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import NotAuthenticated, PermissionDenied, ValidationError

PASSWORD = "tangerine orbit mosaic"


def first_admin(ctx: Context, email: str = "alice@fund.example") -> dict:
    link = services.create_setup_link(ctx)
    return services.accept_link(ctx, link.token, email=email, name="Alice", password=PASSWORD)


def invited(ctx: Context, email: str, role: str = "member") -> dict:
    link = services.invite_user(ctx, email, role)
    return services.accept_link(ctx, link.token, name=email.split("@")[0], password=PASSWORD)


def test_setup_link_creates_the_first_admin_once(ctx: Context) -> None:
    assert not services.has_admin_login(ctx)
    link = services.create_setup_link(ctx)
    assert link.url == f"http://127.0.0.1:5006/invite/{link.token}"
    assert services.inspect_link(ctx, link.token)["kind"] == "setup"
    admin = services.accept_link(
        ctx, link.token, email="Alice@Fund.example", name="Alice", password=PASSWORD
    )
    assert admin["role"] == "admin" and admin["email"] == "Alice@Fund.example"
    assert services.has_admin_login(ctx)
    with pytest.raises(ValidationError, match="already been used"):
        services.accept_link(ctx, link.token, email="eve@x.example", name="Eve", password=PASSWORD)
    with pytest.raises(ValidationError, match="admin account already exists"):
        services.create_setup_link(ctx)


def test_a_new_setup_link_replaces_the_previous_one(ctx: Context) -> None:
    old = services.create_setup_link(ctx)
    new = services.create_setup_link(ctx)
    with pytest.raises(ValidationError, match="revoked"):
        services.inspect_link(ctx, old.token)
    assert services.inspect_link(ctx, new.token)["role"] == "admin"


def test_setup_link_expires_after_24_hours(ctx: Context, clock: FixedClock) -> None:
    link = services.create_setup_link(ctx)
    clock.advance(hours=24)
    with pytest.raises(ValidationError, match="expired"):
        services.accept_link(ctx, link.token, email="a@x.example", name="A", password=PASSWORD)


def test_token_is_random_and_stored_only_as_a_digest(ctx: Context) -> None:
    link = services.invite_user(ctx, "bob@fund.example")
    assert len(link.token) >= 43  # 32 random bytes, base64
    stored = ctx.db.conn.execute("SELECT token_hash FROM invites").fetchall()
    assert stored == [(token_digest(link.token),)]
    for table in ("invites", "audit_log", "users"):
        for row in ctx.db.conn.execute(f"SELECT * FROM {table}"):
            assert link.token not in repr(row)


def test_invite_lifecycle_expired_reused_revoked(ctx: Context, clock: FixedClock) -> None:
    expired = services.invite_user(ctx, "late@fund.example")
    clock.advance(days=7, seconds=1)
    with pytest.raises(ValidationError, match="expired; ask an admin for a new one"):
        services.accept_link(ctx, expired.token, name="Late", password=PASSWORD)

    revoked = services.invite_user(ctx, "gone@fund.example")
    services.revoke_invite(ctx, revoked.invite["id"])
    with pytest.raises(ValidationError, match="revoked"):
        services.accept_link(ctx, revoked.token, name="Gone", password=PASSWORD)

    good = services.invite_user(ctx, "bob@fund.example", "member")
    user = services.accept_link(ctx, good.token, name="Bob", password=PASSWORD)
    assert (user["email"], user["role"], user["name"]) == ("bob@fund.example", "member", "Bob")
    with pytest.raises(ValidationError, match="already been used"):
        services.accept_link(ctx, good.token, name="Bob again", password=PASSWORD)
    with pytest.raises(ValidationError, match="not valid"):
        services.inspect_link(ctx, good.token[:-2])
    states = {i["email"]: i["state"] for i in services.list_invites(ctx, include_finished=True)}
    assert states == {
        "late@fund.example": "expired",
        "gone@fund.example": "revoked",
        "bob@fund.example": "accepted",
    }
    assert services.list_invites(ctx) == []


def test_accepting_with_a_bad_password_writes_nothing(ctx: Context) -> None:
    link = services.invite_user(ctx, "bob@fund.example")
    before = ctx.db.conn.execute("SELECT count(*) FROM audit_log").fetchone()
    with pytest.raises(ValidationError, match="at least 12 characters"):
        services.accept_link(ctx, link.token, name="Bob", password="short")
    assert ctx.db.conn.execute("SELECT count(*) FROM audit_log").fetchone() == before
    assert services.inspect_link(ctx, link.token)["email"] == "bob@fund.example"


def test_inviting_someone_who_has_an_account_is_refused(ctx: Context) -> None:
    invited(ctx, "bob@fund.example")
    with pytest.raises(ValidationError, match="already has an account"):
        services.invite_user(ctx, "BOB@fund.example")


def test_invite_for_an_owner_without_login_reuses_their_user_row(ctx: Context) -> None:
    owner = services.create_user(ctx, "carol@fund.example", "Carol", "member")
    investor = services.create_investor(ctx, {"name": "Acme LP", "owner_id": owner["id"]})
    user = invited(ctx, "carol@fund.example", "admin")
    assert user["id"] == owner["id"] and user["role"] == "admin"
    assert services.get_investor(ctx, investor["id"])["investor"]["owner_id"] == user["id"]


def test_members_cannot_manage_users(ctx: Context) -> None:
    member = ctx.as_user(invited(ctx, "bob@fund.example"))
    for attempt in (
        lambda: services.invite_user(member, "eve@x.example"),
        lambda: services.list_accounts(member),
        lambda: services.set_user_active(member, 1, False),
        lambda: services.create_user(member, "eve@x.example"),
    ):
        with pytest.raises(PermissionDenied, match="Only admins can manage users"):
            attempt()


def test_deactivation_ends_sessions_at_once_and_blocks_login(ctx: Context) -> None:
    admin = ctx.as_user(first_admin(ctx))
    bob = invited(ctx, "bob@fund.example")
    session = services.login(ctx, "bob@fund.example", PASSWORD, ip="127.0.0.1")
    assert services.authenticate_session(ctx, session.token).user["id"] == bob["id"]
    services.set_user_active(admin, bob["id"], False)
    with pytest.raises(NotAuthenticated):
        services.authenticate_session(ctx, session.token)
    with pytest.raises(NotAuthenticated, match="Email or password is incorrect"):
        services.login(ctx, "bob@fund.example", PASSWORD, ip="127.0.0.1")
    reason = ctx.db.conn.execute("SELECT end_reason FROM sessions").fetchone()[0]
    assert reason == "deactivated"
    services.set_user_active(admin, bob["id"], True)
    services.login(ctx, "bob@fund.example", PASSWORD, ip="127.0.0.1")


def test_the_last_admin_cannot_be_removed(ctx: Context) -> None:
    alice = first_admin(ctx)
    admin = ctx.as_user(alice)
    with pytest.raises(ValidationError, match="your own account"):
        services.set_user_active(admin, alice["id"], False)
    with pytest.raises(ValidationError, match="last active admin"):
        services.set_user_role(ctx, alice["id"], "member")
    bob = invited(ctx, "bob@fund.example", "admin")
    services.set_user_role(admin, bob["id"], "member")
    assert services.get_user(ctx, bob["id"])["role"] == "member"


def test_reset_link_sets_a_new_password_and_ends_old_sessions(ctx: Context) -> None:
    admin = ctx.as_user(first_admin(ctx))
    bob = invited(ctx, "bob@fund.example")
    old_session = services.login(ctx, "bob@fund.example", PASSWORD, ip="127.0.0.1")
    link = services.reset_password_link(admin, bob["id"])
    assert services.inspect_link(ctx, link.token)["email"] == "bob@fund.example"
    services.accept_link(ctx, link.token, password="lantern quarry velvet")
    with pytest.raises(NotAuthenticated):
        services.authenticate_session(ctx, old_session.token)
    with pytest.raises(NotAuthenticated):
        services.login(ctx, "bob@fund.example", PASSWORD, ip="127.0.0.1")
    services.login(ctx, "bob@fund.example", "lantern quarry velvet", ip="127.0.0.1")


def test_change_password_checks_the_current_one_and_keeps_this_session(ctx: Context) -> None:
    bob = invited(ctx, "bob@fund.example")
    here = services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.1")
    elsewhere = services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.2")
    as_bob = ctx.as_user(bob)
    with pytest.raises(ValidationError, match="Current password is incorrect"):
        services.change_password(as_bob, "wrong password!!", "lantern quarry velvet")
    services.change_password(
        as_bob, PASSWORD, "lantern quarry velvet", keep_session_id=here.session_id
    )
    services.authenticate_session(ctx, here.token)
    with pytest.raises(NotAuthenticated):
        services.authenticate_session(ctx, elsewhere.token)


def test_audit_rows_never_hold_password_hashes_or_token_digests(ctx: Context) -> None:
    first_admin(ctx)
    bob = invited(ctx, "bob@fund.example")
    services.change_password(ctx.as_user(bob), PASSWORD, "lantern quarry velvet")
    rows = ctx.db.conn.execute("SELECT field, old_value, new_value FROM audit_log").fetchall()
    text = json.dumps(rows)
    assert "$argon2id$" not in text
    for (digest,) in ctx.db.conn.execute("SELECT token_hash FROM invites"):
        assert digest not in text
    changes = [r for r in rows if r[0] == "password_hash"]
    assert changes and all(r[2] == '"[redacted]"' for r in changes)
