"""Search: one query over email, notes, long-text fields and titles, in three modes, with
filters; hits as the caller may see them, grouped by investor. Admins can rebuild the index."""

from __future__ import annotations

from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call
from apps.api.registry import API
from crm_lib import services
from crm_lib.services.search import as_dict

TAG = "search"
ID = {"type": "integer", "minimum": 1, "maximum": 2**53}
MOMENT = {"type": "string", "maxLength": 40}
HIT = s.obj(
    {
        "lp_id": s.INT,
        "lp_name": s.STR,
        "doc_type": {"type": "string", "enum": ["email", "note", "field"]},
        "title": s.STR,
        "person_id": s.INT_OR_NULL,
        "email_id": s.INT_OR_NULL,
        "thread_id": s.INT_OR_NULL,
        "team_member": s.TEXT_OR_NULL,
        "field_key": s.TEXT_OR_NULL,
        "date": s.TEXT_OR_NULL,
        "score": s.NUM,
        "snippet": s.STR,
        "snippet_html": s.STR,
    },
    required=["lp_id", "lp_name", "doc_type", "score", "snippet"],
)
RESULT = s.obj(
    {
        "query": s.STR,
        "mode": s.STR,
        "also_searched": s.list_of(s.STR),
        "hits": s.list_of(HIT),
        "investors": s.list_of(
            s.obj({"lp_id": s.INT, "lp_name": s.STR, "hits": s.list_of(HIT)}, extra=False)
        ),
    },
    extra=False,
)


def _optional_id(call: Call, name: str) -> int | None:
    if not call.query.get(name):
        return None
    return call.query_int(name, 0, low=1, high=2**53)


@API.add(
    "GET",
    "/search",
    summary="Search email, notes, long-text fields and titles by meaning, words or both",
    action="read_email",
    tag=TAG,
    query=(
        s.param("q", {"type": "string", "minLength": 1, "maxLength": 200}, "what to find", True),
        s.param("mode", {"type": "string", "enum": ["hybrid", "semantic", "keyword"]}, "hybrid"),
        s.param("investor_id", ID, "one investor"),
        s.param("user_id", ID, "one team member's mail"),
        s.param("doc_type", {"type": "string", "enum": ["email", "note", "field"]}, "one kind"),
        s.param("since", MOMENT, "from this date or time (ISO)"),
        s.param("until", MOMENT, "before this date or time (ISO)"),
        s.param("limit", {"type": "integer", "minimum": 1, "maximum": 100}, "default 20"),
    ),
    response=RESULT,
    slow=True,
    errors=(401, 403, 422),
)
def search(call: Call) -> dict[str, Any]:
    return services.run_search(
        call.ctx,
        call.runtime.search_index(),
        call.query.get("q", ""),
        mode=call.query.get("mode") or "hybrid",
        investor_id=_optional_id(call, "investor_id"),
        user_id=_optional_id(call, "user_id"),
        doc_type=call.query.get("doc_type") or None,
        since=call.query_moment("since"),
        until=call.query_moment("until"),
        limit=call.query_int("limit", 20, low=1, high=100),
    )


@API.add(
    "POST",
    "/search/reindex",
    summary="Rebuild the search index from the database (admins)",
    action="manage_email",
    tag=TAG,
    response=s.obj(
        {"rebuilt": s.BOOL, "documents": s.INT, "chunks": s.INT, "removed": s.list_of(s.STR)},
        extra=False,
    ),
    slow=True,
    errors=(401, 403),
)
def reindex(call: Call) -> dict[str, Any]:
    report = services.reindex_search(call.ctx, call.runtime.search_index())
    return dict(as_dict(report))
