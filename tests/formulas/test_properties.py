"""Property tests: random formulas over random records never raise anything but FormulaError,
never overrun the time budget, and give the same value one record at a time as in bulk."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_lib.clock import FixedClock
from crm_lib.formulas import ErrorValue, FormulaError, compile_formula
from crm_lib.formulas.registry import all_functions

FIELD_TYPES = {
    "n": "number",
    "t": "text",
    "d": "date",
    "m": "datetime",
    "c": "checkbox",
    "tags": "multi_select",
}
CLOCK = FixedClock(datetime(2026, 11, 25, 9, tzinfo=UTC))
FUNCTIONS = [(spec.name, spec.min_args, spec.max_args) for spec in all_functions()]
UNITS = ["days", "months", "years", "hours", "weeks", "quarters", "minutes", "M", "bogus"]
PATTERNS = ["(a+)+$", "^[a-z]+@", ".*", "(", "\\\\d{2,}", "[", "(x)(y)?"]
SAFE_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


LEAVES = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: repr(abs(x))),
    st.sampled_from(["0", "1e308", "9e15", ".5", "TRUE", "FALSE", "BLANK()", "TODAY()", "NOW()"]),
    SAFE_TEXT.map(quoted),
    st.sampled_from(
        UNITS
        + PATTERNS
        + ["2026-02-29", "2024-02-29", "11/25/2026", "$1,200", "12%", "America/New_York"]
    ).map(quoted),
    st.sampled_from(["{n}", "{t}", "{d}", "{m}", "{c}", "{tags}", "n", "t"]),
)


def expressions() -> st.SearchStrategy[str]:
    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        binary = st.tuples(
            children,
            st.sampled_from(["+", "-", "*", "/", "&", "=", "!=", "<", ">", "<=", ">="]),
            children,
        ).map(lambda p: f"({p[0]} {p[1]} {p[2]})")
        negate = children.map(lambda c: f"-{c}")

        @st.composite
        def call(draw: st.DrawFn) -> str:
            name, low, high = draw(st.sampled_from(FUNCTIONS))
            upper = min(high if high is not None else low + 3, low + 3)
            count = draw(st.integers(max(0, low - 1), upper + 1))  # sometimes the wrong arity
            args = [draw(children) for _ in range(count)]
            return f"{name}({', '.join(args)})"

        return st.one_of(binary, negate, call())

    return st.recursive(LEAVES, extend, max_leaves=12)


RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "n": st.one_of(
                st.none(), st.integers(-1000, 10**9), st.floats(-1e12, 1e12, allow_nan=False)
            ),
            "t": st.one_of(
                st.none(), SAFE_TEXT, st.sampled_from(["a@b.io", "1,200", "2026-01-31"])
            ),
            "d": st.one_of(
                st.none(), st.dates(date(1900, 1, 1), date(2200, 12, 31)).map(date.isoformat)
            ),
            "m": st.one_of(
                st.none(),
                st.datetimes(datetime(1990, 1, 1), datetime(2100, 1, 1)).map(
                    lambda d: d.isoformat() + "Z"
                ),
            ),
            "c": st.sampled_from([None, 0, 1]),
            "tags": st.sampled_from([None, "[]", '["LP", "GP"]', '["a", "", "a"]']),
        }
    ),
    min_size=1,
    max_size=4,
)
ENGINE_TYPES = (type(None), bool, int, float, str, date, datetime, list, ErrorValue)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=expressions(), records=RECORDS)
def test_random_formulas_fail_only_with_formula_errors_and_agree_in_bulk(
    text: str, records: list[dict[str, object]]
) -> None:
    try:
        formula = compile_formula(text, FIELD_TYPES, clock=CLOCK)
    except FormulaError as error:
        assert error.message and error.position is not None and 0 <= error.position <= len(text)
        return
    columns = {name: [record[name] for record in records] for name in FIELD_TYPES}
    started = time.perf_counter()
    bulk = formula.evaluate_many(columns)
    elapsed = time.perf_counter() - started
    assert elapsed < 0.25 * len(records), f"{text} took {elapsed:.3f} s"
    assert len(bulk) == len(records)
    for record, value in zip(records, bulk, strict=True):
        assert isinstance(value, ENGINE_TYPES), f"{text} gave {value!r}"
        if isinstance(value, float):
            assert value == value and abs(value) != float("inf"), f"{text} gave {value!r}"
        single = formula.evaluate(record)
        assert _same(single, value), f"{text}: one record gave {single!r}, bulk gave {value!r}"


def _same(left: object, right: object) -> bool:
    if isinstance(left, ErrorValue) and isinstance(right, ErrorValue):
        return left.message == right.message
    return type(left) is type(right) and left == right


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=40))
def test_arbitrary_text_compiles_or_gives_a_formula_error(text: str) -> None:
    try:
        compile_formula(text, FIELD_TYPES, clock=CLOCK)
    except FormulaError as error:
        assert error.message
