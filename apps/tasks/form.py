"""Tasks about one investor, wherever an investor is shown (the record view, the grid's record
panel, a pipeline card, an email in the timeline): its open tasks, each done with one click or
key, and a short form that adds one (title, due date, assignee: the user by default).

The host page gives what the task is about (:meth:`TaskForm.about`: an investor, and maybe one
of its people, an opportunity or an email's subject as the title) and runs the service calls
through its own :meth:`~apps.chrome.UserPage.act`, so errors show where the user is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, Protocol

import panel as pn
from panel.viewable import Viewer

from apps.formatting import member_choices
from apps.links import record_url
from apps.tasks.checklist import TaskChecklist
from crm_lib import limits, services
from crm_lib.clock import today as crm_today
from crm_lib.context import Context

#: Open tasks of one investor shown beside it.
SHOWN = 20


class Acting(Protocol):
    """What the form needs of its page."""

    session: Any
    runtime: Any

    def act(self, action: Callable[[Context], Any], success: str = "") -> Any: ...


def task_payload(task: Mapping[str, Any], today: date, *, show_assignee: bool = True) -> dict:
    """A task as :class:`~apps.tasks.checklist.TaskChecklist` draws it."""
    due = task.get("due_on")
    late = bool(due) and due < today.isoformat()
    if not due:
        due_text = "No due date"
    elif late:
        days = (today - date.fromisoformat(due)).days
        due_text = f"Overdue: due {due} ({days} day{'s' if days != 1 else ''} ago)"
    elif due == today.isoformat():
        due_text = "Due today"
    else:
        due_text = f"Due {due}"
    return {
        "id": task["id"],
        "version": task["version"],
        "title": task["title"],
        "notes": task.get("notes") or "",
        "investor_name": task.get("investor_name") or "",
        "person_name": task.get("person_name") or "",
        "record_url": record_url(task["investor_id"]) if task.get("investor_id") else "",
        "due_text": due_text,
        "late": late,
        "priority": task.get("priority") or "normal",
        "assignee_text": f"for {task['assignee_name']}"
        if show_assignee and task.get("assignee_name")
        else "",
    }


def complete(page: Acting, message: Mapping[str, Any]) -> bool:
    """A checklist's ``done``: complete the task with the version shown."""
    task_id, version = message.get("id"), message.get("version")
    if message.get("kind") != "done" or not isinstance(task_id, int):
        return False
    if not isinstance(version, int):
        return False
    done = page.act(
        lambda ctx: services.complete_task(ctx, task_id, expected_version=version),
        success="Task done.",
    )
    return done is not None


def task_inputs(
    example: str, add: Callable[[], None]
) -> tuple[pn.widgets.TextInput, pn.widgets.DatePicker, pn.widgets.Select, pn.widgets.Button]:
    """A new task's title (Enter adds it), due date, assignee and "Add task" button."""
    title = pn.widgets.TextInput(
        label="New task",
        placeholder=example,
        max_length=limits.max_length("task_title"),
        sizing_mode="stretch_width",
        css_classes=["crm-task-title-input"],
    )
    due = pn.widgets.DatePicker(label="Due", width=140)
    assignee = pn.widgets.Select(label="For", width=170)
    button = pn.widgets.Button(label="Add task", color="primary", css_classes=["crm-add-task"])
    button.on_click(lambda _: add())
    title.param.watch(lambda _: add(), "enter_pressed")
    return title, due, assignee, button


class TaskForm(Viewer):
    """One investor's open tasks and the form adding one."""

    def __init__(self, page: Acting, on_added: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.page = page
        self.on_added = on_added
        self.subject: dict[str, Any] = {}
        self.heading = pn.pane.Markdown("### Tasks", margin=(8, 5, 0, 5))
        self.checklist = TaskChecklist(
            empty_text="No open tasks.", css_classes=["crm-investor-tasks"]
        )
        self.checklist.on_action = self._on_checklist
        self.title, self.due, self.assignee, self.add_button = task_inputs(
            "e.g. Send the Q3 letter", self.add
        )
        self._loaded_members = False

    def about(self, subject: Mapping[str, Any], *, title: str = "") -> None:
        """What new tasks are about: ``investor_id`` (required), and optionally
        ``opportunity_id``/``id`` of an opportunity, ``person_id``; ``title`` prefills."""
        self.subject = {
            "investor_id": subject.get("investor_id"),
            "opportunity_id": subject.get("opportunity_id")
            or (subject.get("id") if "stage_id" in subject else None),
            "person_id": subject.get("person_id"),
            "investor_name": subject.get("investor_name") or "",
        }
        if title:
            self.title.value = title
        if not self._loaded_members:
            users = self.page.act(lambda ctx: services.list_users(ctx)) or []
            members = member_choices([u for u in users if u.get("is_active", 1)])
            me = self.page.session.user["id"] if self.page.session else None
            self.assignee.options = members
            if me in members.values():
                self.assignee.value = me
            self._loaded_members = True
        self.reload()

    def reload(self) -> None:
        investor_id = self.subject.get("investor_id")
        if investor_id is None:
            self.checklist.sections = []
            return
        tasks = self.page.act(
            lambda ctx: services.list_tasks(ctx, investor_id=investor_id, limit=SHOWN)
        )
        today = crm_today(self.page.runtime.clock)
        self.checklist.sections = [
            {"title": "", "late": False, "tasks": [task_payload(t, today) for t in tasks or []]}
        ]

    def add(self) -> None:
        title = self.title.value_input or self.title.value
        values = {
            "title": title,
            "due_on": self.due.value.isoformat() if self.due.value else None,
            "assignee_id": self.assignee.value,
            **{
                k: v
                for k, v in self.subject.items()
                if k in ("investor_id", "opportunity_id", "person_id") and v is not None
            },
        }
        made = self.page.act(
            lambda ctx: services.create_task(ctx, values),
            success=f"Added the task “{' '.join(str(title or '').split())}”.",
        )
        if made is None:
            return
        self.title.value = ""
        self.due.value = None
        self.reload()
        if self.on_added is not None:
            self.on_added()

    def _on_checklist(self, message: Mapping[str, Any]) -> None:
        if complete(self.page, message):
            self.reload()
            if self.on_added is not None:
                self.on_added()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.heading,
            self.checklist,
            self.title,
            pn.Row(self.due, self.assignee, self.add_button),
            sizing_mode="stretch_width",
            css_classes=["crm-task-form"],
        )
