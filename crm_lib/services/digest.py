"""The daily digest as the front ends see it: its policy, a preview, sending it (scheduled, now,
a copy to one admin) and a test email, and the record of every send.

Sending, in one place for every caller:

1. One send at a time across processes (a lock file under ``<data>/jobs``).
2. A scheduled digest first *claims its slot*: a ``digest_sends`` row whose slot is unique, so
   of two server processes (or a retried job) only one ever sends for a slot. A slot whose send
   failed may be claimed again; one left ``sending`` by a process that died is marked
   ``interrupted`` and not sent again automatically (the mail may have gone): at most once.
3. The window runs from the cursor (the last digest's end) to now; the digest is built, rendered
   and handed to the transports in order (Gmail as the sender, then SMTP) until one delivers.
4. The row records recipients, transport, sizes, figures and every transport's outcome; a
   delivered scheduled or "send now" digest moves the cursor in the same transaction.

Recipients are always active admins: ``to`` may narrow them, never add anyone else, so neither
the digest nor the test email can be sent to an arbitrary address.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from crm_lib.auth.permissions import require
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.digest.build import Digest, build_digest
from crm_lib.digest.collect import team_members
from crm_lib.digest.local_model import LocalModel
from crm_lib.digest.policy import (
    CURSOR_KEY,
    POLICY_KEY,
    DigestPolicy,
    due_slot,
    next_slot,
    window_for,
)
from crm_lib.digest.render import render_html, render_text
from crm_lib.errors import CRMError, ExternalServiceError, NotFound, ValidationError
from crm_lib.jobs import RunLock
from crm_lib.outbox.gmail import GmailTransport, compose_service
from crm_lib.outbox.message import Outgoing, build_message
from crm_lib.outbox.smtp import SMTPTransport
from crm_lib.services.email_sync import google_key
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

SENDS = "digest_sends"
SETTINGS = "app_settings"
MAX_LIST = 200
_UNSET: Any = object()


class Transport(Protocol):
    """Delivers one MIME message (Gmail or SMTP); raises ExternalServiceError when it cannot."""

    name: str

    def send(self, message: Any) -> str: ...


# -- policy -------------------------------------------------------------------------------------
def _setting(ctx: Context, key: str) -> dict[str, Any] | None:
    rows = query_dicts(ctx.db, f"SELECT * FROM {SETTINGS} WHERE key = ? AND {LIVE}", [key])
    return rows[0] if rows else None


def _policy(ctx: Context) -> tuple[DigestPolicy, int]:
    """The stored policy and its version; the environment's defaults are stored the first time
    (so changing the environment later never changes a policy an admin may rely on)."""
    row = _setting(ctx, POLICY_KEY)
    if row is None:
        seeded = DigestPolicy.seeded(ctx.settings)
        try:
            with write(ctx.as_actor("system:digest")) as tx:
                tx.insert(SETTINGS, {"key": POLICY_KEY, "value": json.dumps(seeded.to_dict())})
        except ValidationError:
            pass  # another process seeded it first: read theirs
        row = _setting(ctx, POLICY_KEY)
        assert row is not None
    return DigestPolicy.parse(json.loads(row["value"])), row["version"]


def _cursor(ctx: Context) -> datetime | None:
    row = _setting(ctx, CURSOR_KEY)
    return datetime.fromisoformat(json.loads(row["value"])["until"]) if row else None


def digest_policy(ctx: Context) -> dict[str, Any]:
    """The policy, its version, the cursor and when the next digest goes."""
    require(ctx, "manage_digest")
    policy, version = _policy(ctx)
    now = ctx.clock.now()
    cursor = _cursor(ctx)
    return {
        **policy.to_dict(),
        "version": version,
        "last_window_end": timestamp(cursor) if cursor else None,
        "next_send_at": (
            timestamp(next_slot(policy.time_of_day, policy.zone, now)) if policy.enabled else None
        ),
        "due_now": due_slot(policy, cursor, now) is not None,
    }


def set_digest_policy(
    ctx: Context, values: dict[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Change the policy (only the keys given: enabled, send_at, timezone, transport);
    ``expected_version`` must be the version read (409 otherwise)."""
    require(ctx, "manage_digest")
    unknown = set(values) - {"enabled", "send_at", "timezone", "transport"}
    if unknown:
        raise ValidationError(f"Unknown policy keys: {', '.join(sorted(unknown))}")
    current, _ = _policy(ctx)
    merged = DigestPolicy.parse({**current.to_dict(), **values})
    if merged.enabled and not current.enabled:
        merged = DigestPolicy.parse({**merged.to_dict(), "enabled_at": timestamp(ctx.clock.now())})
    row = _setting(ctx, POLICY_KEY)
    assert row is not None
    with write(ctx) as tx:
        tx.update(
            SETTINGS,
            row["id"],
            {"value": json.dumps(merged.to_dict())},
            expected_version=expected_version,
        )
    return digest_policy(ctx)


