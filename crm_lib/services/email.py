"""Captured email: mailboxes, imports, the proposal queue, and what each investor's timeline
shows to whom.

Reading applies the policies at read time, so a change reaches past mail at once:

* a message of an archived investor, an archived message or link, or a message from a
  blocklisted address is on no read path;
* a thread marked private is seen by the team member who marked it only;
* each mailbox's sharing level (everything, subject only, metadata only) limits what others see
  of the mail it holds; a message held by several mailboxes shows as the most open of them
  allows; a mailbox's owner always sees their own mail in full.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.context import Context
from crm_lib.errors import NotFound, PermissionDenied, ValidationError
from crm_lib.mail import signals
from crm_lib.mail.addresses import canonical, domain_of
from crm_lib.mail.files import read_mailbox
from crm_lib.mail.ingest import IngestReport, ingest
from crm_lib.mail.matching import INTERNAL_DOMAINS_SETTING, stored_internal_domains
from crm_lib.mail.relink import relink
from crm_lib.services.people import add_person
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

ACCOUNTS = "email_accounts"
PROPOSALS = "email_activity_proposals"
LINKS = "email_investor_links"
SHARING = ("everything", "subject", "metadata")
#: What each sharing level shows; a mailbox's owner sees everything.
LEVELS = {"metadata": 1, "subject": 2, "everything": 3}
MAX_PAGE = 500
#: The visibility level of message ``e`` to user ``?`` (see the module docstring).
_LEVEL_SQL = (
    "(SELECT min(3, max(CASE a.sharing WHEN 'everything' THEN 3 WHEN 'subject' THEN 2 ELSE 1 END"
    " + CASE WHEN a.user_id IS NOT NULL AND a.user_id = ? THEN 3 ELSE 0 END))"
    " FROM email_account_messages h JOIN email_accounts a ON a.id = h.account_id"
    " WHERE h.email_id = e.id AND h.deleted_at IS NULL AND a.deleted_at IS NULL)"
)
_VISIBLE_THREAD = "(+t.private_by IS NULL OR t.private_by = ?)"
#: A message no mailbox holds any more (deleted from every one) is on no read path.
_HELD = (
    "EXISTS (SELECT 1 FROM email_account_messages h WHERE h.email_id = e.id"
    " AND h.deleted_at IS NULL)"
)


# -- mailboxes ------------------------------------------------------------------------------------
def ensure_account(ctx: Context, address: str, *, source: str = "file") -> dict[str, Any]:
    """The mailbox ``address`` (created the first time; owned by the team member with that
    address when there is one)."""
    require(ctx, "manage_email")
    found = _find_account(ctx, address)
    if found.get("id"):
        return found
    with write(ctx) as tx:
        account_id = tx.insert(ACCOUNTS, {**found, "source": source})
    return query_dicts(ctx.db, f"SELECT * FROM {ACCOUNTS} WHERE id = ?", [account_id])[0]


def _find_account(ctx: Context, address: str) -> dict[str, Any]:
    """The stored mailbox ``address``, else what a new one would hold (no id)."""
    if canonical(address) is None:
        raise ValidationError(f"{address!r} is not an email address", field="account")
    address = address.strip().lower()
    found = query_dicts(
        ctx.db, f"SELECT * FROM {ACCOUNTS} WHERE lower(email) = ? AND {LIVE}", [address]
    )
    if found:
        return found[0]
    owner = ctx.db.execute(
        f"SELECT id FROM users WHERE lower(email) = ? AND {LIVE}", [address]
    ).fetchone()
    return {"email": address, "user_id": owner[0] if owner else None}


def import_mailbox(
    ctx: Context, path: str | Path, account: str, *, dry_run: bool = False
) -> IngestReport:
    """Read an mbox, an .eml file or a folder of .eml files into ``account``'s mailbox.
    Idempotent: a message already stored is counted as a duplicate."""
    require(ctx, "manage_email")
    messages = read_mailbox(Path(path))
    first = next(messages, None)  # a file that is not a mailbox is refused before any write
    box = _find_account(ctx, account) if dry_run else ensure_account(ctx, account)
    if first is None:
        return IngestReport(dry_run=dry_run)
    return ingest(ctx, box, _chain(first, messages), dry_run=dry_run)


def email_accounts(ctx: Context) -> list[dict[str, Any]]:
    """Every mailbox with its status, stage, last sync, error and counts."""
    require(ctx, "read_email")
    return query_dicts(
        ctx.db,
        "SELECT a.id, a.email, a.user_id, u.name AS owner_name, a.source, a.sharing,"
        " a.sync_enabled, a.status, a.stage, a.last_sync_at, a.last_error, a.messages_stored,"
        " a.messages_total, a.version,"
        " (SELECT count(*) FROM email_failures f WHERE f.account_id = a.id"
        "  AND f.deleted_at IS NULL) AS failures"
        f" FROM {ACCOUNTS} a LEFT JOIN users u ON u.id = a.user_id WHERE a.deleted_at IS NULL"
        " ORDER BY a.email",
    )


def set_sharing(
    ctx: Context, account_id: int, sharing: str, *, expected_version: int
) -> dict[str, Any]:
    """Set what others see of a mailbox's mail (its owner or an admin)."""
    require(ctx, "read_email")
    if sharing not in SHARING:
        raise ValidationError(f"Sharing must be one of {', '.join(SHARING)}", field="sharing")
    with write(ctx) as tx:
        row = tx.fetch(ACCOUNTS, account_id)
        if row["deleted_at"] is not None:
            raise NotFound("mailbox", account_id)
        if ctx.role == "member" and row["user_id"] != ctx.user_id:
            raise PermissionDenied(
                "set_sharing", "Only the mailbox's owner or an admin can change its sharing"
            )
        tx.update(ACCOUNTS, account_id, {"sharing": sharing}, expected_version=expected_version)
    return next(a for a in email_accounts(ctx) if a["id"] == account_id)


