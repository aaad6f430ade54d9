"""Numeric functions. Arguments arrive as numbers (the engine coerced them); results are checked finite.

Rounding follows Airtable, not Python: ``ROUND`` breaks ties toward positive infinity, as
Airtable's reference says (``ROUND(2.5, 0)`` is 3, ``ROUND(-2.5, 0)`` is -2), and float noise is
removed first so ``ROUND(1.005, 2)`` is 1.01 as a person expects. ``ROUNDUP``/``ROUNDDOWN`` round
away from / toward zero.
"""

from __future__ import annotations

import math

from crm_lib.formulas import values as v
from crm_lib.formulas.registry import register
from crm_lib.formulas.values import EvalError, ValueType

T = ValueType
N = T.NUMBER
A = T.ANY


def _places(precision: float) -> int:
    places = int(precision)
    if not -15 <= places <= 15:
        raise EvalError("Precision must be between -15 and 15")
    return places


def _scaled(value: float, places: int) -> float:
    # round(…, 9) strips binary noise (1.005 * 100 = 100.49999999999999) before the half test.
    return round(abs(value) * 10.0**places, 9)


def _unscale(magnitude: float, value: float, places: int) -> float | int:
    result = math.copysign(magnitude / 10.0**places, value) if magnitude else 0
    if places <= 0 or (isinstance(result, float) and result.is_integer()):
        return int(result)
    return result


@register(
    "numeric",
    params=[("value", N), ("precision", N)],
    result=N,
    examples=[
        ("ROUND(2.5, 0)", 3),
        ("ROUND(-2.5, 0)", -2),
        ("ROUND(-2.55, 1)", -2.5),
        ("ROUND(1.005, 2)", 1.01),
        ("ROUND(1234, -2)", 1200),
    ],
)
def ROUND(value: float, precision: float = 0) -> float | int:
    """Rounds to the given number of decimal places; ties go toward positive infinity."""
    places = _places(precision)
    scaled = math.copysign(_scaled(value, places), value)
    rounded = math.floor(scaled + 0.5)
    return _unscale(abs(rounded), math.copysign(1.0, rounded) if rounded else value, places)


@register(
    "numeric",
    params=[("value", N), ("precision", N)],
    result=N,
    examples=[("ROUNDUP(2.01, 1)", 2.1), ("ROUNDUP(-2.01, 0)", -3)],
)
def ROUNDUP(value: float, precision: float = 0) -> float | int:
    """Rounds away from zero to the given number of decimal places."""
    places = _places(precision)
    return _unscale(math.ceil(_scaled(value, places)), value, places)


@register(
    "numeric",
    params=[("value", N), ("precision", N)],
    result=N,
    examples=[("ROUNDDOWN(2.99, 1)", 2.9), ("ROUNDDOWN(-2.99, 0)", -2)],
)
def ROUNDDOWN(value: float, precision: float = 0) -> float | int:
    """Rounds toward zero to the given number of decimal places."""
    places = _places(precision)
    return _unscale(math.floor(_scaled(value, places)), value, places)


def _multiple(value: float, significance: float, step: type[math.ceil]) -> float | int:  # type: ignore[valid-type]
    if significance == 0:
        return 0
    steps = step(round(value / significance, 9))  # type: ignore[operator]
    result = steps * significance
    return int(result) if float(result).is_integer() else v.checked_number(result)


@register(
    "numeric",
    params=[("value", N), ("significance", N)],
    result=N,
    examples=[("CEILING(2.1)", 3), ("CEILING(7, 5)", 10), ("CEILING(-2.5)", -2)],
)
def CEILING(value: float, significance: float = 1) -> float | int:
    """Rounds up to the nearest multiple of significance (default 1)."""
    return _multiple(value, significance, math.ceil)


