"""People cells as real exports hold them: several per cell, remarks after addresses."""

from __future__ import annotations

import pytest

from crm_lib.importers.cells import CellError
from crm_lib.importers.people import PersonText, pair_people, people_cell, split_names

JANE = {"full_name": "Jane Doe", "email": "jane@lp.com"}


@pytest.mark.parametrize(
    ("text", "people"),
    [
        (
            'Jane Doe <jane@lp.com>, "Roe, Bob" <bob@lp.com>',
            [JANE, {"full_name": "Roe, Bob", "email": "bob@lp.com"}],
        ),
        ("jane.doe@lp.com", [{"full_name": "Jane Doe", "email": "jane.doe@lp.com"}]),
        ("Jane Doe,Bob Roe", [{"full_name": "Jane Doe"}, {"full_name": "Bob Roe"}]),
        (
            "jane@lp.com (needs to be verified)",
            [{"full_name": "Jane", "email": "jane@lp.com", "notes": "needs to be verified"}],
        ),
        (
            "a.b@x.com; c@y.com\nd@z.com / e@w.com",
            [
                {"full_name": "A B", "email": "a.b@x.com"},
                {"full_name": "C", "email": "c@y.com"},
                {"full_name": "D", "email": "d@z.com"},
                {"full_name": "E", "email": "e@w.com"},
            ],
        ),
        (
            "Jane Doe <jane@lp.com> (assistant), bob@lp.com - partner",
            [
                {**JANE, "notes": "assistant"},
                {"full_name": "Bob", "email": "bob@lp.com", "notes": "partner"},
            ],
        ),
        ("cc: jane@lp.com", [{"full_name": "Jane", "email": "jane@lp.com", "notes": "cc"}]),
        (
            "Jane Doe <jane@lp>",
            [{"full_name": "Jane Doe", "notes": "jane@lp (not an email address)"}],
        ),
    ],
)
def test_people_cells_become_one_person_each_and_keep_the_words(text: str, people: list) -> None:
    assert people_cell(text) == people


def test_a_broken_address_without_a_name_is_a_cell_error() -> None:
    with pytest.raises(CellError, match="'nobody@home' is not an email address"):
        people_cell("nobody@home (old)")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Jane Doe / Bob Roe", ["Jane Doe", "Bob Roe"]),
        ("Jane Doe; Bob Roe\nAl Bo", ["Jane Doe", "Bob Roe", "Al Bo"]),
        ("Jane Doe, Bob Roe", ["Jane Doe", "Bob Roe"]),
        ("Doe, Jane", ["Doe, Jane"]),  # last name first: one person
        ("Jane", ["Jane"]),
    ],
)
def test_name_cells_split_where_people_are_separated(text: str, names: list[str]) -> None:
    assert split_names(text) == names


def test_names_and_addresses_pair_by_position_and_titles_follow_when_they_match() -> None:
    emails = [PersonText(email="jane@lp.com", note="verify"), PersonText(email="bob@lp.com")]
    assert pair_people(["Jane Doe", "Bob Roe"], emails, ["Partner", "Analyst"], ["+1 555"]) == [
        {
            "full_name": "Jane Doe",
            "email": "jane@lp.com",
            "notes": "verify",
            "title": "Partner",
            "phone": "+1 555",
        },
        {"full_name": "Bob Roe", "email": "bob@lp.com", "title": "Analyst"},
    ]
    # one name, two addresses: the second person is left for the caller to name
    assert pair_people(["Jane Doe"], emails, [], []) == [
        {"full_name": "Jane Doe", "email": "jane@lp.com", "notes": "verify"},
        {"email": "bob@lp.com"},
    ]
    assert pair_people([], [], ["Partner"], []) == []