def set_internal_domains(ctx: Context, domains: Iterable[str]) -> list[str]:
    """The fund's own domains (besides ``CRM_INTERNAL_DOMAINS`` and the team's domains)."""
    require(ctx, "manage_email")
    cleaned = sorted({d.strip().casefold().lstrip("@") for d in domains if d.strip()})
    for domain in cleaned:
        if "." not in domain or " " in domain or "@" in domain:
            raise ValidationError(f"{domain!r} is not a domain like fund.example", field="domains")
    with write(ctx) as tx:
        row = ctx.db.execute(
            f"SELECT id, version FROM app_settings WHERE key = ? AND {LIVE}",
            [INTERNAL_DOMAINS_SETTING],
        ).fetchone()
        if row is None:
            tx.insert(
                "app_settings", {"key": INTERNAL_DOMAINS_SETTING, "value": json.dumps(cleaned)}
            )
        else:
            tx.update(
                "app_settings", row[0], {"value": json.dumps(cleaned)}, expected_version=row[1]
            )
    return cleaned


def internal_domains(ctx: Context) -> list[str]:
    """The internal domains an admin set (besides CRM_INTERNAL_DOMAINS and the team's)."""
    require(ctx, "read_email")
    return stored_internal_domains(ctx)


def email_blocklist(ctx: Context) -> list[str]:
    """Addresses and ``@domains`` whose mail is not captured, in order."""
    require(ctx, "read_email")
    return [
        p
        for (p,) in ctx.db.execute(
            f"SELECT pattern FROM email_blocklist WHERE {LIVE} ORDER BY lower(pattern)"
        ).fetchall()
    ]


