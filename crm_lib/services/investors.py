"""Investors (LPs): the rows of the master grid.

Values are given by field key (``"last_contacted_at"``) or label (``"Last contacted"``) and are
validated by each field's type; user-defined fields work exactly like built-in ones.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.grid.field_types import stored_as_is
from crm_lib.grid.fields import FieldSpec, load_fields, parse_values, resolve_field
from crm_lib.grid.filters import compile_conditions, compile_tree
from crm_lib.grid.records import insert_investor, update_investor_row
from crm_lib.limits import check_text
from crm_lib.services.users import require_live_user
from crm_lib.storage.reads import LIVE, query_dicts, query_value, while_grid_unchanged
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import write

INVESTORS = "fundraising_investors"
LISTS = ("main", "follow_up", "graveyard", "longshot")
MAX_PAGE_SIZE = 1000
HISTORY_LIMIT = 200


@dataclass(frozen=True)
class InvestorPage:
    """One page of investors plus the total number of rows the query matches."""

    rows: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    total_invested: float = 0.0  # sum over every matching row, not just this page


def decode_investor(fields: Mapping[str, FieldSpec], row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored row as Python values (tags as a list, and so on)."""
    return decode_investors(fields, [row])[0]


def decode_investors(
    fields: Mapping[str, FieldSpec], rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Many stored rows as Python values; only fields whose type changes the value are visited
    (a page of 100 rows decodes 3x faster than asking every field of every row)."""
    decoders = [
        (key, spec.kind.decode)
        for key, spec in fields.items()
        if spec.kind.decode is not stored_as_is
    ]
    decoded = []
    for row in rows:
        record = dict(row)
        for key, decode in decoders:
            if key in record:
                record[key] = decode(record[key])
        decoded.append(record)
    return decoded


def validated_values(
    ctx: Context, fields: Mapping[str, FieldSpec], values: Mapping[str, Any], *, creating: bool
) -> dict[str, Any]:
    stored = parse_values(fields, values)
    if (creating or "name" in stored) and not stored.get("name"):
        raise ValidationError("Name cannot be empty", field="name")
    if stored.get("name"):  # the text type allows more than a name needs
        check_text(stored["name"], "investor_name", field="name", label="Name")
    if "list_membership" in stored and stored["list_membership"] is None:
        raise ValidationError("List cannot be empty", field="list_membership")
    require_live_user(ctx, stored.get("owner_id"))
    return stored


def create_investor(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """Add an investor; ``values`` must include a name. Returns the stored record."""
    fields = load_fields(ctx.db)
    stored = validated_values(ctx, fields, values, creating=True)
    stored.setdefault("list_membership", "main")
    with write(ctx) as tx:
        investor_id = insert_investor(tx, fields, stored)
    return _read_investor(ctx, investor_id, include_archived=False)


def update_investor(
    ctx: Context, investor_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Change several fields at once, if the row is still at ``expected_version``."""
    fields = load_fields(ctx.db)
    stored = validated_values(ctx, fields, changes, creating=False)
    with write(ctx) as tx:
        row = update_investor_row(
            tx, fields, investor_id, stored, expected_version=expected_version
        )
    return decode_investor(fields, row)


def update_field(
    ctx: Context, investor_id: int, field: str, value: Any, *, expected_version: int
) -> dict[str, Any]:
    """Change one cell (what a grid edit does)."""
    return update_investor(ctx, investor_id, {field: value}, expected_version=expected_version)


def archive_investor(ctx: Context, investor_id: int, *, expected_version: int) -> dict[str, Any]:
    """Hide an investor (and with it its people and commitments) from every read; restorable."""
    with write(ctx) as tx:
        row = tx.archive(INVESTORS, investor_id, expected_version=expected_version)
    return decode_investor(load_fields(ctx.db), row)


def restore_investor(ctx: Context, investor_id: int, *, expected_version: int) -> dict[str, Any]:
    """Bring an archived investor back, with the people and commitments it had."""
    with write(ctx) as tx:
        row = tx.restore(INVESTORS, investor_id, expected_version=expected_version)
    return decode_investor(load_fields(ctx.db), row)


def restore_value(ctx: Context, audit_id: int, *, expected_version: int) -> dict[str, Any]:
    """Set an investor's field back to the value it had before the change ``audit_id`` recorded
    ("restore this value" in the record's history). A new change, audited like any edit."""
    rows = query_dicts(
        ctx.db,
        "SELECT entity, entity_id, action, field, old_value FROM audit_log WHERE id = ?",
        [audit_id],
    )
    if not rows or rows[0]["entity"] != INVESTORS:
        raise NotFound("history entry", audit_id)
    entry = rows[0]
    if entry["action"] != "update" or not entry["field"]:
        raise ValidationError("Only a changed field's value can be restored")
    fields = load_fields(ctx.db)
    spec = fields.get(entry["field"])
    if spec is None:
        raise ValidationError(
            f"The field {entry['field']!r} no longer exists", field=entry["field"]
        )
    if not spec.is_editable:
        raise ValidationError(f"{spec.label} is calculated; it follows its inputs", field=spec.key)
    old = json.loads(entry["old_value"]) if entry["old_value"] is not None else None
    return update_investor(
        ctx, entry["entity_id"], {spec.key: old}, expected_version=expected_version
    )


def set_investors_archived(ctx: Context, rows: Sequence[tuple[int, int]], *, archived: bool) -> int:
    """Archive (or restore) several investors, each at the version the caller saw, in one
    transaction: all of them or, on any conflict, none. Returns how many."""
    change = archive_investor if archived else restore_investor
    with write(ctx):
        for investor_id, version in rows:
            change(ctx, investor_id, expected_version=version)
    return len(rows)


def investor_named(ctx: Context, name: str) -> dict[str, Any]:
    """The live investor called ``name`` (case-insensitively), for the shell and scripts that
    name investors rather than number them; none or several is an error saying so."""
    rows = query_dicts(
        ctx.db,
        f"SELECT id, name FROM {INVESTORS} WHERE lower(name) = lower(?) AND {LIVE} LIMIT 3",
        [" ".join(name.split())],
    )
    if not rows:
        raise ValidationError(f"No investor is named {name!r}", field="investor")
    if len(rows) > 1:
        ids = ", ".join(str(r["id"]) for r in rows)
        raise ValidationError(f"Several investors are named {name!r} (ids {ids})", field="investor")
    return rows[0]


def require_live_investor(ctx: Context, investor_id: int) -> None:
    """Refuse a reference to an investor that does not exist or is archived."""
    if (
        query_value(ctx.db, f"SELECT 1 FROM {INVESTORS} WHERE id = ? AND {LIVE}", [investor_id])
        is None
    ):
        raise NotFound("investor", investor_id)


def _read_investor(ctx: Context, investor_id: int, *, include_archived: bool) -> dict[str, Any]:
    """The investor row alone, decoded (no people, commitments or history)."""
    live = "" if include_archived else f" AND {LIVE}"
    rows = query_dicts(ctx.db, f"SELECT * FROM {INVESTORS} WHERE id = ?{live}", [investor_id])
    if not rows:
        raise NotFound("investor", investor_id)
    return decode_investor(load_fields(ctx.db), rows[0])


def get_investor(
    ctx: Context, investor_id: int, *, include_archived: bool = False
) -> dict[str, Any]:
    """An investor with its people, commitments and history (newest first).

    Returns ``{"investor": {...}, "people": [...], "commitments": [...], "history": [...]}``.
    """
    investor = _read_investor(ctx, investor_id, include_archived=include_archived)
    people = query_dicts(
        ctx.db,
        f"SELECT * FROM fundraising_contacts WHERE investor_id = ? AND {LIVE}"
        " ORDER BY is_primary DESC, lower(full_name), id",
        [investor_id],
    )
    for person in people:
        person["is_primary"] = bool(person["is_primary"])
    commitments = query_dicts(
        ctx.db,
        "SELECT c.*, f.name AS fund_name FROM fundraising_commitments c"
        " JOIN fundraising_funds f ON f.id = c.fund_id"
        " WHERE c.investor_id = ? AND c.deleted_at IS NULL ORDER BY f.vintage_year, f.id",
        [investor_id],
    )
    return {
        "investor": investor,
        "people": people,
        "commitments": commitments,
        "history": investor_history(ctx, investor_id),
    }


_HISTORY_COLUMNS = "a.id, a.at, a.actor, a.txn, a.entity, {entity_id} AS entity_id, a.action,"
_HISTORY_COLUMNS += " a.field, a.old_value, a.new_value,"
_HISTORY_COLUMNS += " (SELECT file_name FROM imports WHERE imports.txn = a.txn) AS import_file"
_SINGLE = _HISTORY_COLUMNS.format(entity_id="a.entity_id")
#: The audit rows of one investor and its people and commitments: rows about one record, and the
#: ranges a bulk write created that hold one of them (each shown as that record's creation).
_HISTORY = (
    f"SELECT {_SINGLE} FROM audit_log a WHERE a.last_entity_id IS NULL"
    " AND ((a.entity = 'fundraising_investors' AND a.entity_id = :id)"
    " OR (a.entity = 'fundraising_contacts' AND a.entity_id IN"
    "     (SELECT id FROM fundraising_contacts WHERE investor_id = :id))"
    " OR (a.entity = 'fundraising_commitments' AND a.entity_id IN"
    "     (SELECT id FROM fundraising_commitments WHERE investor_id = :id)))"
    f" UNION ALL SELECT {_HISTORY_COLUMNS.format(entity_id=':id')} FROM audit_log a"
    " WHERE a.entity = 'fundraising_investors' AND a.last_entity_id IS NOT NULL"
    " AND a.entity_id <= :id AND a.last_entity_id >= :id"
    + "".join(
        f" UNION ALL SELECT {_HISTORY_COLUMNS.format(entity_id='r.id')} FROM {table} r"
        " JOIN audit_log a ON a.entity = '" + table + "' AND a.last_entity_id IS NOT NULL"
        " AND r.id BETWEEN a.entity_id AND a.last_entity_id WHERE r.investor_id = :id"
        for table in ("fundraising_contacts", "fundraising_commitments")
    )
    + " ORDER BY id DESC, entity_id DESC LIMIT :limit"
)


def investor_history(
    ctx: Context, investor_id: int, *, limit: int = HISTORY_LIMIT
) -> list[dict[str, Any]]:
    """Audit rows of the investor and of its people and commitments, newest first.

    ``old_value`` / ``new_value`` come back decoded from JSON (a create row's ``new_value`` is the
    dict of the created row's values); ``import_file`` names the file when an import made the
    change.
    """
    rows = query_dicts(ctx.db, _HISTORY, {"id": investor_id, "limit": limit})
    for row in rows:
        for key in ("old_value", "new_value"):
            row[key] = None if row[key] is None else json.loads(row[key])
    return rows


def _check_list(list_membership: str) -> None:
    if list_membership != "all" and list_membership not in LISTS:
        raise ValidationError(
            f"Unknown list {list_membership!r}; use all, {', '.join(LISTS)}",
            field="list_membership",
        )


@dataclass(frozen=True)
class _InvestorQuery:
    """The WHERE clause of a list of investors: which rows (live or archived, one list) and
    the filters on them, kept apart so :func:`list_investors` can weigh each filter's
    selectivity. :func:`investor_order` builds the same clause, so it walks exactly the rows the
    grid pages through."""

    base_where: str
    base_params: list[Any]
    filters: list[str]
    filter_params: list[Any]

    @property
    def where(self) -> str:
        return " AND ".join([self.base_where, *self.filters])

    @property
    def params(self) -> list[Any]:
        return [*self.base_params, *self.filter_params]

    @classmethod
    def build(
        cls,
        ctx: Context,
        fields: Mapping[str, FieldSpec],
        list_membership: str,
        conditions: Sequence[tuple[str, str, Any]],
        search: str | None,
        filter_tree: Mapping[str, Any] | None,
        archived: bool,
        only_ids: Sequence[int] | None = None,
    ) -> _InvestorQuery:
        base_where, base_params = ("deleted_at IS NOT NULL" if archived else LIVE), []
        if only_ids is not None:  # a temporary view: the investors an answer listed
            base_where += " AND id IN (SELECT value FROM json_each(?))"
            base_params.append(json.dumps([int(i) for i in only_ids]))
        if list_membership != "all":
            base_where += " AND list_membership = ?"
            base_params.append(list_membership)
        filters: list[str] = []
        filter_params: list[Any] = []
        if conditions:
            sql, values = compile_conditions(fields, conditions, today=today(ctx.clock))
            filters.append(sql)
            filter_params.extend(values)
        if filter_tree:
            sql, values = compile_tree(fields, filter_tree, today=today(ctx.clock))
            if sql:
                filters.append(f"({sql})")
                filter_params.extend(values)
        if search and search.strip():
            check_text(search, "search", field="search", label="Search")
            sql, values = compile_conditions(
                fields, [("name", "contains", search.strip())], today=today(ctx.clock)
            )
            filters.append(f"({sql} OR location LIKE ? ESCAPE '\\' OR notes LIKE ? ESCAPE '\\')")
            filter_params.extend([*values, values[0], values[0]])
        return cls(base_where, base_params, filters, filter_params)


def _ordered_ids(ctx: Context, where: str, params: list[Any], order: str) -> tuple[array, float]:
    """Every matching id in order, and their summed ``total_invested``: read once per grid
    state version and shared by the grid's pages and the record view's previous/next."""
    sql = f"SELECT id, total_invested FROM {INVESTORS} WHERE {where} ORDER BY {order}"

    def read() -> tuple[array, float]:
        ids, invested = array("q"), 0.0
        for investor_id, amount in ctx.db.execute(sql, params):
            ids.append(investor_id)
            invested += amount or 0.0
        return ids, invested

    key = ("order", sql, tuple(map(_hashable, params)))
    return while_grid_unchanged(ctx.db, key, read, bucket="order", limit=8)


def investor_order(
    ctx: Context,
    *,
    list_membership: str = "all",
    sort: Sequence[tuple[str, str]] = (("name", "asc"),),
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    filter_tree: Mapping[str, Any] | None = None,
    archived: bool = False,
    only_ids: Sequence[int] | None = None,
) -> Sequence[int]:
    """The ids of every investor :func:`list_investors` would page through with these
    arguments, in its order (8 bytes an id; remembered until the grid's data next changes, the
    same read as the grid's ``remember_order`` pages)."""
    _check_list(list_membership)
    fields = load_fields(ctx.db)
    query = _InvestorQuery.build(
        ctx, fields, list_membership, conditions, search, filter_tree, archived, only_ids
    )
    return _ordered_ids(ctx, query.where, query.params, _order_by(fields, sort))[0]


def _order_by(
    fields: Mapping[str, FieldSpec], sort: Sequence[tuple[str, str]], prefix: str = ""
) -> str:
    """ORDER BY terms for ``sort`` (whitelisted through the field list), ending in ``id``."""
    terms = []
    for name, direction in sort:
        spec = resolve_field(fields, name)
        if direction.lower() not in ("asc", "desc"):
            raise ValidationError(f"Sort direction must be 'asc' or 'desc', not {direction!r}")
        collate = " COLLATE NOCASE" if spec.kind.sql_type == "TEXT" else ""
        terms.append(f"{prefix}{quote(spec.key)}{collate} {direction.upper()} NULLS LAST")
    return ", ".join([*terms, f"{prefix}id"])


def list_investors(
    ctx: Context,
    *,
    list_membership: str = "all",
    sort: Sequence[tuple[str, str]] = (("name", "asc"),),
    page: int = 1,
    page_size: int = 100,
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    filter_tree: Mapping[str, Any] | None = None,
    archived: bool = False,
    only_ids: Sequence[int] | None = None,
    remember_order: bool = False,
) -> InvestorPage:
    """One page of live investors (or, with ``archived``, archived ones) in a list, filtered, sorted, with a stable tiebreak on id.

    ``conditions`` are ``(field, operator, value)`` (see :mod:`crm_lib.grid.filters`), all of
    which must hold, as must ``filter_tree`` (a saved view's nested AND/OR groups); ``search`` matches the name, location or notes (case-insensitive substring).
    Uses a deferred join (page ids first, through an index, then the full rows), so deep pages
    stay fast and no caller ever holds the whole table.

    ``remember_order`` (the web grid, which pages back and forth through one view) reads the
    matching ids in order once, and keeps them (8 bytes each) until the grid's data next changes:
    every later page of that query is a lookup of its 50 ids, whatever the filter and sort.
    """
    _check_list(list_membership)
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"Page must be >= 1 and page size between 1 and {MAX_PAGE_SIZE}")
    fields = load_fields(ctx.db)
    query = _InvestorQuery.build(
        ctx, fields, list_membership, conditions, search, filter_tree, archived, only_ids
    )
    base_where, filters = query.base_where, query.filters
    where, params = query.where, query.params
    offset = (page - 1) * page_size
    order = _order_by(fields, sort)
    if remember_order:
        return _remembered_page(ctx, fields, where, params, order, page, page_size)
    count_sql = f"SELECT count(*), total(total_invested) FROM {INVESTORS} WHERE {where}"
    count, invested = while_grid_unchanged(
        ctx.db,
        ("count", count_sql, tuple(map(_hashable, params))),
        lambda: ctx.db.execute(count_sql, params).fetchone(),
    )
    total = int(count)
    if filters:
        # Tell SQLite how selective the filter really is (we just counted it): rare matches are
        # fastest through the filter's index, then sorted (about 0.1 us a row when the index also
        # holds the sort key); common ones by walking the sort index until the page is full
        # (about 1.4 us per row looked at). Break-even near total^2 = 10 x page end x rows.
        # Measured at 100k rows: 200 ms -> 0.6-2.7 ms. max(id) bounds the rows in O(1);
        # counting them would cost more (4 ms) than the choice saves.
        candidates = int(query_value(ctx.db, f"SELECT max(id) FROM {INVESTORS}") or 0)
        rare = total * total < 10 * (offset + page_size) * max(candidates, 1)
        hint = 0.001 if rare else 0.9
        where = " AND ".join([base_where, *(f"likelihood({f}, {hint})" for f in filters)])
    rows = query_dicts(
        ctx.db,
        f"SELECT i.*, u.name AS owner_name FROM {INVESTORS} i"
        " LEFT JOIN users u ON u.id = i.owner_id"
        f" WHERE i.id IN (SELECT id FROM {INVESTORS} WHERE {where} ORDER BY {order}"
        " LIMIT ? OFFSET ?)"
        f" ORDER BY {_order_by(fields, sort, prefix='i.')}",
        [*params, page_size, offset],
    )
    return InvestorPage(
        rows=decode_investors(fields, rows),
        total=total,
        page=page,
        page_size=page_size,
        total_invested=round(float(invested), 2),
    )


