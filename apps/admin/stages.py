"""The admin page's pipeline section: the stages of every fund's board, in order, with their
default probability and kind (open, won, lost); add one, rename it, change its probability,
position or kind, or archive it (the services refuse to archive a stage an open opportunity is
in, or the last won or lost stage, saying why)."""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.chrome import UserPage, read_only_table, set_choices, table_frame
from apps.formatting import PERCENT, PLAIN, Show, percent
from apps.forms import FormErrors
from crm_lib import limits, services

STAGE_COLUMNS = {
    "id": "Id",
    "position": "Position",
    "name": "Stage",
    "probability": "Default probability",
    "kind": "Kind",
}
STAGE_SHOWS: dict[str, Show] = {"id": PLAIN, "position": PLAIN, "probability": PERCENT}
KINDS = {"Open (in the funnel)": "open", "Won (committed)": "won", "Lost": "lost"}
NEW = 0


class StagesSection:
    """Widgets and actions for the pipeline's stages; the admin page lays them out."""

    def __init__(self, page: UserPage) -> None:
        self.page = page
        self.stages: list[dict[str, Any]] = []
        self.table = read_only_table(STAGE_COLUMNS, STAGE_SHOWS, empty="No stages.")
        self.choice = pn.widgets.Select(label="Stage to edit", options={"New stage": NEW})
        self.name = pn.widgets.TextInput(label="Name", max_length=limits.max_length("stage_name"))
        self.probability = pn.widgets.TextInput(
            label="Default probability", placeholder="30%", max_length=limits.max_length("amount")
        )
        self.position = pn.widgets.IntInput(label="Position", value=None, start=1, width=110)
        self.kind = pn.widgets.Select(label="Kind", options=KINDS, value="open")
        self.form = FormErrors(
            {
                "name": self.name,
                "probability": self.probability,
                "position": self.position,
                "kind": self.kind,
            }
        )
        self.save_button = pn.widgets.Button(label="Save stage", color="primary")
        self.archive_button = pn.widgets.Button(label="Archive stage", color="danger")
        self.save_button.on_click(lambda _: self.save())
        self.archive_button.on_click(lambda _: self.ask_archive())
        self.choice.param.watch(lambda _: self.load_form(), "value")

    def refresh(self) -> None:
        stages = self.page.act(services.list_stages)
        if stages is None:
            return
        self.stages = stages
        self.table.value = table_frame(stages, STAGE_COLUMNS, STAGE_SHOWS)
        chosen = self.choice.value
        set_choices(self.choice, {"New stage": NEW, **{s["name"]: s["id"] for s in stages}})
        self.choice.value = chosen if chosen in self.choice.values else NEW
        self.load_form()

    def _chosen(self) -> dict[str, Any] | None:
        return next((s for s in self.stages if s["id"] == self.choice.value), None)

    def load_form(self) -> None:
        stage = self._chosen()
        self.form.clear()
        self.name.value = stage["name"] if stage else ""
        self.probability.value = percent(stage["probability"]) if stage else ""
        self.position.value = stage["position"] if stage else None
        self.kind.value = stage["kind"] if stage else "open"
        self.archive_button.disabled = stage is None

    def save(self) -> None:
        stage = self._chosen()
        values: dict[str, Any] = {
            "name": self.name.value,
            "probability": self.probability.value,
            "kind": self.kind.value,
        }
        if self.position.value is not None:
            values["position"] = self.position.value
        if stage is None:
            saved = self.page.act(
                lambda ctx: services.create_stage(ctx, values),
                success=f"Added the stage {values['name']}.",
                form=self.form,
            )
        else:
            saved = self.page.act(
                lambda ctx: services.update_stage(
                    ctx, stage["id"], values, expected_version=stage["version"]
                ),
                success=f"Saved the stage {values['name']}.",
                form=self.form,
            )
        if saved is not None:
            self.choice.value = saved["id"]
            self.refresh()

    def ask_archive(self) -> None:
        stage = self._chosen()
        if stage is None:
            return
        self.page.confirm(
            f"Archive the stage {stage['name']}?",
            "Archive stage",
            lambda: self.archive(stage),
            "It leaves every board; opportunities that were in it keep their history.",
        )

    def archive(self, stage: dict[str, Any]) -> None:
        done = self.page.act(
            lambda ctx: services.archive_stage(ctx, stage["id"], expected_version=stage["version"]),
            success=f"Archived the stage {stage['name']}.",
        )
        if done is not None:
            self.choice.value = NEW
            self.refresh()

    def layout(self) -> list[Any]:
        return [
            pn.pane.Markdown("## Pipeline stages"),
            pn.pane.Markdown(
                "Every fund's board has these columns, in this order. A stage's default"
                " probability weighs its opportunities unless one sets its own.",
                css_classes=["crm-muted"],
            ),
            self.table,
            self.choice,
            pn.Row(
                self.form.field("name"),
                self.form.field("probability"),
                self.form.field("position"),
                self.form.field("kind"),
            ),
            pn.Row(self.save_button, self.archive_button),
        ]
