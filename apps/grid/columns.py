"""How each kind of grid column looks and edits in Tabulator: one registry entry per field type.

An entry gives the editor, the formatter, the header filter (and which filter operator it
means), and the two conversions between a stored value and a cell: ``to_cell`` (what Tabulator
holds: dates as datetimes, percents as 12.5, owners by name) and ``from_cell`` (what an edited
cell sends to the service layer). Keys of the DataFrame are field keys; titles are labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
from panel.io.model import JSCode

from apps.markup import js_literal, list_params
from crm_lib.grid.fields import FieldSpec

#: Airtable-like pill colours for select options (the service validates names or #rrggbb).
PALETTE = {
    "blue": "#cfe2ff",
    "cyan": "#cff4fc",
    "teal": "#c2f0e4",
    "green": "#d1e7dd",
    "yellow": "#fff3cd",
    "orange": "#ffe5d0",
    "red": "#f8d7da",
    "pink": "#f7d6e6",
    "purple": "#e2d9f3",
    "gray": "#e9ecef",
}
DEFAULT_ORDER = ("blue", "green", "yellow", "orange", "purple", "teal", "pink", "cyan", "red")

MONEY = {"type": "money", "symbol": "$", "precision": 0}
PERCENT = {"type": "money", "symbol": "%", "symbolAfter": True, "precision": 1}
ERROR_STYLE = "color:#b02a37"


def pills_formatter(colors: Mapping[str, str]) -> JSCode:
    """A formatter drawing a select value (or a list of them) as coloured pills. The pills are
    built as DOM nodes with the names as text, and the colour table is a JS literal from
    :func:`apps.markup.js_literal`: option names are members' text and never become markup."""
    table = js_literal({k: PALETTE.get(v, v) for k, v in colors.items()})
    return JSCode(
        "function(cell){var v=cell.getValue();if(v===null||v===undefined||v==='')return '';"
        "if(!Array.isArray(v)){v=String(v).length&&String(v)[0]==='['?JSON.parse(v):[v];}"
        f"var c={table};var out=document.createElement('span');"
        "v.forEach(function(x,i){var p=document.createElement('span');p.className='crm-pill';"
        "p.style.background=Object.prototype.hasOwnProperty.call(c,x)?c[x]:'#e9ecef';"
        "p.textContent=String(x);if(i){out.appendChild(document.createTextNode(' '));}"
        "out.appendChild(p);});return out;}"
    )


#: A formula's value as a text node (results quote what members typed), "#ERROR" in red.
FORMULA_JS = JSCode(
    "function(cell){var v=cell.getValue();if(v===null||v===undefined)return '';"
    "var d=document.createElement('span');d.textContent=String(v);"
    f"if(String(v).indexOf('#ERROR')===0){{d.setAttribute('style','{ERROR_STYLE}');"
    "d.setAttribute('title',String(v));d.textContent='#ERROR';}return d;}"
)


def _moment_formatter(length: int) -> JSCode:
    """A formatter showing a date or timestamp as ``YYYY-MM-DD`` (``length`` 10) or
    ``YYYY-MM-DD HH:MM`` (16), in UTC as stored. Panel sends datetime columns as epoch
    milliseconds and a missing one as NaN, which Tabulator's own "datetime" formatter (it expects
    text in a known format) drew as a blank and as "NaN"; stored ISO text is read too, and text
    that is not a date is shown as it is."""
    return JSCode(
        "function(cell){var v=cell.getValue();"
        "if(v===null||v===undefined||v===''||(typeof v==='number'&&isNaN(v)))return '';"
        "var d=(typeof v==='number')?new Date(v):new Date(String(v));"
        # text that is not a date is shown as it is, as a text node (never parsed as HTML)
        "if(isNaN(d.getTime())){var t=document.createElement('span');"
        "t.textContent=String(v);return t;}"
        f"return d.toISOString().slice(0,{length}).replace('T',' ');}}"
    )


