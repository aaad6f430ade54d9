"""The pipeline board in the browser: one column per stage, one card per opportunity, moved by
drag and drop or from the keyboard.

The page hands it plain data (``columns``: each stage with its totals and cards, every figure
already written as text by :mod:`apps.formatting`), and every name is set as text, so an
investor called ``<img onerror=...>`` is shown, never run. What the user does comes back as one
message each: ``move`` (card, the version it showed, the stage it went to), ``open`` (a card's
details), ``task`` (add a task for it). The server answers a move by redrawing the board (or by
putting the card back, with the reason, when the move was refused); the card keeps the keyboard
focus across the redraw.

Keys on a focused card: ← and → move it one stage, Enter or Space opens it, T adds a task for
it; ↑ and ↓ go to the card above or below, Home and End to the first and last column.
"""

from __future__ import annotations

from typing import Any

import param
from panel.custom import JSComponent

from apps.markup import ESM_HELPERS

#: The board's look, from the design tokens (apps/theme/tokens.css) only.
BOARD_CSS = """
:host { display: block; width: 100%; }
.crm-board { display: flex; gap: var(--crm-space-2); overflow-x: auto; align-items: flex-start;
  padding-bottom: var(--crm-space-2); font-size: var(--crm-font-size-sm);
  color: var(--crm-color-text); }
.crm-stage { flex: 1 0 150px; max-width: 280px; background: var(--crm-color-surface-muted);
  border-radius: var(--crm-radius-lg); padding: var(--crm-space-2); min-height: 120px; }
.crm-stage.crm-drop { outline: 2px dashed var(--crm-color-primary); }
.crm-stage-head { margin-bottom: var(--crm-space-2); }
.crm-stage-name { font-weight: var(--crm-font-weight-bold); font-size: var(--crm-font-size-md);
  overflow-wrap: anywhere; }
.crm-stage-figures { color: var(--crm-color-text-muted); }
.crm-stage-more { color: var(--crm-color-text-muted); font-style: italic; margin-top: 4px; }
.crm-opp { background: var(--crm-color-surface); border: 1px solid var(--crm-color-border);
  border-radius: var(--crm-radius-md); padding: 6px 8px; margin-bottom: 6px; cursor: grab;
  box-shadow: var(--crm-shadow-sm); overflow-wrap: anywhere; }
.crm-opp:focus-visible, .crm-opp.crm-selected { outline: var(--crm-focus-outline); }
.crm-opp.crm-cold { border-left: 4px solid var(--crm-color-warning); }
.crm-opp-name { font-weight: var(--crm-font-weight-bold); }
.crm-opp-name a { color: var(--crm-color-primary-text); text-decoration: none; }
.crm-opp-amount { font-variant-numeric: tabular-nums; }
.crm-opp-muted { color: var(--crm-color-text-muted); }
.crm-opp-cold { color: var(--crm-color-warning-text); font-weight: var(--crm-font-weight-bold); }
.crm-opp.crm-moving { opacity: 0.5; }
"""


