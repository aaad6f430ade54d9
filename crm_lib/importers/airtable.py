"""Import an Airtable CSV export ("Investors-Grid view.csv"): preview it, dry-run it, run it.

:func:`preview` reads the file once and proposes the mapping table (per column: target field,
inferred type, samples, cells that would fail and why). :func:`run` reads it again and upserts:

- Rows match investors on a key column: Airtable's record id column when present (a formula
  field ``RECORD_ID()``), else Venture CRM's own ``id`` (our CSV export), else the primary field
  (the first column, mapped to the investor's name). Keys are compared ignoring case and spacing,
  except record ids and our ids, which are exact.
- A matched row updates only the mapped fields whose value differs; people are added (or their
  title, phone... updated) and never removed; a blank commitment cell removes that commitment (as
  an archive: restorable); rows missing from the file are left alone unless ``archive_missing``.
- Re-importing the same file therefore changes nothing and writes nothing.
- Everything happens in one transaction: new fields, new select options, new funds, creates,
  updates, the ``imports`` record and the saved mapping profile. On any row error nothing is
  written, unless ``skip_bad_rows``; the report lists line, column, value and reason.

The whole file is never held in memory: both passes stream it, and rows are handled in batches.
This module sits above the services (like :mod:`crm_lib.demo`): it writes through them.
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_lib.auth.permissions import allowed, require
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.fields import FieldSpec, load_fields
from crm_lib.grid.records import update_investor_row
from crm_lib.importers import cells as c
from crm_lib.importers import columns as col
from crm_lib.importers.people import pair_people
from crm_lib.importers.report import (
    DIFF_LIMIT,
    ColumnPreview,
    FileInfo,
    ImportPreview,
    ImportReport,
    Issue,
    RowDiff,
)
from crm_lib.importers.sniff import MAX_CELL_CHARS, SourceFile, read_rows, sniff
from crm_lib.limits import max_length
from crm_lib.services import commitments as commitment_service
from crm_lib.services import fields as field_service
from crm_lib.services import funds as fund_service
from crm_lib.services import people as people_service
from crm_lib.services.bulk import BulkCreator
from crm_lib.services.imports import find_profile, record_import, save_profile
from crm_lib.storage.connect import refresh_statistics
from crm_lib.storage.reads import LIVE
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import same_stored_value, write

INVESTORS = "fundraising_investors"
BATCH = 1000
#: SQLite page cache while an import writes (the default is 2 MB).
IMPORT_CACHE_KIB = 32 * 1024
#: Staged uploads older than this are removed when the next one arrives.
UPLOAD_TTL_SECONDS = 24 * 3600
FIELD, COMMITMENT, PEOPLE, PERSON = "field", "commitment", "people", "person"
Progress = Callable[[str, float], None]


# -- preview ----------------------------------------------------------------------------------------
@dataclass
class _Setup:
    """Everything both :func:`preview` and :func:`run` work out before converting rows."""

    source: SourceFile
    analysis: col.Analysis
    targets: list[str]
    key_index: int
    exact_keys: bool
    profile: str
    profile_found: bool
    orders: dict[str, str]
    fields: dict[str, FieldSpec]
    funds: dict[str, int]
    users: dict[str, int]
    inferred: list[str]
    single_pass: bool = False  # no analysis pass: keys and row widths are checked while importing
    kept_fields: dict[str, str] = field(default_factory=dict)  # column → its "(as imported)" field
    notes: dict[int, str] = field(default_factory=dict)  # column → why it was proposed so
    preview: ImportPreview = field(init=False)


def _funds(ctx: Context) -> dict[str, int]:
    rows = ctx.db.execute(f"SELECT name, id FROM fundraising_funds WHERE {LIVE}").fetchall()
    return {name: fund_id for name, fund_id in rows}


def _users(ctx: Context) -> dict[str, int]:
    users: dict[str, int] = {}
    for user_id, email, name in ctx.db.execute(
        f"SELECT id, email, name FROM users WHERE {LIVE}"
    ).fetchall():
        users[email.strip().casefold()] = user_id
        if name and name.strip():
            users.setdefault(" ".join(name.casefold().split()), user_id)
    return users


def _header_signature(headers: Sequence[str]) -> str:
    names = sorted(c.normalize_name(h) for h in headers)
    return hashlib.sha256(json.dumps(names).encode()).hexdigest()


def default_profile_name(file_name: str) -> str:
    """'Investors-Grid view (2).csv' → 'Investors': Airtable names exports '<table>-<view>.csv'."""
    stem = Path(file_name).stem
    stem = stem.rsplit(" (", 1)[0] if stem.endswith(")") else stem
    table = stem.rsplit("-", 1)[0] if "-" in stem else stem
    return table.strip() or "Airtable import"


def _find_header(headers: Sequence[str], wanted: str) -> int:
    for index, header in enumerate(headers):
        if header == wanted:
            return index
    for index, header in enumerate(headers):
        if c.normalize_name(header) == c.normalize_name(wanted):
            return index
    raise ValidationError(
        f"There is no column {wanted!r}; the columns are: {', '.join(headers)}", column=wanted
    )


def _type_of(target: str, fields: Mapping[str, FieldSpec]) -> str:
    kind, _, rest = target.partition(":")
    if kind == "field":
        return fields[rest].type
    if kind == "new":
        return rest
    if kind == "commitment":
        return "currency"
    return target


def _known_targets(
    headers: Sequence[str],
    chosen: Mapping[str, str],
    mapping: Mapping[str, str],
    fields: Mapping[str, FieldSpec],
    funds: Mapping[str, int],
    primary: int,
) -> tuple[list[str | None], set[str], set[int]]:
    """Targets known before reading the rows: chosen ones (the mapping, else the saved profile)
    and columns matched by name; None where the values must decide. Also returns the columns
    matched to an existing field by name alone, whose values may yet show they do not fit it."""
    targets: list[str | None] = []
    taken: set[str] = set()
    by_name: set[int] = set()
    for position, header in enumerate(headers):
        target = chosen.get(header)
        if target is not None:
            try:
                target = col.check_target(target, fields, header)
            except ValidationError:
                if header in mapping:
                    raise
                target = None  # the saved profile names a field archived since: propose anew
            if target is not None and target.startswith("field:") and fields[target[6:]].formula:
                target = None
        elif header == "id":
            target = col.CRM_ID
        else:
            proposal = col.propose_target(position == primary, header, None, fields, funds, taken)
            target = None if proposal.startswith("new:") else proposal
            if target is not None and target.startswith("field:") and target != "field:name":
                by_name.add(position)
        if target is not None and target.startswith(("field:", "person:")) and target in taken:
            target = None
        if target is not None:
            taken.add(target)
        targets.append(target)

    return targets, taken, by_name


#: Field types whose converter can refuse a cell, and what their values are called.
_MISFIT_WORDS = {
    "url": "web addresses",
    "email": "email addresses",
    "phone": "phone numbers",
    "number": "numbers",
    "currency": "amounts",
    "percent": "percentages",
    "date": "dates",
    "datetime": "dates",
    "checkbox": "checkbox values",
    "user": "team members",
}


def _fit_converter(spec: FieldSpec, header: str, lookups: col.Lookups) -> col.Converter:
    """Does a cell fit the field? Dates may be in either order: the order is settled later."""
    first = col.make_converter(header, spec.type, spec.options, lookups, "mdy")
    if spec.type not in ("date", "datetime"):
        return first
    second = col.make_converter(header, spec.type, spec.options, lookups, "dmy")

    def either(text: str) -> Any:
        try:
            return first(text)
        except c.CellError:
            return second(text)

    return either


def _drop_misfits(
    fit_checks: Mapping[int, col.Converter],
    stats: Sequence[col.ColumnStats],
    targets: list[str | None],
    taken: set[str],
    fields: Mapping[str, FieldSpec],
) -> dict[int, str]:
    """A column named like a built-in field whose values mostly do not fit its type ("Website"
    holding notes) becomes a new text field instead; returns why, per column, for the preview."""
    notes: dict[int, str] = {}
    for index in fit_checks:
        column = stats[index]
        if not column.mostly_misfits():
            continue
        spec = fields[(targets[index] or "")[6:]]
        taken.discard(f"field:{spec.key}")
        targets[index] = "new:text"
        notes[index] = (
            f"most values are not {_MISFIT_WORDS[spec.type]} ({column.fit_failed} of the first"
            f" {column.fit_tried}, e.g. {column.fit_example!r}): proposed as a new text field"
            f" instead of {spec.label}"
        )
    return notes


def _all_known(
    headers: Sequence[str],
    targets: Sequence[str | None],
    fields: Mapping[str, FieldSpec],
    orders: Mapping[str, str],
) -> bool:
    """Every column has a target and every date column an order: nothing left to infer."""
    return all(t is not None for t in targets) and all(
        headers[i] in orders
        for i, t in enumerate(targets)
        if _type_of(t or "", fields) in ("date", "datetime")
    )


def _observed_columns(
    targets: Sequence[str | None],
    fields: Mapping[str, FieldSpec],
    key_candidates: set[int],
    count_failures: bool,
    single_pass: bool,
) -> tuple[set[int] | None, set[int] | None]:
    """Which columns the analysis pass gathers statistics for, and which only for date order.

    A preview observes every column; a run only those whose type it must infer and key
    candidates (is it a record id?); a single pass none."""
    if count_failures:
        return None, None
    if single_pass:
        return set(), set()
    observe = {i for i, t in enumerate(targets) if t is None}
    observe |= {i for i in key_candidates if targets[i] != "field:name"}
    dates = {
        i
        for i, t in enumerate(targets)
        if t is not None and _type_of(t, fields) in ("date", "datetime")
    } - observe
    return observe, dates


def _setup(
    path: Path | str,
    ctx: Context,
    *,
    key: str | None,
    profile: str | None,
    mapping: Mapping[str, str] | None,
    encoding: str | None,
    delimiter: str | None,
    date_orders: Mapping[str, str] | None,
    file_name: str | None,
    count_failures: bool,
    progress: Progress | None,
) -> _Setup:
    require(ctx, "import_data")
    source = sniff(path, encoding=encoding, delimiter=delimiter, display_name=file_name)
    header_row = next(read_rows(source), None)
    if header_row is None:
        raise ValidationError(f"{source.name} has no header row")
    headers = col.unique_headers(header_row[1])
    fields, funds, users = load_fields(ctx.db), _funds(ctx), _users(ctx)
    signature = _header_signature(headers)
    saved = find_profile(ctx, name=profile, header_signature=None if profile else signature)
    profile_name = profile or (saved["name"] if saved else default_profile_name(source.name))
    chosen: dict[str, str] = dict(saved["columns"]) if saved else {}
    chosen.update(mapping or {})
    unknown = [h for h in (mapping or {}) if h not in headers]
    if unknown:
        raise ValidationError(
            f"The mapping names columns the file does not have: {', '.join(map(repr, unknown))}",
            column=unknown[0],
        )
    orders = {**(saved["options"].get("date_orders", {}) if saved else {}), **(date_orders or {})}
    key = key or (saved["key_column"] if saved and saved["key_column"] in headers else None)

    primary = col.primary_column(headers)
    targets, taken, by_name = _known_targets(headers, chosen, mapping or {}, fields, funds, primary)

    fit_checks = {
        i: _fit_converter(spec, headers[i], col.Lookups(users))
        for i in sorted(by_name)
        if (spec := fields[(targets[i] or "")[6:]]).type in _MISFIT_WORDS and spec.is_editable
    }
    key_candidates = {
        i for i, h in enumerate(headers) if c.normalize_name(h) in col._RECORD_ID_HEADERS
    }
    key_candidates |= {i for i, t in enumerate(targets) if t in ("field:name", col.CRM_ID)}
    if key is not None:
        key_candidates.add(_find_header(headers, key))
    saved_options = saved["options"] if saved else {}
    settled = (  # a saved mapping covers every column: nothing to infer, not even the key
        not count_failures
        and key is not None
        and "exact_keys" in saved_options
        and _all_known(headers, targets, fields, orders)
    )
    observe, dates = _observed_columns(targets, fields, key_candidates, count_failures, settled)
    reading = (lambda f: progress("reading", f)) if progress else None
    if settled:
        analysis = col.Analysis(
            source, headers, [col.ColumnStats(i, h) for i, h in enumerate(headers)]
        )
    else:
        analysis = col.analyze(
            source, observe=observe, dates=dates, fit_checks=fit_checks, progress=reading
        )
    stats = analysis.stats
    misfits = _drop_misfits(fit_checks, stats, targets, taken, fields)

    inferred = [
        col.infer_type(s)
        if observe is None or i in observe or targets[i] is None
        else _type_of(targets[i] or "", fields)
        for i, s in enumerate(stats)
    ]
    final: list[str] = []
    for position, (header, target) in enumerate(zip(headers, targets, strict=True)):
        if target is None:
            target = col.propose_target(
                position == primary, header, stats[position], fields, funds, taken
            )
            if target.startswith(("field:", "person:")):
                taken.add(target)
        final.append(target)
    if "field:name" not in final:
        raise ValidationError(
            "No column is mapped to the investor's Name: map one (the first column of an Airtable"
            " export is its primary field)"
        )

    key_index = _choose_key(headers, final, stats, key, key_candidates)
    if (
        key is None
        and final[key_index] == col.CRM_ID
        and _ids_from_elsewhere(ctx, stats[key_index])
    ):
        misfits[key_index] = (
            "none of these ids is an investor here (an export from another Venture CRM?):"
            " rows match on Name, and the id column is not imported"
        )
        final[key_index] = col.SKIP
        key_index = final.index("field:name")
    if settled:
        exact = bool(saved_options["exact_keys"])
    else:
        exact = final[key_index] == col.CRM_ID or col.is_record_id_column(
            headers[key_index], stats[key_index]
        )
    column_orders = {h: col.date_order(stats[i], orders.get(h)) for i, h in enumerate(headers)}
    if count_failures:  # the preview: what the run will meet in the whole file
        lookups = col.Lookups(users)
        converters = {
            i: convert
            for i, (h, t) in enumerate(zip(headers, final, strict=True))
            if (convert := _cell_converter(t, h, fields, lookups, column_orders[h])) is not None
        }
        col.check_file(
            analysis, converters=converters, key_columns=key_candidates, progress=reading
        )
        analysis.finish_keys(key_index, exact=exact)

    setup = _Setup(
        source=source,
        analysis=analysis,
        targets=final,
        key_index=key_index,
        exact_keys=exact,
        profile=profile_name,
        profile_found=saved is not None,
        orders=column_orders,
        fields=fields,
        funds=funds,
        users=users,
        inferred=inferred,
        single_pass=not count_failures,
        kept_fields=dict(saved_options.get("kept_fields") or {}),
        notes=misfits,
    )
    setup.preview = _preview_of(setup)
    return setup


def _ids_from_elsewhere(ctx: Context, stats: col.ColumnStats) -> bool:
    """Our own export's ids, none of which names an investor of this database (live or
    archived): the file comes from another database, so ids cannot match anything."""
    ids = [int(v) for v in stats.distinct if v.strip().isascii() and v.strip().isdigit()]
    if not ids:
        return False
    marks = ", ".join("?" * len(ids))
    found = ctx.db.execute(f"SELECT 1 FROM {INVESTORS} WHERE id IN ({marks}) LIMIT 1", ids)
    return found.fetchone() is None


def _choose_key(
    headers: Sequence[str],
    targets: Sequence[str],
    stats: Sequence[col.ColumnStats],
    key: str | None,
    candidates: set[int],
) -> int:
    """The key column: chosen, saved, a record id column, our own id, or the name column."""
    if key is not None:
        key_index = _find_header(headers, key)
    else:
        record_ids = [
            i
            for i in sorted(candidates)
            if col.is_record_id_column(headers[i], stats[i]) and _can_be_key(targets[i])
        ]
        crm_ids = [i for i, t in enumerate(targets) if t == col.CRM_ID]
        key_index = (record_ids or crm_ids or [targets.index("field:name")])[0]
    if not _can_be_key(targets[key_index]):
        raise ValidationError(
            f"Column {headers[key_index]!r} cannot be the key: it is mapped to"
            f" {targets[key_index]}; choose a column mapped to a field, or the record id",
            column=headers[key_index],
        )
    return key_index


def _can_be_key(target: str) -> bool:
    return target == col.CRM_ID or target.startswith(("field:", "new:"))


def _target_label(target: str, header: str, fields: Mapping[str, FieldSpec]) -> str:
    kind, _, rest = target.partition(":")
    if kind == "field":
        return fields[rest].label
    if kind == "new":
        return f"New field {header!r} ({rest.replace('_', ' ')})"
    if kind == "commitment":
        return f"Commitment to {rest}"
    if kind == "person":
        return f"Person's {rest.replace('_', ' ')}"
    return {
        col.CRM_ID: "Venture CRM id",
        col.PEOPLE: "People",
        col.SKIP: "Not imported",
    }.get(target, target)


def _preview_of(setup: _Setup) -> ImportPreview:
    analysis, fields = setup.analysis, setup.fields
    columns = []
    kept_new: list[str] = []
    for index, header in enumerate(analysis.headers):
        stats, target = analysis.stats[index], setup.targets[index]
        type_name = _type_of(target, fields)
        note = None
        if index == setup.key_index:
            note = "key: rows match investors on this column"
        spec = fields.get(target[6:]) if target.startswith("field:") else None
        if spec is not None and not spec.is_editable:
            note = f"{spec.label} is calculated here: the column is not imported"
        if index in setup.notes:
            note = setup.notes[index]
        elif stats.failures and target not in (col.SKIP, col.CRM_ID) and index != setup.key_index:
            label = kept_label(header)
            exists = setup.kept_fields.get(header) in fields or col.match_field(fields, label)
            if not exists:
                kept_new.append(label)
            cells = (
                "1 cell does not fit: it is"
                if stats.failures == 1
                else (f"{stats.failures:,} cells do not fit: each is")
            )
            note = (
                f"{cells} kept as text in {'' if exists else 'the new field '}{label!r}"
                " and listed in the report"
            )
        columns.append(
            ColumnPreview(
                header=header,
                target=target,
                target_label=_target_label(target, header, fields),
                inferred_type=setup.inferred[index],
                samples=tuple(stats.samples),
                filled=stats.filled,
                failures=stats.failures,
                reasons=tuple(stats.reasons.most_common(3)),
                formula_errors=stats.formula_errors,
                date_order=setup.orders[header] if type_name in ("date", "datetime") else None,
                note=note,
            )
        )
    new_funds = sorted(
        {t[11:] for t in setup.targets if t.startswith("commitment:") and t[11:] not in setup.funds}
    )
    issues = [
        Issue(line, analysis.headers[setup.key_index], None, "the key is empty")
        for line in analysis.blank_keys
    ]
    for key, lines in analysis.duplicates:
        for line in lines:
            others = ", ".join(str(n) for n in lines if n != line)
            issues.append(
                Issue(
                    line,
                    analysis.headers[setup.key_index],
                    key,
                    f"duplicate key: also on line {others}",
                )
            )
    for line, cells in analysis.ragged:
        issues.append(
            Issue(
                line,
                None,
                None,
                f"the row has {cells} cells; the header has {len(analysis.headers)}",
            )
        )
    source = setup.source
    return ImportPreview(
        file=FileInfo(
            source.name, source.size, source.sha256, source.encoding_name, source.delimiter
        ),
        rows=analysis.rows,
        columns=columns,
        key_column=analysis.headers[setup.key_index],
        profile=setup.profile,
        profile_found=setup.profile_found,
        duplicates=analysis.duplicates[:1000],
        blank_keys=analysis.blank_keys[:1000],
        new_fields=[
            h for h, t in zip(analysis.headers, setup.targets, strict=True) if t.startswith("new:")
        ]
        + kept_new,
        new_funds=new_funds,
        issues=sorted(issues, key=lambda i: i.line or 0),
    )


def preview(
    path: Path | str,
    ctx: Context,
    *,
    key: str | None = None,
    profile: str | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    date_orders: Mapping[str, str] | None = None,
    file_name: str | None = None,
    progress: Progress | None = None,
) -> ImportPreview:
    """The mapping table for a file: per column its target, inferred type, samples, and how
    many cells would fail to convert and why; plus duplicate and empty keys. Writes nothing.

    ``mapping`` ({column: target}) overrides the saved profile, which overrides the proposal;
    ``date_orders`` ({column: "mdy" | "dmy"}) overrides what the column's values show.
    """
    return _setup(
        path,
        ctx,
        key=key,
        profile=profile,
        mapping=mapping,
        encoding=encoding,
        delimiter=delimiter,
        date_orders=date_orders,
        file_name=file_name,
        count_failures=True,
        progress=progress,
    ).preview


# -- converting rows --------------------------------------------------------------------------------
def _cell_converter(
    target: str,
    header: str,
    fields: Mapping[str, FieldSpec],
    lookups: col.Lookups,
    order: str,
    new_options: Mapping[str, Any] | None = None,
) -> col.Converter | None:
    kind, _, rest = target.partition(":")
    if target == col.CRM_ID:
        return _crm_id
    if target == col.PEOPLE or kind == "person":
        return col.people_converter(target)
    if kind == "commitment":
        return _commitment_amount
    if kind == "field":
        spec = fields[rest]
        if not spec.is_editable:
            return None
        return col.make_converter(header, spec.type, spec.options, lookups, order)
    if kind == "new":
        options = dict(new_options or {})
        if rest in ("single_select", "multi_select"):
            options.setdefault("choices", [])
        return col.make_converter(header, rest, options, lookups, order)
    return None


def _mapping_signature(
    setup: _Setup, targets: Sequence[str], fields: Mapping[str, FieldSpec]
) -> str:
    """What a row's fingerprint depends on besides its cells: the headers, each column's
    target and the target field's type, date orders and the key."""
    described = [
        (h, t, fields[t[6:]].type if t.startswith("field:") and t[6:] in fields else None)
        for h, t in zip(setup.analysis.headers, targets, strict=True)
    ]
    text = json.dumps([described, setup.orders, setup.key_index, setup.exact_keys])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fingerprint(signature: str, cells: Sequence[str]) -> str:
    return hashlib.blake2b(
        "\x1f".join(cells).encode(), digest_size=16, key=signature.encode()
    ).hexdigest()


