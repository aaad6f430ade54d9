"""Exports: the investor grid as CSV (a list, filtered and sorted like the API's list).

Streams page by page through :func:`list_investors` (no whole-table load), writes the grid's
column labels as the header, multi-select values as comma-separated text, and owners by name.
Cells that a spreadsheet would run as a formula (starting with = + - @) are prefixed with a quote,
so an exported CSV cannot carry a formula-injection payload into Excel.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from crm_lib.context import Context
from crm_lib.grid.fields import load_fields
from crm_lib.services.investors import MAX_PAGE_SIZE, list_investors

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def investors_csv(
    ctx: Context,
    *,
    list_membership: str = "all",
    sort: Sequence[tuple[str, str]] = (("name", "asc"),),
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    filter_tree: Mapping[str, Any] | None = None,
    hidden_fields: Sequence[str] = (),
) -> Iterator[str]:
    """CSV text in chunks: a header of field labels, then one row per matching investor
    (a view's hidden fields are left out, as on screen)."""
    fields = [f for f in load_fields(ctx.db).values() if f.key not in hidden_fields]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", *(f.label for f in fields)])
    page = 1
    while True:
        result = list_investors(
            ctx,
            list_membership=list_membership,
            sort=sort,
            page=page,
            page_size=MAX_PAGE_SIZE,
            conditions=conditions,
            search=search,
            filter_tree=filter_tree,
        )
        for row in result.rows:
            cells = []
            for field in fields:
                value = row.get(field.key)
                if field.key == "owner_id":
                    value = row.get("owner_name")
                cells.append(_cell(value))
            writer.writerow([row["id"], *cells])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page * MAX_PAGE_SIZE >= result.total:
            return
        page += 1
