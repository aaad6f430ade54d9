"""Logins and sessions: one message for every failure, back-off, idle and absolute expiry."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.auth.ratelimit import LoginThrottle
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import NotAuthenticated, RateLimited

PASSWORD = "tangerine orbit mosaic"


@pytest.fixture
def bob(ctx: Context) -> dict:
    link = services.invite_user(ctx, "bob@fund.example")
    return services.accept_link(ctx, link.token, name="Bob", password=PASSWORD)


def test_login_opens_a_session_that_authenticates(ctx: Context, bob: dict) -> None:
    result = services.login(ctx, " Bob@Fund.example ", PASSWORD, ip="10.0.0.1", user_agent="UA")
    found = services.authenticate_session(ctx, result.token)
    assert found.user == {
        "id": bob["id"],
        "email": "bob@fund.example",
        "name": "Bob",
        "role": "member",
    }
    assert found.session_id == result.session_id
    assert services.list_sessions(ctx.as_user(bob))[0]["ip"] == "10.0.0.1"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("bob@fund.example", "wrong password value"),
        ("nobody@fund.example", PASSWORD),
        ("invited@fund.example", PASSWORD),  # invited, never accepted: no password yet
    ],
)
def test_every_failed_login_says_the_same(ctx: Context, bob: dict, email: str, password: str):
    services.invite_user(ctx, "invited@fund.example")
    with pytest.raises(NotAuthenticated) as caught:
        services.login(ctx, email, password, ip="10.0.0.1")
    assert caught.value.message == "Email or password is incorrect"


def test_failed_logins_back_off_and_a_locked_account_is_refused_even_with_the_password(
    ctx: Context, bob: dict, clock: FixedClock
) -> None:
    throttle = LoginThrottle(clock, max_failures=3)
    for _ in range(3):
        with pytest.raises(NotAuthenticated):
            services.login(
                ctx, "bob@fund.example", "wrong password!", ip="10.0.0.9", throttle=throttle
            )
    with pytest.raises(RateLimited) as caught:
        services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.1", throttle=throttle)
    assert caught.value.retry_after == 30
    clock.advance(seconds=31)
    services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.1", throttle=throttle)


def test_logout_ends_the_session(ctx: Context, bob: dict) -> None:
    result = services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.1")
    assert services.logout(ctx, result.token)
    with pytest.raises(NotAuthenticated):
        services.authenticate_session(ctx, result.token)
    assert not services.logout(ctx, result.token)


def test_idle_sessions_end_and_active_ones_are_kept_alive(
    ctx: Context, bob: dict, clock: FixedClock
) -> None:
    result = services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.1")
    for _ in range(3):  # 3 x 11 h of regular use: each request refreshes last_seen_at
        clock.advance(hours=11)
        services.authenticate_session(ctx, result.token)
    clock.advance(hours=12)
    with pytest.raises(NotAuthenticated, match="session has ended"):
        services.authenticate_session(ctx, result.token)
    reason = ctx.db.conn.execute("SELECT end_reason FROM sessions").fetchone()[0]
    assert reason == "idle"


def test_sessions_end_at_the_absolute_limit_however_active(
    ctx: Context, bob: dict, clock: FixedClock
) -> None:
    result = services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.1")
    for _ in range(167):
        clock.advance(hours=1)
        services.authenticate_session(ctx, result.token)
    clock.advance(hours=1)
    with pytest.raises(NotAuthenticated):
        services.authenticate_session(ctx, result.token)


def test_login_upgrades_a_hash_made_with_weaker_parameters(ctx: Context, bob: dict) -> None:
    from dataclasses import replace

    from argon2 import profiles

    stronger = replace(ctx.settings, password_hashing=profiles.PRE_21_2)
    ctx_strong = replace(ctx, settings=stronger)
    services.login(ctx_strong, "bob@fund.example", PASSWORD, ip="10.0.0.1")
    stored = ctx.db.conn.execute("SELECT password_hash FROM users WHERE id = ?", [bob["id"]])
    assert stored.fetchone()[0].startswith("$argon2id$v=19$m=102400,t=2,p=8$")


def test_session_ends_publish_an_event_for_open_pages(ctx: Context, bob: dict) -> None:
    seen = []
    ctx.events.subscribe(seen.extend)
    result = services.login(ctx, "bob@fund.example", PASSWORD, ip="10.0.0.1")
    services.logout(ctx, result.token)
    ends = [c for c in seen if c.entity == "sessions" and c.action == "archive"]
    assert [c.entity_id for c in ends] == [result.session_id]
