"""People at investors, mirrored into the contacts directory and linked both ways."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, ValidationError
from tests.conftest import make_investors


def link_of(ctx: Context, person_id: int) -> tuple:
    return ctx.db.execute(
        "SELECT p.contact_id, c.fundraising_contact_id, c.full_name, c.email, c.title, c.deleted_at"
        " FROM fundraising_contacts p JOIN contacts c ON c.id = p.contact_id WHERE p.id = ?",
        [person_id],
    ).fetchone()


def test_a_person_mirrors_into_the_directory_linked_both_ways(ctx: Context) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    person = services.add_person(
        ctx, acme["id"], {"full_name": "Ann Lee", "email": "Ann@Acme.example", "title": "CIO"}
    )
    contact_id, back_link, name, email, title, deleted = link_of(ctx, person["id"])
    assert back_link == person["id"] and contact_id == person["contact_id"]
    assert (name, email, title, deleted) == ("Ann Lee", "Ann@Acme.example", "CIO", None)
    [entry] = services.list_contacts(ctx)
    assert (entry["organization"], entry["investor_id"]) == ("Acme", acme["id"])


def test_one_investor_has_many_people_and_one_primary(ctx: Context) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    ann = services.add_person(ctx, acme["id"], {"full_name": "Ann", "is_primary": True})
    bo = services.add_person(ctx, acme["id"], {"full_name": "Bo", "is_primary": "yes"})
    services.add_person(ctx, acme["id"], {"full_name": "Cy"})
    people = services.get_investor(ctx, acme["id"])["people"]
    assert [(p["full_name"], p["is_primary"]) for p in people] == [
        ("Bo", True),
        ("Ann", False),
        ("Cy", False),
    ]
    assert services.get_person(ctx, ann["id"])["version"] == 2  # un-primaried, audited
    assert bo["is_primary"] is True


def test_updating_a_person_updates_the_directory_and_checks_the_version(ctx: Context) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    person = services.add_person(ctx, acme["id"], {"full_name": "Ann Lee"})
    services.update_person(
        ctx,
        person["id"],
        {"email": "ann@acme.example", "full_name": "Ann Lee-Smith"},
        expected_version=1,
    )
    assert link_of(ctx, person["id"])[2:4] == ("Ann Lee-Smith", "ann@acme.example")
    with pytest.raises(ConflictError):
        services.update_person(ctx, person["id"], {"title": "CFO"}, expected_version=1)


def test_removing_a_person_archives_both_rows(ctx: Context) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    person = services.add_person(ctx, acme["id"], {"full_name": "Ann", "email": "ann@acme.example"})
    services.remove_person(ctx, person["id"], expected_version=1)
    assert link_of(ctx, person["id"])[5] is not None
    assert services.get_investor(ctx, acme["id"])["people"] == []
    assert services.find_people_by_email(ctx, "ann@acme.example") == []


def test_email_lookup_ignores_case_and_names_the_investor(ctx: Context) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    services.add_person(ctx, acme["id"], {"full_name": "Ann", "email": "Ann.Lee@Acme.example"})
    [found] = services.find_people_by_email(ctx, " ann.lee@acme.EXAMPLE ")
    assert (found["full_name"], found["investor_name"]) == ("Ann", "Acme")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"full_name": ""}, "A person needs a name"),
        (
            {"full_name": "Ann", "email": "ann-at-acme"},
            "email: 'ann-at-acme' is not an email address",
        ),
        ({"full_name": "Ann", "twitter": "@ann"}, "Unknown person field 'twitter'"),
    ],
)
def test_bad_person_values_are_refused(ctx: Context, values: dict, message: str) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    with pytest.raises(ValidationError, match=message):
        services.add_person(ctx, acme["id"], values)
    assert ctx.db.execute("SELECT count(*) FROM contacts").fetchone() == (0,)
