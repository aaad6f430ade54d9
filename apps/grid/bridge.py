"""The grid's browser side beyond what Panel's Tabulator syncs: the column header menu, column
widths and order dragged by the user, a pasted range, the selection's figures, and edits kept
in the browser while the server cannot be reached.

One small component under the table, which is also the grid's footer (row count, what is
selected, sums over the whole view, and the connection state). It finds the grid's Tabulator
through Tabulator's own registry (Panel gives no handle on it), listens to the table's events,
and sends the page one message per user action (:class:`GridBridge` ``on_message``). The
header menu and the paste come from the table's configuration (:data:`TABLE_OPTIONS`): they
raise window events this component forwards, so nothing else reaches into the table.

Unsaved edits: every cell edit is kept in the browser's local storage (per user) until the page
says it is settled (saved, refused or a conflict). An edit typed while the connection is down
never reaches the server; when the connection comes back (the same session, or a new page after
a reload or a server restart) the kept edits are sent again with the versions they were made
on, so someone else's change in between is a conflict, and an edit that did reach the server is
recognised by its value and never applied twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import param
from panel.custom import JSComponent
from panel.io.model import JSCode

#: Window events between the table's configuration and the bridge.
COMMAND_EVENT = "crm-grid-command"
PASTE_EVENT = "crm-grid-paste"
#: The grid's leading column (apps.grid.store.OPEN): how the bridge tells the grid's table from
#: the other tables of the page.
GRID_MARKER = "open"

#: The column header menu: sorting acts in the browser (Panel syncs the sorters); the rest is
#: sent to the page. ``window.crmGrid`` (set by the bridge) says which columns are fields.
HEADER_MENU = JSCode(
    "function(e, column){"
    "var f=column.getField();"
    "var g=window.crmGrid||{fields:{},frozen:[],groupable:[],groupBy:null,canEditFields:false};"
    "if(!f||f==='" + GRID_MARKER + "'||f==='_index')return [];"
    "function send(a){return function(){window.dispatchEvent(new CustomEvent('"
    + COMMAND_EVENT
    + "',"
    "{detail:{action:a,field:f}}));};}"
    "var items=[];var isField=Object.prototype.hasOwnProperty.call(g.fields,f);"
    "if(isField){"
    "items.push({label:'Sort A → Z',action:function(){column.getTable().setSort(f,'asc');}});"
    "items.push({label:'Sort Z → A',action:function(){column.getTable().setSort(f,'desc');}});"
    "items.push({label:'Filter by this field…',action:send('filter')});"
    "items.push({separator:true});}"
    "if(f!=='name'){items.push({label:'Hide field',action:send('hide')});}"
    "if(g.groupBy===f){items.push({label:'Ungroup',action:send('ungroup')});}"
    "else if(g.groupable.indexOf(f)>=0){items.push({label:'Group by this field',action:send('group')});}"
    "var frozen=g.frozen.indexOf(f)>=0;"
    "items.push({label:frozen?'Unfreeze':'Freeze up to here',action:send(frozen?'unfreeze':'freeze')});"
    "if(isField&&g.canEditFields){items.push({separator:true});"
    "items.push({label:'Edit field…',action:send('edit')});"
    "items.push({label:'Insert field left',action:send('insert_left')});"
    "items.push({label:'Insert field right',action:send('insert_right')});}"
    "return items;}"
)

#: A paste goes to the bridge (which knows the selected range), not cell by cell into the table.
PASTE_PARSER = JSCode(
    "function(text){window.dispatchEvent(new CustomEvent('" + PASTE_EVENT + "',"
    "{detail:{text:text,table:this.table}}));return false;}"
)

#: The header menu's button holds no text (a column's title reads as just its name): its ⋮ is
#: drawn by the grid's stylesheet (apps.grid.page.GRID_CSS).
MENU_ICON = " "

#: A group's header: its value's label and how many rows of the whole view it holds (the page
#: holds only some of them), from what the page published (``window.crmGrid.groups``).
GROUP_HEADER = JSCode(
    "function(value, count){var g=(window.crmGrid||{}).groups||{};"
    # Panel's groups are keyed "<field>: <value>"
    "var v=String(value);var i=v.indexOf(': ');if(i>=0){v=v.slice(i+2);}"
    "if(v==='undefined'||v==='NaN'){v='null';}"
    "var s=document.createElement('span');"
    "s.textContent=g[v]||(v==='null'||v===''?'(blank)':v);return s;}"
)

#: Tabulator options the grid adds to its own: a spreadsheet's keyboard (a click selects a cell,
#: the arrows move it, Enter or a double click edits it), copy and paste of ranges, the header
#: menu, and columns dragged to a new width or place.
#: Every row one line high, as in Airtable (long text, many tags: cut off in the cell, whole in
#: the record panel). Given up front, Tabulator lays rows out without measuring each cell
#: (measured: 570 ms of the grid's first draw spent reading cell heights).
ROW_HEIGHT = 30

TABLE_OPTIONS: dict[str, Any] = {
    "rowHeight": ROW_HEIGHT,
    "selectableRange": 1,
    "selectableRangeColumns": False,
    "selectableRangeRows": False,
    "clipboard": True,
    "clipboardCopyRowRange": "range",
    "clipboardPasteParser": PASTE_PARSER,
    "clipboardPasteAction": "range",
    "editTriggerEvent": "dblclick",
    "groupHeader": GROUP_HEADER,
    "columnDefaults": {
        "headerMenu": HEADER_MENU,
        "headerMenuIcon": MENU_ICON,
        "resizable": True,
    },
}

_ESM = """
const KEY_PREFIX = "crm-grid-unsaved:";
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;  // older kept edits are dropped, not replayed

