"""Saved views of the investor grid: which list, which rows (a filter tree), in what order, and
how the columns look (hidden, frozen, widths, order). Personal or shared; each user has a default.

A view is data, validated when saved (every field resolves, every operator suits its field, every
value parses), and compiles to one parameterised query when read: :func:`view_page`.
A personal view is visible to, and so changeable by, its owner only (to anyone else it does not
exist); what a shared view shows, its name and its existence are everyone's to change.

Sharing is not: a shared view has no owner (``owner_id`` NULL: the team's), but it keeps its
creator (``created_by``, the email of whoever saved it). Only the creator or an admin may
un-share it, and un-sharing always hands it back to its creator, whoever does it: ownership never
moves to the person who clicked. A view whose creator has no active account (made by the shell or
an import, or the creator was deactivated) stays shared; duplicate it for a personal copy.
Sharing a personal view is its owner's call, as only the owner can see it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from crm_lib.auth.permissions import allowed
from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.errors import NotFound, PermissionDenied, ValidationError
from crm_lib.grid.fields import FieldSpec, load_fields, resolve_field
from crm_lib.grid.filters import compile_tree
from crm_lib.limits import check_text, max_length
from crm_lib.services.investors import (
    LISTS,
    InvestorPage,
    ViewTotals,
    investor_order,
    investor_totals,
    list_investors,
)
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

VIEWS = "fundraising_views"
JSON_COLUMNS = ("filters", "sorts", "hidden_fields", "frozen_fields", "widths", "field_order")
EDITABLE = ("name", "list_membership", "group_by", *JSON_COLUMNS)
#: Field types a view can be grouped by: one value per row (a list or a long text is not a group).
GROUPABLE_TYPES = frozenset(
    {
        "text",
        "single_select",
        "user",
        "checkbox",
        "date",
        "number",
        "currency",
        "percent",
        "email",
        "url",
        "phone",
    }
)
NAME_MAX = max_length("view_name")
EMPTY_FILTER = {"op": "and", "conditions": []}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for key in JSON_COLUMNS:
        row[key] = json.loads(row[key])
    row["shared"] = row["owner_id"] is None
    return row


#: Grid columns that are not fields but that a view may hide, freeze, size and order like them:
#: the people, each fund's commitments (``fund:<id>``) and the bookkeeping columns.
OTHER_COLUMNS = frozenset({"people", "created_at", "created_by", "updated_at", "updated_by"})
#: a fund's commitments, and its pipeline stage and expected amount (services.pipeline_grid)
FUND_COLUMN = re.compile(r"(?:fund|stage|expected):[1-9][0-9]{0,17}")


def _column_key(fields: Mapping[str, FieldSpec], name: str) -> str:
    """A field (by key or label) or one of the grid's other columns, as its key."""
    if name in OTHER_COLUMNS or FUND_COLUMN.fullmatch(name):
        return name
    return resolve_field(fields, name).key


def _keys(fields: Mapping[str, FieldSpec], names: Any, what: str) -> list[str]:
    if not isinstance(names, list):
        raise ValidationError(f"{what} must be a list of fields", field=what)
    keys = [_column_key(fields, str(name)) for name in names]
    if len(set(keys)) != len(keys):
        raise ValidationError(f"{what} lists a field twice", field=what)
    return keys


def _sorts(fields: Mapping[str, FieldSpec], sorts: Any) -> list[dict[str, str]]:
    if not isinstance(sorts, list) or len(sorts) > 10:
        raise ValidationError("sorts must be a list of up to 10 {field, direction}", field="sorts")
    clean = []
    for sort in sorts:
        if not isinstance(sort, Mapping) or "field" not in sort:
            raise ValidationError("Each sort needs a field", field="sorts")
        direction = str(sort.get("direction", "asc")).lower()
        if direction not in ("asc", "desc"):
            raise ValidationError(
                f"Sort direction must be asc or desc, not {direction!r}", field="sorts"
            )
        clean.append(
            {"field": resolve_field(fields, str(sort["field"])).key, "direction": direction}
        )
    return clean


