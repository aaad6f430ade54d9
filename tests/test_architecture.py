"""Layer rules, checked by walking the imports and string constants (failures name file:line)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import crm_lib

ROOT = Path(__file__).resolve().parents[1]
# A statement's shape, not just its first word ("DELETE" is also an HTTP method, "Create a
# token" a sentence).
SQL = re.compile(
    r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+\S+\s+SET\s|DELETE\s+FROM\s"
    r"|CREATE\s+(UNIQUE\s+)?(TABLE|INDEX|VIEW|TRIGGER)\s|ALTER\s+TABLE\s|DROP\s+(TABLE|INDEX|VIEW)\s"
    r"|PRAGMA\s+\w)",
    re.IGNORECASE | re.DOTALL,
)
FRONT_END_FORBIDDEN = ("panel", "bokeh", "tornado", "apps", "param")


def python_files(folder: str) -> Iterator[Path]:
    yield from sorted((ROOT / folder).rglob("*.py"))


def imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module


def test_crm_lib_never_imports_front_end_frameworks_or_apps() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in python_files("crm_lib")
        for line, name in imports(path)
        if name.split(".")[0] in FRONT_END_FORBIDDEN
    ]
    assert offences == []


def test_apps_hold_no_sql_and_no_storage_imports() -> None:
    offences = []
    for path in python_files("apps"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and SQL.match(node.value)
            ):
                offences.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} has SQL {node.value[:40]!r}"
                )
        for line, name in imports(path):
            if name.startswith(("crm_lib.storage", "sqlite3", "pysqlite3", "sqlite_utils")):
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert offences == []


def test_one_sqlite_library_opens_our_files() -> None:
    """Two SQLite libraries in one process (the standard library's ``sqlite3`` and
    ``pysqlite3``) cannot see each other's locks, and one closing a file drops the other's:
    every connection goes through ``crm_lib.storage.connect.dbapi`` (pysqlite3). DuckDB's own
    SQLite reads only the snapshot ``crm_lib.analytics`` takes (tests/test_analytics.py)."""
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for folder in ("crm_lib", "apps", "jobs")
        for path in python_files(folder)
        for line, name in imports(path)
        if name.split(".")[0] == "sqlite3"
        or (name.split(".")[0] == "pysqlite3" and path.name != "connect.py")
    ]
    notebooks = [
        f"{path.relative_to(ROOT)} imports sqlite3"
        for path in sorted((ROOT / "notebooks").glob("*.ipynb"))
        if re.search(r"\b(import sqlite3|from sqlite3 )", path.read_text())
    ]
    assert offences + notebooks == []


def test_only_config_reads_the_environment() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in python_files("crm_lib")
        if path.name != "config.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
    ]
    assert offences == []


def test_public_surface_is_pinned() -> None:
    assert sorted(crm_lib.__all__) == [
        "CRMError",
        "ConflictError",
        "Context",
        "DatabaseError",
        "NotFound",
        "PermissionDenied",
        "ValidationError",
        "init_database",
        "open_crm",
        "services",
    ]
    assert all(hasattr(crm_lib.services, name) for name in crm_lib.services.__all__)


FORMULAS_MAY_IMPORT = ("crm_lib.formulas", "crm_lib.errors", "crm_lib.clock")


def test_formulas_are_pure_values_in_values_out() -> None:
    """The engine reads no database and calls no service: the grid stores what it computes."""
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in python_files("crm_lib/formulas")
        for line, name in imports(path)
        if (name.startswith("crm_lib") and not name.startswith(FORMULAS_MAY_IMPORT))
        or name.split(".")[0] in ("sqlite3", "pysqlite3", "sqlite_utils", "duckdb", "os")
    ]
    assert offences == []


def test_formulas_never_evaluate_text_as_code() -> None:
    """No eval/exec/compile and no getattr driven by formula text anywhere in the engine."""
    offences = [
        f"{path.relative_to(ROOT)}:{node.lineno} calls {node.func.id}"
        for path in python_files("crm_lib/formulas")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("eval", "exec", "compile", "__import__", "getattr")
    ]
    assert offences == []


def test_formulas_public_api_is_pinned() -> None:
    import crm_lib.formulas as formulas

    assert sorted(formulas.__all__) == [
        "ErrorValue",
        "Formula",
        "FormulaError",
        "FormulaGraph",
        "Limits",
        "RecordInfo",
        "ValueType",
        "compile_formula",
        "evaluate",
        "rename_references",
    ]


def test_pages_compose_their_panels_and_no_panel_imports_its_page() -> None:
    """apps/grid and apps/admin: the page imports its panels; a panel gets the page as an
    interface (apps/grid/host.py) and never imports the page module, even for type hints."""
    offenders = []
    for package, page in (("grid", "apps.grid.page"), ("admin", "apps.admin.page")):
        for path in sorted((ROOT / "apps" / package).glob("*.py")):
            if path.name == "page.py":
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = (
                    [node.module or ""]
                    if isinstance(node, ast.ImportFrom)
                    else [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else []
                )
                if page in names:
                    offenders.append(f"{path.relative_to(ROOT)} imports {page}")
    assert offenders == []
