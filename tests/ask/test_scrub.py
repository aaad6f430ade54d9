"""What leaves the box: every known name, address, phone number and amount in a question is a
typed placeholder, and its value stays here to be bound into the SQL."""

from __future__ import annotations

from pathlib import Path

import crm_lib
from crm_lib.ask.scrub import Matcher

MATCHER = Matcher(
    investors=[
        "Acme Capital",
        "Smith Family Office",
        "Zürich Pension Fund",
        "Jane Doe",
        "The",
        "A",
    ],
    people=["John Smith", "Jane Doe", "Mary O'Brien", "Ana (.*) Ruiz"],
    domains=["acme.example", "gmail.com", "www.zpf.example"],
)


def test_names_are_found_whatever_the_case_and_accents_longest_first() -> None:
    scrubbed = MATCHER.scrub(
        "Does ACME capital know john smith of smith family office in zurich pension fund?"
    )
    assert scrubbed.text == "Does INVESTOR_1 know PERSON_1 of INVESTOR_2 in INVESTOR_3?"
    assert scrubbed.values == {
        "INVESTOR_1": "Acme Capital",
        "PERSON_1": "John Smith",
        "INVESTOR_2": "Smith Family Office",
        "INVESTOR_3": "Zürich Pension Fund",
    }


def test_one_name_one_placeholder_and_investors_win() -> None:
    scrubbed = MATCHER.scrub("Jane Doe, then JANE DOE again; Mary O'Brien and Ana (.*) Ruiz")
    assert scrubbed.text == "INVESTOR_1, then INVESTOR_1 again; PERSON_1 and PERSON_2"
    assert scrubbed.values["PERSON_2"] == "Ana (.*) Ruiz"


def test_common_one_word_names_do_not_eat_the_question() -> None:
    assert MATCHER.scrub("a list of the investors").text == "a list of the investors"


def test_addresses_domains_phones_and_amounts() -> None:
    scrubbed = MATCHER.scrub(
        "mail from ops@unknown.example or jane@acme.example, the acme.example and zpf.example"
        " domains, not gmail.com or example.org; call +41 44 123 45 67; more than $5m,"
        " 2,500,000 EUR, 3.5 billion or €250k"
    )
    assert scrubbed.text == (
        "mail from EMAIL_1 or EMAIL_2, the DOMAIN_1 and DOMAIN_2"
        " domains, not gmail.com or example.org; call PHONE_1; more than AMOUNT_1,"
        " AMOUNT_2, AMOUNT_3 or AMOUNT_4"
    )
    assert scrubbed.values["AMOUNT_1"] == 5_000_000
    assert scrubbed.values["AMOUNT_2"] == 2_500_000
    assert scrubbed.values["AMOUNT_3"] == 3_500_000_000
    assert scrubbed.values["AMOUNT_4"] == 250_000
    assert scrubbed.values["PHONE_1"] == "+41 44 123 45 67"


def test_numbers_that_are_not_amounts_or_phones_stay() -> None:
    question = "Fund III commitments since 2026-01-01, top 10, not emailed in 90 days, vintage 2024"
    assert MATCHER.scrub(question).text == question


def test_no_name_of_the_demo_survives(demo_dir: Path) -> None:
    ctx = crm_lib.open_crm(demo_dir, actor="system:test")
    try:
        matcher = Matcher.from_database(ctx.db.conn)
        investors = [
            r[0]
            for r in ctx.db.execute(
                "SELECT name FROM fundraising_investors WHERE deleted_at IS NULL ORDER BY id LIMIT 40"
            )
        ]
        people = [
            r[0]
            for r in ctx.db.execute(
                "SELECT full_name, email FROM fundraising_contacts WHERE deleted_at IS NULL"
                " AND email IS NOT NULL ORDER BY id LIMIT 40"
            )
        ]
        emails = [
            r[1]
            for r in ctx.db.execute(
                "SELECT full_name, email FROM fundraising_contacts WHERE deleted_at IS NULL"
                " AND email IS NOT NULL ORDER BY id LIMIT 40"
            )
        ]
    finally:
        ctx.close()
    for investor, person, email in zip(investors, people, emails, strict=True):
        question = f"Has {person} of {investor.upper()} ({email}) answered since we wrote?"
        scrubbed = matcher.scrub(question)
        for secret in (investor, person, email, email.split("@")[1]):
            assert secret.casefold() not in scrubbed.text.casefold(), (secret, scrubbed.text)
        assert investor in scrubbed.values.values() and email in scrubbed.values.values()
