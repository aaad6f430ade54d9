"""Off-box copies as the front ends see them: copy a verified backup to each configured
destination, retention there, their status, and fetching a copy back for a restore.

Nightly and manual backups are copied as soon as they are taken and verified
(:func:`crm_lib.services.backups.create_backup` calls :func:`copy_after_backup`; the nightly
notebook calls :func:`copy_offbox` as a step of its own). Each attempt is a row of
``offbox_copies``; a destination that is slow, down or refuses is recorded there as a failed
copy and never fails the local backup. Retention at a destination follows the local policy
(``CRM_OFFBOX_KEEP`` overrides it key by key) and deletes only copies this catalog recorded.

Restoring from an off-box copy is two steps: :func:`fetch_offbox` downloads the copy into the
backup folder, checks its SHA-256 (recorded here, or beside the copy for a new machine) and
``integrity_check``, and lists it as a backup; then the usual
:func:`crm_lib.services.backups.restore_backup` (preview, pre-restore backup, restore).
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.backups import files, offbox
from crm_lib.backups.offbox import Destination, FolderDestination
from crm_lib.backups.retention import Candidate, Policy, to_keep
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import CRMError, ExternalServiceError, NotFound, ValidationError
from crm_lib.services.backups import BACKUPS, backup_policy, list_backups
from crm_lib.services.jobs import BACKUP_MAX_AGE
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

log = logging.getLogger(__name__)

COPIES = "offbox_copies"
#: The kinds of backup copied off the box as soon as they are taken (a pre-restore backup is
#: taken in the middle of a restore, which must not wait for an upload).
OFFBOX_KINDS = ("nightly", "manual")
#: A destination whose newest copy is of a backup older than this needs attention.
OFFBOX_MAX_AGE = timedelta(days=2)
#: How long the status may wait for a mounted folder to answer ``stat``.
STATUS_TIMEOUT_S = 5.0


def _destinations(ctx: Context) -> list[Destination]:
    return offbox.destinations(ctx.settings)


def _destination(ctx: Context, kind: str) -> Destination:
    for destination in _destinations(ctx):
        if destination.kind == kind:
            return destination
    setting = {"folder": "CRM_OFFBOX_DIR", "s3": "CRM_OFFBOX_S3_URL"}.get(kind)
    if setting is None:
        raise ValidationError(f"Off-box destinations are folder and s3, not {kind!r}", field="from")
    raise ValidationError(f"No off-box {kind} is configured: set {setting}", field="from")


def _copy_row(ctx: Context, copy_id: int) -> dict[str, Any]:
    return query_dicts(ctx.db, f"SELECT * FROM {COPIES} WHERE id = ?", [copy_id])[0]


def _backup_row(ctx: Context, backup_id: int | None) -> dict[str, Any]:
    if backup_id is None:
        good = [
            r for r in list_backups(ctx) if r["verify_status"] == "ok" and r["integrity"] == "ok"
        ]
        if not good:
            raise NotFound("backup", "(no verified backup to copy: run `crm backup` first)")
        return good[0]
    rows = query_dicts(ctx.db, f"SELECT * FROM {BACKUPS} WHERE id = ? AND {LIVE}", [backup_id])
    if not rows:
        raise NotFound("backup", backup_id)
    row = rows[0]
    if row["verify_status"] != "ok" or row["integrity"] != "ok":
        raise ValidationError(
            f"Backup {backup_id} failed verification ({row['verify_detail']}); only a verified "
            "backup is copied off the box"
        )
    return row


# -- copying ----------------------------------------------------------------------------------------
def copy_offbox(ctx: Context, backup_id: int | None = None) -> list[dict[str, Any]]:
    """Copy backup ``backup_id`` (default: the newest verified one) to every configured
    destination, read each copy back and check its SHA-256. Returns one ``offbox_copies`` row
    per destination, ok or failed; a remote failure is recorded, never raised. A backup
    already copied there is read back instead, and copied again if that copy has changed."""
    require(ctx, "manage_backups")
    row = _backup_row(ctx, backup_id)
    path = ctx.settings.backup_dir / row["file_name"]
    if not path.exists() or files.file_sha256(path) != row["sha256"]:
        raise ValidationError(
            f"Backup {row['id']}'s file has changed or is missing since it was taken: run "
            f"`crm backup verify {row['id']}`; it is not copied off the box"
        )
    return [_copy_to(ctx, destination, row, path) for destination in _destinations(ctx)]


def copy_after_backup(ctx: Context, backup: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What :func:`~crm_lib.services.backups.create_backup` calls once a backup is taken and
    verified: copy it off the box if it is of a kind that is copied and a destination is
    configured. A failure is logged and recorded, and the backup stands."""
    if (
        backup["kind"] not in OFFBOX_KINDS
        or backup["verify_status"] != "ok"
        or not _destinations(ctx)
    ):
        return []
    path = ctx.settings.backup_dir / backup["file_name"]
    copies = []
    for destination in _destinations(ctx):
        try:
            copies.append(_copy_to(ctx, destination, backup, path))
        except CRMError as exc:  # e.g. the catalog could not be written: the backup still stands
            log.warning("Off-box copy of backup %s to %s: %s", backup["id"], destination.kind, exc)
    return copies


