"""Date functions, with Airtable's (moment.js) units; format tokens and locales are in
``moment.py`` and ``locales.py``.

Days are ``datetime.date``; moments are timezone-aware ``datetime`` (UTC unless SET_TIMEZONE moved
them; SET_LOCALE's locale rides on the time zone, see ``values.LocalizedZone``). DATEADD and
DATETIME_DIFF follow moment.js: month arithmetic clamps to the month's end (Jan 31 + 1 month =
Feb 28, or 29 in a leap year), a fractional count of days, weeks, months, quarters or years is
rounded to a whole one, months are counted as moment's monthDiff counts them, and differences are
whole units truncated toward zero. TODAY, NOW, TONOW and FROMNOW read "now" from the clock the
formula was compiled with.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from crm_lib.formulas import values as v
from crm_lib.formulas.engine import Batch, Column, Step, apply_scalar, broadcast
from crm_lib.formulas.limits import check_text
from crm_lib.formulas.locales import locale_named
from crm_lib.formulas.moment import format_moment, parse_with_format
from crm_lib.formulas.registry import register
from crm_lib.formulas.values import EvalError, ValueType

T = ValueType
D = T.DATETIME
N = T.NUMBER
S = T.TEXT
A = T.ANY

DayOrMoment = date | datetime

# --- units -----------------------------------------------------------------------------------

# moment.js's unit names (normalizeUnits): exact spelling first, then lower case, so "M" is months
# and "m" minutes, while "Days" and "YEARS" still read. Airtable documents the plural names and
# these abbreviations: ms, s, m, h, d, w, M, Q, y.
_UNIT_NAMES = {
    "milliseconds": "ms", "millisecond": "ms", "ms": "ms",
    "seconds": "s", "second": "s", "s": "s",
    "minutes": "m", "minute": "m", "m": "m",
    "hours": "h", "hour": "h", "h": "h",
    "days": "d", "day": "d", "d": "d",
    "weeks": "w", "week": "w", "w": "w",
    "months": "M", "month": "M", "M": "M",
    "quarters": "Q", "quarter": "Q", "Q": "Q",
    "years": "y", "year": "y", "y": "y",
}  # fmt: skip
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MONTHS = {"M": 1, "Q": 3, "y": 12}
_DAYS = {"d": 1, "w": 7}


def known_unit(text: str) -> str | None:
    """The canonical unit for one of Airtable's unit names, or None."""
    return _UNIT_NAMES.get(text.strip()) or _UNIT_NAMES.get(text.strip().lower())


def unit_of(text: str) -> str:
    """The canonical unit for Airtable's unit names ("days", "d", "M" = months, "m" = minutes)."""
    unit = known_unit(text)
    if unit is None:
        raise EvalError(
            f'Unknown unit "{text}": use milliseconds, seconds, minutes, hours, days, weeks, '
            "months, quarters or years"
        )
    return unit


def _rounded(count: float) -> int:
    """moment's absRound: to the nearest whole number, halves away from zero."""
    whole = math.floor(abs(count) + 0.5)
    return -whole if count < 0 else whole


def _shifted(moment: DayOrMoment, count: float, unit: str) -> DayOrMoment:
    """moment's add(): months and days move by whole (rounded) numbers, clock units exactly."""
    try:
        if unit in _MONTHS:
            return moment + relativedelta(months=_rounded(count * _MONTHS[unit]))
        if unit in _DAYS:
            return moment + timedelta(days=_rounded(count * _DAYS[unit]))
        milliseconds = math.trunc(count * _SECONDS[unit] * 1000)
        return v.to_moment(moment) + timedelta(milliseconds=milliseconds)
    except (OverflowError, ValueError):
        raise EvalError("The date is out of range (years 1 to 9999)") from None


def _add_months(moment: datetime, months: int) -> datetime:
    return moment + relativedelta(months=months)


def _month_diff(a: datetime, b: datetime) -> float:
    """moment's monthDiff: whole months from ``b`` to ``a`` plus the fraction of the next one."""
    if a.day < b.day:
        return -_month_diff(b, a)
    whole = (b.year - a.year) * 12 + (b.month - a.month)
    anchor = _add_months(a, whole)
    if b < anchor:
        before = _add_months(a, whole - 1)
        adjust = (b - anchor) / (anchor - before)
    else:
        after = _add_months(a, whole + 1)
        adjust = (b - anchor) / (after - anchor)
    return -(whole + adjust) or 0.0


