"""Airtable's value semantics in one place: blanks, coercions, truthiness, comparison, text form.

Functions never coerce by hand; they call these helpers, so "a blank number is 0" or "TRUE prints as
1" is decided once. The engine's values are plain Python:

============  =====================================================================
number        ``int`` or ``float`` (never NaN or infinity: those become errors)
text          ``str``
boolean       ``bool`` (checkbox fields, comparisons, TRUE()/FALSE())
date          ``datetime.date`` (a day) or timezone-aware ``datetime.datetime`` (a moment)
array         ``list`` (multi-select, linked and lookup values)
blank         ``None``; ``""`` and ``[]`` also count as blank
error         :class:`ErrorValue`, a cell's error with its reason (shown as ``#ERROR``)
============  =====================================================================

Airtable's rules we follow (it is JavaScript underneath): a blank is 0 in arithmetic and "" in text;
``+`` concatenates when either side is non-blank text; text that reads as a number ("1,200", "$5",
"12%") is used as that number in arithmetic and in comparisons with numbers; booleans are 1 and 0 in
arithmetic and print as "1" and "0"; ``BLANK() = 0`` and ``BLANK() = ""`` are both true; dates
compare as moments, and a day compares as its midnight UTC.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from dateutil import parser as date_parser


class ValueType(StrEnum):
    """The static type of an expression, inferred at compile time from field types."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    ARRAY = "array"
    ANY = "any"


NUMERIC_TYPES = frozenset({ValueType.NUMBER, ValueType.BOOLEAN})
DATE_TYPES = frozenset({ValueType.DATE, ValueType.DATETIME})


@dataclass(frozen=True, slots=True)
class ErrorValue:
    """One cell's error: the reason, and where in the formula it arose. Shown as ``#ERROR``."""

    message: str
    position: int | None = None

    def __str__(self) -> str:
        return f"#ERROR: {self.message}"


class EvalError(Exception):
    """Raised inside functions for a per-cell error; the engine turns it into an :class:`ErrorValue`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def is_blank(value: object) -> bool:
    """Airtable's blank: nothing, empty text or an empty list (0 and FALSE are not blank)."""
    return value is None or value == "" or value == []


# --- numbers ---------------------------------------------------------------------------------

_NUMBER_TEXT = re.compile(
    r"^\s*([-+]?)\s*[$€£¥]?\s*([-+]?)(\d[\d,]*\.?\d*|\.\d+)([eE][-+]?\d+)?\s*(%?)\s*$"
)


def parse_number_text(text: str) -> int | float | None:
    """The number a piece of text reads as ("1,200" → 1200, "$5" → 5, "12%" → 0.12), else None."""
    match = _NUMBER_TEXT.match(text)
    if match is None:
        return None
    sign1, sign2, digits, exponent, percent = match.groups()
    digits = digits.replace(",", "")
    literal = digits + (exponent or "")
    number: int | float = float(literal) if ("." in literal or exponent) else int(literal or "0")
    if "-" in (sign1 + sign2):
        number = -number
    if percent:
        number = number / 100
    return number


def to_number(value: object) -> int | float:
    """A value as a number for arithmetic: blank is 0, TRUE is 1, numeric text is its number."""
    kind = type(value)
    if kind is float or kind is int:
        return value  # type: ignore[return-value]
    if value is None:
        return 0
    if kind is bool:
        return 1 if value else 0
    if kind is str:
        if value == "" or value.isspace():  # type: ignore[union-attr]
            return 0
        number = parse_number_text(value)  # type: ignore[arg-type]
        if number is None:
            raise EvalError(f'Cannot use text "{_clip(value)}" as a number')
        return number
    if kind is list:
        if not value:
            return 0
        if len(value) == 1:  # type: ignore[arg-type]
            return to_number(value[0])  # type: ignore[index]
        raise EvalError("Cannot use a list of several values as a number")
    if isinstance(value, date):
        raise EvalError("Cannot use a date as a number: use DATETIME_DIFF or DATEADD")
    raise EvalError(f"Cannot use {type_name(value)} as a number")


def checked_number(value: float | int) -> float | int:
    """Refuse NaN and infinity, which Airtable would show as NaN/Infinity and JSON cannot hold."""
    if type(value) is float and not math.isfinite(value):
        if math.isnan(value):
            raise EvalError("The result is not a number")
        raise EvalError("The number is too large")
    return value


