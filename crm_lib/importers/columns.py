"""What each column of an export means: its target, its inferred type, and how its cells convert.

A column's *target* is a short string, saved in import profiles and shown in the mapping table:

=====================  ============================================================================
``field:<key>``        an existing grid field (matched by name: case, spacing and punctuation
                       are ignored)
``new:<type>``         a new field labelled like the column, of that type (inferred, or chosen)
``crm_id``             Venture CRM's own investor id (the ``id`` column of our CSV export)
``people``             people cells: ``Jane Doe <jane@lp.com>, Bob Roe <bob@lp.com>``
``person:<part>``      one person per row from separate columns: full_name, email, title, phone
``commitment:<fund>``  the investor's commitment to that fund ("Fund I Commitment")
``skip``               not imported
=====================  ============================================================================

:func:`analyze` reads the file once and, per column, counts what it sees (filled cells, samples,
formula errors, the types every value still fits, slash-date order evidence); with
``count_failures`` it also runs each mapped column's converter, so the preview can say how many
cells would fail and why.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import FIELD_TYPES, FieldValueError, field_type
from crm_lib.grid.fields import FieldSpec
from crm_lib.importers import cells as c
from crm_lib.importers.people import (
    PersonText,
    looks_like_people,
    people_cell,
    split_items,
    split_names,
    split_people,
)
from crm_lib.importers.sniff import MAX_CELL_CHARS, SourceFile, read_rows

SKIP = "skip"
CRM_ID = "crm_id"
PEOPLE = "people"
PERSON_PARTS = ("full_name", "email", "title", "phone")
SAMPLES = 5
DISTINCT_CAP = 200
MEMO_CAP = 50_000
#: How many filled cells of a column matched to a field by name are tried against its type.
FIT_SAMPLE = 200
#: How many rows types, date orders and keys are inferred from (see :func:`analyze`).
INFER_ROWS = 5000
#: Types inference can propose for a new field, most specific first.
INFERABLE = ("checkbox", "percent", "currency", "number", "date", "datetime", "email", "url")
_COMMITMENT = re.compile(r"^(?P<fund>.+?)\s+(commitment|commitments|committed|investment)$")
_NOT_FUNDS = {"total", "sum", "overall", "prior", "previous", "expected", "target"}
_PEOPLE_HEADERS = {
    "people",
    "contacts",
    "contact",
    "key contacts",
    "primary contact",
    "lp contacts",
}
_PERSON_HEADERS = {
    "contact name": "full_name",
    "primary contact name": "full_name",
    "contact email": "email",
    "primary contact email": "email",
    "email": "email",
    "contact title": "title",
    "title": "title",
    "contact phone": "phone",
    "phone": "phone",
}
_TIGHT_COMMA = re.compile(r"(?<!\d),(?=\S)|,(?=[^\s\d])")  # "A,B" but not "1,500"
_RECORD_ID_HEADERS = {"record id", "airtable id", "airtable record id", "recordid", "rec id"}


@dataclass
class ColumnStats:
    """What one pass over a column found."""

    index: int
    header: str
    filled: int = 0
    samples: list[str] = field(default_factory=list)
    formula_errors: int = 0
    too_long: int = 0
    max_length: int = 0
    multiline: bool = False
    leading_zero: bool = False
    candidates: set[str] = field(default_factory=lambda: {*INFERABLE, "record_id", "people"})
    any_time: bool = False
    dmy_line: int | None = None
    mdy_line: int | None = None
    distinct: Counter[str] = field(default_factory=Counter)
    items: Counter[str] = field(default_factory=Counter)
    multi_cells: int = 0
    attachments: int = 0
    failures: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_failure: dict[str, Any] | None = None
    fit_tried: int = 0  # of the first FIT_SAMPLE filled cells, how many the matched field's
    fit_failed: int = 0  # type was tried on and how many did not fit it (see analyze)
    fit_example: str | None = None

    def mostly_misfits(self) -> bool:
        """Most sampled values do not fit the field the column's name matched."""
        return self.fit_tried > 0 and self.fit_failed * 2 > self.fit_tried

    def observe(self, text: str, line: int) -> None:
        """Count one non-blank cell (the caller skips blanks). Repeated values cost one dict
        lookup; a new value is checked against the types the column may still be."""
        self.filled += 1
        error = text[0] in "#NIn-" and c.is_formula_error(text)
        if error:
            self.formula_errors += 1
        distinct = self.distinct
        if text in distinct:
            distinct[text] += 1
            return
        if len(distinct) < DISTINCT_CAP:
            distinct[text] = 1
            if len(self.samples) < SAMPLES:
                self.samples.append(text if len(text) <= 80 else text[:77] + "...")
        if error:
            return
        size = len(text)
        if size > self.max_length:
            self.max_length = size
        if "\n" in text:
            self.multiline = True
        stripped = text.strip()
        if stripped[:1] == "0" and stripped[1:2].isdigit():
            self.leading_zero = True
        if stripped[-1:] == ")" and c.looks_like_attachments(stripped):
            self.attachments += 1
        if "/" in stripped:
            order = c.slash_order_evidence(stripped)
            if order == "dmy" and self.dmy_line is None:
                self.dmy_line = line
            elif order == "mdy" and self.mdy_line is None:
                self.mdy_line = line
        if self.candidates:
            self._eliminate(stripped)
        if len(self.items) >= DISTINCT_CAP:
            return
        if size <= 2000 and ("," in stripped or '"' in stripped):
            parts = c.split_list(stripped)
            if len(parts) > 1 and _TIGHT_COMMA.search(stripped):  # Airtable: "A,B"
                self.multi_cells += 1
            self.items.update(parts)
        else:
            self.items[stripped] += 1

    def _eliminate(self, text: str) -> None:
        keep = set()
        for kind in self.candidates:
            if _fits(kind, text):
                keep.add(kind)
        if ("date" in keep or "datetime" in keep) and c.has_time_of_day(text):
            self.any_time = True
        self.candidates = keep

    def fail(self, line: int, text: str, reason: str) -> None:
        self.failures += 1
        self.reasons[reason if len(reason) <= 120 else reason[:117] + "..."] += 1
        if self.first_failure is None:
            self.first_failure = {"line": line, "value": text[:200], "reason": reason}