def set_email_blocklist(ctx: Context, patterns: Iterable[str]) -> dict[str, int]:
    """Block exactly these addresses and ``@domains``: their mail is not captured from now on,
    and stored mail with them leaves every read path (archived, in the same transaction)."""
    require(ctx, "manage_email")
    wanted: dict[str, str] = {}
    for raw in patterns:
        pattern = raw.strip().casefold()
        if not pattern:
            continue
        if pattern.startswith("@"):
            if "." not in pattern[1:] or "@" in pattern[1:] or " " in pattern:
                raise ValidationError(
                    f"{raw.strip()!r} is not a domain like @lp.example", field="blocklist"
                )
            wanted[pattern] = pattern
        else:
            key = canonical(pattern)
            if key is None:
                raise ValidationError(
                    f"{raw.strip()!r} is neither an address nor an @domain", field="blocklist"
                )
            wanted[pattern] = key
    hidden = 0
    with write(ctx) as tx:
        current = {
            p.casefold(): (row_id, version)
            for row_id, p, version in ctx.db.execute(
                f"SELECT id, pattern, version FROM email_blocklist WHERE {LIVE}"
            ).fetchall()
        }
        for pattern, (row_id, version) in current.items():
            if pattern not in wanted:
                tx.archive("email_blocklist", row_id, expected_version=version)
        for pattern in wanted:
            if pattern not in current:
                tx.insert("email_blocklist", {"pattern": pattern})
        domains = {p[1:] for p in wanted if p.startswith("@")}
        addresses = {key for p, key in wanted.items() if not p.startswith("@")}
        for email_id, version, sender, to, cc in ctx.db.execute(
            "SELECT id, version, from_address, to_addresses, cc_addresses FROM emails"
            " WHERE deleted_at IS NULL"
        ).fetchall():
            keys = {canonical(a) for a in (sender, *json.loads(to), *json.loads(cc))}
            if keys & addresses or {domain_of(k) for k in keys if k} & domains:
                tx.archive("emails", email_id, expected_version=version)
                hidden += 1
        if hidden:
            signals.recompute(tx, ctx.clock.now())
    return {"blocked": len(wanted), "hidden": hidden}