def scheduled_digest_due(ctx: Context) -> bool:
    """Is a scheduled digest due now? (What the scheduler asks before running the job.)"""
    policy, _ = _policy(ctx)
    return due_slot(policy, _cursor(ctx), ctx.clock.now()) is not None


def digest_schedule(ctx: Context) -> tuple[DigestPolicy, datetime | None]:
    """The policy and the cursor (for the scheduler's slot arithmetic)."""
    policy, _ = _policy(ctx)
    return policy, _cursor(ctx)


# -- building -----------------------------------------------------------------------------------
def _model(ctx: Context, model: LocalModel | None) -> tuple[LocalModel | None, str]:
    """The model to use, and why there is none (a refused ``CRM_LOCAL_LLM_URL`` says so in
    every narrative, rather than passing for "not configured")."""
    if model is not _UNSET:
        return model, ""
    try:
        return LocalModel.from_settings(ctx.settings), ""
    except (ExternalServiceError, ValidationError) as exc:
        return None, f"written from the data: {exc.message}"


def _window(
    ctx: Context, since: datetime | None, until: datetime | None
) -> tuple[datetime, datetime]:
    until = until or ctx.clock.now()
    since = since or window_for(_cursor(ctx), until)
    if since >= until:
        raise ValidationError("The window's start must be before its end", field="since")
    return since, until


def _build(
    ctx: Context, since: datetime, until: datetime, model: LocalModel | None
) -> tuple[Digest, str, str]:
    policy, _ = _policy(ctx)
    chosen, why_not = _model(ctx, model)
    digest = build_digest(ctx, since, until, zone=policy.zone, model=chosen, without_model=why_not)
    return digest, render_html(digest), render_text(digest)


def preview_digest(
    ctx: Context,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model: LocalModel | None = _UNSET,
) -> dict[str, Any]:
    """The digest the next send would build (or for ``[since, until)``), without sending it."""
    require(ctx, "manage_digest")
    since, until = _window(ctx, since, until)
    digest, html, text = _build(ctx, since, until, model)
    return {
        "subject": digest.subject,
        "window_start": timestamp(since),
        "window_end": timestamp(until),
        "figures": digest.figures(),
        "html": html,
        "text": text,
    }


# -- recipients and transports -----------------------------------------------------------------
def _admins(ctx: Context) -> list[dict[str, Any]]:
    return [m for m in team_members(ctx) if m["role"] == "admin"]


def _recipients(ctx: Context, to: Sequence[str] | None) -> list[str]:
    admins = [a["email"] for a in _admins(ctx)]
    if not admins:
        raise ValidationError("There is no active admin to send the digest to", field="to")
    if not to:
        return admins
    by_address = {a.casefold(): a for a in admins}
    chosen = []
    for address in to:
        found = by_address.get(address.strip().casefold())
        if found is None:
            raise ValidationError(
                f"{address!r} is not an active admin: the digest goes only to admins", field="to"
            )
        if found not in chosen:
            chosen.append(found)
    return chosen


def _sender(ctx: Context) -> str:
    """``CRM_DIGEST_SENDER`` if it is an active team member, else the first active admin."""
    members = team_members(ctx)
    wanted = ctx.settings.digest_sender
    for member in members:
        if wanted and member["email"].casefold() == wanted:
            return member["email"]
    if wanted:
        raise ValidationError(
            f"CRM_DIGEST_SENDER {wanted!r} is not an active team member", field="sender"
        )
    admins = sorted(_admins(ctx), key=lambda a: a["id"])
    if not admins:
        raise ValidationError("There is no active admin to send the digest as", field="sender")
    return admins[0]["email"]


def default_transports(ctx: Context, sender: str) -> list[Transport]:
    """The transports the policy asks for that are configured, in order."""
    policy, _ = _policy(ctx)
    found: list[Transport] = []
    if policy.transport in ("auto", "gmail"):
        key = google_key(ctx)
        if key is not None:
            found.append(GmailTransport(sender, compose_service(key, sender)))
    if policy.transport in ("auto", "smtp"):
        smtp = SMTPTransport.from_settings(ctx.settings)
        if smtp is not None:
            found.append(smtp)
    if not found:
        wanted = {"auto": "Gmail or SMTP", "gmail": "Gmail", "smtp": "SMTP"}[policy.transport]
        raise ExternalServiceError(
            "mail",
            f"No mail transport for the digest ({wanted}): connect Google on the admin page"
            " (scope gmail.compose) or set CRM_SMTP_HOST",
        )
    return found