#: One regex per type for the shapes Airtable writes; _fits falls back to the full parsers.
_FAST_FITS = {
    "currency": re.compile(r"^-?[$€£]-?\d{1,3}(,\d{3})*(\.\d+)?$"),
    "number": re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$"),
    "date": re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$|^\d{4}-\d{2}-\d{2}$"),
    "datetime": re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}(:\d{2})?\s*([ap]m)?$", re.I),
    "url": re.compile(r"^https?://[^\s/]+\.[^\s]+$"),
}


def _fits(kind: str, text: str) -> bool:
    fast = _FAST_FITS.get(kind)
    if fast is not None and fast.match(text):
        return not (kind == "number" and text.startswith("-$"))
    try:
        if kind == "record_id":
            return c.is_record_id(text)
        if kind == "checkbox":
            return text.lower() in ("checked", "true", "false")
        if kind == "percent":
            return text.endswith("%") and c.parse_percent(text) is not None
        if kind == "currency":
            return (
                (text[:1] in "$€£¥₹-(" or text[:2].isalpha())
                and not text.replace("-", "").strip().isdigit()
                and bool(_has_symbol(text))
                and c.parse_amount(text) is not None
            )
        if kind == "number":
            return text[:1] in "0123456789-.(" and c.parse_amount(text) is not None
        if kind in ("date", "datetime"):
            return c.looks_like_date(text)
        if kind == "email":
            return bool(c._EMAIL.match(text))
        if kind == "url":
            return text.startswith(("http://", "https://", "www.")) and " " not in text
        if kind == "people":
            return "<" in text and looks_like_people(text)
    except c.CellError:
        return False
    return False


def _has_symbol(text: str) -> bool:
    return any(ch in text for ch in "$€£¥₹₩₽₪") or bool(re.match(r"^-?[A-Z]{3}\s", text))