#: Dates (``Last contacted``) and timestamps (created, modified, datetime fields).
DATE_JS = _moment_formatter(10)
DATETIME_JS = _moment_formatter(16)


#: The long text editor: Enter saves (as in every other cell, and as the README says),
#: Shift+Enter starts a new line, Escape cancels. Tabulator's own "textarea" editor lets Enter
#: type a newline and saves it with the text on blur, so "notes⏎" was stored with a stray
#: trailing newline; here the Enter that saves is never typed, and the text is sent exactly as
#: it stands (spaces and the newlines typed with Shift+Enter kept). The up and down arrows move
#: inside the text unless the cursor is at its start or end, and Home and End stay in it
#: ("hybrid", as Tabulator's own), so only Enter, Tab and the arrows at the edges leave the cell.
LONG_TEXT_EDITOR = JSCode(
    "function(cell,onRendered,success,cancel){var saved=cell.getValue();"
    "var box=document.createElement('textarea');"
    "box.value=(saved===null||saved===undefined)?'':String(saved);"
    "box.style.cssText='display:block;padding:2px;height:100%;width:100%;"
    "box-sizing:border-box;white-space:pre-wrap;resize:none';"
    "function unchanged(){return (saved===null||saved===undefined)?box.value==='':"
    "box.value===String(saved);}"
    "function commit(){if(unchanged()){cancel();return;}"
    "if(success(box.value)){saved=box.value;}"
    "setTimeout(function(){cell.getRow().normalizeHeight();},300);}"
    "function grow(){box.style.height='';box.style.height=box.scrollHeight+'px';"
    "cell.getRow().normalizeHeight();}"
    "onRendered(function(){box.focus({preventScroll:true});grow();});"
    "box.addEventListener('blur',commit);box.addEventListener('input',grow);"
    "box.addEventListener('keydown',function(e){"
    "if(e.key==='Enter'&&!e.isComposing){e.stopPropagation();"
    "if(!e.shiftKey){e.preventDefault();commit();}return;}"
    "if(e.key==='Escape'){cancel();return;}"
    "if((e.key==='ArrowUp'&&box.selectionStart)||(e.key==='ArrowDown'&&"
    "box.selectionStart!==box.value.length)||e.key==='Home'||e.key==='End'){"
    "e.stopPropagation();}});"
    "return box;}"
)


