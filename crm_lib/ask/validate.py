"""The gate every question's SQL passes before DuckDB sees it, whoever wrote it (a curated
question, Claude, or a person editing the SQL on the Ask page).

Safety lives here and in the database, never in a prompt: the SQL is parsed by sqlglot (DuckDB
dialect) and refused unless it is exactly one read-only query (``SELECT``, set operations and
CTEs) over the allow-listed views (:data:`VIEWS`), calling only allow-listed functions
(:data:`FUNCTIONS`): no table functions, no file or URL readers, no ``ATTACH``, ``COPY``,
``PRAGMA``, ``INSTALL``, ``LOAD`` or ``SET``, no schema-qualified names (the raw ``crm.*``
tables behind the views). Values come in as named parameters (``$INVESTOR_1``), bound by DuckDB,
never spliced into the text. A ``LIMIT`` of at most :data:`MAX_ROWS` is imposed. A refusal names
the rule it broke.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from crm_lib.errors import ValidationError

#: The views a question may read: the soft-delete-filtered analytics views (crm_lib.analytics).
VIEWS = frozenset(
    [
        "investors",
        "people",
        "commitments",
        "funds",
        "emails",
        "email_links",
        "opportunities",
        "pipeline_stages",
        "tasks",
    ]
)
MAX_ROWS = 1_000
MAX_SQL_CHARS = 20_000
#: sqlglot's function classes a query may call: aggregates, windows, text, numbers, dates.
FUNCTIONS = frozenset(
    [
        # aggregates
        "AnyValue",
        "ArgMax",
        "ArgMin",
        "ArrayAgg",
        "Avg",
        "Count",
        "CountIf",
        "First",
        "GroupConcat",
        "Last",
        "LogicalAnd",
        "LogicalOr",
        "Max",
        "Median",
        "Min",
        "Mode",
        "PercentileCont",
        "PercentileDisc",
        "Stddev",
        "StddevPop",
        "StddevSamp",
        "Sum",
        "Variance",
        "VariancePop",
        # windows
        "CumeDist",
        "DenseRank",
        "FirstValue",
        "Lag",
        "LastValue",
        "Lead",
        "NthValue",
        "Ntile",
        "PercentRank",
        "Rank",
        "RowNumber",
        # operators sqlglot models as functions
        "And",
        "Or",
        "Xor",
        "Exists",
        "Array",
        "Struct",
        # logic and types
        "Case",
        "Cast",
        "Coalesce",
        "Greatest",
        "If",
        "Least",
        "Nullif",
        "TryCast",
        # text
        "Concat",
        "ConcatWs",
        "Contains",
        "Initcap",
        "Left",
        "Length",
        "Lower",
        "Pad",
        "RegexpExtract",
        "RegexpLike",
        "RegexpReplace",
        "Replace",
        "Reverse",
        "Right",
        "SplitPart",
        "StartsWith",
        "EndsWith",
        "StrPosition",
        "Substring",
        "Trim",
        "Upper",
        # numbers
        "Abs",
        "Ceil",
        "Div",
        "Exp",
        "Floor",
        "Ln",
        "Log",
        "Mod",
        "Pow",
        "Round",
        "Sign",
        "Sqrt",
        # dates
        "CurrentDate",
        "CurrentTimestamp",
        "Date",
        "DateAdd",
        "DateDiff",
        "DateFromParts",
        "DateSub",
        "DateTrunc",
        "Day",
        "DayOfMonth",
        "DayOfWeek",
        "DayOfYear",
        "Dayname",
        "Extract",
        "LastDay",
        "Month",
        "Monthname",
        "Quarter",
        "StrToDate",
        "StrToTime",
        "TimeToStr",
        "TimeToUnix",
        "TimestampTrunc",
        "ToDays",
        "Week",
        "WeekOfYear",
        "Year",
    ]
)
#: Functions sqlglot does not model (it parses them as "anonymous"), by lower-case name.
NAMED_FUNCTIONS = frozenset(["age", "date_part", "datepart", "now", "today"])
#: Statement kinds named in refusals, by sqlglot class.
_STATEMENTS = {
    "Attach": "ATTACH",
    "Detach": "DETACH",
    "Copy": "COPY",
    "Pragma": "PRAGMA",
    "Set": "SET",
    "Install": "INSTALL",
    "Command": "a command",
    "Insert": "INSERT",
    "Update": "UPDATE",
    "Delete": "DELETE",
    "Merge": "MERGE",
    "Create": "CREATE",
    "Drop": "DROP",
    "Alter": "ALTER",
    "Use": "USE",
    "Summarize": "SUMMARIZE",
    "Describe": "DESCRIBE",
    "Show": "SHOW",
}
_PARAMETER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class QueryRefused(ValidationError):
    """The SQL broke one of the validator's rules (named in :attr:`rule`)."""

    code = "sql_refused"

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message, field="sql")
        self.rule = rule

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "rule": self.rule}


