"""Where a person is in the grid, as URL query parameters: the view, the list tab, the search,
the header sorts and filters, and the row's position.

The record page (``/record?id=12&view=3&list=main&pos=40``) is opened from the grid with it, so
it can step to the previous and next record of exactly the rows the grid showed, and hand the
place back on Esc (``/grid?view=3&list=main&pos=40``) so the grid can come back as it was. A
Panel session ends when its page is left: the URL is the one thing that survives the trip.

Every parameter is untrusted input: each is parsed here into plain values (digits, a known list
key, bounded text) and anything malformed is dropped, never fatal; field names and operators in
sorts and filters are checked by the services like any other query.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from apps.grid.store import EMPTY_VIEW, LISTS, GridStore
from apps.links import session_args
from apps.markup import escape_text
from crm_lib import limits

if TYPE_CHECKING:
    from apps.grid.host import GridHost

#: Longest header-filter parameter accepted (JSON); a grid's filters are far smaller.
MAX_FILTER_CHARS = 4000
#: Longest number accepted as an id or position (digits).
MAX_DIGITS = 15


@dataclass(frozen=True)
class GridPlace:
    """A place in the grid: what :class:`~apps.grid.store.GridStore` would need to show the same
    rows in the same order, plus the position of one row among them (0-based, over all pages)."""

    view_id: int | None = None
    list_key: str | None = None
    search: str = ""
    sorts: tuple[tuple[str, str], ...] = ()
    conditions: tuple[tuple[str, str, Any], ...] = ()
    position: int | None = None
    #: Parameters that were given but could not be read (shown, so nothing is silently ignored)
    dropped: tuple[str, ...] = field(default=(), compare=False)

    # -- from and to URLs ----------------------------------------------------------------------
    @classmethod
    def from_args(cls, args: Mapping[str, Sequence[bytes | str]] | None) -> GridPlace:
        """The place in a request's query arguments (``pn.state.session_args``)."""
        args = args or {}
        dropped: list[str] = []

        def first(name: str) -> str | None:
            values = args.get(name) or []
            if not values:
                return None
            raw = values[0]
            return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)

        def number(name: str) -> int | None:
            raw = first(name)
            if raw is None or raw == "":
                return None
            if raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS:
                return int(raw)
            dropped.append(name)
            return None

        list_key = first("list")
        if list_key is not None and list_key not in LISTS:
            dropped.append("list")
            list_key = None
        search = (first("q") or "").strip()
        if len(search) > limits.max_length("search"):
            dropped.append("q")
            search = ""
        sorts = _parse_sorts(first("sort"))
        if sorts is None:
            dropped.append("sort")
            sorts = ()
        conditions = _parse_conditions(first("f"))
        if conditions is None:
            dropped.append("f")
            conditions = ()
        return cls(
            view_id=number("view") or None,
            list_key=list_key,
            search=search,
            sorts=sorts,
            conditions=conditions,
            position=number("pos"),
            dropped=tuple(dropped),
        )

    @classmethod
    def from_store(cls, store: GridStore, investor_id: int | None = None) -> GridPlace:
        """The place the grid shows now; ``investor_id``'s position if it is on the page."""
        position = None
        if investor_id is not None:
            ids = [row["id"] for row in store.rows]
            if investor_id in ids:
                position = store.first + ids.index(investor_id)
        return cls(
            view_id=store.view.get("id") or None,
            list_key=store.list_key,
            search=store.search,
            sorts=tuple((s["field"], s.get("direction", "asc")) for s in store.header_sorts or []),
            conditions=tuple(tuple(c) for c in store.header_conditions),  # type: ignore[misc]
            position=position,
        )

    def query(self) -> dict[str, str]:
        """The place as query parameters (only those that say something)."""
        params: dict[str, str] = {}
        if self.view_id is not None:
            params["view"] = str(self.view_id)
        if self.list_key is not None:
            params["list"] = self.list_key
        if self.search:
            params["q"] = self.search
        if self.sorts:
            params["sort"] = ",".join(f"{key}:{direction}" for key, direction in self.sorts)
        if self.conditions:
            params["f"] = json.dumps([list(c) for c in self.conditions], separators=(",", ":"))
        if self.position is not None:
            params["pos"] = str(self.position)
        return params

    def at(self, position: int | None) -> GridPlace:
        """The same place, at another row."""
        return GridPlace(
            self.view_id, self.list_key, self.search, self.sorts, self.conditions, position
        )

    def record_url(self, investor_id: int) -> str:
        """The record page of ``investor_id``, opened from this place."""
        return "/record?" + urlencode({"id": str(investor_id), **self.query()})

    def grid_url(self) -> str:
        """The grid at this place (what Esc on a record page goes back to)."""
        params = self.query()
        return "/grid?" + urlencode(params) if params else "/grid"

    # -- what the place shows --------------------------------------------------------------------
    @property
    def archived(self) -> bool:
        return self.list_key == "archived"

    def view_spec(self, saved: Mapping[str, Any] | None) -> dict[str, Any]:
        """The view as the grid reads its page (see ``GridStore.load_page``): the saved view (or
        all investors), its list replaced by the list tab unless that is "Archived"."""
        view = {**EMPTY_VIEW, **(saved or {})}
        if self.list_key is not None and not self.archived:
            view["list_membership"] = self.list_key
        return view

    def header_sorts(self) -> list[dict[str, str]] | None:
        """The clicked header sorts as the services take them (None: the view's own)."""
        return [{"field": k, "direction": d} for k, d in self.sorts] or None

    def page(self, page_size: int) -> int:
        """The grid page (1-based) holding the place's row."""
        return 1 if self.position is None else self.position // max(1, page_size) + 1


