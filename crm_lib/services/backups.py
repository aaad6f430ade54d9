"""Backups as the front ends see them: take, list, verify, retention policy, preview, restore.

Every backup is recorded in ``backups`` (kind, who, size, duration, SHA-256, integrity check of
the copy). Restoring is for admins only and takes a fresh ``pre-restore`` backup first, so a
restore can itself be undone. A backup whose file no longer matches its recorded hash, or fails
``integrity_check``, is reported as failed and can never be restored.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.backups import files, restore
from crm_lib.backups.retention import Candidate, Policy, to_keep
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.events import Change
from crm_lib.storage.connect import connect, dbapi
from crm_lib.storage.migrations import migrate
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

BACKUPS = "backups"
SETTINGS = "app_settings"
POLICY_KEY = "backup_policy"
KINDS = ("nightly", "manual", "pre-restore", "pre-migration")


def _path(ctx: Context, row: Mapping[str, Any]) -> Path:
    return ctx.settings.backup_dir / row["file_name"]


def _row(ctx: Context, backup_id: int) -> dict[str, Any]:
    rows = query_dicts(ctx.db, f"SELECT * FROM {BACKUPS} WHERE id = ? AND {LIVE}", [backup_id])
    if not rows:
        raise NotFound("backup", backup_id)
    return rows[0]


def create_backup(ctx: Context, kind: str = "manual", *, offbox: bool = True) -> dict[str, Any]:
    """Copy the live database to ``<data>/backups/`` while it keeps serving, check the copy
    and record it. Returns the backup's row.

    A verified nightly or manual backup is then copied to the off-box destinations, if any are
    configured (:func:`crm_lib.services.offbox.copy_after_backup`; a failure there is recorded
    and never fails the backup). ``offbox=False`` leaves that to the caller (the nightly
    notebook runs it as a step of its own)."""
    require(ctx, "manage_backups")
    if kind not in KINDS:
        raise ValidationError(f"Backup kind must be one of {', '.join(KINDS)}", field="kind")
    folder = ctx.settings.backup_dir
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    started = ctx.clock.now()
    # the random part keeps two backups in the same microsecond (or a fixed clock) apart
    name = f"crm-{started.strftime('%Y%m%dT%H%M%S%fZ')}-{kind}-{uuid.uuid4().hex[:6]}.db"
    copied = files.take(ctx.settings.database_path, folder / name)
    with write(ctx) as tx:
        backup_id = tx.insert(
            BACKUPS,
            {
                "kind": kind,
                "file_name": name,
                "size_bytes": copied.size,
                "sha256": copied.sha256,
                "integrity": copied.integrity,
                "schema_version": copied.schema_version,
                "started_at": timestamp(started),
                "duration_ms": round(copied.seconds * 1000),
                "verified_at": tx.now,
                "verify_status": "ok" if copied.integrity == "ok" else "failed",
                "verify_detail": copied.integrity,
            },
        )
    row = _row(ctx, backup_id)
    if offbox:
        from crm_lib.services.offbox import copy_after_backup  # it imports this module

        copy_after_backup(ctx, row)
    return row


def register_pre_migration_backups(ctx: Context) -> list[int]:
    """Record the copies migrations take before changing a database (``pre-migration-*.db``,
    written before the ``backups`` table may even exist) so they are listed, verified and kept
    by the policy like any backup. Returns the new rows' ids."""
    folder = ctx.settings.backup_dir
    if not folder.exists():
        return []
    known = {r[0] for r in ctx.db.execute(f"SELECT file_name FROM {BACKUPS}").fetchall()}
    new: list[int] = []
    for path in sorted(folder.glob("pre-migration-*.db")):
        if path.name in known:
            continue
        checked = files.integrity(path)
        moment = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        with write(ctx) as tx:
            new.append(
                tx.insert(
                    BACKUPS,
                    {
                        "kind": "pre-migration",
                        "file_name": path.name,
                        "size_bytes": path.stat().st_size,
                        "sha256": files.file_sha256(path),
                        "integrity": checked,
                        "schema_version": files.schema_version(path) if checked == "ok" else 0,
                        "started_at": timestamp(moment),
                        "duration_ms": 0,
                        "verified_at": tx.now,
                        "verify_status": "ok" if checked == "ok" else "failed",
                        "verify_detail": checked,
                    },
                )
            )
    return new


