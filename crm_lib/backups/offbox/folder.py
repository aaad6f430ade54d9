"""A mounted folder as an off-box destination (a NAS share over NFS, SMB or sshfs).

The folder owns what the OS can do wrong on a share: writes go to a partial file that is renamed
into place only once it is whole and fsynced, reads never follow symbolic links and bypass this
machine's page cache, and every :class:`OSError` becomes one
:class:`~crm_lib.errors.ExternalServiceError` in :func:`os_error`, with a hint from
:data:`OS_HINTS` that says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from crm_lib.backups.files import fsync
from crm_lib.backups.offbox.common import (
    CHUNK,
    NAME,
    Deadline,
    RemoteObject,
    check_name,
    write_all,
    write_hashed,
)
from crm_lib.errors import ExternalServiceError

T = TypeVar("T")

#: OS errors whose errno says what to do, for :func:`os_error`.
OS_HINTS = {
    errno.ENOENT: "does not exist (is the share mounted?)",
    errno.ENOTDIR: "is not a folder",
    errno.EACCES: "permission denied: the service's user needs write access (under systemd, "
    "add the folder to ReadWritePaths=)",
    errno.EPERM: "operation not permitted for the service's user",
    errno.EROFS: "is read-only (under systemd's ProtectSystem=strict, add it to ReadWritePaths=)",
    errno.ENOSPC: "is full",
    errno.EDQUOT: "is over its quota",
    errno.EIO: "input/output error (is the share reachable?)",
    errno.ESTALE: "stale file handle: remount the share",
    errno.ETIMEDOUT: "timed out (is the NAS up?)",
    errno.EHOSTDOWN: "host is down (is the NAS up?)",
    errno.EHOSTUNREACH: "host unreachable (is the NAS up?)",
}


def os_error(exc: OSError, folder: Path) -> ExternalServiceError:
    """An OS error of the off-box folder as a message naming it and what to do."""
    hint = OS_HINTS.get(exc.errno or 0, exc.strerror or type(exc).__name__)
    return ExternalServiceError("off-box folder", f"off-box folder {folder}: {hint}")


def _open_no_follow(path: Path) -> int:
    return os.open(path, os.O_RDONLY | os.O_NOFOLLOW)


def _chunks(fd: int, deadline: Deadline) -> Iterator[bytes]:
    while chunk := os.read(fd, CHUNK):
        deadline.check()
        yield chunk


class FolderDestination:
    """A folder on another machine, mounted here (NFS, SMB, sshfs). Never created: an
    unmounted share's empty mount point must not silently take the copies."""

    kind = "folder"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.location = str(folder)

    def key(self, name: str) -> str:
        return str(self._path(name))

    def _path(self, name: str) -> Path:
        return self.folder / check_name(name)

    def _sidecar(self, name: str) -> Path:
        return self.folder / f"{check_name(name)}.sha256"

    def _guard(self, action: Callable[[], T]) -> T:
        try:
            return action()
        except OSError as exc:
            raise os_error(exc, self.folder) from None

    def put(self, source: Path, name: str, sha256: str, deadline: Deadline) -> None:
        target = self._path(name)
        partial = self.folder / f".{name}.partial-{uuid.uuid4().hex[:8]}"

        def write() -> None:
            self._need_folder()
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            out = os.open(partial, flags, 0o600)
            try:
                with source.open("rb") as src:
                    while chunk := src.read(CHUNK):
                        deadline.check()
                        write_all(out, chunk)
                os.fsync(out)
            finally:
                os.close(out)
            deadline.check()  # abandoned meanwhile: never put a late copy into place
            os.replace(partial, target)
            fsync(self.folder)
            self._write_sidecar(name, sha256)

        try:
            self._guard(write)
        finally:
            _remove_quietly(partial)

    def _write_sidecar(self, name: str, sha256: str) -> None:
        sidecar = self._sidecar(name)
        partial = sidecar.with_name(f".{sidecar.name}.partial-{uuid.uuid4().hex[:8]}")
        try:
            out = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                write_all(out, f"{sha256}  {name}\n".encode())
                os.fsync(out)
            finally:
                os.close(out)
            os.replace(partial, sidecar)
            fsync(self.folder)
        finally:
            _remove_quietly(partial)

    def _need_folder(self) -> None:
        """The folder must be there: a missing folder is a share that is not mounted (an
        error), not a missing copy."""
        if not self.folder.is_dir():
            raise FileNotFoundError(errno.ENOENT, "missing", str(self.folder))

    def read_sha256(self, name: str, deadline: Deadline) -> str | None:
        def read() -> str | None:
            self._need_folder()
            try:
                fd = _open_no_follow(self._path(name))
            except FileNotFoundError:
                return None
            try:
                # read from the share, not from what this machine cached while writing
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                digest = hashlib.sha256()
                for chunk in _chunks(fd, deadline):
                    digest.update(chunk)
                return digest.hexdigest()
            finally:
                os.close(fd)

        return self._guard(read)

    def recorded_sha256(self, name: str, deadline: Deadline) -> str | None:
        def read() -> str | None:
            self._need_folder()
            try:
                fd = _open_no_follow(self._sidecar(name))
            except FileNotFoundError:
                return None
            try:
                text = os.read(fd, 4096).decode("ascii", "replace")
            finally:
                os.close(fd)
            digest = text.split(" ", 1)[0].strip().lower()
            return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None

        return self._guard(read)

    def download(self, name: str, target: Path, deadline: Deadline) -> str:
        def fetch() -> str:
            self._need_folder()
            try:
                fd = _open_no_follow(self._path(name))
            except FileNotFoundError:
                raise ExternalServiceError(
                    "off-box folder", f"off-box folder {self.folder}: {name} is not there"
                ) from None
            try:
                return write_hashed(_chunks(fd, deadline), target)
            finally:
                os.close(fd)

        return self._guard(fetch)

    def list(self, deadline: Deadline) -> list[RemoteObject]:
        def scan() -> list[RemoteObject]:
            found = []
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    deadline.check()
                    if not NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                        continue
                    info = entry.stat(follow_symlinks=False)
                    found.append(
                        RemoteObject(
                            name=entry.name,
                            key=str(self.folder / entry.name),
                            size=info.st_size,
                            modified=datetime.fromtimestamp(info.st_mtime, tz=UTC),
                            sha256=self.recorded_sha256(entry.name, deadline),
                        )
                    )
            return found

        return self._guard(scan)

    def delete(self, name: str, deadline: Deadline) -> None:
        def remove() -> None:
            deadline.check()
            self._need_folder()
            self._path(name).unlink(missing_ok=True)
            self._sidecar(name).unlink(missing_ok=True)
            fsync(self.folder)

        self._guard(remove)

    def same_disk_as(self, folder: Path) -> bool:
        """Whether this folder is on the disk ``folder`` is on (an unmounted share's mount
        point is): then the copies are not off the box at all."""
        return self._guard(lambda: os.stat(self.folder).st_dev == os.stat(folder).st_dev)


def _remove_quietly(path: Path) -> None:
    """Remove a leftover partial file; on a share that has gone away this fails too, and the
    error that matters is the one already being raised."""
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)
