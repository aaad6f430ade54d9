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
    └── DatabaseError             code="database"         HTTP 503   path
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
    ) -> None:
        super().__init__(
            f"{entity} {entity_id} was changed by {updated_by or 'someone'} at {updated_at} "
            f"(now version {current_version}, you had version {expected_version}); "
            "reload it and apply your change again"
        )
        self.entity = entity
        self.entity_id = entity_id
        self.expected_version = expected_version
        self.current_version = current_version
        self.updated_at = updated_at
        self.updated_by = updated_by

    def to_dict(self) -> dict[str, object]:
        return {
            **super().to_dict(),
            "entity": self.entity,
            "id": self.entity_id,
            "current_version": self.current_version,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
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


class DatabaseError(CRMError):
    """The database file cannot be used as it is; it has not been modified."""

    code = "database"
    http_status = 503

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class NotADatabaseError(DatabaseError):
    """The file is not a SQLite database, or it is corrupt."""


class SchemaTooNewError(DatabaseError):
    """The database was migrated by a newer version of Venture CRM."""


class SQLiteTooOldError(DatabaseError):
    """The SQLite library in use predates the WAL-reset fix (3.51.3)."""