def _widths(fields: Mapping[str, FieldSpec], widths: Any) -> dict[str, int]:
    if not isinstance(widths, Mapping):
        raise ValidationError("widths must map fields to pixels", field="widths")
    clean = {}
    for name, width in widths.items():
        if isinstance(width, bool) or not isinstance(width, int) or not 40 <= width <= 2000:
            raise ValidationError(f"Width of {name} must be 40 to 2000 pixels", field="widths")
        clean[_column_key(fields, str(name))] = width
    return clean


def _validated(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """Storage form of view settings; every field, operator and value checked now."""
    fields = load_fields(ctx.db)
    stored: dict[str, Any] = {}
    unknown = set(values) - set(EDITABLE) - {"shared"}
    if unknown:
        raise ValidationError(f"Unknown view settings: {', '.join(sorted(unknown))}")
    if "name" in values:
        name = str(values["name"] or "").strip()
        if not name:
            raise ValidationError(
                f"A view needs a name of 1 to {NAME_MAX} characters", field="name"
            )
        stored["name"] = check_text(name, "view_name", field="name", label="View name")
    if "list_membership" in values:
        if values["list_membership"] not in ("all", *LISTS):
            raise ValidationError(
                f"List must be all or one of {', '.join(LISTS)}", field="list_membership"
            )
        stored["list_membership"] = values["list_membership"]
    if "filters" in values:
        tree = values["filters"] or EMPTY_FILTER
        compile_tree(fields, tree, today=today(ctx.clock))  # refuses anything invalid, now
        stored["filters"] = json.dumps(tree)
    if "sorts" in values:
        stored["sorts"] = json.dumps(_sorts(fields, values["sorts"]))
    for key in ("hidden_fields", "frozen_fields", "field_order"):
        if key in values:
            stored[key] = json.dumps(_keys(fields, values[key], key))
    if "widths" in values:
        stored["widths"] = json.dumps(_widths(fields, values["widths"]))
    if "group_by" in values:
        stored["group_by"] = _group_by(fields, values["group_by"])
    return stored


def _group_by(fields: Mapping[str, FieldSpec], name: Any) -> str | None:
    if name in (None, ""):
        return None
    spec = resolve_field(fields, str(name))
    if spec.type not in GROUPABLE_TYPES or spec.formula is not None:
        raise ValidationError(
            f"A view cannot be grouped by {spec.label}: group by a field with one value per"
            " row (text, a single select, a team member, a date, a number or a checkbox)",
            field="group_by",
        )
    return spec.key


def view_sorts(
    view: Mapping[str, Any], sorts: Sequence[Mapping[str, str]] | None = None
) -> list[tuple[str, str]]:
    """The order a view's rows are read in: its group field first (so each group's rows come
    together), then ``sorts`` (the grid's clicked headers) or the view's sorts, then the name."""
    order = list(sorts if sorts is not None else view.get("sorts") or [])
    terms = [(s["field"], s.get("direction", "asc")) for s in order]
    group = view.get("group_by")
    if group:
        direction = next((d for f, d in terms if f == group), "asc")
        terms = [(group, direction), *[(f, d) for f, d in terms if f != group]]
    return terms or [("name", "asc")]


def _visible_row(ctx: Context, view_id: int) -> dict[str, Any]:
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {VIEWS} WHERE id = ? AND {LIVE} AND (owner_id IS NULL OR owner_id IS ?)",
        [view_id, ctx.user_id],
    )
    if not rows:
        raise NotFound("view", view_id)
    return rows[0]


def create_view(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """Save a view: ``{"name", "list_membership", "filters", "sorts", ...}``; ``"shared": True``
    makes it the team's, otherwise it is the caller's own (the shell's views are shared)."""
    stored = _validated(ctx, {"filters": EMPTY_FILTER, "sorts": [], **values})
    if "name" not in stored:
        raise ValidationError("A view needs a name", field="name")
    shared = bool(values.get("shared", ctx.user_id is None))
    if not shared and ctx.user_id is None:
        raise ValidationError("Only a logged-in user can have personal views", field="shared")
    with write(ctx) as tx:
        view_id = tx.insert(VIEWS, {**stored, "owner_id": None if shared else ctx.user_id})
    return get_view(ctx, view_id)


def get_view(ctx: Context, view_id: int) -> dict[str, Any]:
    return _decode(_visible_row(ctx, view_id))


def list_views(ctx: Context) -> list[dict[str, Any]]:
    """Shared views and the caller's own, shared first, then by position and name."""
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {VIEWS} WHERE {LIVE} AND (owner_id IS NULL OR owner_id IS ?)"
        " ORDER BY owner_id IS NOT NULL, position, lower(name), id",
        [ctx.user_id],
    )
    return [_decode(r) for r in rows]


