"""Admin routes for backups: take, list, verify, the retention policy, preview and restore."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import BackupBody, BackupIdBody, BackupPolicyBody, RestoreBody
from apps.api.registry import API
from crm_lib import services
from crm_lib.errors import ValidationError

TAG = "backups"
BACKUP = s.obj(
    {
        "id": s.INT,
        "kind": s.STR,
        "file_name": s.STR,
        "size_bytes": s.INT,
        "sha256": s.STR,
        "integrity": s.STR,
        "schema_version": s.INT,
        "started_at": s.STR,
        "duration_ms": s.INT,
        "verified_at": s.TEXT_OR_NULL,
        "verify_status": s.TEXT_OR_NULL,
        "verify_detail": s.TEXT_OR_NULL,
    },
    required=["id", "kind", "file_name", "size_bytes", "sha256", "integrity"],
)
POLICY = s.obj({"daily": s.INT, "weekly": s.INT, "monthly": s.INT, "version": s.INT}, extra=False)
ERRS = (401, 403, 404, 422)


@API.add(
    "GET",
    "/fundraising/backups",
    summary="Backups on disk, newest first (kind, who, size, duration, SHA-256, verification)",
    action="manage_backups",
    tag=TAG,
    response=s.list_of(BACKUP),
    errors=(401, 403),
)
def list_backups(call: Call) -> list[dict[str, Any]]:
    return services.list_backups(call.ctx)


@API.add(
    "POST",
    "/fundraising/backup",
    summary="Take a backup now (the app keeps serving and writing while it is copied)",
    action="manage_backups",
    tag=TAG,
    body=BackupBody,
    response=BACKUP,
    status=201,
    slow=True,
    errors=ERRS,
)
def create_backup(call: Call) -> Reply:
    body: BackupBody = call.body  # type: ignore[assignment]
    return Reply(services.create_backup(call.ctx, body.kind), status=201)


@API.add(
    "POST",
    "/fundraising/backups/verify",
    summary="Re-hash a backup and re-run integrity_check",
    action="manage_backups",
    tag=TAG,
    body=BackupIdBody,
    response=BACKUP,
    slow=True,
    errors=ERRS,
)
def verify_backup(call: Call) -> dict[str, Any]:
    body: BackupIdBody = call.body  # type: ignore[assignment]
    return services.verify_backup(call.ctx, body.backup_id)


@API.add(
    "GET",
    "/fundraising/backup-policy",
    summary="Retention: how many daily, weekly and monthly backups are kept",
    action="manage_backups",
    tag=TAG,
    response=POLICY,
    errors=(401, 403),
)
def get_policy(call: Call) -> dict[str, Any]:
    return services.backup_policy(call.ctx)


@API.add(
    "PATCH",
    "/fundraising/backup-policy",
    summary="Change retention (expected_version 0 when it was never set)",
    action="manage_policies",
    tag=TAG,
    body=BackupPolicyBody,
    response=POLICY,
    errors=(401, 403, 404, 409, 422),
)
def patch_policy(call: Call) -> dict[str, Any]:
    body: BackupPolicyBody = call.body  # type: ignore[assignment]
    values = body.model_dump(exclude_none=True, exclude={"expected_version"})
    return services.set_backup_policy(call.ctx, values, expected_version=body.expected_version)


@API.add(
    "POST",
    "/fundraising/restore-preview",
    summary="What restoring a backup would change: table counts, investors back/gone/changed",
    action="restore",
    tag=TAG,
    body=BackupIdBody,
    response=s.obj({"backup": BACKUP, "restorable": s.BOOL}, extra=True),
    slow=True,
    errors=ERRS,
)
def restore_preview(call: Call) -> dict[str, Any]:
    body: BackupIdBody = call.body  # type: ignore[assignment]
    return services.restore_preview(call.ctx, body.backup_id)


@API.add(
    "POST",
    "/fundraising/restore",
    summary="Replace the live data with a backup (confirm must repeat the backup id);"
    " a pre-restore backup is taken first",
    action="restore",
    tag=TAG,
    body=RestoreBody,
    response=s.obj({"restored": s.INT, "pre_restore_backup": s.INT, "at": s.STR}, extra=False),
    slow=True,
    errors=ERRS,
)
def restore(call: Call) -> dict[str, Any]:
    body: RestoreBody = call.body  # type: ignore[assignment]
    if body.confirm.strip() != str(body.backup_id):
        raise ValidationError(
            f"Type the backup id ({body.backup_id}) in confirm to restore it", field="confirm"
        )
    return services.restore_backup(call.ctx, body.backup_id)
