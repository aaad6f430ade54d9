"""Date arithmetic across month ends and leap years, units, formats, working days, the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from crm_lib.clock import FixedClock
from crm_lib.formulas import RecordInfo, compile_formula, evaluate

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # month ends clamp; leap years
        ('DATEADD("2026-01-31", 1, "month")', date(2026, 2, 28)),
        ('DATEADD("2024-01-31", 1, "months")', date(2024, 2, 29)),
        ('DATEADD("2024-02-29", 1, "years")', date(2025, 2, 28)),
        ('DATEADD("2024-02-29", 4, "y")', date(2028, 2, 29)),
        ('DATEADD("2026-03-31", -1, "M")', date(2026, 2, 28)),
        ('DATEADD("2026-11-30", 1, "quarters")', date(2027, 2, 28)),
        ('DATEADD("2026-12-31", 1, "days")', date(2027, 1, 1)),
        ('DATEADD("2026-11-25T23:30:00Z", 45, "m")', datetime(2026, 11, 26, 0, 15, tzinfo=UTC)),
        ('DATEADD("2026-11-25", 36, "hours")', datetime(2026, 11, 26, 12, tzinfo=UTC)),
        # differences: date1 - date2, truncated toward zero
        ('DATETIME_DIFF("2024-03-01", "2024-02-28", "days")', 2),
        ('DATETIME_DIFF("2026-03-01", "2026-02-28", "days")', 1),
        ('DATETIME_DIFF("2026-01-01", "2026-03-01", "days")', -59),
        ('DATETIME_DIFF("2026-03-31", "2026-01-31", "months")', 2),
        ('DATETIME_DIFF("2026-02-28", "2026-01-31", "months")', 1),  # month end to month end
        (
            'DATETIME_DIFF("2027-02-28", "2024-02-29", "years")',
            3,
        ),  # Feb 29 + 3 years clamps to Feb 28
        ('DATETIME_DIFF("2026-01-15", "2026-01-01", "weeks")', 2),
        ('DATETIME_DIFF("2026-01-01T00:01:30Z", "2026-01-01T00:00:00Z")', 90),
        ('DATETIME_DIFF("2026-01-01T00:00:00Z", "2026-01-01T01:59:00Z", "hours")', -1),
        ('DATETIME_DIFF("2026-01-02", "2026-01-01T12:00:00Z", "hours")', 12),
        # parts, weeks
        ('WEEKDAY("2024-02-29")', 4),
        ('WEEKNUM("2026-12-31")', 53),
        ('WEEKNUM("2027-01-02")', 1),
        ('DAY(DATEADD("2024-02-28", 1, "days"))', 29),
        ('MONTH("2026-11-25T23:59:59Z")', 11),
        ('DATETIME_FORMAT("2026-11-25T09:05:03Z", "YYYY-MM-DD HH:mm:ss")', "2026-11-25 09:05:03"),
        ('DATETIME_FORMAT("2026-11-25", "[Q]Q YYYY")', "Q4 2026"),
        ('DATETIME_FORMAT("2026-11-25", "L")', "11/25/2026"),
        ('DATETIME_PARSE("11/25/2026")', datetime(2026, 11, 25, tzinfo=UTC)),
        ('DATETIME_PARSE("25 November 2026", "D MMMM YYYY")', date(2026, 11, 25)),
        # comparisons treat days and moments on one time line
        ('DATETIME_PARSE("2026-11-25") < "2026-11-25T00:00:01Z"', True),
        ('IS_SAME("2026-11-25T10:00:00Z", "2026-11-25T22:00:00Z", "day")', True),
        ('IS_SAME("2026-12-31", "2027-01-01", "year")', False),
        # working days: weekends, holidays, both directions, a weekend start
        ('WORKDAY("2026-11-28", 1)', date(2026, 11, 30)),
        ('WORKDAY("2026-11-23", 10)', date(2026, 12, 7)),
        ('WORKDAY("2026-11-23", 10, "2026-11-26, 2026-11-27")', date(2026, 12, 9)),
        ('WORKDAY("2026-11-23", -6)', date(2026, 11, 13)),
        ('WORKDAY("2026-11-23", 0)', date(2026, 11, 23)),
        ('WORKDAY_DIFF("2026-11-28", "2026-11-29")', 0),
        ('WORKDAY_DIFF("2026-11-01", "2026-11-30")', 21),
        ('WORKDAY_DIFF("2026-11-01", "2026-11-30", "2026-11-26,2026-11-27")', 19),
        # time zones
        ('DAY(SET_TIMEZONE("2026-11-25T23:30:00Z", "Asia/Tokyo"))', 26),
        (
            'DATETIME_FORMAT(SET_TIMEZONE("2026-01-15T12:00:00Z", "America/Los_Angeles"), "h:mm a Z")',
            "4:00 am -08:00",
        ),
    ],
)
def test_date_rule(text: str, expected: object) -> None:
    got = evaluate(text, {})
    assert got == expected and type(got) is type(expected), f"{text} gave {got!r}"


def test_workday_over_many_years_is_computed_not_walked() -> None:
    # 260 working days a year on average: 26,000 working days is about 100 years.
    got = evaluate('WORKDAY("2026-01-01", 26000)', {})
    assert got.year in (2125, 2126)
    assert evaluate(f'WORKDAY_DIFF("2026-01-01", "{got.isoformat()}")', {}) == 26001


def test_today_and_now_come_from_the_clock() -> None:
    clock = FixedClock(NOW)
    formula = compile_formula(
        'DATETIME_DIFF(TODAY(), {Last Contact}, "days")', {"Last Contact": "date"}, clock=clock
    )
    assert formula.reads_clock
    assert formula.evaluate_many({"Last Contact": ["2026-11-01", "2026-11-25", "2024-02-29"]}) == [
        24,
        0,
        1000,
    ]
    clock.advance(days=7)
    assert formula.evaluate({"Last Contact": "2026-11-25"}) == 7
    assert evaluate("NOW()", {}, clock=clock) == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    assert evaluate('TONOW("2026-11-20")', {}, clock=clock) == 12


def test_today_follows_the_formulas_time_zone() -> None:
    late_evening_utc = FixedClock(datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    tokyo = compile_formula("TODAY()", {}, clock=late_evening_utc, timezone="Asia/Tokyo")
    utc = compile_formula("TODAY()", {}, clock=late_evening_utc)
    assert tokyo.evaluate({}) == date(2026, 11, 26)
    assert utc.evaluate({}) == date(2026, 11, 25)


def test_unknown_unit_and_zone_are_cell_errors_that_say_what_to_use() -> None:
    got = compile_formula('DATEADD({d}, 1, "fortnights")', {"d": "date"}).evaluate(
        {"d": "2026-01-01"}
    )
    assert "Unknown unit" in got.message and "months" in got.message
    zone = compile_formula('SET_TIMEZONE({d}, "Mars/Olympus")', {"d": "date"}).evaluate(
        {"d": "2026-01-01"}
    )
    assert "Unknown time zone" in zone.message


def test_record_functions_read_the_record() -> None:
    created = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    edited = datetime(2026, 6, 1, tzinfo=UTC)
    info = RecordInfo(
        id=42,
        created_time=created,
        last_modified_time=edited,
        field_modified_times={"Status": datetime(2026, 3, 1, tzinfo=UTC)},
    )
    types = {"Status": "single_select"}
    record_id = compile_formula('"INV-" & RECORD_ID()', types)
    assert record_id.evaluate({}, info) == "INV-42"
    assert compile_formula("CREATED_TIME()", types).evaluate({}, info) == created
    assert compile_formula("LAST_MODIFIED_TIME()", types).evaluate({}, info) == edited
    by_field = compile_formula("LAST_MODIFIED_TIME({Status})", types)
    assert by_field.dependencies == {"Status"}
    assert by_field.evaluate({}, info) == datetime(2026, 3, 1, tzinfo=UTC)
    assert compile_formula(
        "DATETIME_DIFF(LAST_MODIFIED_TIME(), CREATED_TIME(), 'days')", types
    ).evaluate_many({}, [info, info]) == [149, 149]  # 149 days 20:56
