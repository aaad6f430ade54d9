"""A destroyed session's leftovers in Panel's view registry are released (apps/session_cleanup)."""

from __future__ import annotations

from types import SimpleNamespace

import panel as pn
from bokeh.document import Document
from panel.io.notifications import NotificationArea

from apps.session_cleanup import forget_views


def test_a_destroyed_sessions_toast_area_is_dropped_and_a_live_ones_kept() -> None:
    closed, live = Document(), Document()
    areas = [NotificationArea(), NotificationArea()]
    closed_root = areas[0].get_root(closed)
    live_root = areas[1].get_root(live)
    views = pn.state._views
    assert views[closed_root.ref["id"]][2] is closed  # what Panel 1.9.4 leaves behind
    try:
        forget_views(
            SimpleNamespace(_document=closed)
        )  # Bokeh's session context, as Panel reads it
        assert closed_root.ref["id"] not in views
        assert views[live_root.ref["id"]][2] is live
        forget_views(SimpleNamespace(_document=None))  # a session that never had a document
    finally:
        views.pop(closed_root.ref["id"], None)
        views.pop(live_root.ref["id"], None)
