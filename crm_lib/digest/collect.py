"""What happened in a window, read for the digest: the team's email with investors, pivoted by
team member and by investor, and what changed in the CRM.

The digest goes to the fund's admins and is deliberately un-anonymised, but it keeps the rules
every other reader of captured mail keeps:

* only mail linked to a live (not archived) investor, held by at least one mailbox, in a thread
  nobody marked private, and never mail among the team only (``internal``);
* each mailbox's sharing level as the team sees it (its owner's own view does not count): a
  mailbox shared as *subject* gives subjects but no text, *metadata* neither.

A message is one entry however many team mailboxes hold it: by team member it is listed under
whoever sent it (outbound) or each team member whose mailbox received it (inbound); by investor
it is listed once.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.storage.reads import rows_in

#: The team's view of a message's visibility: the most open sharing level among the mailboxes
#: that hold it (3 everything, 2 subject, 1 metadata), with no owner's bonus.
_TEAM_LEVEL = (
    "(SELECT max(CASE a.sharing WHEN 'everything' THEN 3 WHEN 'subject' THEN 2 ELSE 1 END)"
    " FROM email_account_messages h JOIN email_accounts a ON a.id = h.account_id"
    " WHERE h.email_id = e.id AND h.deleted_at IS NULL AND a.deleted_at IS NULL)"
)
#: The tables whose edits the digest counts as "edits by person".
_EDITED = {
    "fundraising_investors": "investors",
    "fundraising_contacts": "people",
    "fundraising_commitments": "commitments",
    "fundraising_funds": "funds",
}
_SINGULAR = {
    "investors": "investor",
    "people": "person",
    "commitments": "commitment",
    "funds": "fund",
}
#: At most this many characters of a message's new text are kept (the narrative trims further).
TEXT_LIMIT = 4000


@dataclass
class Email:
    """One message of the window as the digest may show it."""

    id: int
    thread_id: int
    direction: str  # inbound | outbound
    sent_at: str
    subject: str  # "" when its mailbox shares metadata only
    text: str  # the new part of the message; "" unless its mailbox shares everything
    level: int
    from_address: str
    from_name: str
    team_member_id: int | None
    investors: list[tuple[int, str]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    received_by: list[int] = field(default_factory=list)  # team members whose mailbox holds it

    @property
    def named_people(self) -> list[str]:
        """The people, less any named like their investor (an individual is both)."""
        investors = {name for _, name in self.investors}
        return [p for p in self.people if p not in investors]


@dataclass
class MemberActivity:
    """One team member's mail of the window."""

    user_id: int
    name: str
    email: str
    sent: list[Email] = field(default_factory=list)
    received: list[Email] = field(default_factory=list)

    @property
    def investors(self) -> list[str]:
        """The investors this member's mail concerns, most mail first."""
        counts = Counter(name for e in self.sent + self.received for _, name in e.investors)
        return [name for name, _ in counts.most_common()]

    @property
    def people(self) -> list[str]:
        seen = dict.fromkeys(p for e in self.sent + self.received for p in e.people)
        return list(seen)

    @property
    def threads(self) -> list[dict[str, Any]]:
        """Threads of the window: subject, messages, last message; newest first."""
        grouped: dict[int, list[Email]] = defaultdict(list)
        for email in self.sent + self.received:
            grouped[email.thread_id].append(email)
        threads = [
            {
                "thread_id": thread_id,
                "subject": next((e.subject for e in emails if e.subject), ""),
                "messages": len({e.id for e in emails}),
                "last_at": max(e.sent_at for e in emails),
                "investors": sorted({name for e in emails for _, name in e.investors}),
            }
            for thread_id, emails in grouped.items()
        ]
        return sorted(threads, key=lambda t: t["last_at"], reverse=True)

    @property
    def quiet(self) -> bool:
        return not self.sent and not self.received


