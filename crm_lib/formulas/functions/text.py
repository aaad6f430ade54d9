"""Text functions. Positions are 1-based, as in Airtable; every text produced is within the cap.

Regular expressions use RE2 syntax (as Airtable does) and run on google-re2, whose matching time is
linear in the input, so no pattern can hang the server. Replacements use ``$1`` for groups, as in
Airtable.
"""

from __future__ import annotations

from urllib.parse import quote

from crm_lib.formulas.limits import active_limits, check_text
from crm_lib.formulas.regex import compile_regex
from crm_lib.formulas.registry import register
from crm_lib.formulas.values import EvalError, ValueType

T = ValueType
S = T.TEXT
N = T.NUMBER
A = T.ANY


def _count(number: float, what: str) -> int:
    count = int(number)
    if count < 0:
        raise EvalError(f"{what} cannot be negative")
    return count


def _start(number: float) -> int:
    start = int(number)
    if start < 1:
        raise EvalError("Positions start at 1")
    return start


def _search_from(number: float) -> int:
    """Where FIND and SEARCH start looking (0-based); Airtable's default start is 0, so 0 and
    anything below 1 mean "from the beginning"."""
    return max(int(number), 1) - 1


@register(
    "text",
    params=[("text", S), ("texts", S)],
    result=S,
    examples=[('CONCATENATE("Fund ", 2, " LP")', "Fund 2 LP")],
)
def CONCATENATE(text: str, *texts: str) -> str:
    """Joins the values into one text."""
    return check_text(text + "".join(texts))


@register(
    "text",
    params=[("text", S), ("count", N)],
    result=S,
    examples=[('LEFT("Quarterly", 3)', "Qua"), ('LEFT("ab")', "a")],
)
def LEFT(text: str, count: float = 1) -> str:
    """The first count characters."""
    return text[: _count(count, "The count")]


@register(
    "text",
    params=[("text", S), ("count", N)],
    result=S,
    examples=[('RIGHT("Quarterly", 4)', "erly")],
)
def RIGHT(text: str, count: float = 1) -> str:
    """The last count characters."""
    count_ = _count(count, "The count")
    return text[len(text) - count_ :] if count_ else ""


@register(
    "text",
    params=[("text", S), ("start", N), ("count", N)],
    result=S,
    examples=[('MID("Quarterly", 2, 3)', "uar")],
)
def MID(text: str, start: float, count: float) -> str:
    """count characters starting at position start."""
    first = _start(start) - 1
    return text[first : first + _count(count, "The count")]


@register(
    "text", params=[("text", S)], result=N, examples=[('LEN("Acme")', 4), ("LEN(BLANK())", 0)]
)
def LEN(text: str) -> int:
    """The number of characters."""
    return len(text)


@register(
    "text", params=[("text", S)], result=S, examples=[('LOWER("ACME Capital")', "acme capital")]
)
def LOWER(text: str) -> str:
    """The text in lower case."""
    return text.lower()


@register("text", params=[("text", S)], result=S, examples=[('UPPER("acme")', "ACME")])
def UPPER(text: str) -> str:
    """The text in upper case."""
    return text.upper()


@register(
    "text", params=[("text", S)], result=S, examples=[('TRIM("  Acme Capital ")', "Acme Capital")]
)
def TRIM(text: str) -> str:
    """Removes whitespace at the beginning and end (inner spaces are kept, as in Airtable)."""
    return text.strip()


@register(
    "text",
    params=[("text", S), ("old_text", S), ("new_text", S), ("index", N)],
    result=S,
    examples=[
        ('SUBSTITUTE("a-b-c", "-", "+")', "a+b+c"),
        ('SUBSTITUTE("a-b-c", "-", "+", 2)', "a-b+c"),
    ],
)
def SUBSTITUTE(text: str, old_text: str, new_text: str, index: float | None = None) -> str:
    """Replaces occurrences of old_text (only the index-th one when index is given)."""
    if not old_text:
        return text
    if index is None:
        if len(new_text) > len(old_text):
            size = len(text) + text.count(old_text) * (len(new_text) - len(old_text))
            limit = active_limits().max_text_length
            if size > limit:
                raise EvalError(
                    f"SUBSTITUTE would make {size:,} characters; the limit is {limit:,}"
                )
        return text.replace(old_text, new_text)
    wanted = _start(index)
    position = -1
    for _ in range(wanted):
        position = text.find(old_text, position + 1)
        if position < 0:
            return text
    return check_text(text[:position] + new_text + text[position + len(old_text) :])