def _crm_id(text: str) -> int:
    stripped = text.strip()
    if not (stripped.isascii() and stripped.isdigit()):
        raise c.CellError(f"{text!r} is not a Venture CRM id (a whole number)")
    return int(stripped)


def _commitment_amount(text: str) -> float:
    amount = round(float(c.parse_amount(text)), 2) + 0.0  # -$0.00 is 0, not -0
    if amount < 0:
        raise c.CellError("a commitment cannot be negative")
    return amount


#: The label of the text field that keeps a column's cells that did not fit its type.
KEPT_SUFFIX = " (as imported)"


def field_label(header: str, suffix: str = "") -> str:
    """A new field's label from a column's header: the header and ``suffix``, the header cut
    (with an ellipsis) so the label fits the field-name limit, however long the header."""
    room = max_length("field_label") - len(suffix)
    if len(header) > room:
        header = header[: room - 1].rstrip() + "\u2026"
    return f"{header}{suffix}"


def kept_label(header: str) -> str:
    return field_label(header, KEPT_SUFFIX)


@dataclass
class _Row:
    """One data row, converted."""

    line: int
    key: str
    values: dict[str, Any] = field(default_factory=dict)
    people: list[dict[str, Any]] = field(default_factory=list)
    commitments: dict[str, float | None] = field(default_factory=dict)
    errors: list[Issue] = field(default_factory=list)
    kept: dict[int, str] = field(default_factory=dict)  # column → cell text that did not fit
    fingerprint: str = ""


