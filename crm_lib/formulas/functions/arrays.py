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
    params=[("values", T.ANY)],
    result=L,
    examples=[('ARRAYUNIQUE(ARRAYFLATTEN("a", "b", "a"))', ["a", "b"])],
)
def ARRAYUNIQUE(*values: object) -> list[object]:
    """The items with repeats removed, first occurrence kept."""
    seen: set[object] = set()
    out: list[object] = []
    for item in v.flatten(values):
        key = (type(item).__name__, item) if not isinstance(item, list) else repr(item)
        if key not in seen:
            seen.add(key)
            out.append(item)
    return _capped(out)


@register(
    "arrays",
    params=[("values", T.ANY)],
    result=L,
    examples=[('ARRAYCOMPACT("a", "", BLANK(), 0)', ["a", 0])],
)
def ARRAYCOMPACT(*values: object) -> list[object]:
    """The items without blanks and empty texts (0 and FALSE are kept)."""
    return _capped([item for item in v.flatten(values) if not v.is_blank(item)])


@register(
    "arrays",
    params=[("values", T.ANY)],
    result=L,
    examples=[('ARRAYFLATTEN("a", ARRAYFLATTEN("b", "c"))', ["a", "b", "c"])],
)
def ARRAYFLATTEN(*values: object) -> list[object]:
    """All items of nested lists in one flat list."""
    return _capped(v.flatten(values))
