"""Admin-only routes: users, invites, password resets and the security checklist."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import InviteBody, UserPatchBody
from apps.api.registry import API
from crm_lib import services

TAG = "admin"
ADMIN = "manage_users"


def _link(link: services.Link) -> dict[str, Any]:
    return {"invite": link.invite, "url": link.url}


@API.add(
    "GET",
    "/users",
    summary="Every user with login state",
    action=ADMIN,
    tag=TAG,
    response=s.list_of(s.ACCOUNT),
    errors=(401, 403),
)
def list_users(call: Call) -> list[dict[str, Any]]:
    return services.list_accounts(call.ctx)


@API.add(
    "PATCH",
    "/users/{user_id}",
    summary="Change a user's role or deactivate/reactivate them",
    action=ADMIN,
    tag=TAG,
    body=UserPatchBody,
    response=s.USER,
    errors=(401, 403, 404, 422),
)
def patch_user(call: Call) -> dict[str, Any]:
    body: UserPatchBody = call.body  # type: ignore[assignment]
    user_id = call.arg("user_id")
    user = services.get_user(call.ctx, user_id)
    if body.role is not None:
        user = services.set_user_role(call.ctx, user_id, body.role)
    if body.is_active is not None:
        user = services.set_user_active(call.ctx, user_id, body.is_active)
    return user


@API.add(
    "POST",
    "/users/{user_id}/reset-link",
    summary="A new single-use password-reset link for the user (valid 24 h)",
    action=ADMIN,
    tag=TAG,
    response=s.LINK,
    status=201,
    errors=(401, 403, 404),
)
def reset_link(call: Call) -> Reply:
    return Reply(
        payload=_link(services.reset_password_link(call.ctx, call.arg("user_id"))), status=201
    )


@API.add(
    "GET",
    "/invites",
    summary="Pending invites (add ?all=1 for used, expired and revoked ones)",
    action=ADMIN,
    tag=TAG,
    response=s.list_of(s.INVITE),
    errors=(401, 403),
    query=(s.param("all", {"type": "string", "enum": ["0", "1"]}, "1: include finished"),),
)
def list_invites(call: Call) -> list[dict[str, Any]]:
    return services.list_invites(call.ctx, include_finished=call.query.get("all") == "1")


@API.add(
    "POST",
    "/invites",
    summary="Invite someone by email as admin or member (link valid 7 days)",
    action=ADMIN,
    tag=TAG,
    body=InviteBody,
    response=s.LINK,
    status=201,
    errors=(401, 403, 422),
)
def create_invite(call: Call) -> Reply:
    body: InviteBody = call.body  # type: ignore[assignment]
    return Reply(payload=_link(services.invite_user(call.ctx, body.email, body.role)), status=201)


@API.add(
    "DELETE",
    "/invites/{invite_id}",
    summary="Revoke a pending invite",
    action=ADMIN,
    tag=TAG,
    status=204,
    errors=(401, 403, 404, 422),
)
def revoke_invite(call: Call) -> Reply:
    services.revoke_invite(call.ctx, call.arg("invite_id"))
    return Reply(status=204)


@API.add(
    "GET",
    "/security/status",
    summary="The go-live checklist: each check and whether it passes",
    action="view_security",
    tag=TAG,
    response=s.SECURITY,
    errors=(401, 403),
)
def security_status(call: Call) -> dict[str, Any]:
    return services.security_status(call.ctx)
