"""Ending open pages when their session ends (logout in another tab, deactivation, password reset).

Panel keeps a page's websocket open after its cookie stops being valid, so without this an open
grid could keep saving edits. Each page registers its document under its session id; when the
write path publishes that the session row was archived, every document of that session is told to
reload (the reload finds no valid session and lands on the login page), and 1.5 s later its
websockets are closed in case the browser did not obey. Writes re-check the session anyway
(:meth:`apps.runtime.Runtime.user_context`), so the gap cannot be used to write.
"""

from __future__ import annotations

import logging
import threading
import weakref
from functools import partial
from typing import Any

import panel as pn
from bokeh.document import Document
from tornado.ioloop import IOLoop

from crm_lib.events import Change, EventBus

log = logging.getLogger(__name__)
CLOSE_AFTER_SECONDS = 1.5
CLOSE_CODE = 4001


class OpenPages:
    """Per-process registry: session id -> the documents (pages) it has open."""

    def __init__(self, events: EventBus) -> None:
        self._docs: dict[int, weakref.WeakKeyDictionary[Document, Any]] = {}
        self._lock = threading.Lock()
        events.subscribe(self._on_changes)

    def register(self, session_id: int) -> None:
        """Call from inside a page: remember the current document under ``session_id``."""
        doc = pn.state.curdoc
        location = pn.state.location
        with self._lock:
            self._docs.setdefault(session_id, weakref.WeakKeyDictionary())[doc] = location

        def forget(_context: object) -> None:
            with self._lock:
                docs = self._docs.get(session_id)
                if docs is not None:
                    docs.pop(doc, None)
                    if not docs:
                        self._docs.pop(session_id, None)

        pn.state.on_session_destroyed(forget)

    def count(self, session_id: int) -> int:
        with self._lock:
            return len(self._docs.get(session_id, ()))

    def end(self, session_id: int) -> int:
        """Send every page of ``session_id`` back to the login page; returns how many."""
        with self._lock:
            docs = list(self._docs.pop(session_id, {}).items())
        for doc, location in docs:
            try:
                doc.add_next_tick_callback(partial(_reload_then_close, doc, location))
            except Exception:  # the session was destroyed meanwhile: nothing left to end
                log.debug("page of session %s already gone", session_id)
        return len(docs)

    def _on_changes(self, changes: list[Change]) -> None:
        for change in changes:
            if change.entity == "sessions" and change.action == "archive":
                self.end(change.entity_id)


def _reload_then_close(doc: Document, location: Any) -> None:
    if location is not None:
        location.reload = True
    IOLoop.current().call_later(CLOSE_AFTER_SECONDS, _close_sockets, doc)


def _close_sockets(doc: Document) -> None:
    # Bokeh has no public "disconnect this session"; these attributes are stable since 2.x.
    session = doc.session_context.session if doc.session_context else None
    if session is None or session.destroyed:
        return
    for connection in list(session._subscribed_connections):
        connection._socket.close(CLOSE_CODE, "session ended")
