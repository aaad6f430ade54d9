"""Login back-off and write budgets, on a clock the test moves."""

from __future__ import annotations

import pytest

from crm_lib.auth.ratelimit import LoginThrottle, WriteLimiter
from crm_lib.clock import FixedClock
from crm_lib.errors import RateLimited


def fail(throttle: LoginThrottle, times: int, account: str = "a@x.example", ip: str = "1.2.3.4"):
    for _ in range(times):
        throttle.check(account, ip)
        throttle.failed(account, ip)


def test_lockout_starts_after_max_failures_and_doubles(clock: FixedClock) -> None:
    throttle = LoginThrottle(clock, max_failures=3)
    fail(throttle, 2)
    throttle.check("a@x.example", "1.2.3.4")  # two failures: still allowed
    throttle.failed("a@x.example", "1.2.3.4")  # third: locked 30 s
    with pytest.raises(RateLimited) as caught:
        throttle.check("a@x.example", "1.2.3.4")
    assert caught.value.retry_after == 30
    clock.advance(seconds=30)
    fail(throttle, 1)  # fourth failure: 60 s
    with pytest.raises(RateLimited) as caught:
        throttle.check("A@X.example ", "9.9.9.9")  # same account, other IP, other spelling
    assert caught.value.retry_after == 60


def test_back_off_is_capped_at_an_hour(clock: FixedClock) -> None:
    throttle = LoginThrottle(clock, max_failures=1)
    for _ in range(30):
        throttle.failed("a@x.example", "1.2.3.4")
    with pytest.raises(RateLimited) as caught:
        throttle.check("a@x.example", "1.2.3.4")
    assert caught.value.retry_after == 3600


def test_unknown_and_known_accounts_get_the_same_message(clock: FixedClock) -> None:
    throttle = LoginThrottle(clock, max_failures=1)
    throttle.failed("nobody@x.example", "1.1.1.1")
    throttle.failed("alice@x.example", "2.2.2.2")
    messages = set()
    for account, ip in [("nobody@x.example", "1.1.1.1"), ("alice@x.example", "2.2.2.2")]:
        with pytest.raises(RateLimited) as caught:
            throttle.check(account, ip)
        messages.add(caught.value.message)
    assert messages == {"Too many failed logins; try again in 30 s"}


def test_an_ip_spraying_many_accounts_is_locked(clock: FixedClock) -> None:
    throttle = LoginThrottle(clock, max_failures=2)
    for n in range(8):  # 2 x 4 failures from one IP, each on a fresh account
        throttle.failed(f"user{n}@x.example", "6.6.6.6")
    with pytest.raises(RateLimited):
        throttle.check("fresh@x.example", "6.6.6.6")
    throttle.check("fresh@x.example", "7.7.7.7")


def test_success_clears_the_account_and_old_failures_are_forgotten(clock: FixedClock) -> None:
    throttle = LoginThrottle(clock, max_failures=3)
    fail(throttle, 2)
    throttle.succeeded("a@x.example", "1.2.3.4")
    fail(throttle, 2, ip="5.5.5.5")
    throttle.check("a@x.example", "5.5.5.5")
    clock.advance(hours=2)
    fail(throttle, 2, ip="5.5.5.5")
    throttle.check("a@x.example", "5.5.5.5")


def test_disabled_throttle_never_blocks(clock: FixedClock) -> None:
    throttle = LoginThrottle(clock, max_failures=1, enabled=False)
    fail(throttle, 10)
    throttle.check("a@x.example", "1.2.3.4")


def test_write_limiter_allows_a_burst_then_refills(clock: FixedClock) -> None:
    limiter = WriteLimiter(clock, per_minute=60)  # 1 per second, bursts of 6 (floor 5 -> 6)
    for _ in range(int(limiter.capacity)):
        limiter.take("user:1")
    with pytest.raises(RateLimited) as caught:
        limiter.take("user:1")
    assert caught.value.retry_after == 1
    limiter.take("user:2")  # others have their own budget
    clock.advance(seconds=1)
    limiter.take("user:1")
