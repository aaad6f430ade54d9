"""Storing messages: one path for every source (Gmail sync, an mbox, a folder of .eml files).

Each message is parsed, skipped when it is noise (counted with the reason), matched against the
directory (:mod:`crm_lib.mail.matching`), and stored once however many mailboxes hold it: a
message is the same message when its Message-ID is (else when a digest of its sender, date,
subject and text is). A run writes in batches, each one transaction (:func:`write`), with the
created rows audited as ranges, as the bulk path does: a message body is never copied into the
audit log. One message that cannot be read is recorded in ``email_failures`` with its reason,
and the run goes on.

A dry run does all of it inside transactions that are rolled back: the report says what a real
run would store, link and propose, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.mail import signals
from crm_lib.mail.matching import Directory, Match, load_directory
from crm_lib.mail.noise import skip_reason
from crm_lib.mail.parse import ParsedEmail, UnreadableMessage, parse_message
from crm_lib.storage.reads import rows_in
from crm_lib.storage.sql import quote
from crm_lib.storage.writes import WriteTransaction, insert_many, write

log = logging.getLogger(__name__)

BATCH = 500
EMAIL_COLUMNS = (
    "id",
    "message_id",
    "fingerprint",
    "thread_id",
    "direction",
    "team_member_id",
    "from_address",
    "from_name",
    "to_addresses",
    "cc_addresses",
    "subject",
    "sent_at",
    "snippet",
    "body_text",
    "reply_text",
    "body_html",
    "attachments",
    "size",
    "defects",
)
HOLDING_COLUMNS = (
    "id",
    "account_id",
    "email_id",
    "gmail_id",
    "gmail_thread_id",
    "labels",
    "source_ref",
)
LINK_COLUMNS = ("id", "email_id", "investor_id", "person_id", "method")
PROPOSAL_COLUMNS = (
    "id",
    "email_id",
    "investor_id",
    "address",
    "name",
    "evidence",
    "confidence",
    "may_add_person",
)
THREAD_COLUMNS = ("id", "thread_key", "subject", "first_at", "last_at")
#: Reason counted for mail with no one outside the fund on it.
INTERNAL_ONLY = "internal only (no one outside the fund)"


@dataclass(frozen=True)
class RawMessage:
    """One message as a source hands it over: its bytes and where it came from."""

    raw: bytes
    source_ref: str  # "takeout.mbox #12", "eml/abc.eml", or the Gmail id
    gmail_id: str | None = None
    gmail_thread_id: str | None = None
    labels: tuple[str, ...] = ()


@dataclass
class IngestReport:
    """What a run did, message by message, in counts (and the failures with their reasons)."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    linked: int = 0
    proposed: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = False

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "linked": self.linked,
            "proposed": self.proposed,
            "skipped": dict(self.skipped),
            "failed": [{"source": ref, "reason": reason} for ref, reason in self.failed],
            "dry_run": self.dry_run,
        }


@dataclass
class _Ready:
    """A parsed, matched message waiting for its batch's transaction."""

    message: RawMessage
    parsed: ParsedEmail
    match: Match
    fingerprint: str
    thread_key: str


class _DryRunDone(Exception):
    """Raised at the end of a dry run's batch so its transaction is rolled back."""


def fingerprint(parsed: ParsedEmail) -> str:
    """The key two copies of one message share: its Message-ID, else a digest of its facts."""
    if parsed.message_id:
        return f"mid:{parsed.message_id}"
    facts = "\x1f".join(
        (
            parsed.from_address,
            parsed.sent_at.isoformat() if parsed.sent_at else "",
            parsed.subject,
            ",".join(parsed.to_addresses),
            parsed.text[:4000],
        )
    )
    return "sha:" + hashlib.sha256(facts.encode("utf-8", "surrogatepass")).hexdigest()


