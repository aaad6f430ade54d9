"""The exception tree every front end maps to its own shape (JSON, notification, CLI message).

::

    CRMError                      code="error"            HTTP 500
    ├── ValidationError           code="invalid"          HTTP 422   field, row, column
    │   └── FormulaError          code="formula"          HTTP 422   position (0-based offset)
    ├── NotFound                  code="not_found"        HTTP 404   entity, entity_id
    ├── ConflictError             code="conflict"         HTTP 409   current_version, updated_at, updated_by
    ├── NotAuthenticated          code="unauthenticated"  HTTP 401   (no, expired or revoked login)
    ├── PermissionDenied          code="forbidden"        HTTP 403   action
    ├── RateLimited               code="rate_limited"     HTTP 429   retry_after (seconds)
    ├── ConfigError               code="config"           HTTP 500   a setting is missing or malformed
    ├── ExternalServiceError      code="external"         HTTP 502   service (SMTP, Gmail, local model)
    └── DatabaseError             code="database"         HTTP 503   path
        ├── DiskFull              code="disk_full": no room to write; nothing was written
        ├── DatabaseBusy          code="busy": another change held the write lock too long
        ├── NotADatabaseError     the file is not SQLite, or it is corrupt; left untouched
        ├── SchemaTooNewError     written by a newer Venture CRM
        └── SQLiteTooOldError     the SQLite library has the WAL-reset bug

Messages name the thing, the place and the fix, and never carry a stack trace.
"""

from __future__ import annotations

from pathlib import Path


class CRMError(Exception):
    """Base of every error the library raises on purpose."""

    code = "error"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """The one JSON error shape: ``{"error": code, "detail": message, ...extra}``."""
        return {"error": self.code, "detail": self.message}


class ValidationError(CRMError):
    """Input that cannot be stored: names the field (and, for imports, row and column)."""

    code = "invalid"
    http_status = 422

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.field = field
        self.row = row
        self.column = column

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        for key in ("field", "row", "column"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


class FormulaError(ValidationError):
    """A formula that cannot be compiled or evaluated: names the problem and its character offset.

    ``position`` counts characters from 0, the way the formula editor's caret does, so the editor can
    put the cursor on the problem. Messages read like
    "Unknown field {Comitted} at 14 — did you mean {Committed}?".
    """

    code = "formula"

    def __init__(
        self, message: str, *, position: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message, field=field)
        self.position = position

    def to_dict(self) -> dict[str, object]:
        data = super().to_dict()
        if self.position is not None:
            data["position"] = self.position
        return data


class NotFound(CRMError):
    """No live row with that id (archived rows count as missing for ordinary reads)."""

    code = "not_found"
    http_status = 404

    def __init__(self, entity: str, entity_id: object) -> None:
        super().__init__(f"No {entity} with id {entity_id}")
        self.entity = entity
        self.entity_id = entity_id

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "entity": self.entity, "id": self.entity_id}


class ConflictError(CRMError):
    """Someone else wrote first: the caller's version is stale. Nothing was written."""

    code = "conflict"
    http_status = 409

    def __init__(
        self,
        entity: str,
        entity_id: object,
        *,
        expected_version: int | None,
        current_version: int,
        updated_at: str | None,
        updated_by: str | None,
        updated_by_name: str | None = None,
    ) -> None:
        who = updated_by_name or updated_by or "someone"
        super().__init__(
            f"{entity} {entity_id} was changed by {who} at {updated_at} "
            f"(now version {current_version}, you had version {expected_version}); "
            "reload it and apply your change again"
        )
        self.entity = entity
        self.entity_id = entity_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.updated_at = updated_at
        self.updated_by = updated_by
        #: The person as the team knows them (their display name), when the writer is a user.
        self.updated_by_name = updated_by_name or updated_by

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "entity": self.entity,
            "id": self.entity_id,
            "current_version": self.current_version,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "updated_by_name": self.updated_by_name,
        }


class PermissionDenied(CRMError):
    """The actor may not do this action."""

    code = "forbidden"
    http_status = 403

    def __init__(self, action: str, message: str | None = None) -> None:
        super().__init__(message or f"You are not allowed to {action}")
        self.action = action


