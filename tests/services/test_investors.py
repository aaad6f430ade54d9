"""Investors through the service layer: validation, reads, archive/restore, user-defined fields."""

from __future__ import annotations

import pytest

from crm_lib import analytics, services
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from tests.conftest import make_investors


def test_create_stores_typed_values_and_defaults(ctx: Context) -> None:
    owner = services.create_user(ctx, "maya@fund.example", "Maya")
    investor = services.create_investor(
        ctx,
        {
            "name": "  Acme Family Office ",
            "Type": "family office",
            "owner_id": owner["id"],
            "website": "acme.example.com",
            "tags": "warm intro, re-up, warm intro",
            "Last contacted": "2026-11-02T15:30:00",
        },
    )
    assert investor["name"] == "Acme Family Office"
    assert investor["type"] == "Family office"
    assert investor["website"] == "https://acme.example.com"
    assert investor["tags"] == ["warm intro", "re-up"]
    assert investor["last_contacted_at"] == "2026-11-02"
    assert investor["list_membership"] == "main"
    assert investor["total_invested"] == 0
    assert (investor["version"], investor["created_by"]) == (1, "alice@fund.example")


@pytest.mark.parametrize(
    ("values", "message", "field"),
    [
        ({"name": "   "}, "Name cannot be empty", "name"),
        (
            {"name": "A", "Stauts": "Meeting"},
            "Unknown field 'Stauts' — did you mean 'Status'?",
            "Stauts",
        ),
        (
            {"name": "A", "type": "Hedge fund"},
            "Type: 'Hedge fund' is not one of the choices",
            "type",
        ),
        ({"name": "A", "last_contacted_at": "next week"}, "is not a date", "last_contacted_at"),
        ({"name": "A", "website": "not a url"}, "is not a web address", "website"),
        (
            {"name": "A", "total_invested": 5},
            "Total invested is calculated and cannot be edited",
            "total_invested",
        ),
        ({"name": "A", "owner_id": 99}, "no active user with id 99", "owner_id"),
        (
            {"name": "A", "list_membership": "vip"},
            "'vip' is not one of the choices",
            "list_membership",
        ),
    ],
)
def test_bad_values_are_refused_with_a_message_naming_the_field_and_nothing_is_written(
    ctx: Context, values: dict, message: str, field: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        services.create_investor(ctx, values)
    assert caught.value.field == field
    assert ctx.db.execute("SELECT count(*) FROM fundraising_investors").fetchone()[0] == 0
    assert ctx.db.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_archived_investor_is_hidden_from_every_read_path_until_restored(
    ctx: Context, fund: dict
) -> None:
    keep, gone = make_investors(ctx, ["Keep Capital", "Gone Capital"])
    services.add_person(ctx, gone["id"], {"full_name": "Gina Gone", "email": "gina@gone.example"})
    services.set_commitment(ctx, gone["id"], fund["id"], 1_000_000)
    services.set_commitment(ctx, keep["id"], fund["id"], 250_000)
    version = services.get_investor(ctx, gone["id"])["investor"]["version"]
    services.archive_investor(ctx, gone["id"], expected_version=version)

    assert [r["name"] for r in services.list_investors(ctx).rows] == ["Keep Capital"]
    assert services.list_investors(ctx).total == 1
    assert services.count_by_list(ctx)["all"] == 1
    with pytest.raises(NotFound):
        services.get_investor(ctx, gone["id"])
    assert services.find_people_by_email(ctx, "GINA@gone.example") == []
    assert [c["full_name"] for c in services.list_contacts(ctx)] == []
    assert services.get_fund(ctx, fund["id"])["committed"] == 250_000
    with pytest.raises(NotFound):
        services.add_person(ctx, gone["id"], {"full_name": "Late Larry"})
    duck = analytics.connect(settings=ctx.settings)
    assert duck.sql("SELECT name FROM investors").fetchall() == [("Keep Capital",)]
    assert duck.sql("SELECT count(*) FROM people").fetchone() == (0,)
    assert duck.sql("SELECT sum(amount) FROM commitments").fetchone() == (250_000,)

    archived = services.get_investor(ctx, gone["id"], include_archived=True)["investor"]
    services.restore_investor(ctx, gone["id"], expected_version=archived["version"])
    assert services.count_by_list(ctx)["all"] == 2
    assert [p["full_name"] for p in services.get_investor(ctx, gone["id"])["people"]] == [
        "Gina Gone"
    ]
    assert services.get_fund(ctx, fund["id"])["committed"] == 1_250_000


def test_restoring_a_live_investor_is_refused(ctx: Context) -> None:
    [investor] = make_investors(ctx, ["Acme"])
    with pytest.raises(ValidationError, match="is not archived"):
        services.restore_investor(ctx, investor["id"], expected_version=1)


def test_record_read_includes_people_commitments_and_history(ctx: Context, fund: dict) -> None:
    [investor] = make_investors(ctx, ["Acme"])
    person = services.add_person(
        ctx, investor["id"], {"full_name": "Ann Lee", "email": "ann@acme.example"}
    )
    services.update_person(ctx, person["id"], {"title": "CIO"}, expected_version=1)
    services.set_commitment(ctx, investor["id"], fund["id"], "$2,500,000")
    record = services.get_investor(ctx, investor["id"])
    assert record["investor"]["total_invested"] == 2_500_000
    assert [(p["full_name"], p["title"]) for p in record["people"]] == [("Ann Lee", "CIO")]
    assert [(c["fund_name"], c["amount"]) for c in record["commitments"]] == [
        ("Fund III", 2_500_000)
    ]
    history = [(h["entity"], h["action"], h["field"]) for h in record["history"]]
    assert history == [
        ("fundraising_investors", "update", "total_invested"),
        ("fundraising_commitments", "create", None),
        ("fundraising_contacts", "update", "title"),
        ("fundraising_contacts", "create", None),
        ("fundraising_investors", "create", None),
    ]
    assert record["history"][0]["old_value"] == 0 and record["history"][0]["new_value"] == 2_500_000


def test_pages_are_sorted_case_insensitively_with_a_stable_id_tiebreak(ctx: Context) -> None:
    make_investors(ctx, ["beta", "Alpha", "alpha", "Gamma", "delta"])
    first = services.list_investors(ctx, page=1, page_size=2)
    second = services.list_investors(ctx, page=2, page_size=2)
    third = services.list_investors(ctx, page=3, page_size=2)
    assert [r["name"] for r in first.rows + second.rows + third.rows] == [
        "Alpha",
        "alpha",
        "beta",
        "delta",
        "Gamma",
    ]
    assert first.total == 5
    by_name_desc = services.list_investors(ctx, sort=[("Name", "desc")], page_size=2)
    assert [r["name"] for r in by_name_desc.rows] == ["Gamma", "delta"]


def test_pages_filter_by_list_and_refuse_unknown_sorts(ctx: Context) -> None:
    make_investors(ctx, ["A", "B"], list_membership="follow_up")
    make_investors(ctx, ["C"], list_membership="graveyard")
    follow_up = services.list_investors(ctx, list_membership="follow_up")
    assert ([r["name"] for r in follow_up.rows], follow_up.total) == (["A", "B"], 2)
    assert services.count_by_list(ctx) == {
        "all": 3,
        "main": 0,
        "follow_up": 2,
        "graveyard": 1,
        "longshot": 0,
        "archived": 0,
    }
    with pytest.raises(ValidationError, match="Unknown field 'name; DROP TABLE'"):
        services.list_investors(ctx, sort=[("name; DROP TABLE", "asc")])
    with pytest.raises(ValidationError, match="Unknown list 'vip'"):
        services.list_investors(ctx, list_membership="vip")


def test_a_user_defined_field_is_a_real_column_that_validates_and_audits(ctx: Context) -> None:
    field = services.add_field(ctx, "Check size (USD)", "currency", {"min": 0})
    assert field.key == "check_size_usd"
    [investor] = make_investors(ctx, ["Acme"])
    updated = services.update_field(
        ctx, investor["id"], "Check size (USD)", "1,500,000", expected_version=1
    )
    assert updated["check_size_usd"] == 1_500_000
    with pytest.raises(ValidationError, match="Check size \\(USD\\): 'lots' is not a number"):
        services.update_field(ctx, investor["id"], "check_size_usd", "lots", expected_version=2)
    with pytest.raises(ValidationError, match="below the minimum"):
        services.update_field(ctx, investor["id"], "check_size_usd", -5, expected_version=2)
    assert ctx.db.execute("SELECT check_size_usd FROM fundraising_investors").fetchone() == (
        1_500_000.0,
    )
    duck = analytics.connect(settings=ctx.settings)
    assert duck.sql("SELECT check_size_usd FROM investors").fetchone() == (1_500_000.0,)
    with pytest.raises(ValidationError, match="already exists"):
        services.add_field(ctx, "check size (usd)", "number")
    with pytest.raises(ValidationError, match="Unknown field type 'money'"):
        services.add_field(ctx, "Other", "money")


def test_archiving_a_user_defined_field_hides_it_but_keeps_the_data(ctx: Context) -> None:
    field = services.add_field(ctx, "Warm intro", "checkbox")
    [investor] = make_investors(ctx, ["Acme"], **{"Warm intro": True})
    assert investor["warm_intro"] is True
    services.archive_field(ctx, field.key, expected_version=field.version)
    assert "warm_intro" not in [f.key for f in services.list_fields(ctx)]
    with pytest.raises(ValidationError, match="Unknown field 'Warm intro'"):
        services.update_field(ctx, investor["id"], "Warm intro", False, expected_version=1)
    assert ctx.db.execute("SELECT warm_intro FROM fundraising_investors").fetchone() == (1,)
    with pytest.raises(ValidationError, match="built-in field"):
        services.archive_field(ctx, "name", expected_version=1)
