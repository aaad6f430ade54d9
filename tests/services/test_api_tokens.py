"""Personal API tokens: shown once, stored as digests, revocable, tied to an active owner."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import NotAuthenticated, PermissionDenied
from crm_lib.storage.writes import write

PASSWORD = "tangerine orbit mosaic"


def member(ctx: Context, email: str) -> Context:
    link = services.invite_user(ctx, email)
    return ctx.as_user(services.accept_link(ctx, link.token, name="M", password=PASSWORD))


def test_token_authenticates_as_its_owner_until_revoked(ctx: Context) -> None:
    bob = member(ctx, "bob@fund.example")
    made = services.create_api_token(bob, "nightly script")
    assert made["token"].startswith("crm_") and made["token_hint"] == made["token"][:8]
    assert services.authenticate_api_token(ctx, made["token"])["email"] == "bob@fund.example"
    listed = services.list_api_tokens(bob)
    assert [t["name"] for t in listed] == ["nightly script"] and "token" not in listed[0]
    assert listed[0]["last_used_at"] is not None
    services.revoke_api_token(bob, made["id"])
    with pytest.raises(NotAuthenticated, match="Invalid or revoked"):
        services.authenticate_api_token(ctx, made["token"])


def test_tokens_expire_and_die_with_their_owner(ctx: Context, clock: FixedClock) -> None:
    bob = member(ctx, "bob@fund.example")
    short = services.create_api_token(bob, "short", expires_in_days=1)
    clock.advance(days=1)
    with pytest.raises(NotAuthenticated, match="expired"):
        services.authenticate_api_token(ctx, short["token"])
    kept = services.create_api_token(bob, "kept")
    services.set_user_active(ctx, bob.user_id, False)
    with pytest.raises(NotAuthenticated):
        services.authenticate_api_token(ctx, kept["token"])


def test_members_revoke_only_their_own_tokens(ctx: Context) -> None:
    bob = member(ctx, "bob@fund.example")
    carol = member(ctx, "carol@fund.example")
    made = services.create_api_token(bob, "bob's")
    with pytest.raises(PermissionDenied):
        services.revoke_api_token(carol, made["id"])
    services.revoke_api_token(ctx, made["id"])  # the shell (system) may


NEW_PASSWORD = "lantern quarry velvet"


def token_audit(ctx: Context, token_id: int) -> list[tuple[str, str, str]]:
    """(action, actor, txn) of the token's audit rows, oldest first."""
    return ctx.db.conn.execute(
        "SELECT action, actor, txn FROM audit_log WHERE entity = 'api_tokens' AND entity_id = ?"
        " ORDER BY id",
        [token_id],
    ).fetchall()


def user_change_txn(ctx: Context, user_id: int, field: str) -> str:
    """The transaction of the latest audited change of ``field`` on the user."""
    return ctx.db.conn.execute(
        "SELECT txn FROM audit_log WHERE entity = 'users' AND entity_id = ? AND field = ?"
        " ORDER BY id DESC LIMIT 1",
        [user_id, field],
    ).fetchone()[0]


def test_deactivation_revokes_tokens_so_reactivation_does_not_revive_them(ctx: Context) -> None:
    bob = member(ctx, "bob@fund.example")
    made = services.create_api_token(bob, "nightly script")
    services.set_user_active(ctx, bob.user_id, False)
    services.set_user_active(ctx, bob.user_id, True)
    with pytest.raises(NotAuthenticated, match="Invalid or revoked"):
        services.authenticate_api_token(ctx, made["token"])
    assert services.list_api_tokens(bob) == []
    # history: the admin archived the token in the transaction that deactivated bob
    action, actor, txn = token_audit(ctx, made["id"])[-1]
    assert (action, actor) == ("archive", "alice@fund.example")
    deactivated = ctx.db.conn.execute(
        "SELECT txn FROM audit_log WHERE entity = 'users' AND entity_id = ? AND field = 'is_active'"
        " AND new_value = '0'",
        [bob.user_id],
    ).fetchone()[0]
    assert txn == deactivated


def test_reactivation_revokes_tokens_left_from_before_deactivation_revoked_them(
    ctx: Context,
) -> None:
    bob = member(ctx, "bob@fund.example")
    made = services.create_api_token(bob, "from an older release")
    with write(ctx) as tx:  # deactivated the way releases before this one did: tokens kept
        user = tx.fetch("users", bob.user_id)
        tx.update("users", bob.user_id, {"is_active": 0}, expected_version=user["version"])
    services.set_user_active(ctx, bob.user_id, True)
    with pytest.raises(NotAuthenticated):
        services.authenticate_api_token(ctx, made["token"])
    assert token_audit(ctx, made["id"])[-1][2] == user_change_txn(ctx, bob.user_id, "is_active")


def test_changing_the_password_revokes_every_token(ctx: Context) -> None:
    bob = member(ctx, "bob@fund.example")
    first = services.create_api_token(bob, "one")
    second = services.create_api_token(bob, "two")
    services.change_password(bob, PASSWORD, NEW_PASSWORD)
    for made in (first, second):
        with pytest.raises(NotAuthenticated):
            services.authenticate_api_token(ctx, made["token"])
        action, actor, txn = token_audit(ctx, made["id"])[-1]
        assert (action, actor) == ("archive", "bob@fund.example")
        assert txn == user_change_txn(ctx, bob.user_id, "password_hash")
    fresh = services.create_api_token(bob, "after the change")
    assert services.authenticate_api_token(ctx, fresh["token"])["id"] == bob.user_id


def test_a_password_reset_revokes_every_token(ctx: Context) -> None:
    bob = member(ctx, "bob@fund.example")
    made = services.create_api_token(bob, "script")
    carol = member(ctx, "carol@fund.example")
    kept = services.create_api_token(carol, "someone else's")
    link = services.reset_password_link(ctx, bob.user_id)
    services.accept_link(ctx, link.token, password=NEW_PASSWORD)
    with pytest.raises(NotAuthenticated):
        services.authenticate_api_token(ctx, made["token"])
    assert token_audit(ctx, made["id"])[-1][2] == user_change_txn(ctx, bob.user_id, "password_hash")
    assert services.authenticate_api_token(ctx, kept["token"])["email"] == "carol@fund.example"
