"""Field types refuse what SQLite cannot hold or a person should not store: whole numbers past
64 bits (10**400 parses fine in JSON and Python), non-finite numbers, owner ids past SQLite's
INTEGER, unpaired surrogates, and text over its declared limit."""

from __future__ import annotations

from datetime import date

import pytest

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import FIELD_TYPES, FieldValueError
from crm_lib.grid.fields import load_fields
from crm_lib.grid.filters import compile_conditions
from crm_lib.limits import max_length

HUGE = 10**400


@pytest.mark.parametrize("type_name", ["number", "currency", "percent"])
@pytest.mark.parametrize("value", [HUGE, -HUGE, str(HUGE), float("nan"), float("inf"), "1e400"])
def test_numbers_beyond_what_a_real_can_hold_are_refused(type_name: str, value: object) -> None:
    with pytest.raises(FieldValueError, match=r"finite|too large|too long"):
        FIELD_TYPES[type_name].parse(value, {})


@pytest.mark.parametrize("type_name", ["number", "currency"])
def test_whole_numbers_past_64_bits_that_a_real_holds_are_stored_as_reals(type_name: str) -> None:
    assert FIELD_TYPES[type_name].parse(10**20, {}) == 1e20
    assert FIELD_TYPES[type_name].parse(2**63, {}) == float(2**63)


@pytest.mark.parametrize("value", [2**63, -1, 0, str(2**63), "99999999999999999999999"])
def test_user_ids_outside_sqlite_integers_are_not_user_ids(value: object) -> None:
    with pytest.raises(FieldValueError, match="not a user id"):
        FIELD_TYPES["user"].parse(value, {})


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [("text", "text"), ("long_text", "long_text"), ("url", "url"), ("phone", "phone")],
)
def test_text_over_its_limit_is_refused_with_the_limit(type_name: str, kind: str) -> None:
    limit = max_length(kind)
    parse = FIELD_TYPES[type_name].parse
    fitting = "1" * limit if type_name == "phone" else "x" * limit
    if type_name == "url":
        fitting = "https://a.example/" + "x" * (limit - len("https://a.example/"))
    if type_name != "phone":  # a phone number has at most 20 digits anyway
        assert parse(fitting, {}) is not None
    with pytest.raises(FieldValueError, match=f"the limit is {limit:,}"):
        parse(fitting + "x", {})


@pytest.mark.parametrize(
    "type_name", ["text", "long_text", "url", "email", "phone", "single_select", "multi_select"]
)
def test_unpaired_surrogates_are_refused_by_every_text_type(type_name: str) -> None:
    options = {"choices": ["a\ud800"], "allow_new": True}
    with pytest.raises(FieldValueError, match="unpaired surrogate"):
        FIELD_TYPES[type_name].parse("a\ud800", options)


def test_filters_refuse_owner_ids_and_amounts_past_64_bits_naming_the_field(ctx: Context) -> None:
    fields = load_fields(ctx.db)
    today = date(2026, 11, 25)
    for name, op, value in (
        ("owner_id", "eq", 2**63),
        ("owner_id", "has_any_of", [str(2**63)]),
        ("total_invested", "gte", HUGE),
        ("name", "contains", "a\udc00"),
        ("name", "contains", "x" * (max_length("filter_text") + 1)),
    ):
        with pytest.raises(ValidationError) as caught:
            compile_conditions(fields, [(name, op, value)], today=today)
        assert caught.value.field == name


def test_an_unknown_field_name_of_any_length_is_not_echoed_whole(ctx: Context) -> None:
    fields = load_fields(ctx.db)
    for name, op, value in (
        ("x" * 100_000, "eq", "a"),
        ("last_contacted_at", "within_last_days", "9" * 5_000),
    ):
        with pytest.raises(ValidationError) as caught:
            compile_conditions(fields, [(name, op, value)], today=date(2026, 11, 25))
        assert len(caught.value.message) < 200 and len(caught.value.field or "") < 100