# -- inference --------------------------------------------------------------------------------------
def infer_type(stats: ColumnStats) -> str:
    """The most specific field type every non-blank value of the column fits."""
    if not stats.filled:
        return "text"
    fits = stats.candidates
    if stats.attachments and stats.attachments == len(stats.distinct) and not fits - {"people"}:
        return "long_text"
    for kind in INFERABLE:
        if kind in ("number", "currency") and stats.leading_zero:
            continue
        if kind == "date" and "date" in fits:
            return "datetime" if stats.any_time else "date"
        if kind in fits:
            return kind
    if stats.multiline or stats.max_length > 255:
        return "long_text"
    distinct = len(stats.distinct)
    if (
        stats.multi_cells
        and len(stats.items) < DISTINCT_CAP
        and max((len(i) for i in stats.items), default=0) <= 60
    ):
        return "multi_select"
    if (
        distinct < DISTINCT_CAP
        and distinct <= 50
        and stats.filled >= 2 * distinct
        and stats.max_length <= 60
    ):
        return "single_select"
    return "text"


def date_order(stats: ColumnStats, chosen: str | None = None) -> str:
    """'dmy' when the column's values show day first (19/10/2025), else 'mdy' (Airtable's US
    default), unless the user chose."""
    if chosen in ("mdy", "dmy"):
        return chosen
    return "dmy" if stats.dmy_line is not None and stats.mdy_line is None else "mdy"


# -- proposing targets ------------------------------------------------------------------------------
def match_field(fields: Mapping[str, FieldSpec], header: str) -> FieldSpec | None:
    wanted = c.normalize_name(header)
    for spec in fields.values():
        if c.normalize_name(spec.label) == wanted or c.normalize_name(spec.key) == wanted:
            return spec
    return None


def match_fund(funds: Mapping[str, int], name: str) -> str | None:
    """The existing fund's name that ``name`` refers to (ignoring case and punctuation)."""
    wanted = c.normalize_name(name)
    for fund in funds:
        if c.normalize_name(fund) == wanted:
            return fund
    return None


def propose_target(
    primary: bool,
    header: str,
    stats: ColumnStats | None,
    fields: Mapping[str, FieldSpec],
    funds: Mapping[str, int],
    taken: set[str],
) -> str:
    """The target a column gets when nobody chose one (``primary``: the table's primary field,
    which becomes the investor's name)."""
    normalized = c.normalize_name(header)
    if (
        header == "id"
        and stats is not None
        and stats.filled
        and all(v.isdigit() for v in stats.distinct)
    ):
        return CRM_ID
    if primary and "field:name" not in taken:
        return "field:name"
    spec = match_field(fields, header)
    if spec is not None and f"field:{spec.key}" not in taken:
        return f"field:{spec.key}"
    commitment = _COMMITMENT.match(normalized)
    if commitment and commitment["fund"] not in _NOT_FUNDS:
        fund = _fund_from_header(header)
        return f"commitment:{match_fund(funds, fund) or fund}"
    if normalized in _PEOPLE_HEADERS:
        return PEOPLE
    part = _PERSON_HEADERS.get(normalized)
    if part and f"person:{part}" not in taken:
        return f"person:{part}"
    if stats is not None and stats.filled:
        if normalized in _RECORD_ID_HEADERS or "record_id" in stats.candidates:
            return "new:text"
        if "people" in stats.candidates:
            return PEOPLE
    return f"new:{infer_type(stats) if stats is not None else 'text'}"


def _fund_from_header(header: str) -> str:
    words = c.clean_header(header).split()
    return " ".join(words[:-1]).strip(" -\u2013\u2014:") or header


def is_record_id_column(header: str, stats: ColumnStats | None) -> bool:
    return bool(
        stats is not None
        and stats.filled
        and "record_id" in stats.candidates
        and (c.normalize_name(header) in _RECORD_ID_HEADERS or stats.filled == len(stats.distinct))
    )


