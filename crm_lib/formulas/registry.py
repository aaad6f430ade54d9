"""The function registry: one entry per Airtable function, with everything the rest of the system needs.

Each function is a plain UPPERCASE Python function in ``functions/<category>.py``, registered with
``@register``. The entry holds its category, parameter kinds, result type, a one-line doc and
examples in formula syntax. The same entries drive:

- the compiler's arity and type checks ("IF expects 2 or 3 arguments, got 4");
- argument coercion: the engine converts each argument to its declared kind with the helpers in
  ``values.py`` (a column at a time), so functions receive ready numbers, texts and dates;
- the generated reference (``docs/formulas.md``) and the formula editor's autocomplete;
- the tests, which run every example through the public ``evaluate()``.

Most functions are *scalar*: called once per record with plain values. A few (IF, SWITCH, ISERROR,
TODAY, RECORD_ID, ...) are *column forms*: they receive the compiled argument steps and the batch,
so they can be lazy (IF evaluates each branch only for the records that take it), see error values,
or read the clock and the record.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from crm_lib.formulas.values import ValueType

ResultRule = ValueType | Callable[[Sequence[ValueType]], ValueType]


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter: its name, the kind the engine coerces it to, and whether it may be left out."""

    name: str
    kind: ValueType
    optional: bool = False
    variadic: bool = False


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """Everything known about one formula function."""

    name: str
    category: str
    params: tuple[Param, ...]
    result: ResultRule
    doc: str
    examples: tuple[tuple[str, object], ...]
    implementation: Callable[..., object]
    column_form: bool = False
    accepts_errors: bool = False
    reads_clock: bool = False
    reads_record: bool = False
    aliases: tuple[str, ...] = field(default=())

    @property
    def min_args(self) -> int:
        return sum(1 for p in self.params if not p.optional and not p.variadic)

    @property
    def max_args(self) -> int | None:
        return None if any(p.variadic for p in self.params) else len(self.params)

    @property
    def pure(self) -> bool:
        """Same arguments, same result: safe to evaluate once at compile time."""
        return not (self.reads_clock or self.reads_record)

    def param_for(self, index: int) -> Param:
        """The parameter that argument ``index`` fills (variadic parameters repeat)."""
        if index < len(self.params):
            return self.params[index]
        return self.params[-1]

    def result_type(self, arg_types: Sequence[ValueType]) -> ValueType:
        return self.result(arg_types) if callable(self.result) else self.result

    def signature(self) -> str:
        """``LEFT(text, [count])`` — as shown in docs and autocomplete."""
        parts = []
        for p in self.params:
            if p.variadic:
                parts.append(f"{p.name}...")
            elif p.optional:
                parts.append(f"[{p.name}]")
            else:
                parts.append(p.name)
        return f"{self.name}({', '.join(parts)})"

    def arity_text(self) -> str:
        """ "2 or 3 arguments", "at least 1 argument", "no arguments" — for messages."""
        low, high = self.min_args, self.max_args
        if high is None:
            return f"at least {low} argument{'s' if low != 1 else ''}"
        if high == 0:
            return "no arguments"
        if low == high:
            return f"{low} argument{'s' if low != 1 else ''}"
        if high == low + 1:
            return f"{low} or {high} arguments"
        return f"{low} to {high} arguments"


FUNCTIONS: dict[str, FunctionSpec] = {}


def register(
    category: str,
    *,
    params: Sequence[tuple[str, ValueType]],
    result: ResultRule,
    examples: Sequence[tuple[str, object]],
    column_form: bool = False,
    accepts_errors: bool = False,
    reads_clock: bool = False,
    reads_record: bool = False,
    aliases: Sequence[str] = (),
    name: str | None = None,
) -> Callable[[Callable[..., object]], Callable[..., object]]:
    """Register a formula function; its docstring's first line is its one-line doc.

    Optional and variadic parameters are read from the Python signature (a default value, ``*args``),
    so the declared kinds and the implementation cannot disagree about arity.
    """

    def decorate(function: Callable[..., object]) -> Callable[..., object]:
        registered_name = name or function.__name__
        doc = (function.__doc__ or "").strip().splitlines()[0] if function.__doc__ else ""
        if not doc or not examples:
            raise ValueError(f"{registered_name} needs a docstring and at least one example")
        spec = FunctionSpec(
            name=registered_name,
            category=category,
            params=_params(function, params, column_form),
            result=result,
            doc=doc,
            examples=tuple(examples),
            implementation=function,
            column_form=column_form,
            accepts_errors=accepts_errors,
            reads_clock=reads_clock,
            reads_record=reads_record,
            aliases=tuple(aliases),
        )
        for key in (registered_name, *aliases):
            if key in FUNCTIONS:
                raise ValueError(f"{key} is registered twice")
            FUNCTIONS[key] = spec
        return function

    return decorate


def _params(
    function: Callable[..., object], kinds: Sequence[tuple[str, ValueType]], column_form: bool
) -> tuple[Param, ...]:
    if column_form:
        # column forms take (call, batch); their optional/variadic shape is declared by name:
        # "name?" is optional, "name..." variadic.
        out = []
        for name, kind in kinds:
            out.append(
                Param(
                    name.rstrip("?.").strip(),
                    kind,
                    optional=name.endswith("?"),
                    variadic=name.endswith("..."),
                )
            )
        return tuple(out)
    signature = inspect.signature(function)
    declared = dict(kinds)
    out = []
    for parameter in signature.parameters.values():
        # A trailing underscore avoids shadowing a builtin (date_, format_); users see the plain name.
        shown = parameter.name.rstrip("_")
        if shown not in declared:
            raise ValueError(f"{function.__name__}: parameter {shown} has no declared kind")
        out.append(
            Param(
                shown,
                declared[shown],
                optional=parameter.default is not inspect.Parameter.empty,
                variadic=parameter.kind is inspect.Parameter.VAR_POSITIONAL,
            )
        )
    return tuple(out)


def lookup(name: str) -> FunctionSpec | None:
    """The function called ``name`` (any case), or None."""
    _load_functions()
    return FUNCTIONS.get(name.upper())


def all_functions() -> list[FunctionSpec]:
    """Every registered function once (aliases folded), by category then name."""
    _load_functions()
    unique = {id(spec): spec for spec in FUNCTIONS.values()}
    return sorted(unique.values(), key=lambda s: (s.category, s.name))


def _load_functions() -> None:
    # Importing the category modules runs their @register decorators (once).
    from crm_lib.formulas import functions  # noqa: F401
