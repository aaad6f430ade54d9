"""Which backups a retention policy keeps: grandfather-father-son, by calendar.

The newest backup of each of the last ``daily`` days that have one, of each of the last
``weekly`` ISO weeks, and of each of the last ``monthly`` months; plus, whatever the policy says,
the newest verified backup. Only good backups (integrity ok, not failed verification) count
towards the rules, so a run of failed backups can never push the last good one out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from crm_lib.errors import ValidationError

LIMITS = {"daily": 366, "weekly": 520, "monthly": 240}


@dataclass(frozen=True)
class Policy:
    daily: int = 14
    weekly: int = 8
    monthly: int = 12

    @classmethod
    def parse(cls, values: Mapping[str, Any]) -> Policy:
        """A policy from JSON, or a :class:`ValidationError` naming the bad key."""
        unknown = set(values) - set(LIMITS)
        if unknown:
            raise ValidationError(
                f"Unknown retention setting {sorted(unknown)[0]!r}; use daily, weekly, monthly",
                field=sorted(unknown)[0],
            )
        clean = asdict(cls())
        for key, value in values.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= LIMITS[key]
            ):
                raise ValidationError(
                    f"{key} must be a whole number from 0 to {LIMITS[key]}", field=key
                )
            clean[key] = value
        return cls(**clean)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Candidate:
    id: int
    started_at: datetime
    good: bool


def to_keep(backups: Iterable[Candidate], policy: Policy) -> set[int]:
    """The ids the policy keeps (everything else may be removed)."""
    newest_first = sorted(backups, key=lambda b: (b.started_at, b.id), reverse=True)
    good = [b for b in newest_first if b.good]
    keep: set[int] = {good[0].id} if good else set()
    rules = (
        (policy.daily, lambda at: at.date()),
        (policy.weekly, lambda at: at.isocalendar()[:2]),
        (policy.monthly, lambda at: (at.year, at.month)),
    )
    for count, period in rules:
        seen: list[Any] = []
        for backup in good:
            bucket = period(backup.started_at)
            if bucket in seen:
                continue
            if len(seen) >= count:
                break
            seen.append(bucket)
            keep.add(backup.id)
    return keep