# -- sending ------------------------------------------------------------------------------------
def _claim(ctx: Context, kind: str, slot: datetime | None) -> int | None:
    """A ``sending`` row for this send; None when the scheduled slot is already taken."""
    started = timestamp(ctx.clock.now())
    if slot is None:
        with write(ctx) as tx:
            return tx.insert(SENDS, {"kind": kind, "status": "sending", "started_at": started})
    existing = query_dicts(
        ctx.db,
        f"SELECT id, status, version FROM {SENDS} WHERE kind = 'scheduled' AND slot = ?",
        [timestamp(slot)],
    )
    if not existing:
        try:
            with write(ctx) as tx:
                return tx.insert(
                    SENDS,
                    {
                        "kind": kind,
                        "slot": timestamp(slot),
                        "status": "sending",
                        "started_at": started,
                    },
                )
        except ValidationError:
            return None  # another process claimed it a moment ago
    row = existing[0]
    if row["status"] == "sending":  # a process died mid-send: the mail may have gone
        with write(ctx) as tx:
            tx.update(
                SENDS,
                row["id"],
                {"status": "interrupted", "error": "the server stopped during the send"},
                expected_version=row["version"],
            )
        return None
    if row["status"] != "failed":
        return None
    with write(ctx) as tx:  # a failed slot is tried again (the version check: by one process)
        tx.update(
            SENDS,
            row["id"],
            {"status": "sending", "started_at": started, "error": None},
            expected_version=row["version"],
        )
    return row["id"]


def _finish(ctx: Context, send_id: int, values: dict[str, Any], cursor: datetime | None) -> None:
    with write(ctx) as tx:
        row = tx.fetch(SENDS, send_id)
        tx.update(
            SENDS,
            send_id,
            {**values, "finished_at": tx.now},
            expected_version=row["version"],
        )
        if cursor is not None:
            value = json.dumps({"until": timestamp(cursor)})
            current = tx.conn.execute(
                f"SELECT id, version FROM {SETTINGS} WHERE key = ? AND deleted_at IS NULL",
                [CURSOR_KEY],
            ).fetchone()
            if current is None:
                tx.insert(SETTINGS, {"key": CURSOR_KEY, "value": value})
            else:
                tx.update(SETTINGS, current[0], {"value": value}, expected_version=current[1])


def _deliver(
    ctx: Context, outgoing: Outgoing, transports: Sequence[Transport]
) -> tuple[str | None, list[dict[str, str]]]:
    """Try each transport in order; (the one that delivered, every attempt's outcome)."""
    message = build_message(outgoing, now=ctx.clock.now())
    attempts = []
    for transport in transports:
        try:
            detail = transport.send(message)
        except ExternalServiceError as exc:
            attempts.append(
                {"transport": transport.name, "outcome": "failed", "detail": exc.message}
            )
            continue
        attempts.append({"transport": transport.name, "outcome": "sent", "detail": detail})
        return transport.name, attempts
    return None, attempts


def send_digest(
    ctx: Context,
    *,
    to: Sequence[str] | None = None,
    slot: datetime | None = None,
    since: datetime | None = None,
    transports: Sequence[Transport] | None = None,
    model: LocalModel | None = _UNSET,
    include_body: bool = False,
) -> dict[str, Any]:
    """Send the digest now and record it; returns its ``digest_sends`` row (with the ``html``
    and ``text`` sent when ``include_body``: the job shows them in its run).

    * no ``to`` and no ``slot``: "send now" to every admin; the window runs from the cursor
      and the cursor moves on;
    * ``to``: a copy for those admins only; the cursor stays;
    * ``slot``: the scheduled digest for that slot, sent at most once (``{"skipped": reason}``
      when the slot was already taken).

    Raises :class:`ExternalServiceError` (after recording the failure) when no transport
    delivered it.
    """
    require(ctx, "manage_digest")
    kind = "scheduled" if slot is not None else ("copy" if to else "manual")
    recipients = _recipients(ctx, to)
    with RunLock(ctx.settings.jobs_dir / "digest-send.lock"):
        send_id = _claim(ctx, kind, slot)
        if send_id is None:
            when = timestamp(slot) if slot else "now"
            return {"skipped": f"the digest for {when} was already sent or attempted"}
        try:
            sender = _sender(ctx)
            chosen = list(transports) if transports is not None else None
            chosen = chosen or default_transports(ctx, sender)
            window_since, until = _window(ctx, since, None)
            digest, html, text = _build(ctx, window_since, until, model)
            outgoing = Outgoing(sender, tuple(recipients), digest.subject, text, html)
            delivered, attempts = _deliver(ctx, outgoing, chosen)
        except Exception as exc:  # recorded as failed (never left "sending"), then raised
            _finish(ctx, send_id, {"status": "failed", "error": _reason(exc)}, None)
            raise
        values = {
            "window_start": timestamp(window_since),
            "window_end": timestamp(until),
            "status": "sent" if delivered else "failed",
            "transport": delivered,
            "sender": sender,
            "recipients": json.dumps(recipients),
            "subject": digest.subject,
            "html_bytes": len(html.encode()),
            "text_bytes": len(text.encode()),
            "figures": json.dumps(digest.figures()),
            "narrative": digest.narrative_source,
            "attempts": json.dumps(attempts),
            "error": None if delivered else "; ".join(a["detail"] for a in attempts),
        }
        moves_cursor = delivered is not None and kind in ("scheduled", "manual")
        _finish(ctx, send_id, values, until if moves_cursor else None)
    if delivered is None:
        raise ExternalServiceError("mail", f"The digest was not sent: {values['error']}")
    row = _send_row(ctx, send_id)
    return {**row, "html": html, "text": text} if include_body else row


