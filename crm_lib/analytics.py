"""DuckDB over the CRM database, for analysts and heavy reports.

:func:`connect` returns an in-memory DuckDB connection with a **snapshot** of the CRM's SQLite
file attached read-only as ``crm``, and plain views in front of it that hide archived rows::

    investors     live investors (with owner_name)
    people        live people of live investors
    contacts      the live directory
    funds         live funds
    commitments   live commitments of live investors, with fund and investor names
    opportunities live opportunities of live investors and funds, with stage and names
    pipeline_stages  the pipeline's live stages
    tasks         live tasks (of live investors, or about no investor), with the assignee
    users         team members, without password hashes
    grid_fields   the grid's live fields
    audit_log     the full history (append-only, nothing to hide)
    emails        captured messages linked or proposed to a live investor (no bodies)
    email_links   each message's investors: linked, proposed or rejected

DuckDB's sqlite extension is loaded from the ``duckdb-extension-sqlite`` pip package, never
downloaded: the wheel's file must be loaded under the name ``sqlite_scanner`` (DuckDB derives the
entry point from the file name), so it is copied once to a cache folder under that name.

Why a snapshot, not the live file: DuckDB's extension carries its own SQLite library and opens
and closes the file for every scan. Closing a descriptor on a database file releases every POSIX
lock this process holds on it, so a notebook holding a CRM connection (``open_crm``) would lose
its locks at each DuckDB query, and another process could checkpoint and delete the WAL under it
(notes/stack.md). The snapshot is taken with SQLite's online backup API through our own library
in one read transaction: one consistent moment for every table of a query (scans of the live
file would each see their own): 1.1-1.5 s for a 420 MB database of 100,000 investors. Call :func:`connect` again for
newer data. Each snapshot is removed when its DuckDB connection is garbage-collected or the
process exits, and snapshots left by processes that died are removed by the next ``connect``.
"""

from __future__ import annotations

import itertools
import os
import shutil
import weakref
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

import duckdb

from crm_lib.backups.files import online_copy
from crm_lib.config import Settings, load_settings
from crm_lib.errors import DatabaseError
from crm_lib.running_server import process_alive
from crm_lib.storage.connect import check_database_file

_SNAPSHOT_NUMBERS = itertools.count(1)

VIEWS = {
    "investors": (
        "SELECT i.*, u.name AS owner_name FROM crm.fundraising_investors i"
        " LEFT JOIN crm.users u ON u.id = i.owner_id WHERE i.deleted_at IS NULL"
    ),
    "people": (
        "SELECT p.* FROM crm.fundraising_contacts p"
        " JOIN crm.fundraising_investors i ON i.id = p.investor_id"
        " WHERE p.deleted_at IS NULL AND i.deleted_at IS NULL"
    ),
    "contacts": (
        "SELECT c.* REPLACE (COALESCE(i.name, c.organization) AS organization),"
        " i.id AS investor_id FROM crm.contacts c"
        " LEFT JOIN crm.fundraising_contacts p ON p.id = c.fundraising_contact_id"
        " LEFT JOIN crm.fundraising_investors i ON i.id = p.investor_id"
        " WHERE c.deleted_at IS NULL AND (c.fundraising_contact_id IS NULL"
        " OR (p.deleted_at IS NULL AND i.deleted_at IS NULL))"
    ),
    "funds": "SELECT * FROM crm.fundraising_funds WHERE deleted_at IS NULL",
    "commitments": (
        "SELECT c.*, f.name AS fund_name, f.vintage_year, i.name AS investor_name,"
        " i.type AS investor_type FROM crm.fundraising_commitments c"
        " JOIN crm.fundraising_funds f ON f.id = c.fund_id"
        " JOIN crm.fundraising_investors i ON i.id = c.investor_id"
        " WHERE c.deleted_at IS NULL AND i.deleted_at IS NULL AND f.deleted_at IS NULL"
    ),
    "opportunities": (
        "SELECT o.*, s.name AS stage, s.kind AS stage_kind, s.position AS stage_position,"
        " coalesce(o.probability, s.probability) AS probability_used,"
        " f.name AS fund_name, i.name AS investor_name FROM crm.opportunities o"
        " JOIN crm.pipeline_stages s ON s.id = o.stage_id"
        " JOIN crm.fundraising_funds f ON f.id = o.fund_id"
        " JOIN crm.fundraising_investors i ON i.id = o.investor_id"
        " WHERE o.deleted_at IS NULL AND i.deleted_at IS NULL AND f.deleted_at IS NULL"
    ),
    "pipeline_stages": "SELECT * FROM crm.pipeline_stages WHERE deleted_at IS NULL",
    "tasks": (
        "SELECT t.*, u.email AS assignee FROM crm.tasks t"
        " LEFT JOIN crm.users u ON u.id = t.assignee_id"
        " LEFT JOIN crm.fundraising_investors i ON i.id = t.investor_id"
        " WHERE t.deleted_at IS NULL AND (t.investor_id IS NULL OR i.deleted_at IS NULL)"
    ),
    "users": (
        "SELECT id, email, name, role, is_active, created_at, updated_at FROM crm.users"
        " WHERE deleted_at IS NULL"
    ),
    "grid_fields": "SELECT * FROM crm.grid_fields WHERE deleted_at IS NULL",
    "audit_log": "SELECT * FROM crm.audit_log",
    # Captured email: messages with at least one link or proposal to a live investor (mail of
    # archived investors, archived mail and private threads are left out), and their links.
    "emails": (
        "SELECT e.id, e.message_id, e.thread_id, e.direction, e.from_address,"
        " e.to_addresses, e.cc_addresses, e.subject, CAST(e.sent_at AS TIMESTAMPTZ) AS sent_at,"
        " u.email AS team_member FROM crm.emails e"
        " JOIN crm.email_threads t ON t.id = e.thread_id"
        " LEFT JOIN crm.users u ON u.id = e.team_member_id"
        " WHERE e.deleted_at IS NULL AND t.deleted_at IS NULL AND t.private_by IS NULL"
        " AND EXISTS (SELECT 1 FROM crm.email_account_messages h WHERE h.email_id = e.id"
        "   AND h.deleted_at IS NULL)"
        " AND EXISTS (SELECT 1 FROM crm.email_investor_links l"
        "   JOIN crm.fundraising_investors i ON i.id = l.investor_id"
        "   WHERE l.email_id = e.id AND l.deleted_at IS NULL AND i.deleted_at IS NULL"
        "  UNION ALL SELECT 1 FROM crm.email_activity_proposals p"
        "   JOIN crm.fundraising_investors i ON i.id = p.investor_id"
        "   WHERE p.email_id = e.id AND p.deleted_at IS NULL AND i.deleted_at IS NULL)"
    ),
    "email_links": (
        "SELECT l.email_id, l.investor_id, l.person_id, 'linked' AS status"
        " FROM crm.email_investor_links l"
        " JOIN crm.fundraising_investors i ON i.id = l.investor_id"
        " JOIN crm.emails e ON e.id = l.email_id"
        " WHERE l.deleted_at IS NULL AND i.deleted_at IS NULL AND e.deleted_at IS NULL"
        " UNION ALL SELECT p.email_id, p.investor_id, NULL AS person_id,"
        " CASE p.status WHEN 'pending' THEN 'proposed' ELSE 'rejected' END AS status"
        " FROM crm.email_activity_proposals p"
        " JOIN crm.fundraising_investors i ON i.id = p.investor_id"
        " JOIN crm.emails e ON e.id = p.email_id"
        " WHERE p.deleted_at IS NULL AND i.deleted_at IS NULL AND e.deleted_at IS NULL"
        " AND p.status IN ('pending', 'rejected')"
    ),
}


