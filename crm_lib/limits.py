"""Limits on what a person or a client may send: the length of each kind of text, and the shape of
a JSON document (nesting, whole numbers, Unicode).

Declared once, so that every front end gives the same answer:

* the services enforce :data:`TEXT_LIMITS` with :func:`check_text` (a
  :class:`~crm_lib.errors.ValidationError` naming the field and the limit), so a notebook, an
  import, the grid and the REST API are all held to them;
* the REST API publishes them as ``maxLength`` in ``/api/openapi.json`` (``apps/api/models.py``
  reads :func:`max_length`) and checks every JSON body with :func:`check_document` before
  anything else sees it;
* the Panel pages set ``max_length`` on their text inputs from the same table, so a person cannot
  type past a limit in the first place.

Why the JSON checks: Python's ``json`` accepts things SQLite and the rest of the stack cannot
hold. A body nested 100,000 deep overflows the parser's recursion; ``"\\ud800"`` decodes to a
string that cannot be encoded as UTF-8 when it is bound to a query; ``10**400`` parses to an int
that SQLite refuses (it stores 64-bit integers); ``NaN`` and ``Infinity`` literals parse to
floats no JSON reader elsewhere accepts. Each is refused here, naming its place in the document.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_lib.errors import ValidationError
from crm_lib.formulas.limits import Limits as FormulaLimits


@dataclass(frozen=True)
class TextLimit:
    """The longest text of one kind (in characters, as Python and JSON Schema count them)."""

    kind: str
    max_length: int
    what: str  # for the docs: which inputs it applies to


TEXT_LIMITS: dict[str, TextLimit] = {
    limit.kind: limit
    for limit in (
        TextLimit("investor_name", 200, "an investor's name"),
        TextLimit("person_name", 200, "a person's full name"),
        TextLimit("fund_name", 200, "a fund's name"),
        TextLimit("display_name", 100, "a team member's name"),
        TextLimit("email", 320, "an email address (the RFC 5321 maximum)"),
        TextLimit("password", 1024, "a password"),
        TextLimit("field_label", 80, "a grid field's name"),
        TextLimit("option_name", 100, "one choice of a single or multiple select field"),
        TextLimit("view_name", 100, "a saved view's name"),
        TextLimit("token_name", 100, "an API token's name"),
        TextLimit("feature_title", 200, "a feature request's title"),
        TextLimit("feature_body", 10_000, "a feature request's description"),
        TextLimit("text", 5_000, "a value of a text field (location, title, ...)"),
        TextLimit("long_text", 100_000, "a value of a long text field (notes)"),
        TextLimit("url", 2_048, "a web address"),
        TextLimit("phone", 100, "a phone number"),
        TextLimit("search", 200, "a search of the grid or the contacts"),
        TextLimit("stage_name", 100, "a pipeline stage's name"),
        TextLimit("task_title", 200, "a task's title"),
        TextLimit("question", 1_000, "a question asked in plain English (the Ask page)"),
        TextLimit("sql", 20_000, "the SQL of an answer, edited and run again"),
        TextLimit("filter_text", 1_000, "the text of a 'contains' filter"),
        TextLimit("sort", 500, "a sort given as text ('-total_invested,name')"),
        TextLimit("import_profile", 100, "the name of a saved import mapping"),
        TextLimit("file_name", 255, "an uploaded file's name"),
        TextLimit("amount", 100, "a number typed as text ('$1,250,000.50', '12%')"),
        TextLimit("confirmation", 40, "a typed confirmation (the id of the backup to restore)"),
        TextLimit("formula", FormulaLimits().max_formula_length, "a formula"),
        TextLimit("domain_list", 2_000, "the fund's own email domains, comma-separated"),
        TextLimit("blocklist", 20_000, "the email blocklist, one address or @domain per line"),
        TextLimit("clock_time", 5, "a time of day (HH:MM), e.g. the digest's send time"),
        TextLimit("time_zone", 64, "a time zone's name (Europe/London)"),
    )
}

#: How deeply a JSON body may nest. The deepest legitimate body is a view's filter tree (five
#: groups, two levels each, inside the body): 64 leaves ample room and stays far from the
#: parser's recursion limit.
MAX_JSON_DEPTH = 64
#: SQLite's INTEGER: a whole number outside it cannot be stored or compared exactly.
MIN_INTEGER, MAX_INTEGER = -(2**63), 2**63 - 1

_SURROGATE = re.compile("[\ud800-\udfff]")


def max_length(kind: str) -> int:
    """The limit of one kind of text (a KeyError for an undeclared kind: declare it above)."""
    return TEXT_LIMITS[kind].max_length


def surrogate_at(text: str) -> int | None:
    """Where ``text`` holds an unpaired surrogate (``"\\ud800"`` from a JSON escape or a browser),
    which no UTF-8 file, database or page can hold; None when it is valid Unicode text."""
    found = _SURROGATE.search(text)
    return None if found is None else found.start()


def text_problem(text: str, kind: str) -> str | None:
    """What is wrong with ``text`` as a ``kind`` of text, or None: the message completes
    "<Field> ..."."""
    limit = max_length(kind)
    if len(text) > limit:
        return f"is {len(text):,} characters long; the limit is {limit:,}"
    position = surrogate_at(text)
    if position is not None:
        return (
            f"holds an unpaired surrogate ({text[position]!a}) at character {position + 1}, "
            "which is not valid Unicode text"
        )
    return None


def check_text(text: str, kind: str, *, field: str, label: str | None = None) -> str:
    """``text`` unchanged if it fits its limit and is valid Unicode, else a ValidationError that
    names the field (``label`` is how a person knows it, ``field`` how a program does)."""
    problem = text_problem(text, kind)
    if problem is not None:
        raise ValidationError(f"{label or field} {problem}", field=field)
    return text


def document_problem(value: Any, root: str = "body") -> tuple[str, str] | None:
    """The first place in a parsed JSON document that the CRM cannot take, as (path, problem),
    or None. Paths read like ``fields.owner_id`` or ``filters.conditions.0.value``.

    Walks with an explicit stack, so a document nested deeper than Python's recursion limit is
    measured rather than crashing the walk itself.
    """
    stack: list[tuple[Any, str, int]] = [(value, root, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return root, f"nests deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, str):
            position = surrogate_at(item)
            if position is not None:
                return path, (
                    f"holds an unpaired surrogate ({item[position]!a}) at character "
                    f"{position + 1}, which is not valid Unicode text"
                )
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not MIN_INTEGER <= item <= MAX_INTEGER:
                return path, (
                    "is a whole number outside the range the CRM can store (-2**63 to 2**63-1); "
                    "send a large amount as a decimal (1e20) or as text"
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path, f"is {item!r}, not a finite number"
        elif isinstance(item, Mapping):
            prefix = (
                f"{path}." if depth else ""
            )  # children of the body: "fields", not "body.fields"
            for key, child in reversed(list(item.items())):  # reversed: first problem first
                if isinstance(key, str) and surrogate_at(key) is not None:
                    return path, f"has a key holding an unpaired surrogate ({key!a})"
                stack.append((child, f"{prefix}{key}", depth + 1))
        elif isinstance(item, list | tuple):
            prefix = f"{path}." if depth else ""
            for index in range(len(item) - 1, -1, -1):
                stack.append((item[index], f"{prefix}{index}", depth + 1))
    return None


def check_document(value: Any, root: str = "body") -> None:
    """Refuse a parsed JSON document the CRM cannot take, naming the place (see
    :func:`document_problem`)."""
    problem = document_problem(value, root)
    if problem is not None:
        path, message = problem
        raise ValidationError(f"{path}: {message}", field=path)
