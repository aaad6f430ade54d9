"""Saved views of the investor grid: list, create, change, duplicate, delete, page through one,
and each user's default view."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import DefaultViewBody, VersionBody, ViewBody, ViewPatchBody, ViewSettings
from apps.api.registry import API
from apps.api.routes.fundraising import LIST_PARAMS, _conditions, _sort, page_reply
from crm_lib import services

TAG = "views"
GRID = "use_grid"
ERRS = (401, 404, 409, 422, 429)


def _settings(body: ViewSettings) -> dict[str, Any]:
    return body.model_dump(exclude_none=True, exclude={"expected_version"})


@API.add(
    "GET",
    "/fundraising/views",
    summary="Shared views and your own",
    action=GRID,
    tag=TAG,
    response=s.list_of(s.SAVED_VIEW),
    errors=(401,),
)
def list_views(call: Call) -> list[dict[str, Any]]:
    return services.list_views(call.ctx)


@API.add(
    "POST",
    "/fundraising/views",
    summary="Save a view (personal unless shared is true); filters, sorts and fields are"
    " checked now",
    action=GRID,
    tag=TAG,
    body=ViewBody,
    response=s.SAVED_VIEW,
    status=201,
    errors=ERRS,
)
def create_view(call: Call) -> Reply:
    body: ViewBody = call.body  # type: ignore[assignment]
    return Reply(payload=services.create_view(call.ctx, _settings(body)), status=201)


@API.add(
    "GET",
    "/fundraising/views/{view_id}",
    summary="One view",
    action=GRID,
    tag=TAG,
    response=s.SAVED_VIEW,
    errors=(401, 404),
)
def get_view(call: Call) -> dict[str, Any]:
    return services.get_view(call.ctx, call.arg("view_id"))


@API.add(
    "PATCH",
    "/fundraising/views/{view_id}",
    summary="Rename, share/unshare or change a view read at expected_version",
    action=GRID,
    tag=TAG,
    body=ViewPatchBody,
    response=s.SAVED_VIEW,
    errors=ERRS,
)
def patch_view(call: Call) -> dict[str, Any]:
    body: ViewPatchBody = call.body  # type: ignore[assignment]
    return services.update_view(
        call.ctx, call.arg("view_id"), _settings(body), expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/fundraising/views/{view_id}/duplicate",
    summary="Copy a view as your own",
    action=GRID,
    tag=TAG,
    response=s.SAVED_VIEW,
    status=201,
    errors=ERRS,
)
def duplicate_view(call: Call) -> Reply:
    return Reply(payload=services.duplicate_view(call.ctx, call.arg("view_id")), status=201)


@API.add(
    "POST",
    "/fundraising/views/{view_id}/archive",
    summary="Delete a view (soft)",
    action=GRID,
    tag=TAG,
    body=VersionBody,
    status=204,
    errors=ERRS,
)
def archive_view(call: Call) -> Reply:
    body: VersionBody = call.body  # type: ignore[assignment]
    services.archive_view(call.ctx, call.arg("view_id"), expected_version=body.expected_version)
    return Reply(status=204)


@API.add(
    "GET",
    "/fundraising/views/{view_id}/investors",
    summary="A page of the view's investors; sort overrides the view's sorts and other"
    " parameters add header filters (field__op=value)",
    action=GRID,
    tag=TAG,
    response=s.INVESTOR_PAGE,
    query=LIST_PARAMS[1:],
    errors=(401, 404, 422),
    page=True,
)
def view_investors(call: Call) -> dict[str, Any]:
    view = services.get_view(call.ctx, call.arg("view_id"))
    sort = call.query.get("sort")
    page = services.view_page(
        call.ctx,
        view,
        page=call.query_int("page", 1, low=1, high=1_000_000),
        page_size=call.query_int("page_size", 100, low=1, high=1000),
        sorts=[{"field": f, "direction": d} for f, d in _sort(sort)] if sort else None,
        conditions=_conditions(call.query),
        search=call.query.get("q"),
        after=call.query.get("after"),
        before=call.query.get("before"),
    )
    return page_reply(page)


@API.add(
    "PUT",
    "/me/default-view",
    summary="The view your grid opens with (null: all)",
    action="manage_own_account",
    tag=TAG,
    body=DefaultViewBody,
    response=s.obj({"default_view": {}}, extra=False),
    errors=ERRS,
)
def set_default_view(call: Call) -> dict[str, Any]:
    body: DefaultViewBody = call.body  # type: ignore[assignment]
    services.set_default_view(call.ctx, body.view_id)
    return {"default_view": services.default_view(call.ctx)}
