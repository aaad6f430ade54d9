"""What the header menu and the column drags do to a view: a new view dict, never a mutation.

The view's columns are data (``hidden_fields``, ``frozen_fields``, ``widths``, ``field_order``,
validated by :mod:`crm_lib.services.views` when saved); these functions only compute the next
value, so the page applies and saves it in one place and the rules can be tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: Column widths a view accepts (crm_lib.services.views checks the same bounds).
MIN_WIDTH, MAX_WIDTH = 40, 2000
#: The column that is never hidden: without it a row cannot be told apart.
ALWAYS_SHOWN = "name"


def resized(view: Mapping[str, Any], field: str, width: float) -> dict[str, Any]:
    widths = dict(view.get("widths") or {})
    widths[field] = max(MIN_WIDTH, min(MAX_WIDTH, round(width)))
    return {**view, "widths": widths}


def reordered(view: Mapping[str, Any], shown: Sequence[str], known: Sequence[str]) -> dict:
    """The order the user dragged the columns into (``shown``: the browser's columns, which
    include hidden and non-field ones); columns not shown keep their place after them."""
    order = [key for key in shown if key in known]
    order += [key for key in known if key not in order]
    return {**view, "field_order": order}


def hidden(view: Mapping[str, Any], field: str) -> dict[str, Any]:
    if field == ALWAYS_SHOWN:
        return dict(view)
    keys = [k for k in view.get("hidden_fields") or [] if k != field]
    frozen = [k for k in view.get("frozen_fields") or [] if k != field]
    return {**view, "hidden_fields": [*keys, field], "frozen_fields": frozen}


def frozen_to(view: Mapping[str, Any], field: str, columns: Sequence[str]) -> dict[str, Any]:
    """Freeze every shown column from the left edge up to ``field`` (as a spreadsheet's
    "freeze up to here": frozen columns always sit together on the left)."""
    hidden_keys = set(view.get("hidden_fields") or [])
    if field not in columns:
        return dict(view)
    upto = columns[: columns.index(field) + 1]
    return {**view, "frozen_fields": [k for k in upto if k not in hidden_keys]}


def unfrozen(view: Mapping[str, Any], field: str) -> dict[str, Any]:
    return {**view, "frozen_fields": [k for k in view.get("frozen_fields") or [] if k != field]}
