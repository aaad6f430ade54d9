"""A rule as data, checked, and as the sentence people read: "When <trigger>, if <conditions>,
then <actions>." Conditions are the saved views' filter tree (nested AND/OR groups of field,
operator, value) or ``{"view_id": n}`` ("matches view X"); None means every investor.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from crm_lib.automations.actions import ACTIONS, parse_actions
from crm_lib.automations.triggers import parse_trigger, trigger_of
from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.fields import load_fields
from crm_lib.grid.filters import compile_tree
from crm_lib.limits import check_text
from crm_lib.services.views import get_view

JSON_COLUMNS = ("trigger", "conditions", "actions")


def parse_conditions(ctx: Context, value: Any) -> Any:
    """Conditions as stored: None, ``{"view_id": n}`` (a view the caller can see), or a filter
    tree the grid's compiler accepts (checked by compiling it)."""
    if value in (None, {}, []):
        return None
    if isinstance(value, Mapping) and set(value) == {"view_id"}:
        view_id = value["view_id"]
        if isinstance(view_id, bool) or not isinstance(view_id, int):
            raise ValidationError("view_id must be a saved view's id", field="conditions")
        get_view(ctx, view_id)  # NotFound when it is not there (or not the caller's to use)
        return {"view_id": view_id}
    if not isinstance(value, Mapping):
        raise ValidationError("Conditions are a filter tree or {'view_id': n}", field="conditions")
    compile_tree(load_fields(ctx.db), value, today=today(ctx.clock))
    return dict(value)


def parse_rule(ctx: Context, values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """A rule's stored columns from what a caller sent (``name``, ``enabled``, ``trigger``,
    ``conditions``, ``actions``), each checked; JSON columns as text."""
    known = {"name", "enabled", *JSON_COLUMNS}
    unknown = set(values) - known
    if unknown:
        raise ValidationError(
            f"Unknown rule settings: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    stored: dict[str, Any] = {}
    if "name" in values or creating:
        name = " ".join(str(values.get("name") or "").split())
        if not name:
            raise ValidationError("A rule needs a name", field="name")
        stored["name"] = check_text(name, "text", field="name", label="Name")
    if "enabled" in values:
        if not isinstance(values["enabled"], bool):
            raise ValidationError("enabled is true or false", field="enabled")
        stored["enabled"] = int(values["enabled"])
    if "trigger" in values or creating:
        stored["trigger"] = json.dumps(parse_trigger(values.get("trigger")))
    if "conditions" in values:
        stored["conditions"] = json.dumps(parse_conditions(ctx, values["conditions"]))
    if "actions" in values or creating:
        stored["actions"] = json.dumps(parse_actions(ctx, values.get("actions")))
    return stored


def decode_rule(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored rule with its JSON columns read, ``enabled`` a boolean and its ``sentence``."""
    rule = dict(row)
    for key in JSON_COLUMNS:
        if isinstance(rule.get(key), str):
            rule[key] = json.loads(rule[key])
    rule["enabled"] = bool(rule["enabled"])
    rule["time_based"] = trigger_of(rule["trigger"]).time_based
    rule["sentence"] = sentence(rule)
    return rule


def _conditions_words(conditions: Any, view_name: str | None) -> str:
    if not conditions:
        return ""
    if "view_id" in conditions:
        return f"it is in the view “{view_name or conditions['view_id']}”"

    def words(node: Mapping[str, Any]) -> str:
        if "conditions" in node:
            joined = f" {str(node.get('op', 'and')).lower()} ".join(
                words(child) for child in node["conditions"]
            )
            return f"({joined})" if len(node["conditions"]) > 1 else joined
        value = node.get("value")
        shown = "" if value is None else f" “{value}”"
        return f"{node['field']} {str(node['operator']).replace('_', ' ')}{shown}"

    return words(conditions)


def sentence(rule: Mapping[str, Any], view_name: str | None = None) -> str:
    """The rule as it reads: "When …, if …, then …."."""
    trigger = trigger_of(rule["trigger"]).describe(rule["trigger"])
    condition = _conditions_words(rule.get("conditions"), view_name)
    actions = [ACTIONS[a["kind"]].describe(a) for a in rule["actions"]]
    then = ", ".join(actions[:-1]) + (" and " if len(actions) > 1 else "") + actions[-1]
    return f"When {trigger}{f', if {condition}' if condition else ''}, then {then}."