def check_target(target: str, fields: Mapping[str, FieldSpec], header: str) -> str:
    """Refuse a target that names nothing, with the list of what it could be."""
    kind, _, rest = target.partition(":")
    if target in (SKIP, CRM_ID, PEOPLE):
        return target
    if kind == "field" and rest in fields:
        return target
    if kind == "new" and rest in FIELD_TYPES and rest != "formula":
        return target
    if kind == "person" and rest in PERSON_PARTS:
        return target
    if kind == "commitment" and rest.strip():
        return f"commitment:{rest.strip()}"
    raise ValidationError(
        f"Column {header!r}: unknown target {target!r}; use field:<key>, new:<type>, people,"
        f" person:full_name|email|title|phone, commitment:<fund>, crm_id or skip",
        column=header,
    )


# -- converters -------------------------------------------------------------------------------------
Converter = Callable[[str], Any]


@dataclass
class Lookups:
    """What converters consult: team members by name and email, and options seen so far."""

    users: dict[str, int]
    new_options: dict[str, list[str]] = field(default_factory=dict)


def _choice_map(options: Mapping[str, Any]) -> dict[str, str]:
    return {c.normalize_name(choice): choice for choice in options.get("choices") or []}


def make_converter(
    header: str, type_name: str, options: Mapping[str, Any], lookups: Lookups, order: str
) -> Converter:
    """cell text → stored value (the form the field type stores) or :class:`CellError`.

    Select options the field does not have yet are collected in ``lookups.new_options`` (the
    import adds them), except for fields with a fixed list (``required``: the List field).
    """
    if type_name in ("text", "long_text"):
        keep_spacing = type_name == "long_text"

        def plain_text(text: str) -> str | None:
            if len(text) > MAX_CELL_CHARS:
                raise c.CellError(
                    f"the cell holds {len(text):,} characters; at most {MAX_CELL_CHARS:,}"
                )
            if text[:1] == "'":
                text = c.undefuse(text)
            stripped = text.strip()
            if not stripped:
                return None
            return text if keep_spacing else stripped

        return plain_text
    if type_name in ("url", "email", "phone"):
        parse = field_type(type_name).parse
        simple = _FAST_FITS["url"] if type_name == "url" else None

        def text_value(text: str) -> Any:
            if len(text) > MAX_CELL_CHARS:
                raise c.CellError(
                    f"the cell holds {len(text):,} characters; at most {MAX_CELL_CHARS:,}"
                )
            if simple is not None and simple.match(text):
                return text  # https://host.tld/...: what the full check would keep as it is
            try:
                return parse(c.undefuse(text), options)
            except FieldValueError as exc:
                raise c.CellError(str(exc)) from None

        return text_value
    if type_name == "number":
        return lambda text: c.parse_amount(text)
    if type_name == "currency":
        return lambda text: round(float(c.parse_amount(text)), 2)
    if type_name == "percent":
        return c.parse_percent
    if type_name == "date":
        return _memo(lambda text: c.parse_moment(text, order).as_date())
    if type_name == "datetime":
        return _memo(lambda text: c.moment_text(text, order))
    if type_name == "checkbox":
        return c.parse_checkbox
    if type_name == "user":
        return _memo(lambda text: _user(text, lookups.users))
    if type_name in ("single_select", "multi_select"):
        return _select_converter(header, type_name, options, lookups)
    raise c.CellError(f"fields of type {type_name} cannot be imported")


def _user(text: str, users: Mapping[str, int]) -> int:
    found = users.get(text.strip().casefold())
    if found is None:
        raise c.CellError(
            f"no team member {text.strip()!r} (invite them first, or map the column to text)"
        )
    return found


def _select_converter(
    header: str, type_name: str, options: Mapping[str, Any], lookups: Lookups
) -> Converter:
    choices = _choice_map(options)
    fixed = bool(options.get("required"))
    added = lookups.new_options.setdefault(header, [])

    def choose(item: str) -> str:
        item = " ".join(item.split())
        key = c.normalize_name(item)
        if key in choices:
            return choices[key]
        if fixed or not key:
            allowed = ", ".join(repr(v) for v in choices.values())
            raise c.CellError(f"{item!r} is not one of the choices ({allowed})")
        if len(item) > 100:
            raise c.CellError(f"an option of {len(item)} characters is too long (at most 100)")
        choices[key] = item
        added.append(item)
        return item

    if type_name == "single_select":
        return _memo(lambda text: choose(c.undefuse(text)))

    def many(text: str) -> str | None:
        chosen: list[str] = []
        for item in c.split_list(text):
            value = choose(item)
            if value not in chosen:
                chosen.append(value)
        return json.dumps(chosen) if chosen else None

    return _memo(many)