@register(
    "dates",
    params=[("date", D), ("count", N), ("units", S)],
    result=lambda t: t[0] if t[0] in v.DATE_TYPES else D,
    examples=[
        ('DATEADD("2026-01-31", 1, "months")', date(2026, 2, 28)),
        ('DATEADD("2028-01-31", 1, "months")', date(2028, 2, 29)),
        ('DATEADD("2026-11-25", -2, "weeks")', date(2026, 11, 11)),
        (
            'DATEADD("2026-11-25T09:00:00Z", 90, "minutes")',
            datetime(2026, 11, 25, 10, 30, tzinfo=UTC),
        ),
    ],
)
def DATEADD(date_: DayOrMoment, count: float, units: str) -> DayOrMoment:
    """Adds count units (days, weeks, months, ...) to a date; month ends are clamped."""
    return _shifted(date_, count, unit_of(units))


@register(
    "dates",
    params=[("date1", D), ("date2", D), ("units", S)],
    result=N,
    examples=[
        ('DATETIME_DIFF("2026-03-01", "2026-02-01", "days")', 28),
        ('DATETIME_DIFF("2024-03-01", "2024-02-01", "days")', 29),
        ('DATETIME_DIFF("2026-11-25", "2026-01-31", "months")', 9),
        ('DATETIME_DIFF("2026-01-01T10:00:00Z", "2026-01-01T08:30:00Z", "hours")', 1),
    ],
)
def DATETIME_DIFF(date1: DayOrMoment, date2: DayOrMoment, units: str = "seconds") -> int:
    """date1 minus date2 in whole units (truncated toward zero); seconds by default, and
    milliseconds for a unit it does not know (as Airtable's reference says)."""
    unit = known_unit(units) or "ms"
    if type(date1) is date and type(date2) is date and unit in _DAYS:
        return int((date1 - date2).days / _DAYS[unit])
    a = v.to_moment(date1)
    b = v.to_moment(date2).astimezone(a.tzinfo)
    if unit in _MONTHS:
        return math.trunc(_month_diff(a, b) / _MONTHS[unit])
    return int(v.timedelta_units(a - b, _SECONDS[unit]))


# --- moment.js format tokens -----------------------------------------------------------------


@register(
    "dates",
    params=[("date", D), ("format", S)],
    result=S,
    examples=[
        ('DATETIME_FORMAT("2026-11-25", "M/D/YYYY")', "11/25/2026"),
        ('DATETIME_FORMAT("2026-11-05", "LL")', "November 5, 2026"),
        ('DATETIME_FORMAT("2026-11-25T14:05:00Z", "ddd Do MMM, h:mm A")', "Wed 25th Nov, 2:05 PM"),
    ],
)
def DATETIME_FORMAT(date_: DayOrMoment, format: str = "YYYY-MM-DDTHH:mm:ss.SSS[Z]") -> str:
    """Writes a date as text using moment.js tokens (YYYY, MM, DD, HH, mm, LL, ...)."""
    locale = locale_named(v.locale_of(date_))
    return check_text(format_moment(date_, format, locale))


@register(
    "dates",
    params=[("text", S), ("format", S), ("locale", S)],
    result=A,
    examples=[
        ('DATETIME_PARSE("25/11/2026", "DD/MM/YYYY")', date(2026, 11, 25)),
        ('DATETIME_PARSE("2026-11-25")', date(2026, 11, 25)),
        ('DATETIME_PARSE("Nov 25, 2026 3:30 PM")', datetime(2026, 11, 25, 15, 30, tzinfo=UTC)),
        ('DATETIME_PARSE("25 mars 2026", "D MMMM YYYY", "fr")', date(2026, 3, 25)),
    ],
)
def DATETIME_PARSE(text: str, format: str | None = None, locale: str | None = None) -> DayOrMoment:
    """Reads text as a date, with an optional moment.js format ("DD/MM/YYYY") and locale ("fr")."""
    if not format:
        return v.parse_date_text(text)
    return parse_with_format(text, format, locale_named(locale or "en"))


@register(
    "dates",
    params=[("date", D), ("locale", S)],
    result=D,
    examples=[
        ('DATETIME_FORMAT(SET_LOCALE("2026-11-25", "fr"), "dddd D MMMM")', "mercredi 25 novembre"),
        ('DATETIME_FORMAT(SET_LOCALE("2026-11-25", "en-gb"), "L")', "25/11/2026"),
    ],
)
def SET_LOCALE(date_: DayOrMoment, locale: str) -> datetime:
    """The same moment with a locale for DATETIME_FORMAT (month and day names, L, LL, ...)."""
    return v.with_locale(v.to_moment(date_), locale_named(locale).code)