@dataclass
class InvestorActivity:
    """One investor's mail of the window, team-wide."""

    investor_id: int
    name: str
    emails: list[Email] = field(default_factory=list)
    team_members: list[str] = field(default_factory=list)

    @property
    def inbound(self) -> int:
        return sum(e.direction == "inbound" for e in self.emails)

    @property
    def outbound(self) -> int:
        return sum(e.direction == "outbound" for e in self.emails)

    @property
    def people(self) -> list[str]:
        return list(dict.fromkeys(p for e in self.emails for p in e.people))

    @property
    def subjects(self) -> list[str]:
        return list(dict.fromkeys(e.subject for e in self.emails if e.subject))

    @property
    def last_touch(self) -> str:
        return max(e.sent_at for e in self.emails)


@dataclass
class CRMActivity:
    """What changed in the CRM in the window (archived records left out)."""

    edits: list[dict[str, Any]] = field(default_factory=list)  # per person
    new_investors: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    imports: list[dict[str, Any]] = field(default_factory=list)
    failed_jobs: list[dict[str, Any]] = field(default_factory=list)
    pending_proposals: int = 0

    @property
    def empty(self) -> bool:
        return not (self.edits or self.new_investors or self.commitments or self.imports)


def window_emails(ctx: Context, since: datetime, until: datetime) -> list[Email]:
    """Every message of ``[since, until)`` the digest may show, oldest first."""
    rows = ctx.db.execute(
        "SELECT e.id, e.thread_id, t.subject, e.direction, e.sent_at, e.subject, e.snippet,"
        " e.reply_text, e.from_address, e.from_name, e.team_member_id,"
        f" {_TEAM_LEVEL} AS level"
        " FROM emails e JOIN email_threads t ON t.id = e.thread_id"
        " WHERE e.sent_at >= ? AND e.sent_at < ? AND e.deleted_at IS NULL"
        " AND e.direction IN ('inbound', 'outbound')"
        " AND t.deleted_at IS NULL AND +t.private_by IS NULL"
        " ORDER BY e.sent_at, e.id",
        [timestamp(since), timestamp(until)],
    ).fetchall()
    emails: dict[int, Email] = {}
    for (
        email_id,
        thread_id,
        thread_subject,
        direction,
        sent_at,
        subject,
        snippet,
        reply_text,
        from_address,
        from_name,
        member,
        level,
    ) in rows:
        if level is None:  # no mailbox holds it any more
            continue
        emails[email_id] = Email(
            id=email_id,
            thread_id=thread_id,
            direction=direction,
            sent_at=sent_at,
            subject=(subject or thread_subject or "(no subject)") if level >= 2 else "",
            text=((reply_text or snippet or "").strip()[:TEXT_LIMIT]) if level >= 3 else "",
            level=level,
            from_address=from_address if level >= 1 else "",
            from_name=from_name,
            team_member_id=member,
        )
    if not emails:
        return []
    links = rows_in(
        ctx.db.conn,
        "SELECT l.email_id, i.id, i.name, p.full_name FROM email_investor_links l"
        " JOIN fundraising_investors i ON i.id = l.investor_id AND i.deleted_at IS NULL"
        " LEFT JOIN fundraising_contacts p ON p.id = l.person_id AND p.deleted_at IS NULL"
        " WHERE l.deleted_at IS NULL AND l.email_id IN ({marks}) ORDER BY l.id",
        emails,
    )
    for email_id, investor_id, name, person in links:
        email = emails[email_id]
        if (investor_id, name) not in email.investors:
            email.investors.append((investor_id, name))
        if person and person not in email.people:
            email.people.append(person)
    holders = rows_in(
        ctx.db.conn,
        "SELECT h.email_id, a.user_id FROM email_account_messages h"
        " JOIN email_accounts a ON a.id = h.account_id AND a.deleted_at IS NULL"
        " WHERE h.deleted_at IS NULL AND a.user_id IS NOT NULL AND h.email_id IN ({marks})",
        emails,
    )
    for email_id, user_id in holders:
        if user_id not in emails[email_id].received_by:
            emails[email_id].received_by.append(user_id)
    return [e for e in emails.values() if e.investors]  # only mail about a live investor


def team_members(ctx: Context) -> list[dict[str, Any]]:
    """Active team members, by name."""
    rows = ctx.db.execute(
        "SELECT id, name, email, role FROM users WHERE deleted_at IS NULL AND is_active = 1"
        " ORDER BY lower(coalesce(nullif(name, ''), email)), id"
    ).fetchall()
    return [{"id": r[0], "name": r[1] or r[2], "email": r[2], "role": r[3]} for r in rows]


