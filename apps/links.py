"""Where the app's links point, and what the pages read back from their URL.

Every page that links to an investor's record or to a filtered grid builds the address here, so
moving the record to its own page (``/record?id=<id>``) changed :func:`record_url` and nothing
else. The grid reads what :func:`grid_url` writes with :func:`grid_link`: a list tab
(``?list=follow_up``) and a named view the library computes (``?preset=going_cold``, see
``crm_lib.services.summary.grid_preset``): the URL carries a name, never a filter, so a link
cannot smuggle a query in and a bookmarked "not contacted in 30 days" stays 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

#: The grid's list tabs a link may open (``archived`` included: the Archived tab).
GRID_LISTS = ("main", "follow_up", "graveyard", "longshot", "all", "archived")
#: No argument a page asks for is longer (a longer one is ignored, not echoed).
_MAX_ARG = 64


def record_url(investor_id: int) -> str:
    """The address of one investor's record: its page (apps/record), ``/record?id=12``."""
    return f"/record?{urlencode({'id': int(investor_id)})}"


def grid_url(
    *, list_key: str | None = None, preset: str | None = None, ask: int | None = None
) -> str:
    """The grid on a list tab and/or a preset view (``grid_url(list_key="follow_up")``), or
    showing the investors of an answer on the Ask page (``ask``: its log id)."""
    args: dict[str, Any] = {}
    if ask is not None:
        args["ask"] = int(ask)
    if list_key is not None:
        if list_key not in GRID_LISTS:
            raise ValueError(f"No grid list {list_key!r}; lists: {', '.join(GRID_LISTS)}")
        args["list"] = list_key
    if preset is not None:
        args["preset"] = preset
    return f"/grid?{urlencode(args)}" if args else "/grid"


def activity_url(*, investor_id: int | None = None) -> str:
    """The activity page, optionally filtered to one investor."""
    if investor_id is None:
        return "/activity"
    return f"/activity?{urlencode({'investor': int(investor_id)})}"


@dataclass(frozen=True)
class GridLink:
    """What a grid URL asks for: a list tab and a preset view (None: not asked)."""

    list_key: str | None = None
    preset: str | None = None
    ask: int | None = None  # the investors of an answer (ask_log id): a temporary view


def session_args() -> Mapping[str, list[bytes]]:
    """The query arguments of the page's URL (empty outside a served session)."""
    import panel as pn

    if pn.state.curdoc is None:
        return {}
    return pn.state.session_args or {}


def url_text(
    name: str, args: Mapping[str, list[bytes]] | None = None, *, limit: int = _MAX_ARG
) -> str | None:
    """One query argument as text (the first if repeated); None when absent, empty or longer
    than ``limit`` (default: too long to be anything a page asks for but a question)."""
    values = (session_args() if args is None else args).get(name) or []
    if not values:
        return None
    raw = values[0]
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    text = text.strip()
    return text if text and len(text) <= limit else None


def url_int(name: str, args: Mapping[str, list[bytes]] | None = None) -> int | None:
    """One query argument as a positive id (``?investor=12``), None if it is not one."""
    text = url_text(name, args)
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 15:
        return None
    return int(text) or None


def grid_link(args: Mapping[str, list[bytes]] | None = None) -> GridLink:
    """The list tab and preset of a grid URL; unknown lists are ignored (the grid opens as
    usual), preset names are checked by the library."""
    list_key = url_text("list", args)
    return GridLink(
        list_key=list_key if list_key in GRID_LISTS else None,
        preset=url_text("preset", args),
        ask=url_int("ask", args),
    )
