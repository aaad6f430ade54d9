"""Exports: the investor grid (a list or a view, filtered and sorted) as CSV or XLSX.

Both stream page by page through :func:`list_investors` (no whole-table load), write the grid's
column labels as the header, multi-select values as comma-separated text, and owners by name.
Text that a spreadsheet would run as a formula (starting with = + - @) is defused: CSV cells get a
leading quote, and XLSX cells are written as strings, never as formulas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

import xlsxwriter

from crm_lib.context import Context
from crm_lib.grid.fields import load_fields
from crm_lib.services.investors import MAX_PAGE_SIZE, list_investors

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_TYPES = frozenset({"number", "currency", "percent"})


def _csv_cell(value: Any) -> Any:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export_rows(
    ctx: Context,
    *,
    list_membership: str = "all",
    sort: Sequence[tuple[str, str]] = (("name", "asc"),),
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    filter_tree: Mapping[str, Any] | None = None,
    hidden_fields: Sequence[str] = (),
) -> Iterator[list[Any]]:
    """The header (``id`` and field labels), then one list of values per matching investor
    (a view's hidden fields left out, as on screen), a page at a time."""
    fields = [f for f in load_fields(ctx.db).values() if f.key not in hidden_fields]
    yield ["id", *(f.label for f in fields)]
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
            cells = [row["id"]]
            for spec in fields:
                value = row.get(spec.key)
                if spec.key == "owner_id":
                    value = row.get("owner_name")
                if isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                cells.append(value)
            yield cells
        if page * MAX_PAGE_SIZE >= result.total:
            return
        page += 1


def investors_csv(ctx: Context, **query: Any) -> Iterator[str]:
    """CSV text in chunks (a page of rows each); takes :func:`export_rows`'s arguments."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, cells in enumerate(export_rows(ctx, **query), start=1):
        writer.writerow([_csv_cell(c) for c in cells])
        if count % MAX_PAGE_SIZE == 1:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def investors_xlsx(ctx: Context, out: IO[bytes], **query: Any) -> int:
    """Write an .xlsx workbook of the rows to ``out`` (constant memory: rows are flushed as they
    are written); returns the number of investors. Takes :func:`export_rows`'s arguments."""
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "in_memory": False})
    sheet = workbook.add_worksheet("Investors")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    fields = [
        f for f in load_fields(ctx.db).values() if f.key not in query.get("hidden_fields", ())
    ]
    numeric = [False, *(f.type in NUMERIC_TYPES for f in fields)]
    count = -1
    for count, cells in enumerate(export_rows(ctx, **query)):
        for column, value in enumerate(cells):
            if value is None:
                continue
            if count == 0:
                sheet.write_string(count, column, str(value), bold)
            elif isinstance(value, bool):
                sheet.write_boolean(count, column, value)
            elif isinstance(value, int | float):
                sheet.write_number(count, column, value, money if numeric[column] else None)
            else:
                sheet.write_string(count, column, str(value))  # never a formula
    sheet.freeze_panes(1, 2)
    workbook.close()
    return max(count, 0)
