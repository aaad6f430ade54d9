"""Airtable's cell text → typed values, one parser per kind of cell.

Airtable writes a currency as ``$1,500.00`` or ``-$1,500.00`` (other symbols too), a percent as
``12.5%``, dates as ``1/15/2024``, ``2024-01-15``, ``1/15/2024 2:30pm``, ``2024-01-15 11:28`` or
``19/10/2025 11:40`` (day first when the base is set so), a checkbox as ``checked`` or nothing,
multi-selects and linked records as comma-separated names (quoted when a name holds a comma),
collaborators by name or email, attachments as ``file.pdf (https://...)``, and a formula that
failed as ``#ERROR!`` or ``NaN``. Each parser returns the value in the form the grid's field types
accept, or raises :class:`CellError` saying why not.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from dateutil import parser as dateutil_parser


class CellError(ValueError):
    """A cell that cannot become a value of its column's type; the message says why."""


#: What Airtable (and spreadsheets) write when a formula failed: reported, never imported.
FORMULA_ERRORS = frozenset(
    {"#ERROR!", "#ERROR", "NaN", "Infinity", "-Infinity", "#N/A", "#DIV/0!", "#VALUE!", "#REF!"}
    | {"#NAME?", "#NUM!", "#NULL!", "#CIRCULAR!"}
)
#: Characters that make a spreadsheet run a cell as a formula. Our own CSV export puts a ' in
#: front of such text (the OWASP defence); reading it back takes the ' off again.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00a0\u202f"), " ")

_RECORD_ID = re.compile(r"^rec[A-Za-z0-9]{14}$")
_CURRENCY_PREFIX = re.compile(
    r"^(?P<sign>-)?\s*(?P<symbol>[A-Z]{2,3}\$|[$€£¥₹₩₽₪฿₫₴₺]|[A-Z]{3}\s|CHF|kr)?\s*(?P<sign2>-)?"
)
_PLAIN_AMOUNT = re.compile(r"^(-?)\$?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")
_US_NUMBER = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$|^\d+(\.\d+)?$|^\.\d+$")
_EU_NUMBER = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$|^\d+,\d+$")
_SLASH_DATE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_ISO_START = re.compile(r"^\d{4}-\d{2}-\d{2}")
#: A zone-less ISO date-time to the minute or second, the minutes and seconds below 60.
_ISO_NAIVE = re.compile(r"^(\d{4})-(0[1-9]|1\d)-(\d{2})[ T]([01]\d|2\d):([0-5]\d)(?::([0-5]\d))?$")
#: Airtable's "friendly" format: January 15, 2024 / 15 January 2024, maybe with a time.
_FRIENDLY_DATE = re.compile(
    r"^(?:(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? \d{4}"
    r"|\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{4})"
    r"(?: \d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]m)?)?$",
    re.IGNORECASE,
)
_MONTH_NAME = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", re.IGNORECASE
)
_ATTACHMENT = re.compile(r"([^,()]+?)\s*\((https?://[^)\s]+)\)")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_TRUE = frozenset({"checked", "true", "yes", "y", "1", "x", "✓", "✔"})
_FALSE = frozenset({"", "unchecked", "false", "no", "n", "0"})


def clean_header(text: str) -> str:
    """A header as a person reads it: BOMs, zero-width and no-break spaces gone, spaces single."""
    return " ".join(text.translate(INVISIBLE).split())


def normalize_name(text: str) -> str:
    """Case, spacing and punctuation folded away: 'Fund I — Commitment' ~ 'fund i commitment'."""
    return " ".join(re.sub(r"[\W_]+", " ", clean_header(text).casefold()).split())


def undefuse(text: str) -> str:
    """Take off the ' a spreadsheet-safe export put before text starting with = + - @."""
    if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r\n":  # \r read back as \n
        return text[1:]
    return text


def is_formula_error(text: str) -> bool:
    return text.strip() in FORMULA_ERRORS


def is_record_id(text: str) -> bool:
    return bool(_RECORD_ID.match(text.strip()))


