"""Time: this machine's zone can be named and matches the shell's, the digest's zone is a real
zone, and the clock has not gone back behind the newest change in the database."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_lib.context import Context
from crm_lib.digest.policy import POLICY_KEY as DIGEST_POLICY_KEY
from crm_lib.digest.policy import box_zone_name
from crm_lib.doctor.core import Finding, Setup, check, open_crm
from crm_lib.doctor.wording import ago, minute
from crm_lib.storage.reads import LIVE, query_dicts, query_value

#: Timestamps in the database this far ahead of the clock mean the clock went backwards.
CLOCK_TOLERANCE = timedelta(minutes=10)


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _stored_digest_zone(crm: Context) -> str | None:
    rows = query_dicts(
        crm.db, f"SELECT value FROM app_settings WHERE key = ? AND {LIVE}", [DIGEST_POLICY_KEY]
    )
    if not rows:
        return None
    try:
        zone = json.loads(rows[0]["value"]).get("timezone")
    except (ValueError, AttributeError):
        return None
    return zone if isinstance(zone, str) else None


@check("time zone")
def check_time_zone(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    now = setup.clock.now()
    machine = box_zone_name(setup.localtime)
    # no /etc/localtime at all means UTC (many containers); a copied file names no zone
    if setup.localtime.exists() and "zoneinfo/" not in str(setup.localtime.resolve()):
        yield Finding(
            "warn",
            f"{setup.localtime} is not a link to a zone in /usr/share/zoneinfo: this machine's "
            "zone cannot be named, and the digest's default zone is taken as UTC",
            "set the zone with `timedatectl set-timezone Area/City` (it makes the link)",
        )
    box_offset = now.astimezone(ZoneInfo(machine)).utcoffset()
    process_offset = now.astimezone().utcoffset()
    if process_offset != box_offset:
        yield Finding(
            "warn",
            f"This shell's local time is UTC{_offset(process_offset)} but {setup.localtime} says "
            f"{machine} (UTC{_offset(box_offset)}): a TZ variable differs from the machine's zone, "
            f"and the nightly backup at {settings.nightly_backup_at} follows the server's local time",
            "unset TZ (or set the same zone) in the shell and the service's environment",
        )
    with open_crm(setup) as crm:
        stored = _stored_digest_zone(crm) if isinstance(crm, Context) else None
        newest = (
            query_value(crm.db, "SELECT max(at) FROM audit_log")
            if isinstance(crm, Context)
            else None
        )
    digest = stored or settings.digest_timezone or machine
    if _zone(digest) is None:
        yield Finding(
            "fail",
            f"The digest's time zone {digest!r} is not a time zone name like Europe/London",
            "choose the zone on the admin page (Digest)",
        )
    else:
        yield Finding(
            "ok",
            f"This machine: {machine} (nightly backup at {settings.nightly_backup_at} local); "
            f"the digest's zone: {digest}",
        )
    if newest:
        ahead = datetime.fromisoformat(newest) - now
        if ahead > CLOCK_TOLERANCE:
            yield Finding(
                "warn",
                f"The newest change in the database is dated {minute(newest)}, {ago(ahead)} "
                f"ahead of this machine's clock ({minute(now.isoformat())}): the clock went "
                "backwards, or was wrong when those changes were made",
                "sync the clock (`timedatectl set-ntp true`); until then new changes sort "
                "before older ones in history",
            )
        else:
            yield Finding("ok", f"The clock is past the newest change ({minute(newest)})")


def _offset(delta: timedelta | None) -> str:
    minutes = round((delta or timedelta()).total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
