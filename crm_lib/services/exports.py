"""Exports: what the investor grid shows (a list or a view, filtered and sorted) as CSV, JSON or
XLSX, with the same columns in the same order in all three.

Columns (:func:`export_columns`): ``id``, then the grid's fields in the view's column order (its
hidden fields left out; Name is never hidden, as on screen) including user-defined fields, formula
fields and Total invested, then **People** and one **"<fund> Commitment"** column per live fund.
The grid's bookkeeping columns (Created, Modified, by whom) are not exported: the import would
take them for new fields. The three formats differ only in how a cell is written:

- **CSV** (UTF-8, header row) is made to go back in through our own import
  (:mod:`crm_lib.importers.airtable`): exporting, then importing the file into the same database
  reports zero changes. So every cell is written in a form the importer reads back exactly:
  numbers as plain digits (``1500000``, ``0.125``: a percent is its fraction, never ``1e-05``),
  dates and times as ISO-8601 (UTC), checkboxes ``true``/``false``, multi-selects and people as
  comma-separated lists (``AI, "Health, Bio"``; ``Jane Doe <jane@lp.com>, "Roe, Bob"``: an item
  with a comma or quote is quoted), owners by name (by email when two members share one), and a
  commitment column headed ``Fund I Commitment``, which the import maps back to that fund. Total
  invested and formula fields are calculated, and the import says so and leaves them alone.
- **JSON** is one array of objects, one per investor, keyed by the same headers as the CSV (an
  analyst's ``pandas.read_json`` or ``jq '.[]'`` sees the same table): values keep their types
  (numbers, ``true``/``false``, ``null`` for an empty cell, lists for multi-selects), and People
  is a list of ``{"name", "email", "title", "phone", "is_primary"}`` objects.
- **XLSX** cells are typed: dates are Excel dates and date-times Excel date-times (UTC) with a
  date format, amounts numbers with a currency format, percents numbers with a percent format,
  checkboxes booleans, multi-selects and people text.

People are listed primary contact first, then in the order they were added: an order the import
keeps (it adds a cell's people in order), so a file imported into a new database exports again
the same. Text a spreadsheet would run as a formula (starting with ``=`` ``+`` ``-`` ``@``, a tab
or CR) is defused: CSV cells get a leading ``'`` (which the import takes off again), XLSX cells
are always written as strings, never as formulas; numbers are not text and keep their ``-``.

All three stream page by page through :func:`list_investors` (no whole-table load): CSV and JSON
as text chunks, XLSX into a workbook that flushes each row as it is written.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.fields import FieldSpec, load_fields
from crm_lib.services.funds import fund_columns
from crm_lib.services.investors import MAX_PAGE_SIZE, list_investors
from crm_lib.services.users import list_users
from crm_lib.storage.reads import LIVE, query_dicts

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Grid column key of the people column, and the prefix of a fund's commitment column.
PEOPLE = "people"
FUND_PREFIX = "fund:"
#: The header of a fund's column: what the import maps back to a commitment to that fund.
COMMITMENT_HEADER = "{fund} Commitment"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF "}
#: A formula field's result type → the kind of cell it is exported as.
FORMULA_KINDS = {"number": "number", "boolean": "checkbox", "date": "date", "datetime": "datetime"}
#: A field type → the kind of cell it is exported as (anything else is text).
FIELD_KINDS = {
    "number": "number",
    "currency": "currency",
    "percent": "percent",
    "date": "date",
    "datetime": "datetime",
    "checkbox": "checkbox",
    "multi_select": "list",
    "user": "user",
}


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its key in the grid (``id``, a field key, ``people`` or
    ``fund:<id>``), its header, the kind of cell it holds, and its currency (amounts only)."""

    key: str
    header: str
    kind: str
    currency: str | None = None


# -- columns ----------------------------------------------------------------------------------------
def _field_kind(spec: FieldSpec) -> str:
    if spec.formula is not None:
        return FORMULA_KINDS.get(str(spec.options.get("result_type")), "text")
    return FIELD_KINDS.get(spec.type, "text")


