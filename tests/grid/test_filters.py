"""The filter compiler on a real database: every operator on the kinds of field it suits, nested
AND/OR groups, refusals that name the problem, and values that try to become SQL."""

from __future__ import annotations

from datetime import date

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ValidationError

TODAY = date(2026, 11, 25)  # the conftest clock's date


@pytest.fixture
def grid(ctx: Context) -> Context:
    owner = services.create_user(ctx, "olivia@fund.example", "Olivia")
    services.add_field(ctx, "Check size", "currency")
    rows = [
        {
            "name": "Acme",
            "status": "Meeting",
            "tags": ["Warm", "Intro"],
            "location": "Boston",
            "last_contacted_at": "2026-11-20",
            "Check size": 5_000_000,
            "owner_id": owner["id"],
        },
        {
            "name": "Beta",
            "status": "Passed",
            "tags": ["Warm"],
            "location": "50% Capital",
            "last_contacted_at": "2026-09-01",
            "Check size": 250_000,
        },
        {
            "name": "Gamma",
            "status": "Prospect",
            "tags": [],
            "location": None,
            "last_contacted_at": None,
            "Check size": None,
        },
        {
            "name": "Delta",
            "status": "Meeting",
            "tags": ["Intro"],
            "location": "Zurich",
            "last_contacted_at": "2026-11-25",
            "Check size": 1_000_000,
        },
    ]
    for row in rows:
        services.create_investor(ctx, row)
    return ctx


def names(ctx: Context, tree: dict) -> list[str]:
    return [r["name"] for r in services.list_investors(ctx, filter_tree=tree).rows]


def one(field: str, operator: str, value: object = None) -> dict:
    return {"op": "and", "conditions": [{"field": field, "operator": operator, "value": value}]}


@pytest.mark.parametrize(
    ("field", "operator", "value", "expected"),
    [
        # text
        ("Location", "eq", "Boston", ["Acme"]),
        ("Location", "ne", "Boston", ["Beta", "Delta", "Gamma"]),
        ("Location", "contains", "zur", ["Delta"]),
        ("Location", "contains", "50%", ["Beta"]),  # % is literal, not a wildcard
        ("Location", "not_contains", "o", ["Beta", "Delta", "Gamma"]),  # Zurich has no o
        ("Location", "empty", None, ["Gamma"]),
        ("Location", "not_empty", None, ["Acme", "Beta", "Delta"]),
        # number (a user-defined currency field, by label, with a formatted value)
        ("Check size", "eq", "$1,000,000", ["Delta"]),
        ("Check size", "ne", 1_000_000, ["Acme", "Beta", "Gamma"]),
        ("Check size", "gt", "$1,000,000", ["Acme"]),
        ("Check size", "gte", 1_000_000, ["Acme", "Delta"]),
        ("Check size", "lt", 1_000_000, ["Beta"]),
        ("Check size", "lte", 1_000_000, ["Beta", "Delta"]),
        ("Check size", "between", [200_000, 1_000_000], ["Beta", "Delta"]),
        ("Check size", "empty", None, ["Gamma"]),
        # date
        ("Last contacted", "eq", "2026-11-20", ["Acme"]),
        ("Last contacted", "before", "2026-11-20", ["Beta"]),
        ("Last contacted", "after", "2026-11-20", ["Delta"]),
        ("Last contacted", "between", ["2026-09-01", "2026-11-20"], ["Acme", "Beta"]),
        ("Last contacted", "within_last_days", 7, ["Acme", "Delta"]),
        ("Last contacted", "within_last_days", "0", ["Delta"]),
        ("Last contacted", "empty", None, ["Gamma"]),
        # single select
        ("Status", "eq", "meeting", ["Acme", "Delta"]),  # choices match case-insensitively
        ("Status", "ne", "Meeting", ["Beta", "Gamma"]),
        ("Status", "has_any_of", ["Passed", "Prospect"], ["Beta", "Gamma"]),
        # multi select
        ("Tags", "has_any_of", ["Intro"], ["Acme", "Delta"]),
        ("Tags", "has_all_of", ["Warm", "Intro"], ["Acme"]),
        ("Tags", "contains", "war", ["Acme", "Beta"]),
        ("Tags", "empty", None, ["Gamma"]),
        ("Tags", "not_empty", None, ["Acme", "Beta", "Delta"]),
    ],
)
def test_operator_on_its_kind_of_field(
    grid: Context, field: str, operator: str, value: object, expected: list[str]
) -> None:
    assert names(grid, one(field, operator, value)) == expected


