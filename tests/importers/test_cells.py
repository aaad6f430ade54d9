"""Airtable's cell encodings, one case per row: text in, value (or the reason it fails) out."""

from __future__ import annotations

from datetime import date

import pytest

from crm_lib.importers import cells as c


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("$1,500.00", 1500),
        ("-$1,500.00", -1500),
        ("$-1,500.00", -1500),
        ("($2,000.50)", -2000.5),
        ("€1,500.25", 1500.25),
        ("£75,000", 75000),
        ("CHF 1,250.00", 1250),
        ("USD 3,000,000.00", 3000000),
        ("€1.500,75", 1500.75),
        ("1,234,567", 1234567),
        ("1234.5", 1234.5),
        (".5", 0.5),
        ("12 500", 12500),
    ],
)
def test_amounts_in_airtables_formats(text: str, value: float) -> None:
    assert c.parse_amount(text) == value


@pytest.mark.parametrize("text", ["abc", "1,23,4", "$", "12-3", "1.2.3,4,5"])
def test_text_that_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(c.CellError, match="is not a number"):
        c.parse_amount(text)


@pytest.mark.parametrize(("text", "value"), [("25%", 0.25), ("12.5%", 0.125), ("0.3", 0.3)])
def test_percents(text: str, value: float) -> None:
    assert c.parse_percent(text) == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "order", "day", "at"),
    [
        ("1/15/2024", "mdy", "2024-01-15", None),
        ("2024-01-15", "mdy", "2024-01-15", None),
        ("1/15/2024 2:30pm", "mdy", "2024-01-15", "2024-01-15T14:30:00+00:00"),
        ("1/15/2024 12:05am", "mdy", "2024-01-15", "2024-01-15T00:05:00+00:00"),
        ("2024-01-15 11:28", "mdy", "2024-01-15", "2024-01-15T11:28:00+00:00"),
        ("19/10/2025 11:40", "dmy", "2025-10-19", "2025-10-19T11:40:00+00:00"),
        ("3/4/2025", "dmy", "2025-04-03", None),
        ("3/4/2025", "mdy", "2025-03-04", None),
        ("2024-01-15T11:28:00.000Z", "mdy", "2024-01-15", "2024-01-15T11:28:00+00:00"),
        ("2024-01-15T23:30:00-05:00", "mdy", "2024-01-16", "2024-01-16T04:30:00+00:00"),
        ("January 15, 2024", "mdy", "2024-01-15", None),
        ("15 January 2024 10:00", "dmy", "2024-01-15", "2024-01-15T10:00:00+00:00"),
    ],
)
def test_dates_and_times_airtable_writes(text: str, order: str, day: str, at: str | None) -> None:
    moment = c.parse_moment(text, order)
    assert moment.as_date() == day
    assert (moment.as_datetime() if moment.at else None) == at


@pytest.mark.parametrize(
    ("text", "order", "reason"),
    [
        ("19/10/2025", "mdy", "read as month/day/year"),
        ("2/30/2024", "mdy", "is not a date"),
        ("1/15/2024 13:00pm", "mdy", "hour of 13"),
        ("next tuesday", "mdy", "is not a date"),
    ],
)
def test_impossible_dates_say_why(text: str, order: str, reason: str) -> None:
    with pytest.raises(c.CellError, match=reason):
        c.parse_moment(text, order)


def test_slash_dates_prove_their_order_only_when_a_part_is_above_twelve() -> None:
    assert c.slash_order_evidence("19/10/2025 11:40") == "dmy"
    assert c.slash_order_evidence("10/19/2025") == "mdy"
    assert c.slash_order_evidence("3/4/2025") is None
    assert date.fromisoformat(c.parse_moment("3/4/2025").as_date()).month == 3


@pytest.mark.parametrize(
    ("text", "value"), [("checked", 1), ("", 0), ("TRUE", 1), ("false", 0), ("✓", 1)]
)
def test_checkboxes(text: str, value: int) -> None:
    assert c.parse_checkbox(text) == value


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ("AI,Climate", ["AI", "Climate"]),
        ("AI, Climate", ["AI", "Climate"]),
        ('Fintech,"Health, Bio",AI', ["Fintech", "Health, Bio", "AI"]),
        ("Solo", ["Solo"]),
        ("", []),
    ],
)
def test_multi_select_and_linked_record_cells(text: str, items: list[str]) -> None:
    assert c.split_list(text) == items


def test_attachments_are_kept_as_links_one_per_line() -> None:
    cell = "deck.pdf (https://dl.airtable.com/a/deck.pdf),memo v2.docx (https://dl.airtable.com/b/m.docx)"
    assert c.parse_attachments(cell) == (
        "deck.pdf (https://dl.airtable.com/a/deck.pdf)\n"
        "memo v2.docx (https://dl.airtable.com/b/m.docx)"
    )


@pytest.mark.parametrize("text", ["#ERROR!", "NaN", "#N/A", " Infinity ", "#DIV/0!"])
def test_formula_error_cells_are_recognised(text: str) -> None:
    assert c.is_formula_error(text)


def test_headers_lose_invisible_characters_and_names_fold_punctuation() -> None:
    assert c.clean_header("\ufeff\u200bFund\u00a0I  Commitment\u200d") == "Fund I Commitment"
    assert c.normalize_name("Last-Contacted (date)") == c.normalize_name("last contacted date")


def test_defused_formula_text_from_our_export_reads_back_as_typed() -> None:
    assert c.undefuse("'=SUM(A1)") == "=SUM(A1)"
    assert c.undefuse("'quoted") == "'quoted"


@pytest.mark.parametrize(
    "text", ["1/15/2024 2:30pm", "12/31/2024 11:59 PM", "2/29/2024 12:00am", "19/10/2025 11:40"]
)
def test_fast_datetime_text_agrees_with_the_careful_parser(text: str) -> None:
    order = "dmy" if text.startswith("19/") else "mdy"
    assert c.moment_text(text, order) == c.parse_moment(text, order).as_datetime()


@pytest.mark.parametrize(
    ("text", "date_like"),
    [
        ("January 15, 2024", True),
        ("15 Jan 2024 10:00am", True),
        ("Jane Doe <jane0@x.example>", False),
        ("Marketing 2024", False),
        ("1/15/2024", True),
    ],
)
def test_only_date_shaped_text_looks_like_a_date(text: str, date_like: bool) -> None:
    assert c.looks_like_date(text) is date_like


@pytest.mark.parametrize(
    "text",
    [
        *("2024-01-15 10:00", "2024-01-15T10:00:59", "2024-12-28 23:59", "2024-01-31 08:05"),
        *("2024-02-30 10:00", "2024-13-01 10:00", "2024-01-15 24:00", "2024-00-10 10:00"),
    ],
)
def test_the_iso_date_time_fast_path_agrees_with_the_careful_parser(text: str) -> None:
    try:
        careful = c.parse_moment(text).as_datetime()
    except c.CellError as exc:
        with pytest.raises(c.CellError, match=str(exc).replace("(", r"\(").replace(")", r"\)")):
            c.moment_text(text)
    else:
        assert c.moment_text(text) == careful
