"""The install: Python, the pinned packages, SQLite (pysqlite3, past the WAL-reset bug) and
DuckDB with its sqlite extension, loaded offline."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import duckdb

from crm_lib.analytics import sql_literal, sqlite_extension_path
from crm_lib.doctor.core import Finding, Setup, check
from crm_lib.storage.connect import MIN_SQLITE_VERSION, dbapi, sqlite_library_version

DISTRIBUTION = "venture-crm"


@check("python")
def check_python(setup: Setup) -> Iterable[Finding]:
    # This code cannot even be imported below 3.11, so reaching here means the version is fine.
    yield Finding("ok", f"Python {'.'.join(map(str, sys.version_info[:3]))} at {sys.executable}")


@check("packages")
def check_packages(setup: Setup) -> Iterable[Finding]:
    try:
        requirements = metadata.requires(DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        yield Finding("fail", f"{DISTRIBUTION} is not installed", "run `pip install -e .`")
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
            "fail", "Packages differ from the pins: " + "; ".join(wrong), "run ./panel_serve.sh"
        )
    else:
        yield Finding("ok", f"{checked} pinned packages installed at their pinned versions")


@check("sqlite")
def check_sqlite(setup: Setup) -> Iterable[Finding]:
    wanted = ".".join(map(str, MIN_SQLITE_VERSION))
    if sqlite_library_version() < MIN_SQLITE_VERSION:
        yield Finding(
            "fail",
            f"SQLite {dbapi.sqlite_version} has the WAL-reset bug; need >= {wanted}",
            "reinstall with `pip install -e .` to get pysqlite3",
        )
    else:
        yield Finding("ok", f"SQLite {dbapi.sqlite_version} (pysqlite3; >= {wanted})")


@check("duckdb")
def check_duckdb(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
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
