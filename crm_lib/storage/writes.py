"""THE write path: every change to the database goes through :func:`write`.

One call of ``with write(ctx) as tx:`` is one ``BEGIN IMMEDIATE`` transaction. Inside it,
``tx.insert`` / ``tx.update`` / ``tx.archive`` / ``tx.restore``

* check the version the caller read (``expected_version``) and raise :class:`ConflictError` with the
  current version, ``updated_at`` and ``updated_by`` if another write came first;
* fill the bookkeeping columns (version, created/updated/deleted at and by);
* write audit rows: one per created/archived/restored row (with a JSON image of the row) and one per
  changed field (old → new, each JSON-encoded), all sharing the transaction's ``txn`` id;
* remember what changed, so that on commit ``fundraising_state`` is bumped (if the grid's data
  changed) and change events are published.

Any exception rolls everything back: nothing is half-written. A full disk (SQLite's
SQLITE_FULL, which may already have rolled the transaction back itself) becomes
:class:`~crm_lib.errors.DiskFull`. Calls nest: a service that calls another service inside its
own ``write`` shares the outer transaction.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import sqlite_utils

from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import (
    ConflictError,
    DatabaseBusy,
    DiskFull,
    NotFound,
    ValidationError,
    database_failure,
)
from crm_lib.events import Change, publishing
from crm_lib.storage.connect import BUSY_TIMEOUT_MS, dbapi
from crm_lib.storage.reads import execute_bound
from crm_lib.storage.sql import quote

log = logging.getLogger(__name__)

#: Columns every mutable table carries and that only the write path sets.
BOOKKEEPING = (
    "id",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "deleted_at",
    "deleted_by",
)

#: Tables whose changes the grid shows; a change to any of them bumps ``fundraising_state``.
GRID_TABLES = frozenset(
    {
        "fundraising_investors",
        "fundraising_contacts",
        "fundraising_commitments",
        "fundraising_funds",
        "fundraising_views",
        "grid_fields",
        "contacts",
    }
)

#: Versions whose changed investors ``grid_changes`` keeps (pruned every so many writes): a
#: view's remembered ids older than that are read afresh (crm_lib/grid/ordered_ids.py).
GRID_CHANGES_KEPT = 20_000
GRID_CHANGES_PRUNE_EVERY = 1_000
#: Tables whose changes can rewrite any investor's stored values (a field's type change
#: converts its column): remembered views are read afresh after them.
RESHAPING_TABLES = frozenset({"grid_fields"})


#: The pseudo-column a ``grid_changes`` entry names when an investor's commitments changed.
COMMITMENTS_CHANGED = "commitments"


def investor_changes(conn: Any, changes: list[Change]) -> list[Any] | str:
    """The investors a write touched, for ``grid_changes``: ``[first, last, action, columns]``
    per change (columns None: the whole row), or "all" after a write that may reshape every row.
    A commitment's change names its investor with the column :data:`COMMITMENTS_CHANGED` (the
    footer's per-fund sums, :mod:`crm_lib.grid.column_values`, re-read that investor's)."""
    if any(change.entity in RESHAPING_TABLES for change in changes):
        return "all"
    touched: list[Any] = [
        [
            change.entity_id,
            change.last_entity_id or change.entity_id,
            change.action,
            list(change.fields) if change.action == "update" else None,
        ]
        for change in changes
        if change.entity == "fundraising_investors"
    ]
    for change in changes:
        if change.entity != "fundraising_commitments":
            continue
        owners = conn.execute(
            "SELECT DISTINCT investor_id FROM fundraising_commitments WHERE id BETWEEN ? AND ?",
            (change.entity_id, change.last_entity_id or change.entity_id),
        ).fetchall()
        touched += [[owner, owner, "update", [COMMITMENTS_CHANGED]] for (owner,) in owners]
    return touched


#: Human names for error messages.
ENTITY_NAMES = {
    "fundraising_investors": "Investor",
    "fundraising_contacts": "Person",
    "fundraising_commitments": "Commitment",
    "fundraising_funds": "Fund",
    "pipeline_stages": "Stage",
    "opportunities": "Opportunity",
    "tasks": "Task",
    "fundraising_views": "View",
    "contacts": "Contact",
    "grid_fields": "Field",
    "users": "User",
    "feature_requests": "Feature request",
    "feature_request_votes": "Vote",
    "app_settings": "Setting",
    "backups": "Backup",
    "job_runs": "Job run",
    "invites": "Invite",
    "sessions": "Session",
    "api_tokens": "API token",
    "imports": "Import",
    "import_profiles": "Import profile",
    "digest_sends": "Digest send",
}

#: Columns holding secrets (password hashes, token digests). Audit rows never copy them: history
#: shows that such a value changed, as ``"[redacted]"``, never the value.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash"})
REDACTED = "[redacted]"


def same_stored_value(old: Any, new: Any) -> bool:
    """Would writing ``new`` leave the stored value as it is? (SQLite compares 2 and 2.0 equal.)

    Text "1" and the number 1 differ, so a type change is still a change, except int vs float.
    """
    numeric = (int, float)
    if isinstance(old, numeric) and isinstance(new, numeric):
        return isinstance(old, bool) == isinstance(new, bool) and old == new
    return type(old) is type(new) and old == new


def data_columns(db: sqlite_utils.Database, table: str) -> list[str]:
    """The table's columns minus bookkeeping, in table order (what a create audit row records)."""
    return [c.name for c in db[table].columns if c.name not in BOOKKEEPING]