def _latest_ok(ctx: Context, backup_id: int, location: str) -> dict[str, Any] | None:
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {COPIES} WHERE backup_id = ? AND location = ? AND status = 'ok'"
        f" AND {LIVE} ORDER BY id DESC LIMIT 1",
        [backup_id, location],
    )
    return rows[0] if rows else None


def _copy_to(
    ctx: Context, destination: Destination, backup: Mapping[str, Any], path: Path
) -> dict[str, Any]:
    name, seconds = backup["file_name"], ctx.settings.offbox_timeout_s
    existing = _latest_ok(ctx, backup["id"], destination.location)
    if existing is not None:
        try:
            stored = offbox.bounded(
                lambda d: destination.read_sha256(name, d),
                seconds,
                offbox.service_name(destination),
            )
        except ExternalServiceError as exc:
            return _record(ctx, destination, backup, "failed", exc.message, 0)
        with write(ctx) as tx:
            if stored == backup["sha256"]:
                tx.touch(COPIES, existing["id"], {"verified_at": tx.now})
                return _copy_row(ctx, existing["id"])
            found = "is missing" if stored is None else f"has SHA-256 {stored[:12]}…"
            tx.update(
                COPIES,
                existing["id"],
                {"status": "failed", "detail": f"read back later: {found}; copied again"},
                expected_version=existing["version"],
            )
    started = time.perf_counter()
    try:
        offbox.copy(destination, path, name, backup["sha256"], seconds)
    except ExternalServiceError as exc:
        log.warning("Off-box copy of backup %s failed: %s", backup["id"], exc.message)
        return _record(ctx, destination, backup, "failed", exc.message, started)
    return _record(ctx, destination, backup, "ok", "ok", started)


def _record(
    ctx: Context,
    destination: Destination,
    backup: Mapping[str, Any],
    status: str,
    detail: str,
    started: float,
) -> dict[str, Any]:
    with write(ctx) as tx:
        copy_id = tx.insert(
            COPIES,
            {
                "backup_id": backup["id"],
                "backup_started_at": backup["started_at"],
                "destination": destination.kind,
                "location": destination.location,
                "remote_key": destination.key(backup["file_name"]),
                "sha256": backup["sha256"],
                "size_bytes": backup["size_bytes"],
                "status": status,
                "detail": detail[:2000],
                "duration_ms": round((time.perf_counter() - started) * 1000) if started else 0,
                "copied_at": tx.now if status == "ok" else None,
                "verified_at": tx.now if status == "ok" else None,
            },
        )
    return _copy_row(ctx, copy_id)


def list_offbox_copies(ctx: Context, *, limit: int = 200) -> list[dict[str, Any]]:
    """Copy attempts (ok and failed, not yet removed by retention), newest first."""
    require(ctx, "manage_backups")
    return query_dicts(
        ctx.db, f"SELECT * FROM {COPIES} WHERE {LIVE} ORDER BY id DESC LIMIT ?", [limit]
    )


# -- retention ----------------------------------------------------------------------------------
def offbox_policy(ctx: Context) -> dict[str, int]:
    """The retention at the destinations: the local policy, with ``CRM_OFFBOX_KEEP``'s keys."""
    require(ctx, "manage_backups")
    local = {k: v for k, v in backup_policy(ctx).items() if k != "version"}
    return Policy.parse({**local, **dict(ctx.settings.offbox_keep)}).to_dict()


