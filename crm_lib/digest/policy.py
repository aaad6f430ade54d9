"""When the digest is sent: the policy admins set (kept in ``app_settings`` under
``digest_policy``, versioned) and the arithmetic of its daily slot.

* **enabled**: off until an admin turns it on. Turning it on records ``enabled_at``; the first
  slot counted is the first one after that moment, so enabling at 19:00 never sends at once
  for the 18:00 that already passed.
* **send_at** (``HH:MM``) in **timezone** (an IANA name; the first-boot default is
  ``CRM_DIGEST_TIMEZONE``, else this machine's zone). The slot is that wall-clock time each day,
  so 18:00 stays 18:00 across daylight-saving changes.
* **transport**: ``auto`` (Gmail, then SMTP if Gmail fails), ``gmail`` or ``smtp``.

A slot is due when it is later than ``enabled_at`` and at least :data:`MIN_GAP` after the last
digest's window end (the *cursor*). So a server that was off at 18:00 sends at its next start,
one digest covering everything since the last one; moving the send time from 18:00 to 19:00
after the 18:00 digest went, or pressing "Send digest now" at 17:00, does not send a second
digest an hour later: the next one goes the next day and covers the time since.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm_lib.config import Settings
from crm_lib.errors import ValidationError

POLICY_KEY = "digest_policy"
CURSOR_KEY = "digest_cursor"
TRANSPORTS = ("auto", "gmail", "smtp")
#: A first digest (no cursor yet) covers this much; a catch-up covers at most this many days.
FIRST_WINDOW = timedelta(days=1)
MAX_WINDOW = timedelta(days=31)
#: Two digests are never this close: a slot this soon after the last digest waits a day.
MIN_GAP = timedelta(hours=6)


def box_zone_name(localtime: Path = Path("/etc/localtime")) -> str:
    """This machine's IANA zone name (from the ``/etc/localtime`` link), else ``UTC``."""
    try:
        target = str(localtime.resolve())
    except OSError:
        return "UTC"
    _, found, name = target.partition("zoneinfo/")
    if found and _zone_or_none(name) is not None:
        return name
    return "UTC"


def _zone_or_none(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class DigestPolicy:
    enabled: bool = False
    send_at: str = "18:00"
    timezone: str = "UTC"
    transport: str = "auto"
    enabled_at: str | None = None  # set when it was last turned on; not set by hand

    @classmethod
    def seeded(cls, settings: Settings) -> DigestPolicy:
        """The first-boot default, from the environment."""
        return cls(send_at=settings.digest_at, timezone=settings.digest_timezone or box_zone_name())

    @classmethod
    def parse(cls, values: dict[str, Any]) -> DigestPolicy:
        """A policy from stored or submitted values; ``ValidationError`` names a bad one."""
        enabled = values.get("enabled", False)
        if not isinstance(enabled, bool):
            raise ValidationError("enabled must be true or false", field="enabled")
        send_at = values.get("send_at", "18:00")
        if not isinstance(send_at, str) or not _is_clock_time(send_at):
            raise ValidationError(
                f"Send time must be a time like 18:00, not {send_at!r}", field="send_at"
            )
        zone = values.get("timezone", "UTC")
        if not isinstance(zone, str) or _zone_or_none(zone) is None:
            raise ValidationError(
                f"Time zone must be a name like Europe/London, not {zone!r}", field="timezone"
            )
        transport = values.get("transport", "auto")
        if transport not in TRANSPORTS:
            raise ValidationError(
                f"Transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}",
                field="transport",
            )
        enabled_at = values.get("enabled_at")
        hours, minutes = send_at.split(":")
        return cls(enabled, f"{int(hours):02d}:{minutes}", zone, transport, enabled_at or None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def zone(self) -> tzinfo:
        return ZoneInfo(self.timezone)

    @property
    def time_of_day(self) -> time:
        return time.fromisoformat(self.send_at)


def _is_clock_time(text: str) -> bool:
    hours, sep, minutes = text.partition(":")
    return (
        bool(sep)
        and hours.isascii()
        and hours.isdigit()
        and minutes.isascii()
        and minutes.isdigit()
        and len(minutes) == 2
        and len(hours) <= 2
        and int(hours) < 24
        and int(minutes) < 60
    )


def latest_slot(at: time, zone: tzinfo, now: datetime) -> datetime:
    """The latest moment at wall-clock ``at`` in ``zone`` that is not after ``now`` (UTC).

    Wall-clock arithmetic on a ZoneInfo datetime keeps 18:00 at 18:00 across DST changes; a
    time that does not exist on a spring-forward day resolves to the instant just after.
    """
    local_now = now.astimezone(zone)
    candidate = datetime.combine(local_now.date(), at, tzinfo=zone)
    if candidate.astimezone(UTC) > now:
        candidate = datetime.combine(local_now.date() - timedelta(days=1), at, tzinfo=zone)
    return candidate.astimezone(UTC)


def next_slot(at: time, zone: tzinfo, now: datetime) -> datetime:
    """The first moment at wall-clock ``at`` in ``zone`` after ``now`` (UTC)."""
    local_now = now.astimezone(zone)
    for days in range(0, 3):
        candidate = datetime.combine(local_now.date() + timedelta(days=days), at, tzinfo=zone)
        if candidate.astimezone(UTC) > now:
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable: a day always has the time")


def due_slot(policy: DigestPolicy, cursor: datetime | None, now: datetime) -> datetime | None:
    """The slot to send now, or None: the latest slot, if the policy is on and it is later
    than both the cursor and the moment the digest was turned on."""
    if not policy.enabled:
        return None
    slot = latest_slot(policy.time_of_day, policy.zone, now)
    floor = schedule_floor(policy, cursor)
    if floor is not None and slot <= floor:
        return None
    return slot


def schedule_floor(policy: DigestPolicy, cursor: datetime | None) -> datetime | None:
    """Slots at or before this moment are not due: the moment the digest was turned on, and
    :data:`MIN_GAP` after the last digest."""
    floors = [cursor + MIN_GAP] if cursor else []
    if policy.enabled_at:
        floors.append(datetime.fromisoformat(policy.enabled_at))
    return max(floors) if floors else None


def window_for(cursor: datetime | None, until: datetime) -> datetime:
    """Where a digest sent at ``until`` starts: the cursor (at most :data:`MAX_WINDOW` back),
    else :data:`FIRST_WINDOW` back."""
    if cursor is None or cursor >= until:
        return until - FIRST_WINDOW
    return max(cursor, until - MAX_WINDOW)