def collect_user_activity(
    ctx: Context,
    since: datetime,
    until: datetime,
    *,
    emails: list[Email] | None = None,
) -> list[MemberActivity]:
    """Per active team member: what they sent to investors and what investors sent them."""
    emails = window_emails(ctx, since, until) if emails is None else emails
    members = {m["id"]: MemberActivity(m["id"], m["name"], m["email"]) for m in team_members(ctx)}
    for email in emails:
        if email.direction == "outbound":
            if email.team_member_id in members:
                members[email.team_member_id].sent.append(email)
        else:
            for user_id in email.received_by:
                if user_id in members:
                    members[user_id].received.append(email)
    return list(members.values())


def collect_investor_activity(
    ctx: Context,
    since: datetime,
    until: datetime,
    *,
    emails: list[Email] | None = None,
) -> list[InvestorActivity]:
    """Per investor: the window's mail team-wide, one entry per message; most mail first."""
    emails = window_emails(ctx, since, until) if emails is None else emails
    names = {m["id"]: m["name"] for m in team_members(ctx)}
    investors: dict[int, InvestorActivity] = {}
    for email in emails:
        for investor_id, name in email.investors:
            entry = investors.setdefault(investor_id, InvestorActivity(investor_id, name))
            entry.emails.append(email)
            involved = [email.team_member_id] if email.direction == "outbound" else []
            involved += email.received_by if email.direction == "inbound" else []
            for user_id in involved:
                member = names.get(user_id or 0)
                if member and member not in entry.team_members:
                    entry.team_members.append(member)
    return sorted(
        investors.values(), key=lambda a: (-len(a.emails), a.name.casefold(), a.investor_id)
    )


def collect_crm_activity(ctx: Context, since: datetime, until: datetime) -> CRMActivity:
    """Edits by person (counted, not listed cell by cell), new investors, new and changed
    commitments, imports, failed job runs, and the email proposals waiting for a decision."""
    start, end = timestamp(since), timestamp(until)
    names = {m["email"].casefold(): m["name"] for m in team_members(ctx)}
    imported = "txn NOT IN (SELECT txn FROM imports WHERE deleted_at IS NULL)"
    # computed values (rollups, formulas) change with the edit that caused them: not edits
    typed = (
        "(field IS NULL OR entity != 'fundraising_investors'"
        " OR field NOT IN (SELECT key FROM grid_fields WHERE is_editable = 0))"
    )
    entities = ", ".join(f"'{table}'" for table in _EDITED)
    activity = CRMActivity()
    per_actor: dict[str, dict[str, Any]] = {}
    for actor, entity, changes, records in ctx.db.execute(
        "SELECT actor, entity, count(*), count(DISTINCT entity_id) FROM audit_log"
        f" WHERE at >= ? AND at < ? AND entity IN ({entities}) AND {imported} AND {typed}"
        " GROUP BY actor, entity ORDER BY actor, entity",
        [start, end],
    ).fetchall():
        person = per_actor.setdefault(
            actor,
            {
                "actor": actor,
                "name": _actor_name(actor, names),
                "changes": 0,
                "records": {},
                "fields": [],
            },
        )
        person["changes"] += changes
        person["records"][_EDITED[entity]] = records
    field_labels = dict(ctx.db.execute("SELECT key, label FROM grid_fields").fetchall())
    for actor, key, count in ctx.db.execute(
        "SELECT actor, field, count(*) FROM audit_log WHERE at >= ? AND at < ?"
        " AND entity = 'fundraising_investors' AND action = 'update' AND field IS NOT NULL"
        f" AND {imported} AND {typed} GROUP BY actor, field ORDER BY count(*) DESC, field",
        [start, end],
    ).fetchall():
        top = per_actor[actor]["fields"]
        if len(top) < 3:
            top.append({"label": field_labels.get(key, key), "changes": count})
    for person in per_actor.values():
        person["records_text"] = ", ".join(
            f"{n:,} {_SINGULAR[kind] if n == 1 else kind}" for kind, n in person["records"].items()
        )
    activity.edits = sorted(per_actor.values(), key=lambda p: -p["changes"])
    activity.new_investors = [
        {"id": r[0], "name": r[1], "by": _actor_name(r[2], names)}
        for r in ctx.db.execute(
            "SELECT i.id, i.name, i.created_by FROM fundraising_investors i"
            " WHERE i.created_at >= ? AND i.created_at < ? AND i.deleted_at IS NULL"
            " ORDER BY i.created_at, i.id",
            [start, end],
        ).fetchall()
    ]
    activity.commitments = _commitment_changes(ctx, start, end, names)
    activity.imports = [
        {"file": r[0], "by": _actor_name(r[1], names), "counts": json.loads(r[2] or "{}")}
        for r in ctx.db.execute(
            "SELECT file_name, created_by, counts FROM imports"
            " WHERE finished_at >= ? AND finished_at < ? AND deleted_at IS NULL ORDER BY id",
            [start, end],
        ).fetchall()
    ]
    activity.failed_jobs = [
        {"job": r[0], "error": r[1] or "", "at": r[2]}
        for r in ctx.db.execute(
            "SELECT job, error, started_at FROM job_runs WHERE status = 'failed'"
            " AND started_at >= ? AND started_at < ? AND deleted_at IS NULL ORDER BY id",
            [start, end],
        ).fetchall()
    ]
    activity.pending_proposals = ctx.db.execute(
        "SELECT count(*) FROM email_activity_proposals p"
        " JOIN fundraising_investors i ON i.id = p.investor_id AND i.deleted_at IS NULL"
        " WHERE p.status = 'pending' AND p.deleted_at IS NULL"
    ).fetchone()[0]
    return activity