@register(
    "dates",
    params=[("date", D)],
    result=S,
    examples=[('DATESTR("2026-11-25T23:30:00Z")', "2026-11-25")],
)
def DATESTR(date_: DayOrMoment) -> str:
    """The date as YYYY-MM-DD text."""
    return v.day_of(date_).isoformat()


@register(
    "dates",
    params=[("datetime", D)],
    result=S,
    examples=[
        ('TIMESTR("2026-11-25T14:05:09Z")', "14:05:09"),
        ('TIMESTR("2026-11-25")', "00:00:00"),
    ],
)
def TIMESTR(datetime_: DayOrMoment) -> str:
    """The time of day as HH:mm:ss text."""
    return v.to_moment(datetime_).strftime("%H:%M:%S")


@register("dates", params=[("date", D)], result=N, examples=[('YEAR("2026-11-25")', 2026)])
def YEAR(date_: DayOrMoment) -> int:
    """The year of a date."""
    return date_.year


@register("dates", params=[("date", D)], result=N, examples=[('MONTH("2026-11-25")', 11)])
def MONTH(date_: DayOrMoment) -> int:
    """The month of a date (1 to 12)."""
    return date_.month


@register("dates", params=[("date", D)], result=N, examples=[('DAY("2026-11-25")', 25)])
def DAY(date_: DayOrMoment) -> int:
    """The day of the month (1 to 31)."""
    return date_.day


def _weekday_offset(start: str | None) -> int:
    """0 when weeks start on Sunday, 1 when they start on Monday."""
    if not start:
        return 0
    key = start.strip().lower()
    if key in ("sunday", "sun"):
        return 0
    if key in ("monday", "mon"):
        return 1
    raise EvalError(f'Weeks start on "Sunday" or "Monday", not "{start}"')


@register(
    "dates",
    params=[("date", D), ("start_day_of_week", S)],
    result=N,
    examples=[
        ('WEEKDAY("2026-11-22")', 0),
        ('WEEKDAY("2026-11-25")', 3),
        ('WEEKDAY("2026-11-25", "Monday")', 2),
    ],
)
def WEEKDAY(date_: DayOrMoment, start_day_of_week: str | None = None) -> int:
    """Day of the week, 0 (Sunday) to 6; with "Monday", Monday is 0."""
    sunday_based = (v.day_of(date_).weekday() + 1) % 7
    return (sunday_based - _weekday_offset(start_day_of_week)) % 7


@register(
    "dates",
    params=[("date", D), ("start_day_of_week", S)],
    result=N,
    examples=[
        ('WEEKNUM("2026-01-01")', 1),
        ('WEEKNUM("2026-11-25")', 48),
        ('WEEKNUM("2026-01-05", "Monday")', 2),
    ],
)
def WEEKNUM(date_: DayOrMoment, start_day_of_week: str | None = None) -> int:
    """Week of the year (the week holding January 1 is week 1); weeks start Sunday unless "Monday"."""
    day = v.day_of(date_)
    first = date(day.year, 1, 1)
    offset = ((first.weekday() + 1) % 7 - _weekday_offset(start_day_of_week)) % 7
    return (day.timetuple().tm_yday - 1 + offset) // 7 + 1


@register(
    "dates", params=[("datetime", D)], result=N, examples=[('HOUR("2026-11-25T14:05:09Z")', 14)]
)
def HOUR(datetime_: DayOrMoment) -> int:
    """The hour (0 to 23)."""
    return v.to_moment(datetime_).hour if type(datetime_) is date else datetime_.hour  # type: ignore[union-attr]


@register(
    "dates", params=[("datetime", D)], result=N, examples=[('MINUTE("2026-11-25T14:05:09Z")', 5)]
)
def MINUTE(datetime_: DayOrMoment) -> int:
    """The minute (0 to 59)."""
    return 0 if type(datetime_) is date else datetime_.minute  # type: ignore[union-attr]


@register(
    "dates", params=[("datetime", D)], result=N, examples=[('SECOND("2026-11-25T14:05:09Z")', 9)]
)
def SECOND(datetime_: DayOrMoment) -> int:
    """The second (0 to 59)."""
    return 0 if type(datetime_) is date else datetime_.second  # type: ignore[union-attr]


