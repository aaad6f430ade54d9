"""In-process change events: what a committed write changed, for live grids and automations.

The bus is created by whoever owns the process (the web server, a test) and handed to every
:class:`~crm_lib.context.Context`; the library keeps no global registry. Events are published only
after the transaction has committed, so a listener never sees a change that was rolled back.
A failing listener is logged and skipped: it must not undo or block a write that already happened.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Change:
    """One row touched by a committed transaction."""

    entity: str  # table name
    entity_id: int
    action: str  # create / update / archive / restore
    fields: tuple[str, ...]  # changed columns (empty for create/archive/restore)
    version: int  # the row's version after the change
    actor: str
    txn: str
    last_entity_id: int | None = None  # bulk creates: the rows entity_id..last_entity_id


Listener = Callable[[list[Change]], None]
#: The context whose committed write is being published (its connection is free again): what a
#: listener that writes in turn (automations) acts through, on the same thread and connection.
_PUBLISHER: contextvars.ContextVar[Any] = contextvars.ContextVar("publisher", default=None)


@contextmanager
def publishing(ctx: Any) -> Iterator[None]:
    """Mark ``ctx`` as the publisher of the changes delivered inside the block."""
    token = _PUBLISHER.set(ctx)
    try:
        yield
    finally:
        _PUBLISHER.reset(token)


def publisher() -> Any:
    """The context whose changes are being delivered (None outside a delivery)."""
    return _PUBLISHER.get()


class EventBus:
    """Fan-out of committed changes to listeners registered in this process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Register ``listener``; returns a function that unregisters it."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, changes: list[Change]) -> None:
        """Deliver ``changes`` to every listener, isolating their failures."""
        if not changes:
            return
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(changes)
            except Exception:
                log.exception("Change listener %r failed; the write itself is committed", listener)