# -- the proposal queue -----------------------------------------------------------------------
def list_proposals(
    ctx: Context,
    *,
    status: str = "pending",
    investor_id: int | None = None,
    team_member_id: int | None = None,
    min_confidence: float | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Proposals, newest message first, with the message's facts as the reader may see them."""
    require(ctx, "read_email")
    if status not in ("pending", "approved", "rejected"):
        raise ValidationError("status must be pending, approved or rejected", field="status")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    where = [
        "p.deleted_at IS NULL",
        "p.status = ?",
        "e.deleted_at IS NULL",
        "i.deleted_at IS NULL",
        "t.deleted_at IS NULL",
        _VISIBLE_THREAD,
        _HELD,
    ]
    params: list[Any] = [status, ctx.user_id]
    for clause, value in (
        ("p.investor_id = ?", investor_id),
        ("e.team_member_id = ?", team_member_id),
        ("p.confidence >= ?", min_confidence),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    source = (
        f" FROM {PROPOSALS} p JOIN emails e ON e.id = p.email_id"
        " JOIN email_threads t ON t.id = e.thread_id"
        " JOIN fundraising_investors i ON i.id = p.investor_id"
        f" WHERE {' AND '.join(where)}"
    )
    total = ctx.db.execute(f"SELECT count(*){source}", params).fetchone()[0]
    rows = query_dicts(
        ctx.db,
        "SELECT p.id, p.email_id, p.investor_id, i.name AS investor_name, p.address, p.name,"
        " p.evidence, p.confidence, p.may_add_person, p.status, p.decided_by, p.decided_at,"
        " p.version, e.direction, e.team_member_id, u.name AS team_member, e.from_address,"
        " e.subject, e.snippet, e.sent_at, e.thread_id,"
        f" {_LEVEL_SQL} AS level"
        f"{source.replace(' WHERE ', ' LEFT JOIN users u ON u.id = e.team_member_id WHERE ', 1)}"
        " ORDER BY e.sent_at DESC, p.id DESC LIMIT ? OFFSET ?",
        [ctx.user_id, *params, limit, offset],
    )
    return {"total": total, "proposals": [_shown(row) for row in rows]}


def decide_proposals(
    ctx: Context,
    proposal_ids: Iterable[int],
    *,
    approve: bool,
    add_person: bool = False,
) -> dict[str, int]:
    """Approve (link the message to the investor) or reject proposals, in one transaction.

    Approving with ``add_person`` adds the counterparty as a person of the investor when the
    team wrote to them (never for cold inbound), and approves that address's other pending
    proposals for the same investor. Rejecting remembers the domain for that investor: it is
    not proposed for it again, and its other pending proposals there are rejected too."""
    require(ctx, "decide_email_proposals")
    wanted = sorted(set(proposal_ids))
    if not wanted:
        raise ValidationError("Choose at least one proposal", field="ids")
    counts = {"approved": 0, "rejected": 0, "people_added": 0}
    touched: set[int] = set()
    with write(ctx) as tx:
        for proposal_id in wanted:
            row = tx.fetch(PROPOSALS, proposal_id)
            if row["deleted_at"] is not None:
                raise NotFound("email proposal", proposal_id)
            if row["status"] != "pending":
                continue  # decided meanwhile (by someone else, or by an earlier id here)
            if approve:
                person_id = None
                if add_person and row["may_add_person"]:
                    person_id = _person_for(ctx, row)
                    counts["people_added"] += person_id is not None
                same = _pending_like(ctx, row, by_address=True) if person_id else [row]
                for other in same:
                    _decide(tx, other, "approved")
                    _link(tx, other, person_id)
                    counts["approved"] += 1
            else:
                domain = domain_of(row["address"])
                existing = ctx.db.execute(
                    f"SELECT 1 FROM email_domain_decisions WHERE investor_id = ? AND domain = ?"
                    f" AND {LIVE}",
                    [row["investor_id"], domain],
                ).fetchone()
                if existing is None:
                    tx.insert(
                        "email_domain_decisions",
                        {"investor_id": row["investor_id"], "domain": domain},
                    )
                for other in _pending_like(ctx, row, by_address=False):
                    _decide(tx, other, "rejected")
                    counts["rejected"] += 1
            touched.add(row["investor_id"])
        signals.recompute(tx, ctx.clock.now(), touched)
    return counts


def _decide(tx: Any, row: Mapping[str, Any], status: str) -> None:
    tx.update(
        PROPOSALS,
        row["id"],
        {"status": status, "decided_by": tx.actor, "decided_at": tx.now},
        expected_version=row["version"],
    )


def _link(tx: Any, row: Mapping[str, Any], person_id: int | None) -> None:
    linked = tx.conn.execute(
        f"SELECT id FROM {LINKS} WHERE email_id = ? AND investor_id = ? AND {LIVE}",
        [row["email_id"], row["investor_id"]],
    ).fetchone()
    if linked is None:
        tx.insert(
            LINKS,
            {
                "email_id": row["email_id"],
                "investor_id": row["investor_id"],
                "person_id": person_id,
                "method": "approved",
            },
        )


def _pending_like(ctx: Context, row: Mapping[str, Any], *, by_address: bool) -> list[dict]:
    """Pending proposals for the same investor and address (or domain), this one first."""
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {PROPOSALS} WHERE investor_id = ? AND status = 'pending' AND {LIVE}",
        [row["investor_id"]],
    )
    if by_address:
        same = [r for r in rows if canonical(r["address"]) == canonical(row["address"])]
    else:
        same = [r for r in rows if domain_of(r["address"]) == domain_of(row["address"])]
    return sorted(same, key=lambda r: r["id"] != row["id"])


def _person_for(ctx: Context, row: Mapping[str, Any]) -> int | None:
    """The investor's person with the proposal's address, added if there is none."""
    key = canonical(row["address"])
    for person_id, address in ctx.db.execute(
        f"SELECT id, email FROM fundraising_contacts WHERE investor_id = ? AND {LIVE}",
        [row["investor_id"]],
    ).fetchall():
        if address and canonical(address) == key:
            return int(person_id)
    name = row["name"] or row["address"].split("@")[0].replace(".", " ").title()
    return int(
        add_person(ctx, row["investor_id"], {"full_name": name, "email": row["address"]})["id"]
    )


# -- people's addresses and threads ---------------------------------------------------------
def add_email_alias(ctx: Context, person_id: int, address: str) -> dict[str, Any]:
    """Another address of a person: their mail from it links to them, past mail included."""
    require(ctx, "manage_email")
    key = canonical(address)
    if key is None:
        raise ValidationError(f"{address!r} is not an email address", field="address")
    with write(ctx) as tx:
        person = tx.fetch("fundraising_contacts", person_id)
        if person["deleted_at"] is not None:
            raise NotFound("person", person_id)
        taken = ctx.db.execute(
            f"SELECT person_id FROM email_aliases WHERE address = ? AND {LIVE}", [key]
        ).fetchone()
        if taken is not None:
            raise ValidationError(
                f"{address} is already an address of person {taken[0]}", field="address"
            )
        alias_id = tx.insert("email_aliases", {"person_id": person_id, "address": key})
        linked = link_past_mail(ctx, person_id, [key])
    return {"id": alias_id, "person_id": person_id, "address": key, "linked": linked}


def link_past_mail(ctx: Context, person_id: int, addresses: Iterable[str]) -> int:
    """Link stored mail to or from ``addresses`` to the person (and their investor); returns
    how many messages were newly linked. Runs inside the caller's transaction if there is one."""
    person = ctx.db.execute(
        "SELECT investor_id FROM fundraising_contacts WHERE id = ?", [person_id]
    ).fetchone()
    if person is None:
        raise NotFound("person", person_id)
    keys = {k for a in addresses if (k := canonical(a)) is not None}
    with write(ctx) as tx:
        return relink(tx, {key: [(person_id, person[0])] for key in keys})


def set_thread_private(ctx: Context, thread_id: int, private: bool) -> dict[str, Any]:
    """Mark a thread private (only its owner sees it) or shared again. Its owner is a team
    member whose mailbox holds it; only they may."""
    require(ctx, "read_email")
    with write(ctx) as tx:
        thread = tx.fetch("email_threads", thread_id)
        owns = ctx.db.execute(
            "SELECT 1 FROM emails e JOIN email_account_messages h ON h.email_id = e.id"
            " JOIN email_accounts a ON a.id = h.account_id"
            " WHERE e.thread_id = ? AND a.user_id = ? AND h.deleted_at IS NULL LIMIT 1",
            [thread_id, ctx.user_id],
        ).fetchone()
        if thread["deleted_at"] is not None or owns is None:
            raise NotFound("email thread in your mailbox", thread_id)
        if thread["private_by"] not in (None, ctx.user_id):
            raise ValidationError("Another team member marked this thread private")
        tx.update(
            "email_threads",
            thread_id,
            {"private_by": ctx.user_id if private else None},
            expected_version=thread["version"],
        )
        investors = [
            row[0]
            for row in ctx.db.execute(
                "SELECT DISTINCT l.investor_id FROM email_investor_links l"
                " JOIN emails e ON e.id = l.email_id WHERE e.thread_id = ?",
                [thread_id],
            ).fetchall()
        ]
        signals.recompute(tx, ctx.clock.now(), investors)
    return {"thread_id": thread_id, "private": private}


# -- reading ----------------------------------------------------------------------------------
def investor_emails(
    ctx: Context, investor_id: int, *, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """An investor's email timeline: its threads, newest first, each with its messages (newest
    first) as the reader may see them. Messages without a readable date come last."""
    require(ctx, "read_email")
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE}", field="limit")
    investor = ctx.db.execute(
        f"SELECT name FROM fundraising_investors WHERE id = ? AND {LIVE}", [investor_id]
    ).fetchone()
    if investor is None:
        raise NotFound("investor", investor_id)
    rows = query_dicts(
        ctx.db,
        "SELECT e.id, e.thread_id, t.subject AS thread_subject, e.direction, e.team_member_id,"
        " u.name AS team_member, e.from_address, e.from_name, e.to_addresses, e.subject,"
        " e.snippet, e.sent_at, l.person_id, p.full_name AS person,"
        f" {_LEVEL_SQL} AS level"
        f" FROM {LINKS} l JOIN emails e ON e.id = l.email_id"
        " JOIN email_threads t ON t.id = e.thread_id"
        " LEFT JOIN users u ON u.id = e.team_member_id"
        " LEFT JOIN fundraising_contacts p ON p.id = l.person_id AND p.deleted_at IS NULL"
        " WHERE l.investor_id = ? AND l.deleted_at IS NULL AND e.deleted_at IS NULL"
        f" AND t.deleted_at IS NULL AND {_VISIBLE_THREAD} AND {_HELD}"
        " ORDER BY e.sent_at DESC, e.id DESC",
        [ctx.user_id, investor_id, ctx.user_id],
    )
    threads: dict[int, dict[str, Any]] = {}
    for row in rows:
        shown = _shown(row)
        thread = threads.setdefault(
            row["thread_id"],
            {
                "thread_id": row["thread_id"],
                "subject": shown["thread_subject"] or shown["subject"],
                "last_at": row["sent_at"],
                "messages": [],
            },
        )
        thread["messages"].append(shown)
    ordered = list(threads.values())
    return {
        "investor_id": investor_id,
        "emails": len(rows),
        "threads_total": len(ordered),
        "threads": ordered[offset : offset + limit],
    }


def email_thread(ctx: Context, thread_id: int) -> dict[str, Any]:
    """One thread's messages, oldest first, with their text as the reader may see it."""
    require(ctx, "read_email")
    thread = query_dicts(
        ctx.db,
        f"SELECT t.* FROM email_threads t WHERE t.id = ? AND t.deleted_at IS NULL"
        f" AND {_VISIBLE_THREAD}",
        [thread_id, ctx.user_id],
    )
    if not thread:
        raise NotFound("email thread", thread_id)
    rows = query_dicts(
        ctx.db,
        "SELECT e.id, e.direction, e.team_member_id, u.name AS team_member, e.from_address,"
        " e.from_name, e.to_addresses, e.cc_addresses, e.subject, e.snippet, e.sent_at,"
        " e.body_text, e.reply_text, e.attachments,"
        f" {_LEVEL_SQL} AS level,"
        " (SELECT group_concat(l.investor_id) FROM email_investor_links l"
        "  JOIN fundraising_investors i ON i.id = l.investor_id"
        "  WHERE l.email_id = e.id AND l.deleted_at IS NULL AND i.deleted_at IS NULL) AS investors"
        " FROM emails e LEFT JOIN users u ON u.id = e.team_member_id"
        f" WHERE e.thread_id = ? AND e.deleted_at IS NULL AND {_HELD} ORDER BY e.sent_at, e.id",
        [ctx.user_id, thread_id],
    )
    rows = [r for r in rows if r["investors"]]  # only mail linked to a live investor is shown
    if not rows:
        raise NotFound("email thread", thread_id)
    messages = [_shown(row, bodies=True) for row in rows]
    return {
        "thread_id": thread_id,
        "subject": messages[0]["subject"],
        "private": thread[0]["private_by"] is not None,
        "messages": messages,
    }


def _shown(row: Mapping[str, Any], *, bodies: bool = False) -> dict[str, Any]:
    """A message as its reader may see it (its ``level``: 3 all, 2 subject, 1 metadata)."""
    shown = {k: v for k, v in row.items() if k not in ("level", "investors")}
    level = row.get("level") or 1
    for key in ("to_addresses", "cc_addresses", "attachments"):
        if isinstance(shown.get(key), str):
            shown[key] = json.loads(shown[key])
    shown["visibility"] = {3: "everything", 2: "subject", 1: "metadata"}[min(3, level)]
    if level < 3:
        for key in ("snippet", "body_text", "reply_text"):
            if key in shown:
                shown[key] = ""
        if "attachments" in shown:
            shown["attachments"] = []
    if level < 2:
        for key in ("subject", "thread_subject"):
            if key in shown:
                shown[key] = ""
    if not bodies:
        for key in ("body_text", "reply_text"):
            shown.pop(key, None)
    return shown


def _chain(first: Any, rest: Any) -> Any:
    yield first
    yield from rest