function storageKey(model) { return KEY_PREFIX + model.user; }

function readJournal(model) {
  try {
    const items = JSON.parse(window.localStorage.getItem(storageKey(model)) || "[]");
    const now = Date.now();
    return Array.isArray(items) ? items.filter((e) => e && now - e.at < MAX_AGE_MS) : [];
  } catch (err) {
    return [];
  }
}

function writeJournal(model, items) {
  try {
    if (items.length) {
      window.localStorage.setItem(storageKey(model), JSON.stringify(items));
    } else {
      window.localStorage.removeItem(storageKey(model));
    }
  } catch (err) { /* storage full or disabled: edits still go to the server when online */ }
}

function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

function isGrid(table) {
  const columns = (table.options && table.options.columns) || [];
  return columns.some((c) => c && c.field === "__MARKER__");
}

function numberOf(value) {
  return typeof value === "number" && isFinite(value) ? value : null;
}

function fmt(value) {
  return value.toLocaleString(undefined, {maximumFractionDigits: 2});
}

/** Rows of text as a spreadsheet copies them: tabs between cells, quotes around cells that
 * hold tabs, new lines or quotes (a doubled quote inside). */
function parseTable(text) {
  const rows = [];
  let row = [], cell = "", quoted = false, i = 0;
  text = text.replace(/\\r\\n?/g, "\\n");
  if (text.endsWith("\\n")) { text = text.slice(0, -1); }
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i += 1; continue; }
      cell += ch; i += 1; continue;
    }
    if (ch === '"' && cell === "") { quoted = true; i += 1; continue; }
    if (ch === "\\t") { row.push(cell); cell = ""; i += 1; continue; }
    if (ch === "\\n") { row.push(cell); rows.push(row); row = []; cell = ""; i += 1; continue; }
    cell += ch; i += 1;
  }
  row.push(cell); rows.push(row);
  return rows;
}