def _memo(convert: Converter) -> Converter:
    """Cache conversions of columns whose values repeat (dates, selects, owners)."""
    cache: dict[str, Any] = {}

    def cached(text: str) -> Any:
        hit = cache.get(text, cache)
        if hit is not cache:
            if isinstance(hit, c.CellError):
                raise hit
            return hit
        try:
            value = convert(text)
        except c.CellError as exc:
            if len(cache) < MEMO_CAP:
                cache[text] = exc
            raise
        if len(cache) < MEMO_CAP:
            cache[text] = value
        return value

    return cached


def people_converter(target: str) -> Converter:
    """People columns convert to lists: a people cell to person values, a name, email, title or
    phone column to one item per person it names ('Jane Doe / Bob Roe', 'a@x.com; b@y.com')."""
    if target == PEOPLE:
        return people_cell
    part = target.partition(":")[2]
    if part == "full_name":
        return split_names
    if part == "email":
        return _emails
    return lambda text: split_items(text, commas=False)


def _emails(text: str) -> list[PersonText]:
    found = split_people(text)
    missing = [p.full_name for p in found if not p.email]
    if missing or not found:
        raise c.CellError(f"{(missing or [text])[0]!r} is not an email address")
    return found


# -- the analysis pass ------------------------------------------------------------------------------
@dataclass
class Analysis:
    """One pass over a file: its header, row count, per-column stats, and key problems."""

    source: SourceFile
    headers: list[str]
    stats: list[ColumnStats]
    rows: int = 0
    ragged: list[tuple[int, int]] = field(default_factory=list)
    candidate_keys: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    duplicates: list[tuple[str, list[int]]] = field(default_factory=list)
    blank_keys: list[int] = field(default_factory=list)
    complete: bool = False  # the whole file was read (else only its first block)

    def finish_keys(self, index: int, *, exact: bool) -> None:
        """Settle the key column: its empty cells and its duplicates (with every line)."""
        lines = self.candidate_keys.get(index, {})
        self.blank_keys = lines.get("", [])
        grouped: dict[str, list[int]] = {}
        for text, found in lines.items():
            if text:
                grouped.setdefault(key_text(text, exact=exact), []).extend(found)
        self.duplicates = [(k, sorted(v)) for k, v in grouped.items() if len(v) > 1]
        self.candidate_keys = {}


def unique_headers(raw: Sequence[str]) -> list[str]:
    """Headers cleaned of invisible characters, blanks named, duplicates numbered."""
    seen: Counter[str] = Counter()
    headers = []
    for position, text in enumerate(raw):
        header = c.clean_header(c.undefuse(text)) or f"Column {position + 1}"
        seen[header.casefold()] += 1
        if seen[header.casefold()] > 1:
            header = f"{header} {seen[header.casefold()]}"
        headers.append(header)
    return headers


def key_text(text: str, *, exact: bool) -> str:
    """How keys compare: exact for record ids and our ids, else ignoring case and spacing."""
    return text.strip() if exact else " ".join(text.casefold().split())


