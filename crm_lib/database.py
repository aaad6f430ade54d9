"""Opening the CRM: settings → checked, migrated database → a :class:`Context` to call services with."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import sqlite_utils

from crm_lib.clock import Clock, SystemClock
from crm_lib.config import Settings, load_settings
from crm_lib.context import Context
from crm_lib.errors import DatabaseError
from crm_lib.events import EventBus
from crm_lib.storage.connect import connect
from crm_lib.storage.migrations import check_not_newer, migrate


def init_database(settings: Settings, clock: Clock | None = None) -> list[int]:
    """Create the data folder and database if needed and apply pending migrations.

    Returns the migration versions applied (empty when already current). A database that already
    holds data is copied to ``<data>/backups/`` before it is migrated.
    """
    clock = clock or SystemClock()
    # The fund's data is for the account that runs the CRM alone: a new data folder is 0700
    # and a new database 0600 (SQLite gives its -wal and -shm files the database's mode),
    # whatever the shell's umask.
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not settings.database_path.exists():
        os.close(os.open(settings.database_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    db = connect(settings.database_path)
    try:
        applied = migrate(db, clock, backup_dir=settings.backup_dir, path=settings.database_path)
        if applied:  # the copy taken before migrating joins the catalog of backups
            from crm_lib.services.backups import register_pre_migration_backups

            ctx = Context(db=db, actor="system:migrate", settings=settings, clock=clock)
            register_pre_migration_backups(ctx)
        return applied
    finally:
        db.conn.close()


def missing_database_message(settings: Settings) -> str:
    """Where the database was looked for, how that folder was chosen, and how to create one."""
    return (
        f"No CRM database at {settings.database_path} (the data folder comes from --data-dir, "
        "else CRM_DATA_DIR, else ./data); run `crm init` to create it, or `./panel_serve.sh`, "
        "which creates it and starts the server"
    )


def open_crm(
    data_dir: str | Path | None = None,
    *,
    actor: str = "system:notebook",
    clock: Clock | None = None,
    events: EventBus | None = None,
    settings: Settings | None = None,
    create: bool = True,
) -> Context:
    """Open the CRM for a notebook, job or server: migrate forward if needed, return a Context.

    ``data_dir`` defaults to ``CRM_DATA_DIR`` (or ``./data``). With ``create=False`` (the ``crm``
    commands other than ``init``) a missing database raises :class:`DatabaseError` naming where
    it looked, and nothing is created: a typo in ``--data-dir`` or a command run from the wrong
    folder must not leave an empty ``crm.db`` behind that then reports "no backups yet".
    """
    settings = settings or load_settings(data_dir=data_dir)
    clock = clock or SystemClock()
    if not create and not settings.database_path.is_file():
        raise DatabaseError(missing_database_message(settings), path=settings.database_path)
    init_database(settings, clock)
    db = connect(settings.database_path, check_file=False)
    check_not_newer(db, settings.database_path)
    events = events or EventBus()
    from crm_lib.automations.events import install

    install(events)  # event-triggered rules run wherever changes are made
    return Context(db=db, actor=actor, settings=settings, clock=clock, events=events)


class ThreadConnections:
    """One connection per thread, opened on first use and kept: what a server's request threads
    use instead of opening a connection per request (which costs about 0.6 ms each).

    A connection is only ever used by the thread that opened it, so the rule "a Context belongs
    to one thread of work at a time" holds; reads run in autocommit and every write transaction
    commits or rolls back inside :func:`~crm_lib.storage.writes.write`, so nothing carries over
    from one request to the next.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._local = threading.local()
        self._all: list[sqlite_utils.Database] = []
        self._lock = threading.Lock()

    def context(self, *, actor: str, events: EventBus, clock: Clock) -> Context:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.settings.database_path, check_file=False)
            self._local.db = db
            with self._lock:
                self._all.append(db)
        elif db.conn.in_transaction:  # an interrupted caller: never let it leak into the next
            db.conn.execute("ROLLBACK")
        return Context(db=db, actor=actor, settings=self.settings, clock=clock, events=events)

    def close_all(self) -> None:
        with self._lock:
            for db in self._all:
                db.conn.close()
            self._all.clear()
