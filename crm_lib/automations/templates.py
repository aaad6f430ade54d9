"""Ready-made rules a team starts from (created disabled: dry-run them, then turn them on)."""

from __future__ import annotations

from typing import Any

TEMPLATES: dict[str, dict[str, Any]] = {
    "graveyard_after_silence": {
        "name": "Graveyard after 180 days without a two-way touch",
        "trigger": {"kind": "no_two_way_touch", "days": 180},
        "conditions": {
            "op": "and",
            "conditions": [
                {"field": "list_membership", "operator": "ne", "value": "graveyard"},
                {"field": "total_invested", "operator": "lte", "value": 0},
            ],
        },
        "actions": [{"kind": "move_to_list", "list": "graveyard"}],
    },
    "follow_up_no_reply": {
        "name": "Follow up 14 days after our last email with no reply",
        "trigger": {"kind": "no_reply", "days": 14},
        "conditions": {"field": "list_membership", "operator": "ne", "value": "graveyard"},
        "actions": [
            {
                "kind": "create_task",
                "title": "Follow up with {investor}",
                "assignee": "closest",
                "due_in_days": 0,
            }
        ],
    },
    "main_on_commitment": {
        "name": "Move to main when a commitment is recorded",
        "trigger": {"kind": "commitment_recorded"},
        "conditions": None,
        "actions": [{"kind": "move_to_list", "list": "main"}],
    },
}
