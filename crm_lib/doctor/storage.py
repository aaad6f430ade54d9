"""The data folder on disk: that the CRM can write to it, that only the CRM's user can reach the
fund's data in it, and that its disk (and the backups' disk) has room.

Secrets (the secret key, the Google key, the service's environment file) are checked by
:mod:`crm_lib.doctor.secret_key`, with :func:`file_mode` from here.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from crm_lib.config import Settings
from crm_lib.doctor.core import Finding, Setup, check

MIN_FREE_BYTES = 100 * 2**20
WARN_FREE_BYTES = 2**30


@check("data folder")
def check_data_dir(setup: Setup) -> Iterable[Finding]:
    folder = setup.settings.data_dir
    if not folder.exists():
        yield Finding("warn", f"Data folder {folder} does not exist yet", "run `crm init`")
        return
    try:
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        yield Finding(
            "fail",
            f"Cannot write to {folder}: {exc.strerror}",
            f"run the CRM as the user that owns {folder}, or `chown -R` it to that user",
        )
        return
    yield Finding("ok", f"Data folder {folder} is writable")


def _private_paths(settings: Settings) -> list[Path]:
    """What holds the fund's data: the folders, the database with its WAL and shared-memory
    files, the backups, executed notebooks and the search index (secrets: see ``secret key``)."""
    db = settings.database_path
    candidates = [
        settings.data_dir,
        db,
        db.with_name(db.name + "-wal"),
        db.with_name(db.name + "-shm"),
        settings.backup_dir,
        settings.jobs_dir,
        settings.notebooks_dir,
        settings.search_dir,
    ]
    if settings.backup_dir.is_dir():
        candidates += sorted(p for p in settings.backup_dir.iterdir() if p.is_file())
    seen: dict[Path, None] = {}
    for path in candidates:
        if path.exists():
            seen.setdefault(path, None)
    return list(seen)


def file_mode(path: Path) -> int:
    """The permission bits of ``path`` (0o600 for a file only its owner can read and write)."""
    return stat.S_IMODE(path.stat().st_mode)


def _names(paths: Iterable[Path], limit: int = 5) -> str:
    shown = [f"{p} ({file_mode(p):04o})" for p in paths]
    more = len(shown) - limit
    return ", ".join(shown[:limit]) + (f" and {more} more" if more > 0 else "")


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


@check("permissions")
def check_permissions(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    paths = _private_paths(settings)
    if not paths:
        yield Finding("ok", f"nothing to check yet: {settings.data_dir} does not exist")
        return
    roots = [settings.data_dir]
    if not settings.backup_dir.is_relative_to(settings.data_dir):
        roots.append(settings.backup_dir)
    tighten = f"chmod -R go-rwx {' '.join(map(str, roots))}, and run the server with umask 077"
    tighten += " (deploy/venture-crm.service sets UMask=0077)"
    writable = [p for p in paths if file_mode(p) & stat.S_IWOTH]
    readable = [
        p for p in paths if file_mode(p) & (stat.S_IROTH | stat.S_IXOTH) and p not in writable
    ]
    group = [p for p in paths if file_mode(p) & stat.S_IRWXG and p not in writable + readable]
    if writable:
        yield Finding(
            "fail",
            f"Every local user can change or replace the fund's data: {_names(writable)}",
            tighten,
        )
    if readable:
        yield Finding(
            "fail" if settings.production else "warn",
            f"Every local user can read the fund's data: {_names(readable)}",
            tighten,
        )
    if group:
        yield Finding(
            "warn",
            f"Members of the files' groups can reach the fund's data: {_names(group)}",
            tighten,
        )
    me = os.geteuid()
    owners = {} if me == 0 else {p: p.stat().st_uid for p in paths if p.stat().st_uid != me}
    if owners:
        others = sorted({_user(uid) for uid in owners.values()})
        yield Finding(
            "warn",
            f"{len(owners)} of the CRM's files belong to {', '.join(others)}, not to {_user(me)} "
            f"who runs this check, e.g. {next(iter(owners))}",
            "run the doctor as the server's user (`sudo -u venture-crm crm doctor`), or "
            f"`chown -R` {' '.join(map(str, roots))} to the user the server runs as",
        )
    if not (writable or readable or group or owners):
        whose = "; owners not compared (run as root)" if me == 0 else f" and owned by {_user(me)}"
        yield Finding("ok", f"{len(paths)} folders and files are private{whose}")


def _existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _database_bytes(settings: Settings) -> int:
    db = settings.database_path
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.is_file())


def _size(size: float) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"


@check("disk")
def check_disk(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    folder = _existing(settings.data_dir)
    usage = shutil.disk_usage(folder)
    db_size = _database_bytes(settings)
    text = f"{_size(usage.free)} free at {folder} (database {_size(db_size)})"
    free_up = "free some space, or move CRM_BACKUP_DIR to a larger disk"
    if usage.free < max(MIN_FREE_BYTES, 2 * db_size):
        yield Finding("fail", f"Only {text}: too little for the database and its backups", free_up)
    elif usage.free < max(WARN_FREE_BYTES, 4 * db_size):
        yield Finding("warn", f"Only {text}: backups will fill the disk soon", free_up)
    else:
        yield Finding("ok", text)
    backups = _existing(settings.backup_dir)
    if backups.stat().st_dev == folder.stat().st_dev:
        yield Finding(
            "ok",
            f"Backups ({settings.backup_dir}) share that disk: one disk failure loses both; "
            "CRM_BACKUP_DIR on another disk is safer",
        )
        return
    free = shutil.disk_usage(backups).free
    needed = db_size + MIN_FREE_BYTES  # a backup is a full copy of the database
    where = f"{_size(free)} free for backups at {backups}; a backup needs about {_size(db_size)}"
    if free < needed:
        yield Finding(
            "fail", f"Only {where}: the next backup will not fit", f"free space on {backups}"
        )
    elif free < 3 * needed:
        yield Finding(
            "warn", f"Only {where}: room for fewer than three", f"free space on {backups}"
        )
    else:
        yield Finding("ok", where)
