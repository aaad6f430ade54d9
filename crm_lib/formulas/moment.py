"""moment.js date tokens, as Airtable's DATETIME_FORMAT and DATETIME_PARSE use them.

Airtable's reference says it formats and parses dates with moment.js and that its specifiers are
moment's tokens. This module follows moment 2.30 (``src/lib/format/format.js`` and
``src/lib/create/from-string-and-format.js``) token for token:

- a format is first *expanded*: the locale's long formats replace ``LT LTS L LL LLL LLLL`` and
  ``l ll lll llll``; then it is cut into tokens by moment's own tokenizer regex (longest token
  first), so ``YYYYMMDD`` and ``Do MMMM`` split exactly as in Airtable. ``[text]`` is literal, as is
  a character after a backslash and any character that is not a token;
- parsing is moment's *forgiving* mode: each token's pattern is searched for in what is left of
  the text (so separators need not match: "2026/11/25" reads with "YYYY-MM-DD"), a token that finds
  nothing is skipped, and the date is refused only when no token matched or a part is out of range
  (month 13, February 30, minute 60) or a named weekday disagrees with the date.

One deliberate difference: moment fills a missing year (and month) from *today*; a formula's value
must not change with the calendar unless it says TODAY() or NOW(), so a format that yields no year
is a cell error that says so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone

from crm_lib.formulas.locales import Locale, words
from crm_lib.formulas.values import EvalError

#: moment's tokenizer (format.js ``formattingTokens``): a bracketed literal, or an optionally
#: backslash-escaped token, or any single character.
FORMATTING_TOKENS = re.compile(
    r"(\[[^\[]*\])|(\\)?([Hh]mm(ss)?|Mo|MM?M?M?|Do|DDDo|DD?D?D?|ddd?d?|do?|w[o|w]?|W[o|W]?|Qo?"
    r"|N{1,5}|YYYYYY|YYYYY|YYYY|YY|y{2,4}|yo?|gg(ggg?)?|GG(GGG?)?|e|E|a|A|hh?|HH?|kk?|mm?|ss?"
    r"|S{1,9}|x|X|zz?|ZZ?|.)",
    re.DOTALL,
)
_LOCAL_TOKENS = re.compile(r"(\[[^\[]*\])|(\\)?(LTS|LT|LL?L?L?|l{1,4})")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SHORTENED = {"MMMM": "MMM", "MM": "M", "DD": "D", "dddd": "ddd"}


def long_format(locale: Locale, key: str) -> str | None:
    """The pattern behind ``L`` ... ``LTS``; ``l`` ``ll`` ``lll`` ``llll`` shorten names and
    numbers as moment derives them (MMMM → MMM, MM → M, DD → D, dddd → ddd)."""
    if key in locale.long_formats:
        return locale.long_formats[key]
    upper = locale.long_formats.get(key.upper())
    if upper is None or key == key.upper():
        return None
    return "".join(
        _SHORTENED.get(m.group(0), m.group(0)) for m in FORMATTING_TOKENS.finditer(upper)
    )


def expand_format(pattern: str, locale: Locale) -> str:
    """``pattern`` with the locale's long formats written out (moment repeats this up to 6 times)."""
    for _ in range(6):
        expanded = _LOCAL_TOKENS.sub(
            lambda m: long_format(locale, m.group(0)) or m.group(0), pattern
        )
        if expanded == pattern:
            break
        pattern = expanded
    return pattern


# --- formatting ------------------------------------------------------------------------------


def zero_fill(number: int, width: int, force_sign: bool = False) -> str:
    """moment's zeroFill: at least ``width`` digits, "-" for negatives, "+" when forced."""
    sign = "-" if number < 0 else ("+" if force_sign else "")
    return sign + str(abs(number)).rjust(width, "0")


def _js_day(day: date) -> int:
    """0 for Sunday ... 6 for Saturday, as JavaScript's getDay counts."""
    return (day.weekday() + 1) % 7


def _first_week_offset(year: int, dow: int, doy: int) -> int:
    first_week_day = 7 + dow - doy  # this January day is always in week 1
    weekday = (7 + _js_day(date(year, 1, 1) + timedelta(days=first_week_day - 1)) - dow) % 7
    return -weekday + first_week_day - 1


def _days_in_year(year: int) -> int:
    return 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365


