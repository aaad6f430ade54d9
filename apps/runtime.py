"""What the server process shares between sessions: settings, the secret key, the event bus, rate
limiters, the open-page registry and Context factories.

Built once by :mod:`apps.serve`; pages and handlers ask it for a short-lived Context per request
or action, so no connection is shared between threads. :meth:`Runtime.user_context` re-checks the
session on every call: a page left open after logout or deactivation cannot write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tornado.ioloop import IOLoop

from crm_lib import services
from crm_lib.auth.ratelimit import LoginThrottle, WriteLimiter
from crm_lib.auth.secret_key import resolve_secret_key
from crm_lib.automations.events import install as install_automations
from crm_lib.clock import Clock, SystemClock
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.database import ThreadConnections
from crm_lib.events import EventBus
from crm_lib.services import SessionUser
from crm_lib.services.ask import AskEngine
from crm_lib.services.search import SearchIndex, open_search_index

T = TypeVar("T")
#: Slow calls (argon2 password hashing at 64 MiB, whole-grid exports) run here so that they never
#: stall the event loop that serves every page and API call of the process.
SLOW_WORK = ThreadPoolExecutor(max_workers=2, thread_name_prefix="crm-slow")


#: Long page actions (a formula column over every investor, an import, an export, a backup or a
#: restore preview: seconds to tens of seconds) run here, apart from SLOW_WORK, so that logins
#: and API calls never queue behind them. Writers still take turns on the database's one write
#: lock; reads run side by side.
LONG_WORK = ThreadPoolExecutor(max_workers=4, thread_name_prefix="crm-long")
#: Grid cell saves (one-record writes: milliseconds) run here, apart from SLOW_WORK, where they
#: queued behind password hashing and API exports and showed "Saving…" for over 15 s under load.
#: A save still waits its turn at the write lock, at most the busy timeout (then DatabaseBusy).
EDIT_WORK = ThreadPoolExecutor(max_workers=2, thread_name_prefix="crm-edit")
#: API pages that need a scan of every investor (a new filter's first read: seconds at a million)
#: run here, so that they never hold up GET one, edits or the Panel pages on the event loop; two
#: threads, so one such scan does not queue the next. Remembered pages are answered on the loop
#: (apps/api/base.py). Each thread reads on its own connection (WAL: beside the one writer).
READ_WORK = ThreadPoolExecutor(max_workers=2, thread_name_prefix="crm-read")


async def run_blocking(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on a worker thread and await its result."""
    return await IOLoop.current().run_in_executor(SLOW_WORK, fn, *args)


async def run_read(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` (a page of a list or view) on a read thread and await its result."""
    return await IOLoop.current().run_in_executor(READ_WORK, fn, *args)


async def run_edit(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` (a grid cell's save) on an edit thread and await its result."""
    return await IOLoop.current().run_in_executor(EDIT_WORK, fn, *args)


async def run_long(fn: Callable[..., T], *args: Any) -> T:
    """Run ``fn(*args)`` on a long-work thread (its own database connection, as every thread's
    Context has) and await its result, leaving the event loop free for every other session."""
    return await IOLoop.current().run_in_executor(LONG_WORK, fn, *args)


@dataclass
class Runtime:
    """Process-wide state of the web server."""

    settings: Settings
    events: EventBus = field(default_factory=EventBus)
    clock: Clock = field(default_factory=SystemClock)
    secret_key: str = field(default="", repr=False)
    throttle: LoginThrottle = field(init=False)
    write_limiter: WriteLimiter = field(init=False)
    connections: ThreadConnections = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._search_index: SearchIndex | None = None
        self._search_lock = threading.Lock()
        #: the Ask page's and API's snapshot and name matcher (one per process)
        self.ask_engine = AskEngine(self.settings)
        self.connections = ThreadConnections(self.settings)
        install_automations(self.events)  # event rules, on each writer's own connection
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

    def search_index(self) -> SearchIndex:
        """The process's search index, opened on first use (the embedder loads then); raises
        :class:`~crm_lib.search.index.IndexBusy` while another process holds it."""
        with self._search_lock:
            if self._search_index is None:
                self._search_index = open_search_index(self.settings)
            return self._search_index

    @contextmanager
    def context(self, actor: str = "system:web") -> Iterator[Context]:
        """A Context on this thread's connection (system role: server internals)."""
        yield self.connections.context(actor=actor, events=self.events, clock=self.clock)

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
