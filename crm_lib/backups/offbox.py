"""Off-box copies of backups: a mounted folder (a NAS share) or S3-compatible storage.

A :class:`Destination` keeps whole backup files under their plain names
(``crm-<time>-<kind>-<id>.db``) and can read them back, list and delete them. A copy is proven,
never assumed (:func:`copy`):

* :class:`FolderDestination` writes ``.<name>.partial-<random>`` (mode 0600), fsyncs it, renames
  it into place and fsyncs the folder, writes ``<name>.sha256`` beside it (``sha256sum -c``
  format, for a new machine and for people), then drops the file from this machine's page cache
  and reads it back from the share to compare SHA-256.
* :class:`S3Destination` uploads with boto3 (multipart above 64 MiB, parts retried by the SDK)
  with the SHA-256 in the object's metadata (``x-amz-meta-sha256``), then streams the object back
  and hashes it. An ETag is not a SHA-256 (nor an MD5 for multipart uploads), and S3's own
  ChecksumSHA256 of a multipart upload is a checksum of the parts' checksums that S3-compatible
  services may not keep: reading the bytes back is what proves the copy, on any server.

Names never leave the destination: a name is one plain file name (:data:`NAME`, no separators,
no leading dot), checked before a path or key is built from it; a key is ``<prefix>/<name>``;
folder reads never follow symbolic links.

Time is bounded. S3 requests have connect and read timeouts and at most :data:`S3_ATTEMPTS`
tries; on top of that every remote operation runs through :func:`bounded`: in a worker thread,
under a :class:`Deadline` that loops check between chunks, and abandoned (with an error) if it
has not returned a few seconds after it — a call stuck in the kernel on a hung NFS mount cannot
hold the nightly job. Errors of the OS and of boto3 become
:class:`~crm_lib.errors.ExternalServiceError` in one place each (:func:`os_error`,
:func:`s3_error`); their messages name the destination and never hold credentials.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from crm_lib.backups.files import fsync
from crm_lib.config import Settings
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
S3_CONNECT_TIMEOUT_S = 10
S3_READ_TIMEOUT_S = 60
#: Tries of one S3 request (the SDK's "standard" retry mode: backoff, retryable errors only).
S3_ATTEMPTS = 3
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024
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


# -- a mounted folder -----------------------------------------------------------------------------
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
                        _write_all(out, chunk)
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
                _write_all(out, f"{sha256}  {name}\n".encode())
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
                return _write_hashed(_chunks(fd, deadline), target)
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


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_hashed(chunks: Iterator[bytes], target: Path) -> str:
    """Write the chunks to ``target`` (new, mode 0600, fsynced); their SHA-256."""
    digest = hashlib.sha256()
    out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        for chunk in chunks:
            digest.update(chunk)
            _write_all(out, chunk)
        os.fsync(out)
    finally:
        os.close(out)
    return digest.hexdigest()


# -- S3 and S3-compatible storage -------------------------------------------------------------------
#: S3 error codes and what to do about them, for :func:`s3_error`.
S3_HINTS = {
    "NoSuchBucket": "the bucket does not exist: create it, or correct CRM_OFFBOX_S3_URL",
    "AccessDenied": "access denied: the key needs s3:PutObject, s3:GetObject, s3:ListBucket and "
    "s3:DeleteObject on the bucket and prefix",
    "AllAccessDisabled": "access to the bucket is disabled",
    "InvalidAccessKeyId": "the access key is not known there: check AWS_ACCESS_KEY_ID",
    "SignatureDoesNotMatch": "the signature does not match: check AWS_SECRET_ACCESS_KEY",
    "InvalidToken": "the session token is invalid: check AWS_SESSION_TOKEN",
    "ExpiredToken": "the session token has expired",
    "AuthorizationHeaderMalformed": "wrong region: set CRM_OFFBOX_S3_REGION to the bucket's",
    "PermanentRedirect": "the bucket is in another region: set CRM_OFFBOX_S3_REGION",
    "IllegalLocationConstraintException": "wrong region: set CRM_OFFBOX_S3_REGION",
    "RequestTimeTooSkewed": "this machine's clock is wrong: synchronise it (NTP)",
    "QuotaExceeded": "the storage quota is exceeded",
    "SlowDown": "the service asks to slow down: it is tried again next time",
    "ServiceUnavailable": "the service is unavailable: it is tried again next time",
    "InternalError": "the service failed internally: it is tried again next time",
}


def s3_error(exc: Exception, location: str) -> ExternalServiceError:
    """A boto3/botocore error as a message naming the destination and what to do."""
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as bx

    if isinstance(exc, S3UploadFailedError) and exc.__context__ is not None:
        exc = exc.__context__  # type: ignore[assignment]
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        hint = S3_HINTS.get(code) or (
            f"{code or status}: {str(error.get('Message', ''))[:200]}".rstrip(": ")
        )
    elif isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        hint = (
            "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the service's "
            "environment (or ~/.aws/credentials of its user)"
        )
    elif isinstance(exc, bx.ConnectTimeoutError | bx.EndpointConnectionError):
        hint = "cannot connect (is the address right, and the network up?)"
    elif isinstance(exc, bx.ReadTimeoutError):
        hint = f"no answer within {S3_READ_TIMEOUT_S} s"
    elif isinstance(exc, bx.BotoCoreError):
        hint = str(exc)[:200]
    else:
        hint = f"{type(exc).__name__}: {str(exc)[:200]}"
    return ExternalServiceError("S3", f"off-box {location}: {hint}")


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ``("bucket", "some/prefix")`` (config has checked it)."""
    parts = urlsplit(url)
    return parts.netloc, parts.path.strip("/")