def investors_by_id(
    ctx: Context, ids: Sequence[int], *, archived: bool = False
) -> list[dict[str, Any]]:
    """The investors ``ids`` as a page of :func:`list_investors` holds them (decoded, with the
    owner's name), in the order given; ids that are gone (or live, with ``archived``) are left
    out. What an open grid re-reads when others changed rows it shows (one lookup by id each)."""
    if not ids:
        return []
    fields = load_fields(ctx.db)
    state = "i.deleted_at IS NOT NULL" if archived else "i.deleted_at IS NULL"
    rows = query_dicts(
        ctx.db,
        f"SELECT i.*, u.name AS owner_name FROM {INVESTORS} i"
        " LEFT JOIN users u ON u.id = i.owner_id"
        f" WHERE i.id IN (SELECT value FROM json_each(?)) AND {state}",
        [json.dumps([int(i) for i in ids])],
    )
    found = {row["id"]: row for row in decode_investors(fields, rows)}
    return [found[i] for i in ids if i in found]


def _remembered_page(
    ctx: Context,
    fields: Mapping[str, FieldSpec],
    where: str,
    params: list[Any],
    order: str,
    page: int,
    page_size: int,
) -> InvestorPage:
    """A page cut from the query's whole ordered id list, read once per grid state version."""
    ids, invested = _ordered_ids(ctx, where, params, order)
    chosen = list(ids[(page - 1) * page_size : page * page_size])
    rows: list[dict[str, Any]] = []
    if chosen:
        marks = ", ".join("?" for _ in chosen)
        found = query_dicts(
            ctx.db,
            f"SELECT i.*, u.name AS owner_name FROM {INVESTORS} i"
            f" LEFT JOIN users u ON u.id = i.owner_id WHERE i.id IN ({marks})",
            chosen,
        )
        by_id = {row["id"]: row for row in found}
        rows = [by_id[i] for i in chosen if i in by_id]
    return InvestorPage(
        rows=decode_investors(fields, rows),
        total=len(ids),
        page=page,
        page_size=page_size,
        total_invested=round(invested, 2),
    )


