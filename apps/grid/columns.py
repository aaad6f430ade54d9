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

from apps.formatting import (
    CHECK_FORMATTER,
    choice_labels,
    money_formatter,
    percent_formatter,
    pill_token,
)
from apps.formatting import pills_formatter as labelled_pills
from apps.markup import list_params
from crm_lib.grid.fields import FieldSpec

#: Colour names a select's options may be given (fields' "colors" option, as
#: ``crm_lib.services.fields.COLORS``), as design tokens; a typed ``#rrggbb`` stays as it is.
PALETTE = {
    name: pill_token(name)
    for name in (
        "blue",
        "cyan",
        "teal",
        "green",
        "yellow",
        "orange",
        "red",
        "pink",
        "purple",
        "gray",
    )
}
DEFAULT_ORDER = ("blue", "green", "yellow", "orange", "purple", "teal", "pink", "cyan", "red")

#: Amounts as :func:`apps.formatting.money` writes them; a currency field names its currency.
MONEY = money_formatter("USD")
#: Percent cells hold the percentage (12.5, what the editor edits), drawn "12.5%".
PERCENT = percent_formatter(scale=1)
ERROR_STYLE = "color:var(--crm-color-danger-text)"


def pills_formatter(colors: Mapping[str, str], labels: Mapping[str, str] | None = None) -> JSCode:
    """A formatter drawing a select value (or a list of them) as coloured pills showing their
    labels (:func:`apps.formatting.pills_formatter`, which builds them as DOM nodes with the
    names as text); colours are palette names, their tokens or ``#rrggbb``
    (:func:`apps.formatting.pill_pair` gives each its text colour)."""
    return labelled_pills(colors, labels)


#: A formula's value as a text node (results quote what members typed), "#ERROR" in red.
FORMULA_JS = JSCode(
    "function(cell){var v=cell.getValue();if(v===null||v===undefined)return '';"
    "var d=document.createElement('span');d.textContent=String(v);"
    f"if(String(v).indexOf('#ERROR')===0){{d.setAttribute('style','{ERROR_STYLE}');"
    "d.setAttribute('title',String(v));d.textContent='#ERROR';}return d;}"
)


def _moment_formatter(local: bool, overdue: bool = False) -> JSCode:
    """A formatter showing a date as ``YYYY-MM-DD`` (``local`` False: a date has no zone, and
    Panel sends it as midnight UTC) or a timestamp as ``YYYY-MM-DD HH:MM`` in the browser's
    timezone (``local`` True), with the exact time and the zone on hover, as
    :func:`apps.formatting.table_time` and :func:`apps.formatting.when` write them. Panel sends
    datetime columns as epoch milliseconds and a missing one as NaN, which Tabulator's own
    "datetime" formatter (it expects text in a known format) drew as a blank and as "NaN";
    stored ISO text is read too, and text that is not a date is shown as it is."""
    parts = (
        "var y=d.getFullYear(),m=d.getMonth()+1,a=d.getDate(),h=d.getHours(),n=d.getMinutes();"
        if local
        else "var y=d.getUTCFullYear(),m=d.getUTCMonth()+1,a=d.getUTCDate(),h=0,n=0;"
    )
    shown = "s=s+' '+p(h)+':'+p(n);" if local else ""
    # a due date before the viewer's today is overdue: danger-coloured, and said on hover
    late = (
        "var t=new Date(),u=String(t.getFullYear())+'-'+p(t.getMonth()+1)+'-'+p(t.getDate());"
        f"if(s.slice(0,10)<u){{e.setAttribute('style','{ERROR_STYLE};font-weight:600');"
        "e.title=s+' (overdue)';e.setAttribute('data-overdue','1');}"
        if overdue
        else ""
    )
    hover = (
        "var z='';try{z=Intl.DateTimeFormat(undefined,{timeZoneName:'short'}).formatToParts(d)"
        ".filter(function(x){return x.type==='timeZoneName';})[0].value;}catch(e){}"
        "e.title=s+(z?' '+z:'');"
        if local
        else ""
    )
    return JSCode(
        "function(cell){var v=cell.getValue();"
        "if(v===null||v===undefined||v===''||(typeof v==='number'&&isNaN(v)))return '';"
        "var d=(typeof v==='number')?new Date(v):new Date(String(v));"
        "var e=document.createElement('span');"
        # text that is not a date is shown as it is, as a text node (never parsed as HTML)
        "if(isNaN(d.getTime())){e.textContent=String(v);return e;}"
        "function p(x){return (x<10?'0':'')+x;}"
        f"{parts}var s=String(y)+'-'+p(m)+'-'+p(a);{shown}{hover}e.textContent=s;{late}return e;}}"
    )


