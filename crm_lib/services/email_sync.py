"""Connecting Google and syncing the team's Gmail: the service account key, which team members'
mailboxes are synced, and a sync run (see :mod:`crm_lib.mail.sync`).

The key is the JSON file of a Workspace service account with domain-wide delegation for the
``gmail.readonly`` scope. It is read from ``CRM_GOOGLE_SERVICE_ACCOUNT_FILE``, or uploaded by an
admin and kept as ``<data dir>/google-service-account.json`` with mode 0600; it is never shown
again, logged or returned (only its service account's address is).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.context import Context
from crm_lib.errors import ConfigError, NotFound, ValidationError
from crm_lib.mail import signals
from crm_lib.mail.addresses import canonical
from crm_lib.mail.gmail import GmailReader, gmail_service, reason_of
from crm_lib.mail.sync import due, sync_mailbox
from crm_lib.services.email import ensure_account
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

KEY_FILE = "google-service-account.json"
#: Builds the API client for one mailbox; tests pass one over HttpMockSequence.
ServiceFactory = Callable[[str], Any]


def key_path(ctx: Context) -> Path:
    """Where the key is: ``CRM_GOOGLE_SERVICE_ACCOUNT_FILE``, else the uploaded one."""
    return ctx.settings.google_service_account_file or ctx.settings.data_dir / KEY_FILE


def _read_key(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:  # a step not taken yet, not a broken setting: 422, not 500
        raise ValidationError(
            "Google is not connected: upload the service account key on the admin page or set"
            " CRM_GOOGLE_SERVICE_ACCOUNT_FILE",
            field="key",
        ) from None
    except (ValueError, UnicodeDecodeError, OSError):
        raise ConfigError(f"The Google key at {path} is not a readable JSON file") from None
    return _checked_key(info)


def _checked_key(info: Any) -> dict[str, Any]:
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ValidationError(
            "This is not a service account key: download the JSON key of a service account"
            " (type 'service_account') from the Google Cloud console",
            field="key",
        )
    for needed in ("client_email", "private_key", "token_uri"):
        if not isinstance(info.get(needed), str) or not info[needed]:
            raise ValidationError(f"The key has no {needed}", field="key")
    return info


def google_status(ctx: Context) -> dict[str, Any]:
    """Whether Google is connected, and as which service account (never the key)."""
    require(ctx, "read_email")
    path = key_path(ctx)
    try:
        info = _read_key(path)
    except (ConfigError, ValidationError) as exc:
        return {"connected": False, "service_account": None, "problem": exc.message}
    return {"connected": True, "service_account": info["client_email"], "problem": None}


def google_key(ctx: Context) -> dict[str, Any] | None:
    """The service account key when Google is connected, else None (for the digest's Gmail
    transport; never returned to a front end)."""
    path = key_path(ctx)
    if not path.exists():
        return None
    return _read_key(path)


def save_google_key(ctx: Context, content: str | bytes) -> dict[str, Any]:
    """Keep an uploaded key as ``<data dir>/google-service-account.json``, mode 0600 from the
    moment it exists (written to a private temporary file, then renamed into place)."""
    require(ctx, "manage_email")
    if ctx.settings.google_service_account_file:
        raise ValidationError(
            "CRM_GOOGLE_SERVICE_ACCOUNT_FILE names the key: change that file instead", field="key"
        )
    try:
        info = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError("The key is not a JSON file", field="key") from None
    info = _checked_key(info)
    target = ctx.settings.data_dir / KEY_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".key-")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(info, out)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return {"connected": True, "service_account": info["client_email"]}


def set_synced_mailboxes(ctx: Context, addresses: Iterable[str]) -> list[dict[str, Any]]:
    """Sync exactly these team members' mailboxes (others stop syncing; their mail stays)."""
    require(ctx, "manage_email")
    wanted = {}
    for address in addresses:
        key = canonical(address)
        if key is None:
            raise ValidationError(f"{address!r} is not an email address", field="mailboxes")
        wanted[address.strip().lower()] = key
    team = {
        email.lower()
        for (email,) in ctx.db.execute(f"SELECT email FROM users WHERE {LIVE}").fetchall()
    }
    strangers = sorted(set(wanted) - team)
    if strangers:
        raise ValidationError(
            f"Not a team member: {', '.join(strangers)} (only team members' mailboxes sync)",
            field="mailboxes",
        )
    for address in wanted:
        ensure_account(ctx, address, source="gmail")
    with write(ctx) as tx:
        for row in query_dicts(ctx.db, f"SELECT * FROM email_accounts WHERE {LIVE}"):
            enabled = int(row["email"].lower() in wanted)
            changes: dict[str, Any] = {"sync_enabled": enabled}
            if enabled and row["source"] != "gmail":
                changes["source"] = "gmail"
            if enabled and row["status"] == "failed":  # choosing it again restarts it
                changes.update(status="idle", throttled=0, paused_until=None)
            tx.update("email_accounts", row["id"], changes, expected_version=row["version"])
    return [a for a in query_dicts(ctx.db, f"SELECT * FROM email_accounts WHERE {LIVE}")]


def check_google(ctx: Context, address: str, *, factory: ServiceFactory | None = None) -> str:
    """Read one team member's Gmail profile with the key: what the admin page's test shows."""
    require(ctx, "manage_email")
    try:
        service = (factory or _factory(ctx))(address.strip().lower())
        profile = GmailReader(service).profile()
    except (ConfigError, ValidationError):
        raise
    except Exception as exc:
        return f"Failed: {reason_of(exc)}"
    return f"Connected: {address} has {int(profile.get('messagesTotal', 0)):,} messages"


def sync_email(
    ctx: Context,
    account: str | None = None,
    *,
    factory: ServiceFactory | None = None,
    window_days: int = 365,
    sleep: Callable[[float], None] | None = None,
) -> list[dict[str, Any]]:
    """Sync every due mailbox (or only ``account``, even if it is paused or failed)."""
    require(ctx, "manage_email")
    if account is not None:
        rows = query_dicts(
            ctx.db,
            f"SELECT * FROM email_accounts WHERE lower(email) = ? AND source = 'gmail' AND {LIVE}",
            [account.strip().lower()],
        )
        if not rows:
            raise NotFound("Gmail mailbox", account)
        rows[0]["paused_until"] = None
    else:
        rows = due(ctx, ctx.clock.now())
    if not rows:
        with write(ctx) as tx:  # counts of the last 30 and 90 days move on with time
            signals.refresh_all(tx, ctx.clock.now())
        return []
    build = factory or _factory(ctx)
    results = []
    for row in rows:
        try:
            service = build(row["email"])
        except Exception as exc:
            results.append({"account": row["email"], "status": "failed", "error": reason_of(exc)})
            continue
        reader = GmailReader(service, **({"sleep": sleep} if sleep else {}))
        results.append(sync_mailbox(ctx, row, reader, window_days=window_days).as_dict())
    with write(ctx) as tx:  # deletions, and counts of the last 30 and 90 days, move on
        signals.refresh_all(tx, ctx.clock.now())
    return results


def _factory(ctx: Context) -> ServiceFactory:
    info = _read_key(key_path(ctx))
    return lambda address: gmail_service(info, address)
