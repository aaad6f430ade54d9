"""Pages that follow other sessions' changes by redrawing (the pipeline board, the tasks page):
registered with the process's live hub (:class:`apps.grid.live.GridHub`), each burst of
committed changes to the tables a page watches redraws it once, a moment later."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from apps.grid.live import GridHub
from crm_lib.events import Change

#: Changes arriving within this many milliseconds redraw once.
REDRAW_DELAY_MS = 150


class LiveRedraw:
    """Redraws ``refresh`` once per burst of watched changes; ``document`` is the page's
    served document (None without a browser: tests and notebooks redraw at once)."""

    def __init__(self, document: Any, refresh: Callable[[], None]) -> None:
        self.document = document
        self._refresh = refresh
        self._pending = False

    def follow(self, hub: GridHub | None, page: Any) -> None:
        """Register ``page`` (its ``watched`` tables and ``on_remote_changes``) with the hub
        until its session ends."""
        if hub is None:
            return
        forget = hub.register(page)
        if self.document is not None:
            pn.state.on_session_destroyed(lambda _ctx: forget())

    def changed(self, _changes: list[Change]) -> None:
        if self.document is None:
            self._refresh()
            return
        if self._pending:
            return
        self._pending = True

        def redraw() -> None:
            self._pending = False
            self._refresh()

        self.document.add_timeout_callback(redraw, REDRAW_DELAY_MS)
