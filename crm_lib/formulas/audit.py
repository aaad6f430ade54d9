"""Our formulas audited against Airtable's formula reference, one row per behaviour.

Each row says what Airtable's reference documents (with its source), what we do, a verdict, and an
example in formula syntax with its result. The same rows are the "Audit against Airtable's
reference" section of ``docs/formulas.md`` (``reference.py`` renders them) and the cases of
``tests/formulas/test_airtable_audit.py`` (which runs every example through the public
``evaluate()``), so the table and the tests cannot drift apart.

Examples run with the clock at 2026-11-25T09:30:00Z and the record ``RECORD`` below.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from types import MappingProxyType

from crm_lib.formulas.engine import RecordInfo

#: The clock and record every example is evaluated with.
NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
RECORD = RecordInfo(
    id="rec42",
    created_time=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    last_modified_time=datetime(2026, 6, 1, tzinfo=UTC),
    field_modified_times={"Status": datetime(2026, 3, 1, tzinfo=UTC)},
)

#: Where Airtable's documented behaviour comes from (keys used in the rows, in brackets).
SOURCES: dict[str, str] = {
    "R": "Airtable, Formula field reference — https://support.airtable.com/docs/formula-field-reference "
    "(the function list and one-line descriptions, also kept verbatim in pyairtable's "
    "`pyairtable/formulas.txt`, 'retrieved from https://www.airtable.com/universe/expHF9XTWWwAT299z')",
    "R2": "Airtable, Formula field reference, current edition — "
    "https://support.airtable.com/docs/en/formula-field-reference ('Field names are "
    "case-sensitive and must match exactly, including spaces')",
    "U": "Airtable, Supported DATETIME_DIFF unit specifiers — "
    "https://support.airtable.com/docs/supported-unit-specifiers-for-datetime-diff",
    "F": "Airtable, Supported DATETIME_FORMAT format specifiers — "
    "https://support.airtable.com/docs/supported-format-specifiers-for-datetime-format "
    "('Airtable uses Moment.js tokens for date parsing and formatting'; w vs W example)",
    "L": "Airtable, Supported SET_LOCALE modifiers — "
    "https://support.airtable.com/docs/supported-locale-modifiers-for-set-locale",
    "A": "Airtable, Using array functions in Airtable — "
    "https://support.airtable.com/docs/en/using-array-functions-in-airtable",
    "M": "moment.js docs, Displaying: Format, and Parsing: String + Format — "
    "https://momentjs.com/docs/#/displaying/format/ and "
    "https://momentjs.com/docs/#/parsing/string-format/ (behaviour checked in moment 2.30's source: "
    "format.js, from-string-and-format.js, the locale files)",
}


class Verdict(StrEnum):
    """How ours compares with what Airtable documents."""

    SAME = "same"  # ours does what the reference says
    FIXED = "fixed"  # ours differed; this audit changed it to match
    ADDED = "added"  # the function or form was missing; this audit added it
    WIDER = "wider"  # ours also accepts a form the reference does not list
    UNDOCUMENTED = "undocumented"  # the reference does not say; the row states what we do
    DIFFERS = "differs"  # a deliberate difference, with the reason
    OURS_ONLY = "ours only"  # not an Airtable function


@dataclass(frozen=True, slots=True)
class Refused:
    """The formula is refused when saved (compile_formula raises); ``message`` is part of why."""

    message: str


@dataclass(frozen=True, slots=True)
class CellError:
    """The formula compiles but the value is a cell error (#ERROR); ``message`` is part of why."""

    message: str


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audited behaviour and the example that proves what we do."""

    topic: str
    airtable: str
    ours: str
    verdict: Verdict
    formula: str
    expected: object
    name: str
    fields: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))


S, FX, AD, W, UN, DF, OO = (
    Verdict.SAME,
    Verdict.FIXED,
    Verdict.ADDED,
    Verdict.WIDER,
    Verdict.UNDOCUMENTED,
    Verdict.DIFFERS,
    Verdict.OURS_ONLY,
)
_T = datetime(2026, 3, 5, 4, 7, 9, 45000, tzinfo=UTC)  # Thursday 5 March 2026, 04:07:09.045 UTC
_TS = '"2026-03-05T04:07:09.045Z"'


def _row(
    topic: str,
    airtable: str,
    ours: str,
    verdict: Verdict,
    formula: str,
    expected: object,
    name: str,
    fields: Mapping[str, object] | None = None,
) -> AuditRow:
    return AuditRow(
        topic,
        airtable,
        ours,
        verdict,
        formula,
        expected,
        name,
        MappingProxyType(dict(fields or {})),
    )


def _token(token: str, meaning: str, expected: str, name: str, verdict: Verdict = S) -> AuditRow:
    """A DATETIME_FORMAT specifier row, on Thursday 5 March 2026 04:07:09.045 UTC."""
    return _row(
        f"DATETIME_FORMAT `{token}`",
        f"[F][M] {meaning}",
        "Same token, same output." if verdict is S else "Added: this token was not supported.",
        verdict,
        f'DATETIME_FORMAT({_TS}, "{token}")',
        expected,
        f"format-{name}",
    )


def _parse(
    tokens: str, text: str, pattern: str, expected: object, name: str, verdict: Verdict = S
) -> AuditRow:
    """A DATETIME_PARSE specifier row."""
    return _row(
        f"DATETIME_PARSE `{tokens}`",
        f"[F][M] {tokens} read as moment reads them.",
        "Same." if verdict is S else "Added: this was refused before.",
        verdict,
        f'DATETIME_PARSE("{text}", "{pattern}")',
        expected,
        f"parse-{name}",
    )


LOGICAL = [
    _row("IF", "[R] Returns value1 if the logical argument is true, otherwise value2.",
         "Same; only the branch taken is computed.", S,
         'IF(2 > 1, "yes", "no")', "yes", "IF-three-arguments"),
    _row("IF", "[R] Lists three arguments; whether value2 may be left out is not stated.",
         "Two arguments allowed: blank when false.", UN,
         'IF(FALSE(), "yes")', None, "IF-two-arguments"),
    _row("IF", "[R] IF(expression, value1, value2): at most three arguments.", "Same.", S,
         "IF(1, 2, 3, 4)", Refused("IF expects 2 or 3 arguments, got 4"), "IF-most-arguments"),
    _row("IF", "[R] Not stated which values are false.",
         'Blank, 0, "" and FALSE are false; any other text, number or date is true.', UN,
         'IF("", "yes", "no") & IF("0", "yes", "no")', "noyes", "IF-empty-text-is-false"),
    _row("IF", "[R] Not stated; ISERROR 'returns true if the expression causes an error'.",
         "An error in the condition is the cell's error.", UN,
         'IF(1 / 0 > 1, "a", "b")', CellError("Cannot divide by zero"), "IF-error-propagates"),
    _row("SWITCH", "[R] Compares an expression with patterns; can take a default when nothing matches.",
         "Same.", S, 'SWITCH("b", "a", 1, "b", 2, 0)', 2, "SWITCH-match"),
    _row("SWITCH", "[R] The default is taken when the expression matches no pattern.",
         "Same.", S, 'SWITCH("z", "a", 1, "b", 2, 0)', 0, "SWITCH-default"),
    _row("SWITCH", "[R] Not stated what happens with no match and no default.",
         "Blank.", UN, 'SWITCH("z", "a", 1)', None, "SWITCH-no-default-is-blank"),
    _row("SWITCH", "[R] SWITCH(expression, pattern, result, [pattern_results...]): at least 3.",
         "Fixed: two arguments were accepted and failed in every cell; now refused when saved.", FX,
         'SWITCH("a", "a")', Refused("SWITCH expects at least 3 arguments, got 2"),
         "SWITCH-fewest-arguments"),
    _row("AND", "[R] True if all the arguments are true, false otherwise.", "Same.", S,
         'AND(1, "x", TRUE())', True, "AND-all-true"),
    _row("AND", "[R] AND(expression, [expressions...]): at least one argument.",
         "Fixed: AND() was accepted (TRUE); now refused.", FX,
         "AND()", Refused("AND expects at least 1 argument, got 0"), "AND-fewest-arguments"),
    _row("OR", "[R] True if any one of the arguments is true.", "Same.", S,
         'OR(0, "", 3)', True, "OR-any-true"),
    _row("OR", "[R] OR(expression, [expressions...]): at least one argument.",
         "Fixed: OR() was accepted; now refused.", FX,
         "OR()", Refused("OR expects at least 1 argument, got 0"), "OR-fewest-arguments"),
    _row("XOR", "[R] True if an odd number of arguments are true.", "Same.", S,
         "XOR(1, 1, 1)", True, "XOR-odd-count"),
    _row("XOR", "[R] XOR(expression, [expressions...]): at least one argument.",
         "Fixed: XOR() was accepted; now refused.", FX,
         "XOR()", Refused("XOR expects at least 1 argument, got 0"), "XOR-fewest-arguments"),
    _row("NOT", "[R] Reverses the logical value of its argument.", "Same.", S,
         "NOT(0)", True, "NOT-reverses"),
    _row("BLANK", "[R] Returns a blank value.", "Same; a blank is 0 in arithmetic, \"\" in text.", S,
         'BLANK() & "x"', "x", "BLANK-returns-blank"),
    _row("ERROR", "[R] Returns a generic error value (#ERROR!).", "Same (shown as #ERROR).", S,
         "ERROR()", CellError("ERROR() was called"), "ERROR-returns-error"),
    _row("ISERROR", "[R] Returns true if the expression causes an error.", "Same.", S,
         "ISERROR(1 / 0) + ISERROR(ERROR()) + ISERROR(1)", 2, "ISERROR-catches"),
    _row("TRUE", "[R] Logical true, represented numerically by 1.", "Same.", S,
         "TRUE() + TRUE()", 2, "TRUE-is-one"),
    _row("FALSE", "[R] Logical false, represented numerically by 0.", "Same.", S,
         "FALSE() * 5", 0, "FALSE-is-zero"),
    _row("IFERROR", "Not an Airtable function.", "Ours only: the value, or the fallback on error.",
         OO, 'IFERROR(1 / 0, "n/a")', "n/a", "IFERROR-ours-only"),
    _row("Errors", "[R] Not stated how errors travel through other functions.",
         "An error reaching any other function makes its result that error.", UN,
         "LEN(1 / 0) + SUM(1, ERROR())", CellError("Cannot divide by zero"),
         "errors-propagate"),
]  # fmt: skip

NUMERIC = [
    _row("ABS", "[R] Returns the absolute value.", "Same.", S, "ABS(-4.5)", 4.5, "ABS-value"),
    _row("AVERAGE", "[R] Returns the average of the numbers.", "Same.", S,
         "AVERAGE(1, 2, 6)", 3, "AVERAGE-numbers"),
    _row("AVERAGE", "[R] Not stated for blanks and text.", "Blanks and non-numeric text are left out.",
         UN, 'AVERAGE(4, BLANK(), "x")', 4, "AVERAGE-skips-blanks"),
    _row("AVERAGE", "[R] AVERAGE(number, [numbers...]): at least one.",
         "Fixed: AVERAGE() was accepted and failed in every cell; now refused when saved.", FX,
         "AVERAGE()", Refused("AVERAGE expects at least 1 argument, got 0"),
         "AVERAGE-fewest-arguments"),
    _row("CEILING", "[R] Nearest multiple of significance ≥ the value; significance 1 if omitted.",
         "Same.", S, "CEILING(7, 5) & \"/\" & CEILING(2.1)", "10/3", "CEILING-significance"),
    _row("CEILING", "[R] '≥ the value', so negatives go toward zero.", "Same.", S,
         "CEILING(-2.5)", -2, "CEILING-negative"),
    _row("COUNT", "[R] Counts the numeric items.", "Same; numeric text is text.", S,
         'COUNT(1, 2, "3", "", BLANK())', 2, "COUNT-numbers-only"),
    _row("COUNTA", "[R] Counts non-empty values, numeric and text.", "Same.", S,
         'COUNTA(1, "a", "", BLANK())', 2, "COUNTA-non-empty"),
    _row("COUNTALL", "[R] Counts all elements including text and blanks.", "Same.", S,
         'COUNTALL(1, "a", "", BLANK())', 4, "COUNTALL-everything"),
    _row("COUNT", "[R] COUNT(number, [numbers...]): at least one (likewise COUNTA, COUNTALL).",
         "Fixed: COUNT() was accepted (0); now refused, as are COUNTA() and COUNTALL().", FX,
         "COUNTA()", Refused("COUNTA expects at least 1 argument, got 0"),
         "COUNT-fewest-arguments"),
    _row("EVEN", "[R] The smallest even integer ≥ the value.", "Same for positives.", S,
         "EVEN(1.5)", 2, "EVEN-positive"),
    _row("EVEN", "[R] Negatives not illustrated ('≥' would give 0 for -1.5).",
         "Away from zero, as ODD is documented to do and as spreadsheets do.", UN,
         "EVEN(-1.5)", -2, "EVEN-negative"),
    _row("ODD", "[R] Positives round up to the nearest odd number, negatives down.", "Same.", S,
         'ODD(1.5) & "/" & ODD(2) & "/" & ODD(-1.5)', "3/3/-3", "ODD-both-signs"),
    _row("EXP", "[R] Euler's number to the given power.", "Same.", S,
         "ROUND(EXP(1), 5)", 2.71828, "EXP-e"),
    _row("FLOOR", "[R] Nearest multiple of significance ≤ the value; significance 1 if omitted.",
         "Same.", S, 'FLOOR(7, 5) & "/" & FLOOR(-2.5)', "5/-3", "FLOOR-significance"),
    _row("INT", "[R] The greatest integer ≤ the value.", "Same.", S, "INT(-3.2)", -4, "INT-floor"),
    _row("LOG", "[R] Logarithm in the given base; the base defaults to 10.", "Same.", S,
         'LOG(1000) & "/" & LOG(8, 2)', "3/3", "LOG-default-base"),
    _row("LOG10", "Not an Airtable function.", "Ours only: base-10 logarithm.", OO,
         "LOG10(100)", 2, "LOG10-ours-only"),
    _row("MAX", "[R] The largest of the given numbers.", "Same.", S, "MAX(3, 1, 2)", 3, "MAX-largest"),
    _row("MAX", "[R] MAX(number, [numbers...]): at least one.",
         "Fixed: MAX() was accepted (0); now refused.", FX,
         "MAX()", Refused("MAX expects at least 1 argument, got 0"), "MAX-fewest-arguments"),
    _row("MIN", "[R] The smallest of the given numbers.", "Same.", S, "MIN(3, 1, 2)", 1, "MIN-smallest"),
    _row("MIN", "[R] MIN(number, [numbers...]): at least one.",
         "Fixed: MIN() was accepted (0); now refused.", FX,
         "MIN()", Refused("MIN expects at least 1 argument, got 0"), "MIN-fewest-arguments"),
    _row("MOD", "[R] The remainder after dividing the first argument by the second.", "Same.", S,
         "MOD(7, 3)", 1, "MOD-remainder"),
    _row("MOD", "[R] The sign of the result is not stated.",
         "The sign follows the dividend, as JavaScript's % does.", UN, "MOD(-7, 3)", -1,
         "MOD-negative"),
    _row("POWER", "[R] The base to the given power.", "Same.", S, "POWER(2, 10)", 1024, "POWER-value"),
    _row("ROUND", "[R] Rounds to 'precision' places, ties half up toward positive infinity.",
         "Same.", S, 'ROUND(2.5, 0) & "/" & ROUND(-2.5, 0) & "/" & ROUND(1.005, 2)', "3/-2/1.01",
         "ROUND-ties-up"),
    _row("ROUND", "[R] ROUND(value, precision): precision listed as required.",
         "Precision may be left out (0).", W, "ROUND(2.5)", 3, "ROUND-one-argument"),
    _row("ROUND", "[R] Negative precision not described.", "Rounds to tens, hundreds, ...", UN,
         "ROUND(1250, -2)", 1300, "ROUND-negative-precision"),
    _row("ROUNDDOWN", "[R] Rounds to 'precision' places, always rounding down.", "Same.", S,
         "ROUNDDOWN(2.99, 1)", 2.9, "ROUNDDOWN-positive"),
    _row("ROUNDDOWN", "[R] 'Down' for negatives is not illustrated.", "Toward zero (spreadsheet rule).",
         UN, "ROUNDDOWN(-2.99, 0)", -2, "ROUNDDOWN-negative"),
    _row("ROUNDUP", "[R] Rounds to 'precision' places, always rounding up.", "Same.", S,
         "ROUNDUP(2.01, 1)", 2.1, "ROUNDUP-positive"),
    _row("ROUNDUP", "[R] 'Up' for negatives is not illustrated.", "Away from zero (spreadsheet rule).",
         UN, "ROUNDUP(-2.01, 0)", -3, "ROUNDUP-negative"),
    _row("SQRT", "[R] The square root of a nonnegative number.", "Same.", S, "SQRT(16)", 4, "SQRT-value"),
    _row("SQRT", "[R] Only nonnegative numbers have one.", "A negative number is a cell error.", S,
         "SQRT(-1)", CellError("square root of a negative"), "SQRT-negative"),
    _row("SUM", "[R] Sums the numbers.", "Same; lists are summed item by item.", S,
         "SUM(1, 2, 3)", 6, "SUM-numbers"),
    _row("SUM", "[R] Not stated for numeric text.", 'Text that reads as a number counts ("2", "$5").',
         UN, 'SUM(1, "2", "x", BLANK())', 3, "SUM-numeric-text"),
    _row("SUM", "[R] SUM(number, [numbers...]): at least one.",
         "Fixed: SUM() was accepted (0); now refused.", FX,
         "SUM()", Refused("SUM expects at least 1 argument, got 0"), "SUM-fewest-arguments"),
    _row("VALUE", "[R] Converts text to a number.", "Same; currency signs and thousands separators "
         "are allowed.", S, 'VALUE("$1,000")', 1000, "VALUE-currency"),
    _row("VALUE", "[R] Text with '-' or '%' 'may not return as expected'.",
         "A percentage is read as a fraction.", UN, 'VALUE("12%")', 0.12, "VALUE-percent"),
]  # fmt: skip

TEXT = [
    _row("CONCATENATE", "[R] Joins the text arguments into one text value.", "Same.", S,
         'CONCATENATE("Bob", " - ", 43)', "Bob - 43", "CONCATENATE-values"),
    _row("CONCATENATE", "[R] CONCATENATE(text, [texts...]): at least one.",
         "Fixed: CONCATENATE() was accepted; now refused.", FX,
         "CONCATENATE()", Refused("CONCATENATE expects at least 1 argument, got 0"),
         "CONCATENATE-fewest-arguments"),
    _row("ENCODE_URL_COMPONENT", "[R] Encodes characters for URLs; does not encode - _ . ~",
         "Same.", S, 'ENCODE_URL_COMPONENT("chicken & waffles")', "chicken%20%26%20waffles",
         "ENCODE_URL_COMPONENT-spaces"),
    _row("ENCODE_URL_COMPONENT", "[R] Only - _ . ~ are left as they are.",
         "Fixed: ! ' ( ) * were left unencoded (JavaScript's encodeURIComponent); now encoded.", FX,
         "ENCODE_URL_COMPONENT(\"it's (1)!*~\")", "it%27s%20%281%29%21%2A~",
         "ENCODE_URL_COMPONENT-reserved"),
    _row("FIND", "[R] Position of stringToFind in whereToSearch; 0 when absent.", "Same.", S,
         'FIND("fox", "quick brown fox") & "/" & FIND("z", "abc")', "13/0", "FIND-position"),
    _row("FIND", "[R] startFromPosition is 0 by default.",
         "Fixed: a start of 0 was a cell error ('Positions start at 1'); 0 now means the start.", FX,
         'FIND("b", "abcb", 0)', 2, "FIND-start-zero"),
    _row("FIND", "[R] Whether startFromPosition counts from 0 or 1 is not stated.",
         "Counted from 1 (FIND(\"b\", \"abcb\", 3) skips the first b).", UN,
         'FIND("b", "abcb", 3)', 4, "FIND-start-position"),
    _row("SEARCH", "[R] Like FIND, but empty when absent.", "Same; ignores case.", S,
         'SEARCH("World", "Hello world")', 7, "SEARCH-position"),
    _row("SEARCH", "[R] If no occurrence is found, the result is empty.", "Same.", S,
         'SEARCH("z", "abc")', None, "SEARCH-absent-is-blank"),
    _row("SEARCH", "[R] startFromPosition is 0 by default.",
         "Fixed: 0 was a cell error; now means the start.", FX,
         'SEARCH("B", "abcb", 0)', 2, "SEARCH-start-zero"),
    _row("LEFT", "[R] Extracts howMany characters from the beginning.", "Same.", S,
         'LEFT("quick brown fox", 5)', "quick", "LEFT-count"),
    _row("LEFT", "[R] LEFT(string, howMany): howMany listed as required.",
         "howMany may be left out (1), as in spreadsheets.", W, 'LEFT("quick")', "q",
         "LEFT-one-argument"),
    _row("RIGHT", "[R] Extracts howMany characters from the end.", "Same.", S,
         'RIGHT("quick brown fox", 3)', "fox", "RIGHT-count"),
    _row("MID", "[R] Extracts count characters starting at whereToStart.", "Same (1-based).", S,
         'MID("quick brown fox", 7, 5)', "brown", "MID-substring"),
    _row("LEN", "[R] Returns the length of a string.", "Same; a blank has length 0.", S,
         'LEN("quick brown fox") + LEN(BLANK())', 15, "LEN-length"),
    _row("LOWER", "[R] Makes a string lowercase.", "Same.", S, 'LOWER("Hello")', "hello", "LOWER-text"),
    _row("UPPER", "[R] Makes a string uppercase.", "Same.", S, 'UPPER("Hello")', "HELLO", "UPPER-text"),
    _row("UPPER", "[R] Not stated for a blank.", "A blank is empty text.", UN,
         'UPPER(BLANK()) & "|"', "|", "UPPER-blank"),
    _row("REPLACE", "[R] Replaces number_of_characters from start_character with the replacement.",
         "Same.", S, 'REPLACE("database", 2, 5, "o")', "dose", "REPLACE-characters"),
    _row("REPT", "[R] Repeats the string the given number of times.", "Same.", S,
         'REPT("Hi! ", 3)', "Hi! Hi! Hi! ", "REPT-times"),
    _row("SUBSTITUTE", "[R] Replaces occurrences of old_text with new_text.", "Same.", S,
         'SUBSTITUTE("gold mold", "old", "et")', "get met", "SUBSTITUTE-all"),
    _row("SUBSTITUTE", "[R] The optional index is listed but not described.",
         "Only the index-th occurrence is replaced.", UN,
         'SUBSTITUTE("gold mold", "old", "et", 2)', "gold met", "SUBSTITUTE-index"),
    _row("T", "[R] Returns the argument if it is text and blank otherwise.", "Same.", S,
         'T("hello") & "/" & T(42)', "hello/", "T-text-or-blank"),
    _row("TRIM", "[R] Removes whitespace at the beginning and end.", "Same; inner spaces stay.", S,
         'TRIM("  a  b  ")', "a  b", "TRIM-ends"),
    _row("REGEX_MATCH", "[R] Whether the input text matches a regular expression.", "Same (RE2).",
         S, 'REGEX_MATCH("Hello World", "Hello.World")', True, "REGEX_MATCH-match"),
    _row("REGEX_EXTRACT", "[R] The first substring that matches a regular expression.", "Same.",
         S, 'REGEX_EXTRACT("Hello World", "W.*")', "World", "REGEX_EXTRACT-first"),
    _row("REGEX_EXTRACT", "[R] Not stated when nothing matches.", "Blank.", UN,
         'REGEX_EXTRACT("Hello", "z")', None, "REGEX_EXTRACT-no-match"),
    _row("REGEX_REPLACE", "[R] Substitutes all matching substrings with a replacement.", "Same.",
         S, 'REGEX_REPLACE("Hello World", " W.*", "")', "Hello", "REGEX_REPLACE-all"),
    _row("REGEX_REPLACE", "[R] Group references in the replacement are not described.",
         "$1, $2 insert the matched groups.", UN,
         'REGEX_REPLACE("Jane Doe", "(\\\\w+) (\\\\w+)", "$2, $1")', "Doe, Jane",
         "REGEX_REPLACE-groups"),
]  # fmt: skip

_DIFF_A = '"2026-03-05T04:07:09.045Z"'
_DIFF_B = '"2025-01-02T00:00:00Z"'


def _unit(long: str, short: str, expected: str) -> AuditRow:
    return _row(
        f'DATETIME_DIFF "{long}" / "{short}"',
        f"[U] '{long}' and its abbreviation '{short}' give the same result.",
        "Same.",
        S,
        f'DATETIME_DIFF({_DIFF_A}, {_DIFF_B}, "{long}") & "/" & '
        f'DATETIME_DIFF({_DIFF_A}, {_DIFF_B}, "{short}")',
        expected,
        f"DATETIME_DIFF-unit-{long}",
    )


DATES = [
    _row("DATEADD", "[R] Adds count units to a datetime (the shared unit specifiers).",
         "Same; a month end stays a month end (moment clamps).", S,
         'DATEADD("2026-01-31", 1, "months")', date(2026, 2, 28), "DATEADD-month-end"),
    _row("DATEADD", "[U][R] Units and abbreviations: ms s m h d w M Q y.", "Same.", S,
         'DATEADD("2026-03-05", 1, "M") & " " & DATEADD("2026-03-05", 1, "Q") & " " & '
         'DATEADD("2026-03-05", 1, "y") & " " & DATEADD("2026-03-05", 1, "w") & " " & '
         'DATEADD("2026-03-05", 1, "d")',
         "2026-04-05 2026-06-05 2027-03-05 2026-03-12 2026-03-06", "DATEADD-abbreviations"),
    _row("DATEADD", "[U][R] 'm' is minutes, 'M' months.", "Same.", S,
         'DATEADD("2026-03-05T04:00:00Z", 90, "m")', datetime(2026, 3, 5, 5, 30, tzinfo=UTC),
         "DATEADD-minutes"),
    _row("DATEADD", "[M] add() rounds a fractional number of days, weeks, months to a whole one.",
         "Fixed: 1.5 days added 36 hours; now 2 days, as moment.", FX,
         'DATEADD("2026-03-05", 1.5, "days")', date(2026, 3, 7), "DATEADD-fractional-days"),
    _row("DATEADD", "[M] Months are rounded too (1.5 months is 2).",
         "Fixed: 1.5 months was 1 month; now 2.", FX,
         'DATEADD("2026-01-31", 1.5, "months")', date(2026, 3, 31), "DATEADD-fractional-months"),
    _row("DATEADD", "[R] Not stated for an unknown unit (moment would add nothing).",
         "A cell error naming the units.", UN,
         'DATEADD("2026-03-05", 1, "fortnights")', CellError("Unknown unit"),
         "DATEADD-unknown-unit"),
    _unit("milliseconds", "ms", "36907629045/36907629045"),
    _unit("seconds", "s", "36907629/36907629"),
    _unit("minutes", "m", "615127/615127"),
    _unit("hours", "h", "10252/10252"),
    _unit("days", "d", "427/427"),
    _unit("weeks", "w", "61/61"),
    _unit("months", "M", "14/14"),
    _unit("quarters", "Q", "4/4"),
    _unit("years", "y", "1/1"),
    _row("DATETIME_DIFF", "[U] With no unit the result is in seconds.", "Same.", S,
         'DATETIME_DIFF("2026-01-01T00:01:30Z", "2026-01-01T00:00:00Z")', 90,
         "DATETIME_DIFF-default-seconds"),
    _row("DATETIME_DIFF", "[U] An unrecognised unit gives milliseconds (the page also says "
         "seconds; moment gives milliseconds).",
         "Fixed: was a cell error; now milliseconds.", FX,
         'DATETIME_DIFF("2026-01-01T00:00:01Z", "2026-01-01T00:00:00Z", "fortnights")', 1000,
         "DATETIME_DIFF-unknown-unit"),
    _row("DATETIME_DIFF", "[R] date1 minus date2: negative when date2 is later.", "Same.", S,
         'DATETIME_DIFF("2026-01-01", "2026-03-01", "days")', -59, "DATETIME_DIFF-negative"),
    _row("DATETIME_DIFF", "[M] Whole units, truncated toward zero.", "Same.", S,
         'DATETIME_DIFF("2026-01-01T00:00:00Z", "2026-01-01T01:59:00Z", "hours")', -1,
         "DATETIME_DIFF-truncates"),
    _row("DATETIME_DIFF", "[M] Months are counted as moment's monthDiff (month end to month end is "
         "a whole month, either way round).",
         "Fixed: Jan 31 minus Feb 28 gave 0 months; now -1, as moment.", FX,
         'DATETIME_DIFF("2026-01-31", "2026-02-28", "months")', -1,
         "DATETIME_DIFF-month-ends"),
    _row("DATETIME_DIFF", "[R] Not stated for a blank date.", "A cell error.", UN,
         'DATETIME_DIFF(BLANK(), "2026-01-01")', CellError("Expected a date"),
         "DATETIME_DIFF-blank"),
    _row("DATETIME_FORMAT", "[R] Formats a datetime into a specified string.", "Same.", S,
         'DATETIME_FORMAT("10/22/2003", "M")', "10", "DATETIME_FORMAT-reference-example"),
    _row("DATETIME_FORMAT", "[R] The format is optional; the default is not stated.",
         "ISO 8601 in UTC with milliseconds.", UN, f"DATETIME_FORMAT({_TS})",
         "2026-03-05T04:07:09.045Z", "DATETIME_FORMAT-default-format"),
    _row("DATETIME_FORMAT", "[R] Not stated for a blank date.", "A cell error.", UN,
         'DATETIME_FORMAT(BLANK(), "YYYY")', CellError("Expected a date"),
         "DATETIME_FORMAT-blank"),
    _row("DATETIME_FORMAT", "[F] 'w' is the locale week, 'W' the ISO week: 2/11/21 is in ISO week 6 "
         "and Gregorian week 7.", "Added: w and W were not supported.", AD, 'DATETIME_FORMAT("2021-02-11", "w W")', "7 6",
         "DATETIME_FORMAT-w-versus-W"),
    _row("DATETIME_FORMAT", "[M] Week-years: gggg follows w, GGGG follows W.", "Added.", AD,
         'DATETIME_FORMAT("2027-01-01", "gggg-[w]w GGGG-[W]W")', "2027-w1 2026-W53",
         "DATETIME_FORMAT-week-years"),
    _row("DATETIME_FORMAT", "[M] k and kk count hours 1 to 24.", "Added.", AD,
         'DATETIME_FORMAT("2026-03-05T00:30:00Z", "k:mm h A")', "24:30 12 AM",
         "DATETIME_FORMAT-midnight"),
    _row("DATETIME_FORMAT", "[M] [text] is written as it is; other letters that are no token too.",
         "Same.", S, f'DATETIME_FORMAT({_TS}, "[Day] D [of] YYYY, YYYY-MM-DDTHH:mm")',
         "Day 5 of 2026, 2026-03-05T04:07", "DATETIME_FORMAT-escaped-text"),
    _row("DATETIME_FORMAT", "[M] A backslash makes the token after it literal.", "Added.", AD,
         f'DATETIME_FORMAT({_TS}, "\\\\YYYY \\\\D")', "YYYY D", "DATETIME_FORMAT-backslash"),
    _row("DATETIME_FORMAT", "[M] Names come from English unless SET_LOCALE chose a locale.",
         "Same; the names now come from fixed tables, not the server's C library locale.", S,
         f'DATETIME_FORMAT({_TS}, "dddd MMMM")', "Thursday March", "DATETIME_FORMAT-english-names"),
    _token("YYYY", "4-digit year", "2026", "YYYY"),
    _token("YY", "2-digit year", "26", "YY"),
    _token("Y", "year with any number of digits", "2026", "Y", AD),
    _token("M", "month 1-12", "3", "M"),
    _token("MM", "month 01-12", "03", "MM"),
    _token("MMM", "month, 3-letter abbreviation", "Mar", "MMM"),
    _token("MMMM", "month name", "March", "MMMM"),
    _token("Mo", "month, ordinal 1st-12th", "3rd", "Mo", AD),
    _token("Q", "quarter 1-4", "1", "Q"),
    _token("Qo", "quarter, ordinal", "1st", "Qo", AD),
    _token("D", "day of month 1-31", "5", "D"),
    _token("DD", "day of month 01-31", "05", "DD"),
    _token("Do", "day of month, ordinal", "5th", "Do"),
    _token("DDD", "day of year 1-366", "64", "DDD"),
    _token("DDDD", "day of year 001-366", "064", "DDDD"),
    _token("DDDo", "day of year, ordinal", "64th", "DDDo", AD),
    _token("d", "day of week 0-6 (Sunday 0)", "4", "d"),
    _token("do", "day of week, ordinal", "4th", "do", AD),
    _token("dd", "day name, 2 letters", "Th", "dd"),
    _token("ddd", "day name, 3 letters", "Thu", "ddd"),
    _token("dddd", "day name", "Thursday", "dddd"),
    _token("e", "day of week of the locale (0 = its first day)", "4", "e", AD),
    _token("E", "ISO day of week 1-7 (Monday 1)", "4", "E", AD),
    _token("w", "week of year (locale)", "10", "w", AD),
    _token("wo", "week of year, ordinal", "10th", "wo", AD),
    _token("ww", "week of year 01-53", "10", "ww", AD),
    _token("W", "ISO week of year", "10", "W", AD),
    _token("Wo", "ISO week of year, ordinal", "10th", "Wo", AD),
    _token("WW", "ISO week of year 01-53", "10", "WW", AD),
    _token("gggg", "week-year (locale)", "2026", "gggg", AD),
    _token("GGGG", "ISO week-year", "2026", "GGGG", AD),
    _token("A", "AM/PM", "AM", "A"),
    _token("a", "am/pm", "am", "a"),
    _token("H", "hour 0-23", "4", "H"),
    _token("HH", "hour 00-23", "04", "HH"),
    _token("h", "hour 1-12", "4", "h"),
    _token("hh", "hour 01-12", "04", "hh"),
    _token("k", "hour 1-24", "4", "k", AD),
    _token("kk", "hour 01-24", "04", "kk", AD),
    _token("m", "minute 0-59", "7", "m"),
    _token("mm", "minute 00-59", "07", "mm"),
    _token("s", "second 0-59", "9", "s"),
    _token("ss", "second 00-59", "09", "ss"),
    _token("S", "tenths of a second", "0", "S", AD),
    _token("SS", "hundredths of a second", "04", "SS", AD),
    _token("SSS", "milliseconds", "045", "SSS"),
    _token("SSSS", "fractional seconds, 4 digits (moment keeps milliseconds)", "0450", "SSSS", AD),
    _token("Z", "offset from UTC, +07:00", "+00:00", "Z"),
    _token("ZZ", "offset from UTC, +0700", "+0000", "ZZ"),
    _token("X", "Unix timestamp in seconds", "1772683629", "X"),
    _token("x", "Unix timestamp in milliseconds", "1772683629045", "x"),
    _token("LT", "localized time", "4:07 AM", "LT"),
    _token("LTS", "localized time with seconds", "4:07:09 AM", "LTS", AD),
    _token("L", "localized date, MM/DD/YYYY", "03/05/2026", "L"),
    _token("l", "localized date, M/D/YYYY", "3/5/2026", "l", AD),
    _token("LL", "localized date, month name", "March 5, 2026", "LL"),
    _token("ll", "localized date, short month name", "Mar 5, 2026", "ll", AD),
    _token("LLL", "localized date and time", "March 5, 2026 4:07 AM", "LLL"),
    _token("lll", "localized date and time, short", "Mar 5, 2026 4:07 AM", "lll", AD),
    _token("LLLL", "localized date and time with weekday", "Thursday, March 5, 2026 4:07 AM", "LLLL"),
    _token("llll", "localized date and time with weekday, short", "Thu, Mar 5, 2026 4:07 AM",
           "llll", AD),
    _row("DATETIME_FORMAT `z`", "[M] Time zone abbreviation (moment-timezone); not in Airtable's list.",
         "The zone's abbreviation.", UN,
         'DATETIME_FORMAT(SET_TIMEZONE("2026-03-05T12:00:00Z", "America/New_York"), "z")', "EST",
         "format-z"),
    _row("DATETIME_PARSE", "[R] Interprets text as a date, with an optional input format and "
         "locale.", "Same; ISO and common forms without a format.", S,
         'DATETIME_PARSE("2026-03-05")', date(2026, 3, 5), "DATETIME_PARSE-no-format"),
    _row("DATETIME_PARSE", "[R] The output is always shown 'M/D/YYYY h:mm a'.",
         "The result is a date value; its display is the field's (or DATETIME_FORMAT's).", DF,
         'DATETIME_FORMAT(DATETIME_PARSE("4 Mar 2017 23:00", "D MMM YYYY HH:mm"), "M/D/YYYY h:mm a")',
         "3/4/2017 11:00 pm", "DATETIME_PARSE-display"),
    _row("DATETIME_PARSE", "[R] DATETIME_PARSE(date, [input_format], [locale]): at most three.",
         "Same.", S, 'DATETIME_PARSE("5/3/2026", "D/M/YYYY", "en", 1)',
         Refused("DATETIME_PARSE expects 1 to 3 arguments, got 4"), "DATETIME_PARSE-most-arguments"),
    _row("DATETIME_PARSE", "[F][M] Input formats use moment's tokens.", "Same.", S,
         'DATETIME_PARSE("05/03/2026", "DD/MM/YYYY")', date(2026, 3, 5), "DATETIME_PARSE-format"),
    _row("DATETIME_PARSE", "[M] Forgiving mode: separators need not match the format.",
         "Fixed: the text had to match the separators exactly; now as moment.", FX,
         'DATETIME_PARSE("05-03-2026", "DD/MM/YYYY")', date(2026, 3, 5),
         "DATETIME_PARSE-separators"),
    _row("DATETIME_PARSE", "[M] MMM and MMMM read both long and short month names.",
         "Fixed: MMM read only short names.", FX,
         'DATETIME_PARSE("5 March 2026", "D MMM YYYY")', date(2026, 3, 5),
         "DATETIME_PARSE-month-names"),
    _row("DATETIME_PARSE", "[M] Do reads a day with or without its ordinal suffix.", "Same.", S,
         'DATETIME_PARSE("March 5th, 2026", "MMMM Do, YYYY")', date(2026, 3, 5),
         "DATETIME_PARSE-ordinal-day"),
    _row("DATETIME_PARSE", "[M] YY: 68 and below are 20xx, 69 and above 19xx.", "Same.", S,
         'DATETIME_PARSE("05/03/68", "DD/MM/YY") & " " & DATETIME_PARSE("05/03/69", "DD/MM/YY")',
         "2068-03-05 1969-03-05", "DATETIME_PARSE-two-digit-year"),
    _row("DATETIME_PARSE", "[M] YYYY also reads a 2-digit year (forgiving mode).",
         "Fixed: refused; now 2026.", FX,
         'DATETIME_PARSE("5/3/26", "D/M/YYYY")', date(2026, 3, 5), "DATETIME_PARSE-YYYY-two-digits"),
    _row("DATETIME_PARSE", "[M] h and a/A: 12-hour clock with am/pm.", "Same.", S,
         'DATETIME_PARSE("2026-03-05 4:07 pm", "YYYY-MM-DD h:mm a")',
         datetime(2026, 3, 5, 16, 7, tzinfo=UTC), "DATETIME_PARSE-12-hour"),
    _row("DATETIME_PARSE", "[M] HH of 24 with zero minutes is the next day's midnight.",
         "Fixed: was refused.", FX,
         'DATETIME_PARSE("2026-03-05 24:00", "YYYY-MM-DD HH:mm")',
         datetime(2026, 3, 6, tzinfo=UTC), "DATETIME_PARSE-hour-24"),
    _row("DATETIME_PARSE", "[M] SSS reads milliseconds.", "Same.", S,
         'DATETIME_PARSE("2026-03-05 04:07:09.045", "YYYY-MM-DD HH:mm:ss.SSS")', _T,
         "DATETIME_PARSE-milliseconds"),
    _row("DATETIME_PARSE", "[M] Z reads an offset; the moment is kept, shown in UTC.", "Same.", S,
         'DATETIME_PARSE("2026-03-05T04:07:09+01:00", "YYYY-MM-DDTHH:mm:ssZ")',
         datetime(2026, 3, 5, 3, 7, 9, tzinfo=UTC), "DATETIME_PARSE-offset"),
    _row("DATETIME_PARSE", "[M] X reads a Unix timestamp in seconds (x in milliseconds).",
         "Added.", AD, 'DATETIME_PARSE("1772683629", "X")',
         datetime(2026, 3, 5, 4, 7, 9, tzinfo=UTC), "DATETIME_PARSE-unix"),
    _row("DATETIME_PARSE", "[M] Q sets the first month of the quarter.", "Added.", AD,
         'DATETIME_PARSE("Q2 2026", "[Q]Q YYYY")', date(2026, 4, 1), "DATETIME_PARSE-quarter"),
    _row("DATETIME_PARSE", "[M] DDDD reads the day of the year.", "Added.", AD,
         'DATETIME_PARSE("2026-064", "YYYY-DDDD")', date(2026, 3, 5), "DATETIME_PARSE-day-of-year"),
    _row("DATETIME_PARSE", "[M] GGGG, W and E read an ISO week date.", "Added.", AD,
         'DATETIME_PARSE("2026-W10-4", "GGGG-[W]WW-E")', date(2026, 3, 5),
         "DATETIME_PARSE-iso-week"),
    _row("DATETIME_PARSE", "[M] gggg, w and d read a week date of the locale.", "Added.", AD,
         'DATETIME_PARSE("2026 10 4", "gggg w d")', date(2026, 3, 5),
         "DATETIME_PARSE-locale-week"),
    _row("DATETIME_PARSE", "[M] A weekday name that disagrees with the date makes it invalid.",
         "Fixed: the weekday was ignored; now a cell error.", FX,
         'DATETIME_PARSE("Friday, March 5, 2026", "dddd, MMMM D, YYYY")',
         CellError("names a weekday"), "DATETIME_PARSE-weekday-mismatch"),
    _row("DATETIME_PARSE", "[M] Localized formats (LLL ...) are read as their patterns.",
         "Added.", AD, 'DATETIME_PARSE("March 5, 2026 4:07 PM", "LLL")',
         datetime(2026, 3, 5, 16, 7, tzinfo=UTC), "DATETIME_PARSE-localized"),
    _row("DATETIME_PARSE", "[M] [text] in the format is skipped over in the input.", "Same.", S,
         'DATETIME_PARSE("Day 5 of March 2026", "[Day] D [of] MMMM YYYY")', date(2026, 3, 5),
         "DATETIME_PARSE-escaped-text"),
    _row("DATETIME_PARSE", "[R] The third argument is a locale.",
         "Fixed: the locale was ignored; now its month and day names are read.", FX,
         'DATETIME_PARSE("5 mars 2026", "D MMMM YYYY", "fr")', date(2026, 3, 5),
         "DATETIME_PARSE-locale"),
    _row("DATETIME_PARSE", "[L] About 130 locale modifiers (moment silently uses English for one "
         "it lacks).", "13 locales (en, en-gb, en-au, en-ca, en-nz, en-ie, fr, de, es, it, nl, pt, "
         "pt-br); any other is a cell error that lists them.", DF,
         'DATETIME_PARSE("5 marzo 2026", "D MMMM YYYY", "ca")', CellError("Unknown locale"),
         "DATETIME_PARSE-unsupported-locale"),
    _row("DATETIME_PARSE", "[M] Out-of-range parts (February 31) make the date invalid.", "Same.",
         S, 'DATETIME_PARSE("31/02/2026", "DD/MM/YYYY")', CellError("not a valid date"),
         "DATETIME_PARSE-overflow"),
    _row("DATETIME_PARSE", "[M] Invalid when no token of the format is found.", "Same.", S,
         'DATETIME_PARSE("soon", "DD/MM/YYYY")', CellError("does not match the format"),
         "DATETIME_PARSE-no-match"),
    _row("DATETIME_PARSE", "[M] moment takes a missing year from today.",
         "A cell error asking for YYYY (it was year 1900): a stored value must not change with "
         "the calendar.", DF,
         'DATETIME_PARSE("05/03", "DD/MM")', CellError("gives no year"),
         "DATETIME_PARSE-missing-year"),
    _row("DATETIME_PARSE", "[R] No length limit is stated.",
         "At most 1,000 characters of text and a 200-character format, so one value stays "
         "within a cell's time budget.", DF,
         'DATETIME_PARSE(REPT("1", 1001), "YYYY")', CellError("reads at most 1,000 characters"),
         "DATETIME_PARSE-length-cap"),
    _parse("M D", "2026 3 5", "YYYY M D", date(2026, 3, 5), "M-D"),
    _parse("Y", "2026-03-05", "Y-MM-DD", date(2026, 3, 5), "Y", AD),
    _parse("MMM", "Mar 5 2026", "MMM D YYYY", date(2026, 3, 5), "MMM"),
    _parse("ddd", "Thu, 5 Mar 2026", "ddd, D MMM YYYY", date(2026, 3, 5), "ddd"),
    _parse("H m s", "2026-03-05 4:7:9", "YYYY-MM-DD H:m:s",
           datetime(2026, 3, 5, 4, 7, 9, tzinfo=UTC), "H-m-s"),
    _parse("kk", "2026-03-05 24:30", "YYYY-MM-DD kk:mm",
           datetime(2026, 3, 5, 0, 30, tzinfo=UTC), "kk", AD),
    _parse("A", "2026-03-05 4:07 PM", "YYYY-MM-DD h:mm A",
           datetime(2026, 3, 5, 16, 7, tzinfo=UTC), "A"),
    _parse("hh a", "2026-03-05 12:30 am", "YYYY-MM-DD hh:mm a",
           datetime(2026, 3, 5, 0, 30, tzinfo=UTC), "hh-a"),
    _parse("S", "2026-03-05 04:07:09.5", "YYYY-MM-DD HH:mm:ss.S",
           datetime(2026, 3, 5, 4, 7, 9, 500000, tzinfo=UTC), "S", AD),
    _parse("SS", "2026-03-05 04:07:09.04", "YYYY-MM-DD HH:mm:ss.SS",
           datetime(2026, 3, 5, 4, 7, 9, 40000, tzinfo=UTC), "SS", AD),
    _parse("ZZ", "2026-03-05 04:07 -0500", "YYYY-MM-DD HH:mm ZZ",
           datetime(2026, 3, 5, 9, 7, tzinfo=UTC), "ZZ"),
    _parse("x", "1772683629045", "x", _T, "x", AD),
    _parse("e", "2026 10 4", "gggg w e", date(2026, 3, 5), "e", AD),
    _parse("WW", "2026-W10", "GGGG-[W]WW", date(2026, 3, 2), "WW", AD),
    _parse("l", "3/5/2026", "l", date(2026, 3, 5), "l", AD),
    _parse("LL", "March 5, 2026", "LL", date(2026, 3, 5), "LL", AD),
    _parse("LTS", "2026-03-05 4:07:09 PM", "YYYY-MM-DD LTS",
           datetime(2026, 3, 5, 16, 7, 9, tzinfo=UTC), "LTS", AD),
    _row("DATESTR", "[R] Formats a datetime as YYYY-MM-DD.", "Same.", S,
         'DATESTR("2026-03-05T23:30:00Z")', "2026-03-05", "DATESTR-day"),
    _row("TIMESTR", "[R] Formats a datetime as a time-only string (HH:mm:ss).",
         "Added: TIMESTR was missing.", AD, 'TIMESTR("2026-03-05T04:07:09Z")', "04:07:09",
         "TIMESTR-time"),
    _row("YEAR", "[R] The four-digit year of a datetime.", "Same.", S, f"YEAR({_TS})", 2026,
         "YEAR-year"),
    _row("MONTH", "[R] The month, 1 (January) to 12 (December).", "Same.", S, f"MONTH({_TS})", 3,
         "MONTH-month"),
    _row("DAY", "[R] The day of the month, 1-31.", "Same.", S, f"DAY({_TS})", 5, "DAY-day"),
    _row("HOUR", "[R] The hour, 0 (12:00am) to 23 (11:00pm).", "Same.", S, f"HOUR({_TS})", 4,
         "HOUR-hour"),
    _row("MINUTE", "[R] The minute, 0-59.", "Same.", S, f"MINUTE({_TS})", 7, "MINUTE-minute"),
    _row("SECOND", "[R] The second, 0-59.", "Same.", S, f"SECOND({_TS})", 9, "SECOND-second"),
    _row("WEEKDAY", "[R] Day of the week, 0 (Sunday) to 6 (Saturday).", "Same.", S,
         'WEEKDAY("2026-03-08") & "/" & WEEKDAY("2026-03-05")', "0/4", "WEEKDAY-sunday-start"),
    _row("WEEKDAY", "[R] An optional \"Sunday\" or \"Monday\" starts weeks on that day.", "Same.",
         S, 'WEEKDAY("2026-03-05", "Monday")', 3, "WEEKDAY-monday-start"),
    _row("WEEKNUM", "[R] The week number in a year; optional \"Sunday\" or \"Monday\" start.",
         "Same; the week holding January 1 is week 1.", S,
         'WEEKNUM("2026-01-04") & "/" & WEEKNUM("2026-01-04", "Monday")', "2/1",
         "WEEKNUM-start-day"),
    _row("WEEKNUM", "[R] Weeks at the year's end are not described.",
         "December 31 is in week 53 or 54 of its own year (spreadsheet rule), not week 1.", UN,
         'WEEKNUM("2026-12-31")', 53, "WEEKNUM-year-end"),
    _row("WORKDAY", "[R] The date numDays working days after startDate; weekends and holidays "
         "(comma-separated ISO dates) are skipped.", "Same.", S,
         'WORKDAY("2026-03-06", 1) & " " & WORKDAY("2026-03-06", 1, "2026-03-09, 2026-03-10")',
         "2026-03-09 2026-03-11", "WORKDAY-holidays"),
    _row("WORKDAY", "[R] A negative numDays is not described.", "Counts backwards.", UN,
         'WORKDAY("2026-03-09", -1)', date(2026, 3, 6), "WORKDAY-negative"),
    _row("WORKDAY_DIFF", "[R] Working days between startDate and endDate, holidays excluded.",
         "Same.", S, 'WORKDAY_DIFF("2026-03-02", "2026-03-06", "2026-03-04")', 4,
         "WORKDAY_DIFF-holidays"),
    _row("WORKDAY_DIFF", "[R] Whether both ends count is not stated.",
         "Both ends count (Monday to Friday is 5), as in spreadsheets.", UN,
         'WORKDAY_DIFF("2026-03-02", "2026-03-06")', 5, "WORKDAY_DIFF-inclusive"),
    _row("IS_AFTER", "[R] Whether date1 is later than date2: 1 if yes, 0 if no.",
         "Same: TRUE/FALSE, which are 1 and 0 in arithmetic.", S,
         'IS_AFTER("2026-03-06", "2026-03-05") + 0', 1, "IS_AFTER-later"),
    _row("IS_BEFORE", "[R] Whether date1 is earlier than date2: 1 if yes, 0 if no.", "Same.", S,
         'IS_BEFORE("2026-03-06", "2026-03-05") + 0', 0, "IS_BEFORE-earlier"),
    _row("IS_SAME", "[R] Compares two dates up to a unit.", "Same.", S,
         'IS_SAME("2026-03-01", "2026-03-31", "month")', True, "IS_SAME-month"),
    _row("IS_SAME", "[M] A week starts on the locale's first day (Sunday in English).",
         "Fixed: weeks started on Monday (ISO); now Sunday, as moment's English locale.", FX,
         'IS_SAME("2026-03-08", "2026-03-14", "week") & "/" & '
         'IS_SAME("2026-03-07", "2026-03-08", "week")', "1/0", "IS_SAME-week"),
    _row("IS_SAME", "[U] Units take their abbreviations.", "Same.", S,
         'IS_SAME("2026-03-05T04:00:00Z", "2026-03-05T04:59:00Z", "h")', True,
         "IS_SAME-abbreviation"),
    _row("IS_SAME", "[R] IS_SAME(date1, date2, unit): unit listed as required.",
         "The unit may be left out: the moments must be equal.", W,
         'IS_SAME("2026-03-05", "2026-03-05T00:00:00Z")', True, "IS_SAME-no-unit"),
    _row("SET_TIMEZONE", "[R] Sets a timezone for a datetime, for DATETIME_FORMAT.", "Same.", S,
         f'DATETIME_FORMAT(SET_TIMEZONE({_TS}, "America/New_York"), "YYYY-MM-DD HH:mm Z")',
         "2026-03-04 23:07 -05:00", "SET_TIMEZONE-format"),
    _row("SET_TIMEZONE", "[R] Not stated for an unknown zone.", "A cell error.", UN,
         f'SET_TIMEZONE({_TS}, "Mars/Olympus")', CellError("Unknown time zone"),
         "SET_TIMEZONE-unknown"),
    _row("SET_LOCALE", "[R][L] Sets a locale for a datetime, for DATETIME_FORMAT; long formats "
         "follow the locale ('en-gb': 'D MMMM YYYY HH:mm').",
         "Added: SET_LOCALE was missing.", AD,
         'DATETIME_FORMAT(SET_LOCALE("2026-03-05T16:07:00Z", "en-gb"), "LLL")',
         "5 March 2026 16:07", "SET_LOCALE-long-format"),
    _row("SET_LOCALE", "[L] Month and weekday names follow the locale ('es': Wednesday => "
         "Miércoles).", "Added; moment's Spanish names are lower case.", AD,
         'DATETIME_FORMAT(SET_LOCALE("2026-03-04", "es"), "dddd D [de] MMMM")',
         "miércoles 4 de marzo", "SET_LOCALE-names"),
    _row("SET_LOCALE", "[M] Ordinals follow the locale.", "Added.", AD,
         'DATETIME_FORMAT(SET_LOCALE("2026-03-01", "fr"), "dddd Do MMMM YYYY")',
         "dimanche 1er mars 2026", "SET_LOCALE-ordinal"),
    _row("SET_LOCALE", "[R] Not stated how it combines with SET_TIMEZONE.",
         "Each keeps the other: zone and locale both apply.", UN,
         'DATETIME_FORMAT(SET_TIMEZONE(SET_LOCALE("2026-03-05T23:30:00Z", "de"), "Europe/Berlin"), '
         '"LLLL")', "Freitag, 6. März 2026 00:30", "SET_LOCALE-with-timezone"),
    _row("SET_LOCALE", "[L] Other digits (ar) and right-to-left scripts (he) among ~130 locales.",
         "Only the 13 locales listed for DATETIME_PARSE; others are a cell error.", DF,
         'SET_LOCALE("2026-03-05", "ar")', CellError("Unknown locale"), "SET_LOCALE-unsupported"),
    _row("TODAY", "[R] The current date; formatted with a time it shows 12:00am.",
         "Same (from the formula's clock).", S,
         'DATETIME_FORMAT(TODAY(), "YYYY-MM-DD h:mma")', "2026-11-25 12:00am", "TODAY-date"),
    _row("NOW", "[R] The current date and time.", "Same (from the formula's clock).", S,
         "NOW()", NOW, "NOW-moment"),
    _row("TONOW", "[R] The number of days between the current date and another date.", "Same.", S,
         'TONOW("2026-11-20")', 5, "TONOW-days"),
    _row("FROMNOW", "[R] The number of days between the current date and another date.", "Same.",
         S, 'FROMNOW("2026-11-30")', 5, "FROMNOW-days"),
]  # fmt: skip

ARRAYS = [
    _row("ARRAYCOMPACT", "[A] Removes empty strings and null values; keeps false and strings of "
         "blanks.", "Same.", S, "ARRAYCOMPACT({values})", [1, False, " ", 5],
         "ARRAYCOMPACT-keeps-false", {"values": [1, "", None, False, " ", 5]}),
    _row("ARRAYFLATTEN", "[A] Removes any nesting (the page's example also drops an empty text: "
         "[[1, 2, \"\", 3], [false]] => [1, 2, 3, false]).",
         "Removes nesting only and keeps the empty text, as the description says; "
         "ARRAYCOMPACT drops it.", DF, "ARRAYFLATTEN({values})", [1, 2, "", 3, False],
         "ARRAYFLATTEN-nesting", {"values": [[1, 2, "", 3], [False]]}),
    _row("ARRAYJOIN", "[A] Joins the items into text with a separator.", "Same.", S,
         'ARRAYJOIN({values}, "; ")', "1; 2; 3", "ARRAYJOIN-separator", {"values": [1, 2, 3]}),
    _row("ARRAYJOIN", "[A] The default separator is not stated.", "\", \".", UN,
         "ARRAYJOIN({values})", "1, 2, 3", "ARRAYJOIN-default-separator", {"values": [1, 2, 3]}),
    _row("ARRAYUNIQUE", "[A] Returns only the unique items.", "Same; first occurrences kept.", S,
         "ARRAYUNIQUE({values})", [1, 2, 3], "ARRAYUNIQUE-unique",
         {"values": [1, 2, 3, 3, 2, 1]}),
    _row("ARRAYSLICE", "[A] Items from a start index (1 is the first) to an optional end index: "
         "ARRAYSLICE(values, 2, 3) => [\"B\", \"C\"] for [\"A\", \"B\", \"C\", \"D\"].",
         "Added: ARRAYSLICE was missing.", AD, "ARRAYSLICE({values}, 2, 3)", ["B", "C"],
         "ARRAYSLICE-start-end", {"values": ["A", "B", "C", "D"]}),
    _row("ARRAYSLICE", "[A] Negative numbers count from the end.", "Added; -1 is the last item.",
         AD, "ARRAYSLICE({values}, -2)", ["C", "D"], "ARRAYSLICE-negative-start",
         {"values": ["A", "B", "C", "D"]}),
    _row("ARRAYSLICE", "[A] A negative end is not illustrated.",
         "Counted from the end and included (-2 stops at the last but one).", UN,
         "ARRAYSLICE({values}, 1, -2)", ["A", "B", "C"], "ARRAYSLICE-negative-end",
         {"values": ["A", "B", "C", "D"]}),
]  # fmt: skip

RECORD_FUNCTIONS = [
    _row("RECORD_ID", "[R] Returns the ID of the current record.", "Same.", S,
         '"ID " & RECORD_ID()', "ID rec42", "RECORD_ID-id"),
    _row("CREATED_TIME", "[R] The date and time the record was created.", "Same.", S,
         "CREATED_TIME()", datetime(2026, 1, 2, 3, 4, tzinfo=UTC), "CREATED_TIME-time"),
    _row("LAST_MODIFIED_TIME", "[R] The most recent change to the record, or to the given fields.",
         "Same.", S, 'LAST_MODIFIED_TIME() & " " & LAST_MODIFIED_TIME({Status})',
         "2026-06-01T00:00:00.000Z 2026-03-01T00:00:00.000Z", "LAST_MODIFIED_TIME-fields",
         {"Status": "Committed"}),
]  # fmt: skip

FIELD_REFERENCES = [
    _row("{Field Name}", "[R] Field names with several words are wrapped in curly braces.",
         "Same.", S, "MIN({Regular Price}, {Sale Price})", 8, "field-braces",
         {"Regular Price": 10, "Sale Price": 8}),
    _row("Bare names", "[R] A field can be referenced by its name alone: Price * Quantity.",
         "Same, for names that are one word of letters, digits and _.", S,
         "Price * Quantity", 6, "field-bare-name", {"Price": 2, "Quantity": 3}),
    _row("Bare names", "[R] Multi-word names must be wrapped in braces.",
         "Same: refused; the message now suggests {Sale Price}.", S, "Sale Price * 2",
         Refused("a field name with spaces needs braces, like {Sale Price}"), "field-bare-name-with-space",
         {"Sale Price": 8}),
    _row("Case", "[R2] Field names are case-sensitive: {start date} is not {Start Date}.",
         "An exact name wins; a name differing only in case from exactly one field names that "
         "field (formulas saved before exact matching keep working).", W,
         "{start date}", date(2026, 3, 5), "field-case-wider",
         {"Start Date": date(2026, 3, 5)}),
    _row("Case", "[R2] Two fields whose names differ only in case are two fields.",
         "Same: each exact name reads its own field; a third spelling is refused as ambiguous.",
         S, "{Stage} & {STAGE}", "ab", "field-case-exact-wins", {"Stage": "a", "STAGE": "b"}),
    _row("Spaces", "[R2] Names must match exactly, including spaces: {StartDate} won't work.",
         "Fixed: spaces inside the braces were trimmed; now refused with a suggestion.", FX,
         "{ Start Date }", Refused("did you mean {Start Date}"), "field-spaces-exact",
         {"Start Date": date(2026, 3, 5)}),
    _row("Function names", "[R] Written in capitals; whether other cases work is not stated.",
         "Any case: round(...) is ROUND(...).", UN, "round(2.5, 0)", 3,
         "function-names-any-case"),
]  # fmt: skip

AUDIT: list[AuditRow] = [
    *LOGICAL,
    *NUMERIC,
    *TEXT,
    *DATES,
    *ARRAYS,
    *RECORD_FUNCTIONS,
    *FIELD_REFERENCES,
]

#: Every function in Airtable's reference (the function list of [R] plus the array functions of
#: [A]); each must be registered here and have at least one row above.
AIRTABLE_FUNCTIONS: tuple[str, ...] = tuple(
    sorted(
        re.findall(
            r"\w+",
            """
            ABS AND ARRAYCOMPACT ARRAYFLATTEN ARRAYJOIN ARRAYSLICE ARRAYUNIQUE AVERAGE BLANK CEILING
            CONCATENATE COUNT COUNTA COUNTALL CREATED_TIME DATEADD DATESTR DATETIME_DIFF
            DATETIME_FORMAT DATETIME_PARSE DAY ENCODE_URL_COMPONENT ERROR EVEN EXP FALSE FIND FLOOR
            FROMNOW HOUR IF INT ISERROR IS_AFTER IS_BEFORE IS_SAME LAST_MODIFIED_TIME LEFT LEN LOG
            LOWER MAX MID MIN MINUTE MOD MONTH NOT NOW ODD OR POWER RECORD_ID REGEX_EXTRACT
            REGEX_MATCH REGEX_REPLACE REPLACE REPT RIGHT ROUND ROUNDDOWN ROUNDUP SEARCH SECOND
            SET_LOCALE SET_TIMEZONE SQRT SUBSTITUTE SUM SWITCH T TIMESTR TODAY TONOW TRIM TRUE UPPER
            VALUE WEEKDAY WEEKNUM WORKDAY WORKDAY_DIFF XOR YEAR
            """,
        )
    )
)


def function_of(row: AuditRow) -> str:
    """The function a row audits ("DATETIME_FORMAT `Do`" → "DATETIME_FORMAT"), or ""."""
    head = row.topic.split(" ")[0]
    return head if head.replace("_", "").isalnum() and head.isupper() else ""
