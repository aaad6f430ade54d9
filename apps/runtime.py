"""What the server process shares between sessions: settings, the event bus, a Context factory.

Built once by :mod:`apps.serve`; pages and handlers ask it for a short-lived Context per request
or session, so no connection is shared between threads.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.database import connect_context
from crm_lib.events import EventBus


@dataclass
class Runtime:
    """Process-wide state of the web server."""

    settings: Settings
    events: EventBus = field(default_factory=EventBus)

    @contextmanager
    def context(self, actor: str = "system:web") -> Iterator[Context]:
        """A Context on its own connection, closed afterwards."""
        ctx = connect_context(self.settings, actor=actor, events=self.events)
        try:
            yield ctx
        finally:
            ctx.close()
