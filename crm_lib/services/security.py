"""The go-live checklist as data: each security check, whether it passes, and what to do if not.

Shown to admins on the admin page and by ``GET /api/security/status``; SECURITY.md explains each
item. Nothing here reveals a secret: the key check says only whether the key is set and strong.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from crm_lib.auth.permissions import require
from crm_lib.auth.secret_key import weakness
from crm_lib.context import Context
from crm_lib.storage.reads import LIVE, query_value

RECENT_BACKUP = timedelta(hours=26)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    passed: bool
    detail: str


def security_status(ctx: Context) -> dict[str, Any]:
    """Every check with ``passed`` and a one-line detail; ``ok`` when all pass. Admins only."""
    require(ctx, "view_security")
    settings = ctx.settings
    checks = [
        _secret(settings.secret_key),
        Check(
            "production_mode",
            "Production mode",
            settings.production,
            "CRM_ENV=production"
            if settings.production
            else "CRM_ENV is 'development': set CRM_ENV=production on the server",
        ),
        _public_url(settings.public_url),
        _cors(settings.cors_origins),
        _admins(ctx),
        Check(
            "rate_limits",
            "Login and write rate limits",
            settings.rate_limits,
            f"on: back-off after {settings.login_max_failures} failed logins, "
            f"{settings.write_rate_per_minute} API writes/min per user"
            if settings.rate_limits
            else "CRM_RATE_LIMITS=off: turn them on",
        ),
        _backups(ctx),
    ]
    return {"ok": all(c.passed for c in checks), "checks": [asdict(c) for c in checks]}


def _secret(key: str) -> Check:
    problem = weakness(key)
    return Check(
        "secret_key",
        "Secret key",
        problem is None,
        "CRM_SECRET_KEY is set and strong" if problem is None else problem,
    )


def _public_url(url: str) -> Check:
    parsed = urlparse(url)
    ok = parsed.scheme == "https" and bool(parsed.hostname)
    detail = (
        f"{url} (TLS from your reverse proxy)"
        if ok
        else "CRM_PUBLIC_URL is not an https:// address: put the CRM behind a TLS proxy (Caddy) "
        "or reach it only over a private network (Tailscale)"
    )
    return Check("https_public_url", "HTTPS public URL", ok, detail)


def _cors(origins: tuple[str, ...]) -> Check:
    if not origins:
        return Check("cors", "Cross-origin API access", True, "same origin only")
    if "*" in origins:
        return Check("cors", "Cross-origin API access", False, "CRM_CORS_ORIGIN must not be '*'")
    bad = [o for o in origins if urlparse(o).scheme != "https"]
    if bad:
        return Check("cors", "Cross-origin API access", False, f"not https: {', '.join(bad)}")
    return Check("cors", "Cross-origin API access", True, "allowed: " + ", ".join(origins))


def _admins(ctx: Context) -> Check:
    count = int(
        query_value(
            ctx.db,
            "SELECT count(*) FROM users WHERE role = 'admin' AND is_active = 1"
            f" AND password_hash IS NOT NULL AND {LIVE}",
        )
    )
    if count == 0:
        detail = "no admin can log in: run `crm create-admin EMAIL`"
    elif count == 1:
        detail = "1 admin: invite a second so that one lost password cannot lock the team out"
    else:
        detail = f"{count} admins"
    return Check("admin_count", "Admins", count >= 2, detail)


def _backups(ctx: Context) -> Check:
    folder = ctx.settings.backup_dir
    newest = (
        max((p.stat().st_mtime for p in folder.glob("*") if p.is_file()), default=None)
        if folder.is_dir()
        else None
    )
    if newest is None:
        return Check("backups_recent", "Recent backup", False, f"no backups in {folder} yet")
    age = ctx.clock.now() - datetime.fromtimestamp(newest, UTC)
    hours = age.total_seconds() / 3600
    return Check(
        "backups_recent",
        "Recent backup",
        age <= RECENT_BACKUP,
        f"newest backup is {hours:.0f} h old (limit {RECENT_BACKUP.total_seconds() / 3600:.0f} h)",
    )
