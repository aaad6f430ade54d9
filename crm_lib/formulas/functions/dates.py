"""Date functions, with Airtable's (moment.js) units and format tokens.

Days are ``datetime.date``; moments are timezone-aware ``datetime`` (UTC unless SET_TIMEZONE moved
them). Month arithmetic clamps to the month's end (Jan 31 + 1 month = Feb 28, or 29 in a leap year),
and DATETIME_DIFF counts whole units truncated toward zero, as moment.js does. TODAY, NOW, TONOW
and FROMNOW read "now" from the clock the formula was compiled with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from crm_lib.formulas import values as v
from crm_lib.formulas.engine import Batch, Column, Step, apply_scalar, broadcast
from crm_lib.formulas.registry import register
from crm_lib.formulas.values import EvalError, ValueType

T = ValueType
D = T.DATETIME
N = T.NUMBER
S = T.TEXT
A = T.ANY

DayOrMoment = date | datetime

# --- units -----------------------------------------------------------------------------------

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


def unit_of(text: str) -> str:
    """The canonical unit for Airtable's unit names ("days", "d", "M" = months, "m" = minutes)."""
    unit = _UNIT_NAMES.get(text.strip()) or _UNIT_NAMES.get(text.strip().lower())
    if unit is None:
        raise EvalError(
            f'Unknown unit "{text}": use milliseconds, seconds, minutes, hours, days, weeks, '
            "months, quarters or years"
        )
    return unit


def _shifted(moment: DayOrMoment, count: float, unit: str) -> DayOrMoment:
    try:
        if unit in _MONTHS:
            return moment + relativedelta(months=int(count) * _MONTHS[unit])
        if unit in ("d", "w") and type(moment) is date and float(count).is_integer():
            return moment + timedelta(days=int(count) * (7 if unit == "w" else 1))
        return v.to_moment(moment) + timedelta(seconds=count * _SECONDS[unit])
    except (OverflowError, ValueError):
        raise EvalError("The date is out of range (years 1 to 9999)") from None


def _months_between(later: DayOrMoment, earlier: DayOrMoment) -> int:
    if type(later) is not type(earlier):
        later, earlier = v.to_moment(later), v.to_moment(earlier)
    delta = relativedelta(later, earlier)
    return delta.years * 12 + delta.months


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
    """date1 minus date2 in whole units (truncated toward zero); the default unit is seconds."""
    unit = unit_of(units)
    if unit in _MONTHS:
        return int(_months_between(date1, date2) / _MONTHS[unit])
    if type(date1) is date and type(date2) is date and unit in ("d", "w"):
        return int((date1 - date2).days / (7 if unit == "w" else 1))
    return int(v.timedelta_units(v.to_moment(date1) - v.to_moment(date2), _SECONDS[unit]))


# --- moment.js format tokens -----------------------------------------------------------------

_ORDINAL = {1: "st", 2: "nd", 3: "rd"}


def _ordinal(day: int) -> str:
    return f"{day}{'th' if 10 <= day % 100 <= 20 else _ORDINAL.get(day % 10, 'th')}"


def _offset(moment: datetime, colon: bool) -> str:
    offset = moment.utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{mins:02d}"


def _hour12(moment: datetime) -> int:
    return moment.hour % 12 or 12