def _ordered(left: DayOrMoment, right: DayOrMoment) -> tuple[DayOrMoment, DayOrMoment]:
    if type(left) is type(right):
        return left, right
    return v.to_moment(left), v.to_moment(right)


@register(
    "dates",
    params=[("date1", D), ("date2", D)],
    result=T.BOOLEAN,
    examples=[('IS_BEFORE("2026-01-01", "2026-06-01")', True)],
)
def IS_BEFORE(date1: DayOrMoment, date2: DayOrMoment) -> bool:
    """True when date1 is before date2."""
    a, b = _ordered(date1, date2)
    return a < b  # type: ignore[operator]


@register(
    "dates",
    params=[("date1", D), ("date2", D)],
    result=T.BOOLEAN,
    examples=[('IS_AFTER("2026-01-01", "2026-06-01")', False)],
)
def IS_AFTER(date1: DayOrMoment, date2: DayOrMoment) -> bool:
    """True when date1 is after date2."""
    a, b = _ordered(date1, date2)
    return a > b  # type: ignore[operator]


def _whole_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _start_of(moment: datetime, unit: str, first_weekday: int) -> tuple[int, ...]:
    """The start of the unit holding ``moment``, as moment.js's startOf(unit) finds it."""
    if unit == "w":
        sunday_based = (moment.weekday() + 1) % 7
        start = moment.date() - timedelta(days=(sunday_based - first_weekday) % 7)
        return start.toordinal(), 0
    parts = {
        "y": (moment.year,),
        "Q": (moment.year, (moment.month - 1) // 3),
        "M": (moment.year, moment.month),
        "d": (moment.year, moment.month, moment.day),
        "h": (moment.year, moment.month, moment.day, moment.hour),
        "m": (moment.year, moment.month, moment.day, moment.hour, moment.minute),
        "s": (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second),
    }
    return parts[unit]


@register(
    "dates",
    params=[("date1", D), ("date2", D), ("unit", S)],
    result=T.BOOLEAN,
    examples=[
        ('IS_SAME("2026-11-01", "2026-11-30", "month")', True),
        ('IS_SAME("2026-11-01", "2026-11-30", "day")', False),
        ('IS_SAME("2026-11-25", "2026-11-25T00:00:00Z")', True),
    ],
)
def IS_SAME(date1: DayOrMoment, date2: DayOrMoment, unit: str | None = None) -> bool:
    """True when the dates are the same, or fall in the same unit (year, month, week, day, ...).

    Both are seen in date1's time zone; weeks start on Sunday (or the first day of date1's locale).
    """
    a = v.to_moment(date1)
    b = v.to_moment(date2).astimezone(a.tzinfo)
    canonical = unit_of(unit) if unit else "ms"
    if canonical == "ms":
        return _whole_ms(a) == _whole_ms(b)
    first_weekday = locale_named(v.locale_of(a)).dow
    return _start_of(a, canonical, first_weekday) == _start_of(b, canonical, first_weekday)


# --- working days ----------------------------------------------------------------------------


def _holidays(value: object) -> frozenset[date]:
    """Holidays given as "2026-12-25, 2026-12-26" text or as a list of dates."""
    if v.is_blank(value):
        return frozenset()
    items = value if isinstance(value, list) else str(value).split(",")
    return frozenset(v.day_of(v.to_date_value(item)) for item in items if not v.is_blank(item))


def _is_workday(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def _workdays_after(start: date, end: date, holidays: frozenset[date]) -> int:
    """Working days in (start, end] — whole weeks counted by arithmetic, not by looping."""
    span = (end - start).days
    weeks, rest = divmod(span, 7)
    count = weeks * 5
    for offset in range(1, rest + 1):
        if (start + timedelta(days=offset)).weekday() < 5:
            count += 1
    return count - sum(1 for h in holidays if start < h <= end and h.weekday() < 5)


@register(
    "dates",
    params=[("start_date", D), ("num_days", N), ("holidays", A)],
    result=T.DATE,
    examples=[
        ('WORKDAY("2026-11-27", 1)', date(2026, 11, 30)),
        ('WORKDAY("2026-12-24", 1, "2026-12-25")', date(2026, 12, 28)),
        ('WORKDAY("2026-11-30", -1)', date(2026, 11, 27)),
    ],
)
def WORKDAY(start_date: DayOrMoment, num_days: float, holidays: object = None) -> date:
    """The working day num_days after the start (weekends and the given holidays skipped)."""
    days = int(num_days)
    start = v.day_of(start_date)
    free = _holidays(holidays)
    if days == 0:
        return start
    step = 1 if days > 0 else -1
    # Jump whole weeks arithmetically, then walk the few remaining days.
    weeks = (abs(days) - 1) // 5
    try:
        day = start + timedelta(weeks=weeks * step)
    except OverflowError:
        raise EvalError("The date is out of range (years 1 to 9999)") from None
    remaining = abs(days) - weeks * 5
    skipped = sum(
        1 for h in free if (start < h <= day if step > 0 else day <= h < start) and h.weekday() < 5
    )
    remaining += skipped
    while remaining > 0:
        try:
            day += timedelta(days=step)
        except OverflowError:
            raise EvalError("The date is out of range (years 1 to 9999)") from None
        if _is_workday(day, free):
            remaining -= 1
    return day


@register(
    "dates",
    params=[("start_date", D), ("end_date", D), ("holidays", A)],
    result=N,
    examples=[
        ('WORKDAY_DIFF("2026-11-23", "2026-11-27")', 5),
        ('WORKDAY_DIFF("2026-11-23", "2026-12-04", "2026-11-26")', 9),
        ('WORKDAY_DIFF("2026-11-27", "2026-11-23")', -5),
    ],
)
def WORKDAY_DIFF(start_date: DayOrMoment, end_date: DayOrMoment, holidays: object = None) -> int:
    """Working days from start to end, both included (negative when end comes first)."""
    start, end = v.day_of(start_date), v.day_of(end_date)
    free = _holidays(holidays)
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    count = _workdays_after(start, end, free) + (1 if _is_workday(start, free) else 0)
    return sign * count


@register(
    "dates",
    params=[("date", D), ("timezone", S)],
    result=D,
    examples=[
        ('HOUR(SET_TIMEZONE("2026-11-25T14:00:00Z", "America/New_York"))', 9),
        (
            'DATETIME_FORMAT(SET_TIMEZONE("2026-07-01T12:00:00Z", "Europe/Paris"), "HH:mm Z")',
            "14:00 +02:00",
        ),
    ],
)
def SET_TIMEZONE(date_: DayOrMoment, timezone: str) -> datetime:
    """The same moment seen in another time zone (for DATETIME_FORMAT, HOUR, DAY, ...)."""
    try:
        zone = ZoneInfo(timezone.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise EvalError(
            f'Unknown time zone "{timezone}": use a name like "Europe/London"'
        ) from None
    return v.with_zone(v.to_moment(date_), zone)


# --- the clock -------------------------------------------------------------------------------


def _today(batch: Batch) -> date:
    return batch.now.astimezone(batch.zone).date()


@register(
    "dates",
    params=[],
    result=T.DATE,
    column_form=True,
    reads_clock=True,
    examples=[('IS_BEFORE(DATEADD(TODAY(), -1, "days"), TODAY())', True)],
)
def TODAY(call: Step, batch: Batch) -> Column:
    """Today's date (from the formula's clock, in its time zone)."""
    return broadcast(_today(batch), batch.n)


@register(
    "dates",
    params=[],
    result=D,
    column_form=True,
    reads_clock=True,
    examples=[('DATETIME_DIFF(NOW(), TODAY(), "days")', 0)],
)
def NOW(call: Step, batch: Batch) -> Column:
    """The current date and time (from the formula's clock)."""
    return broadcast(batch.now, batch.n)


def _days_from_now(call: Step, batch: Batch) -> Column:
    today = _today(batch)
    column = call.args[0].run(batch)  # type: ignore[attr-defined]

    def distance(value: object) -> int:
        return abs((today - v.day_of(v.to_date_value(value))).days)

    return apply_scalar(distance, [column], batch.n, where=call.spec.name, position=call.position)  # type: ignore[attr-defined]


@register(
    "dates",
    params=[("date", D)],
    result=N,
    column_form=True,
    reads_clock=True,
    examples=[('TONOW(DATEADD(TODAY(), -3, "days"))', 3)],
)
def TONOW(call: Step, batch: Batch) -> Column:
    """Whole days between the date and today (always positive)."""
    return _days_from_now(call, batch)


@register(
    "dates",
    params=[("date", D)],
    result=N,
    column_form=True,
    reads_clock=True,
    examples=[('FROMNOW(DATEADD(TODAY(), 10, "days"))', 10)],
)
def FROMNOW(call: Step, batch: Batch) -> Column:
    """Whole days between today and the date (always positive)."""
    return _days_from_now(call, batch)
