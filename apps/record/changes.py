"""One audit-log row in words, the same on the record panel, the record page's history and
activity, and the import preview: "Status: Contacted → Meeting", lists joined, blanks as a
dash, stored keys (the List field's "follow_up") as their labels."""

from __future__ import annotations

import json
from typing import Any

from apps.formatting import choice_labels, label


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, float) and value.is_integer():
        return f"{value:,.0f}"
    return str(value)


def stored_value_text(value: Any) -> str:
    """A stored value as a person reads it (history rows, import diffs): lists stored as JSON
    joined, blanks as a dash, images of whole rows left out."""
    if isinstance(value, dict):
        return ""
    if isinstance(value, str) and value.startswith("["):
        try:
            return _shown(json.loads(value))
        except ValueError:
            return value
    return _shown(value)


def change_text(entry: dict[str, Any], labels: dict[str, str]) -> str:
    """One history row in words: "Status: Contacted → Meeting", or "created person"."""
    entity = entry["entity"].replace("fundraising_", "").replace("contacts", "person")
    entity = entity.rstrip("s")
    if entry["action"] == "update" and entry["field"]:
        title = labels.get(entry["field"], entry["field"])
        if entity != "investor":
            title = f"{entity} {title}"
        old, new = stored_value_text(entry["old_value"]), stored_value_text(entry["new_value"])
        if entity == "investor":  # choices stored as keys read as their labels
            keys = choice_labels(entry["field"])
            old, new = keys.get(old, old), keys.get(new, new)
        elif entry["field"] == "status":
            old, new = label("commitment_status", old), label("commitment_status", new)
        return f"{title}: {old or '—'} → {new or '—'}"
    return f"{entry['action']}d {entity}"  # created, archived, restored ... investor