def send_scheduled_digest(
    ctx: Context,
    *,
    slot: datetime | None = None,
    transports: Sequence[Transport] | None = None,
    include_body: bool = False,
) -> dict[str, Any]:
    """What the daily job calls: the due slot's digest (``slot`` given by the scheduler, else
    the one due now), once; ``{"skipped": reason}`` when nothing is due."""
    require(ctx, "manage_digest")
    policy, _ = _policy(ctx)
    if not policy.enabled:
        return {"skipped": "the digest is turned off"}
    slot = slot or due_slot(policy, _cursor(ctx), ctx.clock.now())
    if slot is None:
        return {"skipped": "no digest is due"}
    return send_digest(ctx, slot=slot, transports=transports, include_body=include_body)


def send_test_email(
    ctx: Context, *, to: Sequence[str] | None = None, transports: Sequence[Transport] | None = None
) -> dict[str, Any]:
    """A short test message through the digest's transports, to admins only (the caller, if an
    admin, when ``to`` is not given)."""
    require(ctx, "manage_digest")
    if not to and ctx.user_id is not None:
        me = query_dicts(ctx.db, "SELECT email FROM users WHERE id = ?", [ctx.user_id])
        to = [me[0]["email"]] if me else None
    recipients = _recipients(ctx, to)
    with RunLock(ctx.settings.jobs_dir / "digest-send.lock"):
        send_id = _claim(ctx, "test", None)
        try:
            sender = _sender(ctx)
            chosen = list(transports) if transports is not None else None
            chosen = chosen or default_transports(ctx, sender)
            text = (
                "This is a test message from Venture CRM.\n\nIf you can read it, the daily digest"
                f" can reach you. Sent as {sender} by {ctx.actor}.\n{ctx.settings.base_url}/\n"
            )
            outgoing = Outgoing(sender, tuple(recipients), "Venture CRM: test email", text)
            delivered, attempts = _deliver(ctx, outgoing, chosen)
        except Exception as exc:  # recorded as failed (never left "sending"), then raised
            _finish(ctx, send_id, {"status": "failed", "error": _reason(exc)}, None)
            raise
        error = None if delivered else "; ".join(a["detail"] for a in attempts)
        _finish(
            ctx,
            send_id,
            {
                "status": "sent" if delivered else "failed",
                "transport": delivered,
                "sender": sender,
                "recipients": json.dumps(recipients),
                "subject": outgoing.subject,
                "text_bytes": len(text.encode()),
                "attempts": json.dumps(attempts),
                "error": error,
            },
            None,
        )
    if delivered is None:
        raise ExternalServiceError("mail", f"The test email was not sent: {error}")
    return _send_row(ctx, send_id)


def _reason(exc: Exception) -> str:
    """What a failed send records: a library error's message; for anything else only its type
    (its text could hold anything, and the server log has the traceback)."""
    return exc.message if isinstance(exc, CRMError) else f"unexpected error ({type(exc).__name__})"


# -- history ------------------------------------------------------------------------------------
def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("recipients", "figures", "attempts"):
        row[key] = json.loads(row[key]) if row.get(key) else ([] if key != "figures" else {})
    for key in ("version", "created_at", "created_by", "updated_at", "updated_by"):
        row.pop(key, None)
    row.pop("deleted_at", None)
    row.pop("deleted_by", None)
    return row


def _send_row(ctx: Context, send_id: int) -> dict[str, Any]:
    rows = query_dicts(ctx.db, f"SELECT * FROM {SENDS} WHERE id = ? AND {LIVE}", [send_id])
    if not rows:
        raise NotFound("digest send", send_id)
    return _decoded(rows[0])


def digest_sends(ctx: Context, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest sends, newest first: when, kind, window, recipients, transport, sizes,
    figures, every transport's outcome and the error."""
    require(ctx, "manage_digest")
    if not 1 <= limit <= MAX_LIST:
        raise ValidationError(f"limit must be between 1 and {MAX_LIST}", field="limit")
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {SENDS} WHERE {LIVE} ORDER BY started_at DESC, id DESC LIMIT ?",
        [limit],
    )
    return [_decoded(r) for r in rows]
