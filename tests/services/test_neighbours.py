"""The neighbours of one investor in a view: what a record page steps to with previous / next.
One ordered read of the view's ids (the grid's own), the same rows and order the grid pages
through, and a sensible step when the investor has left the view since it was opened."""

from __future__ import annotations

from crm_lib import services
from crm_lib.context import Context
from tests.conftest import make_investors

ALL = {"list_membership": "all", "filters": {"op": "and", "conditions": []}, "sorts": []}


def ids_by_name(ctx: Context) -> dict[str, int]:
    return {r["name"]: r["id"] for r in services.list_investors(ctx, page_size=100).rows}


def test_the_order_is_the_grids_order(ctx: Context) -> None:
    make_investors(ctx, ["Cedar", "Alder", "Birch", "Dogwood"])
    made = ids_by_name(ctx)
    order = services.investor_order(ctx, sort=[("name", "desc")])
    assert list(order) == [made[n] for n in ("Dogwood", "Cedar", "Birch", "Alder")]
    page = services.list_investors(ctx, sort=[("name", "desc")], page=2, page_size=2)
    assert [r["id"] for r in page.rows] == list(order)[2:]


def test_neighbours_in_a_view_with_header_sorts_filters_and_search(ctx: Context) -> None:
    make_investors(ctx, ["Alder", "Birch", "Cedar", "Dogwood", "Elm"])
    made = ids_by_name(ctx)
    around = services.view_neighbours(ctx, ALL, made["Cedar"])
    assert (around.position, around.total) == (2, 5)
    assert (around.previous_id, around.next_id) == (made["Birch"], made["Dogwood"])
    assert (around.previous_position, around.next_position) == (1, 3)
    desc = services.view_neighbours(
        ctx, ALL, made["Cedar"], sorts=[{"field": "name", "direction": "desc"}]
    )
    assert (desc.previous_id, desc.next_id) == (made["Dogwood"], made["Birch"])
    first = services.view_neighbours(ctx, ALL, made["Alder"])
    assert (first.previous_id, first.next_id) == (None, made["Birch"])
    found = services.view_neighbours(ctx, ALL, made["Elm"], search="e")  # Alder, Cedar, Elm
    assert (found.position, found.total, found.next_id) == (2, 3, None)
    filtered = services.view_neighbours(
        ctx, ALL, made["Dogwood"], conditions=[("name", "contains", "d")]
    )
    assert (filtered.previous_id, filtered.next_id) == (
        made["Cedar"],
        None,
    )  # Alder, Cedar, Dogwood


def test_an_investor_gone_from_the_view_steps_from_where_it_was(ctx: Context) -> None:
    make_investors(ctx, ["Alder", "Birch", "Cedar", "Dogwood"])
    made = ids_by_name(ctx)
    view = {**ALL, "list_membership": "main"}
    services.update_field(ctx, made["Birch"], "list_membership", "graveyard", expected_version=1)
    gone = services.view_neighbours(ctx, view, made["Birch"], near=1)
    assert gone.position is None and gone.total == 3
    assert (gone.previous_id, gone.next_id) == (made["Alder"], made["Cedar"])
    assert (gone.previous_position, gone.next_position) == (0, 1)
    lost = services.view_neighbours(ctx, view, made["Birch"])  # no idea where it was
    assert (lost.previous_id, lost.next_id) == (None, None)