@dataclass(frozen=True)
class ValidQuery:
    """SQL that passed: as DuckDB will run it (with the row limit), and its parameters."""

    sql: str
    parameters: tuple[str, ...]
    views: frozenset[str]


def validate(sql: str) -> ValidQuery:
    """``sql`` checked against every rule (see the module docstring), or :class:`QueryRefused`."""
    if len(sql) > MAX_SQL_CHARS:
        raise QueryRefused("size", f"The SQL is longer than {MAX_SQL_CHARS:,} characters")
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except (ParseError, TokenError) as exc:
        raise QueryRefused("syntax", f"The SQL could not be read: {_where(exc)}") from None
    if len(statements) != 1:
        raise QueryRefused(
            "one_statement", f"Exactly one statement is allowed, not {len(statements)}"
        )
    [tree] = statements
    _check_kind(tree)
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    views = _check_tables(tree, ctes)
    _check_functions(tree)
    parameters = _check_parameters(tree)
    limited = _limited(tree)
    return ValidQuery(limited.sql(dialect="duckdb"), parameters, frozenset(views))


def _where(exc: Exception) -> str:
    errors = getattr(exc, "errors", None) or []
    if errors:
        first = errors[0]
        return (
            f"{first.get('description', 'unexpected text')} at line {first.get('line')},"
            f" column {first.get('col')}"
        )
    return str(exc).splitlines()[0][:200]


def _check_kind(tree: exp.Expression) -> None:
    for node in tree.walk():
        kind = _STATEMENTS.get(type(node).__name__)
        if kind is not None:
            raise QueryRefused("read_only", f"Only a SELECT may run, not {kind}")
        if isinstance(node, exp.Into):
            raise QueryRefused("read_only", "Only a SELECT may run, not SELECT … INTO")
    if not isinstance(tree, exp.Select | exp.SetOperation):
        raise QueryRefused("read_only", f"Only a SELECT may run, not {type(tree).__name__.upper()}")


def _check_tables(tree: exp.Expression, ctes: set[str]) -> set[str]:
    views: set[str] = set()
    for table in tree.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise QueryRefused(
                "table_function",
                f"Table functions and file or URL readers are not allowed: {table.sql('duckdb')}",
            )
        if table.args.get("db") or table.args.get("catalog"):
            raise QueryRefused(
                "views_only",
                f"Only the views may be read ({', '.join(sorted(VIEWS))}),"
                f" not {table.sql('duckdb')}",
            )
        name = table.name.lower()
        if name in ctes:
            continue
        if name not in VIEWS:
            raise QueryRefused(
                "views_only",
                f"Only the views may be read ({', '.join(sorted(VIEWS))}), not {table.name!r}",
            )
        views.add(name)
    return views


def _check_functions(tree: exp.Expression) -> None:
    for node in tree.find_all(exp.Func):
        if isinstance(node, exp.Anonymous):
            if node.name.lower() not in NAMED_FUNCTIONS:
                raise QueryRefused("functions", f"The function {node.name}() is not allowed")
        elif type(node).__name__ not in FUNCTIONS:
            name = node.sql_name() if hasattr(node, "sql_name") else type(node).__name__
            raise QueryRefused("functions", f"The function {name}() is not allowed")


def _check_parameters(tree: exp.Expression) -> tuple[str, ...]:
    names: list[str] = []
    for node in tree.find_all(exp.Placeholder, exp.Parameter):
        name = node.name
        if not name or not _PARAMETER.match(name):
            raise QueryRefused("parameters", "Values must be named parameters such as $INVESTOR_1")
        if name not in names:
            names.append(name)
    return tuple(names)


def _limited(tree: exp.Expression) -> exp.Expression:
    """The query with a LIMIT of at most :data:`MAX_ROWS`: added when there is none, lowered
    when it is a larger number, and put around the query when it is computed (``LIMIT $TOP``:
    the query keeps its own, DuckDB cuts at the outer one)."""
    assert isinstance(tree, exp.Query)
    limit = tree.args.get("limit")
    if limit is None:
        return tree.limit(MAX_ROWS)
    value = limit.expression
    if isinstance(value, exp.Literal) and value.is_int:
        return tree if int(value.this) <= MAX_ROWS else tree.limit(MAX_ROWS)
    return exp.select("*").from_(tree.subquery("answer")).limit(MAX_ROWS)
