"""The fundraising grid's records: investors, people, commitments, funds, and the grid's version.

Investor lists take Datasette-style filters in the query string: ``field=value`` or
``field__op=value`` with the operators of :mod:`crm_lib.grid.filters` (``total_invested__gte=1e6``,
``status__ne=Passed``, ``notes__contains=AI``), by field key or label.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import (
    CommitmentBody,
    CommitmentPatchBody,
    FieldsBody,
    FieldsPatchBody,
    ImportBody,
    StateBody,
    VersionBody,
)
from apps.api.registry import API
from crm_lib import services
from crm_lib.errors import ValidationError
from crm_lib.grid import cursors
from crm_lib.grid.filters import OPERATORS
from crm_lib.importers import airtable
from crm_lib.limits import max_length
from crm_lib.services.exports import FORMATS

TAG = "fundraising"
GRID = "use_grid"
XLSX = FORMATS["xlsx"].media_type
FUNDS = "manage_funds"
RESERVED = {"list", "sort", "page", "page_size", "q", "format", "view", "after", "before"}
LIST_PARAMS = (
    s.param(
        "list",
        {"type": "string", "enum": ["all", "main", "follow_up", "graveyard", "longshot"]},
        "which list (default all)",
    ),
    s.param(
        "sort",
        {"type": "string", "maxLength": max_length("sort")},
        "comma-separated fields, '-' for descending: 'name' or '-total_invested,name'",
    ),
    s.param("page", {"type": "integer", "minimum": 1, "maximum": 1000000}, "from 1"),
    s.param("page_size", {"type": "integer", "minimum": 1, "maximum": 1000}, "default 100"),
    s.param(
        "q",
        {"type": "string", "maxLength": max_length("search")},
        "search name, location and notes",
    ),
    s.param(
        "after",
        {"type": "string", "maxLength": cursors.MAX_CURSOR},
        "an earlier page's 'next': the rows right after that page's last row (keyset paging:"
        " no row is skipped or repeated while others write), instead of 'page'",
    ),
    s.param(
        "before",
        {"type": "string", "maxLength": cursors.MAX_CURSOR},
        "an earlier page's 'previous': the page of rows right before that page's first row",
    ),
)
ERRS = (401, 403, 404, 409, 422, 429)


def _sort(text: str | None) -> list[tuple[str, str]]:
    if not text:
        return [("name", "asc")]
    terms = []
    for part in text.split(","):
        name = part.strip()
        if not name or name == "-":
            raise ValidationError(f"Empty sort key in {text!r}", field="sort")
        terms.append((name[1:], "desc") if name.startswith("-") else (name, "asc"))
    return terms


def lifecycle(
    path: str,
    id_name: str,
    noun: str,
    archive: Any,
    restore: Any | None,
    response: s.Schema,
    action: str = GRID,
    tag: str = TAG,
) -> None:
    """Register ``POST {path}/{id}/archive`` (and ``/restore``): soft delete and undo, both
    naming the version the caller read."""

    def archive_route(call: Call) -> dict[str, Any]:
        body: VersionBody = call.body  # type: ignore[assignment]
        return archive(call.ctx, call.arg(id_name), expected_version=body.expected_version)

    archive_route.__name__ = f"archive_{noun}"
    API.add(
        "POST",
        f"{path}/{{{id_name}}}/archive",
        summary=f"Archive a {noun} (restorable)",
        action=action,
        tag=tag,
        body=VersionBody,
        response=s.obj(s.BOOKKEEPING),
        errors=ERRS,
    )(archive_route)
    if restore is None:
        return

    def restore_route(call: Call) -> dict[str, Any]:
        body: VersionBody = call.body  # type: ignore[assignment]
        return restore(call.ctx, call.arg(id_name), expected_version=body.expected_version)

    restore_route.__name__ = f"restore_{noun}"
    API.add(
        "POST",
        f"{path}/{{{id_name}}}/restore",
        summary=f"Restore an archived {noun}",
        action=action,
        tag=tag,
        body=VersionBody,
        response=response,
        errors=ERRS,
    )(restore_route)


def _conditions(query: dict[str, str]) -> list[tuple[str, str, Any]]:
    conditions = []
    for key, value in query.items():
        if key in RESERVED:
            continue
        name, _, op = key.rpartition("__")
        if not name or op not in OPERATORS:
            name, op = key, "eq"
        conditions.append((name, op, value))
    return conditions


@API.add(
    "GET",
    "/fundraising/state",
    summary="The whole grid (fields, funds, views, investors with people and commitments)"
    " with its version",
    action=GRID,
    tag=TAG,
    response=s.STATE,
    slow=True,
    errors=(401,),
)
def get_state(call: Call) -> dict[str, Any]:
    return services.grid_snapshot(call.ctx)


@API.add(
    "PUT",
    "/fundraising/state",
    summary="Apply an edited grid document if the grid is still at expected_version"
    " (409 with who changed it otherwise)",
    action=GRID,
    tag=TAG,
    body=StateBody,
    response=s.STATE_APPLIED,
    slow=True,
    errors=ERRS,
)
def put_state(call: Call) -> dict[str, Any]:
    body: StateBody = call.body  # type: ignore[assignment]
    document = body.model_dump(exclude_none=True, exclude={"expected_version"})
    return services.apply_snapshot(call.ctx, document, expected_version=body.expected_version)


@API.add(
    "GET",
    "/fundraising/export",
    summary="Export what the grid shows: investors of a list or saved view (its filters, sorts,"
    " hidden fields and column order; plus the investor list's filter parameters) as CSV,"
    " JSON (an array of objects) or XLSX; format=snapshot, the default, is the whole grid"
    " document that `crm load-snapshot` loads",
    action=GRID,
    tag=TAG,
    response={"anyOf": [s.STATE, s.EXPORT_ROWS]},
    alternate_types=("text/csv", XLSX),
    slow=True,
    query=(
        s.param(
            "format",
            {"type": "string", "enum": ["snapshot", *FORMATS]},
            "snapshot (default), json, csv or xlsx",
        ),
        s.param(
            "view",
            {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
            "export this saved view (its list, filters, sorts, hidden fields and column order)",
        ),
        *LIST_PARAMS[:2],
        LIST_PARAMS[4],
    ),
    errors=(401, 404, 422),
)
def export(call: Call) -> Reply | dict[str, Any]:
    fmt = call.query.get("format") or "snapshot"
    if fmt == "snapshot":
        snapshot = services.grid_snapshot(call.ctx)
        return Reply(payload=snapshot, headers=_attachment("venture-crm-grid.json"))
    if fmt not in FORMATS:
        raise ValidationError(
            f"format must be snapshot or one of {', '.join(FORMATS)}", field="format"
        )
    view: dict[str, Any] = {}
    if call.query.get("view"):
        view = services.get_view(call.ctx, call.query_int("view", 0, low=1, high=10**18 - 1))
    sort = call.query.get("sort")
    query = services.export_query(
        view,
        list_membership=call.query.get("list"),
        sort=_sort(sort) if sort else None,
        conditions=_conditions(call.query),
        search=call.query.get("q"),
    )
    out = io.BytesIO()
    services.write_export(call.ctx, fmt, out, **query)
    name = f"venture-crm-{view['name']}" if view else "venture-crm-investors"
    kind = FORMATS[fmt]
    headers = {"Content-Type": kind.media_type, **_attachment(f"{name}.{kind.suffix}")}
    if fmt == "xlsx":
        return Reply(body=out.getvalue(), headers=headers)
    return Reply(text=out.getvalue().decode("utf-8"), headers=headers)


def _attachment(name: str) -> dict[str, str]:
    safe = "".join(ch if ch.isalnum() or ch in " ._-" else "_" for ch in name)
    return {"Content-Disposition": f'attachment; filename="{safe}"'}


@API.add(
    "GET",
    "/fundraising/relational-summary",
    summary="Counts and totals by fund, list and investor type",
    action=GRID,
    tag=TAG,
    response=s.SUMMARY,
    errors=(401,),
)
def relational_summary(call: Call) -> dict[str, Any]:
    return services.relational_summary(call.ctx)


@API.add(
    "GET",
    "/fundraising/investors",
    summary="A filtered, sorted page of investors",
    action=GRID,
    tag=TAG,
    response=s.INVESTOR_PAGE,
    query=LIST_PARAMS,
    errors=(401, 422),
    page=True,
)
def list_investors(call: Call) -> dict[str, Any]:
    page = services.list_investors(
        call.ctx,
        list_membership=call.query.get("list") or "all",
        sort=_sort(call.query.get("sort")),
        page=call.query_int("page", 1, low=1, high=1_000_000),
        page_size=call.query_int("page_size", 100, low=1, high=1000),
        conditions=_conditions(call.query),
        search=call.query.get("q"),
        after=call.query.get("after"),
        before=call.query.get("before"),
    )
    return page_reply(page)


def page_reply(page: services.InvestorPage) -> dict[str, Any]:
    """A page as the API answers it: its rows, the count, and the cursor of the next page."""
    return {
        "rows": page.rows,
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
        "next": page.next_cursor,
        "previous": page.previous_cursor,
    }


@API.add(
    "POST",
    "/fundraising/investors",
    summary="Create an investor from field values",
    action=GRID,
    tag=TAG,
    body=FieldsBody,
    response=s.INVESTOR,
    status=201,
    errors=ERRS,
)
def create_investor(call: Call) -> Reply:
    body: FieldsBody = call.body  # type: ignore[assignment]
    return Reply(payload=services.create_investor(call.ctx, body.fields), status=201)


@API.add(
    "GET",
    "/fundraising/investors/{investor_id}",
    summary="One investor with its people, commitments and history",
    action=GRID,
    tag=TAG,
    response=s.INVESTOR_DETAIL,
    errors=(401, 404),
    query=(
        s.param(
            "archived", {"type": "string", "enum": ["0", "1"]}, "1: also find an archived investor"
        ),
    ),
)
def get_investor(call: Call) -> dict[str, Any]:
    return services.get_investor(
        call.ctx, call.arg("investor_id"), include_archived=call.query.get("archived") == "1"
    )


@API.add(
    "PATCH",
    "/fundraising/investors/{investor_id}",
    summary="Change fields of an investor read at expected_version (409 if changed since)",
    action=GRID,
    tag=TAG,
    body=FieldsPatchBody,
    response=s.INVESTOR,
    errors=ERRS,
)
def patch_investor(call: Call) -> dict[str, Any]:
    body: FieldsPatchBody = call.body  # type: ignore[assignment]
    return services.update_investor(
        call.ctx, call.arg("investor_id"), body.fields, expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/fundraising/investors/{investor_id}/people",
    summary="Add a person to an investor (mirrored into the contacts directory)",
    action=GRID,
    tag=TAG,
    body=FieldsBody,
    response=s.PERSON,
    status=201,
    errors=ERRS,
)
def add_person(call: Call) -> Reply:
    body: FieldsBody = call.body  # type: ignore[assignment]
    return Reply(
        payload=services.add_person(call.ctx, call.arg("investor_id"), body.fields), status=201
    )


@API.add(
    "GET",
    "/fundraising/investors/{investor_id}/people",
    summary="The people of an investor, primary first",
    action=GRID,
    tag=TAG,
    response=s.list_of(s.PERSON),
    errors=(401, 404),
)
def list_people(call: Call) -> list[dict[str, Any]]:
    return services.list_people(call.ctx, call.arg("investor_id"))


@API.add(
    "GET",
    "/fundraising/people/{person_id}",
    summary="One person",
    action=GRID,
    tag=TAG,
    response=s.PERSON,
    errors=(401, 404),
)
def get_person(call: Call) -> dict[str, Any]:
    return services.get_person(call.ctx, call.arg("person_id"))


@API.add(
    "PATCH",
    "/fundraising/people/{person_id}",
    summary="Change a person",
    action=GRID,
    tag=TAG,
    body=FieldsPatchBody,
    response=s.PERSON,
    errors=ERRS,
)
def patch_person(call: Call) -> dict[str, Any]:
    body: FieldsPatchBody = call.body  # type: ignore[assignment]
    return services.update_person(
        call.ctx, call.arg("person_id"), body.fields, expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/fundraising/commitments",
    summary="Commit an investor to a fund (409 if a commitment to that fund exists)",
    action=GRID,
    tag=TAG,
    body=CommitmentBody,
    response=s.COMMITMENT,
    status=201,
    errors=ERRS,
)
def create_commitment(call: Call) -> Reply:
    body: CommitmentBody = call.body  # type: ignore[assignment]
    made = services.set_commitment(
        call.ctx,
        body.investor_id,
        body.fund_id,
        body.amount,
        status=body.status,
        committed_on=body.committed_on,
    )
    return Reply(payload=made, status=201)


@API.add(
    "GET",
    "/fundraising/commitments",
    summary="Commitments, largest first, optionally of one fund and/or investor, paged",
    action=GRID,
    tag=TAG,
    response=s.obj(
        {"rows": s.list_of(s.COMMITMENT), "total": s.INT, "page": s.INT, "page_size": s.INT},
        extra=False,
    ),
    query=(
        s.param("fund_id", {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}),
        s.param("investor_id", {"type": "integer", "minimum": 1, "maximum": 10**18 - 1}),
        LIST_PARAMS[2],
        LIST_PARAMS[3],
    ),
    errors=(401, 422),
)
def list_commitments(call: Call) -> dict[str, Any]:
    ids = {
        k: call.query_int(k, 0, low=1, high=10**18 - 1) or None for k in ("fund_id", "investor_id")
    }
    return services.list_commitments(
        call.ctx,
        **ids,
        page=call.query_int("page", 1, low=1, high=1_000_000),
        page_size=call.query_int("page_size", 100, low=1, high=1000),
    )


@API.add(
    "GET",
    "/fundraising/commitments/{commitment_id}",
    summary="One commitment",
    action=GRID,
    tag=TAG,
    response=s.COMMITMENT,
    errors=(401, 404),
)
def get_commitment(call: Call) -> dict[str, Any]:
    return services.get_commitment(call.ctx, call.arg("commitment_id"))


@API.add(
    "PATCH",
    "/fundraising/commitments/{commitment_id}",
    summary="Change a commitment's amount, status or date",
    action=GRID,
    tag=TAG,
    body=CommitmentPatchBody,
    response=s.COMMITMENT,
    errors=ERRS,
)
def patch_commitment(call: Call) -> dict[str, Any]:
    body: CommitmentPatchBody = call.body  # type: ignore[assignment]
    current = services.get_commitment(call.ctx, call.arg("commitment_id"))
    given = body.model_fields_set
    return services.set_commitment(
        call.ctx,
        current["investor_id"],
        current["fund_id"],
        body.amount if "amount" in given else current["amount"],
        status=body.status if body.status is not None else current["status"],
        committed_on=body.committed_on if "committed_on" in given else current["committed_on"],
        expected_version=body.expected_version,
    )


@API.add(
    "GET",
    "/fundraising/funds",
    summary="Live funds with committed totals",
    action=GRID,
    tag=TAG,
    response=s.list_of(s.FUND_SUMMARY),
    errors=(401,),
)
def list_funds(call: Call) -> list[dict[str, Any]]:
    return services.list_funds(call.ctx)


@API.add(
    "POST",
    "/fundraising/funds",
    summary="Create a fund (admins)",
    action=FUNDS,
    tag=TAG,
    body=FieldsBody,
    response=s.FUND_SUMMARY,
    status=201,
    errors=ERRS,
)
def create_fund(call: Call) -> Reply:
    body: FieldsBody = call.body  # type: ignore[assignment]
    return Reply(payload=services.create_fund(call.ctx, body.fields), status=201)


@API.add(
    "GET",
    "/fundraising/funds/{fund_id}",
    summary="One fund with its committed total",
    action=GRID,
    tag=TAG,
    response=s.FUND_SUMMARY,
    errors=(401, 404),
)
def get_fund(call: Call) -> dict[str, Any]:
    return services.get_fund(call.ctx, call.arg("fund_id"))


@API.add(
    "PATCH",
    "/fundraising/funds/{fund_id}",
    summary="Change a fund (admins)",
    action=FUNDS,
    tag=TAG,
    body=FieldsPatchBody,
    response=s.FUND_SUMMARY,
    errors=ERRS,
)
def patch_fund(call: Call) -> dict[str, Any]:
    body: FieldsPatchBody = call.body  # type: ignore[assignment]
    return services.update_fund(
        call.ctx, call.arg("fund_id"), body.fields, expected_version=body.expected_version
    )


lifecycle(
    "/fundraising/investors",
    "investor_id",
    "investor",
    services.archive_investor,
    services.restore_investor,
    s.INVESTOR,
)
lifecycle(
    "/fundraising/people",
    "person_id",
    "person",
    services.remove_person,
    services.restore_person,
    s.PERSON,
)
lifecycle(
    "/fundraising/commitments",
    "commitment_id",
    "commitment",
    services.remove_commitment,
    services.restore_commitment,
    s.COMMITMENT,
)
lifecycle(
    "/fundraising/funds",
    "fund_id",
    "fund",
    services.archive_fund,
    None,
    s.FUND_SUMMARY,
    action=FUNDS,
)


IMPORT_REPORT = s.obj(
    {
        "dry_run": s.BOOL,
        "committed": s.BOOL,
        "unchanged": s.BOOL,
        "import_id": s.INT_OR_NULL,
        "changes": s.INT,
        "counts": {"type": "object", "additionalProperties": s.INT},
        "preview": {"type": "object"},
        "diffs": s.list_of({"type": "object"}),
        "issues": s.list_of({"type": "object"}),
    },
    required=["dry_run", "committed", "changes", "counts", "preview", "issues"],
)


@API.add(
    "POST",
    "/fundraising/import",
    summary="Import an Airtable CSV export (base64 in content_base64): a dry run by default,"
    " dry_run=false to commit. Returns the report: counts, per-row diffs, problems with line,"
    " column, value and reason",
    action="import_data",
    tag=TAG,
    body=ImportBody,
    response=IMPORT_REPORT,
    slow=True,
    errors=(401, 403, 413, 415, 422),
)
def import_airtable(call: Call) -> dict[str, Any]:
    body: ImportBody = call.body  # type: ignore[assignment]
    try:
        content = base64.b64decode(body.content_base64, validate=True)
    except ValueError:
        raise ValidationError(
            "content_base64 is not valid base64", field="content_base64"
        ) from None
    path = airtable.stage_upload(call.ctx, content, body.file_name)
    try:
        report = airtable.run(
            path,
            call.ctx,
            file_name=body.file_name,
            key=body.key,
            profile=body.profile,
            mapping=body.mapping,
            date_orders=body.date_orders,
            encoding=body.encoding,
            dry_run=body.dry_run,
            skip_bad_rows=body.skip_bad_rows,
            archive_missing=body.archive_missing,
        )
    finally:
        airtable.discard_upload(path)
    return report.to_dict()


@API.add(
    "GET",
    "/fundraising/imports",
    summary="Committed imports, newest first: who, when, file name, SHA-256 and counts",
    action=GRID,
    tag=TAG,
    response=s.list_of({"type": "object"}),
    errors=(401,),
)
def list_imports(call: Call) -> list[dict[str, Any]]:
    return services.list_imports(call.ctx)