def apply_offbox_retention(
    ctx: Context, policy: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """At each destination, delete the copies the policy does not keep (the object or file
    first, then the row is archived); returns them, each with ``removed`` and, when the
    destination refused, ``error`` (tried again next time). Only copies recorded here are ever
    deleted, and the newest good copy at each destination is always kept.

    ``policy`` overrides :func:`offbox_policy` for this call (the nightly job's parameter)."""
    require(ctx, "manage_backups")
    chosen = Policy.parse({**offbox_policy(ctx), **(policy or {})})
    results: list[dict[str, Any]] = []
    for destination in _destinations(ctx):
        rows = query_dicts(
            ctx.db,
            f"SELECT * FROM {COPIES} WHERE location = ? AND status = 'ok' AND {LIVE}",
            [destination.location],
        )
        keep = to_keep(
            (
                Candidate(r["id"], datetime.fromisoformat(r["backup_started_at"]), True)
                for r in rows
            ),
            chosen,
        )
        kept_keys = {r["remote_key"] for r in rows if r["id"] in keep}
        for row in (r for r in rows if r["id"] not in keep):
            results.append(
                _remove_copy(ctx, destination, row, shared=row["remote_key"] in kept_keys)
            )
    return results


def _remove_copy(
    ctx: Context, destination: Destination, row: Mapping[str, Any], *, shared: bool
) -> dict[str, Any]:
    name = Path(row["remote_key"]).name
    if destination.key(name) != row["remote_key"]:
        # recorded under another prefix or folder than the one configured now: not ours to touch
        return {
            **row,
            "removed": False,
            "error": f"{row['remote_key']} is not at {destination.location}",
        }
    if not shared:  # a duplicate row of a kept copy only loses its row
        try:
            offbox.bounded(
                lambda d: destination.delete(name, d),
                ctx.settings.offbox_timeout_s,
                offbox.service_name(destination),
            )
        except ExternalServiceError as exc:
            log.warning("Off-box retention could not delete %s: %s", row["remote_key"], exc.message)
            return {**row, "removed": False, "error": exc.message}
    with write(ctx) as tx:
        tx.archive(COPIES, row["id"], expected_version=row["version"])
    return {**_copy_row(ctx, row["id"]), "removed": True}


# -- status -------------------------------------------------------------------------------------------
def _age_hours(now: datetime, moment: str | None) -> float | None:
    if not moment:
        return None
    return round((now - datetime.fromisoformat(moment)).total_seconds() / 3600, 1)


def offbox_status(ctx: Context) -> dict[str, Any]:
    """The newest local backup and, per configured destination, its newest good copy (and
    its age, from the backup's time), how many copies are kept there and the last failure;
    ``problems`` lists what needs an admin and ``ok`` is True when there is none.

    A destination needs attention when it has no copy yet, when its last attempt failed, or
    when its newest copy is of a backup older than two days; a folder also when it is on the
    same disk as the data (an unmounted share's mount point is). No remote is contacted."""
    require(ctx, "manage_backups")
    now = ctx.clock.now()
    problems: list[str] = []
    backups = list_backups(ctx, limit=1)
    local = None
    if backups:
        newest = backups[0]
        local = {
            key: newest[key]
            for key in ("id", "kind", "file_name", "started_at", "verify_status", "verify_detail")
        }
        local["age_hours"] = _age_hours(now, newest["started_at"])
    verified = [r for r in list_backups(ctx, limit=50) if r["verify_status"] == "ok"]
    if not verified:
        problems.append("No verified local backup yet")
    elif now - datetime.fromisoformat(verified[0]["started_at"]) > BACKUP_MAX_AGE:
        problems.append(f"No verified local backup since {verified[0]['started_at'][:16]} UTC")
    shown = [_destination_status(ctx, d, now) for d in _destinations(ctx)]
    for entry in shown:
        problems += entry["problems"]
    return {
        "checked_at": timestamp(now),
        "local": local,
        "configured": bool(shown),
        "destinations": shown,
        "policy": offbox_policy(ctx) if shown else None,
        "problems": problems,
        "ok": not problems,
    }


def _destination_status(ctx: Context, destination: Destination, now: datetime) -> dict[str, Any]:
    location = destination.location
    good = query_dicts(
        ctx.db,
        f"SELECT * FROM {COPIES} WHERE location = ? AND status = 'ok' AND {LIVE}"
        " ORDER BY backup_started_at DESC, id DESC",
        [location],
    )
    last_attempt = query_dicts(
        ctx.db,
        f"SELECT * FROM {COPIES} WHERE location = ? ORDER BY id DESC LIMIT 1",
        [location],
    )
    failure = query_dicts(
        ctx.db,
        f"SELECT * FROM {COPIES} WHERE location = ? AND status = 'failed' ORDER BY id DESC LIMIT 1",
        [location],
    )
    problems = []
    last_copy = None
    if good:
        newest = good[0]
        last_copy = {
            key: newest[key]
            for key in (
                "id",
                "backup_id",
                "backup_started_at",
                "remote_key",
                "size_bytes",
                "copied_at",
                "verified_at",
            )
        }
        last_copy["age_hours"] = _age_hours(now, newest["backup_started_at"])
        if now - datetime.fromisoformat(newest["backup_started_at"]) > OFFBOX_MAX_AGE:
            problems.append(
                f"The newest copy at {location} is of a backup from"
                f" {newest['backup_started_at'][:16]} UTC (older than 2 days)"
            )
    else:
        problems.append(f"No off-box copy at {location} yet")
    last_failure = None
    if failure:
        last_failure = {
            "id": failure[0]["id"],
            "backup_id": failure[0]["backup_id"],
            "at": failure[0]["created_at"],
            "detail": failure[0]["detail"],
        }
    if last_attempt and last_attempt[0]["status"] == "failed":
        problems.append(
            f"The last copy to {location} failed at {last_attempt[0]['created_at'][:16]} UTC:"
            f" {last_attempt[0]['detail']}"
        )
    if isinstance(destination, FolderDestination):
        try:
            same = offbox.bounded(
                lambda _d: destination.same_disk_as(ctx.settings.data_dir),
                STATUS_TIMEOUT_S,
                offbox.service_name(destination),
                limit="",
            )
        except ExternalServiceError as exc:
            problems.append(exc.message)
        else:
            if same:
                problems.append(
                    f"CRM_OFFBOX_DIR {location} is on the same disk as the data: is the share"
                    " mounted?"
                )
    return {
        "destination": destination.kind,
        "location": location,
        "last_copy": last_copy,
        "copies": len(good),
        "last_failure": last_failure,
        "last_attempt_failed": bool(last_attempt and last_attempt[0]["status"] == "failed"),
        "problems": problems,
        "ok": not problems,
    }


# -- fetching a copy back -------------------------------------------------------------------------
def offbox_listing(ctx: Context, source: str) -> list[dict[str, Any]]:
    """The backups at destination ``source`` (``folder`` or ``s3``), newest first, read from
    the destination itself (so a new machine sees them too), with what this catalog knows."""
    require(ctx, "manage_backups")
    destination = _destination(ctx, source)
    found = offbox.bounded(
        destination.list, ctx.settings.offbox_timeout_s, offbox.service_name(destination)
    )
    recorded = {
        r["remote_key"]: r
        for r in query_dicts(
            ctx.db,
            f"SELECT * FROM {COPIES} WHERE location = ? AND {LIVE} ORDER BY id",
            [destination.location],
        )
    }
    listed = []
    for item in found:
        info = offbox.backup_name_info(item.name)
        row = recorded.get(item.key)
        listed.append(
            {
                "name": item.name,
                "key": item.key,
                "size_bytes": item.size,
                "modified": timestamp(item.modified),
                "kind": info[0] if info else None,
                "backup_started_at": timestamp(info[1]) if info else None,
                "sha256": (row["sha256"] if row else None) or item.sha256,
                "catalog_status": row["status"] if row else None,
            }
        )
    listed.sort(key=lambda r: (r["backup_started_at"] or r["modified"], r["name"]), reverse=True)
    return listed


def fetch_offbox(
    ctx: Context, source: str, name: str | None = None, *, latest: bool = False
) -> dict[str, Any]:
    """Download off-box copy ``name`` (or the ``latest`` backup there) from ``source`` into
    the backup folder, check it, and list it as a backup; returns the backup's row with
    ``fetched`` (False when the same file was already on disk) and ``source``.

    The SHA-256 it must have is the one this catalog recorded for the copy, else the one
    recorded beside it (a new machine); a copy with neither, or whose bytes differ, or that
    fails ``integrity_check``, is refused and nothing is kept. Restore it with
    :func:`~crm_lib.services.backups.restore_backup`."""
    require(ctx, "manage_backups")
    if latest == (name is not None):
        raise ValidationError("Name one off-box backup, or ask for the latest", field="name")
    destination = _destination(ctx, source)
    seconds = ctx.settings.offbox_timeout_s
    if latest:
        ours = [r for r in offbox_listing(ctx, source) if r["kind"] is not None]
        if not ours:
            raise NotFound("off-box backup", f"(none at {destination.location})")
        name = str(ours[0]["name"])
    name = offbox.check_name(str(name))
    info = offbox.backup_name_info(name)
    if info is None:
        raise ValidationError(
            f"{name} is not named like a Venture CRM backup (crm-<time>-<kind>-<id>.db)",
            field="name",
        )
    expected = _expected_sha256(ctx, destination, name, seconds)
    catalog = query_dicts(ctx.db, f"SELECT * FROM {BACKUPS} WHERE file_name = ?", [name])
    if catalog and catalog[0]["sha256"] != expected:
        raise ValidationError(
            f"The off-box {name} is not the backup recorded under that name here (SHA-256"
            f" {expected[:12]}…, recorded {catalog[0]['sha256'][:12]}…); it is not fetched"
        )
    folder = ctx.settings.backup_dir
    target = folder / name
    if (
        catalog
        and catalog[0]["deleted_at"] is None
        and target.exists()
        and files.file_sha256(target) == expected
    ):
        return {**catalog[0], "fetched": False, "source": destination.location}
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.fetch-{uuid.uuid4().hex[:8]}"
    try:
        digest = offbox.bounded(
            lambda d: destination.download(name, partial, d),
            seconds,
            offbox.service_name(destination),
        )
        if digest != expected:
            raise ValidationError(
                f"The copy of {name} at {destination.location} is damaged: its SHA-256 is"
                f" {digest[:12]}…, not {expected[:12]}…; it is not fetched (try an older copy:"
                f" `crm backup list --from {destination.kind}`)"
            )
        checked = files.integrity(partial)
        if checked != "ok":
            raise ValidationError(f"The copy of {name} fails integrity_check: {checked}")
        version = files.schema_version(partial)
        os.replace(partial, target)
        files.fsync(folder)
    finally:
        partial.unlink(missing_ok=True)
    row = _register(ctx, name, info, expected, target, version, catalog[0] if catalog else None)
    return {**row, "fetched": True, "source": destination.location}


def _expected_sha256(ctx: Context, destination: Destination, name: str, seconds: float) -> str:
    rows = query_dicts(
        ctx.db,
        f"SELECT sha256 FROM {COPIES} WHERE location = ? AND remote_key = ? ORDER BY id DESC"
        " LIMIT 1",
        [destination.location, destination.key(name)],
    )
    recorded = rows[0]["sha256"] if rows else None
    beside = offbox.bounded(
        lambda d: destination.recorded_sha256(name, d),
        seconds,
        offbox.service_name(destination),
    )
    if recorded and beside and recorded != beside:
        raise ValidationError(
            f"The SHA-256 recorded beside {name} at {destination.location} ({beside[:12]}…)"
            f" is not the one recorded here ({recorded[:12]}…); it is not fetched"
        )
    expected = recorded or beside
    if not expected:
        raise ValidationError(
            f"No SHA-256 is recorded for {name} at {destination.location}, so it cannot be"
            " checked; it is not fetched"
        )
    return expected


def _register(
    ctx: Context,
    name: str,
    info: tuple[str, datetime],
    sha256: str,
    path: Path,
    schema_version: int,
    existing: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """List a fetched file as a backup: its old row back (archived by local retention), or a
    new one (a new machine)."""
    values = {
        "size_bytes": path.stat().st_size,
        "integrity": "ok",
        "schema_version": schema_version,
        "verify_status": "ok",
        "verify_detail": "ok",
    }
    with write(ctx) as tx:
        if existing is not None:
            version = existing["version"]
            if existing["deleted_at"] is not None:
                version = tx.restore(BACKUPS, existing["id"], expected_version=version)["version"]
            tx.update(
                BACKUPS,
                existing["id"],
                {**values, "verified_at": tx.now},
                expected_version=version,
            )
            backup_id = existing["id"]
        else:
            kind, started = info
            backup_id = tx.insert(
                BACKUPS,
                {
                    **values,
                    "kind": kind,
                    "file_name": name,
                    "sha256": sha256,
                    "started_at": timestamp(started),
                    "duration_ms": 0,
                    "verified_at": tx.now,
                },
            )
    return query_dicts(ctx.db, f"SELECT * FROM {BACKUPS} WHERE id = ?", [backup_id])[0]