def sqlite_extension_path(cache_dir: Path) -> Path:
    """The pip-installed sqlite extension, copied under the name DuckDB needs to load it."""
    version = duckdb.__version__
    packaged = resources.files("duckdb_extension_sqlite").joinpath(
        "extensions", f"v{version}", "sqlite.duckdb_extension"
    )
    if not packaged.is_file():
        raise DatabaseError(
            f"The DuckDB sqlite extension for DuckDB {version} is not installed; "
            f"run `pip install duckdb-extension-sqlite=={version}`"
        )
    target = cache_dir / f"duckdb-{version}" / "sqlite_scanner.duckdb_extension"
    source = Path(str(packaged))
    if not target.exists() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return target


def sql_literal(path: Path) -> str:
    """A path as a SQL string literal (quotes doubled)."""
    return "'" + str(path).replace("'", "''") + "'"


def connect(
    data_dir: str | Path | None = None,
    *,
    settings: Settings | None = None,
    views: Iterable[str] | None = None,
    definitions: Mapping[str, str] | None = None,
    snapshot: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """DuckDB with the CRM attached read-only as ``crm`` and live-row views (see module doc):
    all of them, or only ``views`` (the plain-English questions see fewer); ``definitions``
    replaces some views' SQL (the questions' ``emails`` hides subjects shared as metadata).
    ``snapshot``: a copy already taken with :func:`take_snapshot` (the connection owns it from
    now on: it is removed with the connection)."""
    settings = settings or load_settings(data_dir=data_dir)
    if snapshot is None:
        path = settings.database_path
        if not path.exists():
            raise DatabaseError(f"No CRM database at {path}; run `crm init` first", path=path)
        check_database_file(path)
        snapshot = take_snapshot(path, snapshot_folder(settings))
    con = duckdb.connect(
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    weakref.finalize(con, snapshot.unlink, missing_ok=True)
    # LOAD and ATTACH take no bound parameters: the (operator-chosen) paths go in as literals.
    con.execute(f"LOAD {sql_literal(sqlite_extension_path(settings.data_dir / 'cache'))}")
    con.execute(f"ATTACH {sql_literal(snapshot)} AS crm (TYPE sqlite, READ_ONLY)")
    wanted = set(VIEWS if views is None else views)
    for name, sql in {**VIEWS, **(definitions or {})}.items():
        if name in wanted:
            con.execute(f"CREATE VIEW {name} AS {sql}")
    return con


def snapshot_folder(settings: Settings) -> Path:
    """Where snapshots (and the questions' DuckDB copies of them) are kept while in use."""
    return settings.data_dir / "cache" / "analytics"


def take_snapshot(database: Path, folder: Path) -> Path:
    """A consistent copy of ``database`` for DuckDB to read, named after this process so that
    copies left behind by processes that no longer run can be told apart and removed."""
    folder.mkdir(parents=True, exist_ok=True)
    _remove_orphans(folder)
    target = folder / f"snapshot-{os.getpid()}-{next(_SNAPSHOT_NUMBERS)}.db"
    target.unlink(missing_ok=True)  # a pid reused after a crash
    online_copy(database, target)
    return target


def _remove_orphans(folder: Path) -> None:
    for leftover in folder.glob("snapshot-*.db*"):
        pid = leftover.name.split("-")[1]
        if pid.isascii() and pid.isdigit() and not process_alive(int(pid)):
            leftover.unlink(missing_ok=True)
