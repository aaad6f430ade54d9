"""The record page's keyboard: Esc goes back to the grid, Alt+↓ / j to the next record of the
view, Alt+↑ / k to the previous one.

A small browser component that listens on the whole document and follows the URLs the page
gives it (the page recomputes them after each change, and they sync to the browser). Keys typed
into a text box, a list or a picker, and keys in a menu or a dialog, are left alone, so typing
"j" in a name, or Esc closing a dropdown or the confirm dialog, never leaves the page; Ctrl and
Cmd combinations stay the browser's.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent


class RecordKeys(JSComponent):
    """Keyboard navigation between the grid and records; renders nothing."""

    back_url = param.String(default="/grid", doc="Where Esc goes (the grid, as it was)")
    previous_url = param.String(default="", doc="The previous record of the view ('' if none)")
    next_url = param.String(default="", doc="The next record of the view ('' if none)")

    _esm = """
// Focus in one of these keeps its keys: text boxes and pickers, and menus and dialogs, whose
// Escape closes them (the user menu, the confirm dialog), not the page.
const BUSY = new Set(["INPUT", "TEXTAREA", "SELECT", "DETAILS", "SUMMARY", "DIALOG"]);

function busy(event) {
  for (const node of event.composedPath()) {
    if (!(node instanceof HTMLElement)) {
      continue;
    }
    if (BUSY.has(node.tagName) || node.isContentEditable) {
      return true;
    }
    if (node.getAttribute("role") === "dialog" || node.getAttribute("aria-modal") === "true") {
      return true;
    }
  }
  return false;
}

export function render({ model, el }) {
  el.style.display = "none";
  function go(url) {
    if (url) {
      window.location.assign(url);
    }
  }
  function onKey(event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || busy(event)) {
      return;
    }
    const key = event.key;
    let url = null;
    if (key === "Escape" && !event.altKey && !event.shiftKey) {
      url = model.back_url;
    } else if ((event.altKey && key === "ArrowDown") || (!event.altKey && key === "j")) {
      url = model.next_url;
    } else if ((event.altKey && key === "ArrowUp") || (!event.altKey && key === "k")) {
      url = model.previous_url;
    } else {
      return;
    }
    event.preventDefault();
    go(url);
  }
  document.addEventListener("keydown", onKey);
  el.setAttribute("data-crm-keys", "on");  // listening (browser tests wait for it)
  model.on("remove", () => document.removeEventListener("keydown", onKey));
}
"""