# --- text ------------------------------------------------------------------------------------


def format_number(number: float | int) -> str:
    """How Airtable prints a number in text: 3.0 → "3", 0.1 + 0.2 → "0.3", no exponent for money."""
    if type(number) is int:
        return str(number)
    if number.is_integer() and abs(number) < 1e21:
        return str(int(number))
    text = repr(round(number, 12))
    if "e" in text:
        return format(number, ".15g")
    return text


def to_text(value: object) -> str:
    """A value as text: blank is "", numbers without a trailing .0, TRUE → "1", dates as ISO."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if value is None:
        return ""
    if kind is bool:
        return "1" if value else "0"
    if kind is int or kind is float:
        return format_number(value)  # type: ignore[arg-type]
    if kind is datetime:
        return value.astimezone(UTC).isoformat().replace("+00:00", ".000Z")  # type: ignore[union-attr]
    if kind is date:
        return value.isoformat()  # type: ignore[union-attr]
    if kind is list:
        return ", ".join(to_text(item) for item in value)  # type: ignore[union-attr]
    raise EvalError(f"Cannot use {type_name(value)} as text")


def _clip(text: object, limit: int = 40) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def type_name(value: object) -> str:
    """A value's kind in the words a user knows (for messages)."""
    if value is None:
        return "a blank"
    if isinstance(value, bool):
        return "a checkbox value"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, list):
        return "a list"
    return "an unsupported value"


# --- truthiness ------------------------------------------------------------------------------


def truthy(value: object) -> bool:
    """Airtable's truth: blank, 0, "" and FALSE are false; any other text, number or date is true."""
    kind = type(value)
    if kind is bool:
        return value  # type: ignore[return-value]
    if value is None:
        return False
    if kind is int or kind is float or kind is str:
        return bool(value)
    if kind is list:
        return any(truthy(item) for item in value)  # type: ignore[union-attr]
    return True


# --- dates -----------------------------------------------------------------------------------


def to_moment(value: object) -> datetime:
    """A date-like value as an aware UTC datetime (a day is its midnight UTC)."""
    moment = to_date_value(value)
    if type(moment) is date:
        return datetime.combine(moment, time(), UTC)
    return moment  # type: ignore[return-value]


def to_date_value(value: object) -> date | datetime:
    """A date or aware datetime from a date, datetime or text that reads as one."""
    kind = type(value)
    if kind is date:
        return value  # type: ignore[return-value]
    if kind is datetime:
        if value.tzinfo is None:  # type: ignore[union-attr]
            return value.replace(tzinfo=UTC)  # type: ignore[union-attr]
        return value  # type: ignore[return-value]
    if kind is str:
        return parse_date_text(value)  # type: ignore[arg-type]
    if value is None:
        raise EvalError("Expected a date, got a blank")
    if kind is list and len(value) == 1:  # type: ignore[arg-type]
        return to_date_value(value[0])  # type: ignore[index]
    raise EvalError(f"Expected a date, got {type_name(value)}")


def parse_date_text(text: str) -> date | datetime:
    """ISO first (what the CRM stores), then the formats people type ("Nov 25, 2026", "11/25/2026")."""
    text = text.strip()
    if not text:
        raise EvalError("Expected a date, got a blank")
    if len(text) == 10:
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = date_parser.parse(text)
        except (ValueError, OverflowError, date_parser.ParserError):
            raise EvalError(f'Cannot read "{_clip(text)}" as a date') from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def day_of(value: date | datetime) -> date:
    """The calendar day of a date or moment (moments in their own time zone)."""
    return value.date() if isinstance(value, datetime) else value


