"""Which committed changes can alter an open page of a view, and how little re-reading shows them.

An open grid hears of every committed change (``apps/grid/live.py``). Re-reading its page for
each one costs a page query, the view's count and its totals: with 20 grids open and 50 API
writes a second, that was a thousand page reads a second and the server fell behind for good
(``bench/bench_load.py``). Most changes cannot move a page: an investor's Notes changing does
not add a row to a view filtered on Status, reorder one sorted by owner, or change its totals.
Such a change only matters if the investor is on the page, and then only that row needs reading.

A view's rows, order, count and totals depend on a known set of stored columns: those its filter
tree, header conditions, search, sorts and grouping name, its list, and the summed and averaged
fields of its footer. Formula fields are stored columns recomputed in the writing transaction,
so a formula's change is named in the change itself; no dependency walk is needed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_lib.errors import CRMError
from crm_lib.events import Change
from crm_lib.grid.column_values import AVERAGED_TYPES, SUMMED_TYPES
from crm_lib.grid.fields import FieldSpec, resolve_field

INVESTORS = "fundraising_investors"
#: Footer figures: summed and averaged field types (crm_lib.grid.column_values).
TOTALLED_TYPES = SUMMED_TYPES | AVERAGED_TYPES
#: Columns every update writes: a view that sorts or filters on them moves with every change.
BOOKKEEPING = frozenset({"updated_at", "updated_by", "version"})
#: What the grid's search box matches, name first (crm_lib.services.investors._InvestorQuery).
SEARCH_COLUMNS = ("name", "location", "notes")
SEARCHED = frozenset(SEARCH_COLUMNS)
#: Always part of a page's shape: which list a row is in, and the rollup behind the summary.
ALWAYS = frozenset({"list_membership", "deleted_at", "total_invested"})


@dataclass(frozen=True)
class PageRefresh:
    """What a page must do about some changes: re-read itself (``reload``), or re-read just
    the rows ``rows`` (ids shown on it), or nothing (both empty)."""

    reload: bool = False
    rows: frozenset[int] = field(default_factory=frozenset)

    @property
    def nothing(self) -> bool:
        return not self.reload and not self.rows


def view_columns(
    fields: Mapping[str, FieldSpec],
    view: Mapping[str, Any],
    *,
    sorts: Sequence[Mapping[str, Any]] | None = None,
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    totals: bool = True,
) -> frozenset[str] | None:
    """The stored columns a view's rows, order, count and (with ``totals``) footer sums depend
    on; None when that cannot be told (a field name that no longer resolves, a view on
    bookkeeping columns): then every change counts."""
    names: list[str] = [name for name, _op, _value in conditions]
    names += _tree_fields(view.get("filters"))
    order = sorts if sorts is not None else view.get("sorts") or []
    names += [str(s.get("field", "")) for s in order]
    if view.get("group_by"):
        names.append(str(view["group_by"]))
    columns = set(ALWAYS)
    for name in names:
        if name in BOOKKEEPING:
            return None
        try:
            columns.add(resolve_field(fields, name).key)
        except CRMError:
            return None
    columns.add("name")  # the tiebreak of every order
    if search and search.strip():
        columns |= SEARCHED
    if totals:
        columns |= {key for key, spec in fields.items() if spec.type in TOTALLED_TYPES}
    if columns & BOOKKEEPING:
        return None
    return frozenset(columns)


def page_refresh(
    changes: Iterable[Change], shown: Iterable[int], columns: frozenset[str] | None
) -> PageRefresh:
    """How a page showing investors ``shown`` (ids), whose view depends on ``columns`` (see
    :func:`view_columns`), catches up with ``changes`` (investor changes; the caller handles
    other tables)."""
    on_page = set(shown)
    rows: set[int] = set()
    for change in changes:
        if change.entity != INVESTORS or change.action != "update" or columns is None:
            return PageRefresh(reload=True)
        if set(change.fields) & columns or not change.fields:
            return PageRefresh(reload=True)
        last = change.last_entity_id
        if last is None:
            if change.entity_id in on_page:
                rows.add(change.entity_id)
        else:
            rows |= {i for i in on_page if change.entity_id <= i <= last}
    return PageRefresh(rows=frozenset(rows))


def _tree_fields(node: Any) -> list[str]:
    """Every field named in a filter tree (a malformed tree names none: the page's own read
    reports it)."""
    if not isinstance(node, Mapping):
        return []
    if "conditions" in node:
        children = node["conditions"]
        if not isinstance(children, list):
            return []
        return [name for child in children for name in _tree_fields(child)]
    return [str(node["field"])] if "field" in node else []
