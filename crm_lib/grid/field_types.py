"""The field-type registry: how each kind of grid field is stored, parsed and read back.

Each type says which SQL column type holds it, how a value coming from a person, an import or a
notebook becomes the stored value (or a clear error), and how the stored value reads back as Python.
Adding a type is one registration; validation, the grid and imports all consult this table.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from crm_lib.limits import MAX_INTEGER, max_length, text_problem

Options = Mapping[str, Any]


class FieldValueError(ValueError):
    """A value that does not fit its field; the message says what was expected."""


@dataclass(frozen=True)
class FieldType:
    """One kind of field."""

    name: str
    sql_type: str
    parse: Callable[[Any, Options], Any]
    decode: Callable[[Any], Any]
    doc: str


FIELD_TYPES: dict[str, FieldType] = {}


def stored_as_is(value: Any) -> Any:
    """The decode of types whose stored value is already the Python value (most of them)."""
    return value


def register(
    name: str, sql_type: str, doc: str, decode: Callable[[Any], Any] = stored_as_is
) -> Callable[[Callable[[Any, Options], Any]], Callable[[Any, Options], Any]]:
    """Register ``parse`` as the parser of field type ``name``."""

    def decorator(parse: Callable[[Any, Options], Any]) -> Callable[[Any, Options], Any]:
        FIELD_TYPES[name] = FieldType(name, sql_type, parse, decode, doc)
        return parse

    return decorator


def field_type(name: str) -> FieldType:
    """Look a type up by name, with the list of known ones in the error."""
    try:
        return FIELD_TYPES[name]
    except KeyError:
        known = ", ".join(sorted(FIELD_TYPES))
        raise FieldValueError(f"Unknown field type {name!r}; known types: {known}") from None


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _describe(value: Any) -> str:
    if isinstance(value, int) and abs(value) > 10**60:
        # a person cannot read 400 digits back, and repr() of 10**5000 raises ValueError
        return "a whole number of over 60 digits"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _checked(text: str, kind: str) -> str:
    """``text`` if it fits the declared limit of its kind (crm_lib.limits) and is valid Unicode:
    SQLite cannot store an unpaired surrogate, and an unbounded note fills pages and memory."""
    problem = text_problem(text, kind)
    if problem is not None:
        raise FieldValueError(problem)
    return text


# -- text-like -------------------------------------------------------------------------------------
def _as_text(value: Any, kind: str) -> str | None:
    if type(value) is str:
        value = value.strip()
        return _checked(value, kind) or None
    if value is None:
        return None
    if isinstance(value, bool | float | Decimal) or (
        isinstance(value, int) and abs(value) <= MAX_INTEGER
    ):
        return str(value)
    raise FieldValueError(f"{_describe(value)} is not text")


@register("text", "TEXT", "A single line of text.")
def parse_text(value: Any, options: Options) -> str | None:
    return _as_text(value, "text")


@register("long_text", "TEXT", "Free text over several lines (notes).")
def parse_long_text(value: Any, options: Options) -> str | None:
    if type(value) is str:
        return _checked(value, "long_text") if value.strip() else None
    return _as_text(value, "long_text")


@register("url", "TEXT", "A web address; 'example.com' is stored as 'https://example.com'.")
def parse_url(value: Any, options: Options) -> str | None:
    text = _as_text(value, "url")
    if text is None:
        return None
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in text:
        raise FieldValueError(f"{_describe(value)} is not a web address (like https://example.com)")
    return text


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@register("email", "TEXT", "An email address, stored as typed (matching ignores case).")
def parse_email(value: Any, options: Options) -> str | None:
    text = _as_text(value, "email")
    if text is None:
        return None
    if not _EMAIL.match(text):
        raise FieldValueError(f"{_describe(value)} is not an email address")
    return text


_PHONE_CHARACTERS = re.compile(r"^[+]?[0-9 ().\-/]+((ext\.?|x|#)\s*[0-9]+)?$", re.IGNORECASE)


@register("phone", "TEXT", "A phone number, stored as typed ('+1 (212) 555-0100 ext 12').")
def parse_phone(value: Any, options: Options) -> str | None:
    text = _as_text(value, "phone")
    if text is None:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE_CHARACTERS.match(text) or not 5 <= digits <= 20:
        raise FieldValueError(f"{_describe(value)} is not a phone number (like +1 212 555 0100)")
    return text


# -- numbers ---------------------------------------------------------------------------------------
_NUMBER_CLUTTER = re.compile(r"[,\s$€£_]")


def _to_number(value: Any) -> float | int | None:
    """A number as stored in a REAL column. Whole numbers beyond 2**53 become floats (what the
    column stores anyway); beyond what a float holds (10**400 is valid JSON) they are refused."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise FieldValueError(f"{value!r} is a checkbox value, not a number")
    if isinstance(value, int):
        if abs(value) < 2**53:
            return value
        try:
            return float(value)
        except OverflowError:
            raise FieldValueError(
                f"{_describe(value)} is too large to store (the largest is about 1.8e308)"
            ) from None
    if isinstance(value, float | Decimal):
        number = float(value)
    elif isinstance(value, str):
        if len(value) > max_length("amount"):  # no number needs more; Decimal() of 1 MB is slow
            raise FieldValueError(f"{_describe(value)} is not a number (too long)")
        cleaned = _NUMBER_CLUTTER.sub("", value.strip())
        negative = cleaned.startswith("(") and cleaned.endswith(")")
        cleaned = cleaned.strip("()")
        try:
            number = float(Decimal(cleaned))
        except InvalidOperation:
            raise FieldValueError(f"{_describe(value)} is not a number") from None
        if negative:
            number = -number
    elif hasattr(value, "item"):  # numpy scalars: never store them as BLOBs
        return _to_number(value.item())
    else:
        raise FieldValueError(f"{_describe(value)} is not a number")
    if not math.isfinite(number):
        raise FieldValueError(f"{_describe(value)} is not a finite number")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _check_range(number: float | int | None, options: Options, value: Any) -> None:
    if number is None:
        return
    minimum = options.get("min")
    if minimum is not None and number < minimum:
        raise FieldValueError(f"{_describe(value)} is below the minimum of {minimum}")


