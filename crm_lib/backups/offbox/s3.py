"""S3, or an S3-compatible service at another endpoint, as an off-box destination.

boto3 is imported only inside the functions that use it, so that importing ``crm_lib`` does not
pay for it when no S3 destination is configured. Every boto3/botocore error becomes one
:class:`~crm_lib.errors.ExternalServiceError` in :func:`s3_error`, with a hint from
:data:`S3_HINTS`. :meth:`S3Destination.put` reads :data:`MULTIPART_THRESHOLD` and
:data:`MULTIPART_CHUNK` from this module when it runs.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from crm_lib.backups.offbox.common import (
    CHUNK,
    NAME,
    Deadline,
    RemoteObject,
    check_name,
    write_hashed,
)
from crm_lib.errors import ExternalServiceError

T = TypeVar("T")

S3_CONNECT_TIMEOUT_S = 10
S3_READ_TIMEOUT_S = 60
#: Tries of one S3 request (the SDK's "standard" retry mode: backoff, retryable errors only).
S3_ATTEMPTS = 3
MULTIPART_THRESHOLD = 64 * 1024 * 1024
MULTIPART_CHUNK = 16 * 1024 * 1024

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
            return write_hashed(chunks, target)

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