def export_columns(
    ctx: Context, *, hidden_fields: Sequence[str] = (), field_order: Sequence[str] = ()
) -> list[ExportColumn]:
    """The columns the grid shows for a view, in its order: ``id``, the fields (``field_order``
    first, as the grid sorts them; ``hidden_fields`` left out, except Name), People, and a
    commitment column per live fund. Keys in ``field_order`` may also be ``people`` or
    ``fund:<id>``, as the grid's own column keys are."""
    hidden = set(hidden_fields) - {"name"}
    columns = [
        ExportColumn(
            spec.key,
            spec.label,
            _field_kind(spec),
            str(spec.options.get("currency") or "USD") if spec.type == "currency" else None,
        )
        for spec in load_fields(ctx.db).values()
        if spec.key not in hidden
    ]
    if PEOPLE not in hidden:
        columns.append(ExportColumn(PEOPLE, "People", "people"))
    columns += [
        ExportColumn(
            f"{FUND_PREFIX}{fund['id']}",
            COMMITMENT_HEADER.format(fund=fund["name"]),
            "currency",
            fund["currency"] or "USD",
        )
        for fund in fund_columns(ctx)
        if f"{FUND_PREFIX}{fund['id']}" not in hidden
    ]
    rank = {key: position for position, key in enumerate(dict.fromkeys(field_order))}
    columns.sort(key=lambda c: rank.get(c.key, len(rank)))  # stable: the rest keep grid order
    return [ExportColumn("id", "id", "id"), *columns]


def export_query(
    view: Mapping[str, Any] | None = None,
    *,
    list_membership: str | None = None,
    sort: Sequence[tuple[str, str]] | None = None,
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
) -> dict[str, Any]:
    """The arguments of :func:`write_export` (and of each format's function) for a saved
    ``view`` (:func:`~crm_lib.services.views.get_view`) and what the caller adds: the view's list
    and sorts unless given, its filter tree AND ``conditions``, its hidden fields and column
    order. The REST API and the CLI both go through this, so a view exports the same whoever
    asks."""
    view = view or {}
    sorts = sort or [(s["field"], s.get("direction", "asc")) for s in view.get("sorts", [])]
    return {
        "list_membership": list_membership or view.get("list_membership") or "all",
        "sort": sorts or [("name", "asc")],
        "conditions": list(conditions),
        "search": search,
        "filter_tree": view.get("filters"),
        "hidden_fields": view.get("hidden_fields", ()),
        "field_order": view.get("field_order", ()),
    }


# -- rows -------------------------------------------------------------------------------------------
def _owner_names(ctx: Context) -> dict[int, str]:
    """Owner cells: a member's name, or their email when the name is blank or shared (the import
    looks members up by name or email, and a shared name would pick the wrong one)."""
    users = list_users(ctx)
    counts: dict[str, int] = {}
    for user in users:
        key = " ".join((user["name"] or "").casefold().split())
        counts[key] = counts.get(key, 0) + 1
    names = {}
    for user in users:
        key = " ".join((user["name"] or "").casefold().split())
        names[user["id"]] = user["name"].strip() if key and counts[key] == 1 else user["email"]
    return names


def _related(
    ctx: Context, ids: Sequence[int]
) -> tuple[dict[int, list[dict[str, Any]]], dict[int, dict[str, float]]]:
    """People (primary first, then as added) and commitment amounts by fund, of one page."""
    people: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    amounts: dict[int, dict[str, float]] = {i: {} for i in ids}
    if not ids:
        return people, amounts
    marks = ", ".join("?" for _ in ids)
    for person in query_dicts(
        ctx.db,
        "SELECT investor_id, full_name, email, title, phone, is_primary"
        f" FROM fundraising_contacts WHERE investor_id IN ({marks}) AND {LIVE}"
        " ORDER BY investor_id, is_primary DESC, id",
        ids,
    ):
        people[person["investor_id"]].append(
            {
                "name": person["full_name"],
                "email": person["email"],
                "title": person["title"],
                "phone": person["phone"],
                "is_primary": bool(person["is_primary"]),
            }
        )
    for commitment in query_dicts(
        ctx.db,
        "SELECT investor_id, fund_id, amount FROM fundraising_commitments"
        f" WHERE investor_id IN ({marks}) AND {LIVE}",
        ids,
    ):
        amounts[commitment["investor_id"]][f"{FUND_PREFIX}{commitment['fund_id']}"] = commitment[
            "amount"
        ]
    return people, amounts


Getter = Callable[[Mapping[str, Any], list[dict[str, Any]], Mapping[str, float]], Any]