#: Field types a footer sums (percentages are averaged instead: a sum of rates means nothing).
SUMMED_TYPES = ("number", "currency")
AVERAGED_TYPES = ("percent",)


@dataclass(frozen=True)
class ViewTotals:
    """The footer's figures for every row a query matches (not just the page shown)."""

    count: int
    sums: dict[str, float]  # field key -> sum (number, currency)
    averages: dict[str, float]  # field key -> average of the filled cells (percent)
    filled: dict[str, int]  # field key -> how many rows have a value
    fund_sums: dict[int, float]  # fund id -> sum of the matching investors' commitments
    groups: dict[Any, int] = field(default_factory=dict)  # group value -> rows (grouped views)


def investor_totals(
    ctx: Context,
    *,
    list_membership: str = "all",
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    filter_tree: Mapping[str, Any] | None = None,
    archived: bool = False,
    only_ids: Sequence[int] | None = None,
    group_by: str | None = None,
) -> ViewTotals:
    """Sums of the numeric fields and of each fund's commitments over every investor
    :func:`list_investors` would page through with these arguments: one scan, remembered until
    the grid's data next changes (paging, or opening the record panel, costs nothing)."""
    _check_list(list_membership)
    fields = load_fields(ctx.db)
    query = _InvestorQuery.build(
        ctx, fields, list_membership, conditions, search, filter_tree, archived, only_ids
    )
    summed = [k for k, spec in fields.items() if spec.type in SUMMED_TYPES]
    averaged = [k for k, spec in fields.items() if spec.type in AVERAGED_TYPES]
    terms = ["count(*)"]
    for key in [*summed, *averaged]:
        terms += [f"total({quote(key)})", f"count({quote(key)})"]
    sql = f"SELECT {', '.join(terms)} FROM {INVESTORS} WHERE {query.where}"
    funds_sql = (
        "SELECT fund_id, total(amount) FROM fundraising_commitments"
        f" WHERE {LIVE} AND investor_id IN (SELECT id FROM {INVESTORS} WHERE {query.where})"
        " GROUP BY fund_id"
    )

    group_sql = ""
    if group_by:
        group = quote(resolve_field(fields, group_by).key)
        group_sql = f"SELECT {group}, count(*) FROM {INVESTORS} WHERE {query.where} GROUP BY 1"

    def read() -> ViewTotals:
        row = ctx.db.execute(sql, query.params).fetchone()
        groups = dict(ctx.db.execute(group_sql, query.params).fetchall()) if group_sql else {}
        figures = {
            key: (float(row[1 + 2 * i]), int(row[2 + 2 * i]))
            for i, key in enumerate([*summed, *averaged])
        }
        fund_sums = {
            int(fund_id): round(float(amount), 2)
            for fund_id, amount in ctx.db.execute(funds_sql, query.params)
        }
        return ViewTotals(
            count=int(row[0]),
            sums={k: round(figures[k][0], 2) for k in summed},
            averages={k: figures[k][0] / figures[k][1] for k in averaged if figures[k][1]},
            filled={k: figures[k][1] for k in figures},
            fund_sums=fund_sums,
            groups=groups,
        )

    key = ("totals", sql, group_sql, tuple(map(_hashable, query.params)))
    return while_grid_unchanged(ctx.db, key, read)


def count_by_list(ctx: Context) -> dict[str, int]:
    """Live investors per list, plus ``all`` and ``archived`` (archived rows of any list)."""
    return dict(while_grid_unchanged(ctx.db, "count_by_list", lambda: _count_by_list(ctx)))


def _count_by_list(ctx: Context) -> dict[str, int]:
    counts = dict.fromkeys(LISTS, 0)
    for name, count in ctx.db.execute(
        f"SELECT list_membership, count(*) FROM {INVESTORS} WHERE {LIVE} GROUP BY 1"
    ).fetchall():
        counts[name] = count
    archived = query_value(ctx.db, f"SELECT count(*) FROM {INVESTORS} WHERE deleted_at IS NOT NULL")
    return {"all": sum(counts.values()), **counts, "archived": int(archived)}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