class PipelineBoard(JSComponent):
    """A fund's board: columns of cards, moved by drag and drop or the keyboard."""

    columns = param.List(default=[], doc="Stages in order, each with its figures and cards")
    selected = param.Integer(default=None, allow_None=True, doc="The card shown in details")
    #: bumped by every redraw the server sends (a refused move redraws the same columns)
    revision = param.Integer(default=0)

    _stylesheets = [BOARD_CSS]  # noqa: RUF012  (Panel's class attribute)

    _esm = (
        ESM_HELPERS
        + """
export function render({ model, el }) {
  const board = document.createElement("div");
  board.className = "crm-board";
  board.setAttribute("role", "list");
  board.setAttribute("aria-label", "Pipeline board");
  el.append(board);
  let dragged = null;
  let pendingFocus = null;  // the card just moved keeps the keyboard focus across the redraw

  function send(kind, card, extra) {
    model.send_msg(Object.assign({kind: kind, id: card.id, version: card.version}, extra || {}));
  }

  function moveBy(card, columnIndex, step) {
    const target = model.columns[columnIndex + step];
    if (!target) return;
    pendingFocus = card.id;
    send("move", card, {stage_id: target.id});
  }

  function cardNode(card, columnIndex) {
    const node = document.createElement("div");
    node.className = "crm-opp" + (card.going_cold ? " crm-cold" : "")
      + (model.selected === card.id ? " crm-selected" : "");
    node.tabIndex = 0;
    node.draggable = true;
    node.dataset.id = String(card.id);
    node.setAttribute("role", "listitem");
    node.setAttribute("aria-label", card.label);
    const name = document.createElement("div");
    name.className = "crm-opp-name";
    const link = text("a", "", card.investor_name);
    link.href = card.record_url;
    link.tabIndex = -1;
    name.append(link);
    node.append(name);
    node.append(text("div", "crm-opp-amount", card.amount_text));
    node.append(text("div", "crm-opp-muted", card.owner_text));
    if (card.next_step) node.append(text("div", "", "Next: " + card.next_step));
    node.append(text("div", "crm-opp-muted", card.age_text));
    node.append(text("div", card.going_cold ? "crm-opp-cold" : "crm-opp-muted", card.touch_text));
    node.addEventListener("dragstart", (event) => {
      dragged = card;
      node.classList.add("crm-moving");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", String(card.id));
    });
    node.addEventListener("dragend", () => { node.classList.remove("crm-moving"); dragged = null; });
    node.addEventListener("click", (event) => {
      if (event.target.closest("a")) return;  // the investor's name opens its record
      send("open", card);
    });
    node.addEventListener("keydown", (event) => {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      const key = event.key;
      if (key === "ArrowRight" || key === "ArrowLeft") {
        event.preventDefault();
        moveBy(card, columnIndex, key === "ArrowRight" ? 1 : -1);
      } else if (key === "Enter" || key === " ") {
        event.preventDefault();
        send("open", card);
      } else if (key === "t" || key === "T") {
        event.preventDefault();
        send("task", card);
      } else if (key === "ArrowDown" || key === "ArrowUp") {
        event.preventDefault();
        const sibling = key === "ArrowDown" ? node.nextElementSibling : node.previousElementSibling;
        if (sibling && sibling.classList.contains("crm-opp")) sibling.focus();
      } else if (key === "Home" || key === "End") {
        event.preventDefault();
        const stages = board.querySelectorAll(".crm-stage");
        const stage = stages[key === "Home" ? 0 : stages.length - 1];
        const first = stage && stage.querySelector(".crm-opp");
        if (first) first.focus();
      }
    });
    return node;
  }

  function draw() {
    const kept = focusedId(el, "crm-opp");  // a redraw (another session's change) keeps the focus
    board.replaceChildren();
    model.columns.forEach((column, columnIndex) => {
      const stage = document.createElement("section");
      stage.className = "crm-stage";
      stage.dataset.stageId = String(column.id);
      stage.dataset.stageName = column.name;
      stage.setAttribute("aria-label", column.name);
      const head = document.createElement("div");
      head.className = "crm-stage-head";
      head.append(text("div", "crm-stage-name", column.name));
      head.append(text("div", "crm-stage-figures", column.figures_text));
      head.append(text("div", "crm-stage-figures crm-stage-weighted", column.weighted_text));
      stage.append(head);
      column.cards.forEach((card) => stage.append(cardNode(card, columnIndex)));
      if (column.more_text) stage.append(text("div", "crm-stage-more", column.more_text));
      stage.addEventListener("dragover", (event) => {
        if (!dragged) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = "move";
        stage.classList.add("crm-drop");
      });
      stage.addEventListener("dragleave", () => stage.classList.remove("crm-drop"));
      stage.addEventListener("drop", (event) => {
        event.preventDefault();
        stage.classList.remove("crm-drop");
        const card = dragged;
        dragged = null;
        if (!card || card.stage_id === column.id) return;
        pendingFocus = card.id;
        send("move", card, {stage_id: column.id});
      });
      board.append(stage);
    });
    const wanted = pendingFocus != null ? String(pendingFocus) : kept;
    pendingFocus = null;
    if (wanted != null) {
      const node = board.querySelector('.crm-opp[data-id="' + wanted + '"]');
      if (node) node.focus();
    }
    el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1);  // browser tests wait on it
  }
  draw();
  model.on(["columns", "selected", "revision"], draw);
}
"""
    )

    def _handle_msg(self, msg: Any) -> None:
        """A user's move, open or task request: handed to the page (:attr:`on_action`)."""
        if isinstance(msg, dict) and self.on_action is not None:
            self.on_action(msg)

    on_action: Any = None