def _getter(column: ExportColumn, owners: Mapping[int, str]) -> Getter:
    """How a column's value is found: in the investor row, its people, or its commitments
    (chosen once per column, not once per cell: an export reads 100,000 rows)."""
    if column.kind == "people":
        return lambda row, people, amounts: people
    if column.key.startswith(FUND_PREFIX):
        return lambda row, people, amounts: amounts.get(column.key)
    key = column.key
    if column.kind == "user":

        def member(row: Mapping[str, Any], people: Any, amounts: Any) -> Any:
            user_id = row.get(key)
            if user_id is None:
                return None
            fallback = row.get("owner_name") if key == "owner_id" else None
            return owners.get(user_id) or fallback or str(user_id)

        return member
    return lambda row, people, amounts: row.get(key)


def export_rows(
    ctx: Context,
    columns: Sequence[ExportColumn],
    *,
    list_membership: str = "all",
    sort: Sequence[tuple[str, str]] = (("name", "asc"),),
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    filter_tree: Mapping[str, Any] | None = None,
    hidden_fields: Sequence[str] = (),
    field_order: Sequence[str] = (),
) -> Iterator[list[Any]]:
    """One list of Python values per matching investor, in ``columns`` order, a page at a time:
    people as lists of dicts, multi-selects as lists, team members by name, commitments as
    amounts. (``hidden_fields`` and ``field_order`` shape the columns: accepted and ignored here,
    so one query dict serves both.)"""
    owners = _owner_names(ctx)
    getters = [_getter(column, owners) for column in columns]
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
        people, amounts = _related(ctx, [row["id"] for row in result.rows])
        for row in result.rows:
            mine, committed = people[row["id"]], amounts[row["id"]]
            yield [get(row, mine, committed) for get in getters]
        if page * MAX_PAGE_SIZE >= result.total:
            return
        page += 1


def _columns_for(ctx: Context, query: Mapping[str, Any]) -> list[ExportColumn]:
    return export_columns(
        ctx,
        hidden_fields=query.get("hidden_fields") or (),
        field_order=query.get("field_order") or (),
    )


# -- cell text (CSV) --------------------------------------------------------------------------------
def number_text(value: int | float) -> str:
    """A number as the import reads it back exactly: whole numbers without ``.0``, others as
    their shortest exact form, never in exponent notation (``1e-05`` is not a number to it)."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = repr(value)
    return format(Decimal(text), "f") if "e" in text or "E" in text else text


def _quoted_item(text: str) -> str:
    """A list item as the import splits lists: quoted (CSV-style) if it holds a comma or quote."""
    if "," in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def choices_text(items: Sequence[Any]) -> str:
    """A multi-select as text: ``AI, Seed``; ``AI, "Health, Bio"`` when an option has a comma."""
    return ", ".join(_quoted_item(str(item)) for item in items)


#: Characters that make a name unsafe unquoted in a ``Name <address>`` list.
_NAME_SPECIALS = re.compile(r'[,;:<>"@()\[\]\\]')


def person_text(person: Mapping[str, Any]) -> str:
    """``Jane Doe <jane@lp.com>``, or the bare name when there is no email; a name holding a
    comma, quote, bracket or @ is quoted (``"Roe, Bob" <bob@x.com>``), as in an email header."""
    name = person.get("name") or ""
    if _NAME_SPECIALS.search(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    email = person.get("email")
    return f"{name} <{email}>" if email else name


def people_text(people: Sequence[Mapping[str, Any]]) -> str:
    """A people cell: ``Jane Doe <jane@lp.com>, Bob Roe <bob@lp.com>`` (what the import reads)."""
    return ", ".join(person_text(p) for p in people)


def csv_cell(value: Any) -> str:
    """One CSV cell: blank for None, ``true``/``false``, a number as :func:`number_text` writes
    it (so ``-5`` stays a number), and text defused with a leading ``'`` when a spreadsheet
    would run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_text(value: Any) -> str:
    if type(value) is str:  # the common case, without csv_cell's checks
        return "'" + value if value.startswith(FORMULA_START) else value
    return csv_cell(value)


def _csv_flag(value: Any) -> str:
    return csv_cell(bool(value) if value in (0, 1) else value)


def _csv_choices(value: Any) -> str:
    return csv_cell(choices_text(value) if isinstance(value, list) else value)


def _csv_people(value: Any) -> str:
    return csv_cell(people_text(value)) if value else ""


#: Kind of column → its value as CSV cell text (every kind not listed: :func:`csv_cell`).
CSV_CELLS: dict[str, Callable[[Any], str]] = {
    "text": _csv_text,
    "user": _csv_text,
    "date": _csv_text,
    "datetime": _csv_text,
    "checkbox": _csv_flag,
    "list": _csv_choices,
    "people": _csv_people,
}


