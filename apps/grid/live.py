"""Live updates between open grids: a committed change reaches every other open grid at once.

One hub per server process listens to the event bus (changes are published after commit, from
the writer's thread) and hands each open grid the changes on its own document's next tick
(``add_next_tick_callback`` is Bokeh's thread-safe way in). The grid decides what to do: patch the
rows on its page that changed, or re-read the page when rows came or went or fields changed.
Measured in the browser tests: another session shows an edit well within the 2 seconds asked.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

from crm_lib.events import Change, EventBus

log = logging.getLogger(__name__)
#: Tables whose changes an open grid shows.
WATCHED = frozenset(
    {
        "fundraising_investors",
        "fundraising_contacts",
        "fundraising_commitments",
        "fundraising_funds",
        "opportunities",  # the "<fund> stage" and "<fund> expected" columns
        "pipeline_stages",
        "grid_fields",
        "users",
        "fundraising_state",  # a restore: everything may have changed
    }
)


class LiveGrid(Protocol):
    """What the hub needs of a page: its document and a handler run on that document's tick
    (and, optionally, ``watched``: the tables it shows, else :data:`WATCHED`)."""

    document: Any

    def on_remote_changes(self, changes: list[Change]) -> None: ...


class GridHub:
    """Per-process registry of open grids, fed by the event bus."""

    def __init__(self, events: EventBus) -> None:
        self._grids: weakref.WeakSet[Any] = weakref.WeakSet()
        self._lock = threading.Lock()
        #: Changes waiting for a grid's next tick. One callback per grid at a time: the changes
        #: that arrive before it runs join it, so a page busy re-reading itself catches up with
        #: one more re-read instead of one per change (bench/bench_load.py: 20 grids and 50
        #: writes/s queued a re-read per write per grid, 1,000 a second, and the server fell
        #: behind for good).
        self._waiting: weakref.WeakKeyDictionary[Any, list[Change]] = weakref.WeakKeyDictionary()
        self.unsubscribe: Callable[[], None] = events.subscribe(self._on_changes)

    def register(self, grid: LiveGrid) -> Callable[[], None]:
        """Start sending changes to ``grid``; returns the function that stops it."""
        with self._lock:
            self._grids.add(grid)

        def forget() -> None:
            with self._lock:
                self._grids.discard(grid)

        return forget

    def _on_changes(self, changes: list[Change]) -> None:
        with self._lock:
            grids = list(self._grids)
        for grid in grids:
            # a page may watch other tables than the grid's (the pipeline board: opportunities)
            watched = getattr(grid, "watched", WATCHED)
            relevant = [c for c in changes if c.entity in watched]
            if not relevant:
                continue
            document = grid.document
            if document is None:
                grid.on_remote_changes(relevant)  # no browser (tests, notebooks): run now
                continue
            with self._lock:
                waiting = self._waiting.get(grid)
                if waiting is not None:
                    waiting.extend(relevant)  # its callback is queued: it takes these too
                    continue
                self._waiting[grid] = list(relevant)
            try:
                document.add_next_tick_callback(partial(self._deliver, grid))
            except Exception:  # a document closing under us: it will unregister itself
                with self._lock:
                    self._waiting.pop(grid, None)
                log.debug("Grid document gone before its update", exc_info=True)

    def _deliver(self, grid: Any) -> None:
        """On the grid's document tick: everything that arrived for it since it was queued."""
        with self._lock:
            changes = self._waiting.pop(grid, [])
        if changes:
            grid.on_remote_changes(changes)