class _Converter:
    """Turns the cells of a row into field values, people and commitments.

    A cell that does not fit its column never costs the row: the rest of the row goes in, and
    the cell's text is kept (in the column's companion text field, "<column> (as imported)",
    which the run creates when it first needs it) and reported as a warning with its line,
    column and reason. Only a cell the row cannot be matched without (its key, our id) is an
    error that skips the row.
    """

    def __init__(self, setup: _Setup, fields: Mapping[str, FieldSpec], keys: Mapping[int, str]):
        self.setup = setup
        self.fields = fields
        self.headers = setup.analysis.headers
        self.lookups = col.Lookups(setup.users)
        self.steps: list[tuple[int, str, str, str, col.Converter, Any]] = []
        for index, (header, target) in enumerate(zip(self.headers, setup.targets, strict=True)):
            if target == col.SKIP:
                continue
            if target.startswith("new:"):
                target = f"field:{keys[index]}" if index in keys else target
            convert = _cell_converter(target, header, fields, self.lookups, setup.orders[header])
            if convert is None:
                continue
            kind, _, rest = target.partition(":")
            if target == col.CRM_ID:
                kind, rest = FIELD, col.CRM_ID
            elif target == col.PEOPLE:
                kind = PEOPLE
            blank: Any = None
            if kind == FIELD and rest in fields and fields[rest].type == "checkbox":
                blank = 0  # Airtable writes an unticked box as nothing
            self.steps.append((index, header, kind, rest, convert, blank))

    def convert(self, line: int, cells: list[str], report: ImportReport) -> _Row:
        key_index = self.setup.key_index
        key_cell = cells[key_index] if key_index < len(cells) else ""
        row = _Row(line, col.key_text(key_cell, exact=self.setup.exact_keys))
        values, count = row.values, len(cells)
        parts: dict[str, list[Any]] | None = None
        for index, header, kind, rest, convert, blank_value in self.steps:
            text = cells[index] if index < count else ""
            if not text or text.isspace():
                value = blank_value
            elif text[0] in "#NIn-" and c.is_formula_error(text):
                report.issue(
                    Issue(
                        line, header, text, "Airtable formula error: cell left as it was", "warning"
                    )
                )
                continue
            else:
                if text[0] == "'":  # our export's guard before = + - @ (any kind of cell)
                    text = c.undefuse(text)
                try:
                    value = convert(text)
                except c.CellError as exc:
                    self._does_not_fit(row, index, header, text, str(exc), report)
                    continue
            if kind == FIELD:
                values[rest] = value
            elif kind == COMMITMENT:
                row.commitments[rest] = value
            elif kind == PEOPLE:
                if value:
                    row.people.extend(value)
            elif value:
                if parts is None:
                    parts = {}
                parts[rest] = value
        if parts:
            self._pair_people(row, parts, report)
        if row.people:
            row.people = self._valid_people(row, report)
        return row

    def _does_not_fit(
        self, row: _Row, index: int, header: str, text: str, reason: str, report: ImportReport
    ) -> None:
        if index == self.setup.key_index or self.setup.targets[index] == col.CRM_ID:
            row.errors.append(Issue(row.line, header, text[:200], reason))
        elif len(text) > MAX_CELL_CHARS:
            report.issue(
                Issue(row.line, header, text[:200], f"{reason}: the cell is left out", "warning")
            )
        else:
            row.kept[index] = text
            report.issue(
                Issue(
                    row.line,
                    header,
                    text[:200],
                    f"{reason}: kept as text in {kept_label(header)!r}",
                    "warning",
                )
            )

    def _pair_people(self, row: _Row, parts: dict[str, list[Any]], report: ImportReport) -> None:
        """Separate name / email / title / phone columns: one person per name or address."""
        people = pair_people(
            parts.get("full_name", []),
            parts.get("email", []),
            parts.get("title", []),
            parts.get("phone", []),
        )
        if not people:  # only a title or a phone: nobody to give them to
            shown = " / ".join(parts.get("title", []) + parts.get("phone", []))
            report.issue(
                Issue(
                    row.line,
                    None,
                    shown[:200],
                    "no person's name or email on this row: the person is skipped",
                    "warning",
                )
            )
            return
        for person in people:
            if not person.get("full_name"):
                person["full_name"] = c.name_from_email(person["email"])
        row.people.extend(people)

    def _valid_people(self, row: _Row, report: ImportReport) -> list[dict[str, Any]]:
        """People checked as the grid checks them (once: the bulk path trusts these)."""
        valid = []
        for person in row.people:
            try:
                valid.append(people_service.parse_person(person, creating=True))
            except ValidationError as exc:
                report.issue(
                    Issue(
                        row.line,
                        None,
                        _person_text(person)[:200],
                        f"{exc.message}: the person is skipped",
                        "warning",
                    )
                )
        return valid