def ingest(
    ctx: Context,
    account: dict[str, Any],
    messages: Iterable[RawMessage],
    *,
    dry_run: bool = False,
    directory: Directory | None = None,
    batch_size: int = BATCH,
    report: IngestReport | None = None,
) -> IngestReport:
    """Store ``messages`` as held by ``account`` (a row of ``email_accounts``); counts add to
    ``report`` when given (a sync stores in steps)."""
    report = report or IngestReport(dry_run=dry_run)
    directory = directory or load_directory(ctx, ctx.settings.internal_domains)
    iterator = iter(messages)
    while chunk := list(islice(iterator, batch_size)):
        failed_before = len(report.failed)
        ready: list[_Ready] = []
        for message in chunk:
            report.read += 1
            prepared = _prepare(message, directory, account, report)
            if prepared is not None:
                ready.append(prepared)
        try:
            with write(ctx) as tx:
                box = account
                if not account.get("id"):  # a dry run's mailbox: made here, rolled back below
                    box = {**account, "id": tx.insert("email_accounts", _draft(account))}
                _store(tx, box, ready, report)
                for ref, reason in report.failed[failed_before:]:
                    tx.insert(
                        "email_failures",
                        {"account_id": box["id"], "source_ref": ref, "reason": reason},
                    )
                if dry_run:
                    raise _DryRunDone
        except _DryRunDone:
            pass
    if not dry_run:
        _update_account(ctx, account)
    return report


def _draft(account: dict[str, Any]) -> dict[str, Any]:
    return {"email": account["email"], "user_id": account.get("user_id"), "source": "file"}


def _prepare(
    message: RawMessage, directory: Directory, account: dict[str, Any], report: IngestReport
) -> _Ready | None:
    try:
        parsed = parse_message(message.raw)
    except UnreadableMessage as exc:
        report.failed.append((message.source_ref, str(exc)))
        return None
    except Exception as exc:  # the parser on bytes it was never meant to see: record, go on
        report.failed.append((message.source_ref, f"could not be parsed ({type(exc).__name__})"))
        return None
    reason = skip_reason(parsed, message.labels)
    if reason is not None:
        report.skipped[reason] += 1
        return None
    match = directory.match(parsed, owner_id=account.get("user_id"))
    if match.blocked:
        report.skipped[match.blocked] += 1
        return None
    if match.direction == "internal":
        report.skipped[INTERNAL_ONLY] += 1
        return None
    key = fingerprint(parsed)
    thread = parsed.thread_key
    thread_key = f"rfc:{thread}" if thread else f"one:{key}"
    return _Ready(message, parsed, match, key, thread_key)