export function render({ model, el, view }) {
  el.classList.add("crm-grid-footer");
  el.setAttribute("role", "status");
  const status = document.createElement("span");
  status.className = "crm-footer-connection";
  const counts = document.createElement("span");
  counts.className = "crm-footer-counts";
  const selection = document.createElement("span");
  selection.className = "crm-footer-selection";
  const totals = document.createElement("span");
  totals.className = "crm-footer-totals";
  el.append(status, counts, selection, totals);

  let table = null;
  let online = true;
  let replayed = false;

  function showCounts() { counts.textContent = model.counts; }
  function showTotals() { totals.textContent = model.totals; }
  function showStatus() {
    const waiting = readJournal(model).length;
    if (!online) {
      status.textContent = waiting
        ? `Offline: ${waiting} unsaved edit${waiting === 1 ? "" : "s"} kept in this browser`
        : "Offline: edits are kept in this browser until the connection returns";
      status.dataset.state = "offline";
    } else if (waiting && !replayed) {
      status.textContent = `Saving ${waiting} edit${waiting === 1 ? "" : "s"} made offline…`;
      status.dataset.state = "replaying";
    } else {
      status.textContent = "";
      status.dataset.state = "online";
    }
  }
  function publishGlobals() {
    window.crmGrid = {
      fields: Object.fromEntries(model.field_keys.map((k) => [k, true])),
      frozen: model.frozen.slice(),
      groupable: model.groupable.slice(),
      groupBy: model.group_by || null,
      groups: Object.assign({}, model.groups),
      canEditFields: model.can_edit_fields,
    };
  }

  function showSelection() {
    if (!table || !table.getRanges) { selection.textContent = ""; return; }
    let cells = 0, rows = new Set(), numbers = [];
    for (const range of table.getRanges()) {
      for (const line of range.getCells()) {
        for (const cell of line) {
          cells += 1;
          rows.add(cell.getRow().getData().id);
          const n = numberOf(cell.getValue());
          if (n !== null) { numbers.push(n); }
        }
      }
    }
    if (cells <= 1) { selection.textContent = ""; return; }
    let text = `${cells.toLocaleString()} cells · ${rows.size.toLocaleString()} row${rows.size === 1 ? "" : "s"}`;
    if (numbers.length) {
      const sum = numbers.reduce((a, b) => a + b, 0);
      text += ` · Sum ${fmt(sum)} · Average ${fmt(sum / numbers.length)}`;
    }
    selection.textContent = text;
  }

  function send(message) {
    if (online) { model.send_msg(message); }
  }

  function hook(found) {
    table = found;
    let resizeTimer = null;
    found.on("columnResized", (column) => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => send({kind: "resize", field: column.getField(),
                                            width: Math.round(column.getWidth())}), 250);
    });
    found.on("columnMoved", () => {
      const order = found.getColumns().map((c) => c.getField()).filter((f) => f && f !== "_index");
      send({kind: "order", fields: order});
    });
    for (const name of ["rangeChanged", "rangeAdded", "rangeRemoved"]) {
      found.on(name, showSelection);
    }
    found.on("cellEdited", (cell) => {
      const data = cell.getRow().getData();
      const items = readJournal(model);
      items.push({id: data.id, version: data.version, field: cell.getField(),
                  value: cell.getValue(), at: Date.now()});
      writeJournal(model, items);
      showStatus();
    });
  }

  function findTable() {
    const registry = window.Tabulator && window.Tabulator.registry;
    const tables = (registry && registry.tables) || [];
    const found = tables.find((t) => isGrid(t) && t.element && t.element.isConnected);
    if (found && found !== table) { hook(found); }
  }
  const finder = setInterval(findTable, 400);
  findTable();

  function onCommand(event) { send({kind: "command", ...event.detail}); }

  function onPaste(event) {
    const grid = event.detail.table;
    if (!grid || grid !== table) { return; }
    const ranges = grid.getRanges();
    if (!ranges.length) { return; }
    const range = ranges[0];
    const first = range.getCells()[0] && range.getCells()[0][0];
    if (!first) { return; }
    const data = parseTable(event.detail.text);
    const columns = grid.getColumns().filter((c) => c.isVisible() && c.getField() !== "_index");
    const rows = grid.getRows("active");
    const top = rows.indexOf(first.getRow());
    const left = columns.indexOf(first.getColumn());
    // one value pasted into a larger selection fills it, as in a spreadsheet
    const height = data.length === 1 && data[0].length === 1 ? range.getRows().length : data.length;
    const width = data.length === 1 && data[0].length === 1 ? range.getColumns().length : Math.max(...data.map((r) => r.length));
    const cells = [];
    let outside = 0;
    for (let r = 0; r < height; r++) {
      for (let c = 0; c < width; c++) {
        const text = data.length === 1 && data[0].length === 1 ? data[0][0] : (data[r] || [])[c];
        if (text === undefined) { continue; }
        const row = rows[top + r], column = columns[left + c];
        if (!row || !column) { outside += 1; continue; }
        const rowData = row.getData();
        cells.push({id: rowData.id, version: rowData.version, field: column.getField(),
                    position: top + r, text: text});
      }
    }
    send({kind: "paste", cells: cells, outside: outside});
  }

  // Ctrl+Z (Cmd+Z) in the table, not in an open editor: undo the last paste
  function onKey(event) {
    if (!table || !(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "z") { return; }
    const path = event.composedPath();
    if (!path.includes(table.element)) { return; }
    if (path.some((n) => n instanceof HTMLElement && (n.tagName === "INPUT" || n.tagName === "TEXTAREA"))) { return; }
    event.preventDefault();
    send({kind: "undo"});
  }
  document.addEventListener("keydown", onKey);
  window.addEventListener("__COMMAND__", onCommand);
  window.addEventListener("__PASTE__", onPaste);

  function replay() {
    const items = readJournal(model);
    if (items.length) { model.send_msg({kind: "replay", edits: items}); }
    else { replayed = true; }
    showStatus();
  }

  model.on("msg:custom", (message) => {
    if (message.kind === "settled") {
      const settled = message.edits || [];
      const items = readJournal(model).filter(
        (e) => !settled.some((s) => s.id === e.id && s.field === e.field &&
                                    (s.value === null || s.value === undefined || same(s.value, e.value))));
      writeJournal(model, items);
      if (message.replayed) { replayed = true; }
      showStatus();
    } else if (message.kind === "clear_header" && table) {
      table.clearHeaderFilter();
      table.clearSort();
    } else if (message.kind === "forget") {
      writeJournal(model, []);
      replayed = true;
      showStatus();
    }
  });
  const doc = (view && view.model && view.model.document) || null;
  if (doc && doc.on_event) {
    doc.on_event("connection_lost", () => { online = false; showStatus(); });
    doc.on_event("client_reconnected", () => { online = true; replayed = false; replay(); });
  }
  model.on("counts", showCounts);
  model.on("totals", showTotals);
  model.on(["field_keys", "frozen", "groupable", "group_by", "groups", "can_edit_fields"], () => {
    publishGlobals();
    if (table && model.group_by) { table.setGroupHeader(table.options.groupHeader); }
  });
  showCounts(); showTotals(); publishGlobals();
  el.setAttribute("data-crm-bridge", "on");
  replay();  // edits kept from a page that lost its connection before they were saved
  model.on("remove", () => {
    clearInterval(finder);
    document.removeEventListener("keydown", onKey);
    window.removeEventListener("__COMMAND__", onCommand);
    window.removeEventListener("__PASTE__", onPaste);
  });
}
"""


class GridBridge(JSComponent):
    """The grid's footer and its line to the table in the browser (see the module docstring)."""

    user = param.String(default="", doc="Whose kept edits these are (the local storage key)")
    counts = param.String(default="", doc="Row count and page, as plain text")
    totals = param.String(default="", doc="Sums over the whole view, as plain text")
    field_keys = param.List(default=[], doc="Columns that are grid fields (header menu)")
    frozen = param.List(default=[], doc="Frozen columns (the menu offers to unfreeze them)")
    can_edit_fields = param.Boolean(default=False, doc="May this user add and change fields?")
    groupable = param.List(default=[], doc="Columns the view can be grouped by")
    group_by = param.String(default="", doc="The column the view is grouped by ('' if none)")
    groups = param.Dict(default={}, doc="Group value (as the browser prints it) -> header text")

    _stylesheets = [  # noqa: RUF012 (Panel reads this class attribute as a list)
        """
.crm-grid-footer { display: flex; flex-wrap: wrap; align-items: center;
  gap: var(--crm-space-1) var(--crm-space-4); min-height: 24px;
  padding: var(--crm-space-1) var(--crm-space-2); font-size: var(--crm-font-size-sm);
  color: var(--crm-color-text-muted); border-top: 1px solid var(--crm-color-border); }
.crm-footer-counts { font-weight: 600; color: var(--crm-color-text); }
.crm-footer-totals { margin-left: auto; }
.crm-footer-connection:empty, .crm-footer-selection:empty, .crm-footer-totals:empty {
  display: none; }
.crm-footer-connection[data-state="offline"] { color: var(--crm-color-danger-text);
  background: var(--crm-color-danger-subtle); border-radius: var(--crm-radius-sm);
  padding: 0 var(--crm-space-2); font-weight: 600; }
.crm-footer-connection[data-state="replaying"] { color: var(--crm-color-warning-text); }
"""
    ]

    _esm = (
        _ESM.replace("__MARKER__", GRID_MARKER)
        .replace("__COMMAND__", COMMAND_EVENT)
        .replace("__PASTE__", PASTE_EVENT)
    )

    def __init__(self, on_message: Callable[[dict[str, Any]], None], **params: Any) -> None:
        super().__init__(**params)
        self._on_message = on_message

    def _handle_msg(self, data: Any) -> None:
        if isinstance(data, dict):
            self._on_message(data)

    def settle(self, edits: Sequence[dict[str, Any]], *, replayed: bool = False) -> None:
        """Tell the browser these edits (id, field, value) need not be kept any more."""
        self._send_msg({"kind": "settled", "edits": list(edits), "replayed": replayed})

    def clear_header(self) -> None:
        """Clear the header filters and clicked sorts in the browser (Panel syncs the change)."""
        self._send_msg({"kind": "clear_header"})

    def forget_unsaved(self) -> None:
        """Drop every kept edit (the user chose not to replay them)."""
        self._send_msg({"kind": "forget"})