def _csv_chunks(columns: Sequence[ExportColumn], rows: Iterator[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(c.header) for c in columns])
    cells = [CSV_CELLS.get(c.kind, csv_cell) for c in columns]
    for count, values in enumerate(rows, start=1):
        writer.writerow([cell(v) for cell, v in zip(cells, values, strict=True)])
        if count % MAX_PAGE_SIZE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def investors_csv(ctx: Context, **query: Any) -> Iterator[str]:
    """CSV text in chunks (a page of rows each): the header, then a row per investor. Takes
    :func:`export_rows`'s arguments (see :func:`export_query`)."""
    columns = _columns_for(ctx, query)
    return _csv_chunks(columns, export_rows(ctx, columns, **query))


# -- JSON -------------------------------------------------------------------------------------------
def _json_value(column: ExportColumn, value: Any) -> Any:
    if column.kind == "people":
        return list(value or [])
    if column.kind == "list" and value is None:
        return []
    if column.kind == "checkbox" and value in (0, 1):
        return bool(value)
    return value


def _json_chunks(columns: Sequence[ExportColumn], rows: Iterator[list[Any]]) -> Iterator[str]:
    chunk: list[str] = []
    count = 0
    for count, cells in enumerate(rows, start=1):
        record = {c.header: _json_value(c, v) for c, v in zip(columns, cells, strict=True)}
        chunk.append(("[\n" if count == 1 else ",\n") + json.dumps(record, ensure_ascii=False))
        if count % MAX_PAGE_SIZE == 0:
            yield "".join(chunk)
            chunk = []
    yield "".join(chunk) + ("\n]\n" if count else "[]\n")


def investors_json(ctx: Context, **query: Any) -> Iterator[str]:
    """A JSON array of objects, one per investor keyed by the CSV's headers, as text chunks (a
    page of rows each, so the whole table is never held). Takes :func:`export_rows`'s
    arguments."""
    columns = _columns_for(ctx, query)
    return _json_chunks(columns, export_rows(ctx, columns, **query))


