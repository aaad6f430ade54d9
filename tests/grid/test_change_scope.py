"""Which changes can move an open page of a view: the columns a view depends on, read from the
real field list, and the decision (re-read the page, re-read some rows, or nothing) a page makes
on real change events from real writes."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.events import Change
from crm_lib.grid.change_scope import page_refresh, view_columns
from crm_lib.grid.fields import load_fields


@pytest.fixture
def fields(ctx: Context) -> dict:
    services.add_field(ctx, "Check size", "currency")
    services.add_field(ctx, "Region", "text")
    return load_fields(ctx.db)


def update(investor_id: int, *columns: str, last: int | None = None) -> Change:
    return Change("fundraising_investors", investor_id, "update", columns, 2, "user:1", "t", last)


def test_a_view_depends_on_what_it_filters_sorts_groups_and_totals(fields: dict) -> None:
    view = {
        "filters": {
            "op": "and",
            "conditions": [
                {"field": "Status", "operator": "eq", "value": "Meeting"},
                {
                    "op": "or",
                    "conditions": [{"field": "region", "operator": "contains", "value": "x"}],
                },
            ],
        },
        "sorts": [{"field": "Owner", "direction": "asc"}],
        "group_by": "list_membership",
    }
    columns = view_columns(fields, view)
    assert columns is not None
    assert {"status", "region", "owner_id", "list_membership", "name"} <= columns
    check_size = next(k for k, s in fields.items() if s.label == "Check size")
    assert check_size in columns  # summed in the footer
    assert "notes" not in columns and "location" not in columns
    assert {"notes", "location"} <= view_columns(fields, {}, search="acme")  # the search box
    assert "location" in view_columns(fields, {}, conditions=[("location", "contains", "a")])
    header = view_columns(fields, view, sorts=[{"field": "location", "direction": "desc"}])
    assert "location" in header and "owner_id" not in header  # clicked headers replace sorts


def test_a_view_on_bookkeeping_or_an_unknown_field_depends_on_everything(fields: dict) -> None:
    assert view_columns(fields, {"sorts": [{"field": "updated_at"}]}) is None
    gone = {"filters": {"op": "and", "conditions": [{"field": "Deleted field", "operator": "eq"}]}}
    assert view_columns(fields, gone) is None


def test_changes_outside_the_view_cost_nothing_and_shown_rows_are_re_read(fields: dict) -> None:
    columns = view_columns(fields, {"sorts": [{"field": "status"}]})
    shown = [4, 5, 6]
    assert page_refresh([update(9, "notes")], shown, columns).nothing
    assert page_refresh([update(5, "notes"), update(9, "location")], shown, columns).rows == {5}
    assert page_refresh([update(1, "notes", last=5)], shown, columns).rows == {4, 5}
    assert page_refresh([update(9, "status")], shown, columns).reload  # may enter the page
    assert page_refresh([update(9, "list_membership")], shown, columns).reload
    assert page_refresh([update(9, "total_invested")], shown, columns).reload  # the summary


@pytest.mark.parametrize(
    "change",
    [
        Change("fundraising_investors", 9, "create", (), 1, "user:1", "t"),
        Change("fundraising_investors", 5, "archive", (), 3, "user:1", "t"),
        Change("fundraising_investors", 9, "restore", (), 3, "user:1", "t"),
        Change("fundraising_contacts", 1, "update", ("full_name",), 2, "user:1", "t"),
        Change("fundraising_commitments", 1, "create", (), 1, "user:1", "t"),
    ],
)
def test_rows_coming_going_or_other_tables_re_read_the_page(fields: dict, change: Change) -> None:
    assert page_refresh([update(9, "notes"), change], [4, 5], view_columns(fields, {})).reload


def test_a_formula_over_a_field_is_named_in_the_change_of_that_field(ctx: Context) -> None:
    """Formula results are stored columns written in the same transaction: a view on a formula
    hears of its inputs' changes through the formula's own column in the change."""
    services.add_field(ctx, "Ticket", "number")
    fields = load_fields(ctx.db)
    ticket = next(k for k, s in fields.items() if s.label == "Ticket")
    services.add_field(ctx, "Double", "formula", formula="{Ticket} * 2")
    fields = load_fields(ctx.db)
    double = next(k for k, s in fields.items() if s.label == "Double")
    investor = services.create_investor(ctx, {"name": "Acme", "Ticket": 1})
    heard: list[Change] = []
    ctx.events.subscribe(heard.extend)
    services.update_field(ctx, investor["id"], ticket, 5, expected_version=investor["version"])
    named = {name for change in heard for name in change.fields}
    assert {ticket, double} <= named
    columns = view_columns(fields, {"sorts": [{"field": "Double"}]})
    assert page_refresh(heard, [], columns).reload