def _store(
    tx: WriteTransaction, account: dict[str, Any], ready: list[_Ready], report: IngestReport
) -> None:
    """Write one batch: threads, new messages, which mailbox holds them, links, proposals."""
    if not ready:
        return
    conn = tx.conn
    stamp = (1, tx.now, tx.actor, tx.now, tx.actor)
    known = _existing(conn, "emails", "fingerprint", {r.fingerprint for r in ready})
    held = {
        email_id
        for (email_id,) in rows_in(
            conn,
            "SELECT email_id FROM email_account_messages WHERE account_id = ?"
            " AND email_id IN ({marks})",
            known.values(),
            before=[account["id"]],
        )
    }
    threads = _existing(conn, "email_threads", "thread_key", {r.thread_key for r in ready})
    next_id = {t: tx.next_id(t) for t in _TABLES}
    first = dict(next_id)
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in _TABLES}
    thread_dates: dict[int, list[str]] = {}

    def take(table: str) -> int:
        value = next_id[table]
        next_id[table] += 1
        return value

    for item in ready:
        parsed, match, message = item.parsed, item.match, item.message
        email_id = known.get(item.fingerprint)
        if email_id is not None:
            report.duplicates += 1
            if email_id not in held:
                held.add(email_id)
                rows["email_account_messages"].append(
                    (take("email_account_messages"), *_holding(account, email_id, message), *stamp)
                )
            continue
        sent = timestamp(parsed.sent_at) if parsed.sent_at else None
        thread_id = threads.get(item.thread_key)
        if thread_id is None:
            thread_id = threads[item.thread_key] = take("email_threads")
            rows["email_threads"].append(
                (thread_id, item.thread_key, parsed.subject, sent, sent, *stamp)
            )
        elif sent:
            thread_dates.setdefault(thread_id, []).append(sent)
        email_id = known[item.fingerprint] = take("emails")
        held.add(email_id)
        rows["emails"].append(
            (email_id, *_email_row(item.fingerprint, thread_id, parsed, match), *stamp)
        )
        rows["email_account_messages"].append(
            (take("email_account_messages"), *_holding(account, email_id, message), *stamp)
        )
        for link in match.links:
            rows["email_investor_links"].append(
                (
                    take("email_investor_links"),
                    email_id,
                    link.investor_id,
                    link.person_id,
                    "person",
                    *stamp,
                )
            )
        for proposal in match.proposals:
            rows["email_activity_proposals"].append(
                (
                    take("email_activity_proposals"),
                    email_id,
                    proposal.investor_id,
                    proposal.address,
                    proposal.name,
                    proposal.evidence,
                    proposal.confidence,
                    int(proposal.may_add_person),
                    *stamp,
                )
            )
        report.stored += 1
        report.linked += bool(match.links)
        report.proposed += bool(match.proposals)
    for table, columns in _TABLES.items():
        if rows[table]:
            insert_many(tx, table, columns, rows[table])
            tx.audit_created_range(table, first[table], next_id[table] - 1)
            tx.record_bulk(table, first[table], next_id[table] - 1)
    linked = {link[2] for link in rows["email_investor_links"]}
    if linked:
        signals.recompute(tx, tx.ctx.clock.now(), linked)
    for thread_id, dates in thread_dates.items():  # derived: the thread's span of dates
        conn.execute(
            "UPDATE email_threads SET first_at = min(coalesce(first_at, ?), ?),"
            " last_at = max(coalesce(last_at, ?), ?) WHERE id = ?",
            [min(dates), min(dates), max(dates), max(dates), thread_id],
        )


def _holding(account: dict[str, Any], email_id: int, message: RawMessage) -> tuple[Any, ...]:
    """A mailbox holds a message (the columns after the id)."""
    return (
        account["id"],
        email_id,
        message.gmail_id,
        message.gmail_thread_id,
        json.dumps(list(message.labels)),
        message.source_ref,
    )


def _email_row(key: str, thread_id: int, parsed: ParsedEmail, match: Match) -> tuple[Any, ...]:
    """A message's columns after the id."""
    return (
        parsed.message_id,
        key,
        thread_id,
        match.direction,
        match.team_member_id,
        parsed.from_address,
        parsed.from_name,
        json.dumps(list(parsed.to_addresses)),
        json.dumps(list(parsed.cc_addresses)),
        parsed.subject,
        timestamp(parsed.sent_at) if parsed.sent_at else None,
        parsed.snippet,
        parsed.text,
        parsed.reply_text,
        parsed.html,
        json.dumps(
            [
                {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                for a in parsed.attachments
            ]
        ),
        parsed.size,
        json.dumps(list(parsed.defects)),
    )


_TABLES = {
    "email_threads": THREAD_COLUMNS,
    "emails": EMAIL_COLUMNS,
    "email_account_messages": HOLDING_COLUMNS,
    "email_investor_links": LINK_COLUMNS,
    "email_activity_proposals": PROPOSAL_COLUMNS,
}


def _existing(conn: Any, table: str, column: str, keys: set[str]) -> dict[str, int]:
    """``key -> id`` of the rows of ``table`` whose ``column`` is one of ``keys``."""
    name = quote(column)
    return dict(
        rows_in(conn, f"SELECT {name}, id FROM {quote(table)} WHERE {name} IN ({{marks}})", keys)
    )


def _update_account(ctx: Context, account: dict[str, Any]) -> None:
    """The account's count of stored messages and when it last took mail in."""
    with write(ctx) as tx:
        stored = tx.conn.execute(
            "SELECT count(*) FROM email_account_messages WHERE account_id = ?"
            " AND deleted_at IS NULL",
            [account["id"]],
        ).fetchone()[0]
        tx.touch(
            "email_accounts",
            account["id"],
            {"messages_stored": stored, "last_sync_at": tx.now, "last_error": None},
        )