def list_backups(ctx: Context, *, limit: int = 200) -> list[dict[str, Any]]:
    """Backups on disk, newest first."""
    require(ctx, "manage_backups")
    return query_dicts(
        ctx.db,
        f"SELECT * FROM {BACKUPS} WHERE {LIVE} ORDER BY started_at DESC, id DESC LIMIT ?",
        [limit],
    )


def verify_backup(ctx: Context, backup_id: int) -> dict[str, Any]:
    """Re-hash the file and re-run ``integrity_check``; record and return the outcome."""
    require(ctx, "manage_backups")
    row = _row(ctx, backup_id)
    path = _path(ctx, row)
    if not path.exists():
        status, detail = "failed", f"{row['file_name']} is missing from {path.parent}"
    elif (digest := files.file_sha256(path)) != row["sha256"]:
        status, detail = "failed", f"SHA-256 is {digest[:12]}…, recorded {row['sha256'][:12]}…"
    else:
        checked = files.integrity(path)
        status, detail = ("ok", "ok") if checked == "ok" else ("failed", checked)
    with write(ctx) as tx:
        tx.update(
            BACKUPS,
            backup_id,
            {"verified_at": tx.now, "verify_status": status, "verify_detail": detail},
            expected_version=row["version"],
        )
    return _row(ctx, backup_id)


# -- retention ----------------------------------------------------------------------------------
def _policy_row(ctx: Context) -> dict[str, Any] | None:
    rows = query_dicts(ctx.db, f"SELECT * FROM {SETTINGS} WHERE key = ? AND {LIVE}", [POLICY_KEY])
    return rows[0] if rows else None


def backup_policy(ctx: Context) -> dict[str, Any]:
    """The retention policy (defaults: 14 daily, 8 weekly, 12 monthly) and its version."""
    require(ctx, "manage_backups")
    row = _policy_row(ctx)
    policy = Policy.parse(json.loads(row["value"])) if row else Policy()
    return {**policy.to_dict(), "version": row["version"] if row else 0}


