"""State of one grid session, and the conversions between service data and Tabulator's frame.

The store holds only what the page shows: the current view (saved or being built), one page of
rows, the totals, and the column definitions. Every read goes through ``services.grid_page`` (one
parameterised query for the page, no whole-table load), so a session costs the same at 100 rows
or 100,000.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
import param

from apps.formatting import money_formatter, people_names, person
from apps.grid.columns import (
    DATETIME_JS,
    KINDS,
    ColumnKind,
    column_kind,
    pills_formatter,
    to_date,
)
from apps.markup import list_params
from crm_lib import services
from crm_lib.context import Context
from crm_lib.grid.change_scope import view_columns
from crm_lib.services.grid import PEOPLE, fund_column, pipeline_fund
from crm_lib.services.pipeline_grid import expected_column, stage_column

PAGE_SIZES = (25, 50, 100, 200)
#: The leading column whose cell opens the record panel.
OPEN = "open"
OPEN_MARK = "⤢"
#: List tabs, in order: key -> label. "archived" shows archived rows of every list.
LISTS = {
    "main": "Main",
    "follow_up": "Follow-up",
    "graveyard": "Graveyard",
    "longshot": "Longshot",
    "all": "All",
    "archived": "Archived",
}
BOOKKEEPING = {
    "created_at": "Created",
    "created_by": "Created by",
    "updated_at": "Modified",
    "updated_by": "Modified by",
}
EMPTY_VIEW: dict[str, Any] = {
    "id": None,
    "name": "All investors",
    "list_membership": "all",
    "filters": {"op": "and", "conditions": []},
    "sorts": [],
    "hidden_fields": [],
    "frozen_fields": ["name"],
    "widths": {},
    "field_order": [],
    "group_by": None,
    "shared": True,
    "version": None,
}


@dataclass(frozen=True)
class Column:
    """One grid column: its key in the frame, its title, and how it edits. The title is the
    label as typed (plain text): :mod:`apps.markup` escapes it where it becomes HTML."""

    key: str
    title: str
    kind: ColumnKind
    field_key: str | None = None  # the grid field behind it (None: people, funds, bookkeeping)
    fund_id: int | None = None
    #: the fund of a pipeline column ("<fund> stage", "<fund> expected"; see
    #: crm_lib.services.pipeline_grid), edited one cell at a time
    pipeline_fund_id: int | None = None


#: The leading "open the record" column and the Name column: the one column every view shows.
OPEN_WIDTH = 44
NAME_WIDTH = 220


def column_widths(columns: list[Column], saved: dict[str, Any]) -> dict[str, int]:
    """Every column's width: the view's saved width, else its kind's starting width (Name wider).
    Tabulator then draws without measuring the page's cells first."""
    widths = {OPEN: OPEN_WIDTH, **{c.key: c.kind.width for c in columns}}
    if "name" in widths:
        widths["name"] = NAME_WIDTH
    return widths | {key: int(value) for key, value in saved.items()}


@dataclass(frozen=True)
class PageRequest:
    """A page to read: the view (with the list tab), page, header sorts and filters, search,
    and the keyset cursor to start from (``("after" | "before", cursor)``), if any."""

    view: dict[str, Any]
    page: int
    page_size: int
    sorts: list[dict[str, Any]] | None
    conditions: tuple[Any, ...]
    search: str | None
    archived: bool
    seek: tuple[str, str] | None


@dataclass(frozen=True)
class PageRead:
    """One page as read for a :class:`PageRequest` (the service's page: rows, the view's count,
    its summed total invested, the cursors of the pages next to it) and the list tabs' counts."""

    request: PageRequest
    result: services.GridPage
    counts: dict[str, int]