def _commitment_changes(
    ctx: Context, start: str, end: str, names: dict[str, str]
) -> list[dict[str, Any]]:
    """Each commitment created or changed in the window, once, as it stands now."""
    changed: dict[int, dict[str, Any]] = {}
    for entity_id, action, key, old, new, actor in ctx.db.execute(
        "SELECT entity_id, action, field, old_value, new_value, actor FROM audit_log"
        " WHERE at >= ? AND at < ? AND entity = 'fundraising_commitments'"
        " AND action IN ('create', 'update') ORDER BY id",
        [start, end],
    ).fetchall():
        entry = changed.setdefault(
            entity_id, {"new": False, "changes": {}, "by": _actor_name(actor, names)}
        )
        if action == "create":
            entry["new"] = True
        elif key in ("amount", "status", "committed_on", "fund_id"):
            first = entry["changes"].get(key, (json.loads(old) if old else None, None))
            entry["changes"][key] = (first[0], json.loads(new) if new else None)
    if not changed:
        return []
    rows = rows_in(
        ctx.db.conn,
        "SELECT c.id, c.investor_id, i.name, f.name, f.currency, c.amount, c.status"
        " FROM fundraising_commitments c"
        " JOIN fundraising_investors i ON i.id = c.investor_id AND i.deleted_at IS NULL"
        " JOIN fundraising_funds f ON f.id = c.fund_id"
        " WHERE c.deleted_at IS NULL AND c.id IN ({marks})",
        changed,
    )
    result = []
    for commitment_id, investor_id, investor, fund, currency, amount, status in rows:
        entry = changed[commitment_id]
        before = entry["changes"].get("amount", (None, None))[0]
        result.append(
            {
                "id": commitment_id,
                "investor_id": investor_id,
                "investor": investor,
                "fund": fund,
                "currency": currency,
                "amount": amount,
                "status": status.replace("_", " "),
                "new": entry["new"],
                "amount_before": None if entry["new"] else before,
                "by": entry["by"],
            }
        )
    return sorted(result, key=lambda c: (not c["new"], c["investor"].casefold()))


def _actor_name(actor: str, names: dict[str, str]) -> str:
    """A team member's name for an audit actor (their email), else the actor as recorded."""
    if actor.startswith("system:"):
        return "the system"
    return names.get(actor.casefold(), actor)