@register(
    "text",
    params=[("text", S), ("start", N), ("count", N), ("replacement", S)],
    result=S,
    examples=[('REPLACE("Fund II", 6, 2, "III")', "Fund III")],
)
def REPLACE(text: str, start: float, count: float, replacement: str) -> str:
    """Replaces count characters starting at start with the replacement."""
    first = _start(start) - 1
    return check_text(text[:first] + replacement + text[first + _count(count, "The count") :])


@register(
    "text",
    params=[("find", S), ("text", S), ("start", N)],
    result=N,
    examples=[
        ('FIND("b", "abcb")', 2),
        ('FIND("b", "abcb", 3)', 4),
        ('FIND("b", "abcb", 0)', 2),
        ('FIND("z", "abc")', 0),
    ],
)
def FIND(find: str, text: str, start: float = 0) -> int:
    """Position of find in text (case-sensitive), from position start; 0 when absent."""
    return text.find(find, _search_from(start)) + 1


@register(
    "text",
    params=[("find", S), ("text", S), ("start", N)],
    result=N,
    examples=[('SEARCH("B", "abcb")', 2), ('SEARCH("z", "abc")', None)],
)
def SEARCH(find: str, text: str, start: float = 0) -> int | None:
    """Position of find in text ignoring case, from position start; blank when absent."""
    found = text.casefold().find(find.casefold(), _search_from(start)) + 1
    return found or None


@register(
    "text", params=[("text", S), ("count", N)], result=S, examples=[('REPT("ab", 3)', "ababab")]
)
def REPT(text: str, count: float) -> str:
    """The text repeated count times."""
    times = _count(count, "The repeat count")
    if len(text) * times > active_limits().max_text_length:
        raise EvalError(
            f"REPT would make {len(text) * times:,} characters; the limit is "
            f"{active_limits().max_text_length:,}"
        )
    return text * times


@register(
    "text",
    name="T",
    params=[("value", A)],
    result=S,
    examples=[('T("Acme")', "Acme"), ("T(42)", None)],
)
def T_(value: object) -> str | None:
    """The value if it is text, otherwise blank."""
    return value if isinstance(value, str) else None


@register(
    "text",
    params=[("text", S)],
    result=S,
    examples=[
        ('ENCODE_URL_COMPONENT("a b&c")', "a%20b%26c"),
        ('ENCODE_URL_COMPONENT("it\'s (1)!")', "it%27s%20%281%29%21"),
    ],
)
def ENCODE_URL_COMPONENT(text: str) -> str:
    """Escapes text for a URL: every character but letters, digits and - _ . ~ is encoded."""
    return check_text(quote(text, safe="-_.~"))


@register(
    "text",
    params=[("text", S), ("regex", S)],
    result=T.BOOLEAN,
    examples=[
        ('REGEX_MATCH("ana@fund.example", "^[^@]+@[^@]+$")', True),
        ('REGEX_MATCH("no email", "@")', False),
    ],
)
def REGEX_MATCH(text: str, regex: str) -> bool:
    """True when the text contains a match for the regular expression (RE2 syntax)."""
    return compile_regex(regex).search(text)


@register(
    "text",
    params=[("text", S), ("regex", S)],
    result=S,
    examples=[
        ('REGEX_EXTRACT("ana@fund.example", "[a-z]+\\\\.example")', "fund.example"),
        ('REGEX_EXTRACT("abc", "z")', None),
    ],
)
def REGEX_EXTRACT(text: str, regex: str) -> str | None:
    """The first part of the text that matches the regular expression; blank when none does."""
    return compile_regex(regex).extract(text)


@register(
    "text",
    params=[("text", S), ("regex", S), ("replacement", S)],
    result=S,
    examples=[
        ('REGEX_REPLACE("ana@fund.example", ".*@", "")', "fund.example"),
        ('REGEX_REPLACE("Jane Doe", "(\\\\w+) (\\\\w+)", "$2, $1")', "Doe, Jane"),
        ('REGEX_REPLACE("baac", "a*", "-")', "-b--c-"),
    ],
)
def REGEX_REPLACE(text: str, regex: str, replacement: str) -> str:
    """Replaces every match of the regular expression; $1, $2 insert the matched groups."""
    return check_text(compile_regex(regex).replace(text, replacement))