def audited_columns(db: sqlite_utils.Database, table: str) -> list[str]:
    """Data columns whose values audit rows may copy (all but :data:`SECRET_COLUMNS`)."""
    return [c for c in data_columns(db, table) if c not in SECRET_COLUMNS]


class WriteTransaction:
    """The open transaction of one :func:`write` block. Use only inside that block."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.conn = ctx.db.conn
        self.actor = ctx.actor
        self.now = timestamp(ctx.clock.now())
        self.txn = uuid.uuid4().hex
        self.changes: list[Change] = []
        self._columns: dict[str, list[str]] = {}
        self._audited: dict[str, list[str]] = {}

    # -- helpers -------------------------------------------------------------------------------
    def columns(self, table: str) -> list[str]:
        """Data columns of ``table`` (cached for this transaction)."""
        if table not in self._columns:
            self._columns[table] = data_columns(self.ctx.db, table)
        return self._columns[table]

    def audited(self, table: str) -> list[str]:
        """Columns of ``table`` that audit row images copy (cached for this transaction)."""
        if table not in self._audited:
            self._audited[table] = audited_columns(self.ctx.db, table)
        return self._audited[table]

    def next_id(self, table: str) -> int:
        """The id the next insert into ``table`` will get (safe: we hold the write lock)."""
        row = self.conn.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {quote(table)}").fetchone()
        return int(row[0])

    def fetch(self, table: str, row_id: int) -> dict[str, Any]:
        """The row as stored, archived or not; :class:`NotFound` if it never existed."""
        cursor = self.conn.execute(f"SELECT * FROM {quote(table)} WHERE id = ?", (row_id,))
        row = cursor.fetchone()
        if row is None:
            raise NotFound(ENTITY_NAMES.get(table, table).lower(), row_id)
        return dict(zip([d[0] for d in cursor.description], row, strict=True))

    def _check_version(self, table: str, row: Mapping[str, Any], expected: int | None) -> None:
        if expected is not None and row["version"] != expected:
            raise ConflictError(
                ENTITY_NAMES.get(table, table),
                row["id"],
                expected_version=expected,
                current_version=row["version"],
                updated_at=row["updated_at"],
                updated_by=row["updated_by"],
                updated_by_name=self._display_name(row["updated_by"]),
            )

    def _display_name(self, actor: str | None) -> str | None:
        """The name the team knows a writer by (a user's display name; else the actor as
        recorded, e.g. 'system:nightly'), for messages a person reads."""
        if not actor:
            return None
        found = self.conn.execute(
            "SELECT name FROM users WHERE email = ? COLLATE NOCASE AND name IS NOT NULL"
            " AND name != ''",
            (actor,),
        ).fetchone()
        return found[0] if found else actor

    def _audit(
        self,
        table: str,
        row_id: int,
        action: str,
        field: str | None = None,
        old: Any = None,
        new: Any = None,
    ) -> None:
        if field in SECRET_COLUMNS:
            old, new = (REDACTED if old is not None else None), REDACTED
        self.conn.execute(
            "INSERT INTO audit_log (at, actor, txn, entity, entity_id, action, field,"
            " old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.now,
                self.actor,
                self.txn,
                table,
                row_id,
                action,
                field,
                json.dumps(old),
                json.dumps(new),
            ),
        )

    def audit_change(self, table: str, row_id: int, field: str, old: Any, new: Any) -> None:
        """Record one changed value made by a bulk statement (a field's type conversion), so
        history shows it and can restore it like any edit."""
        self._audit(table, row_id, "update", field, old, new)

    def audit_row_images(self, table: str, action: str, first_id: int, last_id: int) -> None:
        """Audit rows holding a JSON image of each row with ``first_id <= id <= last_id``.

        Built by SQLite itself (``json_object``), so the bulk path and the single-row path record
        exactly the same thing, at C speed.
        """
        pairs = ", ".join(f"'{column}', {quote(column)}" for column in self.audited(table))
        self.conn.execute(
            "INSERT INTO audit_log (at, actor, txn, entity, entity_id, action, new_value)"
            f" SELECT ?, ?, ?, ?, id, ?, json_object({pairs}) FROM {quote(table)}"
            " WHERE id BETWEEN ? AND ?",
            (self.now, self.actor, self.txn, table, action, first_id, last_id),
        )

    def audit_created_range(self, table: str, first_id: int, last_id: int) -> None:
        """One audit row for the rows ``first_id`` .. ``last_id`` a bulk write created (their ids
        are contiguous): what each holds is the row itself at version 1, so no image is copied.
        A record's history shows it as the record's creation (see ``investor_history``)."""
        self.conn.execute(
            "INSERT INTO audit_log"
            " (at, actor, txn, entity, entity_id, last_entity_id, action, new_value)"
            " VALUES (?, ?, ?, ?, ?, ?, 'create', json_object('first_id', ?, 'last_id', ?,"
            " 'rows', ?))",
            (
                self.now,
                self.actor,
                self.txn,
                table,
                first_id,
                last_id,
                first_id,
                last_id,
                last_id - first_id + 1,
            ),
        )

    def _execute(self, sql: str, params: tuple[Any, ...] | list[Any]) -> None:
        try:
            execute_bound(self.conn, sql, params)
        except dbapi.IntegrityError as exc:
            raise ValidationError(f"Cannot save: {exc}") from None

    # -- the four writes ----------------------------------------------------------------------
    def insert(self, table: str, values: Mapping[str, Any], *, row_id: int | None = None) -> int:
        """Insert one row (values already validated and in storage form); returns its id."""
        record = dict(values)
        if row_id is not None:
            record["id"] = row_id
        record.update(
            version=1,
            created_at=self.now,
            created_by=self.actor,
            updated_at=self.now,
            updated_by=self.actor,
        )
        names = ", ".join(quote(k) for k in record)
        marks = ", ".join("?" for _ in record)
        self._execute(
            f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", list(record.values())
        )
        new_id = (
            row_id
            if row_id is not None
            else int(self.conn.execute("SELECT last_insert_rowid()").fetchone()[0])
        )
        self.audit_row_images(table, "create", new_id, new_id)
        self.changes.append(Change(table, new_id, "create", (), 1, self.actor, self.txn))
        return new_id

    def update(
        self,
        table: str,
        row_id: int,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None,
    ) -> dict[str, Any]:
        """Change fields of a live row; returns the row as now stored.

        ``expected_version=None`` is reserved for derived values the library maintains itself
        (rollups); every caller-initiated change passes the version it read.
        Fields whose value does not change are not written and not audited; if nothing changes,
        the version is not bumped.
        """
        row = self.fetch(table, row_id)
        if row["deleted_at"] is not None:
            raise NotFound(ENTITY_NAMES.get(table, table).lower(), row_id)
        self._check_version(table, row, expected_version)
        changed = {k: v for k, v in changes.items() if not same_stored_value(row[k], v)}
        if not changed:
            return row
        assignments = ", ".join(f"{quote(k)} = ?" for k in changed)
        self._execute(
            f"UPDATE {quote(table)} SET {assignments}, version = version + 1,"
            " updated_at = ?, updated_by = ? WHERE id = ?",
            [*changed.values(), self.now, self.actor, row_id],
        )
        for field, new in changed.items():
            self._audit(table, row_id, "update", field, row[field], new)
        row.update(changed, version=row["version"] + 1, updated_at=self.now, updated_by=self.actor)
        self.changes.append(
            Change(table, row_id, "update", tuple(changed), row["version"], self.actor, self.txn)
        )
        return row

    def touch(self, table: str, row_id: int, values: Mapping[str, Any]) -> None:
        """Set housekeeping columns the library maintains (a session's ``last_seen_at``, a
        token's ``last_used_at``): no version bump, no audit row, no change event.

        Only for bookkeeping that is not the record's content; anything a person could care
        about in history goes through :meth:`update`.
        """
        assignments = ", ".join(f"{quote(k)} = ?" for k in values)
        self._execute(
            f"UPDATE {quote(table)} SET {assignments} WHERE id = ?", [*values.values(), row_id]
        )

    def archive(self, table: str, row_id: int, *, expected_version: int | None) -> dict[str, Any]:
        """Soft-delete a live row (sets ``deleted_at``); the row stays in the file."""
        return self._set_deleted(table, row_id, expected_version, archive=True)

    def restore(self, table: str, row_id: int, *, expected_version: int | None) -> dict[str, Any]:
        """Bring an archived row back."""
        return self._set_deleted(table, row_id, expected_version, archive=False)

    def _set_deleted(
        self, table: str, row_id: int, expected_version: int | None, *, archive: bool
    ) -> dict[str, Any]:
        row = self.fetch(table, row_id)
        entity = ENTITY_NAMES.get(table, table)
        if archive and row["deleted_at"] is not None:
            raise NotFound(entity.lower(), row_id)
        if not archive and row["deleted_at"] is None:
            raise ValidationError(f"{entity} {row_id} is not archived, so it cannot be restored")
        self._check_version(table, row, expected_version)
        deleted_at, deleted_by = (self.now, self.actor) if archive else (None, None)
        self.conn.execute(
            f"UPDATE {quote(table)} SET deleted_at = ?, deleted_by = ?, version = version + 1,"
            " updated_at = ?, updated_by = ? WHERE id = ?",
            (deleted_at, deleted_by, self.now, self.actor, row_id),
        )
        action = "archive" if archive else "restore"
        self.audit_row_images(table, action, row_id, row_id)
        row.update(
            deleted_at=deleted_at,
            deleted_by=deleted_by,
            version=row["version"] + 1,
            updated_at=self.now,
            updated_by=self.actor,
        )
        self.changes.append(Change(table, row_id, action, (), row["version"], self.actor, self.txn))
        return row

    def record_bulk(self, table: str, first_id: int, last_id: int) -> None:
        """Note rows created by the bulk path (audited by :meth:`audit_created_range`) as one
        change."""
        self.changes.append(
            Change(table, first_id, "create", (), 1, self.actor, self.txn, last_entity_id=last_id)
        )

    def _bump_state(self) -> None:
        if not any(change.entity in GRID_TABLES for change in self.changes):
            return
        version = self.conn.execute(
            "UPDATE fundraising_state SET version = version + 1, updated_at = ?,"
            " updated_by = ? WHERE id = 1 RETURNING version",
            (self.now, self.actor),
        ).fetchone()[0]
        self.conn.execute(
            "INSERT INTO grid_changes (version, txn, investors) VALUES (?, ?, ?)",
            (version, self.txn, json.dumps(investor_changes(self.conn, self.changes))),
        )
        if version % GRID_CHANGES_PRUNE_EVERY == 0:
            self.conn.execute(
                "DELETE FROM grid_changes WHERE version <= ?", (version - GRID_CHANGES_KEPT,)
            )


#: The bookkeeping columns a bulk insert fills, after the row's own columns (see insert_many).
STAMP = ("version", "created_at", "created_by", "updated_at", "updated_by")


def insert_many(
    tx: WriteTransaction, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """The bulk path's insert: ``rows`` hold ``columns`` then the :data:`STAMP` values, ids
    pre-assigned (the caller holds the write lock). The caller audits the created range
    (:meth:`WriteTransaction.audit_created_range`)."""
    if not rows:
        return
    names = ", ".join(quote(c) for c in (*columns, *STAMP))
    marks = ", ".join("?" for _ in range(len(columns) + len(STAMP)))
    tx.conn.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)


_WRITER_LOCKS: dict[str, threading.RLock] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


def _writer_lock(ctx: Context) -> threading.RLock:
    """One lock per database file in this process.

    SQLite allows one writer at a time; a second ``BEGIN IMMEDIATE`` waits in SQLite's busy
    handler, which sleeps in growing steps (1, 2, 5, 10 ... ms), so under concurrent writes from
    the server's threads a waiter could sleep long after the lock was free (measured: PATCH max
    460 ms with 8 clients). Queuing on a Python lock first wakes the next writer the moment the
    previous one commits; other processes (the CLI, a job) still meet SQLite's own lock.
    """
    key = str(ctx.settings.database_path)
    with _WRITER_LOCKS_GUARD:
        return _WRITER_LOCKS.setdefault(key, threading.RLock())


def writer_busy(ctx: Context) -> bool:
    """Whether another thread of this process is inside a write transaction on this database
    right now. A front end that runs quick writes on its event loop sends a write to a worker
    thread instead while this is true, so that waiting for someone else's long change (a formula
    over every investor) never holds the loop and every session with it."""
    lock = _writer_lock(ctx)
    if not lock.acquire(blocking=False):
        return True
    lock.release()
    return False


@contextmanager
def _turn_to_write(ctx: Context, wait_s: float | None) -> Iterator[None]:
    """This thread's turn at the process's write lock, waited for at most ``wait_s`` (default:
    as long as SQLite's busy timeout); past it :class:`DatabaseBusy` (nothing written) instead
    of an unbounded wait."""
    lock = _writer_lock(ctx)
    wait_s = BUSY_TIMEOUT_MS / 1000 if wait_s is None else wait_s
    acquired = lock.acquire(timeout=wait_s) if wait_s > 0 else lock.acquire(blocking=False)
    if not acquired:
        raise DatabaseBusy(wait_s, ctx.settings.database_path)
    try:
        yield
    finally:
        lock.release()


@contextmanager
def write(ctx: Context, *, wait_s: float | None = None) -> Iterator[WriteTransaction]:
    """Open the one transaction for a service call (or join the caller's, when nested).

    ``wait_s``: how long to wait for another thread's write to finish (default: SQLite's busy
    timeout; 0 for housekeeping that is better skipped than waited for)."""
    if ctx.active_write is not None:
        yield ctx.active_write
        return
    with _turn_to_write(ctx, wait_s):
        tx = WriteTransaction(ctx)
        conn = ctx.db.conn
        conn.execute("BEGIN IMMEDIATE")
        ctx.active_write = tx
        try:
            try:
                yield tx
                tx._bump_state()
                conn.execute("COMMIT")
            except BaseException:
                # SQLite rolls back by itself after some failures (SQLITE_FULL, an I/O error):
                # a second ROLLBACK would raise and hide the real error.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except dbapi.Error as exc:
            if isinstance(database_failure(exc), DiskFull):
                raise DiskFull(ctx.settings.database_path) from None
            raise
        finally:
            ctx.active_write = None
    with publishing(ctx):
        ctx.events.publish(tx.changes)


@contextmanager
def bookkeeping() -> Iterator[None]:
    """Around a write of housekeeping only (a session's ``last_seen_at``, written with
    ``write(ctx, wait_s=0)``): on a full disk it is skipped with a warning instead of failing the
    read it rides on, so the people already logged in can still see their data while an admin
    frees space; while another change holds the write lock it is skipped too (the next request
    a minute later writes it), so a read never waits behind someone else's long change."""
    try:
        yield
    except DiskFull:
        log.warning("Disk full: housekeeping write skipped (the request itself goes on)")
    except DatabaseBusy:
        log.debug("Another change is being written: housekeeping write skipped")