_FORMATTERS: dict[str, Callable[[datetime], str]] = {
    "YYYY": lambda d: f"{d.year:04d}",
    "YY": lambda d: f"{d.year % 100:02d}",
    "Q": lambda d: str((d.month - 1) // 3 + 1),
    "MMMM": lambda d: d.strftime("%B"),
    "MMM": lambda d: d.strftime("%b"),
    "MM": lambda d: f"{d.month:02d}",
    "M": lambda d: str(d.month),
    "Do": lambda d: _ordinal(d.day),
    "DDDD": lambda d: f"{d.timetuple().tm_yday:03d}",
    "DDD": lambda d: str(d.timetuple().tm_yday),
    "DD": lambda d: f"{d.day:02d}",
    "D": lambda d: str(d.day),
    "dddd": lambda d: d.strftime("%A"),
    "ddd": lambda d: d.strftime("%a"),
    "dd": lambda d: d.strftime("%a")[:2],
    "d": lambda d: str((d.weekday() + 1) % 7),
    "HH": lambda d: f"{d.hour:02d}",
    "H": lambda d: str(d.hour),
    "hh": lambda d: f"{_hour12(d):02d}",
    "h": lambda d: str(_hour12(d)),
    "mm": lambda d: f"{d.minute:02d}",
    "m": lambda d: str(d.minute),
    "ss": lambda d: f"{d.second:02d}",
    "s": lambda d: str(d.second),
    "SSS": lambda d: f"{d.microsecond // 1000:03d}",
    "A": lambda d: "AM" if d.hour < 12 else "PM",
    "a": lambda d: "am" if d.hour < 12 else "pm",
    "ZZ": lambda d: _offset(d, colon=False),
    "Z": lambda d: _offset(d, colon=True),
    "X": lambda d: str(int(d.timestamp())),
    "x": lambda d: str(int(d.timestamp() * 1000)),
    "LLLL": lambda d: (
        f"{d.strftime('%A, %B')} {d.day}, {d.year} {_hour12(d)}:{d.minute:02d} {'AM' if d.hour < 12 else 'PM'}"
    ),
    "LLL": lambda d: (
        f"{d.strftime('%B')} {d.day}, {d.year} {_hour12(d)}:{d.minute:02d} {'AM' if d.hour < 12 else 'PM'}"
    ),
    "LL": lambda d: f"{d.strftime('%B')} {d.day}, {d.year}",
    "L": lambda d: f"{d.month:02d}/{d.day:02d}/{d.year:04d}",
    "LT": lambda d: f"{_hour12(d)}:{d.minute:02d} {'AM' if d.hour < 12 else 'PM'}",
}
_FORMAT_TOKEN = re.compile(
    r"\[[^\]]*\]|" + "|".join(sorted(map(re.escape, _FORMATTERS), key=len, reverse=True))
)


def format_moment(moment: DayOrMoment, pattern: str) -> str:
    """``moment`` written with moment.js tokens (``[text]`` is literal)."""
    if type(moment) is date:
        moment = datetime.combine(moment, time(), UTC)

    def token(match: re.Match[str]) -> str:
        text = match.group(0)
        return text[1:-1] if text.startswith("[") else _FORMATTERS[text](moment)  # type: ignore[arg-type]

    return _FORMAT_TOKEN.sub(token, pattern)


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
    return format_moment(v.to_moment(date_) if type(date_) is datetime else date_, format)


_PARSE_TOKENS = {
    "YYYY": "%Y", "YY": "%y", "MMMM": "%B", "MMM": "%b", "MM": "%m", "M": "%m",
    "DD": "%d", "D": "%d", "Do": "%d", "HH": "%H", "H": "%H", "hh": "%I", "h": "%I",
    "mm": "%M", "m": "%M", "ss": "%S", "s": "%S", "SSS": "%f", "A": "%p", "a": "%p",
    "ZZ": "%z", "Z": "%z", "dddd": "%A", "ddd": "%a",
}  # fmt: skip
_PARSE_TOKEN = re.compile(
    r"\[[^\]]*\]|" + "|".join(sorted(map(re.escape, _PARSE_TOKENS), key=len, reverse=True))
)


@register(
    "dates",
    params=[("text", S), ("format", S), ("locale", S)],
    result=A,
    examples=[
        ('DATETIME_PARSE("25/11/2026", "DD/MM/YYYY")', date(2026, 11, 25)),
        ('DATETIME_PARSE("2026-11-25")', date(2026, 11, 25)),
        ('DATETIME_PARSE("Nov 25, 2026 3:30 PM")', datetime(2026, 11, 25, 15, 30, tzinfo=UTC)),
    ],
)
def DATETIME_PARSE(text: str, format: str | None = None, locale: str | None = None) -> DayOrMoment:
    """Reads text as a date, with an optional moment.js format ("DD/MM/YYYY")."""
    if not format:
        return v.parse_date_text(text)
    directive = _PARSE_TOKEN.sub(
        lambda m: (
            m.group(0)[1:-1].replace("%", "%%")
            if m.group(0).startswith("[")
            else _PARSE_TOKENS[m.group(0)]
        ),
        format.replace("%", "%%") if "[" not in format else format,
    )
    cleaned = (
        re.sub(r"(\d+)(st|nd|rd|th)\b", r"\1", text.strip()) if "Do" in format else text.strip()
    )
    try:
        moment = datetime.strptime(cleaned, directive)
    except ValueError:
        raise EvalError(f'"{text[:40]}" does not match the format "{format}"') from None
    except re.error:  # strptime builds a regex: a token used twice cannot be read
        raise EvalError(f'The format "{format}" uses a part twice') from None
    if not any(token in format for token in ("H", "h", "m", "s", "S", "Z")):
        return moment.date()
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@register(
    "dates",
    params=[("date", D)],
    result=S,
    examples=[('DATESTR("2026-11-25T23:30:00Z")', "2026-11-25")],
)
def DATESTR(date_: DayOrMoment) -> str:
    """The date as YYYY-MM-DD text."""
    return v.day_of(date_).isoformat()


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


_SAME_PARTS = {
    "y": ("year",),
    "Q": ("year", "quarter"),
    "M": ("year", "month"),
    "w": ("year", "week"),
    "d": ("year", "month", "day"),
    "h": ("year", "month", "day", "hour"),
    "m": ("year", "month", "day", "hour", "minute"),
    "s": ("year", "month", "day", "hour", "minute", "second"),
}


_PARTS: dict[str, Callable[[datetime], int]] = {
    "year": lambda d: d.year,
    "quarter": lambda d: (d.month - 1) // 3,
    "month": lambda d: d.month,
    "week": lambda d: d.isocalendar()[1],
    "day": lambda d: d.day,
    "hour": lambda d: d.hour,
    "minute": lambda d: d.minute,
    "second": lambda d: d.second,
}


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
    """True when the dates are the same, or fall in the same unit (year, month, day, ...)."""
    a, b = v.to_moment(date1), v.to_moment(date2)
    if not unit or unit_of(unit) == "ms":
        return a == b
    parts = _SAME_PARTS[unit_of(unit)]
    return all(_PARTS[p](a) == _PARTS[p](b) for p in parts)


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
    return v.to_moment(date_).astimezone(zone)


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
