"""What the grid reads out around its table: the line that says what narrows and orders it (the
view's filters, the header filters, the search and the sorts, as a person would say them:
"Stage is any of Committed · Location contains Boston · sorted by Name, A → Z"), the footer's
totals over the whole view, and the header of each group of a grouped view.

A grid whose filters are invisible is how a team concludes that an investor "disappeared". The
line is built from the same data the query is (the store), so it can never disagree with what
the grid shows; names come through :func:`apps.markup.escape_text` where they become HTML.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from apps.formatting import blank, choice_labels, money, number, percent, plural, text
from apps.grid.store import GridStore
from apps.markup import escape_text
from crm_lib.grid.fields import FieldSpec
from crm_lib.services import ViewTotals
from crm_lib.services.views import GROUPABLE_TYPES

#: The indicator's look (the HTML pane renders in its own shadow root, so it carries it).
ACTIVE_CSS = """
.crm-active-label { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm); }
.crm-chip { display: inline-block; margin: 2px 4px 2px 0; padding: 1px var(--crm-space-2);
  border-radius: var(--crm-radius-pill); background: var(--crm-color-primary-subtle);
  color: var(--crm-color-primary-text); font-size: var(--crm-font-size-sm); }
"""
#: How many values of one condition are named before "and N more".
VALUES_SHOWN = 3


def _value_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        shown = [text(v) or "blank" for v in value[:VALUES_SHOWN]]
        more = len(value) - VALUES_SHOWN
        return ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return text(value)


def condition_text(store: GridStore, field: str, operator: str, value: Any) -> str:
    """One condition in words: "Location contains Boston"."""
    spec = store.fields.get(field)
    label = spec.label if spec is not None else field
    ops = {o["name"]: o["label"] for o in store.operators.get(field, [])}
    words = ops.get(operator, operator.replace("_", " "))
    shown = _value_text(value)
    return f"{label} {words} {shown}".strip()


def _tree_texts(store: GridStore, group: Mapping[str, Any]) -> list[str]:
    texts = []
    for item in group.get("conditions", []):
        if "conditions" in item:
            inner = _tree_texts(store, item)
            if inner:
                joiner = f" {item.get('op', 'and')} "
                texts.append("(" + joiner.join(inner) + ")")
        elif item.get("field"):
            texts.append(condition_text(store, item["field"], item["operator"], item.get("value")))
    return texts


def active_parts(store: GridStore) -> tuple[list[str], list[str]]:
    """(filters, sorts) in words: what the page's query applies now."""
    view = store.view
    tree = view.get("filters") or {}
    filters = _tree_texts(store, tree)
    if len(filters) > 1 and tree.get("op") == "or":
        filters = ["(" + " or ".join(filters) + ")"]
    if "only_ids" in view:  # "Open in grid" from the Ask page
        count = len(view["only_ids"])
        filters.insert(0, f"the {count:,} investor{'s' if count != 1 else ''} of an answer")
    filters += [condition_text(store, f, op, v) for f, op, v in store.header_conditions]
    if store.search:
        filters.append(f"search “{store.search}”")
    sorts: Sequence[Mapping[str, str]] = store.header_sorts or view.get("sorts") or []
    sort_texts = []
    for sort in sorts:
        spec = store.fields.get(sort["field"])
        arrow = "Z → A" if sort.get("direction", "asc") == "desc" else "A → Z"
        sort_texts.append(f"{spec.label if spec else sort['field']}, {arrow}")
    return filters, sort_texts


def active_html(store: GridStore) -> str:
    """The indicator as HTML (empty when nothing filters or sorts the grid beyond its list)."""
    filters, sorts = active_parts(store)
    parts = []
    if filters:
        chips = "".join(f'<span class="crm-chip">{escape_text(t)}</span>' for t in filters)
        parts.append(f'<span class="crm-active-label">Filtered by</span> {chips}')
    if sorts:
        chips = "".join(f'<span class="crm-chip">{escape_text(t)}</span>' for t in sorts)
        parts.append(f'<span class="crm-active-label">Sorted by</span> {chips}')
    return " ".join(parts)


def totals_text(store: GridStore, totals: ViewTotals) -> str:
    """The footer's sums over the whole view, in the grid's column order: "Ticket $1,200,000
    · Fund III $30,000,000 · Odds average 35%" (fields with no values are left out)."""
    parts = []
    hidden = set(store.view.get("hidden_fields") or [])
    for column in store.columns:
        if column.key in hidden:
            continue
        key = column.field_key
        if key in totals.sums and totals.filled.get(key):
            spec = store.fields[key]
            amount = totals.sums[key]
            shown = (
                money(amount, str(spec.options.get("currency") or "USD"))
                if spec.type == "currency"
                else number(amount)
            )
            parts.append(f"{column.title} {shown}")
        elif key in totals.averages:
            parts.append(f"{column.title} average {percent(totals.averages[key])}")
        elif column.fund_id is not None and totals.fund_sums.get(column.fund_id):
            fund = next((f for f in store.funds if f["id"] == column.fund_id), {})
            amount = totals.fund_sums[column.fund_id]
            parts.append(f"{column.title} {money(amount, fund.get('currency') or 'USD')}")
    return ("Totals: " + " · ".join(parts)) if parts else ""


def groupable(spec: FieldSpec) -> bool:
    """Can the grid group by this field (one value per row)?"""
    return spec.type in GROUPABLE_TYPES and spec.formula is None


def group_headers(store: GridStore, totals: ViewTotals) -> dict[str, str]:
    """Each group's header text ("Stage: Committed · 12 investors"), keyed by the group's value
    as the browser prints the cell value (Tabulator groups the page by that value)."""
    key = store.view.get("group_by")
    if not key or key not in store.fields:
        return {}
    column = store.column(key)
    spec = store.fields[key]
    labels = choice_labels(key) if spec.type == "single_select" else {}
    headers = {}
    for stored, count in totals.groups.items():
        cell = column.kind.to_cell(stored)
        shown = "(blank)" if blank(stored) else labels.get(stored) or text(cell)
        if spec.type == "percent" and not blank(stored):
            shown = percent(stored)
        elif spec.type == "currency" and not blank(stored):
            shown = money(stored, str(spec.options.get("currency") or "USD"))
        headers[_browser_text(cell)] = f"{spec.label}: {shown} · {plural(count, 'investor')}"
    return headers


def _browser_text(cell: Any) -> str:
    """``String(value)`` in the browser for a cell value as Panel sends it: dates as epoch
    milliseconds, whole floats without ".0", booleans in lower case, blanks as "null"."""
    if blank(cell):
        return "null"
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, pd.Timestamp | datetime):
        return str(int(pd.Timestamp(cell).value // 1_000_000))
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)