def analyze(
    source: SourceFile,
    *,
    observe: set[int] | None = None,
    dates: set[int] | None = None,
    fit_checks: Mapping[int, Converter] | None = None,
    block: int = INFER_ROWS,
    progress: Callable[[float], None] | None = None,
) -> Analysis:
    """Read the file's first ``block`` rows (streamed) and gather what inference needs.

    Types, date orders, record-id keys and name matches are all decided from this first block,
    the same block for a preview and a run, so the run does what the preview showed while
    reading the file only once more; a cell further down that does not fit is kept as text
    and reported by the run (and counted by the preview's :func:`check_file`).

    ``observe`` limits the per-cell statistics to those columns (a run only needs them for
    columns whose type it must infer and key candidates); None observes all. ``dates`` are
    columns whose only question is the order of slash dates. ``fit_checks`` are columns matched
    to an existing field by name: their first :data:`FIT_SAMPLE` filled cells are tried against
    the field's type.
    """
    rows = read_rows(source, progress=progress)
    try:
        _, header_cells = next(rows)
    except StopIteration:
        raise ValidationError(f"{source.name} has no header row") from None
    headers = unique_headers(header_cells)
    analysis = Analysis(source, headers, [ColumnStats(i, h) for i, h in enumerate(headers)])
    width = len(headers)
    stats = analysis.stats
    watched = sorted(range(width) if observe is None else {i for i in observe if i < width})
    open_dates = sorted(i for i in dates or () if i < width)
    fitting = dict(fit_checks or {})
    for line, cells in rows:
        if not any(cells) or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank lines: Excel leaves them at the end
        analysis.rows += 1
        count = len(cells)
        for index in watched:
            if index >= count:
                continue
            text = cells[index]
            if text and not text.isspace():
                stats[index].observe(text, line)
        for index in open_dates:
            text = cells[index] if index < count else ""
            if "/" in text:
                column = stats[index]
                order = c.slash_order_evidence(text)
                if order == "dmy" and column.dmy_line is None:
                    column.dmy_line = line
                elif order == "mdy" and column.mdy_line is None:
                    column.mdy_line = line
        if fitting:
            _try_fit(fitting, stats, cells)
        if analysis.rows >= block:
            break
    else:
        analysis.complete = True
    return analysis


def check_file(
    analysis: Analysis,
    *,
    converters: Mapping[int, Converter],
    key_columns: set[int],
    progress: Callable[[float], None] | None = None,
) -> None:
    """The preview's look at the whole file: rows, ragged rows, filled and failing cells per
    column (with why), and every key candidate's values (for empty and duplicate keys)."""
    rows = read_rows(analysis.source, progress=progress)
    next(rows)
    width, stats = len(analysis.headers), analysis.stats
    for column in stats:
        column.filled = 0
    keys: dict[int, dict[str, list[int]]] = {i: {} for i in key_columns if i < width}
    analysis.candidate_keys = keys
    checked = sorted(converters.items())
    analysis.rows = 0
    for line, cells in rows:
        if not any(cells) or (len(cells) == 1 and not cells[0].strip()):
            continue
        analysis.rows += 1
        count = len(cells)
        if count != width and len(analysis.ragged) < 1000:
            analysis.ragged.append((line, count))
        for index in range(min(count, width)):
            text = cells[index]
            if text and not text.isspace():
                stats[index].filled += 1
        for index, convert in checked:
            text = cells[index] if index < count else ""
            if not text or text.isspace() or c.is_formula_error(text):
                continue
            try:
                convert(text)
            except c.CellError as exc:
                stats[index].fail(line, text, str(exc))
        for index, found in keys.items():
            text = cells[index].strip() if index < count else ""
            found.setdefault(text, []).append(line)
    analysis.complete = True


def _try_fit(fitting: dict[int, Converter], stats: Sequence[ColumnStats], cells: list[str]) -> None:
    for index, convert in list(fitting.items()):
        text = cells[index] if index < len(cells) else ""
        if not text or text.isspace() or c.is_formula_error(text):
            continue
        column = stats[index]
        column.fit_tried += 1
        try:
            convert(text)
        except c.CellError:
            column.fit_failed += 1
            if column.fit_example is None:
                column.fit_example = text[:60]
        if column.fit_tried >= FIT_SAMPLE:
            del fitting[index]


def primary_column(headers: Sequence[str]) -> int:
    """Airtable writes the primary field first; a file that starts with an id column instead
    (a hand-made CSV) has its primary field in the column called Name."""
    first = c.normalize_name(headers[0]) if headers else ""
    if first in _RECORD_ID_HEADERS or first == "id":
        for index, header in enumerate(headers):
            if c.normalize_name(header) == "name":
                return index
    return 0
