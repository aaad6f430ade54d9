"""The formula reference (``docs/formulas.md``), generated from the registry so it cannot drift.

    python -m crm_lib.formulas.reference > docs/formulas.md

``tests/test_docs.py`` fails when the committed file differs from what this prints.
"""

from __future__ import annotations

from datetime import date, datetime

from crm_lib.formulas.audit import AUDIT, NOW, RECORD, SOURCES, CellError, Refused, Verdict
from crm_lib.formulas.functions.operators import OPERATORS
from crm_lib.formulas.registry import all_functions

CATEGORY_TITLES = {
    "logical": "Logical",
    "numeric": "Numeric",
    "text": "Text",
    "dates": "Dates",
    "arrays": "Arrays",
    "record": "Record",
}

INTRODUCTION = """\
# Formula reference

Formula fields use Airtable's language: paste a formula from Airtable and it gives Airtable's result.
This page is generated from the function registry (`python -m crm_lib.formulas.reference`); every
example on it is run by the tests.

## The language
- Field references: `{Field Name}`, or the bare name when it has no spaces (`Status`). As in
  Airtable, a name must match exactly, case and spaces included: `{status}` is refused with
  "did you mean {Status}?".
- Literals: numbers (`1`, `0.02`, `1e6`), text in double or single quotes (`"LP"`, `'days'`, with
  `\\"` `\\'` `\\n` escapes), `TRUE` and `FALSE`.
- Operators, loosest first: comparisons `= != <> < > <= >=`, then `&` (joins text), then `+ -`,
  then `* /`, then unary minus. Parentheses group.
- Function names are case-insensitive: `round(...)` is `ROUND(...)`.

## Values and blanks
- A blank number is 0 in arithmetic; a blank text is "" when joining; `BLANK() = 0` and
  `BLANK() = ""` are both true. Empty text and an empty list count as blank.
- Text that reads as a number (`"1,200"`, `"$5"`, `"12%"`) works in arithmetic and compares with
  numbers as that number; `+` joins instead of adding when either side is text.
- TRUE and FALSE are 1 and 0 in arithmetic and print as `1` and `0`.
- Dates are days or moments (UTC unless `SET_TIMEZONE` moved them); they compare by time, and a day
  counts as its midnight. Use `DATEADD` and `DATETIME_DIFF` for date arithmetic; `{Date} + 1` is
  refused when the field is a date.
- Arrays (multi-select, linked values) print joined with ", "; `SUM`, `AND`, `COUNT` and friends
  look inside them.

## Errors
- A formula that cannot work is refused when saved, with the reason and the character offset
  (counted from 0): `Unknown field {Comitted} at 6 — did you mean {Committed}?`,
  `IF expects 2 or 3 arguments, got 4 at 0`, `YEAR expects a date for date, got a number at 5`.
- A value that cannot be computed for one record (`1 / 0`, `YEAR("soon")`) shows `#ERROR` with the
  reason in that cell only; `ISERROR` and `IFERROR` catch it.

## Limits
A formula is at most 10,000 characters and 64 levels deep; any text it builds is at most 100,000
characters; a regular expression is at most 1,000 characters and runs on RE2 (linear time, Airtable's
syntax; `$1` in replacements); a list has at most 10,000 items; DATETIME_PARSE reads at most 1,000
characters with a format of at most 200; one record's value may take at most
50 ms. All the formulas one change computes (a new or edited formula field over every investor, a
type change, an import) may take 60 s together (`CRM_FORMULA_BUDGET_S`); a change that needs more
is refused, naming the formula and how many rows were done, and nothing of it is saved.
"""


def _shown(value: object) -> str:
    if value is None:
        return "blank"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return '"' + value + '"'
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_shown(item) for item in value) + "]"
    return repr(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _expected(value: object) -> str:
    if isinstance(value, Refused):
        return f"refused: {value.message}"
    if isinstance(value, CellError):
        return f"#ERROR ({value.message})"
    return _shown(value)


AUDIT_INTRODUCTION = """\
## Audit against Airtable's reference

Each row is one behaviour Airtable documents (or leaves unsaid), what we do, and an example that the
test named in the last column runs through `evaluate()` (rows and tests come from
`crm_lib/formulas/audit.py`, so they cannot drift apart). Examples run with the clock at
{now} and a record whose id is `{record_id}`.

Verdicts: **same** — ours does what the reference says; **fixed** — ours differed and now matches;
**added** — the function or form was missing and now exists; **wider** — ours also accepts a form
the reference does not list; **undocumented** — the reference does not say, the row states what
we do; **differs** — a deliberate difference, with the reason; **ours only** — not an Airtable
function.

Sources:
"""


def render() -> str:
    """The whole reference as Markdown."""
    lines = [INTRODUCTION, "## Operators", "", "| Operator | Meaning | Examples |", "|---|---|---|"]
    for spec in OPERATORS.values():
        examples = "<br>".join(f"`{_cell(t)}` → {_cell(_shown(r))}" for t, r in spec.examples)
        lines.append(f"| `{spec.symbol}` | {_cell(spec.doc)} | {examples} |")
    specs = all_functions()
    for category, title in CATEGORY_TITLES.items():
        lines += ["", f"## {title}", "", "| Function | What it does | Examples |", "|---|---|---|"]
        for spec in (s for s in specs if s.category == category):
            examples = "<br>".join(f"`{_cell(t)}` → {_cell(_shown(r))}" for t, r in spec.examples)
            lines.append(f"| `{_cell(spec.signature())}` | {_cell(spec.doc)} | {examples} |")
    lines += ["", *_audit_lines()]
    return "\n".join(lines) + "\n"


def _audit_lines() -> list[str]:
    lines = [
        AUDIT_INTRODUCTION.format(
            now=NOW.isoformat().replace("+00:00", "Z"), record_id=RECORD.id
        ).rstrip("\n")
    ]
    lines += [f"- [{key}] {text}" for key, text in SOURCES.items()]
    counts = {verdict: sum(1 for row in AUDIT if row.verdict is verdict) for verdict in Verdict}
    summary = ", ".join(f"{count} {verdict.value}" for verdict, count in counts.items() if count)
    lines += ["", f"{len(AUDIT)} rows: {summary}.", ""]
    lines += [
        "| Function | Airtable's reference | Ours | Verdict | Example → result | Test |",
        "|---|---|---|---|---|---|",
    ]
    for row in AUDIT:
        example = f"`{_cell(row.formula)}` → {_cell(_expected(row.expected))}"
        if row.fields:
            given = ", ".join(f"{{{name}}} = {_shown(value)}" for name, value in row.fields.items())
            example += f" (with {_cell(given)})"
        lines.append(
            f"| {_cell(row.topic)} | {_cell(row.airtable)} | {_cell(row.ours)} | "
            f"{row.verdict.value} | {example} | `test_airtable_audit[{row.name}]` |"
        )
    return lines


if __name__ == "__main__":
    print(render(), end="")
