"""A list of tasks in the browser, completed with one click or one key.

The page hands it sections (``Overdue``, ``Today``, ``Upcoming``, or one untitled section), each
task already written as text; every name is set as text. A click on a task's "Done" button, or
X, Enter or Space on a focused task, sends ``done`` (with the version shown); ↑ and ↓ move
between tasks. The server answers by redrawing the list; the focus moves to the next task so a
run of them is cleared from the keyboard.
"""

from __future__ import annotations

from typing import Any

import param
from panel.custom import JSComponent

from apps.markup import ESM_HELPERS

CHECKLIST_CSS = """
:host { display: block; width: 100%; }
.crm-checklist { color: var(--crm-color-text); font-size: var(--crm-font-size-md); }
.crm-checklist h3 { font-size: var(--crm-font-size-md); margin: var(--crm-space-3) 0 var(--crm-space-1); }
.crm-checklist h3.crm-overdue { color: var(--crm-color-danger-text); }
.crm-task { display: flex; gap: var(--crm-space-2); align-items: baseline;
  padding: 6px 8px; border-bottom: 1px solid var(--crm-color-border); overflow-wrap: anywhere; }
.crm-task:focus-visible { outline: var(--crm-focus-outline); }
.crm-task button { flex: 0 0 auto; cursor: pointer; border: 1px solid var(--crm-color-border);
  border-radius: var(--crm-radius-sm); background: var(--crm-color-surface); padding: 2px 8px;
  color: var(--crm-color-text); }
.crm-task button:hover { background: var(--crm-color-success-subtle); }
.crm-task-title { font-weight: var(--crm-font-weight-bold); }
.crm-task-about a { color: var(--crm-color-primary-text); text-decoration: none; }
.crm-task-meta { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm); }
.crm-task-late { color: var(--crm-color-danger-text); font-weight: var(--crm-font-weight-bold); }
.crm-task-high { color: var(--crm-color-warning-text); font-weight: var(--crm-font-weight-bold); }
.crm-empty { color: var(--crm-color-text-muted); }
"""


class TaskChecklist(JSComponent):
    """Sections of tasks, each completed with a click or a key."""

    sections = param.List(default=[], doc="[{title, late, tasks: [...]}] in order")
    empty_text = param.String(default="No open tasks.")

    _stylesheets = [CHECKLIST_CSS]  # noqa: RUF012  (Panel's class attribute)

    _esm = (
        ESM_HELPERS
        + """
export function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "crm-checklist";
  el.append(root);
  let focusAfter = null;  // the task after the one just completed

  function done(task, row) {
    const next = row.nextElementSibling;
    focusAfter = next && next.classList.contains("crm-task") ? next.dataset.id : null;
    model.send_msg({kind: "done", id: task.id, version: task.version});
  }

  function draw() {
    const kept = focusedId(el, "crm-task");  // a redraw (another session's change) keeps the focus
    root.replaceChildren();
    let count = 0;
    model.sections.forEach((section) => {
      if (!section.tasks.length) return;
      if (section.title) {
        root.append(text("h3", section.late ? "crm-overdue" : "", section.title));
      }
      section.tasks.forEach((task) => {
        count += 1;
        const row = document.createElement("div");
        row.className = "crm-task";
        row.tabIndex = 0;
        row.dataset.id = String(task.id);
        row.setAttribute("aria-label", task.title + (task.due_text ? ", " + task.due_text : ""));
        const button = text("button", "", "Done");
        button.type = "button";
        button.title = "Mark done (X)";
        button.addEventListener("click", () => done(task, row));
        row.append(button);
        const body = document.createElement("div");
        body.append(text("div", "crm-task-title", task.title));
        if (task.investor_name) {
          const about = document.createElement("div");
          about.className = "crm-task-about";
          const link = text("a", "", task.investor_name);
          link.href = task.record_url;
          about.append(link);
          if (task.person_name) about.append(document.createTextNode(" · " + task.person_name));
          body.append(about);
        }
        const meta = document.createElement("div");
        meta.className = "crm-task-meta";
        meta.append(text("span", task.late ? "crm-task-late" : "", task.due_text));
        if (task.priority === "high") meta.append(text("span", "crm-task-high", " · High priority"));
        if (task.assignee_text) meta.append(document.createTextNode(" · " + task.assignee_text));
        body.append(meta);
        if (task.notes) body.append(text("div", "crm-task-meta", task.notes));
        row.append(body);
        row.addEventListener("keydown", (event) => {
          if (event.target !== row || event.ctrlKey || event.metaKey || event.altKey) return;
          const key = event.key;
          if (key === "x" || key === "X" || key === "Enter" || key === " ") {
            event.preventDefault();
            done(task, row);
          } else if (key === "ArrowDown" || key === "ArrowUp") {
            event.preventDefault();
            const rows = Array.from(root.querySelectorAll(".crm-task"));
            const at = rows.indexOf(row) + (key === "ArrowDown" ? 1 : -1);
            if (rows[at]) rows[at].focus();
          }
        });
        root.append(row);
      });
    });
    if (!count) root.append(text("p", "crm-empty", model.empty_text));
    const wanted = focusAfter || kept;
    focusAfter = null;
    if (wanted) {
      const next = root.querySelector('.crm-task[data-id="' + wanted + '"]');
      if (next) next.focus();
    }
    el.dataset.drawn = String(Number(el.dataset.drawn || 0) + 1);  // browser tests wait on it
  }
  draw();
  model.on(["sections", "empty_text"], draw);
}
"""
    )

    on_action: Any = None

    def _handle_msg(self, msg: Any) -> None:
        if isinstance(msg, dict) and self.on_action is not None:
            self.on_action(msg)