@register(
    "numeric",
    params=[("value", N), ("significance", N)],
    result=N,
    examples=[("FLOOR(2.9)", 2), ("FLOOR(7, 5)", 5), ("FLOOR(-2.5)", -3)],
)
def FLOOR(value: float, significance: float = 1) -> float | int:
    """Rounds down to the nearest multiple of significance (default 1)."""
    return _multiple(value, significance, math.floor)


@register("numeric", params=[("value", N)], result=N, examples=[("INT(3.7)", 3), ("INT(-3.2)", -4)])
def INT(value: float) -> int:
    """The greatest integer less than or equal to the value."""
    return math.floor(value)


@register("numeric", params=[("value", N)], result=N, examples=[("ABS(-4.5)", 4.5)])
def ABS(value: float) -> float | int:
    """The absolute value."""
    return abs(value)


@register(
    "numeric",
    params=[("value", N), ("divisor", N)],
    result=N,
    examples=[("MOD(7, 3)", 1), ("MOD(-7, 3)", -1), ("MOD(7.5, 2)", 1.5)],
)
def MOD(value: float, divisor: float) -> float | int:
    """The remainder of a division; its sign follows the value, as in Airtable."""
    if divisor == 0:
        raise EvalError("Cannot divide by zero")
    result = math.fmod(value, divisor)
    return int(result) if result.is_integer() else result


@register(
    "numeric",
    params=[("base", N), ("power", N)],
    result=N,
    examples=[("POWER(2, 10)", 1024), ("POWER(9, 0.5)", 3)],
)
def POWER(base: float, power: float) -> float | int:
    """The base raised to a power."""
    try:
        result = float(base) ** float(power)
    except ZeroDivisionError:
        raise EvalError("Cannot raise 0 to a negative power") from None
    if isinstance(result, complex):
        raise EvalError("A negative number has no real fractional power")
    result = v.checked_number(result)
    return int(result) if result.is_integer() and abs(result) < 2**53 else result


@register("numeric", params=[("value", N)], result=N, examples=[("SQRT(16)", 4)])
def SQRT(value: float) -> float | int:
    """The square root."""
    if value < 0:
        raise EvalError("Cannot take the square root of a negative number")
    result = math.sqrt(value)
    return int(result) if result.is_integer() else result


@register("numeric", params=[("power", N)], result=N, examples=[("ROUND(EXP(1), 4)", 2.7183)])
def EXP(power: float) -> float:
    """e raised to a power."""
    return v.checked_number(math.exp(power))  # type: ignore[return-value]


@register(
    "numeric",
    params=[("value", N), ("base", N)],
    result=N,
    examples=[("LOG(100)", 2), ("LOG(8, 2)", 3)],
)
def LOG(value: float, base: float = 10) -> float | int:
    """The logarithm in a base (default 10)."""
    if value <= 0 or base <= 0 or base == 1:
        raise EvalError("LOG needs a positive value and a positive base other than 1")
    result = round(math.log(value, base), 12)
    return int(result) if result.is_integer() else result


@register("numeric", params=[("value", N)], result=N, examples=[("LOG10(1000)", 3)])
def LOG10(value: float) -> float | int:
    """The base-10 logarithm."""
    if value <= 0:
        raise EvalError("LOG10 needs a positive value")
    result = math.log10(value)
    return int(result) if result.is_integer() else result


def _numbers(values: tuple[object, ...]) -> list[float | int]:
    """Numbers among the arguments (lists flattened); blanks and text are skipped, as in Airtable."""
    out: list[float | int] = []
    for item in v.flatten(values):
        if type(item) is int or type(item) is float:
            out.append(item)
        elif type(item) is bool:
            out.append(int(item))
        elif type(item) is str and item.strip():
            number = v.parse_number_text(item)
            if number is not None:
                out.append(number)
    return out


