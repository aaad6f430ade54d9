"""The database is the second gate: even SQL that never passed the validator cannot read files,
unlock the configuration, write, see the raw tables, or run for ever."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from crm_lib.ask.execute import open_connection, run
from crm_lib.ask.validate import QueryRefused, ValidQuery, validate
from crm_lib.config import Settings
from crm_lib.errors import ValidationError


@pytest.fixture(scope="module")
def con(demo_dir: Path):  # type: ignore[no-untyped-def]
    connection = open_connection(Settings(data_dir=demo_dir))
    yield connection
    connection.close()


def unchecked(sql: str) -> ValidQuery:
    """SQL as if the validator had been bypassed."""
    return ValidQuery(sql, (), frozenset())


def test_a_validated_query_answers_with_columns_and_rows(con: duckdb.DuckDBPyConnection) -> None:
    result = run(
        con,
        validate(
            "SELECT fund_name, count(*) AS lps FROM commitments WHERE amount > $MIN"
            " GROUP BY 1 ORDER BY 1"
        ),
        {"MIN": 0, "UNUSED": "ignored"},
    )
    assert result.columns == ["fund_name", "lps"]
    assert result.rows and all(lps > 0 for _, lps in result.rows)
    assert result.milliseconds >= 0


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "external_access"),
        ("SELECT * FROM '/etc/passwd'", "database"),  # no replacement scan of files
        ("COPY (SELECT 1) TO '/tmp/ask-leak.csv'", "external_access"),
        ("SET enable_external_access = true", "database"),
        ("SET lock_configuration = false", "database"),
        ("INSERT INTO crm.users (email) VALUES ('x@example.com')", "database"),
        ("SELECT * FROM users", "database"),
        ("SELECT * FROM audit_log", "database"),
    ],
)
def test_without_the_validator_the_database_still_refuses(
    con: duckdb.DuckDBPyConnection, sql: str, rule: str
) -> None:
    with pytest.raises(QueryRefused) as refused:
        run(con, unchecked(sql), {})
    assert refused.value.rule == rule, refused.value.message
    assert not Path("/tmp/ask-leak.csv").exists()


def test_a_slow_query_is_stopped_and_the_connection_still_answers(
    con: duckdb.DuckDBPyConnection,
) -> None:
    slow = validate(
        "SELECT count(*) FROM investors a, investors b, investors c, investors d"
        " WHERE a.name || b.name || c.name || d.name LIKE '%zzzz%'"
    )
    with pytest.raises(QueryRefused, match=r"longer than 0\.3 s") as refused:
        run(con, slow, {}, time_limit=0.3)
    assert refused.value.rule == "time_limit"
    assert run(con, validate("SELECT count(*) FROM funds"), {}).rows[0][0] > 0


def test_a_missing_value_names_the_parameter(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValidationError, match=r"\$INVESTOR_1"):
        run(con, validate("SELECT * FROM investors WHERE name = $INVESTOR_1"), {})
