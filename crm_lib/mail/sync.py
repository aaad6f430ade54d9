"""One Gmail mailbox synced into the CRM: the cursor, the status the admin page shows, the
lock, the pauses (see :mod:`crm_lib.mail.gmail` for how Gmail is read).

A run takes the mailbox's lock (a lock file: two runs, even from two processes, never overlap),
skips a paused mailbox until its pause ends, then syncs: the first time over the window, then
from the stored history id. The account row keeps status (idle, syncing, paused, failed), stage,
last sync, last error, the stored count and the mailbox's own total. Status columns are the
sync's own bookkeeping, written without a version bump (``tx.touch``); the messages themselves
go through :func:`crm_lib.mail.ingest.ingest`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from googleapiclient.errors import HttpError

from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.jobs import RunLock
from crm_lib.mail.gmail import (
    MAX_THROTTLES,
    RESYNC_DAYS,
    Fetched,
    GmailReader,
    Throttled,
    pause_for,
    reason_of,
)
from crm_lib.mail.ingest import IngestReport, ingest
from crm_lib.mail.matching import load_directory
from crm_lib.storage.reads import query_dicts, rows_in
from crm_lib.storage.writes import write

ACCOUNTS = "email_accounts"
#: Messages fetched and stored per step of a sync (each step is its own transactions).
STEP = 500


@dataclass
class SyncResult:
    """What one run of one mailbox did."""

    account: str
    status: str  # idle, paused, failed, skipped (locked or still paused)
    stage: str
    report: IngestReport
    deleted: int = 0
    unfetched: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "status": self.status,
            "stage": self.stage,
            "deleted": self.deleted,
            "unfetched": self.unfetched,
            "error": self.error,
            **self.report.as_dict(),
        }


def sync_mailbox(
    ctx: Context, account: dict[str, Any], reader: GmailReader, *, window_days: int = 365
) -> SyncResult:
    """Sync one mailbox now (see the module docstring)."""
    now = ctx.clock.now()
    report = IngestReport()
    paused = account.get("paused_until")
    if paused and paused > timestamp(now):
        return SyncResult(account["email"], "skipped", "paused", report, error="paused")
    try:
        lock = RunLock(ctx.settings.data_dir / "locks" / f"email-{account['id']}.lock")
        lock.__enter__()
    except ValidationError:
        return SyncResult(account["email"], "skipped", "locked", report, error="already syncing")
    try:
        return _sync(ctx, account, reader, window_days, report)
    finally:
        lock.__exit__()


def _sync(
    ctx: Context,
    account: dict[str, Any],
    reader: GmailReader,
    window_days: int,
    report: IngestReport,
) -> SyncResult:
    now = ctx.clock.now()
    stage = "incremental" if account.get("history_id") else "first sync"
    _touch(ctx, account, status="syncing", stage=stage)
    result = SyncResult(account["email"], "idle", stage, report)
    try:
        profile = reader.profile()
        cursor = account.get("history_id")
        ids: list[str] = []
        deleted: list[str] = []
        newest = str(profile.get("historyId")) if profile.get("historyId") else None
        if cursor:
            try:
                ids, deleted, seen = reader.history(cursor)
                newest = seen or newest
            except HttpError as error:
                if error.resp.status != 404:
                    raise
                result.stage = stage = "resync"  # the cursor expired: a bounded full resync
                ids = list(reader.message_ids(now - timedelta(days=RESYNC_DAYS)))
        else:
            ids = list(reader.message_ids(now - timedelta(days=window_days)))
        wanted = [i for i in ids if i not in _held(ctx, account["id"], ids)]
        directory = load_directory(ctx, ctx.settings.internal_domains)
        unfetched: list[tuple[str, str]] = []
        for start in range(0, len(wanted), STEP):
            fetched: Fetched = reader.fetch(wanted[start : start + STEP])
            ingest(ctx, account, fetched.messages, directory=directory, report=report)
            unfetched += fetched.failed
        _record_unfetched(ctx, account, unfetched)
        result.deleted = _leave(ctx, account, deleted)
        result.unfetched = len(unfetched)
        error = (
            f"{len(unfetched):,} messages could not be fetched; the next sync tries them again"
            if unfetched
            else None
        )
        _touch(
            ctx,
            account,
            status="idle",
            stage=stage,
            # the cursor moves only when every message up to it is stored
            history_id=account.get("history_id") if unfetched else newest,
            last_sync_at=timestamp(ctx.clock.now()),
            last_error=error,
            throttled=0,
            paused_until=None,
            messages_total=profile.get("messagesTotal"),
            messages_stored=_stored(ctx, account["id"]),
        )
        result.error = error
    except Throttled as throttled:
        count = int(account.get("throttled") or 0) + 1
        until = ctx.clock.now() + max(
            pause_for(count - 1), timedelta(seconds=throttled.retry_after or 0)
        )
        failed = count >= MAX_THROTTLES
        reason = (
            f"Gmail throttled this mailbox {count} times in a row; sync stopped until an admin"
            " restarts it"
            if failed
            else f"Gmail is rate-limiting this mailbox; paused until {timestamp(until)[:16]} UTC"
        )
        _touch(
            ctx,
            account,
            status="failed" if failed else "paused",
            throttled=count,
            paused_until=None if failed else timestamp(until),
            last_error=reason,
        )
        result.status, result.error = ("failed" if failed else "paused"), reason
    except Exception as exc:  # an HTTP error, a refused key, a dropped connection
        reason = reason_of(exc)
        _touch(ctx, account, status="failed", last_error=reason)
        result.status, result.error = "failed", reason
    return result


def _held(ctx: Context, account_id: int, ids: list[str]) -> set[str]:
    """Which of ``ids`` this mailbox holds already (live)."""
    return {
        gid
        for (gid,) in rows_in(
            ctx.db.conn,
            "SELECT gmail_id FROM email_account_messages WHERE account_id = ?"
            " AND deleted_at IS NULL AND gmail_id IN ({marks})",
            ids,
            before=[account_id],
        )
    }


def _leave(ctx: Context, account: dict[str, Any], gmail_ids: list[str]) -> int:
    """Messages deleted from the mailbox leave it (archived holdings); the message stays for
    the mailboxes that still hold it."""
    if not gmail_ids:
        return 0
    left = 0
    with write(ctx) as tx:
        for gmail_id in gmail_ids:
            row = tx.conn.execute(
                "SELECT id, version FROM email_account_messages WHERE account_id = ?"
                " AND gmail_id = ? AND deleted_at IS NULL",
                [account["id"], gmail_id],
            ).fetchone()
            if row is not None:
                tx.archive("email_account_messages", row[0], expected_version=row[1])
                left += 1
    return left


def _record_unfetched(
    ctx: Context, account: dict[str, Any], unfetched: list[tuple[str, str]]
) -> None:
    if not unfetched:
        return
    with write(ctx) as tx:
        for gmail_id, reason in unfetched:
            tx.insert(
                "email_failures",
                {"account_id": account["id"], "source_ref": gmail_id, "reason": reason},
            )


def _stored(ctx: Context, account_id: int) -> int:
    return int(
        ctx.db.execute(
            "SELECT count(*) FROM email_account_messages WHERE account_id = ?"
            " AND deleted_at IS NULL",
            [account_id],
        ).fetchone()[0]
    )


def _touch(ctx: Context, account: dict[str, Any], **values: Any) -> None:
    with write(ctx) as tx:
        tx.touch(ACCOUNTS, account["id"], values)
    account.update(values)


def due(ctx: Context, now: datetime) -> list[dict[str, Any]]:
    """The Gmail mailboxes a scheduled run syncs: enabled, not failed, not paused."""
    return [
        row
        for row in query_dicts(
            ctx.db,
            f"SELECT * FROM {ACCOUNTS} WHERE source = 'gmail' AND sync_enabled = 1"
            " AND deleted_at IS NULL AND status != 'failed' ORDER BY email",
        )
        if not row["paused_until"] or row["paused_until"] <= timestamp(now)
    ]
