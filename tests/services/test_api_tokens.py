"""Personal API tokens: shown once, stored as digests, revocable, tied to an active owner."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import NotAuthenticated, PermissionDenied

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