# -- XLSX -------------------------------------------------------------------------------------------
def _excel_currency(code: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(code.upper())
    return f'"{symbol}"#,##0.00' if symbol else f'#,##0.00" {code.upper()}"'


def _as_date(value: Any) -> date | None:
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return day if day.year >= 1900 else None  # Excel has no dates before 1900


def _as_datetime(value: Any) -> datetime | None:
    """A stored ISO-8601 moment as naive UTC (Excel cells hold no time zone)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment if moment.year >= 1900 else None


class _Workbook:
    """A streamed workbook and its typed cell writers, one per kind of column (:data:`WRITERS`
    picks). Text always goes through ``write_string``: never a formula, whatever it starts with."""

    def __init__(self, out: IO[bytes]) -> None:
        self.book = xlsxwriter.Workbook(
            out, {"constant_memory": True, "in_memory": False, "strings_to_formulas": False}
        )
        self.sheet: Worksheet = self.book.add_worksheet("Investors")
        self.bold = self.book.add_format({"bold": True})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.moment = self.book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.percent = self.book.add_format({"num_format": "0.00%"})
        self.money: dict[str, Any] = {}

    def currency(self, code: str | None) -> Any:
        code = (code or "USD").upper()
        if code not in self.money:
            self.money[code] = self.book.add_format({"num_format": _excel_currency(code)})
        return self.money[code]

    def write_text(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        text = str(value)
        if len(text) > EXCEL_CELL_CHARS:  # a note may hold 100,000: say so rather than cut
            marker = f" [… {len(text):,} characters in all: the CSV and JSON exports hold them]"
            text = text[: EXCEL_CELL_CHARS - len(marker)] + marker
        self.sheet.write_string(row, col, text)

    def write_number(
        self, row: int, col: int, column: ExportColumn, value: Any, fmt: Any = None
    ) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            self.sheet.write_number(row, col, value, fmt)
        else:  # a formula's error text, say: shown as it is
            self.write_text(row, col, column, value)

    def write_amount(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        self.write_number(row, col, column, value, self.currency(column.currency))

    def write_percent(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        self.write_number(row, col, column, value, self.percent)

    def write_date(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        day = _as_date(value)
        if day is None:
            self.write_text(row, col, column, value)
        else:
            self.sheet.write_datetime(row, col, day, self.date)

    def write_datetime(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        moment = _as_datetime(value)
        if moment is None:
            self.write_text(row, col, column, value)
        else:
            self.sheet.write_datetime(row, col, moment, self.moment)

    def write_boolean(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        if isinstance(value, bool) or value in (0, 1):
            self.sheet.write_boolean(row, col, bool(value))
        else:
            self.write_text(row, col, column, value)

    def write_choices(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        if value:
            text = choices_text(value) if isinstance(value, list) else value
            self.write_text(row, col, column, text)

    def write_people(self, row: int, col: int, column: ExportColumn, value: Any) -> None:
        if value:
            self.write_text(row, col, column, people_text(value))


Writer = Callable[[_Workbook, int, int, ExportColumn, Any], None]
#: Kind of column → how its cells are written into the workbook.
WRITERS: dict[str, Writer] = {
    "id": _Workbook.write_number,
    "text": _Workbook.write_text,
    "user": _Workbook.write_text,
    "number": _Workbook.write_number,
    "currency": _Workbook.write_amount,
    "percent": _Workbook.write_percent,
    "date": _Workbook.write_date,
    "datetime": _Workbook.write_datetime,
    "checkbox": _Workbook.write_boolean,
    "list": _Workbook.write_choices,
    "people": _Workbook.write_people,
}
#: The most characters an Excel cell holds.
EXCEL_CELL_CHARS = 32_767
#: Column widths (characters) that show each kind whole instead of as ####.
WIDTHS = {"date": 11, "datetime": 19, "currency": 16, "people": 40}


def _xlsx(out: IO[bytes], columns: Sequence[ExportColumn], rows: Iterator[list[Any]]) -> int:
    book = _Workbook(out)
    sheet = book.sheet
    for col, column in enumerate(columns):
        if column.kind in WIDTHS:
            sheet.set_column(col, col, WIDTHS[column.kind])
        sheet.write_string(0, col, column.header, book.bold)
    writers = [WRITERS[c.kind] for c in columns]
    count = 0
    for count, cells in enumerate(rows, start=1):
        for col, (column, write, value) in enumerate(zip(columns, writers, cells, strict=True)):
            if value is not None and value != "":
                write(book, count, col, column, value)
    sheet.freeze_panes(1, 2 if columns[1].key == "name" else 1)
    sheet.autofilter(0, 0, count, len(columns) - 1)
    book.book.close()
    return count


def investors_xlsx(ctx: Context, out: IO[bytes], **query: Any) -> int:
    """Write an .xlsx workbook of the rows to ``out`` (constant memory: rows are flushed as they
    are written); returns the number of investors. Takes :func:`export_rows`'s arguments."""
    columns = _columns_for(ctx, query)
    return _xlsx(out, columns, export_rows(ctx, columns, **query))


# -- formats ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ExportFormat:
    """One export format: its media type and file suffix, for downloads and HTTP replies."""

    name: str
    media_type: str
    suffix: str


FORMATS = {
    f.name: f
    for f in (
        ExportFormat("csv", "text/csv; charset=utf-8", "csv"),
        ExportFormat("json", "application/json; charset=utf-8", "json"),
        ExportFormat(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
        ),
    )
}


def write_export(ctx: Context, fmt: str, out: IO[bytes], *, bom: bool = False, **query: Any) -> int:
    """Write the export in format ``fmt`` (csv, json or xlsx) to the binary stream ``out``, a
    page at a time, and return how many investors it holds. ``bom`` starts a CSV with a
    byte-order mark, so that Excel reads its accents as UTF-8. Takes :func:`export_rows`'s
    arguments (see :func:`export_query`)."""
    if fmt not in FORMATS:
        raise ValidationError(
            f"Unknown export format {fmt!r}; use {', '.join(FORMATS)}", field="format"
        )
    columns = _columns_for(ctx, query)
    counted = [0]

    def rows() -> Iterator[list[Any]]:
        for cells in export_rows(ctx, columns, **query):
            counted[0] += 1
            yield cells

    if fmt == "xlsx":
        return _xlsx(out, columns, rows())
    if bom and fmt == "csv":
        out.write("\ufeff".encode())
    chunks = _csv_chunks(columns, rows()) if fmt == "csv" else _json_chunks(columns, rows())
    for chunk in chunks:
        out.write(chunk.encode("utf-8"))
    return counted[0]