# -- numbers ----------------------------------------------------------------------------------------
def parse_amount(text: str) -> float | int:
    """'$1,500.00' → 1500.0, '-$1,500.00' → -1500.0, '(€2.000,50)' → -2000.5, '1,234' → 1234."""
    fast = _PLAIN_AMOUNT.match(text)
    if fast is not None:  # the shape Airtable writes nearly always: one regex, no rewriting
        number = float(fast[2].replace(",", "") + (fast[3] or ""))
        number = -number if fast[1] else number
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    raw = text.strip()
    negative = raw.startswith("(") and raw.endswith(")")
    body = raw[1:-1].strip() if negative else raw
    match = _CURRENCY_PREFIX.match(body)
    if match and match.end():
        negative ^= bool(match["sign"] or match["sign2"])
        body = body[match.end() :].strip()
    for suffix in ("USD", "EUR", "GBP", "CHF", "€", "$", "£", "kr"):
        if body.endswith(suffix):
            body = body[: -len(suffix)].strip()
            break
    if body.startswith("-"):
        negative, body = not negative, body[1:].strip()
    body = body.replace(" ", "").replace("\u2009", "").replace("'", "")
    if _US_NUMBER.match(body):
        number = float(body.replace(",", ""))
    elif _EU_NUMBER.match(body):
        number = float(body.replace(".", "").replace(",", "."))
    else:
        raise CellError(f"{text!r} is not a number")
    number = -number if negative else number
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def parse_percent(text: str) -> float:
    """'25%' → 0.25, '12.5%' → 0.125; a bare number is already a fraction (our own export)."""
    raw = text.strip()
    if raw.endswith("%"):
        return round(float(parse_amount(raw[:-1])) / 100, 12)
    return float(parse_amount(raw))


def parse_checkbox(text: str) -> int:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return 1
    if lowered in _FALSE:
        return 0
    raise CellError(f"{text!r} is not a checkbox value (Airtable writes 'checked' or nothing)")


