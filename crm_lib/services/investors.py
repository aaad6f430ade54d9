"""Investors (LPs): the rows of the master grid.

Values are given by field key (``"last_contacted_at"``) or label (``"Last contacted"``) and are
validated by each field's type; user-defined fields work exactly like built-in ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.grid import cursors
from crm_lib.grid.change_scope import SEARCH_COLUMNS, view_columns
from crm_lib.grid.column_values import AVERAGED_TYPES, COLUMN_VALUES, SUMMED_TYPES
from crm_lib.grid.field_types import stored_as_is
from crm_lib.grid.fields import FieldSpec, load_fields, parse_values, resolve_field
from crm_lib.grid.filters import compile_conditions, compile_tree
from crm_lib.grid.ordered_ids import (
    REGISTRY,
    OrderedQuery,
    SortTerm,
    current_version,
    row_keys,
)
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
    #: keyset cursors: the rows after this page (None on the last page), and before it (None
    #: on the first)
    next_cursor: str | None = None
    previous_cursor: str | None = None
    #: the position of the page's first row in the whole list (0-based): after a cursor, the
    #: page need not start at a multiple of ``page_size``
    first: int = 0


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
            first, *others = SEARCH_COLUMNS
            sql, values = compile_conditions(
                fields, [(first, "contains", search.strip())], today=today(ctx.clock)
            )
            likes = "".join(f" OR {quote(column)} LIKE ? ESCAPE '\\'" for column in others)
            filters.append(f"({sql}{likes})")
            filter_params.extend([*values, *[values[0]] * len(others)])
        return cls(base_where, base_params, filters, filter_params)


def _ordered_ids(ctx: Context, query: OrderedQuery) -> tuple[Sequence[int], float]:
    """Every matching id in order, and their summed ``total_invested``: remembered per process
    and kept exact as writes land (:mod:`crm_lib.grid.ordered_ids`), shared by the grid's
    pages, the API's pages and counts, and the record view's previous/next."""
    ids, invested, _start = REGISTRY.read(ctx.db.conn, str(ctx.settings.database_path), query)
    return ids, invested


def _ordered_query(
    fields: Mapping[str, FieldSpec],
    query: _InvestorQuery,
    sort: Sequence[tuple[str, str]],
    *,
    conditions: Sequence[tuple[str, str, Any]],
    search: str | None,
    filter_tree: Mapping[str, Any] | None,
) -> OrderedQuery:
    terms = _sort_terms(fields, sort)
    columns = view_columns(
        fields,
        {"filters": filter_tree, "sorts": [{"field": t.column} for t in terms]},
        conditions=conditions,
        search=search,
        totals=False,
    )
    return OrderedQuery(query.where, tuple(map(_hashable, query.params)), terms, columns)


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
    arguments, in its order (a numpy array, 8 bytes an id): the list its pages are cut from."""
    _check_list(list_membership)
    fields = load_fields(ctx.db)
    query = _InvestorQuery.build(
        ctx, fields, list_membership, conditions, search, filter_tree, archived, only_ids
    )
    ordered = _ordered_query(
        fields, query, sort, conditions=conditions, search=search, filter_tree=filter_tree
    )
    return _ordered_ids(ctx, ordered)[0]


def _sort_terms(
    fields: Mapping[str, FieldSpec], sort: Sequence[tuple[str, str]]
) -> tuple[SortTerm, ...]:
    """The ORDER BY terms for ``sort`` (whitelisted through the field list); the id follows."""
    terms = []
    for name, direction in sort:
        spec = resolve_field(fields, name)
        if direction.lower() not in ("asc", "desc"):
            raise ValidationError(f"Sort direction must be 'asc' or 'desc', not {direction!r}")
        terms.append(SortTerm(spec.key, direction.lower() == "desc", spec.kind.sql_type == "TEXT"))
    return tuple(terms)


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
    after: str | None = None,
    before: str | None = None,
) -> InvestorPage:
    """One page of live investors (or, with ``archived``, archived ones) in a list, filtered,
    sorted, with a stable tiebreak on id.

    ``conditions`` are ``(field, operator, value)`` (see :mod:`crm_lib.grid.filters`), all of
    which must hold, as must ``filter_tree`` (a saved view's nested AND/OR groups); ``search``
    matches the name, location or notes (case-insensitive substring). ``after`` is a keyset
    cursor (an earlier page's ``next_cursor``): the rows right after that page's last row,
    wherever it now stands (:mod:`crm_lib.grid.cursors`), instead of page number ``page``;
    ``before`` (a ``previous_cursor``) the page of rows right before that page's first row.

    The page, its count and the summed ``total_invested`` are cut from the query's ordered ids
    (:mod:`crm_lib.grid.ordered_ids`: read once, then kept exact as writes land), so page 1 and
    page 5,000 cost the same lookup of ``page_size`` ids, and so does the count.
    """
    _check_list(list_membership)
    if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationError(f"Page must be >= 1 and page size between 1 and {MAX_PAGE_SIZE}")
    fields = load_fields(ctx.db)
    query = _InvestorQuery.build(
        ctx, fields, list_membership, conditions, search, filter_tree, archived, only_ids
    )
    ordered = _ordered_query(
        fields, query, sort, conditions=conditions, search=search, filter_tree=filter_tree
    )
    if after is not None and before is not None:
        raise ValidationError("Page after one cursor or before another, not both", field="before")
    token = after if after is not None else before
    cursor = None if token is None else cursors.decode(token, ordered.terms)
    ids, invested, found = REGISTRY.read(
        ctx.db.conn,
        str(ctx.settings.database_path),
        ordered,
        cursor,
        inclusive=before is not None,
    )
    if cursor is None:
        start = (page - 1) * page_size
    elif after is not None:
        start = found
    else:
        start = max(0, found - page_size)
    if cursor is not None:
        page = start // page_size + 1
    chosen = [int(i) for i in ids[start : start + page_size]]
    next_cursor = previous_cursor = None
    if chosen and start + len(chosen) < len(ids):
        next_cursor = _cursor(ctx, ordered, chosen[-1])
    if chosen and start > 0:
        previous_cursor = _cursor(ctx, ordered, chosen[0])
    return InvestorPage(
        rows=investors_by_id(ctx, chosen, archived=archived),
        total=len(ids),
        page=page,
        page_size=page_size,
        total_invested=round(invested, 2),
        next_cursor=next_cursor,
        previous_cursor=previous_cursor,
        first=start,
    )