def update_view(
    ctx: Context, view_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Rename, share/unshare (``"shared"``), or change what the view shows.

    ``"shared"`` equal to the view's current state is no change (the view builder always sends
    it). Sharing moves the view to the team; un-sharing hands it back to its creator and is
    allowed to the creator and admins only (see the module docstring).
    """
    stored = _validated(ctx, changes)
    with write(ctx) as tx:
        row = _visible_row(ctx, view_id)  # a personal view is visible to its owner only
        shared_now = row["owner_id"] is None
        if "shared" in changes and bool(changes["shared"]) != shared_now:
            stored["owner_id"] = None if changes["shared"] else _creator_taking_back(ctx, row)
        tx.update(VIEWS, view_id, stored, expected_version=expected_version)
    # read without the visibility rule: an admin who un-shared someone's view no longer sees it
    return _decode(query_dicts(ctx.db, f"SELECT * FROM {VIEWS} WHERE id = ?", [view_id])[0])


def _creator_taking_back(ctx: Context, row: Mapping[str, Any]) -> int:
    """The user a shared view goes back to when un-shared (its creator), if the caller may
    un-share it; else :class:`PermissionDenied` or :class:`ValidationError` saying why."""
    creators = query_dicts(
        ctx.db,
        f"SELECT id, is_active FROM users WHERE lower(email) = lower(?) AND {LIVE}",
        [row["created_by"]],
    )
    creator = creators[0] if creators else None
    is_creator = creator is not None and ctx.user_id == creator["id"]
    if not is_creator and not allowed(ctx.role, "manage_shared_views"):
        raise PermissionDenied(
            "manage_shared_views",
            f"Only its creator or an admin can un-share the view {row['name']!r}; "
            "duplicate it to get a personal copy",
        )
    if creator is None:
        raise ValidationError(
            f"The view {row['name']!r} was made by {row['created_by']}, who has no account here, "
            "so it stays shared; duplicate it to get a personal copy",
            field="shared",
        )
    if not creator["is_active"]:
        raise ValidationError(
            f"The view {row['name']!r} belongs to {row['created_by']}, who is deactivated, "
            "so it stays shared; duplicate it to get a personal copy",
            field="shared",
        )
    return int(creator["id"])


def duplicate_view(ctx: Context, view_id: int, name: str | None = None) -> dict[str, Any]:
    """A personal copy of a view (shared for the shell), named "<name> copy" unless given."""
    source = get_view(ctx, view_id)
    copy = {key: source[key] for key in EDITABLE}
    copy["name"] = name or f"{source['name']} copy"[:NAME_MAX]
    return create_view(ctx, {**copy, "shared": ctx.user_id is None})


def archive_view(ctx: Context, view_id: int, *, expected_version: int) -> None:
    """Delete a view (soft: it can be restored)."""
    with write(ctx) as tx:
        _visible_row(ctx, view_id)
        tx.archive(VIEWS, view_id, expected_version=expected_version)


def set_default_view(ctx: Context, view_id: int | None) -> None:
    """The view the logged-in user's grid opens with (None: all investors)."""
    if ctx.user_id is None:
        raise ValidationError("Only a logged-in user has a default view")
    if view_id is not None:
        _visible_row(ctx, view_id)
    with write(ctx) as tx:
        user = tx.fetch("users", ctx.user_id)
        tx.update(
            "users", ctx.user_id, {"default_view_id": view_id}, expected_version=user["version"]
        )


def default_view(ctx: Context) -> dict[str, Any] | None:
    """The caller's default view if it is still visible; else None (all investors)."""
    if ctx.user_id is None:
        return None
    rows = query_dicts(ctx.db, "SELECT default_view_id FROM users WHERE id = ?", [ctx.user_id])
    view_id = rows[0]["default_view_id"] if rows else None
    if view_id is None:
        return None
    try:
        return get_view(ctx, view_id)
    except NotFound:
        return None


