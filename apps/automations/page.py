"""The automations page (``/automations``): the rules, each on or off with its sentence, last
run and counts; an editor that reads as the sentence it builds (When … if … then …), its
conditions edited with the view builder's filter tree; dry run, run now, archive; and the run
log, each change linking to its investor. Admins edit and run; members see.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import panel as pn

from apps.chrome import UserPage, read_only_table, set_choices, table_frame
from apps.formatting import PLAIN, WHEN, Show, member_choices
from apps.grid.filter_editor import FilterTreeEditing, wrapping
from apps.links import record_url
from apps.markup import escape_text
from crm_lib import limits, services
from crm_lib.auth.permissions import allowed
from crm_lib.automations.actions import ACTIONS, LIST_LABELS
from crm_lib.automations.templates import TEMPLATES
from crm_lib.automations.triggers import TRIGGERS

RULE_COLUMNS = {
    "id": "Id",
    "state": "On",
    "name": "Rule",
    "sentence": "Reads",
    "last": "Last run",
    "matched": "Matched",
    "changed": "Changed",
}
RUN_COLUMNS = {
    "id": "Run",
    "started_at": "Started",
    "trigger_event": "Because",
    "kind": "Kind",
    "status": "Status",
    "matched": "Matched",
    "changed": "Changed",
    "message": "Message",
}
SHOWS: dict[str, Show] = {"id": PLAIN, "matched": PLAIN, "changed": PLAIN, "started_at": WHEN}
NEW = 0
EVERYONE, CONDITIONS, VIEW = "every", "conditions", "view"
DAY_TRIGGERS = ("no_two_way_touch", "no_reply")


@dataclass
class FilterSource:
    """What the filter tree editor needs: the grid's fields, operators and members."""

    fields: dict[str, Any] = field(default_factory=dict)
    operators: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)


