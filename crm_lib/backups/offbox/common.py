"""What every off-box destination shares: the names it may hold, the time it may take, the
:class:`Destination` protocol and the proven :func:`copy` over it.

Kept apart from the two destinations so that neither imports the other, and so that the rules
every destination must follow (plain names, bounded time, read back before trusting) are read in
one place. :func:`bounded` reads :data:`GRACE_S` from this module when it runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from crm_lib.errors import ExternalServiceError, ValidationError

T = TypeVar("T")

#: A backup's name at a destination: one plain file name, never a path.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.db$")
#: The names our backups have (``services.backups.create_backup`` and the pre-migration copy):
#: the kind and the moment are read back from them when a copy is fetched onto a new machine.
BACKUP_NAMES = (
    re.compile(
        r"^crm-(?P<at>\d{8}T\d{12}Z)-(?P<kind>nightly|manual|pre-restore|pre-migration)"
        r"-[0-9a-f]{6}\.db$"
    ),
    re.compile(r"^(?P<kind>pre-migration)-v\d+-(?P<at>\d{8}T\d{12}Z)\.db$"),
)
CHUNK = 4 * 1024 * 1024
#: How long past its deadline an operation may take to notice it and clean up.
GRACE_S = 5.0


def check_name(name: str) -> str:
    """``name`` if it is a plain backup file name, else a :class:`ValidationError`."""
    if not NAME.fullmatch(name):
        raise ValidationError(
            f"{name!r} is not a backup file name like crm-20260101T020000000000Z-nightly-1a2b3c.db",
            field="name",
        )
    return name


def backup_name_info(name: str) -> tuple[str, datetime] | None:
    """The kind and moment a backup's file name records, or None for any other name."""
    for pattern in BACKUP_NAMES:
        match = pattern.fullmatch(name)
        if match:
            at = datetime.strptime(match["at"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
            return match["kind"], at
    return None


class Deadline:
    """The moment an off-box operation must have finished by; :meth:`check` raises after it."""

    def __init__(self, seconds: float, service: str) -> None:
        self.seconds = seconds
        self.service = service
        self._expires = time.monotonic() + seconds
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        self._cancelled.set()

    def check(self) -> None:
        if self._cancelled.is_set() or time.monotonic() > self._expires:
            raise ExternalServiceError(
                self.service,
                f"{self.service}: not finished within {self.seconds:,.0f} s "
                "(CRM_OFFBOX_TIMEOUT_S); abandoned",
            )


def bounded(
    work: Callable[[Deadline], T],
    seconds: float,
    service: str,
    *,
    limit: str = "CRM_OFFBOX_TIMEOUT_S",
) -> T:
    """Run ``work(deadline)`` in a worker thread; its result, or its error, or an
    :class:`ExternalServiceError` if it has not returned ``GRACE_S`` after the deadline (the
    thread is then left to end on its own: it is a daemon and its deadline is cancelled)."""
    deadline = Deadline(seconds, service)
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work(deadline)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=f"offbox {service}", daemon=True)
    thread.start()
    thread.join(seconds + GRACE_S)
    if thread.is_alive():
        deadline.cancel()
        raise ExternalServiceError(
            service,
            f"{service}: no answer within {seconds:,.0f} s"
            + (f" ({limit}); abandoned" if limit else "; abandoned"),
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@dataclass(frozen=True)
class RemoteObject:
    """A backup file at a destination."""

    name: str
    key: str  # the S3 key, or the path in the folder
    size: int
    modified: datetime
    sha256: str | None  # recorded at upload (sidecar, metadata); None when not known from a list


class Destination(Protocol):
    """Where off-box copies go. ``location`` is recorded and shown: never credentials."""

    kind: str
    location: str

    def key(self, name: str) -> str:
        """The S3 key, or the folder path, of ``name`` there."""
        ...

    def put(self, source: Path, name: str, sha256: str, deadline: Deadline) -> None:
        """Store ``source`` as ``name``, with ``sha256`` recorded beside it."""
        ...

    def read_sha256(self, name: str, deadline: Deadline) -> str | None:
        """SHA-256 of the bytes stored as ``name``, read back in full; None if missing."""
        ...

    def recorded_sha256(self, name: str, deadline: Deadline) -> str | None:
        """The SHA-256 recorded when ``name`` was stored (no read of the data)."""
        ...

    def download(self, name: str, target: Path, deadline: Deadline) -> str:
        """Write ``name``'s bytes to ``target`` (fsynced); returns their SHA-256."""
        ...

    def list(self, deadline: Deadline) -> list[RemoteObject]:
        """The backups there (plain names only), in no particular order."""
        ...

    def delete(self, name: str, deadline: Deadline) -> None:
        """Remove ``name`` (and what was recorded beside it); missing is not an error."""
        ...


def copy(destination: Destination, source: Path, name: str, sha256: str, seconds: float) -> None:
    """Store ``source`` at ``destination`` and read it back: an :class:`ExternalServiceError`
    unless the stored bytes have ``sha256``. A copy that reads back wrong is deleted."""

    def work(deadline: Deadline) -> None:
        destination.put(source, name, sha256, deadline)
        stored = destination.read_sha256(name, deadline)
        if stored != sha256:
            removed = False
            # the mismatch is the error to report, whether or not the bad copy could be removed
            with contextlib.suppress(ExternalServiceError):
                destination.delete(name, deadline)
                removed = True
            found = "is missing" if stored is None else f"has SHA-256 {stored[:12]}…"
            raise ExternalServiceError(
                destination.kind,
                f"the copy at {destination.key(name)} read back {found}, not {sha256[:12]}…"
                + ("; it was removed" if removed else "; removing it failed too"),
            )

    bounded(work, seconds, service_name(destination))


def service_name(destination: Destination) -> str:
    """How errors name a destination: "off-box s3 s3://bucket/prefix at host"."""
    return f"off-box {destination.kind} {destination.location}"


# -- writing a local file, for both destinations ---------------------------------------------------
def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``: ``os.write`` may take only part of it."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def write_hashed(chunks: Iterator[bytes], target: Path) -> str:
    """Write the chunks to ``target`` (new, mode 0600, fsynced); their SHA-256."""
    digest = hashlib.sha256()
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        for chunk in chunks:
            digest.update(chunk)
            write_all(out, chunk)
        os.fsync(out)
    finally:
        os.close(out)
    return digest.hexdigest()