class S3Destination:
    """A bucket (and prefix) at AWS or at an S3-compatible service (``endpoint``). Credentials
    are boto3's usual chain (environment, ~/.aws); nothing here reads or keeps them."""

    kind = "s3"

    def __init__(
        self,
        url: str,
        *,
        endpoint: str = "",
        region: str = "",
        attempts: int | None = None,
        connect_timeout_s: float | None = None,
        read_timeout_s: float | None = None,
    ) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.endpoint = endpoint
        host = urlsplit(endpoint).netloc if endpoint else ""
        self.location = f"{url} at {host}" if host else url
        self._settings = {
            "region": region,
            "attempts": attempts or S3_ATTEMPTS,
            "connect_timeout_s": connect_timeout_s or S3_CONNECT_TIMEOUT_S,
            "read_timeout_s": read_timeout_s or S3_READ_TIMEOUT_S,
        }
        self._client: Any = None
        self._lock = threading.Lock()

    def key(self, name: str) -> str:
        name = check_name(name)
        return f"{self.prefix}/{name}" if self.prefix else name

    def client(self) -> Any:
        """The boto3 client, made on first use (clients are thread-safe)."""
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                options: dict[str, Any] = {
                    "connect_timeout": self._settings["connect_timeout_s"],
                    "read_timeout": self._settings["read_timeout_s"],
                    "retries": {"max_attempts": self._settings["attempts"], "mode": "standard"},
                }
                if self.endpoint:
                    # S3-compatible services: path-style addresses work on all of them, and
                    # several reject the checksum headers boto3 sends to AWS by default
                    options.update(
                        s3={"addressing_style": "path"},
                        request_checksum_calculation="when_required",
                        response_checksum_validation="when_required",
                    )
                self._client = boto3.session.Session().client(
                    "s3",
                    endpoint_url=self.endpoint or None,
                    region_name=self._settings["region"] or None,
                    config=Config(**options),
                )
            return self._client

    def _guard(self, action: Callable[[], T]) -> T:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except (BotoCoreError, ClientError, Boto3Error) as exc:
            raise s3_error(exc, self.location) from None

    def put(self, source: Path, name: str, sha256: str, deadline: Deadline) -> None:
        from boto3.s3.transfer import TransferConfig

        key = self.key(name)

        def progress(_sent: int) -> None:
            deadline.check()  # raising here fails the transfer; boto3 aborts the multipart upload

        self._guard(
            lambda: self.client().upload_file(
                str(source),
                self.bucket,
                key,
                ExtraArgs={
                    "Metadata": {"sha256": sha256},
                    "ContentType": "application/vnd.sqlite3",
                },
                Callback=progress,
                Config=TransferConfig(
                    multipart_threshold=MULTIPART_THRESHOLD,
                    multipart_chunksize=MULTIPART_CHUNK,
                    max_concurrency=4,
                ),
            )
        )

    def _missing(self, exc: Exception) -> bool:
        from botocore.exceptions import ClientError

        return isinstance(exc, ClientError) and (
            exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound")
        )

    def _stream(self, name: str, deadline: Deadline) -> Iterator[bytes] | None:
        from botocore.exceptions import ClientError

        try:
            body = self.client().get_object(Bucket=self.bucket, Key=self.key(name))["Body"]
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise

        def chunks() -> Iterator[bytes]:
            try:
                for chunk in body.iter_chunks(CHUNK):
                    deadline.check()
                    yield chunk
            finally:
                body.close()

        return chunks()

    def read_sha256(self, name: str, deadline: Deadline) -> str | None:
        def read() -> str | None:
            chunks = self._stream(name, deadline)
            if chunks is None:
                return None
            digest = hashlib.sha256()
            for chunk in chunks:
                digest.update(chunk)
            return digest.hexdigest()

        return self._guard(read)

    def recorded_sha256(self, name: str, deadline: Deadline) -> str | None:
        from botocore.exceptions import ClientError

        def head() -> str | None:
            deadline.check()
            try:
                found = self.client().head_object(Bucket=self.bucket, Key=self.key(name))
            except ClientError as exc:
                if self._missing(exc):
                    return None
                raise
            digest = str(found.get("Metadata", {}).get("sha256", "")).lower()
            return digest if re.fullmatch(r"[0-9a-f]{64}", digest) else None

        return self._guard(head)

    def download(self, name: str, target: Path, deadline: Deadline) -> str:
        def fetch() -> str:
            chunks = self._stream(name, deadline)
            if chunks is None:
                raise ExternalServiceError("S3", f"off-box {self.location}: {name} is not there")
            return _write_hashed(chunks, target)

        return self._guard(fetch)

    def list(self, deadline: Deadline) -> list[RemoteObject]:
        start = f"{self.prefix}/" if self.prefix else ""

        def scan() -> list[RemoteObject]:
            found = []
            pages = self.client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=start, Delimiter="/"):
                deadline.check()
                for item in page.get("Contents", []):
                    name = item["Key"][len(start) :]
                    if NAME.fullmatch(name):
                        found.append(
                            RemoteObject(
                                name=name,
                                key=item["Key"],
                                size=int(item["Size"]),
                                modified=item["LastModified"].astimezone(UTC),
                                sha256=None,
                            )
                        )
            return found

        return self._guard(scan)

    def delete(self, name: str, deadline: Deadline) -> None:
        deadline.check()
        key = self.key(name)
        self._guard(lambda: self.client().delete_object(Bucket=self.bucket, Key=key))


def destinations(settings: Settings) -> list[Destination]:
    """The destinations the settings configure (none, a folder, S3, or both)."""
    found: list[Destination] = []
    if settings.offbox_dir is not None:
        found.append(FolderDestination(settings.offbox_dir))
    if settings.offbox_s3_url:
        found.append(
            S3Destination(
                settings.offbox_s3_url,
                endpoint=settings.offbox_s3_endpoint,
                region=settings.offbox_s3_region,
            )
        )
    return found