@register(
    "numeric",
    params=[("number", A), ("numbers", A)],
    result=N,
    examples=[("SUM(1, 2, 3)", 6), ('SUM(1, BLANK(), "2")', 3)],
)
def SUM(number: object, *numbers: object) -> float | int:
    """Adds the numbers (lists are added item by item; blanks are skipped)."""
    found = _numbers((number, *numbers))
    total = math.fsum(found) if any(type(n) is float for n in found) else sum(found)
    return v.checked_number(total)


@register(
    "numeric",
    params=[("number", A), ("numbers", A)],
    result=N,
    examples=[("AVERAGE(1, 2, 6)", 3), ("AVERAGE(4, BLANK())", 4)],
)
def AVERAGE(number: object, *numbers: object) -> float | int:
    """The mean of the numbers; blanks are left out."""
    found = _numbers((number, *numbers))
    if not found:
        raise EvalError("AVERAGE of no numbers")
    result = math.fsum(found) / len(found)
    return int(result) if result.is_integer() else result


@register(
    "numeric",
    params=[("number", A), ("numbers", A)],
    result=N,
    examples=[("MIN(3, 1, 2)", 1), ("MIN(BLANK())", 0)],
)
def MIN(number: object, *numbers: object) -> float | int:
    """The smallest number (0 when there are none)."""
    found = _numbers((number, *numbers))
    return min(found) if found else 0


@register(
    "numeric", params=[("number", A), ("numbers", A)], result=N, examples=[("MAX(3, 1, 2)", 3)]
)
def MAX(number: object, *numbers: object) -> float | int:
    """The largest number (0 when there are none)."""
    found = _numbers((number, *numbers))
    return max(found) if found else 0


@register(
    "numeric",
    params=[("value", A), ("values", A)],
    result=N,
    examples=[('COUNT(1, "a", BLANK(), 2)', 2)],
)
def COUNT(value: object, *values: object) -> int:
    """How many of the values are numbers."""
    return sum(
        1 for item in v.flatten((value, *values)) if (type(item) is int or type(item) is float)
    )


@register(
    "numeric",
    params=[("value", A), ("values", A)],
    result=N,
    examples=[('COUNTA(1, "a", BLANK(), "")', 2)],
)
def COUNTA(value: object, *values: object) -> int:
    """How many of the values are not blank."""
    return sum(1 for item in v.flatten((value, *values)) if not v.is_blank(item))


@register(
    "numeric",
    params=[("value", A), ("values", A)],
    result=N,
    examples=[('COUNTALL(1, "a", BLANK())', 3)],
)
def COUNTALL(value: object, *values: object) -> int:
    """How many values there are, blanks included."""
    return len(v.flatten((value, *values)))


@register(
    "numeric",
    params=[("text", T.TEXT)],
    result=N,
    examples=[('VALUE("$1,200.50")', 1200.5), ('VALUE("12%")', 0.12)],
)
def VALUE(text: str) -> float | int:
    """The number a text reads as (currency signs and thousands separators allowed)."""
    if not text.strip():
        return 0
    number = v.parse_number_text(text)
    if number is None:
        raise EvalError(f'"{text[:40]}" is not a number')
    return number


def _round_to_parity(value: float, odd: bool) -> int:
    magnitude = math.ceil(abs(value))
    if (magnitude % 2 == 1) != odd:
        magnitude += 1
    if odd and magnitude == 0:
        magnitude = 1
    return int(math.copysign(magnitude, value)) if value else (1 if odd else 0)


@register(
    "numeric",
    params=[("value", N)],
    result=N,
    examples=[("EVEN(1.5)", 2), ("EVEN(3)", 4), ("EVEN(-1)", -2)],
)
def EVEN(value: float) -> int:
    """Rounds away from zero to the nearest even integer."""
    return _round_to_parity(value, odd=False)


@register(
    "numeric",
    params=[("value", N)],
    result=N,
    examples=[("ODD(1.5)", 3), ("ODD(2)", 3), ("ODD(-2)", -3)],
)
def ODD(value: float) -> int:
    """Rounds away from zero to the nearest odd integer."""
    return _round_to_parity(value, odd=True)
