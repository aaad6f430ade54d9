"""Rate limits kept in the server process: login back-off and a write budget.

One server process serves everything (see DESIGN, "Web app and API"), so in-memory state is
enough and costs nothing per request; a restart forgets it, which only ever helps a legitimate user.
Both limiters take the clock they run on, so tests move time instead of sleeping.

* :class:`LoginThrottle` counts failed logins per account *and* per client IP. After
  ``max_failures`` failures the key is locked for 30 s, doubling with each further failure up to
  an hour. The lock applies to any email, existing or not, and its message is the same, so it
  tells an attacker nothing about which accounts exist.
* :class:`WriteLimiter` is a token bucket per user (or per IP for anonymous writes).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

from crm_lib.clock import Clock
from crm_lib.errors import RateLimited

BASE_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 3600
#: Failures are forgotten after this long without another one.
FORGET_AFTER_SECONDS = 3600
#: A shared office IP gets more room than a single account.
IP_FAILURE_FACTOR = 4
_PRUNE_ABOVE = 10_000


@dataclass
class _Failures:
    count: int
    last_at: float
    locked_until: float


class LoginThrottle:
    """Growing back-off for failed logins, per account and per IP."""

    def __init__(self, clock: Clock, *, max_failures: int = 5, enabled: bool = True) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.enabled = enabled
        self._state: dict[str, _Failures] = {}
        self._lock = threading.Lock()

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _keys(self, account: str, ip: str) -> list[tuple[str, int]]:
        return [
            (f"account:{account.strip().lower()}", self.max_failures),
            (f"ip:{ip}", self.max_failures * IP_FAILURE_FACTOR),
        ]

    def check(self, account: str, ip: str) -> None:
        """Raise :class:`RateLimited` while the account or the IP is locked."""
        if not self.enabled:
            return
        now = self._now()
        with self._lock:
            wait = max(
                (
                    s.locked_until - now
                    for k, _ in self._keys(account, ip)
                    if (s := self._state.get(k))
                ),
                default=0.0,
            )
        if wait > 0:
            seconds = math.ceil(wait)
            raise RateLimited(seconds, f"Too many failed logins; try again in {seconds} s")

    def failed(self, account: str, ip: str) -> None:
        """Count a failed login; lock the key once it passes its threshold."""
        now = self._now()
        with self._lock:
            for key, threshold in self._keys(account, ip):
                state = self._state.get(key)
                if state is None or now - state.last_at > FORGET_AFTER_SECONDS:
                    state = self._state[key] = _Failures(0, now, 0.0)
                state.count += 1
                state.last_at = now
                if state.count >= threshold:
                    extra = state.count - threshold
                    lock = min(BASE_LOCK_SECONDS * 2 ** min(extra, 20), MAX_LOCK_SECONDS)
                    state.locked_until = now + lock
            self._prune(now)

    def succeeded(self, account: str, ip: str) -> None:
        """A correct password clears the account's count (the IP's count decays on its own)."""
        with self._lock:
            self._state.pop(self._keys(account, ip)[0][0], None)

    def _prune(self, now: float) -> None:
        if len(self._state) > _PRUNE_ABOVE:
            for key in [
                k for k, s in self._state.items() if now - s.last_at > FORGET_AFTER_SECONDS
            ]:
                del self._state[key]


class WriteLimiter:
    """A token bucket per key: ``per_minute`` writes a minute, bursts up to a tenth of that."""

    def __init__(self, clock: Clock, *, per_minute: int = 600, enabled: bool = True) -> None:
        self.clock = clock
        self.rate = per_minute / 60.0
        self.capacity = max(5.0, per_minute / 10.0)
        self.enabled = enabled
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one write for ``key`` or raise :class:`RateLimited` with the wait."""
        if not self.enabled:
            return
        now = self.clock.now().timestamp()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = math.ceil((1.0 - tokens) / self.rate)
                raise RateLimited(wait, f"Too many changes too quickly; try again in {wait} s")
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > _PRUNE_ABOVE:
                full = [
                    k
                    for k, (t, a) in self._buckets.items()
                    if t + (now - a) * self.rate >= self.capacity
                ]
                for k in full:
                    del self._buckets[k]
