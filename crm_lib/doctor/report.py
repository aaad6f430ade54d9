"""Running the registered checks and collecting what they found into a :class:`Report`.

A check that crashes with an error the doctor expects (a ``CRMError``, an ``OSError``, a SQLite
or DuckDB error) becomes a failure of that check naming the error, after whatever it found
before; the report never shows a traceback.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import duckdb

from crm_lib.config import Settings
from crm_lib.doctor.core import CHECKS, LEVELS, Check, Finding, Setup
from crm_lib.errors import CRMError
from crm_lib.storage.connect import dbapi


@dataclass(frozen=True)
class Report:
    """Every finding, in check order, with the check's name."""

    findings: list[tuple[str, Finding]]

    @property
    def failed(self) -> int:
        return sum(f.level == "fail" for _, f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.level == "warn" for _, f in self.findings)

    def groups(self) -> list[tuple[str, list[Finding]]]:
        """(check, its findings) in the order the checks ran."""
        grouped: dict[str, list[Finding]] = {}
        for name, finding in self.findings:
            grouped.setdefault(name, []).append(finding)
        return list(grouped.items())

    def to_fix(self) -> list[tuple[str, Finding]]:
        """Failures, then warnings; a fix shared by several findings is listed once."""
        listed: list[tuple[str, Finding]] = []
        seen: set[str] = set()
        for level in ("fail", "warn"):
            for name, finding in self.findings:
                todo = finding.fix or finding.message
                if finding.level == level and todo not in seen:
                    seen.add(todo)
                    listed.append((name, finding))
        return listed

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.failed == 0,
            "failed": self.failed,
            "warnings": self.warnings,
            "checks": [
                {
                    "name": name,
                    "level": max((f.level for f in found), key=LEVELS.index),
                    "findings": [asdict(f) for f in found],
                }
                for name, found in self.groups()
            ],
        }


def _run(fn: Check, setup: Setup) -> list[Finding]:
    found: list[Finding] = []
    try:
        for finding in fn(setup):
            found.append(finding)
    except CRMError as exc:
        found.append(Finding("fail", exc.message))
    except (OSError, dbapi.Error, duckdb.Error) as exc:
        found.append(Finding("fail", f"{type(exc).__name__}: {exc}"))
    return found


def run_check(name: str, setup: Setup) -> list[Finding]:
    """Run the one check registered as ``name`` (as :func:`run_checks` runs it)."""
    fn = dict(CHECKS).get(name)
    if fn is None:
        raise KeyError(f"No doctor check {name!r}; there are: {', '.join(n for n, _ in CHECKS)}")
    return _run(fn, setup)


def run_checks(setup: Setup | Settings) -> Report:
    """Run every registered check; a crashing check becomes a failure naming the error, after
    whatever it found before."""
    if isinstance(setup, Settings):
        setup = Setup(setup)
    return Report([(name, f) for name, fn in CHECKS for f in _run(fn, setup)])
