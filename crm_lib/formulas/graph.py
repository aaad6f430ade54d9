"""The dependency graph between formula fields: refuse cycles, recompute only what changed.

Each formula field reads some fields (its ``dependencies``); some of those are formula fields too.
That makes a directed graph, which must have no cycle: ``{A}`` reading ``{B}`` reading ``{A}`` has
no value, so the graph refuses it and names the loop, "{A} → {B} → {A}".

From the graph we get a *topological order* (every formula after the formulas it reads) and, for
any set of changed fields, the formulas *affected*: those that read a changed field, directly or
through other formulas. Two kinds of change use it:

- a cell edit changes one field of one record: :meth:`FormulaGraph.recompute_record` re-evaluates
  only the affected formulas, in order, for that record;
- a changed formula (or a bulk import) changes a whole column: :meth:`FormulaGraph.recompute_columns`
  re-evaluates the formula and everything downstream of it, a column at a time.

A ``tracer`` callback sees each evaluation (field name, number of records), so tests can count work
instead of timing it. When a request's total evaluation budget runs out, the
:class:`~crm_lib.formulas.limits.BudgetSpent` that stops it names the formula being computed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager

from crm_lib.errors import FormulaError
from crm_lib.formulas.engine import RecordInfo
from crm_lib.formulas.formula import Formula
from crm_lib.formulas.limits import BudgetSpent

Tracer = Callable[[str, int], None]


def _braced(name: str) -> str:
    return "{" + name + "}"


def find_cycle(dependencies: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A loop among formula fields as a path that returns to its start, or None.

    ``dependencies`` maps each formula field to the fields it reads; fields that are not keys are
    plain data and end every path.
    """
    graph = {name: sorted(set(deps) & set(dependencies)) for name, deps in dependencies.items()}
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    for root in sorted(graph):
        if state.get(root):
            continue
        path = [root]
        state[root] = 1
        stack = [iter(graph[root])]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            mark = state.get(following)
            if mark == 1:
                return [*path[path.index(following) :], following]
            if mark is None:
                state[following] = 1
                path.append(following)
                stack.append(iter(graph[following]))
    return None


class FormulaGraph:
    """Formula fields by name and what they read; raises :class:`FormulaError` on a cycle."""

    def __init__(self, formulas: Mapping[str, Formula], *, tracer: Tracer | None = None) -> None:
        self.formulas = dict(formulas)
        self.tracer = tracer
        dependencies = {name: formula.dependencies for name, formula in self.formulas.items()}
        cycle = find_cycle(dependencies)
        if cycle is not None:
            loop = " → ".join(_braced(name) for name in cycle)
            raise FormulaError(f"Formulas form a cycle: {loop}", field=cycle[0])
        self.readers: dict[str, set[str]] = {}
        for name, deps in dependencies.items():
            for dependency in deps:
                self.readers.setdefault(dependency, set()).add(name)
        self.order = self._topological_order(dependencies)

    def _topological_order(self, dependencies: Mapping[str, Iterable[str]]) -> list[str]:
        remaining = {name: set(deps) & set(dependencies) for name, deps in dependencies.items()}
        order: list[str] = []
        ready = sorted(name for name, deps in remaining.items() if not deps)
        while ready:
            name = ready.pop(0)
            order.append(name)
            for reader in sorted(self.readers.get(name, ())):
                pending = remaining[reader]
                pending.discard(name)
                if not pending and reader not in order and reader not in ready:
                    ready.append(reader)
        return order

    def affected_by(self, changed: Iterable[str]) -> list[str]:
        """Formula fields to recompute when ``changed`` fields change, in a safe order.

        A changed formula field is itself included (its definition changed); then everything that
        reads a changed field, transitively.
        """
        affected: set[str] = {name for name in changed if name in self.formulas}
        frontier = list(changed)
        while frontier:
            name = frontier.pop()
            for reader in self.readers.get(name, ()):
                if reader not in affected:
                    affected.add(reader)
                    frontier.append(reader)
        return [name for name in self.order if name in affected]

    def recompute_record(
        self,
        values: Mapping[str, object],
        changed: Iterable[str],
        record: RecordInfo | None = None,
    ) -> dict[str, object]:
        """New values of the affected formula fields for one record (errors as ErrorValue)."""
        current = dict(values)
        results: dict[str, object] = {}
        for name in self.affected_by(changed):
            if self.tracer is not None:
                self.tracer(name, 1)
            with _naming(name):
                current[name] = results[name] = self.formulas[name].evaluate(current, record)
        return results

    def recompute_columns(
        self,
        columns: Mapping[str, Sequence[object]],
        changed: Iterable[str],
        records: Sequence[RecordInfo] | None = None,
    ) -> dict[str, list[object]]:
        """New columns of the affected formula fields for many records, a column at a time."""
        current: dict[str, Sequence[object]] = dict(columns)
        count = len(next(iter(columns.values()))) if columns else len(records or ())
        results: dict[str, list[object]] = {}
        for name in self.affected_by(changed):
            if self.tracer is not None:
                self.tracer(name, count)
            with _naming(name):
                column = self.formulas[name].evaluate_many(current, records, n=count)
            current[name] = results[name] = column
        return results


@contextmanager
def _naming(name: str) -> Iterator[None]:
    """Name the formula in a :class:`BudgetSpent` raised while computing it."""
    try:
        yield
    except BudgetSpent as exc:
        exc.formula = exc.formula or name
        raise
