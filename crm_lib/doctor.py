"""Health checks for ``crm doctor``: the install, the database and the disk, each a small function.

Checks are registered in order with :func:`check`; each returns one or more :class:`Finding`
(``ok``, ``warn`` or ``fail``) whose message says what is wrong *and what to do about it*.
A check that crashes is reported as a failure of that check, never as a traceback.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import duckdb
import sqlite_utils

from crm_lib.analytics import sql_literal, sqlite_extension_path
from crm_lib.config import Settings
from crm_lib.errors import CRMError
from crm_lib.storage.connect import (
    MIN_SQLITE_VERSION,
    check_database_file,
    connect,
    dbapi,
    sqlite_library_version,
)
from crm_lib.storage.migrations import applied_versions, available_migrations

DISTRIBUTION = "venture-crm"
MIN_FREE_BYTES = 100 * 2**20
WARN_FREE_BYTES = 2**30


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report."""

    level: str  # "ok" | "warn" | "fail"
    message: str


Check = Callable[[Settings], Iterable[Finding]]
CHECKS: list[tuple[str, Check]] = []


def check(name: str) -> Callable[[Check], Check]:
    """Register a check under ``name`` (run in registration order)."""

    def decorator(fn: Check) -> Check:
        CHECKS.append((name, fn))
        return fn

    return decorator


@check("python")
def check_python(settings: Settings) -> Iterable[Finding]:
    # This code cannot even be imported below 3.11, so reaching here means the version is fine.
    yield Finding("ok", f"Python {'.'.join(map(str, sys.version_info[:3]))} at {sys.executable}")


@check("packages")
def check_packages(settings: Settings) -> Iterable[Finding]:
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        yield Finding("fail", f"{DISTRIBUTION} is not installed; run `pip install -e .`")
        return
    wrong, checked = [], 0
    for requirement in requirements:
        if ";" in requirement or "==" not in requirement:
            continue  # extras (test, notebooks) and unpinned entries
        name, pinned = (part.strip() for part in requirement.split("==", 1))
        checked += 1
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name} missing (want {pinned})")
            continue
        if installed != pinned:
            wrong.append(f"{name} {installed} (want {pinned})")
    if wrong:
        yield Finding(
            "fail", "Packages differ from the pins: " + "; ".join(wrong) + ". Run ./panel_serve.sh"
        )
    else:
        yield Finding("ok", f"{checked} pinned packages installed at their pinned versions")


@check("sqlite")
def check_sqlite(settings: Settings) -> Iterable[Finding]:
    wanted = ".".join(map(str, MIN_SQLITE_VERSION))
    if sqlite_library_version() < MIN_SQLITE_VERSION:
        yield Finding(
            "fail", f"SQLite {dbapi.sqlite_version} has the WAL-reset bug; need >= {wanted}"
        )
    else:
        yield Finding("ok", f"SQLite {dbapi.sqlite_version} (pysqlite3; >= {wanted})")


@check("duckdb")
def check_duckdb(settings: Settings) -> Iterable[Finding]:
    # Cache the extension copy under the data folder only once a database lives there: the
    # doctor creates nothing in a folder `crm init` has not set up.
    cache = (
        settings.data_dir / "cache"
        if settings.database_path.is_file()
        else Path(tempfile.gettempdir())
    )
    path = sqlite_extension_path(cache)
    con = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        con.execute(f"LOAD {sql_literal(path)}")
    finally:
        con.close()
    yield Finding("ok", f"DuckDB {duckdb.__version__} with its sqlite extension (offline)")


@check("data folder")
def check_data_dir(settings: Settings) -> Iterable[Finding]:
    folder = settings.data_dir
    if not folder.exists():
        yield Finding("warn", f"Data folder {folder} does not exist yet; run `crm init`")
        return
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        yield Finding("fail", f"Cannot write to {folder}: {exc.strerror}")
        return
    yield Finding("ok", f"Data folder {folder} is writable")


@check("disk")
def check_disk(settings: Settings) -> Iterable[Finding]:
    folder = settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    db_size = settings.database_path.stat().st_size if settings.database_path.exists() else 0
    text = f"{free / 2**30:.1f} GiB free at {folder}"
    if free < max(MIN_FREE_BYTES, 2 * db_size):
        yield Finding("fail", f"Only {text}: too little for the database and its backups")
    elif free < max(WARN_FREE_BYTES, 4 * db_size):
        yield Finding("warn", f"Only {text}; free some space before backups fill the disk")
    else:
        yield Finding("ok", text)


@check("database")
def check_database(settings: Settings) -> Iterable[Finding]:
    path = settings.database_path
    if not path.exists():
        yield Finding("warn", f"No database at {path} yet; run `crm init`")
        return
    check_database_file(path)
    db = connect(path, check_file=False)
    try:
        yield from _database_findings(db, path)
    finally:
        db.conn.close()


def _database_findings(db: sqlite_utils.Database, path: Path) -> Iterable[Finding]:
    applied = applied_versions(db)
    shipped = {m.version: m for m in available_migrations()}
    current, latest = max(applied, default=0), max(shipped)
    size_mib = path.stat().st_size / 2**20
    if current > latest:
        yield Finding("fail", f"{path} has schema {current}, newer than this app ({latest})")
        return
    if current < latest:
        yield Finding("warn", f"{path} is at schema {current} of {latest}; run `crm init`")
    else:
        yield Finding("ok", f"{path} ({size_mib:.1f} MiB) passes quick_check, schema {current}")
    edited = [
        v for v, checksum in applied.items() if v in shipped and shipped[v].checksum != checksum
    ]
    if edited:
        yield Finding("warn", f"Migration files changed after they were applied: {edited}")
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    if mode.lower() != "wal":
        yield Finding("warn", f"Journal mode is {mode}, expected wal")
    violations = db.execute("PRAGMA foreign_key_check").fetchall()
    if violations:
        yield Finding("fail", f"{len(violations)} rows break foreign keys, e.g. {violations[0]}")
    if current:
        drift = db.execute(
            "SELECT count(*) FROM fundraising_investors i WHERE i.total_invested !="
            " (SELECT ROUND(COALESCE(SUM(amount), 0), 2) FROM fundraising_commitments c"
            "  WHERE c.investor_id = i.id AND c.deleted_at IS NULL)"
        ).fetchone()[0]
        if drift:
            yield Finding(
                "fail",
                f"{drift} investors have a total_invested that disagrees with their commitments",
            )


def run_checks(settings: Settings) -> list[tuple[str, Finding]]:
    """Run every registered check; a crashing check becomes a failure naming the error."""
    report = []
    for name, fn in CHECKS:
        try:
            findings = list(fn(settings))
        except CRMError as exc:
            findings = [Finding("fail", exc.message)]
        except (OSError, dbapi.Error, duckdb.Error) as exc:
            findings = [Finding("fail", f"{type(exc).__name__}: {exc}")]
        report.extend((name, finding) for finding in findings)
    return report
