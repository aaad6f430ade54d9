"""Feature requests the team files and votes on (and admins triage): the product's own inbox."""

from __future__ import annotations

from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.limits import check_text, max_length
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

STATUSES = ("open", "planned", "done", "declined")
TITLE_MAX = max_length("feature_title")
BODY_MAX = max_length("feature_body")

_SELECT = (
    "SELECT r.id, r.title, r.body, r.status, r.version, r.created_at, r.created_by,"
    " r.updated_at, r.updated_by,"
    " (SELECT count(*) FROM feature_request_votes v"
    "   WHERE v.feature_request_id = r.id AND v.deleted_at IS NULL) AS votes,"
    " EXISTS (SELECT 1 FROM feature_request_votes v WHERE v.feature_request_id = r.id"
    "   AND v.user_id IS :me AND v.deleted_at IS NULL) AS voted"
    " FROM feature_requests r WHERE r.deleted_at IS NULL"
)


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    row["voted"] = bool(row["voted"])
    return row


def list_feature_requests(ctx: Context, *, status: str | None = None) -> list[dict[str, Any]]:
    """Live requests, most votes first, with whether the caller voted."""
    if status is not None and status not in STATUSES:
        raise ValidationError(f"Status must be one of {', '.join(STATUSES)}", field="status")
    extra = " AND r.status = :status" if status else ""
    rows = query_dicts(
        ctx.db,
        _SELECT + extra + " ORDER BY votes DESC, r.id DESC",
        {"me": ctx.user_id, "status": status},
    )
    return [_shape(r) for r in rows]


def get_feature_request(ctx: Context, request_id: int) -> dict[str, Any]:
    rows = query_dicts(ctx.db, _SELECT + " AND r.id = :id", {"me": ctx.user_id, "id": request_id})
    if not rows:
        raise NotFound("feature request", request_id)
    return _shape(rows[0])


def create_feature_request(ctx: Context, title: str, body: str = "") -> dict[str, Any]:
    """File a request; the filer's vote is counted at once."""
    require(ctx, "file_feature_requests")
    title = title.strip()
    if not title:
        raise ValidationError(f"Title must be 1 to {TITLE_MAX} characters", field="title")
    check_text(title, "feature_title", field="title", label="Title")
    check_text(body, "feature_body", field="body", label="Description")
    with write(ctx) as tx:
        request_id = tx.insert("feature_requests", {"title": title, "body": body.strip()})
        if ctx.user_id is not None:
            tx.insert(
                "feature_request_votes",
                {"feature_request_id": request_id, "user_id": ctx.user_id},
            )
    return get_feature_request(ctx, request_id)


def update_feature_request(
    ctx: Context,
    request_id: int,
    *,
    status: str | None = None,
    vote: bool | None = None,
    expected_version: int | None = None,
) -> dict[str, Any]:
    """Vote or withdraw a vote (anyone), or set the status (admins, naming the version read)."""
    require(ctx, "file_feature_requests")
    with write(ctx) as tx:
        row = tx.fetch("feature_requests", request_id)
        if row["deleted_at"] is not None:
            raise NotFound("feature request", request_id)
        if status is not None:
            require(ctx, "manage_feature_requests")
            if status not in STATUSES:
                raise ValidationError(
                    f"Status must be one of {', '.join(STATUSES)}", field="status"
                )
            if expected_version is None:
                raise ValidationError(
                    "Changing the status needs expected_version", field="expected_version"
                )
            tx.update(
                "feature_requests",
                request_id,
                {"status": status},
                expected_version=expected_version,
            )
        if vote is not None:
            if ctx.user_id is None:
                raise ValidationError("Only a logged-in user can vote", field="vote")
            mine = query_dicts(
                ctx.db,
                "SELECT id, version FROM feature_request_votes"
                f" WHERE feature_request_id = ? AND user_id = ? AND {LIVE}",
                [request_id, ctx.user_id],
            )
            if vote and not mine:
                tx.insert(
                    "feature_request_votes",
                    {"feature_request_id": request_id, "user_id": ctx.user_id},
                )
            elif not vote and mine:
                tx.archive(
                    "feature_request_votes", mine[0]["id"], expected_version=mine[0]["version"]
                )
    return get_feature_request(ctx, request_id)
