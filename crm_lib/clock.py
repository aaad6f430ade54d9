"""Time as a dependency: the library never calls ``datetime.now()`` directly.

Tests and deterministic jobs pass a :class:`FixedClock`; everything else uses :class:`SystemClock`.
Timestamps are stored as ISO-8601 UTC text with microseconds, which sorts correctly as text and
which DuckDB and pandas parse without hints.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock (UTC, timezone-aware)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: reproducible tests and demo data."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        """Move forward, e.g. ``clock.advance(days=1)``."""
        self._now += timedelta(**delta)


def timestamp(moment: datetime) -> str:
    """The storage form of a moment: ``2026-11-25T09:30:00.000000+00:00``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def today(clock: Clock) -> date:
    """The current UTC date according to ``clock``."""
    return clock.now().date()
