"""The total formula budget of one change: a formula that is cheap enough per record but costly over
every record is refused, naming it and how far it got, and nothing of the change is written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import crm_lib
from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.config import load_settings
from crm_lib.context import Context
from crm_lib.errors import FormulaError
from crm_lib.formulas.limits import request_budget
from tests.formulas.test_limits import Ticks

#: About 25 ms a record on one of our 2 cores (RE2 over 90,000 characters), under the 50 ms
#: per-record cap: 400 records make 10 s of one transaction holding the database's only writer.
HEAVY = 'LEN(REGEX_REPLACE(REPT({Name}, 3000), "[aeiou]", "x"))'


def _state(ctx: Context) -> dict[str, Any]:
    """Everything a refused change must leave as it was: the fields, the investors' columns and
    values, the audit log and the grid's version."""
    db = ctx.db

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return db.execute(sql).fetchall()

    return {
        "fields": rows("SELECT * FROM grid_fields ORDER BY id"),
        "columns": [c.name for c in db["fundraising_investors"].columns],
        "investors": rows("SELECT * FROM fundraising_investors ORDER BY id"),
        "audit": rows("SELECT count(*), max(id) FROM audit_log"),
        "state": rows("SELECT * FROM fundraising_state"),
    }


@pytest.fixture
def tight(tmp_path: Path, clock: FixedClock) -> Iterator[Context]:
    """400 investors in a database whose changes may compute formulas for 1 s in total
    (``CRM_FORMULA_BUDGET_S=1``, read as the server reads it)."""
    settings = load_settings({"CRM_FORMULA_BUDGET_S": "1"}, data_dir=tmp_path / "data")
    context = crm_lib.open_crm(settings=settings, clock=clock, actor="alice@fund.example")
    services.bulk_create_investors(
        context, [{"name": f"Investor {n:04d} Capital Partners"} for n in range(400)]
    )
    yield context
    context.close()


def test_a_heavy_formula_over_every_row_is_refused_and_nothing_is_written(tight: Context) -> None:
    before = _state(tight)
    with pytest.raises(FormulaError) as refused:
        services.add_field(tight, "Heavy", "formula", formula=HEAVY)
    message = refused.value.message
    assert message.startswith("Formulas took longer than the 1 s one change may use: {Heavy}")
    assert " of 400 rows were done. Nothing was saved. Simplify the formula of {Heavy}" in message
    assert _state(tight) == before
    cheap = services.add_field(tight, "Shout", "formula", formula="UPPER({Name})")
    assert cheap.key == "shout"  # the budget is per change: the next change has its own


def test_rows_already_computed_are_rolled_back_with_the_refusal(ctx: Context) -> None:
    """Time passes only when read (1 s a read; a chunk of rows is charged 2 s: its start, one
    step checked, its end), so 6 s run out in the fourth chunk, after three were computed and
    written (the first chunks are small, 16 rows and up): the transaction takes them all back."""
    services.bulk_create_investors(ctx, [{"name": f"Investor {n:04d}"} for n in range(2_000)])
    services.add_field(ctx, "Shout", "formula", formula="UPPER({Name})")
    before = _state(ctx)
    with (
        pytest.raises(
            FormulaError, match=r"\{Echo\} was being computed and ([1-9][\d,]*) of 2,000"
        ),
        request_budget(6, timer=Ticks(1.0)),
    ):
        services.add_field(ctx, "Echo", "formula", formula='{Shout} & "!"')
    assert _state(ctx) == before


def test_a_change_of_many_records_shares_one_budget(ctx: Context) -> None:
    """Renaming an option changes every record holding it, one record at a time, each with its
    dependent formulas: the records share the change's budget, and the refusal counts them."""
    services.add_field(ctx, "Stage", "single_select", {"choices": ["Early", "Late"]})
    services.bulk_create_investors(
        ctx, [{"name": f"Investor {n:03d}", "stage": "Early"} for n in range(300)]
    )
    services.add_field(ctx, "Stage code", "formula", formula="UPPER({Stage})")
    spec = next(f for f in services.list_fields(ctx) if f.key == "stage")
    before = _state(ctx)
    with (
        pytest.raises(FormulaError, match=r"\{Stage code\} was being computed and \d+ rows"),
        request_budget(100, timer=Ticks(1.0)),
    ):
        services.update_choices(
            ctx, "stage", ["Seed", "Late"], renames={"Early": "Seed"}, expected_version=spec.version
        )
    assert _state(ctx) == before
