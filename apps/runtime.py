"""What the server process shares between sessions: settings, the secret key, the event bus, rate
limiters, the open-page registry and Context factories.

Built once by :mod:`apps.serve`; pages and handlers ask it for a short-lived Context per request
or action, so no connection is shared between threads. :meth:`Runtime.user_context` re-checks the
session on every call: a page left open after logout or deactivation cannot write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from crm_lib import services
from crm_lib.auth.ratelimit import LoginThrottle, WriteLimiter
from crm_lib.auth.secret_key import resolve_secret_key
from crm_lib.clock import Clock, SystemClock
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.database import connect_context
from crm_lib.events import EventBus
from crm_lib.services import SessionUser


@dataclass
class Runtime:
    """Process-wide state of the web server."""

    settings: Settings
    events: EventBus = field(default_factory=EventBus)
    clock: Clock = field(default_factory=SystemClock)
    secret_key: str = field(default="", repr=False)
    throttle: LoginThrottle = field(init=False)
    write_limiter: WriteLimiter = field(init=False)

    def __post_init__(self) -> None:
        if not self.secret_key:
            self.secret_key = resolve_secret_key(self.settings)
        self.throttle = LoginThrottle(
            self.clock,
            max_failures=self.settings.login_max_failures,
            enabled=self.settings.rate_limits,
        )
        self.write_limiter = WriteLimiter(
            self.clock,
            per_minute=self.settings.write_rate_per_minute,
            enabled=self.settings.rate_limits,
        )

    @contextmanager
    def context(self, actor: str = "system:web") -> Iterator[Context]:
        """A Context on its own connection, closed afterwards (system role: server internals)."""
        ctx = connect_context(self.settings, actor=actor, events=self.events, clock=self.clock)
        try:
            yield ctx
        finally:
            ctx.close()

    def authenticate(self, session_token: str | None) -> SessionUser:
        """The user behind a session token, or :class:`~crm_lib.errors.NotAuthenticated`."""
        with self.context("system:auth") as ctx:
            return services.authenticate_session(ctx, session_token)

    @contextmanager
    def user_context(self, session_token: str | None) -> Iterator[Context]:
        """A Context acting as the session's user; the session is checked again first."""
        with self.context("system:auth") as ctx:
            found = services.authenticate_session(ctx, session_token)
            yield ctx.as_user(found.user)
