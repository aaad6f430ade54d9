"""Every text a person can type has one declared limit (crm_lib.limits), enforced by the services
for every front end, and nothing that SQLite cannot hold gets as far as the database: each refusal
names the field (and the limit), and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.limits import TEXT_LIMITS, check_text, max_length

Call = Callable[[Context, str], Any]


def _investor(field: str) -> Call:
    return lambda ctx, text: services.create_investor(ctx, {"name": "Anchor LP", field: text})


def _person(ctx: Context, text: str) -> Any:
    investor = services.create_investor(ctx, {"name": "People LP"})
    return services.add_person(ctx, investor["id"], {"full_name": text})


def _display_name(ctx: Context, text: str) -> Any:
    link = services.invite_user(ctx, "new.person@fund.example", "member")
    return services.accept_link(ctx, link.token, name=text, password="tangerine orbit mosaic")


def _option(ctx: Context, text: str) -> Any:
    return services.add_field(ctx, "Stage", "single_select", {"choices": ["Early", text]})


#: (what, field named in the error, limit kind, the call that stores the text)
CASES: list[tuple[str, str, str, Call]] = [
    (
        "investor name",
        "name",
        "investor_name",
        lambda c, t: services.create_investor(c, {"name": t}),
    ),
    ("investor location", "location", "text", _investor("location")),
    ("investor notes", "notes", "long_text", _investor("notes")),
    ("investor website", "website", "url", _investor("website")),
    ("person name", "full_name", "person_name", _person),
    ("fund name", "name", "fund_name", lambda c, t: services.create_fund(c, {"name": t})),
    ("view name", "name", "view_name", lambda c, t: services.create_view(c, {"name": t})),
    ("field label", "label", "field_label", lambda c, t: services.add_field(c, t, "text")),
    ("option name", "options", "option_name", _option),
    ("display name", "name", "display_name", _display_name),
    ("user name", "name", "display_name", lambda c, t: services.create_user(c, "u@f.example", t)),
    ("feature title", "title", "feature_title", services.create_feature_request),
    (
        "feature body",
        "body",
        "feature_body",
        lambda c, t: services.create_feature_request(c, "Title", t),
    ),
    ("search", "search", "search", lambda c, t: services.list_investors(c, search=t)),
    ("contact search", "search", "search", lambda c, t: services.list_contacts(c, search=t)),
]


def _fitting(kind: str, length: int) -> str:
    if kind == "url":
        return "https://a.example/" + "x" * (length - len("https://a.example/"))
    return "x" * length


def _counts(ctx: Context) -> tuple[int, ...]:
    tables = ("fundraising_investors", "fundraising_funds", "fundraising_views", "grid_fields")
    tables += ("users", "feature_requests", "audit_log")
    return tuple(ctx.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables)


@pytest.mark.parametrize(("what", "field", "kind", "store"), CASES, ids=[c[0] for c in CASES])
def test_text_one_past_its_limit_is_refused_naming_field_and_limit(
    ctx: Context, what: str, field: str, kind: str, store: Call
) -> None:
    limit = max_length(kind)
    before = _counts(ctx)
    with pytest.raises(ValidationError) as caught:
        store(ctx, _fitting(kind, limit + 1))
    assert caught.value.field == field
    assert f"the limit is {limit:,}" in caught.value.message
    after = _counts(ctx)
    assert after == before or what in ("person name", "display name", "option name")


@pytest.mark.parametrize(("what", "field", "kind", "store"), CASES, ids=[c[0] for c in CASES])
def test_text_with_an_unpaired_surrogate_is_refused_naming_the_field(
    ctx: Context, what: str, field: str, kind: str, store: Call
) -> None:
    with pytest.raises(ValidationError, match="unpaired surrogate") as caught:
        store(ctx, "Lone \ud800 surrogate")
    assert caught.value.field == field


@pytest.mark.parametrize(
    "what", ["investor name", "view name", "field label", "fund name", "feature title"]
)
def test_text_at_its_limit_is_kept(ctx: Context, what: str) -> None:
    _, _, kind, store = next(case for case in CASES if case[0] == what)
    store(ctx, _fitting(kind, max_length(kind)))


def test_an_owner_past_64_bits_is_refused_naming_owner_and_nothing_is_written(
    ctx: Context,
) -> None:
    before = _counts(ctx)
    for owner in (2**63, str(2**63), 10**400):
        with pytest.raises(ValidationError) as caught:
            services.create_investor(ctx, {"name": "Big Owner LP", "owner_id": owner})
        assert caught.value.field == "owner_id"
    assert _counts(ctx) == before


def test_a_commitment_of_10_to_the_400_is_refused_naming_amount(ctx: Context, fund: dict) -> None:
    investor = services.create_investor(ctx, {"name": "Huge LP"})
    for amount in (10**400, str(10**400), float("nan"), "1e400"):
        with pytest.raises(ValidationError) as caught:
            services.set_commitment(ctx, investor["id"], fund["id"], amount)
        assert caught.value.field == "amount"
    assert services.get_investor(ctx, investor["id"])["commitments"] == []


def test_every_declared_limit_is_checked_the_same_way() -> None:
    for kind, limit in TEXT_LIMITS.items():
        assert check_text("x" * limit.max_length, kind, field="f") == "x" * limit.max_length
        with pytest.raises(ValidationError, match=f"the limit is {limit.max_length:,}"):
            check_text("x" * (limit.max_length + 1), kind, field="f")