def test_user_fields_filter_by_user(grid: Context) -> None:
    olivia = services.list_users(grid)[0]["id"]
    assert names(grid, one("Owner", "eq", olivia)) == ["Acme"]
    assert names(grid, one("Owner", "empty")) == ["Beta", "Delta", "Gamma"]


def test_nested_and_or_groups(grid: Context) -> None:
    tree = {
        "op": "or",
        "conditions": [
            {
                "op": "and",
                "conditions": [
                    {"field": "Status", "operator": "eq", "value": "Meeting"},
                    {"field": "Check size", "operator": "gte", "value": 2_000_000},
                ],
            },
            {
                "op": "and",
                "conditions": [
                    {"field": "Tags", "operator": "has_any_of", "value": ["Warm"]},
                    {"field": "Status", "operator": "eq", "value": "Passed"},
                ],
            },
        ],
    }
    assert names(grid, tree) == ["Acme", "Beta"]
    assert names(grid, {"op": "and", "conditions": []}) == ["Acme", "Beta", "Delta", "Gamma"]
    assert names(grid, {"op": "or", "conditions": [{"op": "and", "conditions": []}]}) == [
        "Acme",
        "Beta",
        "Delta",
        "Gamma",
    ]


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        (one("Stauts", "eq", "x"), "Unknown field 'Stauts' — did you mean 'Status'"),
        (one("Check size", "contains", "1"), "'contains' does not apply to Check size (currency)"),
        (one("Last contacted", "has_all_of", ["x"]), "does not apply to Last contacted"),
        (one("Status", "eq", "Maybe"), "Filter on Status:"),
        (one("Check size", "gt", "lots"), "Filter on Check size:"),
        (one("Check size", "between", [1]), "'between' needs two values"),
        (one("Last contacted", "within_last_days", "a week"), "is not a number of days"),
        (one("Status", "eq", None), "needs a value (use 'is empty' for blanks)"),
        (one("Status", "like", "x"), "Unknown filter operator 'like'"),
        ({"op": "xor", "conditions": []}, "op must be 'and' or 'or'"),
        ({"op": "and", "conditions": [{"field": "Status"}]}, "needs operator"),
        ({"op": "and", "conditions": "Status = x"}, "conditions must be a list"),
    ],
)
def test_bad_filters_are_refused_naming_the_problem(grid: Context, tree: dict, message: str):
    with pytest.raises(ValidationError) as caught:
        names(grid, tree)
    assert message in caught.value.message


def test_deep_and_huge_trees_are_refused(grid: Context) -> None:
    tree: dict = {"op": "and", "conditions": []}
    for _ in range(6):
        tree = {"op": "and", "conditions": [tree]}
    with pytest.raises(ValidationError, match="at most 5 groups deep"):
        names(grid, tree)
    many = {
        "op": "or",
        "conditions": [{"field": "Name", "operator": "eq", "value": str(n)} for n in range(101)],
    }
    with pytest.raises(ValidationError, match="at most 100 conditions"):
        names(grid, many)


@pytest.mark.parametrize(
    "hostile",
    [
        "x' OR '1'='1",
        "Acme'; DROP TABLE fundraising_investors; --",
        '" OR 1=1 --',
        "%' OR name LIKE '%",
    ],
)
def test_values_that_look_like_sql_stay_values(grid: Context, hostile: str) -> None:
    assert names(grid, one("Name", "eq", hostile)) == []
    assert names(grid, one("Location", "contains", hostile)) == []
    assert services.count_by_list(grid)["all"] == 4


@pytest.mark.parametrize(
    "hostile_field",
    ['name" OR 1=1 --', "name; DROP TABLE users", "fundraising_investors.name", "*"],
)
def test_field_names_never_reach_sql(grid: Context, hostile_field: str) -> None:
    with pytest.raises(ValidationError, match="Unknown field"):
        names(grid, one(hostile_field, "eq", "x"))