#: Dates (``Last contacted``) and timestamps (created, modified, datetime fields).
DATE_JS = _moment_formatter(local=False)
DATETIME_JS = _moment_formatter(local=True)
#: Due dates (``Next task due``): a date before today is highlighted as overdue.
DUE_JS = _moment_formatter(local=False, overdue=True)


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
    #: Starting width in pixels (a view's saved width wins). Given up front, so Tabulator draws
    #: the columns at once instead of measuring every cell of the page first (measured: the
    #: grid's first draw 2.95 s -> 1.25 s at 100k investors, bench/bench_ui.py).
    width: int = 170


def to_date(value: Any) -> Any:
    """A stored date as a cell: a Timestamp, NaT when blank (a frame column of them is
    datetime64, which Tabulator's date editor and Panel's patches need)."""
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
    "url": ColumnKind(header_filter=TEXT_FILTER, filter_operator="contains", width=190),
    "email": ColumnKind(header_filter=TEXT_FILTER, filter_operator="contains", width=210),
    "phone": ColumnKind(header_filter=TEXT_FILTER, filter_operator="contains", width=150),
    "long_text": ColumnKind(
        editor=LONG_TEXT_EDITOR,
        formatter={"type": "textarea"},
        header_filter=TEXT_FILTER,
        filter_operator="contains",
        width=240,
    ),
    "number": ColumnKind(
        editor={"type": "number"},
        header_filter=NUMBER_FILTER,
        filter_operator="gte",
        align="right",
        width=120,
    ),
    "currency": ColumnKind(
        editor={"type": "number", "step": 1000},
        formatter=MONEY,
        header_filter=NUMBER_FILTER,
        filter_operator="gte",
        align="right",
        width=150,
    ),
    "percent": ColumnKind(
        editor={"type": "number", "step": 0.1},
        formatter=PERCENT,
        to_cell=_to_percent,
        from_cell=_from_percent,
        align="right",
        width=110,
    ),
    "date": ColumnKind(
        editor="date",
        formatter=DATE_JS,
        to_cell=to_date,
        from_cell=_from_date,
        width=130,
    ),
    "datetime": ColumnKind(formatter=DATETIME_JS, width=170),
    "checkbox": ColumnKind(
        editor="tickCross",
        formatter=CHECK_FORMATTER,
        header_filter={"type": "tickCross", "tristate": True, "indeterminateValue": None},
        filter_operator="eq",
        to_cell=bool,
        from_cell=lambda v: bool(_plain(v)),
        align="center",
        width=100,
    ),
    "formula": ColumnKind(editor=None, formatter=FORMULA_JS, width=160),
}


def choice_colors(spec: FieldSpec) -> dict[str, str]:
    """``choice -> CSS colour`` of a select field: the colour set for it, else the next of
    the default order (the grid, the record panel and the record page draw the same pills)."""
    chosen = spec.options.get("colors", {})
    return {
        choice: PALETTE.get(color, color)
        for index, choice in enumerate(spec.options.get("choices", []))
        if (color := chosen.get(choice) or DEFAULT_ORDER[index % len(DEFAULT_ORDER)])
    }


def column_kind(spec: FieldSpec, users: Mapping[int, str] | None = None) -> ColumnKind:
    """The column settings for a field (select options and owners fill in their choices)."""
    if spec.type in ("single_select", "multi_select"):
        choices = list(spec.options.get("choices", []))
        colors = choice_colors(spec)
        multi = spec.type == "multi_select"
        labels = choice_labels(spec.key)  # choices stored as keys ("follow_up") read as labels
        # list_params: the names travel as one JS literal and show as text (apps/markup.py)
        items = [{"label": labels[c], "value": c} if c in labels else c for c in choices]
        editor: dict[str, Any] = {"type": "list", **list_params(items), "clearable": True}
        if multi:
            editor.update(
                multiselect=True, autocomplete=True, freetext=bool(spec.options.get("allow_new"))
            )
        return ColumnKind(
            editor=editor,
            formatter=pills_formatter(colors, labels),
            header_filter={
                "type": "list",
                **list_params(items),
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
            width=220 if multi else 160,
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
            width=150,
        )
    if spec.formula is not None:
        result = spec.options.get("result_type")
        if result == "number":
            return ColumnKind(editor=None, formatter=FORMULA_JS, align="right", width=140)
        return KINDS["formula"]
    kind = KINDS.get(spec.type, KINDS["text"])
    if spec.type == "currency" and spec.options.get("currency"):
        kind = replace(kind, formatter=money_formatter(str(spec.options["currency"])))
    if spec.type == "date" and spec.options.get("overdue"):
        kind = replace(kind, formatter=DUE_JS)
    if not spec.is_editable:
        return replace(kind, editor=None)
    return kind
