"""Login, logout and the caller's own account: profile, password, API tokens, sessions."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import LoginBody, PasswordChangeBody, TokenCreateBody
from apps.api.registry import API, PUBLIC
from crm_lib import services

TAG = "account"


@API.add(
    "POST",
    "/auth/login",
    summary="Log in with email and password; sets the session cookie",
    action=PUBLIC,
    tag=TAG,
    body=LoginBody,
    response=s.SESSION,
    errors=(401, 429),
    slow=True,
)
def login(call: Call) -> Reply:
    body: LoginBody = call.body  # type: ignore[assignment]
    result = services.login(
        call.ctx,
        body.email,
        body.password,
        ip=call.ip,
        user_agent=call.user_agent,
        throttle=call.runtime.throttle,
    )
    return Reply(
        payload={"user": result.user, "expires_at": result.expires_at},
        set_session=result.token,
    )


@API.add(
    "POST",
    "/auth/logout",
    summary="End the current session (cookie) and clear the cookie",
    action="manage_own_account",
    tag=TAG,
    status=204,
    errors=(401,),
)
def logout(call: Call) -> Reply:
    services.logout(call.ctx, call.session_token)
    return Reply(status=204, clear_session=True)


@API.add(
    "GET",
    "/me",
    summary="Who is calling, with the CSRF token for cookie-authenticated writes",
    action="manage_own_account",
    tag=TAG,
    response=s.ME,
    errors=(401,),
)
def me(call: Call) -> dict[str, Any]:
    user = services.get_user(call.ctx, call.ctx.user_id)  # type: ignore[arg-type]
    return {"user": user, "session_id": call.session_id, "csrf_token": call.csrf_token}


@API.add(
    "POST",
    "/me/password",
    summary="Change your password (your other sessions and all your API tokens end)",
    action="manage_own_account",
    tag=TAG,
    body=PasswordChangeBody,
    response=s.USER,
    errors=(401, 422),
    slow=True,
)
def change_password(call: Call) -> dict[str, Any]:
    body: PasswordChangeBody = call.body  # type: ignore[assignment]
    return services.change_password(
        call.ctx, body.current_password, body.new_password, keep_session_id=call.session_id
    )


@API.add(
    "GET",
    "/me/sessions",
    summary="Your open sessions",
    action="manage_own_account",
    tag=TAG,
    response=s.list_of(s.SESSION_ROW),
    errors=(401,),
)
def list_my_sessions(call: Call) -> list[dict[str, Any]]:
    return services.list_sessions(call.ctx)


@API.add(
    "GET",
    "/me/tokens",
    summary="Your personal API tokens (without their secrets)",
    action="manage_own_account",
    tag=TAG,
    response=s.list_of(s.API_TOKEN),
    errors=(401,),
)
def list_tokens(call: Call) -> list[dict[str, Any]]:
    return services.list_api_tokens(call.ctx)


@API.add(
    "POST",
    "/me/tokens",
    summary="Create a personal API token; the secret is shown only now",
    action="manage_own_account",
    tag=TAG,
    body=TokenCreateBody,
    response=s.NEW_API_TOKEN,
    status=201,
    errors=(401, 422),
)
def create_token(call: Call) -> Reply:
    body: TokenCreateBody = call.body  # type: ignore[assignment]
    made = services.create_api_token(call.ctx, body.name, expires_in_days=body.expires_in_days)
    return Reply(payload=made, status=201)


@API.add(
    "DELETE",
    "/me/tokens/{token_id}",
    summary="Revoke one of your API tokens",
    action="manage_own_account",
    tag=TAG,
    status=204,
    errors=(401, 403, 404),
)
def revoke_token(call: Call) -> Reply:
    services.revoke_api_token(call.ctx, call.arg("token_id"))
    return Reply(status=204)
