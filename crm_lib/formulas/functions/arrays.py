"""Array functions for multi-select, linked and lookup values (lists in the engine)."""

from __future__ import annotations

from crm_lib.formulas import values as v
from crm_lib.formulas.limits import active_limits, check_text
from crm_lib.formulas.registry import register
from crm_lib.formulas.values import EvalError, ValueType

T = ValueType
L = T.ARRAY


def _capped(items: list[object]) -> list[object]:
    limit = active_limits().max_array_length
    if len(items) > limit:
        raise EvalError(f"The list has {len(items):,} items; the limit is {limit:,}")
    return items


@register(
    "arrays",
    params=[("values", L), ("separator", T.TEXT)],
    result=T.TEXT,
    examples=[
        ('ARRAYJOIN(ARRAYFLATTEN("LP", "GP"), "; ")', "LP; GP"),
        ('ARRAYJOIN(ARRAYCOMPACT("a", "", "b"))', "a, b"),
    ],
)
def ARRAYJOIN(values: list[object], separator: str = ", ") -> str:
    """Joins the items into one text with the separator (", " by default)."""
    return check_text(separator.join(v.to_text(item) for item in v.flatten(values)))


@register(
    "arrays",
    params=[("value", T.ANY), ("values", T.ANY)],
    result=L,
    examples=[('ARRAYUNIQUE(ARRAYFLATTEN("a", "b", "a"))', ["a", "b"])],
)
def ARRAYUNIQUE(value: object, *values: object) -> list[object]:
    """The items with repeats removed, first occurrence kept."""
    seen: set[object] = set()
    out: list[object] = []
    for item in v.flatten((value, *values)):
        key = (type(item).__name__, item) if not isinstance(item, list) else repr(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return _capped(out)


@register(
    "arrays",
    params=[("value", T.ANY), ("values", T.ANY)],
    result=L,
    examples=[('ARRAYCOMPACT("a", "", BLANK(), 0)', ["a", 0])],
)
def ARRAYCOMPACT(value: object, *values: object) -> list[object]:
    """The items without blanks and empty texts (0 and FALSE are kept)."""
    return _capped([item for item in v.flatten((value, *values)) if not v.is_blank(item)])


@register(
    "arrays",
    params=[("value", T.ANY), ("values", T.ANY)],
    result=L,
    examples=[('ARRAYFLATTEN("a", ARRAYFLATTEN("b", "c"))', ["a", "b", "c"])],
)
def ARRAYFLATTEN(value: object, *values: object) -> list[object]:
    """All items of nested lists in one flat list."""
    return _capped(v.flatten((value, *values)))


@register(
    "arrays",
    params=[("values", L), ("start", T.NUMBER), ("end", T.NUMBER)],
    result=L,
    examples=[
        ('ARRAYSLICE(ARRAYFLATTEN("A", "B", "C", "D"), 2, 3)', ["B", "C"]),
        ('ARRAYSLICE(ARRAYFLATTEN("A", "B", "C", "D"), 3)', ["C", "D"]),
        ('ARRAYSLICE(ARRAYFLATTEN("A", "B", "C", "D"), -2)', ["C", "D"]),
    ],
)
def ARRAYSLICE(values: list[object], start: float, end: float | None = None) -> list[object]:
    """The items from position start to position end, both included (1 is the first item;
    negative positions count from the end, -1 being the last)."""
    items = v.flatten(values)
    first = _index(start, len(items))
    last = len(items) - 1 if end is None else _index(end, len(items))
    return _capped(items[max(first, 0) : last + 1] if last >= first else [])


def _index(position: float, length: int) -> int:
    """A 1-based position (negative from the end) as a 0-based index."""
    whole = int(position)
    if whole == 0:
        raise EvalError("Positions start at 1 (or -1 for the last item)")
    return whole - 1 if whole > 0 else length + whole
