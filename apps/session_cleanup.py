"""What a closed browser tab leaves behind in Panel, released when Bokeh destroys its session.

Why: Panel 1.9.4 keeps each session's toast area (``NotificationArea``, created for
``pn.extension(notifications=True)``) in its process-wide registry ``state._views`` after the
session is destroyed, and through it the session's Document. Measured by
``bench/bench_load.py`` (20 sessions reopening their grid now and then, 5 minutes): every other
registry emptied, ``state._views`` kept one NotificationArea per closed session (7 after
90 s) and the server grew about 9 MB a minute. Dropping the destroyed document's entries ends
that; a live session's entries are never touched.
"""

from __future__ import annotations

from typing import Any

import panel as pn


def install() -> None:
    """Release every closed session's leftovers (call once, before serving)."""
    pn.state.on_session_destroyed(forget_views)


def forget_views(session_context: Any) -> None:
    """Drop the registry entries of the destroyed session's document."""
    document = getattr(session_context, "_document", None)
    if document is None:
        return
    views = pn.state._views
    for ref, (_viewable, _root, view_document, _comm) in list(views.items()):
        if view_document is document:
            views.pop(ref, None)