def _none(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT


def _plain(value: Any) -> Any:
    """A cell value as plain Python (numpy scalars would be stored as BLOBs)."""
    if hasattr(value, "item") and not isinstance(value, list | str):
        value = value.item()
    return None if _none(value) else value


@dataclass(frozen=True)
class ColumnKind:
    """Tabulator settings and value conversions for one field type."""

    editor: Any = field(default_factory=lambda: {"type": "input"})
    formatter: Any = None
    header_filter: dict[str, Any] | None = None
    filter_operator: str | None = None  # what the header filter means, as a filter operator
    to_cell: Callable[[Any], Any] = lambda v: v
    from_cell: Callable[[Any], Any] = _plain
    align: str | None = None


def _to_date(value: Any) -> Any:
    return pd.NaT if not value else pd.Timestamp(str(value)[:10])


def _from_date(value: Any) -> Any:
    value = _plain(value)
    if value is None:
        return None
    if isinstance(value, int | float):  # epoch milliseconds from the browser
        return pd.Timestamp(value, unit="ms").date().isoformat()
    return pd.Timestamp(value).date().isoformat()


def _to_percent(value: Any) -> Any:
    return None if value is None else round(float(value) * 100, 6)


def _from_percent(value: Any) -> Any:
    value = _plain(value)
    return None if value in (None, "") else f"{value}%"


TEXT_FILTER = {"type": "input", "func": "like", "placeholder": "contains"}
NUMBER_FILTER = {"type": "number", "func": ">=", "placeholder": "≥"}

KINDS: dict[str, ColumnKind] = {
    "text": ColumnKind(header_filter=TEXT_FILTER, filter_operator="contains"),
    "url": ColumnKind(header_filter=TEXT_FILTER, filter_operator="contains"),
    "email": ColumnKind(header_filter=TEXT_FILTER, filter_operator="contains"),
    "phone": ColumnKind(header_filter=TEXT_FILTER, filter_operator="contains"),
    "long_text": ColumnKind(
        editor=LONG_TEXT_EDITOR,
        formatter={"type": "textarea"},
        header_filter=TEXT_FILTER,
        filter_operator="contains",
    ),
    "number": ColumnKind(
        editor={"type": "number"},
        header_filter=NUMBER_FILTER,
        filter_operator="gte",
        align="right",
    ),
    "currency": ColumnKind(
        editor={"type": "number", "step": 1000},
        formatter=MONEY,
        header_filter=NUMBER_FILTER,
        filter_operator="gte",
        align="right",
    ),
    "percent": ColumnKind(
        editor={"type": "number", "step": 0.1},
        formatter=PERCENT,
        to_cell=_to_percent,
        from_cell=_from_percent,
        align="right",
    ),
    "date": ColumnKind(
        editor="date",
        formatter=DATE_JS,
        to_cell=_to_date,
        from_cell=_from_date,
    ),
    "datetime": ColumnKind(formatter=DATETIME_JS),
    "checkbox": ColumnKind(
        editor="tickCross",
        formatter={"type": "tickCross"},
        header_filter={"type": "tickCross", "tristate": True, "indeterminateValue": None},
        filter_operator="eq",
        to_cell=bool,
        from_cell=lambda v: bool(_plain(v)),
        align="center",
    ),
    "formula": ColumnKind(editor=None, formatter=FORMULA_JS),
}


def column_kind(spec: FieldSpec, users: Mapping[int, str] | None = None) -> ColumnKind:
    """The column settings for a field (select options and owners fill in their choices)."""
    if spec.type in ("single_select", "multi_select"):
        choices = list(spec.options.get("choices", []))
        colors = {
            choice: spec.options.get("colors", {}).get(choice)
            or DEFAULT_ORDER[index % len(DEFAULT_ORDER)]
            for index, choice in enumerate(choices)
        }
        multi = spec.type == "multi_select"
        # list_params: the names travel as one JS literal and show as text (apps/markup.py)
        editor: dict[str, Any] = {"type": "list", **list_params(choices), "clearable": True}
        if multi:
            editor.update(
                multiselect=True, autocomplete=True, freetext=bool(spec.options.get("allow_new"))
            )
        return ColumnKind(
            editor=editor,
            formatter=pills_formatter(colors),
            header_filter={
                "type": "list",
                **list_params(choices),
                "func": "in",
                "multiselect": True,
            }
            if choices
            else TEXT_FILTER,
            filter_operator="has_any_of" if choices else "contains",
            to_cell=(lambda v: list(v or [])) if multi else (lambda v: v),
            from_cell=(lambda v: list(v) if isinstance(v, list | tuple) else _plain(v))
            if multi
            else _plain,
        )
    if spec.type == "user":
        names = dict(users or {})
        ids = {name: user_id for user_id, name in names.items()}
        return ColumnKind(
            editor={"type": "list", **list_params(["", *names.values()])},
            header_filter={
                "type": "list",
                **list_params(names.values()),
                "func": "in",
                "multiselect": True,
            },
            filter_operator="has_any_of",
            to_cell=lambda v: names.get(v, "" if v is None else f"#{v}"),
            from_cell=lambda v: ids.get(_plain(v) or ""),
        )
    if spec.formula is not None:
        result = spec.options.get("result_type")
        if result == "number":
            return ColumnKind(editor=None, formatter=FORMULA_JS, align="right")
        return KINDS["formula"]
    kind = KINDS.get(spec.type, KINDS["text"])
    if not spec.is_editable:
        return replace(kind, editor=None)
    return kind
