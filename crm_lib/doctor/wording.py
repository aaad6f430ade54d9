"""How findings word times: an age ("5 h", "3.2 days") and a stored timestamp to the minute."""

from __future__ import annotations

from datetime import timedelta


def ago(delta: timedelta) -> str:
    """``delta`` as a reader sizes it up: minutes under an hour, hours under two days, then days."""
    hours = delta.total_seconds() / 3600
    if hours < 1:
        return f"{max(0, round(hours * 60))} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.1f} days"


def minute(text: str) -> str:
    """A stored ISO timestamp (UTC) to the minute, as "2024-05-01 14:03 UTC"."""
    return text[:16].replace("T", " ") + " UTC"
