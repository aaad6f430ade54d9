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

The package is laid out as the paragraphs above: :mod:`.common` holds the names, the deadline,
the :class:`Destination` protocol and :func:`copy`; :mod:`.folder` the mounted folder and
:func:`~.folder.os_error`; :mod:`.s3` the S3 destination, :func:`~.s3.s3_error` and its limits
(:data:`~.s3.S3_ATTEMPTS`, the multipart sizes). Only what other modules use is re-exported
here; a test that patches a constant patches it in the module whose code reads it.
"""

from __future__ import annotations

from crm_lib.backups.offbox.common import (
    Deadline,
    Destination,
    RemoteObject,
    backup_name_info,
    bounded,
    check_name,
    copy,
    service_name,
)
from crm_lib.backups.offbox.folder import FolderDestination
from crm_lib.backups.offbox.s3 import S3Destination
from crm_lib.config import Settings

__all__ = [
    "Deadline",
    "Destination",
    "FolderDestination",
    "RemoteObject",
    "S3Destination",
    "backup_name_info",
    "bounded",
    "check_name",
    "copy",
    "destinations",
    "service_name",
]


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