def set_backup_policy(
    ctx: Context, values: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Change the policy (only the keys given); ``expected_version`` 0 means "never set"."""
    require(ctx, "manage_policies")
    current = backup_policy(ctx)
    merged = Policy.parse({**{k: current[k] for k in ("daily", "weekly", "monthly")}, **values})
    with write(ctx) as tx:
        row = _policy_row(ctx)
        value = json.dumps(merged.to_dict())
        if row is None:
            if expected_version != 0:
                raise NotFound("backup policy", "(never set: send expected_version 0)")
            tx.insert(SETTINGS, {"key": POLICY_KEY, "value": value})
        else:
            tx.update(SETTINGS, row["id"], {"value": value}, expected_version=expected_version)
    return backup_policy(ctx)


def apply_retention(ctx: Context, policy: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Remove the backups the policy does not keep (file deleted, row archived); returns them.

    ``policy`` overrides the saved one for this call (the nightly job's parameter)."""
    require(ctx, "manage_backups")
    saved = {k: v for k, v in backup_policy(ctx).items() if k != "version"}
    policy = Policy.parse({**saved, **(policy or {})})
    rows = list_backups(ctx, limit=1_000_000)
    keep = to_keep(
        (
            Candidate(
                r["id"],
                datetime.fromisoformat(r["started_at"]),
                r["integrity"] == "ok" and r["verify_status"] != "failed",
            )
            for r in rows
        ),
        policy,
    )
    removed = [r for r in rows if r["id"] not in keep]
    with write(ctx) as tx:
        for row in removed:
            tx.archive(BACKUPS, row["id"], expected_version=row["version"])
    for row in removed:  # after the commit: a rolled-back retention never loses a file
        _path(ctx, row).unlink(missing_ok=True)
    return removed


# -- restore ------------------------------------------------------------------------------------
def restore_preview(ctx: Context, backup_id: int) -> dict[str, Any]:
    """What restoring this backup would change, and whether it can be restored."""
    require(ctx, "restore")
    row = verify_backup(ctx, backup_id)
    result: dict[str, Any] = {"backup": row, "restorable": row["verify_status"] == "ok"}
    if not result["restorable"]:
        result["reason"] = f"Backup {backup_id} failed verification: {row['verify_detail']}"
        return result
    live = dbapi.connect(str(ctx.settings.database_path))
    try:
        result.update(restore.compare(live, _path(ctx, row)))
    finally:
        live.close()
    return result


def restore_backup(ctx: Context, backup_id: int) -> dict[str, Any]:
    """Replace the live data with this backup's. Admins only.

    Verifies the file first (a tampered or truncated backup is refused), takes a pre-restore
    backup, migrates a copy of the backup forward, gives it the live backup catalog and a record
    of who restored what, bumps the grid's version past the live one (so open pages reload), and
    copies it into the live database in one transaction.
    """
    require(ctx, "restore")
    row = verify_backup(ctx, backup_id)
    if row["verify_status"] != "ok":
        raise ValidationError(
            f"Backup {backup_id} failed verification ({row['verify_detail']}); it cannot be restored"
        )
    safety = create_backup(ctx, "pre-restore")
    prepared = ctx.settings.data_dir / f"restore-{uuid.uuid4().hex}.db"
    try:
        shutil.copyfile(_path(ctx, row), prepared)
        db = connect(prepared, check_file=False)
        try:
            migrate(db, ctx.clock)  # an older backup comes forward to today's schema
            conn = db.conn
            restore.carry_catalog(conn, ctx.settings.database_path)
            live_version = int(
                ctx.db.execute("SELECT version FROM fundraising_state WHERE id = 1").fetchone()[0]
            )
            now = timestamp(ctx.clock.now())
            conn.execute(
                "UPDATE fundraising_state SET version = max(version, ?) + 1, updated_at = ?,"
                " updated_by = ? WHERE id = 1",
                (live_version, now, ctx.actor),
            )
            # the search index holds what the live data held: the restored data rebuilds it
            conn.execute("UPDATE app_settings SET value = '{}' WHERE key = 'search_index'")
            detail = {"backup_id": backup_id, "file": row["file_name"], "pre_restore": safety["id"]}
            conn.execute(
                "INSERT INTO audit_log (at, actor, txn, entity, entity_id, action, new_value)"
                " VALUES (?, ?, ?, 'backups', ?, 'restore', ?)",
                (now, ctx.actor, uuid.uuid4().hex, backup_id, json.dumps(detail)),
            )
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            db.conn.close()
        restore.copy_into(prepared, ctx.settings.database_path)
    finally:
        for leftover in (prepared, *prepared.parent.glob(prepared.name + "-*")):
            leftover.unlink(missing_ok=True)
    ctx.events.publish([Change("fundraising_state", 1, "restore", (), 0, ctx.actor, "restore")])
    return {"restored": backup_id, "pre_restore_backup": safety["id"], "at": now}


def restore_test(ctx: Context) -> dict[str, Any]:
    """Restore the newest verified backup into a temporary file: integrity, migration to
    today's schema, and row counts next to the live database's. Nothing live is touched."""
    require(ctx, "manage_backups")
    good = [r for r in list_backups(ctx) if r["verify_status"] == "ok" and r["integrity"] == "ok"]
    if not good:
        raise NotFound("backup", "(no verified backup to test)")
    row = verify_backup(ctx, good[0]["id"])
    scratch = ctx.settings.data_dir / f"restore-test-{uuid.uuid4().hex}.db"
    try:
        shutil.copyfile(_path(ctx, row), scratch)
        checked = files.integrity(scratch)
        db = connect(scratch, check_file=False)
        try:
            migrate(db, ctx.clock)
            tables = restore.table_counts(db.conn)
        finally:
            db.conn.close()
        live = restore.table_counts(ctx.db.conn)
    finally:
        for leftover in (scratch, *scratch.parent.glob(scratch.name + "-*")):
            leftover.unlink(missing_ok=True)
    ok = row["verify_status"] == "ok" and checked == "ok"
    return {
        "backup_id": row["id"],
        "ok": ok,
        "integrity": checked,
        "tables": [
            {"table": t, "backup": tables.get(t, 0), "live": live.get(t, 0)}
            for t in sorted(set(tables) | set(live))
            if t not in restore.CATALOG_TABLES
        ],
    }
