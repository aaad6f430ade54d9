"""Feature requests: the team files and votes; admins set the status."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import FeatureRequestBody, FeatureRequestPatchBody
from apps.api.registry import API
from crm_lib import services

TAG = "feature requests"
STATUS_PARAM = s.param(
    "status", {"type": "string", "enum": ["open", "planned", "done", "declined"]}, "only these"
)


@API.add(
    "GET",
    "/feature-requests",
    summary="Feature requests, most votes first",
    action="file_feature_requests",
    tag=TAG,
    response=s.list_of(s.FEATURE_REQUEST),
    query=(STATUS_PARAM,),
    errors=(401, 422),
)
def list_feature_requests(call: Call) -> list[dict[str, Any]]:
    return services.list_feature_requests(call.ctx, status=call.query.get("status") or None)


@API.add(
    "POST",
    "/feature-requests",
    summary="File a feature request (your vote included)",
    action="file_feature_requests",
    tag=TAG,
    body=FeatureRequestBody,
    response=s.FEATURE_REQUEST,
    status=201,
    errors=(401, 422, 429),
)
def create_feature_request(call: Call) -> Reply:
    body: FeatureRequestBody = call.body  # type: ignore[assignment]
    made = services.create_feature_request(call.ctx, body.title, body.body)
    return Reply(payload=made, status=201)


@API.add(
    "PATCH",
    "/feature-requests/{request_id}",
    summary="Vote or withdraw your vote; admins also set the status",
    action="file_feature_requests",
    tag=TAG,
    body=FeatureRequestPatchBody,
    response=s.FEATURE_REQUEST,
    errors=(401, 403, 404, 409, 422, 429),
)
def patch_feature_request(call: Call) -> dict[str, Any]:
    body: FeatureRequestPatchBody = call.body  # type: ignore[assignment]
    return services.update_feature_request(
        call.ctx,
        call.arg("request_id"),
        status=body.status,
        vote=body.vote,
        expected_version=body.expected_version,
    )
