"""The first argument of every service function: who is acting, on which database, at what time.

Injecting these (instead of module-level singletons) lets a notebook, a job, a test and the web app
each run the same service code against their own database, clock and event bus.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import sqlite_utils

from crm_lib.clock import Clock, SystemClock
from crm_lib.config import Settings
from crm_lib.events import EventBus

if TYPE_CHECKING:
    from crm_lib.storage.writes import WriteTransaction


@dataclass
class Context:
    """Database, actor, clock, settings and event bus for one caller.

    ``actor`` is what history shows as "who": a user's email, or ``system:<job>`` for jobs.
    ``role`` is what the services check permissions against: ``admin`` or ``member`` for a
    logged-in person (``user_id`` says who), ``system`` for the shell, notebooks and jobs.
    A Context (and its connection) belongs to one thread of work at a time.
    """

    db: sqlite_utils.Database
    actor: str
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    events: EventBus = field(default_factory=EventBus)
    active_write: WriteTransaction | None = field(default=None, repr=False)
    role: str = "system"
    user_id: int | None = None

    def as_actor(self, actor: str) -> Context:
        """The same database and bus, acting as someone else (e.g. a job on a user's behalf)."""
        return replace(self, actor=actor, active_write=None)

    def as_user(self, user: dict) -> Context:
        """The same database and bus, acting as a logged-in user (``id``, ``email``, ``role``)."""
        return replace(
            self, actor=user["email"], role=user["role"], user_id=user["id"], active_write=None
        )

    def close(self) -> None:
        """Close the database connection."""
        self.db.conn.close()
