"""JSON Schemas of API responses, for /api/openapi.json (and so for the schemathesis checks).

Records carry the grid's user-defined fields too, so record schemas pin the bookkeeping every
record has and allow further properties.
"""

from __future__ import annotations

from typing import Any

from apps.api.registry import QueryParam

Schema = dict[str, Any]

INT = {"type": "integer"}
NUM = {"type": "number"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
TEXT_OR_NULL = {"type": ["string", "null"]}
INT_OR_NULL = {"type": ["integer", "null"]}
NUM_OR_NULL = {"type": ["number", "null"]}


def obj(properties: Schema, *, required: list[str] | None = None, extra: bool = True) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": extra,
    }


def list_of(item: Schema) -> Schema:
    return {"type": "array", "items": item}


def param(name: str, schema: Schema, description: str = "", required: bool = False) -> QueryParam:
    return QueryParam(name, schema, description, required)


BOOKKEEPING = {
    "id": INT,
    "version": INT,
    "created_at": STR,
    "created_by": STR,
    "updated_at": STR,
    "updated_by": STR,
    "deleted_at": TEXT_OR_NULL,
    "deleted_by": TEXT_OR_NULL,
}

USER = obj(
    {
        "id": INT,
        "email": STR,
        "name": STR,
        "role": {"type": "string", "enum": ["admin", "member"]},
        "is_active": INT,
        "version": INT,
        "created_at": STR,
        "updated_at": STR,
    },
    extra=False,
)
ACCOUNT = obj(
    {
        **USER["properties"],
        "last_login_at": TEXT_OR_NULL,
        "password_changed_at": TEXT_OR_NULL,
        "has_password": INT,
    },
    extra=False,
)
SESSION_USER = obj({"id": INT, "email": STR, "name": STR, "role": STR}, extra=False)
SESSION = obj({"user": SESSION_USER, "expires_at": STR}, extra=False)
ME = obj({"user": USER, "session_id": INT_OR_NULL, "csrf_token": STR}, extra=False)
SESSION_ROW = obj(
    {
        "id": INT,
        "ip": TEXT_OR_NULL,
        "user_agent": TEXT_OR_NULL,
        "created_at": STR,
        "last_seen_at": STR,
        "expires_at": STR,
    },
    extra=False,
)
API_TOKEN = obj(
    {
        "id": INT,
        "user_id": INT,
        "name": STR,
        "token_hint": STR,
        "last_used_at": TEXT_OR_NULL,
        "expires_at": TEXT_OR_NULL,
        "created_at": STR,
        "version": INT,
    },
    extra=False,
)
NEW_API_TOKEN = obj({**API_TOKEN["properties"], "token": STR}, extra=False)
INVITE = obj(
    {
        "id": INT,
        "kind": {"type": "string", "enum": ["setup", "invite", "reset"]},
        "email": TEXT_OR_NULL,
        "role": STR,
        "user_id": INT_OR_NULL,
        "expires_at": STR,
        "accepted_at": TEXT_OR_NULL,
        "created_at": STR,
        "created_by": STR,
        "deleted_at": TEXT_OR_NULL,
        "deleted_by": TEXT_OR_NULL,
        "version": INT,
    },
    required=["id", "kind", "email", "role", "expires_at", "version"],
)
LINK = obj({"invite": INVITE, "url": STR}, extra=False)
SECURITY = obj(
    {
        "ok": BOOL,
        "checks": list_of(
            obj({"key": STR, "label": STR, "passed": BOOL, "detail": STR}, extra=False)
        ),
    },
    extra=False,
)
INVESTOR = obj(
    {
        **BOOKKEEPING,
        "name": STR,
        "list_membership": {
            "type": "string",
            "enum": ["main", "follow_up", "graveyard", "longshot"],
        },
        "total_invested": NUM,
    }
)
PERSON = obj(
    {**BOOKKEEPING, "investor_id": INT, "full_name": STR, "email": TEXT_OR_NULL, "is_primary": BOOL}
)
COMMITMENT = obj(
    {
        **BOOKKEEPING,
        "investor_id": INT,
        "fund_id": INT,
        "amount": NUM,
        "status": STR,
        "fund_name": STR,
    },
    required=[*BOOKKEEPING, "investor_id", "fund_id", "amount", "status"],
)
FUND = obj(
    {
        **BOOKKEEPING,
        "name": STR,
        "vintage_year": INT_OR_NULL,
        "target_size": NUM_OR_NULL,
        "currency": STR,
        "status": STR,
    },
)
FUND_SUMMARY = obj({**FUND["properties"], "committed": NUM, "commitment_count": INT})
HISTORY_ROW = obj(
    {
        "id": INT,
        "at": STR,
        "actor": STR,
        "txn": STR,
        "entity": STR,
        "entity_id": INT,
        "action": STR,
        "field": TEXT_OR_NULL,
        "old_value": {},
        "new_value": {},
        "import_file": TEXT_OR_NULL,  # the file, when an import made the change
    },
    extra=False,
)
INVESTOR_DETAIL = obj(
    {
        "investor": INVESTOR,
        "people": list_of(PERSON),
        "commitments": list_of(COMMITMENT),
        "history": list_of(HISTORY_ROW),
    },
    extra=False,
)
INVESTOR_PAGE = obj(
    {
        "rows": list_of(INVESTOR),
        "total": INT,
        "page": INT,
        "page_size": INT,
        "next": {"type": ["string", "null"]},
        "previous": {"type": ["string", "null"]},
    },
    extra=False,
)
ERROR = obj(
    {"error": STR, "detail": STR},
    required=["error", "detail"],
)
FIELD = obj(
    {
        "key": STR,
        "label": STR,
        "type": STR,
        "options": {"type": "object"},
        "formula": TEXT_OR_NULL,
        "position": INT,
        "is_builtin": BOOL,
        "is_editable": BOOL,
    },
    extra=False,
)
VIEW = obj({"id": INT, "name": STR, "list_membership": STR, "version": INT})
STATE = obj(
    {
        "version": INT,
        "updated_at": STR,
        "updated_by": STR,
        "fields": list_of(FIELD),
        "funds": list_of(FUND_SUMMARY),
        "views": list_of(VIEW),
        # the team members who own investors, so an export can be loaded elsewhere
        "owners": list_of(obj({"id": INT, "email": STR, "name": STR}, extra=False)),
        "investors": list_of(
            obj(
                {
                    **INVESTOR["properties"],
                    "people": list_of(PERSON),
                    "commitments": list_of(COMMITMENT),
                }
            )
        ),
    },
    extra=False,
)
#: ``GET /fundraising/export?format=json``: one object per investor, keyed by the grid's column
#: headers (which user-defined fields add to), so only the id is pinned.
EXPORT_ROWS = list_of(obj({"id": INT}))
STATE_APPLIED = obj(
    {
        "changes": {"type": "object", "additionalProperties": INT},
        "state": obj({"version": INT, "updated_at": STR, "updated_by": STR}, extra=False),
    },
    extra=False,
)
SUMMARY = obj(
    {
        "totals": obj(
            {
                "investors": INT,
                "people": INT,
                "contacts": INT,
                "funds": INT,
                "commitments": INT,
                "committed": NUM,
                "committed_excluding_graveyard": NUM,
                "committed_graveyard": NUM,
            },
            extra=False,
        ),
        "by_fund": list_of(
            obj({"fund_id": INT, "fund": STR, "commitments": INT, "committed": NUM})
        ),
        "by_list": list_of(
            obj({"list": STR, "investors": INT, "total_invested": NUM}, extra=False)
        ),
        "by_type": list_of(
            obj({"type": STR, "investors": INT, "total_invested": NUM}, extra=False)
        ),
    },
    extra=False,
)
FEATURE_REQUEST = obj(
    {
        "id": INT,
        "title": STR,
        "body": STR,
        "status": {"type": "string", "enum": ["open", "planned", "done", "declined"]},
        "version": INT,
        "votes": INT,
        "voted": BOOL,
        "created_at": STR,
        "created_by": STR,
        "updated_at": STR,
        "updated_by": STR,
    },
    extra=False,
)
SAVED_VIEW = obj(
    {
        **BOOKKEEPING,
        "name": STR,
        "owner_id": INT_OR_NULL,
        "shared": BOOL,
        "list_membership": STR,
        "filters": {"type": "object"},
        "sorts": {"type": "array"},
        "hidden_fields": {"type": "array", "items": STR},
        "frozen_fields": {"type": "array", "items": STR},
        "widths": {"type": "object"},
        "field_order": {"type": "array", "items": STR},
        "group_by": {"type": ["string", "null"]},
    }
)