class AutomationsPage(FilterTreeEditing, UserPage):
    """One session's automations page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.may_edit = self.session is not None and allowed(
            self.session.user["role"], "manage_automations"
        )
        self.filter_source = FilterSource()
        self.rules: list[dict[str, Any]] = []
        self.runs: list[dict[str, Any]] = []
        self.rules_table = read_only_table(
            RULE_COLUMNS, SHOWS, empty="No rules yet. Start from a template below."
        )
        self.runs_table = read_only_table(RUN_COLUMNS, SHOWS, empty="No runs of this rule yet.")
        self.changes = pn.pane.HTML(
            "", sizing_mode="stretch_width", css_classes=["crm-run-changes"]
        )
        self.choice = pn.widgets.Select(label="Rule", options={"New rule": NEW}, width=360)
        self.template = pn.widgets.Select(
            label="Template", options={t["name"]: k for k, t in TEMPLATES.items()}, width=420
        )
        self.from_template = pn.widgets.Button(label="Add from template")
        # the sentence being built
        self.rule_name = pn.widgets.TextInput(label="Name", max_length=limits.max_length("text"))
        self.trigger_kind = pn.widgets.Select(
            label="When", options={t.label: k for k, t in TRIGGERS.items()}, width=330
        )
        self.days = pn.widgets.IntInput(label="Days", value=30, start=1, end=3650, width=100)
        self.trigger_field = pn.widgets.Select(label="Field", options={}, width=180)
        self.trigger_to = pn.widgets.TextInput(
            label="To (optional)", width=150, max_length=limits.max_length("filter_text")
        )
        self.scope = pn.widgets.RadioButtonGroup(
            options={"Every investor": EVERYONE, "These conditions": CONDITIONS, "A view": VIEW},
            value=EVERYONE,
            color="light",
        )
        self.view = pn.widgets.Select(label="View", options={}, width=280)
        self.tree_box = pn.Column(sizing_mode="stretch_width", css_classes=["crm-rule-conditions"])
        self.tree: dict[str, Any] = {"op": "and", "conditions": []}
        self.actions_box = pn.Column(sizing_mode="stretch_width", css_classes=["crm-rule-actions"])
        self.actions: list[dict[str, Any]] = []
        self.add_action = pn.widgets.Button(label="+ Action", color="light")
        self.sentence = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["crm-sentence"])
        self.buttons = {
            "save": pn.widgets.Button(label="Save rule", color="primary"),
            "toggle": pn.widgets.Button(label="Turn on"),
            "dry": pn.widgets.Button(label="Dry run"),
            "run": pn.widgets.Button(label="Run now"),
            "archive": pn.widgets.Button(label="Archive rule", color="danger"),
        }
        self._wire()
        self.refresh()

    # -- wiring --------------------------------------------------------------------------
    def _wire(self) -> None:
        self.choice.param.watch(lambda _: self.load_rule(), "value")
        self.from_template.on_click(lambda _: self.add_template())
        self.trigger_kind.param.watch(lambda _: self._show_trigger(), "value")
        self.scope.param.watch(lambda _: self._show_scope(), "value")
        self.add_action.on_click(lambda _: self._append_action({"kind": "add_tag", "tag": ""}))
        b = self.buttons
        b["save"].on_click(lambda _: self.save())
        b["toggle"].on_click(lambda _: self.toggle())
        b["dry"].on_click(lambda _: self.dry_run())
        b["run"].on_click(lambda _: self.run())
        b["archive"].on_click(lambda _: self.ask_archive())
        self.runs_table.on_click(self._run_clicked)
        for widget in (self.from_template, self.add_action, *b.values()):
            widget.disabled = not self.may_edit

    # -- reading -------------------------------------------------------------------------
    def refresh(self) -> None:
        def load(ctx: Any) -> tuple[Any, ...]:
            return services.list_rules(ctx), services.grid_columns(ctx), services.list_views(ctx)

        loaded = self.act(load)
        if loaded is None:
            return
        self.rules, columns, views = loaded
        self.filter_source = FilterSource(
            fields={spec.key: spec for spec in columns.fields},
            operators=columns.operators,
            users={v: k for k, v in member_choices(columns.users).items()},
        )
        set_choices(
            self.trigger_field,
            {spec.label: spec.key for spec in columns.fields if spec.is_editable},
        )
        set_choices(self.view, {v["name"]: v["id"] for v in views})
        self.rules_table.value = table_frame(
            [_rule_row(rule) for rule in self.rules], RULE_COLUMNS, SHOWS
        )
        chosen = self.choice.value
        set_choices(self.choice, {"New rule": NEW, **{r["name"]: r["id"] for r in self.rules}})
        self.choice.value = chosen if chosen in self.choice.values else NEW
        self.load_rule()

    def _rule(self) -> dict[str, Any] | None:
        return next((r for r in self.rules if r["id"] == self.choice.value), None)

    def load_rule(self) -> None:
        """Fill the editor with the chosen rule (or a blank one) and show its runs."""
        rule = self._rule()
        spec = rule or {
            "name": "",
            "trigger": {"kind": "no_two_way_touch", "days": 30},
            "conditions": None,
            "actions": [{"kind": "add_tag", "tag": ""}],
        }
        self.rule_name.value = spec["name"]
        trigger = spec["trigger"]
        self.trigger_kind.value = trigger["kind"]
        self.days.value = trigger.get("days", 30)
        if trigger.get("field") in self.trigger_field.values:
            self.trigger_field.value = trigger["field"]
        self.trigger_to.value = str(trigger.get("to") or "")
        conditions = spec.get("conditions")
        if conditions and "view_id" in conditions:
            self.scope.value = VIEW
            self.view.value = conditions["view_id"]
            self.tree = {"op": "and", "conditions": []}
        else:
            self.scope.value = CONDITIONS if conditions else EVERYONE
            tree = copy.deepcopy(conditions or {"op": "and", "conditions": []})
            self.tree = tree if "conditions" in tree else {"op": "and", "conditions": [tree]}
        self.tree_box.objects = [self._group(self.tree, depth=1, parent=None, holder=self.tree_box)]
        self.actions = []
        self.actions_box.objects = []
        for action in spec["actions"]:
            self._append_action(copy.deepcopy(action))
        self._show_trigger()
        self._show_scope()
        self.buttons["toggle"].label = "Turn off" if rule and rule["enabled"] else "Turn on"
        for key in ("toggle", "dry", "run", "archive"):
            self.buttons[key].disabled = rule is None or not self.may_edit
        self.sentence.object = (
            f"<p><b>{escape_text(rule['sentence'])}</b></p>" if rule else "<p>A new rule.</p>"
        )
        self._show_runs(rule)

    def _show_runs(self, rule: dict[str, Any] | None) -> None:
        self.runs = []
        if rule is not None:
            self.runs = self.act(lambda ctx: services.list_runs(ctx, rule_id=rule["id"])) or []
        rows = [{**run, "kind": "dry run" if run["dry_run"] else "run"} for run in self.runs]
        self.runs_table.value = table_frame(rows, RUN_COLUMNS, SHOWS)
        self.changes.object = self._changes_html(self.runs[0]) if self.runs else ""

    def _run_clicked(self, event: Any) -> None:
        if 0 <= event.row < len(self.runs):
            self.changes.object = self._changes_html(self.runs[event.row])

    @staticmethod
    def _changes_html(run: dict[str, Any]) -> str:
        """A run's changes (each linking to its investor) and errors."""
        items = [
            f"<li><a href='{escape_text(record_url(c['investor_id']))}'>"
            f"{escape_text(c['name'])}</a>: {escape_text(_shown_field(c['field']))}"
            f" {escape_text(_shown(c['before']))} → {escape_text(_shown(c['after']))}</li>"
            for c in run["changes"][:200]
        ]
        items += [
            f"<li class='crm-error'>{escape_text(e['name'])}: not changed,"
            f" {escape_text(e['error'])}</li>"
            for e in run["errors"][:50]
        ]
        what = "would change" if run["dry_run"] else "changed"
        head = f"<p><b>Run {run['id']}</b> {what}: {escape_text(run['message'])}</p>"
        return head + (f"<ul>{''.join(items)}</ul>" if items else "")

    # -- the editor ----------------------------------------------------------------------
    def _show_trigger(self) -> None:
        kind = self.trigger_kind.value
        self.days.visible = kind in DAY_TRIGGERS
        self.trigger_field.visible = kind == "field_changed"
        self.trigger_to.visible = kind in ("field_changed", "stage_changed")

    def _show_scope(self) -> None:
        self.view.visible = self.scope.value == VIEW
        self.tree_box.visible = self.scope.value == CONDITIONS

    def _append_action(self, action: dict[str, Any]) -> None:
        self.actions.append(action)
        self.actions_box.append(self._action_row(action))

    def _action_row(self, action: dict[str, Any]) -> pn.FlexBox:
        kind = pn.widgets.Select(
            options={a.label: k for k, a in ACTIONS.items()}, value=action["kind"], width=170
        )
        remove = pn.widgets.Button(label="✕", width=32, color="light")
        row = wrapping(kind, *self._action_inputs(action), remove, css_classes=["crm-rule-action"])

        def kind_changed(event: Any) -> None:
            action.clear()
            action["kind"] = event.new
            row.objects = [kind, *self._action_inputs(action), remove]

        def drop_action(_: Any) -> None:
            self.actions[:] = [a for a in self.actions if a is not action]
            self.actions_box.remove(row)

        kind.param.watch(kind_changed, "value")
        remove.on_click(drop_action)
        return row

    def _action_inputs(self, action: dict[str, Any]) -> list[Any]:
        """The inputs of one action's kind, each writing into ``action``."""
        kind = action["kind"]

        def text(key: str, label: str, width: int = 220) -> pn.widgets.TextInput:
            box = pn.widgets.TextInput(
                placeholder=label,
                value=str(action.get(key) or ""),
                width=width,
                max_length=limits.max_length("task_title"),
            )
            action[key] = box.value
            box.param.watch(lambda e: action.__setitem__(key, e.new), "value_input")
            return box

        def select(key: str, options: dict[str, Any], default: Any) -> pn.widgets.Select:
            value = action.get(key, default)
            box = pn.widgets.Select(
                options=options, value=value if value in options.values() else default, width=170
            )
            action[key] = box.value
            box.param.watch(lambda e: action.__setitem__(key, e.new), "value")
            return box

        if kind == "move_to_list":
            return [select("list", {v: k for k, v in LIST_LABELS.items()}, "main")]
        if kind == "set_field":
            options = dict(self.trigger_field.options)
            return [
                select("field", options, next(iter(options.values()), None)),
                text("value", "value", 160),
            ]
        if kind in ("add_tag", "remove_tag"):
            return [text("tag", "tag", 160)]
        if kind == "create_task":
            assignees = {"Its owner": "owner", "The closest team member": "closest"}
            assignees |= member_choices(
                [{"id": i, "name": n, "email": n} for i, n in self.filter_source.users.items()]
            )
            due = pn.widgets.IntInput(
                value=int(action.get("due_in_days", 0)), start=0, end=365, width=80
            )
            action["due_in_days"] = due.value
            due.param.watch(lambda e: action.__setitem__("due_in_days", e.new), "value")
            return [
                text("title", "title, e.g. Follow up with {investor}", 260),
                select("assignee", assignees, "owner"),
                pn.pane.HTML("due in (days)"),
                due,
            ]
        if kind == "draft_email":
            senders = {"The closest team member's drafts": "closest", "The owner's drafts": "owner"}
            body = pn.widgets.TextAreaInput(
                placeholder="Dear {person}, ...",
                value=str(action.get("body") or ""),
                width=360,
                height=90,
                max_length=limits.max_length("long_text"),
            )
            action["body"] = body.value
            body.param.watch(lambda e: action.__setitem__("body", e.new), "value_input")
            return [
                text("subject", "subject, e.g. Following up, {investor}", 260),
                select("sender", senders, "closest"),
                body,
            ]
        return [text("text", "what to tell the team, e.g. {investor} went quiet", 300)]

    def _values(self) -> dict[str, Any]:
        kind = self.trigger_kind.value
        trigger: dict[str, Any] = {"kind": kind}
        if kind in DAY_TRIGGERS:
            trigger["days"] = self.days.value
        if kind == "field_changed":
            trigger["field"] = self.trigger_field.value
        if kind in ("field_changed", "stage_changed") and self.trigger_to.value.strip():
            trigger["to"] = self.trigger_to.value.strip()
        if self.scope.value == VIEW:
            conditions: Any = {"view_id": self.view.value}
        elif self.scope.value == CONDITIONS and self.tree["conditions"]:
            conditions = copy.deepcopy(self.tree)
        else:
            conditions = None
        return {
            "name": self.rule_name.value_input or self.rule_name.value,
            "trigger": trigger,
            "conditions": conditions,
            "actions": copy.deepcopy(self.actions),
        }

    # -- actions -------------------------------------------------------------------------
    def save(self) -> None:
        rule, values = self._rule(), self._values()
        if rule is None:
            saved = self.act(
                lambda ctx: services.create_rule(ctx, values),
                success=f"Added the rule {values['name']} (off: dry-run it, then turn it on).",
            )
        else:
            saved = self.act(
                lambda ctx: services.update_rule(
                    ctx, rule["id"], values, expected_version=rule["version"]
                ),
                success=f"Saved the rule {values['name']}.",
            )
        if saved is not None:
            self.choice.value = saved["id"]
            self.refresh()

    def add_template(self) -> None:
        name = self.template.value
        made = self.act(
            lambda ctx: services.create_rule_from_template(ctx, name),
            success=f"Added “{TEMPLATES[name]['name']}” (off: dry-run it, then turn it on).",
        )
        if made is not None:
            self.refresh()
            self.choice.value = made["id"]

    def toggle(self) -> None:
        rule = self._rule()
        if rule is None:
            return
        done = self.act(
            lambda ctx: services.toggle_rule(ctx, rule["id"], expected_version=rule["version"]),
            success=f"{rule['name']} is {'off' if rule['enabled'] else 'on'}.",
        )
        if done is not None:
            self.refresh()

    def dry_run(self) -> None:
        rule = self._rule()
        if rule is None:
            return
        run = self.act(lambda ctx: services.dry_run_rule(ctx, rule["id"]))
        if run is not None:
            self._report(run["message"], failed=run["status"] == "refused")
            self._show_runs(rule)

    def run(self) -> None:
        rule = self._rule()
        if rule is None:
            return
        run = self.act(lambda ctx: services.run_rule(ctx, rule["id"]))
        if run is not None:
            self._report(run["message"], failed=run["status"] != "done")
            self.refresh()

    def ask_archive(self) -> None:
        rule = self._rule()
        if rule is None:
            return
        self.confirm(
            f"Archive the rule {rule['name']}?",
            "Archive rule",
            lambda: self.archive(rule),
            "It stops at once; its runs stay in the log.",
        )

    def archive(self, rule: dict[str, Any]) -> None:
        done = self.act(
            lambda ctx: services.archive_rule(ctx, rule["id"], expected_version=rule["version"]),
            success=f"Archived the rule {rule['name']}.",
        )
        if done is not None:
            self.choice.value = NEW
            self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        editing = [
            pn.pane.Markdown("## Rule"),
            self.choice,
            self.sentence,
            self.rule_name,
            wrapping(self.trigger_kind, self.days, self.trigger_field, self.trigger_to),
            pn.pane.Markdown("**if**"),
            self.scope,
            self.view,
            self.tree_box,
            pn.pane.Markdown("**then**"),
            self.actions_box,
            self.add_action,
            wrapping(*self.buttons.values()),
        ]
        return self.frame(
            "/automations",
            "Automations",
            pn.pane.Markdown(
                "Rules that keep lists, follow-ups and tasks right. Each reads as a sentence;"
                " a dry run shows what it would change before it is turned on."
                + ("" if self.may_edit else " Admins change and run them."),
                css_classes=["crm-muted"],
            ),
            self.rules_table,
            wrapping(self.template, self.from_template),
            *editing,
            pn.pane.Markdown("## Runs"),
            self.runs_table,
            self.changes,
        )


def _rule_row(rule: dict[str, Any]) -> dict[str, Any]:
    last = rule.get("last_run") or {}
    return {
        "id": rule["id"],
        "state": "on" if rule["enabled"] else "off",
        "name": rule["name"],
        "sentence": rule["sentence"],
        "last": last.get("finished_at"),
        "matched": last.get("matched"),
        "changed": last.get("changed"),
    }


def _shown_field(name: str) -> str:
    labels = {"list_membership": "list", "task": "task", "notification": "notice", "draft": "draft"}
    return labels.get(name, name)


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)