def view_page(
    ctx: Context,
    view: Mapping[str, Any],
    *,
    page: int = 1,
    page_size: int = 100,
    sorts: Sequence[Mapping[str, str]] | None = None,
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    archived: bool = False,
    after: str | None = None,
    before: str | None = None,
) -> InvestorPage:
    """One page of a view (saved, or an unsaved spec being built): its list, its filter tree AND
    any header ``conditions`` and ``search``, sorted by ``sorts`` (else the view's).
    ``archived``, ``after`` and ``before`` (keyset cursors) are :func:`list_investors`'s."""
    return list_investors(
        ctx,
        list_membership=view.get("list_membership", "all"),
        sort=view_sorts(view, sorts),
        page=page,
        page_size=page_size,
        conditions=conditions,
        search=search,
        filter_tree=view.get("filters"),
        archived=archived,
        only_ids=view.get("only_ids"),
        after=after,
        before=before,
    )


def view_totals(
    ctx: Context,
    view: Mapping[str, Any],
    *,
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    archived: bool = False,
) -> ViewTotals:
    """The footer's sums over every row of a view (its list and filter tree, AND header
    ``conditions`` and ``search``), as :func:`view_page` would page through them."""
    return investor_totals(
        ctx,
        list_membership=view.get("list_membership", "all"),
        conditions=conditions,
        search=search,
        filter_tree=view.get("filters"),
        archived=archived,
        only_ids=view.get("only_ids"),
        group_by=view.get("group_by"),
    )


@dataclass(frozen=True)
class Neighbours:
    """Where one investor stands in a view's order, and who comes before and after it: what a
    record page needs to step to the previous or next record of the view it was opened from.

    ``position`` is 0-based, None when the investor is not (or no longer) in the view; then
    ``previous_id`` and ``next_id`` are the rows around the position it was opened at, so
    stepping on still walks the view as the person saw it."""

    investor_id: int
    position: int | None
    total: int
    previous_id: int | None
    next_id: int | None
    #: positions of the previous and next rows (None with their id)
    previous_position: int | None = None
    next_position: int | None = None


def view_neighbours(
    ctx: Context,
    view: Mapping[str, Any],
    investor_id: int,
    *,
    sorts: Sequence[Mapping[str, str]] | None = None,
    conditions: Sequence[tuple[str, str, Any]] = (),
    search: str | None = None,
    archived: bool = False,
    near: int | None = None,
) -> Neighbours:
    """The investors before and after ``investor_id`` in a view (saved or a spec, as
    :func:`view_page` reads it, header ``conditions``, ``sorts`` and ``search`` included).

    ``near`` is the position the investor had when the caller last saw it: an edit can move it
    out of the view (a filtered status changed) or elsewhere in it; if it is gone, the rows now
    at ``near - 1`` and ``near`` are its neighbours. One ordered read of the view's ids, shared
    with the grid's paging until the data next changes."""
    ids = investor_order(
        ctx,
        list_membership=view.get("list_membership", "all"),
        sort=view_sorts(view, sorts),
        conditions=conditions,
        search=search,
        filter_tree=view.get("filters"),
        archived=archived,
        only_ids=view.get("only_ids"),
    )
    total = len(ids)
    position = _index(ids, investor_id, near)
    if position is not None:
        before, after = position - 1, position + 1
    elif near is not None:
        before, after = min(near, total) - 1, max(near, 0)
    else:
        return Neighbours(investor_id, None, total, None, None)
    previous_id = int(ids[before]) if 0 <= before < total else None
    next_id = int(ids[after]) if 0 <= after < total else None
    return Neighbours(
        investor_id,
        position,
        total,
        previous_id,
        next_id,
        before if previous_id is not None else None,
        after if next_id is not None else None,
    )


def _index(ids: Sequence[int], investor_id: int, near: int | None) -> int | None:
    """Where ``investor_id`` is in ``ids``: first at ``near`` (an O(1) check of the usual case),
    else by a scan (8 bytes an id: a million-investor view scans in about a millisecond)."""
    if near is not None and 0 <= near < len(ids) and ids[near] == investor_id:
        return near
    found = np.flatnonzero(np.asarray(ids) == investor_id)
    return int(found[0]) if len(found) else None