@register("number", "REAL", "A number; '1,250' and '1250.0' are both 1250.")
def parse_number(value: Any, options: Options) -> float | int | None:
    number = _to_number(value)
    _check_range(number, options, value)
    return number


@register("currency", "REAL", "An amount of money, kept to cents; '$1,000.50' is 1000.5.")
def parse_currency(value: Any, options: Options) -> float | None:
    number = _to_number(value)
    _check_range(number, options, value)
    return None if number is None else round(float(number), 2)


@register("percent", "REAL", "A fraction shown as a percentage; '12%' is 0.12.")
def parse_percent(value: Any, options: Options) -> float | None:
    if isinstance(value, str) and value.strip().endswith("%"):
        number = _to_number(value.strip()[:-1])
        return None if number is None else number / 100
    number = _to_number(value)
    return None if number is None else float(number)


# -- dates -----------------------------------------------------------------------------------------
@register("date", "TEXT", "A calendar date, stored as YYYY-MM-DD.")
def parse_date(value: Any, options: Options) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        text = value.strip()
        for parse in (date.fromisoformat, lambda t: datetime.fromisoformat(t).date()):
            try:
                return parse(text).isoformat()
            except ValueError:
                continue
    raise FieldValueError(f"{_describe(value)} is not a date (use YYYY-MM-DD)")


@register("datetime", "TEXT", "A moment in time, stored as ISO-8601 UTC.")
def parse_datetime(value: Any, options: Options) -> str | None:
    if _blank(value):
        return None
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if moment is None:
        raise FieldValueError(f"{_describe(value)} is not a date and time (use ISO-8601)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# -- choices, flags, people ------------------------------------------------------------------------
_TRUE = {"true", "yes", "y", "1", "checked", "x", "on"}
_FALSE = {"false", "no", "n", "0", "unchecked", "off", ""}


@register("checkbox", "INTEGER", "True or false, stored as 1 or 0.", decode=lambda v: bool(v))
def parse_checkbox(value: Any, options: Options) -> int:
    if value is None:
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return int(value.strip().lower() in _TRUE)
    raise FieldValueError(f"{_describe(value)} is not a checkbox value (true/false)")


def _match_choice(text: str, options: Options) -> str:
    choices = options.get("choices") or []
    if text in choices:
        return text
    for choice in choices:
        if choice.lower() == text.lower():
            return choice
    if options.get("allow_new"):
        return text
    allowed = ", ".join(repr(c) for c in choices)
    raise FieldValueError(f"{text!r} is not one of the choices ({allowed})")


@register("single_select", "TEXT", "One value from a list of choices.")
def parse_single_select(value: Any, options: Options) -> str | None:
    text = _as_text(value, "option_name")
    if text is None:
        if options.get("required"):
            raise FieldValueError("a value is required")
        return None
    return _match_choice(text, options)


def _decode_list(value: Any) -> list[str]:
    return json.loads(value) if value else []


@register(
    "multi_select",
    "TEXT",
    "Several values from a list of choices, stored as a JSON array.",
    decode=_decode_list,
)
def parse_multi_select(value: Any, options: Options) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                items = json.loads(text)
            except (ValueError, RecursionError):
                raise FieldValueError(f"{_describe(value)} is not a JSON list of choices") from None
            if not isinstance(items, list):
                raise FieldValueError(f"{_describe(value)} is not a JSON list of choices")
        else:
            items = text.split(",")
    elif isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    else:
        raise FieldValueError(f"{_describe(value)} is not a list of choices")
    chosen: list[str] = []
    for item in items:
        text = _as_text(item, "option_name")
        if text is not None:
            choice = _match_choice(text, options)
            if choice not in chosen:
                chosen.append(choice)
    return json.dumps(chosen) if chosen else None


@register("user", "INTEGER", "A team member (the id of a row in users).")
def parse_user(value: Any, options: Options) -> int | None:
    if _blank(value):
        return None
    user_id: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        user_id = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        digits = value.strip().lstrip("0") or "0"
        user_id = int(digits) if len(digits) <= 19 else None  # int() of 5,000 digits raises
    # an id is a positive SQLite INTEGER: anything past 2**63-1 cannot even be looked up
    if user_id is None or not 1 <= user_id <= MAX_INTEGER:
        raise FieldValueError(f"{_describe(value)} is not a user id")
    return user_id


@register("formula", "TEXT", "Computed by a formula from other fields; read-only, results stored.")
def parse_formula(value: Any, options: Options) -> Any:
    raise FieldValueError("is calculated by its formula and cannot be edited")


#: What each field type is called in the app (a person's words for the keys above).
TYPE_LABELS = {
    "text": "Text",
    "long_text": "Long text",
    "number": "Number",
    "currency": "Currency",
    "percent": "Percent",
    "date": "Date",
    "datetime": "Date and time",
    "checkbox": "Checkbox",
    "single_select": "Single select",
    "multi_select": "Multiple select",
    "email": "Email",
    "url": "URL",
    "phone": "Phone",
    "user": "Team member",
    "formula": "Formula",
}