def _weeks_in_year(year: int, dow: int, doy: int) -> int:
    offset = _first_week_offset(year, dow, doy)
    following = _first_week_offset(year + 1, dow, doy)
    return (_days_in_year(year) - offset + following) // 7


def week_of_year(day: date, dow: int, doy: int) -> tuple[int, int]:
    """(week, week-year) under a locale's week rule; ISO weeks are dow=1, doy=4."""
    offset = _first_week_offset(day.year, dow, doy)
    week = (day.timetuple().tm_yday - offset - 1) // 7 + 1
    if week < 1:
        return week + _weeks_in_year(day.year - 1, dow, doy), day.year - 1
    if week > _weeks_in_year(day.year, dow, doy):
        return week - _weeks_in_year(day.year, dow, doy), day.year + 1
    return week, day.year


def _day_from_weeks(year: int, week: int, weekday: int, dow: int, doy: int) -> date:
    local_weekday = (7 + weekday - dow) % 7
    day_of_year = 1 + 7 * (week - 1) + local_weekday + _first_week_offset(year, dow, doy)
    return date(year, 1, 1) + timedelta(days=day_of_year - 1)


def _hour12(m: datetime) -> int:
    return m.hour % 12 or 12


def _ms(m: datetime) -> int:
    return m.microsecond // 1000


def _meridiem(m: datetime, lower: bool) -> str:
    text = "PM" if m.hour > 11 else "AM"
    return text.lower() if lower else text