class NotAuthenticated(CRMError):
    """No valid login: never logged in, expired, logged out, or the account was deactivated.

    The message never says which, so it cannot be used to probe accounts.
    """

    code = "unauthenticated"
    http_status = 401

    def __init__(self, message: str = "Please log in") -> None:
        super().__init__(message)


class RateLimited(CRMError):
    """Too many attempts: try again after ``retry_after`` seconds. Nothing was done."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message or f"Too many attempts; try again in {retry_after} s")
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class ConfigError(CRMError):
    """A setting is missing, malformed or unsafe; start-up stops with this message."""

    code = "config"
    http_status = 500


class ExternalServiceError(CRMError):
    """A service outside the CRM (the mail transport, Gmail, the local model) refused or failed;
    the message says which and what to check. Nothing was half written."""

    code = "external"
    http_status = 502

    def __init__(self, service: str, message: str) -> None:
        super().__init__(message)
        self.service = service

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "service": self.service}


class DatabaseError(CRMError):
    """The database file cannot be used as it is; it has not been modified."""

    code = "database"
    http_status = 503

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class DiskFull(DatabaseError):
    """SQLite answered "database or disk is full" (SQLITE_FULL) during a write.

    The whole transaction was rolled back, so nothing is half-written; reads keep working. The
    fix is the operator's: free disk space (old backups, logs) and try again.
    """

    code = "disk_full"

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            "The server's disk is full: nothing was saved. An admin needs to free some space "
            "(old backups, logs); then try again",
            path=path,
        )


class DatabaseBusy(DatabaseError):
    """Another change kept the database's one write lock longer than a write may wait (a
    formula over every investor, an import, a restore). Nothing was written; trying again in a
    moment works. The wait is bounded so that no request, and no thread serving pages, is held
    for the whole of someone else's long change."""

    code = "busy"

    def __init__(self, waited_s: float, path: Path | None = None) -> None:
        super().__init__(
            f"The CRM is busy with another change (such as a formula over every investor or an "
            f"import) and could not save within {waited_s:g} s: nothing was saved; try again in "
            "a moment",
            path=path,
        )


class NotADatabaseError(DatabaseError):
    """The file is not a SQLite database, or it is corrupt."""


class SchemaTooNewError(DatabaseError):
    """The database was migrated by a newer version of Venture CRM."""


class SQLiteTooOldError(DatabaseError):
    """The SQLite library in use predates the WAL-reset fix (3.51.3)."""


#: The start of what people are told when SQLite cannot read the database (pages and API alike).
UNREADABLE = "Venture CRM cannot read its database"
#: SQLite's primary result codes (``sqlite_errorcode & 0xFF``) that mean the file is damaged.
_SQLITE_DAMAGED = {11: "SQLITE_CORRUPT", 26: "SQLITE_NOTADB"}
_SQLITE_BUSY = {5: "SQLITE_BUSY", 6: "SQLITE_LOCKED"}
_SQLITE_UNREACHABLE = {8: "SQLITE_READONLY", 10: "SQLITE_IOERR", 14: "SQLITE_CANTOPEN"}
_SQLITE_FULL = 13


def database_failure(exc: BaseException) -> DatabaseError | None:
    """What an error from the SQLite driver means to the people using the CRM, or None when
    ``exc`` is not one that the database's state explains (then it is a bug: a 500, logged).

    The one table from SQLite's result codes to :class:`DatabaseError` (HTTP 503): a full disk,
    a damaged file or missing table (corrupted, or changed by hand after start-up), a lock held
    too long by another program, a file that cannot be read or written. Every front end maps a
    driver error through here, so each says the same thing, and none shows a traceback.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    primary, text = code & 0xFF, str(exc)
    if primary == _SQLITE_FULL:
        return DiskFull()
    damaged = primary in _SQLITE_DAMAGED or (
        primary == 1 and text.startswith(("no such table", "no such column"))
    )
    if damaged:
        return NotADatabaseError(
            f"{UNREADABLE} ({text}); nothing was changed. An admin can check it with "
            "`crm doctor` and restore the latest backup with `crm restore`"
        )
    if primary in _SQLITE_BUSY:
        return DatabaseError(
            f"The database is busy ({text}): another program holds its lock; try again shortly"
        )
    if primary in _SQLITE_UNREACHABLE:
        return DatabaseError(
            f"{UNREADABLE} file ({text}); nothing was changed. An admin can check the data "
            "folder's permissions and disk with `crm doctor`"
        )
    return None