class LocalizedZone(tzinfo):
    """A time zone that also carries the locale SET_LOCALE gave a moment.

    Airtable's moments carry a time zone (SET_TIMEZONE) and a locale (SET_LOCALE) for a later
    DATETIME_FORMAT. A moment stays a plain aware ``datetime`` here (so every rule above still
    applies); its ``tzinfo`` is this wrapper, which answers as the wrapped zone does.
    """

    __slots__ = ("locale", "zone")

    def __init__(self, zone: tzinfo, locale: str) -> None:
        self.zone = zone
        self.locale = locale

    def utcoffset(self, moment: datetime | None) -> timedelta | None:
        return self.zone.utcoffset(_naive(moment))

    def dst(self, moment: datetime | None) -> timedelta | None:
        return self.zone.dst(_naive(moment))

    def tzname(self, moment: datetime | None) -> str | None:
        return self.zone.tzname(_naive(moment))

    def fromutc(self, moment: datetime) -> datetime:
        local = self.zone.fromutc(moment.replace(tzinfo=self.zone))
        return local.replace(tzinfo=self)

    def __repr__(self) -> str:
        return f"LocalizedZone({self.zone!r}, {self.locale!r})"


def _naive(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=None)


def locale_of(moment: date | datetime) -> str:
    """The locale SET_LOCALE gave a moment ("en" when none did)."""
    zone = moment.tzinfo if isinstance(moment, datetime) else None
    return zone.locale if isinstance(zone, LocalizedZone) else "en"


def zone_of(moment: datetime) -> tzinfo:
    """A moment's time zone, without any locale wrapped around it."""
    zone = moment.tzinfo or UTC
    return zone.zone if isinstance(zone, LocalizedZone) else zone


def with_zone(moment: datetime, zone: tzinfo) -> datetime:
    """The same moment seen in ``zone``, keeping its locale."""
    code = locale_of(moment)
    return moment.astimezone(zone if code == "en" else LocalizedZone(zone, code))


def with_locale(moment: datetime, code: str) -> datetime:
    """The same moment (same zone) with the locale ``code`` for DATETIME_FORMAT."""
    zone = zone_of(moment)
    return moment.astimezone(zone if code == "en" else LocalizedZone(zone, code))


# --- comparison ------------------------------------------------------------------------------


def equal(left: object, right: object) -> bool:
    """Airtable's ``=``: blank equals 0 and ""; numbers and numeric text compare as numbers."""
    if type(left) is type(right) and type(left) is not list:
        return left == right
    return _compare_key(left, right) == 0


def compare(left: object, right: object) -> int:
    """-1, 0 or 1 under Airtable's rules for ``<``, ``>``, ``<=``, ``>=``."""
    return _compare_key(left, right)


def _sign(difference: float) -> int:
    return (difference > 0) - (difference < 0)


def _compare_key(left: object, right: object) -> int:
    if isinstance(left, list):
        left = to_text(left) if left else None
    if isinstance(right, list):
        right = to_text(right) if right else None
    if left is None or right is None:
        if left is None and right is None:
            return 0
        other = right if left is None else left
        if isinstance(other, date):
            return -1 if left is None else 1  # a blank sorts before every date
        blank = "" if isinstance(other, str) else 0
        left, right = (blank, right) if left is None else (left, blank)
    left_is_date = isinstance(left, date)
    right_is_date = isinstance(right, date)
    if left_is_date or right_is_date:
        try:
            a, b = to_moment(left), to_moment(right)
        except EvalError:
            return _text_order(to_text(left), to_text(right))
        return (a > b) - (a < b)
    left_is_text = isinstance(left, str)
    right_is_text = isinstance(right, str)
    if left_is_text and right_is_text:
        return _text_order(left, right)  # type: ignore[arg-type]
    if left_is_text or right_is_text:
        text, other = (left, right) if left_is_text else (right, left)
        number = parse_number_text(text) if text.strip() else 0  # type: ignore[union-attr]
        if number is None:
            return _text_order(to_text(left), to_text(right))
        a = number if left_is_text else to_number(left)
        b = to_number(right) if left_is_text else number
        return _sign(a - b)
    return _sign(to_number(left) - to_number(right))


def _text_order(left: str, right: str) -> int:
    return (left > right) - (left < right)


# --- arrays ----------------------------------------------------------------------------------


def flatten(values: object) -> list[object]:
    """Arguments and nested lists as one flat list (SUM({Amounts}, 5) sees every number)."""
    out: list[object] = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, list | tuple):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def timedelta_units(delta: timedelta, seconds_per_unit: float) -> float:
    """A duration in whole units of ``seconds_per_unit``, truncated toward zero like Airtable."""
    total = delta.total_seconds() / seconds_per_unit
    return math.trunc(total)