# -- dates ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Moment:
    """A parsed date cell: the day, and the time of day if the cell had one."""

    day: date
    at: datetime | None  # timezone-aware (UTC when the cell had no zone)

    def as_date(self) -> str:
        return self.day.isoformat()

    def as_datetime(self) -> str:
        moment = self.at or datetime.combine(self.day, time(0), tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")


def slash_order_evidence(text: str) -> str | None:
    """'mdy' or 'dmy' when a slash date proves its order (a part above 12), else None."""
    match = _SLASH_DATE.match(text.strip())
    if not match:
        return None
    first, second = int(match[1]), int(match[2])
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def _slash_parts(
    match: re.Match[str], order: str, text: str
) -> tuple[int, int, int, tuple[int, int, int] | None]:
    """Year, month, day and (24-hour) time of day of a slash date, unchecked; 2:30pm → 14:30."""
    first, second, year = int(match[1]), int(match[2]), int(match[3])
    month, day = (first, second) if order == "mdy" else (second, first)
    if match[4] is None:
        return year, month, day, None
    hour, minute, seconds = int(match[4]), int(match[5]), int(match[6] or 0)
    meridiem = (match[7] or "").lower()
    if meridiem:
        if not 1 <= hour <= 12:
            raise CellError(f"{text!r} has an hour of {hour} with {meridiem}")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    return year, month, day, (hour, minute, seconds)


def parse_moment(text: str, order: str = "mdy") -> Moment:
    """A date or date-time cell; ``order`` says how to read 1/2/2024 ('mdy' US, 'dmy')."""
    raw = text.strip()
    match = _SLASH_DATE.match(raw)
    if match:
        year, month, day, clock_parts = _slash_parts(match, order, text)
        try:
            day_value = date(year, month, day)
        except ValueError:
            expected = "month/day/year" if order == "mdy" else "day/month/year"
            raise CellError(f"{text!r} is not a date (read as {expected})") from None
        if clock_parts is None:
            return Moment(day_value, None)
        hour, minute, second_ = clock_parts
        try:
            clock = time(hour, minute, second_)
        except ValueError:
            raise CellError(f"{text!r} has an impossible time of day") from None
        return Moment(day_value, datetime.combine(day_value, clock, tzinfo=UTC))
    if _ISO_START.match(raw):
        try:
            moment = datetime.fromisoformat(raw.replace(" ", "T", 1) if " " in raw else raw)
        except ValueError:
            raise CellError(f"{text!r} is not a date (YYYY-MM-DD)") from None
        if len(raw) == 10:
            return Moment(moment.date(), None)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return Moment(moment.astimezone(UTC).date() if moment.tzinfo else moment.date(), moment)
    if _FRIENDLY_DATE.match(raw):
        try:  # Airtable's "friendly" format: January 15, 2024 / 15 January 2024 10:00am
            moment = dateutil_parser.parse(raw, dayfirst=order == "dmy")
        except (ValueError, OverflowError):
            raise CellError(f"{text!r} is not a date") from None
        has_time = any(":" in part for part in raw.split())
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return Moment(moment.date(), moment if has_time else None)
    raise CellError(f"{text!r} is not a date (like 1/15/2024 or 2024-01-15)")


def moment_text(text: str, order: str = "mdy") -> str:
    """A date-time cell as stored (ISO-8601 UTC); Airtable's '1/15/2024 2:30pm' without building
    datetime objects, anything else through :func:`parse_moment`."""
    match = _SLASH_DATE.match(text)
    if match is None or match[4] is None:
        iso = _ISO_NAIVE.match(text)
        if iso is not None and iso[2] <= "12" and "01" <= iso[3] <= "28" and iso[4] <= "23":
            # '2024-01-15 10:00' (Airtable's created time): already ISO, only the zone to add
            return f"{iso[1]}-{iso[2]}-{iso[3]}T{iso[4]}:{iso[5]}:{iso[6] or '00'}+00:00"
        return parse_moment(text, order).as_datetime()
    year, month, day, clock_parts = _slash_parts(match, order, text)
    hour, minute, seconds = clock_parts or (0, 0, 0)
    if not (1 <= month <= 12 and 1 <= day <= 28 and hour < 24 and minute < 60 and seconds < 60):
        return parse_moment(text, order).as_datetime()  # the careful path (and its errors)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{seconds:02d}+00:00"


def looks_like_date(text: str) -> bool:
    raw = text.strip()
    return bool(
        _SLASH_DATE.match(raw)
        or (_ISO_START.match(raw) and len(raw) <= 32)
        or bool(_FRIENDLY_DATE.match(raw))
    )


def has_time_of_day(text: str) -> bool:
    raw = text.strip()
    match = _SLASH_DATE.match(raw)
    if match:
        return match[4] is not None
    return len(raw) > 10 and ":" in raw


# -- lists, people, attachments ---------------------------------------------------------------------
def split_list(text: str) -> list[str]:
    """Multi-select and linked-record cells: 'A,B' or 'A, "B, Inc", C' → ['A', 'B', 'B, Inc', 'C']."""
    if "," not in text and '"' not in text:
        item = text.strip()
        return [item] if item else []
    try:
        items = next(csv.reader([text], skipinitialspace=True))
    except (csv.Error, StopIteration):
        items = text.split(",")
    return [item.strip() for item in items if item.strip()]


def name_from_email(address: str) -> str:
    local = address.split("@", 1)[0]
    words = [w for w in re.split(r"[._\-+]+", local) if w]
    return " ".join(w.capitalize() for w in words) or address


def parse_attachments(text: str) -> str:
    """'deck.pdf (https://...), memo.docx (https://...)' → one 'name (link)' per line, so each
    attachment stays a clickable link to the file Airtable still hosts."""
    found = _ATTACHMENT.findall(text)
    if not found:
        raise CellError(f"{text!r} is not an Airtable attachment list (name (https://...))")
    return "\n".join(f"{name.strip()} ({url})" for name, url in found)


def looks_like_attachments(text: str) -> bool:
    stripped = text.strip()
    return stripped.endswith(")") and "(http" in stripped and bool(_ATTACHMENT.match(stripped))