def read_page(ctx: Context, request: PageRequest) -> PageRead:
    """Read ``request``'s page; past the last page (rows went away), the last page. Touches no
    session state: safe on a read thread."""
    seek = request.seek
    page = request.page
    while True:
        result = services.grid_page(
            ctx,
            request.view,
            page=page,
            page_size=request.page_size,
            sorts=request.sorts,
            conditions=list(request.conditions),
            search=request.search,
            archived=request.archived,
            **({seek[0]: seek[1]} if seek else {}),
        )
        last = max(1, -(-result.total // request.page_size))
        if page <= last or seek:
            return PageRead(request, result, services.count_by_list(ctx))
        page = last


class GridStore(param.Parameterized):
    """One session's grid: the view being looked at, the page shown, and the columns."""

    view = param.Dict(default=copy.deepcopy(EMPTY_VIEW))
    list_key = param.String(default="main")
    page = param.Integer(default=1, bounds=(1, None))
    page_size = param.Integer(default=50)
    search = param.String(default="")
    header_conditions = param.List(default=[])
    header_sorts = param.List(default=None, allow_None=True)
    total = param.Integer(default=0)
    total_invested = param.Number(default=0.0)
    counts = param.Dict(default={})
    rows = param.List(default=[])

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.columns: list[Column] = []
        self.fields: dict[str, Any] = {}
        self.operators: dict[str, list[dict[str, str]]] = {}
        self.users: dict[int, str] = {}
        self.names: dict[str, str] = {}  # team members' emails -> names (apps.formatting.person)
        self.funds: list[dict[str, Any]] = []
        #: keyset cursors of the pages next to the one shown, and the one the next read starts
        #: from (``("after" | "before", cursor)``: ◀ and ▶ step from the rows on screen)
        self.cursors: dict[str, str | None] = {"after": None, "before": None}
        self.seek: tuple[str, str] | None = None
        self.first = 0  # the position of the page's first row in the view

    # -- loading ----------------------------------------------------------------------------
    def load_columns(self, ctx: Context) -> None:
        """Read fields, funds and team members; build the column list in the view's order."""
        info = services.grid_columns(ctx)
        self.fields = {spec.key: spec for spec in info.fields}
        self.operators = info.operators
        self.users = _unique_names(info.users)
        self.funds = info.funds
        columns = [
            Column(spec.key, spec.label, column_kind(spec, self.users), field_key=spec.key)
            for spec in info.fields
        ]
        # People show as pills; a click on them opens the record, where they are added and edited
        people_kind = ColumnKind(
            editor=None, formatter=pills_formatter({}), to_cell=list, width=240
        )
        columns.append(Column(PEOPLE, "People", people_kind))
        for fund in info.funds:
            # each fund's commitments in that fund's currency
            kind = replace(
                KINDS["currency"], formatter=money_formatter(fund.get("currency") or "USD")
            )
            columns.append(Column(fund_column(fund["id"]), fund["name"], kind, fund_id=fund["id"]))
            if pipeline_fund(fund):
                columns.extend(_pipeline_columns(fund, info.stages))
        self.names = names = people_names(info.users)  # actors are emails: people read names
        who = ColumnKind(editor=None, to_cell=lambda actor: person(actor, names), width=150)
        stamp = ColumnKind(editor=None, formatter=DATETIME_JS, width=170)
        columns.extend(
            Column(key, title, stamp if key.endswith("_at") else who)
            for key, title in BOOKKEEPING.items()
        )
        order = [k for k in self.view.get("field_order", []) if any(c.key == k for c in columns)]
        rank = {key: index for index, key in enumerate(order)}
        self.columns = sorted(columns, key=lambda c: rank.get(c.key, len(rank)))

    def load_page(self, ctx: Context) -> None:
        """Read the current page of the view (list tab, filters, search, header filters, sorts)."""
        self.show(read_page(ctx, self.page_request()))

    def page_request(self) -> PageRequest:
        """What the next read asks for: a snapshot, so it can be read on another thread while
        this session's store keeps changing."""
        view = {**self.view}
        archived = self.list_key == "archived"
        if not archived:
            view["list_membership"] = self.list_key
        return PageRequest(
            view=view,
            page=self.page,
            page_size=self.page_size,
            sorts=copy.deepcopy(self.header_sorts),
            conditions=tuple(self.header_conditions),
            search=self.search or None,
            archived=archived,
            seek=self.seek,
        )

    def show(self, read: PageRead) -> None:
        """Make ``read`` the page shown (its seek, if any, is used up)."""
        if read.request.seek == self.seek:
            self.seek = None
        result = read.result
        self.cursors = {"after": result.next_cursor, "before": result.previous_cursor}
        self.first = result.first
        self.param.update(
            page=result.page,
            rows=result.rows,
            total=result.total,
            total_invested=result.total_invested,
            counts=read.counts,
        )

    def refresh_rows(self, ctx: Context, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Re-read the rows ``ids`` of the page in place (others changed them, nothing that
        moves them: :func:`crm_lib.grid.change_scope.page_refresh`) and return them; a row
        gone since stays as it was until the page is next read."""
        rows = services.grid_rows(ctx, ids, archived=self.list_key == "archived")
        fresh = {row["id"]: row for row in rows}
        if fresh:
            self.rows = [fresh.get(row["id"], row) for row in self.rows]
        return rows

    def depends_on(self) -> frozenset[str] | None:
        """The stored columns this page's rows, order, count and totals depend on (None: any)."""
        return view_columns(
            self.fields,
            self.view,
            sorts=self.header_sorts,
            conditions=self.header_conditions,
            search=self.search,
        )

    # -- conversions -------------------------------------------------------------------------
    def frame(self, rows: Sequence[Mapping[str, Any]] | None = None) -> pd.DataFrame:
        """The page as Tabulator's value: ``id``, ``version`` and one column per grid column.
        ``object`` dtype except dates (Tabulator's date editor needs datetime64)."""
        rows = self.rows if rows is None else rows
        data: dict[str, Any] = {
            OPEN: _objects([OPEN_MARK] * len(rows)),
            "id": np.array([r["id"] for r in rows], dtype=np.int64),
            "version": np.array([r["version"] for r in rows], dtype=np.int64),
        }
        for column in self.columns:
            values = _objects([column.kind.to_cell(r.get(column.key)) for r in rows])
            if column.kind.to_cell is to_date:  # editable or not: Tabulator gets datetime64
                data[column.key] = pd.to_datetime(pd.Series(values, dtype=object))
            else:  # object: pandas would turn None into NaN in inferred text columns
                data[column.key] = values
        # arrays, not a Series per column: 56 Series cost 10 ms a page (measured, 100k)
        return pd.DataFrame(data, copy=False)

    def cells(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """One row as Tabulator cells (what :meth:`frame` holds), without building a frame:
        a saved edit is compared and patched cell by cell."""
        cells: dict[str, Any] = {OPEN: OPEN_MARK, "id": row["id"], "version": row["version"]}
        for column in self.columns:
            cells[column.key] = column.kind.to_cell(row.get(column.key))
        return cells

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def row(self, investor_id: int) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["id"] == investor_id), None)

    def conditions_from_header(self, filters: Sequence[Mapping[str, Any]]) -> list[tuple]:
        """Tabulator header filters as filter conditions (unknown columns are ignored)."""
        conditions = []
        for item in filters:
            key = item.get("field")
            value = item.get("value")
            if key not in self.fields or value in (None, "", []):
                continue
            column = self.column(key)
            operator = column.kind.filter_operator
            if operator is None:
                continue
            if operator == "has_any_of":
                values = value if isinstance(value, list) else [value]
                value = [column.kind.from_cell(v) for v in values]
                if self.fields[key].type == "user":
                    value = [v for v in value if v is not None]
                if not value:
                    continue
            conditions.append((key, operator, value))
        return conditions

    def sorts_from_header(
        self, sorters: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, str]] | None:
        """Tabulator's sorters (clicked headers) as sort keys; None means "the view's sorts"."""
        sorts = [
            {"field": s["field"], "direction": s.get("dir", "asc")}
            for s in sorters
            if s.get("field") in self.fields
        ]
        return sorts or None


def _unique_names(users: Sequence[Mapping[str, Any]]) -> dict[int, str]:
    """Owner choices by id; a name two members share is told apart by email."""
    names = [u.get("name") or u["email"] for u in users]
    return {
        u["id"]: f"{name} ({u['email']})" if names.count(name) > 1 else name
        for u, name in zip(users, names, strict=True)
    }


def _missing_cell(value: Any) -> bool:
    return value is None or (not isinstance(value, list | tuple | str) and bool(pd.isna(value)))


def _objects(values: list[Any]) -> np.ndarray:
    """``values`` as a 1-D object array (a list cell stays one cell, not a second axis)."""
    array = np.empty(len(values), dtype=object)
    for index, value in enumerate(values):
        array[index] = value
    return array


def same_cell(old: Any, new: Any) -> bool:
    """Would showing ``new`` change nothing? (NaN, NaT and None are all "blank".)"""
    if isinstance(old, list) or isinstance(new, list):
        return old == new
    if _missing_cell(old) or _missing_cell(new):
        return _missing_cell(old) and _missing_cell(new)
    return bool(old == new)


def _pipeline_columns(fund: Mapping[str, Any], stages: Sequence[Mapping[str, Any]]) -> list[Column]:
    """A fund's "stage" column (the flag: pick a stage to put the investor in the fund's
    pipeline, clear it to take the investor out) and its "expected" amount column."""
    names = [stage["name"] for stage in stages]
    stage_kind = ColumnKind(
        # list_params: the names travel as one JS literal and show as text (apps/markup.py)
        editor={"type": "list", **list_params(names), "clearable": True},
        formatter=pills_formatter({}),
        width=150,
    )
    money_kind = replace(
        KINDS["currency"],
        formatter=money_formatter(fund.get("currency") or "USD"),
        header_filter=None,
        filter_operator=None,
    )
    return [
        Column(
            stage_column(fund["id"]),
            f"{fund['name']} stage",
            stage_kind,
            pipeline_fund_id=fund["id"],
        ),
        Column(
            expected_column(fund["id"]),
            f"{fund['name']} expected",
            money_kind,
            pipeline_fund_id=fund["id"],
        ),
    ]