def _virtual_field(index: int, key: str, label: str, type_name: str) -> FieldSpec:
    """A field a dry run would create: compared with nothing, labelled as it would be."""
    return FieldSpec(-index, key, label, type_name, {"choices": []}, 10_000 + index, False, True)


# -- running ----------------------------------------------------------------------------------------
class _Rollback(Exception):
    """Raised inside the transaction to undo everything when the file has errors."""


@dataclass
class _Existing:
    """Investors the file can match, by key: key → [(id, archived)]."""

    by_key: dict[str, list[tuple[int, bool]]]

    def match(self, key: str) -> tuple[int | None, bool, list[int]]:
        found = self.by_key.get(key, [])
        live = [i for i, archived in found if not archived]
        if len(live) == 1:
            return live[0], False, []
        if len(live) > 1:
            return None, False, live
        gone = [i for i, archived in found if archived]
        if len(gone) == 1:
            return gone[0], True, []
        return None, False, gone


def _existing(ctx: Context, setup: _Setup, key_column: str | None) -> _Existing:
    by_key: dict[str, list[tuple[int, bool]]] = {}
    if key_column is None:
        return _Existing(by_key)
    for row_id, archived, value in ctx.db.execute(
        f"SELECT id, deleted_at IS NOT NULL, {quote(key_column)} FROM {INVESTORS}"
        f" WHERE {quote(key_column)} IS NOT NULL"
    ):
        by_key.setdefault(col.key_text(str(value), exact=setup.exact_keys), []).append(
            (row_id, bool(archived))
        )
    return _Existing(by_key)


