"""Captured email: an investor's timeline, one thread, the proposal queue and its decisions,
mailboxes and syncing. Members read mail and decide proposals; admins manage mailboxes."""

from __future__ import annotations

import math
from typing import Any

from apps.api import schemas as s
from apps.api.calls import Call, Reply
from apps.api.models import EmailAliasBody, MailboxSharingBody, ProposalDecisionBody
from apps.api.registry import API
from crm_lib import services
from crm_lib.errors import ValidationError

TAG = "email"
ID = {"type": "integer", "minimum": 1, "maximum": 2**53}
PAGING = (
    s.param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "default 50"),
    s.param("offset", {"type": "integer", "minimum": 0, "maximum": 2**31}, "default 0"),
)
MESSAGE = s.obj(
    {
        "id": s.INT,
        "direction": s.STR,
        "team_member": s.TEXT_OR_NULL,
        "from_address": s.STR,
        "subject": s.STR,
        "snippet": s.STR,
        "sent_at": s.TEXT_OR_NULL,
        "visibility": {"type": "string", "enum": ["everything", "subject", "metadata"]},
    },
    required=["id", "direction", "from_address", "subject", "visibility"],
)
TIMELINE = s.obj(
    {
        "investor_id": s.INT,
        "emails": s.INT,
        "threads_total": s.INT,
        "threads": s.list_of(
            s.obj(
                {"thread_id": s.INT, "subject": s.STR, "messages": s.list_of(MESSAGE)},
                required=["thread_id", "subject", "messages"],
            )
        ),
    },
    required=["investor_id", "emails", "threads_total", "threads"],
)
THREAD = s.obj(
    {"thread_id": s.INT, "subject": s.STR, "private": s.BOOL, "messages": s.list_of(MESSAGE)},
    required=["thread_id", "subject", "private", "messages"],
)
PROPOSALS = s.obj(
    {
        "total": s.INT,
        "proposals": s.list_of(
            s.obj(
                {
                    "id": s.INT,
                    "email_id": s.INT,
                    "investor_id": s.INT,
                    "investor_name": s.STR,
                    "address": s.STR,
                    "evidence": s.STR,
                    "confidence": s.NUM,
                    "status": s.STR,
                },
                required=["id", "email_id", "investor_id", "address", "evidence", "status"],
            )
        ),
    },
    required=["total", "proposals"],
)


@API.add(
    "GET",
    "/fundraising/investors/{investor_id}/emails",
    summary="An investor's email timeline: its threads, newest first, as you may see them",
    action="read_email",
    tag=TAG,
    response=TIMELINE,
    query=PAGING,
    errors=(401, 404, 422),
)
def investor_emails(call: Call) -> dict[str, Any]:
    return services.investor_emails(
        call.ctx,
        call.arg("investor_id"),
        limit=call.query_int("limit", 50, low=1, high=500),
        offset=call.query_int("offset", 0, low=0, high=2**31),
    )


@API.add(
    "GET",
    "/email/threads/{thread_id}",
    summary="One thread's messages, oldest first, with their text as you may see it",
    action="read_email",
    tag=TAG,
    response=THREAD,
    errors=(401, 404),
)
def email_thread(call: Call) -> dict[str, Any]:
    return services.email_thread(call.ctx, call.arg("thread_id"))


@API.add(
    "GET",
    "/email/proposals",
    summary="Mail that matches an investor only by domain, waiting for a decision (or decided)",
    action="read_email",
    tag=TAG,
    response=PROPOSALS,
    query=(
        s.param(
            "status", {"type": "string", "enum": ["pending", "approved", "rejected"]}, "pending"
        ),
        s.param("investor_id", ID, "only this investor"),
        s.param("team_member_id", ID, "only this team member's mail"),
        s.param("min_confidence", {"type": "number", "minimum": 0, "maximum": 1}, "0 to 1"),
        *PAGING,
    ),
    errors=(401, 422),
)
def list_proposals(call: Call) -> dict[str, Any]:
    return services.list_proposals(
        call.ctx,
        status=call.query.get("status") or "pending",
        investor_id=_id(call, "investor_id"),
        team_member_id=_id(call, "team_member_id"),
        min_confidence=_fraction(call, "min_confidence"),
        limit=call.query_int("limit", 100, low=1, high=500),
        offset=call.query_int("offset", 0, low=0, high=2**31),
    )


@API.add(
    "POST",
    "/email/proposals/decisions",
    summary="Approve or reject proposals (remembered: a rejected domain is not proposed again)",
    action="decide_email_proposals",
    tag=TAG,
    body=ProposalDecisionBody,
    response=s.obj({"approved": s.INT, "rejected": s.INT, "people_added": s.INT}),
    errors=(401, 404, 409, 422, 429),
)
def decide_proposals(call: Call) -> dict[str, int]:
    body: ProposalDecisionBody = call.body  # type: ignore[assignment]
    return services.decide_proposals(
        call.ctx, body.ids, approve=body.decision == "approve", add_person=body.add_people
    )


@API.add(
    "POST",
    "/fundraising/people/{person_id}/email-aliases",
    summary="Add another address of a person: their mail from it links to them, past mail too",
    action="manage_email",
    tag=TAG,
    body=EmailAliasBody,
    response=s.obj({"id": s.INT, "person_id": s.INT, "address": s.STR, "linked": s.INT}),
    status=201,
    errors=(401, 403, 404, 422, 429),
)
def add_alias(call: Call) -> Reply:
    body: EmailAliasBody = call.body  # type: ignore[assignment]
    made = services.add_email_alias(call.ctx, call.arg("person_id"), body.address)
    return Reply(payload=made, status=201)


@API.add(
    "GET",
    "/email/accounts",
    summary="Each mailbox: owner, source, sharing, status, stage, last sync, error and counts",
    action="read_email",
    tag=TAG,
    response=s.list_of({"type": "object"}),
    errors=(401,),
)
def email_accounts(call: Call) -> list[dict[str, Any]]:
    return services.email_accounts(call.ctx)


@API.add(
    "PATCH",
    "/email/accounts/{account_id}",
    summary="Set what others see of a mailbox's mail: everything, subject only or metadata"
    " only (its owner or an admin)",
    action="read_email",
    tag=TAG,
    body=MailboxSharingBody,
    response={"type": "object"},
    errors=(401, 403, 404, 409, 422, 429),
)
def set_sharing(call: Call) -> dict[str, Any]:
    body: MailboxSharingBody = call.body  # type: ignore[assignment]
    return services.set_sharing(
        call.ctx, call.arg("account_id"), body.sharing, expected_version=body.expected_version
    )


@API.add(
    "POST",
    "/email/accounts/sync",
    summary="Sync the chosen team members' Gmail now (or only ?account=EMAIL)",
    action="manage_email",
    tag=TAG,
    response=s.list_of({"type": "object"}),
    query=(s.param("account", {"type": "string", "maxLength": 320}, "one mailbox"),),
    errors=(401, 403, 404, 422, 429),
)
def sync_now(call: Call) -> list[dict[str, Any]]:
    return services.sync_email(call.ctx, call.query.get("account") or None)


def _id(call: Call, name: str) -> int | None:
    value = call.query_int(name, 0, low=0, high=2**53)
    return value or None


def _fraction(call: Call, name: str) -> float | None:
    """A number from 0 to 1, or a 422 naming the parameter (never NaN or infinity)."""
    text = call.query.get(name)
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:  # NaN fails this too
        raise ValidationError(f"Query parameter {name!r} must be from 0 to 1", field=name)
    return value
