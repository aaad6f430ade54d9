"""The tasks page (``/tasks``): my open tasks as overdue, today and upcoming, each done with
one click or one key (X, Enter or Space on a focused task), a teammate's or everyone's on
request (``?whose=everyone``), and a form adding a task (about an investor named in it, or about nothing in
particular). Tasks about an investor are also added where the investor is shown: its record,
the grid's record panel, a pipeline card, an email in its timeline.

Another session's change (a task added for me, completed elsewhere) redraws the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import panel as pn

from apps.auth.live import OpenPages
from apps.auth.provider import PageSession
from apps.chrome import UserPage, set_choices
from apps.formatting import member_choices
from apps.grid.live import GridHub
from apps.links import session_args, url_int, url_text
from apps.live_page import LiveRedraw
from apps.runtime import Runtime
from apps.tasks.checklist import TaskChecklist
from apps.tasks.form import complete, task_inputs, task_payload
from crm_lib import limits, services
from crm_lib.auth.permissions import allowed
from crm_lib.clock import today
from crm_lib.events import Change

MINE = -1
EVERYONE = 0
#: Open tasks shown at most (the oldest due first).
SHOWN = 500


def grouped(tasks: list[Mapping[str, Any]], day: str) -> dict[str, list[Mapping[str, Any]]]:
    """Open tasks as ``overdue`` (due before ``day``), ``today`` and ``upcoming`` (later, then
    undated), keeping their order."""
    groups: dict[str, list[Mapping[str, Any]]] = {"overdue": [], "today": [], "upcoming": []}
    for task in tasks:
        due = task.get("due_on")
        key = "upcoming" if not due or due > day else "today" if due == day else "overdue"
        groups[key].append(task)
    return groups


class TasksPage(UserPage):
    """One session's tasks page."""

    watched = frozenset({"tasks", "users", "fundraising_state"})

    def __init__(
        self,
        runtime: Runtime,
        pages: OpenPages | None = None,
        hub: GridHub | None = None,
        session: PageSession | None = None,
    ) -> None:
        super().__init__(runtime, pages, session)
        self.document = self._document
        self.whose = pn.widgets.Select(label="Whose tasks", width=220)
        self.summary = pn.pane.Markdown("", css_classes=["crm-tasks-summary"])
        self.checklist = TaskChecklist(
            empty_text="Nothing to do: no open tasks.", css_classes=["crm-my-tasks"]
        )
        self.checklist.on_action = self.on_checklist
        self.title, self.due, self.assignee, self.add_button = task_inputs(
            "e.g. Call back about the LPA", self.add
        )
        self.investor = pn.widgets.TextInput(
            label="About investor (its exact name; optional)",
            max_length=limits.max_length("text"),
            width=280,
        )
        self.live = LiveRedraw(self.document, self.refresh)
        users = self.act(lambda ctx: services.list_users(ctx)) or []
        self.members = member_choices([u for u in users if u.get("is_active", 1)])
        set_choices(self.whose, {"Mine": MINE, **self.members, "Everyone's": EVERYONE})
        args = session_args()
        self.whose.value = EVERYONE if url_text("whose", args) == "everyone" else MINE
        set_choices(self.assignee, self.members)
        if self.session is not None and self.session.user["id"] in self.members.values():
            self.assignee.value = self.session.user["id"]
        self.whose.param.watch(lambda _: self.refresh(), "value")
        self.source = "manual"
        self.prefilled: tuple[str, int] | None = None
        self._prefill(args)
        self.refresh()
        self.live.follow(hub, self)

    def _prefill(self, args: Mapping[str, list[bytes]]) -> None:
        """``?investor=<id>[&thread=<id>]`` (an email's "+ Task" link, a record): the form
        filled in with the investor and a follow-up of the thread's subject, made from email."""
        investor_id, thread_id = url_int("investor", args), url_int("thread", args)
        if investor_id is None:
            return

        def read(ctx: Any) -> tuple[str, str]:
            name = services.get_investor(ctx, investor_id)["investor"]["name"]
            subject = ""
            if thread_id is not None and allowed(ctx.role, "read_email"):
                subject = services.email_thread(ctx, thread_id)["subject"] or ""
            return name, subject

        found = self.act(read)
        if found is None:
            return
        name, subject = found
        self.investor.value = name
        self.prefilled = (name, investor_id)  # the id stands while the name is left as it is
        if thread_id is not None:
            self.source = "email"
            self.title.value = f"Follow up: {subject}" if subject else "Follow up on the email"

    def refresh(self) -> None:
        whose = self.whose.value
        me = self.session.user["id"] if self.session else None
        assignee = me if whose == MINE else (whose or None)
        tasks = self.act(
            lambda ctx: (
                services.list_tasks(ctx, assignee_id=assignee, limit=SHOWN)
                if assignee is not None or whose == EVERYONE
                else []
            )
        )
        if tasks is None:
            return
        day = today(self.runtime.clock)
        groups = grouped(tasks, day.isoformat())
        show_assignee = whose == EVERYONE
        self.checklist.sections = [
            {
                "title": f"{title} ({len(groups[key])})",
                "late": key == "overdue",
                "tasks": [task_payload(t, day, show_assignee=show_assignee) for t in groups[key]],
            }
            for key, title in (("overdue", "Overdue"), ("today", "Today"), ("upcoming", "Upcoming"))
        ]
        more = " (the first 500)" if len(tasks) >= SHOWN else ""
        self.summary.object = (
            f"**{len(groups['overdue'])}** overdue · **{len(groups['today'])}** due today ·"
            f" **{len(groups['upcoming'])}** upcoming{more}"
        )

    def on_checklist(self, message: Mapping[str, Any]) -> None:
        if complete(self, message):
            self.refresh()

    def add(self) -> None:
        title = self.title.value_input or self.title.value
        name = (self.investor.value_input or self.investor.value or "").strip()
        due = self.due.value.isoformat() if self.due.value else None
        assignee = self.assignee.value
        source = self.source
        known = self.prefilled[1] if self.prefilled and self.prefilled[0] == name else None

        def create(ctx: Any) -> dict[str, Any]:
            values: dict[str, Any] = {
                "title": title,
                "due_on": due,
                "assignee_id": assignee,
                "source": source,
            }
            if known is not None:
                values["investor_id"] = known
            elif name:
                values["investor_id"] = services.investor_named(ctx, name)["id"]
            return services.create_task(ctx, values)

        made = self.act(create, success=f"Added the task “{' '.join(str(title).split())}”.")
        if made is None:
            return
        self.title.value = ""
        self.investor.value = ""
        self.due.value = None
        self.source = "manual"
        self.prefilled = None
        self.refresh()

    def on_remote_changes(self, changes: list[Change]) -> None:
        """Another session's (or a job's) change: redraw once for a burst of them."""
        self.live.changed(changes)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/tasks",
            "Tasks",
            pn.pane.Markdown(
                "Press **Done**, or focus a task and press X, to complete it; ↑ ↓ move between"
                " tasks. Add tasks here, or from an investor's record, a pipeline card or an"
                " email.",
                css_classes=["crm-muted"],
            ),
            pn.Row(self.whose, self.summary),
            self.checklist,
            pn.pane.Markdown("## Add a task"),
            self.title,
            pn.Row(self.investor, self.due, self.assignee, self.add_button),
        )