def run(
    path: Path | str,
    ctx: Context,
    *,
    key: str | None = None,
    profile: str | None = None,
    mapping: Mapping[str, str] | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    date_orders: Mapping[str, str] | None = None,
    file_name: str | None = None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    archive_missing: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the file (or, with ``dry_run``, say exactly what importing it would do).

    Returns an :class:`ImportReport`; ``report.committed`` is true only when the import was
    written. File-level problems (unreadable file, unknown column in ``mapping``, no Name
    column) raise :class:`ValidationError` instead.
    """
    started = time.perf_counter()
    setup = _setup(
        path,
        ctx,
        key=key,
        profile=profile,
        mapping=mapping,
        encoding=encoding,
        delimiter=delimiter,
        date_orders=date_orders,
        file_name=file_name,
        count_failures=False,
        progress=progress,
    )
    report = ImportReport(preview=setup.preview, dry_run=dry_run)
    for issue in setup.preview.issues:
        report.issue(issue)
    bad_lines = {
        issue.line: issue
        for issue in setup.preview.issues
        if issue.line is not None and issue.severity == "error"
    }
    for _, lines in setup.analysis.duplicates:  # the first row with a key goes in
        bad_lines.pop(lines[0], None)
    if setup.preview.new_funds and not allowed(ctx.role, "manage_funds"):
        report.issue(
            Issue(
                None,
                None,
                None,
                f"Fund(s) {', '.join(setup.preview.new_funds)} do not exist and only admins can"
                " create funds: ask an admin, or map those columns to skip",
            )
        )
        report.seconds = time.perf_counter() - started
        return report
    runner = _Run(ctx, setup, report, bad_lines, skip_bad_rows, archive_missing, progress)
    with _no_cycle_collection():
        if dry_run:
            runner.execute(writing=False)
        else:
            with _page_cache(ctx, IMPORT_CACHE_KIB):
                _write(ctx, runner, report, skip_bad_rows)
    report.preview.rows = report.counts["rows"]
    report.issues.sort(key=lambda i: i.line or 0)
    report.diffs.sort(key=lambda d: d.line)  # in file order (a batch's skips are found first)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector off while rows are converted: an import allocates millions of
    short-lived dicts and tuples without cycles, and each collection walks every live object
    again (measured: 6 % of a 100,000-row import). What cycles there are go at the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _page_cache(ctx: Context, kib: int) -> Iterator[None]:
    """A bigger SQLite page cache while an import writes: index pages of a table growing by
    100,000 rows stay in memory instead of being re-read (measured: insert 3.3 → 2.3 s)."""
    previous = int(ctx.db.execute("PRAGMA cache_size").fetchone()[0])
    ctx.db.execute(f"PRAGMA cache_size = -{kib}")
    try:
        yield
    finally:
        ctx.db.execute(f"PRAGMA cache_size = {previous}")


def _write(ctx: Context, runner: _Run, report: ImportReport, skip_bad_rows: bool) -> None:
    """The real run: one transaction, rolled back when the file has errors (unless skipping
    them) or when nothing would change."""
    try:
        with write(ctx):
            runner.execute(writing=True)
            if report.errors and not skip_bad_rows:
                raise _Rollback
            if report.changes == 0:
                report.unchanged = True
                raise _Rollback  # the database already matches: write nothing at all
            runner.finish()
    except _Rollback:
        report.committed = False
    else:
        report.committed = True
        refresh_statistics(ctx.db.conn)


class _Run:
    """The second pass: convert, match, compare and (when writing) apply, batch by batch."""

    def __init__(
        self,
        ctx: Context,
        setup: _Setup,
        report: ImportReport,
        bad_lines: dict[int, Issue],
        skip_bad_rows: bool,
        archive_missing: bool,
        progress: Progress | None,
    ) -> None:
        self.ctx, self.setup, self.report = ctx, setup, report
        self.bad_lines = bad_lines
        self.skip_bad_rows, self.archive_missing = skip_bad_rows, archive_missing
        self.progress = progress
        self.writing = False
        self.failed = False
        self.seen: set[int] = set()
        self.new_keys: dict[int, str] = {}
        self.fund_ids: dict[str, int | None] = dict(setup.funds)
        self.deferred: list[tuple[int, list[dict[str, Any]], list[Any]]] = []
        self.key_lines: dict[str, int] = {}
        self.imported: list[tuple[int, str]] = []  # (investor id, fingerprint) to remember
        self.still: list[tuple[int]] = []  # investors whose fingerprint still holds
        self.started_at = ctx.clock.now()

    # -- setup inside the transaction ------------------------------------------------------------
    def _create_fields_and_funds(self) -> None:
        setup = self.setup
        for index, (header, target) in enumerate(
            zip(setup.analysis.headers, setup.targets, strict=True)
        ):
            if target.startswith("new:"):
                label = field_label(header)
                if col.match_field(load_fields(self.ctx.db), label) is not None:
                    label = field_label(header, " (imported)")
                options = {"choices": []} if target[4:] in ("single_select", "multi_select") else {}
                spec = field_service.add_field(self.ctx, label, target[4:], options)
                self.new_keys[index] = spec.key
        for name in setup.preview.new_funds:
            self.fund_ids[name] = fund_service.create_fund(self.ctx, {"name": name})["id"]

    def execute(self, *, writing: bool) -> None:
        self.writing = writing
        ctx, setup = self.ctx, self.setup
        if writing:
            self._create_fields_and_funds()
        fields = load_fields(ctx.db)
        virtual = dict(fields)
        if not writing:  # a dry run compares new fields with nothing
            for index, target in enumerate(setup.targets):
                if target.startswith("new:"):
                    self.new_keys[index] = f"__new_{index}"
                    virtual[f"__new_{index}"] = _virtual_field(
                        index, f"__new_{index}", setup.analysis.headers[index], target[4:]
                    )
        self.fields = virtual
        self.kept_keys, self.kept_clears = self._existing_kept_fields(fields)
        self.converter = _Converter(setup, virtual, self.new_keys)
        key_target = setup.targets[setup.key_index]
        if key_target.startswith("new:"):
            key_target = f"field:{self.new_keys[setup.key_index]}"
        self.key_column = None if key_target == col.CRM_ID else key_target[6:]
        self.key_is_id = key_target == col.CRM_ID
        if self.key_is_id:
            by_key = {
                str(i): [(i, bool(a))]
                for i, a in ctx.db.execute(f"SELECT id, deleted_at IS NOT NULL FROM {INVESTORS}")
            }
            self.existing = _Existing(by_key)
        elif self.key_column in fields:
            self.existing = _existing(ctx, setup, self.key_column)
        else:
            self.existing = _Existing({})  # a new field: nothing has a value in it yet
        self.creator = BulkCreator(ctx, ctx.active_write) if writing else None
        self.field_columns = [k for k in virtual if k in fields]
        resolved = [
            f"field:{self.new_keys[i]}" if i in self.new_keys else t
            for i, t in enumerate(setup.targets)
        ]
        self.signature = _mapping_signature(setup, resolved, virtual)
        known = self._fingerprints()
        key_index, exact = setup.key_index, setup.exact_keys
        width = len(setup.analysis.headers)
        batch: list[_Row] = []
        for line, cells in self._rows():
            fingerprint = _fingerprint(self.signature, cells)
            key = col.key_text(cells[key_index], exact=exact) if key_index < len(cells) else ""
            if setup.single_pass and (
                self._ragged(line, len(cells), width) or self._key_problem(line, key)
            ):
                continue
            if known:
                investor_id, _archived, _ = self.existing.match(key)
                if investor_id is not None and known.get(investor_id) == fingerprint:
                    self.seen.add(investor_id)  # the same cells as last time, nothing changed since
                    self.still.append((investor_id,))
                    self.report.counts["unchanged"] += 1
                    self.report.counts["rows"] += 1
                    continue
            row = self.converter.convert(line, cells, self.report)
            row.fingerprint = fingerprint
            batch.append(row)
            if len(batch) >= BATCH:
                self._batch(batch)
                batch = []
        if batch:
            self._batch(batch)
        if self.archive_missing:
            self._archive_missing()
        self.report.new_options = {
            h: list(dict.fromkeys(o)) for h, o in self.converter.lookups.new_options.items() if o
        }

    # -- cells kept as text ------------------------------------------------------------------------
    def _existing_kept_fields(
        self, fields: Mapping[str, FieldSpec]
    ) -> tuple[dict[int, str], set[int]]:
        """Columns whose "(as imported)" field exists already (named in the profile, or found by
        its label): every row then writes it, so a cell fixed at the source clears it. Where a
        column of the file is itself mapped to that field (our own export), only new misfits
        are written there."""
        setup = self.setup
        mapped = set(setup.targets)
        keys: dict[int, str] = {}
        for index, header in enumerate(setup.analysis.headers):
            if setup.targets[index] in (col.SKIP, col.CRM_ID) or index == setup.key_index:
                continue
            key = setup.kept_fields.get(header)
            if key not in fields:
                spec = col.match_field(fields, kept_label(header))
                key = spec.key if spec is not None and spec.type in ("text", "long_text") else None
            if key is not None:
                keys[index] = key
        clears = {i for i, key in keys.items() if f"field:{key}" not in mapped}
        return keys, clears

    def _keep_cells(self, rows: list[_Row]) -> None:
        """Put each cell that did not fit its column into the column's "(as imported)" field,
        creating the field the first time a column needs one."""
        for row in rows:
            for index in row.kept:
                if index not in self.kept_keys:
                    self._add_kept_field(index)
        if not self.kept_keys:
            return
        for row in rows:
            for index, key in self.kept_keys.items():
                text = row.kept.get(index)
                if text is not None or index in self.kept_clears:
                    row.values[key] = text

    def _add_kept_field(self, index: int) -> None:
        header = self.setup.analysis.headers[index]
        label = kept_label(header)
        if self.writing:
            existing = load_fields(self.ctx.db)
            taken, number = label, 1
            while col.match_field(existing, taken) is not None:
                number += 1
                taken = field_label(header, f"{KEPT_SUFFIX} {number}")
            spec = field_service.add_field(self.ctx, taken, "long_text", {})
            key, label = spec.key, taken
            self.fields[key] = spec
            self.field_columns.append(key)
            if self.creator is not None:
                self.creator.fields_changed()
        else:
            key = f"__kept_{index}"
            self.fields[key] = _virtual_field(index, key, label, "long_text")
        self.kept_keys[index] = key
        self.kept_clears.add(index)
        self.report.preview.new_fields.append(label)

    def _fingerprints(self) -> dict[int, str]:
        """investor id → fingerprint of its row in the last import, for investors that nothing
        has changed since: same version, and no person or commitment written after the oldest
        fingerprint (a scan of two small tables instead of two lookups per investor)."""
        db = self.ctx.db
        oldest = db.execute("SELECT min(imported_at) FROM import_row_fingerprints").fetchone()[0]
        if oldest is None:
            return {}
        touched = {
            r[0]
            for r in db.execute(
                "SELECT investor_id FROM fundraising_contacts WHERE updated_at > ?"
                " UNION SELECT investor_id FROM fundraising_commitments WHERE updated_at > ?",
                [oldest, oldest],
            )
        }
        rows = db.execute(
            "SELECT f.investor_id, f.fingerprint FROM import_row_fingerprints f"
            f" JOIN {INVESTORS} i ON i.id = f.investor_id AND i.version = f.investor_version"
            " AND i.deleted_at IS NULL"
        )
        return {i: fingerprint for i, fingerprint in rows if i not in touched}

    def _ragged(self, line: int, cells: int, width: int) -> bool:
        if cells == width:
            return False
        self.report.counts["rows"] += 1
        self._skip(Issue(line, None, None, f"the row has {cells} cells; the header has {width}"))
        return True

    def _key_problem(self, line: int, key: str) -> bool:
        """In a single pass (no analysis pass before), report empty and repeated keys here;
        the first row with a key is the one imported."""
        header = self.setup.analysis.headers[self.setup.key_index]
        if not key:
            problem = Issue(line, header, None, "the key is empty")
        elif key in self.key_lines:
            first = self.key_lines[key]
            problem = Issue(line, header, key, f"duplicate key: also on line {first}")
        else:
            self.key_lines[key] = line
            return False
        self.report.counts["rows"] += 1
        self._skip(problem)
        return True

    def _skip(self, problem: Issue, *, reported: bool = False, key: str = "") -> None:
        """A row that cannot go in: counted as skipped (so the counts add up to the file's
        rows) with its reason. Unless skipping bad rows was asked for, the run then writes
        nothing at all."""
        if not reported:
            self.report.issue(problem)
        self.failed = True
        self.report.counts["skipped"] += 1
        if problem.line is not None:
            self.report.diff(
                RowDiff(problem.line, key, None, "skip", [("Reason", None, problem.describe())])
            )

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        progress = (lambda f: self.progress("importing", f)) if self.progress else None
        rows = read_rows(self.setup.source, progress=progress)
        next(rows)
        for line, cells in rows:
            if not any(cells) or (len(cells) == 1 and not cells[0].strip()):
                continue
            yield line, cells

    # -- one batch --------------------------------------------------------------------------------
    def _batch(self, rows: list[_Row]) -> None:
        report = self.report
        usable: list[tuple[_Row, int | None, bool]] = []
        self._keep_cells(rows)
        for row in rows:
            for issue in row.errors:
                report.issue(issue)
            if row.errors:
                self._skip(row.errors[0], reported=True, key=row.key)
                continue
            if row.line in self.bad_lines:  # reported by the analysis pass
                self._skip(self.bad_lines[row.line], reported=True, key=row.key)
                continue
            investor_id, archived, ambiguous = self.existing.match(row.key)
            if ambiguous and investor_id is None and len(ambiguous) > 1:
                self._skip(
                    Issue(
                        row.line,
                        self.setup.analysis.headers[self.setup.key_index],
                        row.key,
                        f"{len(ambiguous)} investors have this key (ids"
                        f" {', '.join(map(str, ambiguous[:5]))}): choose a unique key column",
                    ),
                    key=row.key,
                )
                continue
            if investor_id is None and self.key_is_id:
                self._skip(
                    Issue(row.line, "id", row.key, "no investor has this Venture CRM id"),
                    key=row.key,
                )
                continue
            if investor_id is None and not row.values.get("name"):
                self._skip(Issue(row.line, None, None, "a new investor needs a Name"), key=row.key)
                continue
            usable.append((row, investor_id, archived))
        report.counts["rows"] += len(rows)
        matched = [i for _, i, _ in usable if i is not None]
        self.seen.update(matched)
        current = self._current(matched)
        people = self._people(matched) if any(r.people for r, _, _ in usable) else {}
        commitments = self._commitments(matched) if self._has_commitments() else {}
        creates, created_prints = [], []
        for row, investor_id, archived in usable:
            if investor_id is None:
                creates.append(self._create(row))
                created_prints.append(row.fingerprint)
            else:
                self._update(row, investor_id, archived, current[investor_id], people, commitments)
                self.imported.append((investor_id, row.fingerprint))
        if creates and self.writing and not (self.failed and not self.skip_bad_rows):
            first = self.creator.plan.next[INVESTORS]  # the bulk path numbers rows in order
            self.creator.add(creates, parsed=True)
            self.imported.extend(
                zip(range(first, first + len(creates)), created_prints, strict=True)
            )

    def _has_commitments(self) -> bool:
        return any(t.startswith("commitment:") for t in self.setup.targets)

    def _current(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        names = ["id", "version", "deleted_at", *(k for k in self.field_columns)]
        sql = ", ".join(quote(n) for n in names)
        marks = ", ".join("?" * len(ids))
        cursor = self.ctx.db.execute(f"SELECT {sql} FROM {INVESTORS} WHERE id IN ({marks})", ids)
        return {r[0]: dict(zip(names, r, strict=True)) for r in cursor}

    def _people(self, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        if not ids:
            return found
        marks = ", ".join("?" * len(ids))
        cursor = self.ctx.db.execute(
            "SELECT id, investor_id, version, full_name, email, title, phone"
            f" FROM fundraising_contacts WHERE investor_id IN ({marks}) AND {LIVE}",
            ids,
        )
        names = [d[0] for d in cursor.description]
        for r in cursor:
            record = dict(zip(names, r, strict=True))
            found.setdefault(record["investor_id"], []).append(record)
        return found

    def _commitments(self, ids: list[int]) -> dict[tuple[int, int], dict[str, Any]]:
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        cursor = self.ctx.db.execute(
            "SELECT id, investor_id, fund_id, version, amount, status, committed_on"
            f" FROM fundraising_commitments WHERE investor_id IN ({marks}) AND {LIVE}",
            ids,
        )
        names = [d[0] for d in cursor.description]
        return {(r[1], r[2]): dict(zip(names, r, strict=True)) for r in cursor}

    def _create(self, row: _Row) -> dict[str, Any]:
        """The record the bulk creator takes (the row's own dict, to spare a copy per row)."""
        report = self.report
        report.counts["created"] += 1
        record = row.values
        record.pop(col.CRM_ID, None)
        if len(report.diffs) < DIFF_LIMIT:
            changes = [(self._label(k), None, v) for k, v in record.items() if v is not None]
            report.diff(RowDiff(row.line, row.key, None, "create", changes))
        report.counts["people_added"] += len(row.people)
        commitments = [
            {"fund_id": self.fund_ids.get(fund), "amount": amount}
            for fund, amount in row.commitments.items()
            if amount is not None
        ]
        report.counts["commitments_added"] += len(commitments)
        record.update(people=row.people, commitments=commitments, row=row.line)
        return record

    def _label(self, key: str) -> str:
        spec = self.fields.get(key)
        return spec.label if spec is not None else key

    def _update(
        self,
        row: _Row,
        investor_id: int,
        archived: bool,
        current: dict[str, Any],
        people: Mapping[int, list[dict[str, Any]]],
        commitments: Mapping[tuple[int, int], dict[str, Any]],
    ) -> None:
        report = self.report
        changes = {  # plain != is exact here: stored values are never bools, 2 == 2.0 is no change
            k: v
            for k, v in row.values.items()
            if v != current.get(k) and k != col.CRM_ID and not self._same_meaning(k, v, current)
        }
        diff: list[tuple[str, Any, Any]] = []
        for k, v in changes.items():
            report.changed_fields[self._label(k)] += 1
            diff.append((self._label(k), current.get(k), v))
        person_adds, person_updates = self._people_diff(row, people.get(investor_id, []), diff)
        commitment_ops = self._commitment_diff(row, investor_id, commitments, diff)
        if archived:
            action = "restore"
        elif changes or person_adds or person_updates or commitment_ops:
            action = "update"
        else:
            report.counts["unchanged"] += 1
            return
        report.counts["restored" if archived else "updated"] += 1
        report.diff(RowDiff(row.line, row.key, investor_id, action, diff))
        if not self.writing or (self.failed and not self.skip_bad_rows):
            return
        ctx, tx = self.ctx, self.ctx.active_write
        version = current["version"]
        if archived:
            version = tx.restore(INVESTORS, investor_id, expected_version=version)["version"]
        if changes:
            update_investor_row(
                tx, load_fields(ctx.db), investor_id, changes, expected_version=version
            )
        for person_id, person_version, values in person_updates:
            people_service.update_person(ctx, person_id, values, expected_version=person_version)
        # Inserts wait until the bulk creator is done: it has reserved the next ids.
        self.deferred.append((investor_id, person_adds, commitment_ops))

    def _apply_deferred(self) -> None:
        ctx = self.ctx
        for investor_id, person_adds, commitment_ops in self.deferred:
            self._insert_related(ctx, investor_id, person_adds, commitment_ops)

    @staticmethod
    def _insert_related(
        ctx: Context,
        investor_id: int,
        person_adds: list[dict[str, Any]],
        commitment_ops: list[tuple[int, dict[str, Any] | None, float | None]],
    ) -> None:
        for values in person_adds:
            people_service.add_person(ctx, investor_id, values)
        for fund_id, existing, amount in commitment_ops:
            if amount is None:
                commitment_service.remove_commitment(
                    ctx, existing["id"], expected_version=existing["version"]
                )
            else:
                commitment_service.set_commitment(
                    ctx,
                    investor_id,
                    fund_id,
                    amount,
                    status=existing["status"] if existing else "committed",
                    committed_on=existing["committed_on"] if existing else None,
                    expected_version=existing["version"] if existing else None,
                )

    def _same_meaning(self, key: str, value: Any, current: Mapping[str, Any]) -> bool:
        """Values that differ as stored but not in meaning: an unticked box read from a file (0)
        and one never set (NULL); text with CRLF line breaks (a CSV reader reads them as LF)."""
        stored = current.get(key)
        if stored is None:
            spec = self.fields.get(key)
            return value == 0 and spec is not None and spec.type == "checkbox"
        if isinstance(stored, str) and "\r" in stored and isinstance(value, str):
            return stored.replace("\r\n", "\n").replace("\r", "\n") == value
        return False

    def _people_diff(
        self, row: _Row, existing: list[dict[str, Any]], diff: list[tuple[str, Any, Any]]
    ) -> tuple[list[dict[str, Any]], list[tuple[int, int, dict[str, Any]]]]:
        adds: list[dict[str, Any]] = []
        updates: list[tuple[int, int, dict[str, Any]]] = []
        by_email = {(p["email"] or "").casefold(): p for p in existing if p["email"]}
        by_name = {" ".join(p["full_name"].casefold().split()): p for p in existing}
        for person in row.people:
            email = (person.get("email") or "").casefold()
            match = by_email.get(email) if email else None
            if match is None:
                match = by_name.get(" ".join(person["full_name"].casefold().split()))
                if (
                    match is not None
                    and email
                    and match["email"]
                    and match["email"].casefold() != email
                ):
                    match = None  # same name, another email: another person
            if match is None:
                adds.append({k: v for k, v in person.items() if v is not None})
                diff.append(("Person", None, _person_text(person)))
                self.report.counts["people_added"] += 1
                continue
            changed = {
                k: v
                for k, v in person.items()
                if v is not None and k in ("full_name", "email", "title", "phone") and v != match[k]
            }
            if changed:
                updates.append((match["id"], match["version"], changed))
                diff.append(("Person", _person_text(match), _person_text({**match, **changed})))
                self.report.counts["people_updated"] += 1
        return adds, updates

    def _commitment_diff(
        self,
        row: _Row,
        investor_id: int,
        existing: Mapping[tuple[int, int], dict[str, Any]],
        diff: list[tuple[str, Any, Any]],
    ) -> list[tuple[int, dict[str, Any] | None, float | None]]:
        ops: list[tuple[int, dict[str, Any] | None, float | None]] = []
        for fund, amount in row.commitments.items():
            fund_id = self.fund_ids.get(fund)
            current = existing.get((investor_id, fund_id)) if fund_id is not None else None
            label = f"Commitment to {fund}"
            if amount is None and current is not None:
                self.report.counts["commitments_removed"] += 1
            elif amount is not None and current is None:
                self.report.counts["commitments_added"] += 1
            elif (
                amount is not None
                and current is not None
                and not same_stored_value(float(current["amount"]), amount)
            ):
                self.report.counts["commitments_changed"] += 1
            else:
                continue
            diff.append((label, current["amount"] if current else None, amount))
            if fund_id is not None:
                ops.append((fund_id, current, amount))
        return ops

    # -- the end ----------------------------------------------------------------------------------
    def _archive_missing(self) -> None:
        if self.key_column is None and not self.key_is_id:
            return
        column = "id" if self.key_is_id else self.key_column
        if column is None or column.startswith("__new_"):
            return
        rows = self.ctx.db.execute(
            f"SELECT id, version, name FROM {INVESTORS} WHERE {LIVE} AND {quote(column)} IS NOT NULL"
        ).fetchall()
        missing = [(i, v, n) for i, v, n in rows if i not in self.seen]
        self.report.counts["archived"] += len(missing)
        for investor_id, version, name in missing:
            self.report.diff(RowDiff(0, name, investor_id, "archive", []))
            if self.writing and not (self.failed and not self.skip_bad_rows):
                self.ctx.active_write.archive(INVESTORS, investor_id, expected_version=version)

    def finish(self) -> None:
        """Inside the transaction, after the rows: select options, the import's record and
        the saved profile."""
        ctx, setup, report = self.ctx, self.setup, self.report
        self.creator.finish()
        self._apply_deferred()
        for header, options in report.new_options.items():
            index = setup.analysis.headers.index(header)
            target = setup.targets[index]
            key = self.new_keys.get(index) or target.partition(":")[2]
            spec = load_fields(ctx.db)[key]
            choices = list(spec.options.get("choices") or []) + [
                o for o in options if o not in (spec.options.get("choices") or [])
            ]
            field_service.update_choices(ctx, key, choices, expected_version=spec.version)
        columns = {}
        for index, (header, target) in enumerate(
            zip(setup.analysis.headers, setup.targets, strict=True)
        ):
            columns[header] = f"field:{self.new_keys[index]}" if index in self.new_keys else target
        options = {"skip_bad_rows": self.skip_bad_rows, "archive_missing": self.archive_missing}
        report.import_id = record_import(
            ctx,
            file=report.preview.file,
            profile=setup.profile,
            key_column=report.preview.key_column,
            options={**options, "mapping": columns},
            counts={k: v for k, v in report.counts.items()},
            started_at=self.started_at,
        )
        save_profile(
            ctx,
            setup.profile,
            columns=columns,
            key_column=report.preview.key_column,
            options={
                "date_orders": setup.orders,
                "delimiter": setup.source.delimiter,
                "exact_keys": setup.exact_keys,
                "kept_fields": {
                    setup.analysis.headers[i]: key
                    for i, key in self.kept_keys.items()
                    if not key.startswith("__")
                },
            },
            header_signature=_header_signature(setup.analysis.headers),
        )
        now = ctx.active_write.now
        ctx.active_write.conn.executemany(  # the version each investor has once all is written
            "INSERT OR REPLACE INTO import_row_fingerprints"
            " (investor_id, fingerprint, investor_version, imported_at)"
            f" SELECT id, ?, version, ? FROM {INVESTORS} WHERE id = ?",
            [(fingerprint, now, investor_id) for investor_id, fingerprint in self.imported],
        )
        ctx.active_write.conn.executemany(  # checked unchanged just now: keep the window small
            "UPDATE import_row_fingerprints SET imported_at = ? WHERE investor_id = ?",
            [(now, investor_id) for (investor_id,) in self.still],
        )


# -- uploads ----------------------------------------------------------------------------------------
def stage_upload(ctx: Context, content: bytes, file_name: str) -> Path:
    """Keep an uploaded file under ``<data>/imports/`` (private to the server) for the preview →
    dry run → import steps; :func:`discard_upload` removes it. Returns its path."""
    require(ctx, "import_data")
    if not content:
        raise ValidationError(f"{file_name or 'The upload'} is empty: there is nothing to import")
    folder = ctx.settings.data_dir / "imports"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stale = time.time() - UPLOAD_TTL_SECONDS
    for old in folder.glob("*.csv"):  # left behind by a session that never finished
        if old.stat().st_mtime < stale:
            old.unlink(missing_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def discard_upload(path: Path) -> None:
    """Remove a staged upload (the import keeps its name and SHA-256, not its content)."""
    path.unlink(missing_ok=True)


def _person_text(person: Mapping[str, Any]) -> str:
    text = person.get("full_name") or ""
    if person.get("email"):
        text += f" <{person['email']}>"
    if person.get("title"):
        text += f", {person['title']}"
    return text


__all__ = [
    "ImportPreview",
    "ImportReport",
    "RowDiff",
    "default_profile_name",
    "discard_upload",
    "preview",
    "run",
    "stage_upload",
]
