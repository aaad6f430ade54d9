"""Admin routes for the daily digest: its policy, a preview, send now, a test email and the
last sends. Recipients are always admins (the service refuses anyone else)."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import DigestPolicyBody, DigestRecipientsBody
from apps.api.registry import API
from crm_lib import services

TAG = "digest"
ACTION = "manage_digest"
POLICY = s.obj(
    {
        "enabled": s.BOOL,
        "send_at": s.STR,
        "timezone": s.STR,
        "transport": {"type": "string", "enum": ["auto", "gmail", "smtp"]},
        "enabled_at": s.TEXT_OR_NULL,
        "version": s.INT,
        "last_window_end": s.TEXT_OR_NULL,
        "next_send_at": s.TEXT_OR_NULL,
        "due_now": s.BOOL,
    },
    extra=False,
)
SEND = s.obj(
    {
        "id": s.INT,
        "kind": s.STR,
        "status": s.STR,
        "transport": s.TEXT_OR_NULL,
        "sender": s.TEXT_OR_NULL,
        "recipients": s.list_of(s.STR),
        "subject": s.STR,
        "window_start": s.TEXT_OR_NULL,
        "window_end": s.TEXT_OR_NULL,
        "html_bytes": s.INT,
        "text_bytes": s.INT,
        "figures": {"type": "object"},
        "attempts": s.list_of({"type": "object"}),
        "error": s.TEXT_OR_NULL,
        "started_at": s.STR,
        "finished_at": s.TEXT_OR_NULL,
    },
    required=["id", "kind", "status", "recipients", "started_at"],
)
PREVIEW = s.obj(
    {
        "subject": s.STR,
        "window_start": s.STR,
        "window_end": s.STR,
        "figures": {"type": "object"},
        "html": s.STR,
        "text": s.STR,
    },
    extra=False,
)
MOMENT = {"type": "string", "maxLength": 40}
ERRS = (401, 403, 422, 502)


@API.add(
    "GET",
    "/admin/digest/policy",
    summary="The digest policy (on/off, send time, time zone, transport), its version and the"
    " next send",
    action=ACTION,
    tag=TAG,
    response=POLICY,
    errors=(401, 403),
)
def get_policy(call: Call) -> dict[str, Any]:
    return services.digest_policy(call.ctx)


@API.add(
    "PATCH",
    "/admin/digest/policy",
    summary="Change the digest policy (expected_version as read; 409 if someone changed it)",
    action=ACTION,
    tag=TAG,
    body=DigestPolicyBody,
    response=POLICY,
    errors=(401, 403, 409, 422),
)
def patch_policy(call: Call) -> dict[str, Any]:
    body: DigestPolicyBody = call.body  # type: ignore[assignment]
    values = body.model_dump(exclude_none=True, exclude={"expected_version"})
    return services.set_digest_policy(call.ctx, values, expected_version=body.expected_version)


@API.add(
    "GET",
    "/admin/digest/preview",
    summary="The digest the next send would build (or for since/until), without sending it",
    action=ACTION,
    tag=TAG,
    query=(
        s.param("since", MOMENT, "window start, ISO (default: the last digest's end)"),
        s.param("until", MOMENT, "window end, ISO (default: now)"),
    ),
    response=PREVIEW,
    slow=True,
    errors=(401, 403, 422),
)
def preview(call: Call) -> dict[str, Any]:
    return services.preview_digest(
        call.ctx, since=call.query_moment("since"), until=call.query_moment("until")
    )


@API.add(
    "POST",
    "/admin/digest/send-now",
    summary="Send the digest now to every admin (or a copy to the admins in `to`)",
    action=ACTION,
    tag=TAG,
    body=DigestRecipientsBody,
    response=SEND,
    slow=True,
    errors=ERRS,
)
def send_now(call: Call) -> dict[str, Any]:
    body: DigestRecipientsBody = call.body  # type: ignore[assignment]
    return services.send_digest(call.ctx, to=body.to)


@API.add(
    "POST",
    "/admin/digest/test-email",
    summary="Send a test message through the digest's transport (to you, or admins in `to`)",
    action=ACTION,
    tag=TAG,
    body=DigestRecipientsBody,
    response=SEND,
    status=201,
    slow=True,
    errors=ERRS,
)
def test_email(call: Call) -> Reply:
    body: DigestRecipientsBody = call.body  # type: ignore[assignment]
    return Reply(services.send_test_email(call.ctx, to=body.to), status=201)


@API.add(
    "GET",
    "/admin/digest/sends",
    summary="The last digest sends: when, kind, window, recipients, transport, sizes, errors",
    action=ACTION,
    tag=TAG,
    query=(s.param("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "default 20"),),
    response=s.list_of(SEND),
    errors=(401, 403, 422),
)
def sends(call: Call) -> list[dict[str, Any]]:
    return services.digest_sends(call.ctx, limit=call.query_int("limit", 20, low=1, high=200))