def _offset(m: datetime, separator: str) -> str:
    minutes = int((m.utcoffset() or timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{separator}{rest:02d}"


def _months_short(m: datetime, locale: Locale, pattern: str) -> str:
    names = locale.months_short
    if locale.months_short_in_dashes and "-MMM-" in pattern:
        names = locale.months_short_in_dashes
    return names[m.month - 1]


def _millis_since_epoch(m: datetime) -> int:
    return (m - _EPOCH) // timedelta(milliseconds=1)


Formatter = Callable[[datetime, Locale, str], str]


def _ordinal(period: str, number: Callable[[datetime, Locale], int]) -> Formatter:
    return lambda m, loc, _p: loc.ordinal(number(m, loc), period)


def _plain(number: Callable[[datetime, Locale], int], width: int = 0) -> Formatter:
    return lambda m, loc, _p: zero_fill(number(m, loc), width)


def _weekday(m: datetime, _loc: Locale) -> int:
    return _js_day(m.date())


def _locale_week(m: datetime, loc: Locale) -> tuple[int, int]:
    return week_of_year(m.date(), loc.dow, loc.doy)


def _iso_week(m: datetime, _loc: Locale) -> tuple[int, int]:
    return week_of_year(m.date(), 1, 4)


def _fraction(digits: int) -> Formatter:
    if digits <= 3:
        return lambda m, _l, _p: zero_fill(_ms(m) // 10 ** (3 - digits), digits)
    return lambda m, _l, _p: zero_fill(_ms(m) * 10 ** (digits - 3), digits)


def _year(m: datetime, _loc: Locale) -> int:
    return m.year


FORMATTERS: dict[str, Formatter] = {
    # month
    "M": _plain(lambda m, _l: m.month),
    "MM": _plain(lambda m, _l: m.month, 2),
    "Mo": _ordinal("M", lambda m, _l: m.month),
    "MMM": _months_short,
    "MMMM": lambda m, loc, _p: loc.months[m.month - 1],
    # quarter
    "Q": _plain(lambda m, _l: (m.month - 1) // 3 + 1),
    "Qo": _ordinal("Q", lambda m, _l: (m.month - 1) // 3 + 1),
    # day of month, of year
    "D": _plain(lambda m, _l: m.day),
    "DD": _plain(lambda m, _l: m.day, 2),
    "Do": _ordinal("D", lambda m, _l: m.day),
    "DDD": _plain(lambda m, _l: m.timetuple().tm_yday),
    "DDDD": _plain(lambda m, _l: m.timetuple().tm_yday, 3),
    "DDDo": _ordinal("DDD", lambda m, _l: m.timetuple().tm_yday),
    # day of week
    "d": _plain(_weekday),
    "do": _ordinal("d", _weekday),
    "dd": lambda m, loc, _p: loc.weekdays_min[_weekday(m, loc)],
    "ddd": lambda m, loc, _p: loc.weekdays_short[_weekday(m, loc)],
    "dddd": lambda m, loc, _p: loc.weekdays[_weekday(m, loc)],
    "e": _plain(lambda m, loc: (_weekday(m, loc) + 7 - loc.dow) % 7),
    "E": _plain(lambda m, loc: _weekday(m, loc) or 7),
    # weeks and week-years
    "w": _plain(lambda m, loc: _locale_week(m, loc)[0]),
    "ww": _plain(lambda m, loc: _locale_week(m, loc)[0], 2),
    "wo": _ordinal("w", lambda m, loc: _locale_week(m, loc)[0]),
    "W": _plain(lambda m, loc: _iso_week(m, loc)[0]),
    "WW": _plain(lambda m, loc: _iso_week(m, loc)[0], 2),
    "Wo": _ordinal("W", lambda m, loc: _iso_week(m, loc)[0]),
    "gg": _plain(lambda m, loc: _locale_week(m, loc)[1] % 100, 2),
    "gggg": _plain(lambda m, loc: _locale_week(m, loc)[1], 4),
    "ggggg": _plain(lambda m, loc: _locale_week(m, loc)[1], 5),
    "GG": _plain(lambda m, loc: _iso_week(m, loc)[1] % 100, 2),
    "GGGG": _plain(lambda m, loc: _iso_week(m, loc)[1], 4),
    "GGGGG": _plain(lambda m, loc: _iso_week(m, loc)[1], 5),
    # year (and moment's era tokens: every date here is Anno Domini)
    "Y": lambda m, _l, _p: zero_fill(m.year, 4) if m.year <= 9999 else f"+{m.year}",
    "YY": _plain(lambda m, _l: m.year % 100, 2),
    "YYYY": _plain(_year, 4),
    "YYYYY": _plain(_year, 5),
    "YYYYYY": lambda m, _l, _p: zero_fill(m.year, 6, force_sign=True),
    "y": _plain(_year, 1),
    "yy": _plain(_year, 2),
    "yyy": _plain(_year, 3),
    "yyyy": _plain(_year, 4),
    "yo": _ordinal("y", _year),
    "N": lambda _m, _l, _p: "AD",
    "NN": lambda _m, _l, _p: "AD",
    "NNN": lambda _m, _l, _p: "AD",
    "NNNN": lambda _m, _l, _p: "Anno Domini",
    "NNNNN": lambda _m, _l, _p: "AD",
    # time of day
    "A": lambda m, _l, _p: _meridiem(m, lower=False),
    "a": lambda m, _l, _p: _meridiem(m, lower=True),
    "H": _plain(lambda m, _l: m.hour),
    "HH": _plain(lambda m, _l: m.hour, 2),
    "h": _plain(lambda m, _l: _hour12(m)),
    "hh": _plain(lambda m, _l: _hour12(m), 2),
    "k": _plain(lambda m, _l: m.hour or 24),
    "kk": _plain(lambda m, _l: m.hour or 24, 2),
    "hmm": lambda m, _l, _p: f"{_hour12(m)}{m.minute:02d}",
    "hmmss": lambda m, _l, _p: f"{_hour12(m)}{m.minute:02d}{m.second:02d}",
    "Hmm": lambda m, _l, _p: f"{m.hour}{m.minute:02d}",
    "Hmmss": lambda m, _l, _p: f"{m.hour}{m.minute:02d}{m.second:02d}",
    "m": _plain(lambda m, _l: m.minute),
    "mm": _plain(lambda m, _l: m.minute, 2),
    "s": _plain(lambda m, _l: m.second),
    "ss": _plain(lambda m, _l: m.second, 2),
    **{"S" * digits: _fraction(digits) for digits in range(1, 10)},
    # zone and timestamps
    "Z": lambda m, _l, _p: _offset(m, ":"),
    "ZZ": lambda m, _l, _p: _offset(m, ""),
    "z": lambda m, _l, _p: m.tzname() or "",
    "zz": lambda m, _l, _p: m.tzname() or "",
    "X": lambda m, _l, _p: str(_millis_since_epoch(m) // 1000),
    "x": lambda m, _l, _p: str(_millis_since_epoch(m)),
}


def format_moment(moment: date | datetime, pattern: str, locale: Locale) -> str:
    """``moment`` written with moment.js tokens in ``locale`` (a day is its midnight UTC)."""
    if type(moment) is date:
        moment = datetime.combine(moment, time(), UTC)
    expanded = expand_format(pattern, locale)
    out: list[str] = []
    for match in FORMATTING_TOKENS.finditer(expanded):
        literal, escaped, token = match.group(1), match.group(2), match.group(3)
        if literal is not None:
            out.append(literal[1:-1])
        elif escaped is not None:
            out.append(token)
        else:
            formatter = FORMATTERS.get(token)
            out.append(formatter(moment, locale, expanded) if formatter else token)  # type: ignore[arg-type]
    return "".join(out)


# --- parsing ---------------------------------------------------------------------------------

_ONE_OR_TWO = re.compile(r"\d\d?")
_PARSE_PATTERNS: dict[str, re.Pattern[str]] = {
    **dict.fromkeys(
        words("M MM D DD H HH h hh k kk m mm s ss w ww W WW d e E gg GG YY"), _ONE_OR_TWO
    ),
    "Q": re.compile(r"\d"),
    "DDD": re.compile(r"\d{1,3}"),
    "DDDD": re.compile(r"\d{3}"),
    **dict.fromkeys(["YYYY", "gggg", "GGGG"], re.compile(r"\d{1,4}")),
    **dict.fromkeys(["YYYYY", "YYYYYY", "ggggg", "GGGGG"], re.compile(r"[+-]?\d{1,6}")),
    "Y": re.compile(r"[+-]?\d+"),
    **dict.fromkeys(["y", "yy", "yyy", "yyyy"], re.compile(r"\d+")),
    **dict.fromkeys(["S", "SS", "SSS"], re.compile(r"\d{1,3}")),
    **{"S" * digits: re.compile(r"\d+") for digits in range(4, 10)},
    **dict.fromkeys(["Z", "ZZ"], re.compile(r"Z|[+-]\d\d(?::?\d\d)?", re.IGNORECASE)),
    "X": re.compile(r"[+-]?\d+(?:\.\d{1,3})?"),
    "x": re.compile(r"[+-]?\d+"),
    **dict.fromkeys(["A", "a"], re.compile(r"[ap]\.?m?\.?", re.IGNORECASE)),
    **dict.fromkeys(["hmm", "Hmm"], re.compile(r"\d\d\d\d?")),
    **dict.fromkeys(["hmmss", "Hmmss"], re.compile(r"\d\d\d\d\d\d?")),
}
#: Tokens that give a time of day: a format with one of these parses to a moment, not a day.
_TIME_TOKENS = frozenset(
    [*words("H HH h hh k kk hmm hmmss Hmm Hmmss m mm s ss A a Z ZZ X x")]
    + ["S" * digits for digits in range(1, 10)]
)


def _unescape(token: str) -> str:
    """A literal's text: brackets and backslashes removed (moment's unescapeFormat)."""
    token = token.replace("\\", "", 1)
    return re.sub(
        r"\\(\[)|\\(\])|\[([^\]\[]*)\]|\\(.)",
        lambda m: m.group(1) or m.group(2) or m.group(3) or m.group(4) or "",
        token,
    )


def _two_digit_year(text: str) -> int:
    year = int(text)
    return year + (1900 if year > 68 else 2000)


class _Parsed:
    """What the tokens found: moment's ``config._a`` array, week parts and flags, by name."""

    def __init__(self) -> None:
        self.parts: dict[str, int] = {}
        self.week: dict[str, int] = {}
        self.day_of_year: int | None = None
        self.offset_minutes: int | None = None
        self.pm: bool | None = None
        self.timestamp: datetime | None = None


def _offset_minutes(text: str) -> int:
    if text.upper() == "Z":
        return 0
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return -minutes if text[0] == "-" else minutes


def _apply(token: str, text: str, found: _Parsed, locale: Locale) -> None:
    """moment's addParseToken callbacks, one token at a time."""
    parts = found.parts
    if token == "YYYY":
        parts["year"] = _two_digit_year(text) if len(text) == 2 else int(text)
    elif token == "YY":
        parts["year"] = _two_digit_year(text)
    elif token in ("Y", "YYYYY", "YYYYYY", "y", "yy", "yyy", "yyyy"):
        parts["year"] = int(text)
    elif token in ("M", "MM"):
        parts["month"] = int(text) - 1
    elif token in ("MMM", "MMMM"):
        month = locale.month_index(text)
        if month is None:
            raise EvalError(f'"{text}" is not a month name')
        parts["month"] = month
    elif token == "Q":
        parts["month"] = (int(text) - 1) * 3
    elif token in ("D", "DD"):
        parts["day"] = int(text)
    elif token == "Do":
        parts["day"] = int(_ONE_OR_TWO.search(text).group(0))  # type: ignore[union-attr]
    elif token in ("DDD", "DDDD"):
        found.day_of_year = int(text)
    elif token in ("H", "HH", "h", "hh"):
        parts["hour"] = int(text)
    elif token in ("k", "kk"):
        parts["hour"] = 0 if int(text) == 24 else int(text)
    elif token in ("hmm", "Hmm", "hmmss", "Hmmss"):
        cut = len(text) - (4 if token.endswith("ss") else 2)
        parts["hour"] = int(text[:cut])
        parts["minute"] = int(text[cut : cut + 2])
        if token.endswith("ss"):
            parts["second"] = int(text[cut + 2 :])
    elif token in ("m", "mm"):
        parts["minute"] = int(text)
    elif token in ("s", "ss"):
        parts["second"] = int(text)
    elif token.startswith("S"):
        parts["millisecond"] = int(float("0." + text) * 1000)
    elif token in ("A", "a"):
        found.pm = text[0].lower() == "p"
    elif token in ("Z", "ZZ"):
        found.offset_minutes = _offset_minutes(text)
    elif token == "X":
        found.timestamp = _EPOCH + timedelta(milliseconds=math.trunc(float(text) * 1000))
    elif token == "x":
        found.timestamp = _EPOCH + timedelta(milliseconds=int(text))
    elif token in ("w", "ww", "W", "WW", "d", "e", "E"):
        found.week[token[0]] = int(text)
    elif token in ("gg", "GG"):
        found.week[token] = _two_digit_year(text)
    elif token in ("gggg", "ggggg", "GGGG", "GGGGG"):
        found.week[token[:2]] = int(text)
    elif token in ("dd", "ddd", "dddd"):
        weekday = locale.weekday_index(text)
        if weekday is None:
            raise EvalError(f'"{text}" is not a day of the week')
        found.week["d"] = weekday


def _pattern_for(token: str, locale: Locale) -> re.Pattern[str] | None:
    if token in _PARSE_PATTERNS:
        return _PARSE_PATTERNS[token]
    if token in ("MMM", "MMMM"):
        return locale.month_names()
    if token in ("dd", "ddd", "dddd"):
        return locale.weekday_names()
    if token == "Do":
        return re.compile(rf"\d{{1,2}}{locale.ordinal_suffix}|\d{{1,2}}")
    return None


#: Caps that keep one DATETIME_PARSE within a cell's time budget (each token searches the text).
MAX_PARSE_FORMAT = 200
MAX_PARSE_TEXT = 1_000


def parse_with_format(text: str, pattern: str, locale: Locale) -> date | datetime:
    """``text`` read with a moment.js format in forgiving mode; a cell error when it cannot be."""
    if len(pattern) > MAX_PARSE_FORMAT or len(text) > MAX_PARSE_TEXT:
        raise EvalError(
            f"DATETIME_PARSE reads at most {MAX_PARSE_TEXT:,} characters with a format of at "
            f"most {MAX_PARSE_FORMAT} characters"
        )
    expanded = expand_format(pattern, locale)
    found = _Parsed()
    rest = text
    matched_any = False
    has_time = False
    for match in FORMATTING_TOKENS.finditer(expanded):
        literal, escaped, token = match.group(1), match.group(2), match.group(3)
        known = literal is None and escaped is None and token in FORMATTERS
        regex = _pattern_for(token, locale) if known else None
        if regex is None:
            regex = re.compile(re.escape(_unescape(match.group(0))))
        hit = regex.search(rest)
        if hit is not None and hit.group(0):
            rest = rest[hit.end() :]
        if not known:
            continue
        has_time = has_time or token in _TIME_TOKENS
        if hit is not None and hit.group(0):
            matched_any = True
            _apply(token, hit.group(0), found, locale)
    if not matched_any:
        raise EvalError(f'"{_clip(text)}" does not match the format "{_clip(pattern)}"')
    moment = _assemble(found, locale, text, pattern)
    if has_time or found.timestamp is not None or isinstance(moment, datetime):
        return moment if isinstance(moment, datetime) else datetime.combine(moment, time(), UTC)
    return moment


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _assemble(found: _Parsed, locale: Locale, text: str, pattern: str) -> date | datetime:
    """moment's configFromArray and checkOverflow, without defaulting from today."""
    if found.timestamp is not None:
        return found.timestamp
    parts = found.parts
    invalid = EvalError(f'"{_clip(text)}" is not a valid date for the format "{_clip(pattern)}"')
    if found.day_of_year is not None:
        year = _year_or_refuse(parts, pattern)
        if not 1 <= found.day_of_year <= _days_in_year(year):
            raise invalid
        day = date(year, 1, 1) + timedelta(days=found.day_of_year - 1)
        parts.update(month=day.month - 1, day=day.day)
    elif found.week and "day" not in parts and "month" not in parts:
        day = _from_week_parts(found.week, parts, locale, pattern, invalid)
        parts.update(year=day.year, month=day.month - 1, day=day.day)
    year = _year_or_refuse(parts, pattern)
    month = parts.get("month", 0)
    day_of_month = parts.get("day", 1)
    hour = parts.get("hour", 0)
    if found.pm is not None:
        if found.pm and hour < 12:
            hour += 12
        elif not found.pm and hour == 12:
            hour = 0
    minute, second = parts.get("minute", 0), parts.get("second", 0)
    millisecond = parts.get("millisecond", 0)
    next_day = hour == 24 and minute == second == millisecond == 0
    if not (0 <= month <= 11 and 0 <= minute <= 59 and 0 <= second <= 59):
        raise invalid
    if not (0 <= hour <= 23 or next_day) or not 1 <= year <= 9999:
        raise invalid
    try:
        moment = datetime(year, month + 1, day_of_month, 0 if next_day else hour, minute, second)
    except ValueError:
        raise invalid from None
    moment += timedelta(milliseconds=millisecond, days=1 if next_day else 0)
    if "d" in found.week and found.week["d"] != _js_day(moment.date()):
        raise EvalError(f'"{_clip(text)}" names a weekday that is not the date\'s')
    if found.offset_minutes is not None:
        zone = timezone(timedelta(minutes=found.offset_minutes))
        return moment.replace(tzinfo=zone).astimezone(UTC)
    return moment.replace(tzinfo=UTC) if any(k in parts for k in _CLOCK_PARTS) else moment.date()


_CLOCK_PARTS = ("hour", "minute", "second", "millisecond")


def _year_or_refuse(parts: dict[str, int], pattern: str) -> int:
    if "year" not in parts:
        raise EvalError(
            f'The format "{_clip(pattern)}" gives no year: add YYYY (Airtable would take this '
            "year, which makes the value change with the calendar)"
        )
    return parts["year"]


def _from_week_parts(
    week: dict[str, int], parts: dict[str, int], locale: Locale, pattern: str, invalid: EvalError
) -> date:
    """moment's dayOfYearFromWeekInfo: ISO weeks (W, E, GGGG) or the locale's (w, e, d, gggg)."""
    if any(key in week for key in ("GG", "W", "E")):
        dow, doy = 1, 4
        year = week.get("GG", parts.get("year"))
        number = week.get("W", 1)
        weekday = week.get("E", 1)  # 1 = Monday ... 7 = Sunday
        if not 1 <= weekday <= 7:
            raise invalid
    else:
        dow, doy = locale.dow, locale.doy
        year = week.get("gg", parts.get("year"))
        if "w" not in week:
            raise EvalError(f'The format "{_clip(pattern)}" gives a weekday but no week: add w')
        number = week["w"]
        if "d" in week:
            weekday = week["d"]
            if not 0 <= weekday <= 6:
                raise invalid
        elif "e" in week:
            if not 0 <= week["e"] <= 6:
                raise invalid
            weekday = week["e"] + dow
        else:
            weekday = dow
    if year is None:
        year = _year_or_refuse({}, pattern)
    try:
        if not 1 <= number <= _weeks_in_year(year, dow, doy):
            raise invalid
        return _day_from_weeks(year, number, weekday, dow, doy)
    except (ValueError, OverflowError):
        raise invalid from None