def _cursor(ctx: Context, ordered: OrderedQuery, investor_id: int) -> str | None:
    keys = row_keys(ctx.db.conn, ordered, investor_id)
    return None if keys is None else cursors.encode(ordered.terms, keys, investor_id)


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
    :func:`list_investors` would page through with these arguments, from the view's remembered
    ids (:mod:`crm_lib.grid.ordered_ids`) and every investor's footer values
    (:mod:`crm_lib.grid.column_values`), both caught up by the change log; remembered until the
    grid's data next changes. A ``group_by`` count is still a scan of the view."""
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

    def read_with_sql() -> ViewTotals:
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
        return _view_totals(int(row[0]), figures, fund_sums, groups, summed, averaged)

    ordered = _ordered_query(
        fields, query, (), conditions=conditions, search=search, filter_tree=filter_tree
    )

    def read() -> ViewTotals:
        """From the view's remembered ids and the footer's arrays, both kept current by the
        change log, at one version: no scan of the investors per write."""
        conn, database = ctx.db.conn, str(ctx.settings.database_path)
        if conn.in_transaction:  # inside a write: read what it sees, remember nothing
            return read_with_sql()
        conn.execute("BEGIN")
        try:
            version = current_version(conn)
            ids = REGISTRY.ids_in_any_order(conn, database, ordered, version)
            sums = COLUMN_VALUES.sums(conn, database, [*summed, *averaged], ids, version)
            groups = dict(conn.execute(group_sql, query.params).fetchall()) if group_sql else {}
        finally:
            conn.execute("COMMIT")
        return _view_totals(len(ids), sums.columns, sums.funds, groups, summed, averaged)

    key = ("totals", sql, group_sql, tuple(map(_hashable, query.params)))
    return while_grid_unchanged(ctx.db, key, read)


def _view_totals(
    count: int,
    figures: Mapping[str, tuple[float, int]],
    fund_sums: dict[int, float],
    groups: dict[Any, int],
    summed: Sequence[str],
    averaged: Sequence[str],
) -> ViewTotals:
    """The footer's totals from each column's (sum, non-blank count)."""
    return ViewTotals(
        count=count,
        sums={k: round(figures[k][0], 2) for k in summed},
        # to 12 places: sums added in another order (numpy's, SQLite's) differ in the last bits
        averages={k: round(figures[k][0] / figures[k][1], 12) for k in averaged if figures[k][1]},
        filled={k: figures[k][1] for k in figures},
        fund_sums=fund_sums,
        groups=groups,
    )


#: What moves an investor between the list tabs' counts.
LIST_COLUMNS = frozenset({"list_membership", "deleted_at"})


def count_by_list(ctx: Context) -> dict[str, int]:
    """Live investors per list, plus ``all`` and ``archived`` (archived rows of any list).

    Each count is the length of that list's remembered ids (:mod:`crm_lib.grid.ordered_ids`,
    in id order), kept exact as writes land: no table scan per write, which at a million
    investors cost every open grid a 100 ms GROUP BY after each of its colleagues' edits."""
    queries = [
        OrderedQuery(f"{LIVE} AND list_membership = ?", (name,), (), LIST_COLUMNS) for name in LISTS
    ]
    queries.append(OrderedQuery("deleted_at IS NOT NULL", (), (), LIST_COLUMNS))
    *lists, archived = REGISTRY.lengths(ctx.db.conn, str(ctx.settings.database_path), queries)
    return {"all": sum(lists), **dict(zip(LISTS, lists, strict=True)), "archived": archived}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