def _parse_sorts(raw: str | None) -> tuple[tuple[str, str], ...] | None:
    """``"status:desc,name:asc"`` as pairs; None when malformed."""
    if not raw:
        return ()
    pairs = []
    for item in raw.split(",")[:10]:
        key, _, direction = item.partition(":")
        direction = direction or "asc"
        if not key or direction not in ("asc", "desc") or len(key) > 200:
            return None
        pairs.append((key, direction))
    return tuple(pairs)


def _parse_conditions(raw: str | None) -> tuple[tuple[str, str, Any], ...] | None:
    """A JSON list of ``[field, operator, value]``; None when malformed (the services check
    that each field and operator exists and each value fits)."""
    if not raw:
        return ()
    if len(raw) > MAX_FILTER_CHARS:
        return None
    try:
        items = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    if not isinstance(items, list) or len(items) > 50:
        return None
    conditions = []
    for item in items:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and isinstance(item[0], str)
            and isinstance(item[1], str)
        ):
            return None
        conditions.append((item[0], item[1], item[2]))
    return tuple(conditions)


def open_record_html(store: GridStore, investor_id: int) -> str:
    """The record panel's "Open record" link: the record page, opened from where the grid is
    (so previous / next walk the same rows and Esc comes back here)."""
    url = GridPlace.from_store(store, investor_id).record_url(investor_id)
    return (
        f"<a href='{escape_text(url)}' class='crm-open-record-link'"
        " title='The record on a page of its own (Esc comes back here)'>Open record</a>"
    )


# -- back in the grid ---------------------------------------------------------------------------
def starting_view(
    views: Sequence[Mapping[str, Any]], view: dict[str, Any], list_key: str
) -> tuple[dict[str, Any], str]:
    """The grid's first view and list tab, given the page's URL: the saved view a place names
    (if this user still sees it) and its list tab, else ``view`` and ``list_key`` unchanged."""
    place = GridPlace.from_args(session_args())
    saved = next((v for v in views if v["id"] == place.view_id), None)
    if saved is not None:
        view = {**EMPTY_VIEW, **saved}
        list_key = view["list_membership"] if view["list_membership"] in LISTS else "all"
    return view, place.list_key or list_key


def return_to_place(page: GridHost) -> None:
    """Put a started grid back where the URL's place says (the record page's Esc): its search,
    its clicked sorts (shown in the header, as clicked) and the page holding the record's row.
    Each goes through the grid's own handler, as a person's typing and clicking would. Header
    filters are not put back (the header cannot show them); with any, the position means
    nothing in the unfiltered rows, so the grid stays on its first page."""
    place = GridPlace.from_args(session_args())
    if place.search and page.search_box.value != place.search:
        page.search_box.value = place.search
    if place.sorts:
        page.table.sorters = [{"field": key, "dir": direction} for key, direction in place.sorts]
    if place.position is not None and not place.conditions:
        target = place.page(page.store.page_size)
        if target != page.store.page:
            page.go_to_page(target)
