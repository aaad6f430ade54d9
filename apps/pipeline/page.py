"""The pipeline page (``/pipeline``): a fund's board, its totals against the target, the
forecast by expected close month, the funnel with the conversion between stages, and the
chosen opportunity's details (edit it, close it as lost, its stage history and tasks).

Opportunities are flagged from the grid (its "<fund> stage" columns): the board is where they
move. A move is one service call with the version the card showed; another session's change
redraws every open board within a fraction of a second (the live hub), and a stale card's move
is refused as a conflict and the board redrawn. Reaching a won stage proposes the commitment
and asks before writing it; a move to Lost asks for the reason first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import panel as pn

from apps.auth.live import OpenPages
from apps.auth.provider import PageSession
from apps.chrome import UserPage, set_choices
from apps.formatting import member_choices, money, people_names, percent, person, plural
from apps.grid.live import GridHub
from apps.links import record_url, session_args, url_int
from apps.live_page import LiveRedraw
from apps.markup import escape_text
from apps.pipeline.board import PipelineBoard
from apps.pipeline.proposal import propose_commitment
from apps.pipeline.store import ALL_INVESTORS, EVERYONE, PipelineStore, month_label
from apps.runtime import Runtime
from apps.tasks.form import TaskForm
from crm_lib import limits, services
from crm_lib.events import Change

#: Tables whose changes refill the page's menus (stages, funds, owners, views).
MENU_TABLES = frozenset(
    {"pipeline_stages", "fundraising_funds", "users", "fundraising_state", "fundraising_views"}
)
#: Tables whose changes redraw an open board.
WATCHED = frozenset(
    {
        "opportunities",
        "pipeline_stages",
        "fundraising_commitments",
        "fundraising_funds",
        "fundraising_investors",
        "tasks",
        "users",
        "fundraising_views",
        "fundraising_state",
    }
)

PIPELINE_CSS = """
.crm-pipeline { color: var(--crm-color-text); font-size: var(--crm-font-size-md); }
.crm-pipeline h2 { font-size: var(--crm-font-size-lg); margin: var(--crm-space-3) 0 var(--crm-space-2); }
.crm-pipeline table { border-collapse: collapse; }
.crm-pipeline td, .crm-pipeline th { padding: 3px 10px; text-align: right;
  border-bottom: 1px solid var(--crm-color-border); font-variant-numeric: tabular-nums; }
.crm-pipeline td:first-child, .crm-pipeline th:first-child { text-align: left; }
.crm-totals { display: flex; flex-wrap: wrap; gap: var(--crm-space-4); }
.crm-total-label { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm); }
.crm-total-value { font-size: var(--crm-font-size-xl); font-weight: var(--crm-font-weight-bold); }
.crm-funnel-bar { height: 14px; background: var(--crm-color-primary); border-radius: 3px; }
.crm-muted { color: var(--crm-color-text-muted); font-size: var(--crm-font-size-sm); }
.crm-history li, .crm-tasks li { overflow-wrap: anywhere; }
"""


def _html(css_class: str) -> pn.pane.HTML:
    return pn.pane.HTML(
        "", css_classes=[css_class], stylesheets=[PIPELINE_CSS], sizing_mode="stretch_width"
    )


class PipelinePage(UserPage):
    """One session's pipeline page."""

    watched = WATCHED

    def __init__(
        self,
        runtime: Runtime,
        pages: OpenPages | None = None,
        hub: GridHub | None = None,
        session: PageSession | None = None,
    ) -> None:
        super().__init__(runtime, pages, session)
        self.document = self._document
        args = session_args()
        self.store = PipelineStore(
            fund_id=url_int("fund", args),
            owner_id=url_int("owner", args) or EVERYONE,
            view_id=url_int("view", args) or ALL_INVESTORS,
            cold_days=runtime.settings.going_cold_days,
        )
        self.fund_choice = pn.widgets.Select(label="Fund", width=220)
        self.owner_choice = pn.widgets.Select(label="Owner", width=200)
        self.view_choice = pn.widgets.Select(label="Investors in view", width=240)
        self.totals = _html("crm-pipeline-totals")
        self.board = PipelineBoard(sizing_mode="stretch_width", css_classes=["crm-pipeline-board"])
        self.board.on_action = self.on_board
        self.forecast = _html("crm-pipeline-forecast")
        self.funnel = _html("crm-pipeline-funnel")
        self.empty = pn.pane.Alert("", alert_type="info", visible=False)
        # details of the selected opportunity
        self.selected: dict[str, Any] | None = None
        self.details_title = _html("crm-opportunity-title")
        self.stage_choice = pn.widgets.Select(label="Stage", width=160)
        self.expected = pn.widgets.TextInput(
            label="Expected amount", width=160, max_length=limits.max_length("amount")
        )
        self.probability = pn.widgets.TextInput(
            label="Probability (blank: the stage's)",
            width=200,
            max_length=limits.max_length("amount"),
        )
        self.owner = pn.widgets.Select(label="Owner", width=180)
        self.expected_close = pn.widgets.DatePicker(label="Expected close", width=160)
        self.next_step = pn.widgets.TextInput(
            label="Next step", max_length=limits.max_length("text"), sizing_mode="stretch_width"
        )
        self.save_button = pn.widgets.Button(label="Save", color="primary", width=90)
        self.lost_reason = pn.widgets.TextInput(
            label="Why was it lost?",
            max_length=limits.max_length("text"),
            sizing_mode="stretch_width",
        )
        self.lose_button = pn.widgets.Button(label="Close as lost", color="danger")
        self.history = _html("crm-stage-history")
        self.task_form = TaskForm(self, on_added=self._show_details)
        self.details = pn.Column(
            self.details_title,
            pn.Row(self.stage_choice, self.expected, self.probability),
            pn.Row(self.owner, self.expected_close),
            self.next_step,
            self.save_button,
            pn.Row(self.lost_reason, self.lose_button, sizing_mode="stretch_width"),
            self.history,
            self.task_form,
            visible=False,
            width=460,
            css_classes=["crm-opportunity-details"],
            styles={"border-left": "1px solid var(--crm-color-border)", "padding-left": "12px"},
        )
        self.live = LiveRedraw(self.document, self.refresh)
        self._menus_stale = False
        self._setting_menus = False
        self._wire()
        self.refresh(choices=True)
        self.live.follow(hub, self)

    def _wire(self) -> None:
        self.fund_choice.param.watch(lambda e: self._filter("fund_id", e.new), "value")
        self.owner_choice.param.watch(lambda e: self._filter("owner_id", e.new), "value")
        self.view_choice.param.watch(lambda e: self._filter("view_id", e.new), "value")
        self.save_button.on_click(lambda _: self.save())
        self.lose_button.on_click(lambda _: self.close_lost())

    # -- reading -------------------------------------------------------------------------
    def refresh(self, *, choices: bool = False) -> None:
        """Re-read the board (and the menus' choices) and redraw everything."""

        choices = choices or self._menus_stale
        self._menus_stale = False

        def load(ctx: Any) -> bool:
            if choices:
                self.store.load_choices(ctx)
            self.store.load(ctx)
            return True

        if self.act(load) is None:  # said why (a view gone, the session ended)
            return
        if choices:
            self._set_menus()
        self._draw()

    def _set_menus(self) -> None:
        """Fill the menus with the store's choices; their watchers wait (a new option list
        would otherwise pick its first option as a filter)."""
        self._setting_menus = True
        try:
            self._fill_menus()
        finally:
            self._setting_menus = False

    def _fill_menus(self) -> None:
        store = self.store
        set_choices(self.fund_choice, {f["name"]: f["id"] for f in store.funds})
        self.fund_choice.value = store.fund_id
        members = member_choices(store.users)
        set_choices(self.owner_choice, {"Everyone": EVERYONE} | members)
        self.owner_choice.value = store.owner_id if store.owner_id in members.values() else 0
        set_choices(
            self.view_choice,
            {"All investors": ALL_INVESTORS} | {v["name"]: v["id"] for v in store.views},
        )
        self.view_choice.value = store.view_id if store.view_id in self.view_choice.values else 0
        set_choices(self.owner, {"No owner": None} | members)
        set_choices(self.stage_choice, {s["name"]: s["id"] for s in store.stages})

    def _filter(self, name: str, value: Any) -> None:
        if self._setting_menus:
            return
        if getattr(self.store, name) == value or (value is None and name != "fund_id"):
            return
        setattr(self.store, name, value)
        if name == "fund_id":  # the details shown were of the other fund's opportunity
            self.selected = None
            self.details.visible = False
        self.refresh()

    def _draw(self) -> None:
        store = self.store
        if store.fund_id is None:
            self.empty.param.update(
                object="No funds yet: an admin adds them on the Funds page, then investors are"
                " flagged for a fund from the grid's stage column.",
                visible=True,
            )
            self.board.columns = []
            return
        self.empty.visible = False
        self.totals.object = self._totals_html()
        self.board.param.update(
            columns=store.columns(), revision=self.board.revision + 1, selected=self._selected_id()
        )
        self.forecast.object = self._forecast_html()
        self.funnel.object = self._funnel_html()
        if self.selected is not None:
            self._show_details(self.selected["id"])

    def _selected_id(self) -> int | None:
        return self.selected["id"] if self.selected else None

    def _totals_html(self) -> str:
        whole, board, currency = self.store.whole, self.store.board, self.store.currency
        target = whole.get("target_size")
        committed = whole.get("committed") or 0
        figures = [
            ("Committed", money(committed, currency))
            if not target
            else (
                "Committed of target",
                f"{money(committed, currency)} of {money(target, currency)}"
                f" ({percent(committed / target)})",
            ),
            ("Weighted pipeline", money(whole.get("open_weighted"), currency)),
            ("Unweighted pipeline", money(whole.get("open_expected"), currency)),
            (
                "Committed + weighted",
                money(committed + (whole.get("open_weighted") or 0), currency)
                + (
                    f" ({percent((committed + whole['open_weighted']) / target)})" if target else ""
                ),
            ),
            ("Open opportunities", f"{whole.get('open_count', 0):,}"),
        ]
        cells = "".join(
            f'<div><div class="crm-total-label">{escape_text(label)}</div>'
            f'<div class="crm-total-value">{escape_text(value)}</div></div>'
            for label, value in figures
        )
        narrowed = ""
        if whole is not board:
            narrowed = (
                f'<p class="crm-muted">The columns show {plural(board["open_count"], "open opportunity", "open opportunities")}'
                f" ({escape_text(money(board['open_weighted'], currency))} weighted) of the"
                " owner or view chosen; the figures above are the whole fund's.</p>"
            )
        return f'<div class="crm-pipeline"><div class="crm-totals">{cells}</div>{narrowed}</div>'

    def _forecast_html(self) -> str:
        currency = self.store.currency
        rows = self.store.forecast
        if not rows:
            body = '<p class="crm-muted">No open opportunities to forecast.</p>'
        else:
            body = (
                "<table><tr><th>Expected close</th><th>Open</th><th>Expected</th>"
                "<th>Weighted</th></tr>"
                + "".join(
                    f"<tr><td>{escape_text(month_label(r['month']))}</td><td>{r['count']:,}</td>"
                    f"<td>{escape_text(money(r['expected'], currency))}</td>"
                    f"<td>{escape_text(money(r['weighted'], currency))}</td></tr>"
                    for r in rows
                )
                + "</table>"
            )
        return f'<div class="crm-pipeline"><h2>Forecast by expected close</h2>{body}</div>'

    def _funnel_html(self) -> str:
        rows = self.store.funnel
        top = max((r["reached"] for r in rows), default=0)
        if not top:
            body = '<p class="crm-muted">No opportunities in this fund yet.</p>'
        else:
            body = (
                "<table><tr><th>Stage</th><th>Reached</th><th></th>"
                "<th>Conversion from the stage before</th></tr>"
                + "".join(
                    f"<tr><td>{escape_text(r['name'])}</td><td>{r['reached']:,}</td>"
                    f'<td style="width:220px"><div class="crm-funnel-bar"'
                    f' style="width:{100 * r["reached"] / top:.1f}%"></div></td>'
                    f"<td>{escape_text(percent(r['conversion'])) if r['conversion'] is not None else '—'}</td></tr>"
                    for r in rows
                )
                + "</table>"
            )
        return (
            '<div class="crm-pipeline"><h2>Funnel</h2>'
            '<p class="crm-muted">Each opportunity counted at the furthest stage it reached,'
            f" lost ones included.</p>{body}</div>"
        )

    # -- the board's actions ------------------------------------------------------------
    def on_board(self, message: Mapping[str, Any]) -> None:
        """A card was moved, opened, or asked a task for (see :mod:`apps.pipeline.board`)."""
        kind, card_id = message.get("kind"), message.get("id")
        if not isinstance(card_id, int):
            return
        if kind == "move" and isinstance(message.get("stage_id"), int):
            self.move(card_id, message["stage_id"], message.get("version"))
        elif kind == "open":
            self._show_details(card_id)
        elif kind == "task":
            self._show_details(card_id)
            self._report("Type the task's title under Tasks and press Enter.", failed=False)

    def move(self, opportunity_id: int, stage_id: int, version: Any) -> None:
        """Move a card (as dragged or moved with the keyboard). A move to Lost asks for the
        reason first; a move to a won stage proposes the commitment, written on confirmation."""
        stage = next((s for s in self.store.stages if s["id"] == stage_id), None)
        card = self.store.cards.get(opportunity_id)
        if stage is None or card is None or not isinstance(version, int):
            self.refresh()
            return
        if stage["kind"] == "lost":
            self._show_details(opportunity_id)
            self._report(
                f"Say why {card['investor_name']} was lost, then press “Close as lost”.",
                failed=False,
            )
            self.board.revision += 1  # the card goes back until the reason is given
            return
        moved = self.act(
            lambda ctx: services.move_opportunity(
                ctx, opportunity_id, stage_id, expected_version=version
            ),
            success=f"Moved {card['investor_name']} to {stage['name']}.",
        )
        self.refresh()
        if moved is not None and moved.get("proposed_commitment"):
            propose_commitment(self, moved, self.refresh)

    # -- details -------------------------------------------------------------------------
    def _show_details(self, opportunity_id: int | None = None) -> None:
        opportunity_id = opportunity_id or self._selected_id()
        if opportunity_id is None:
            return
        loaded = self.act(
            lambda ctx: (
                services.get_opportunity(ctx, opportunity_id),
                services.stage_history(ctx, opportunity_id),
            )
        )
        if loaded is None:
            self.selected = None
            self.details.visible = False
            return
        opportunity, history = loaded
        self.selected = opportunity
        self.board.selected = opportunity_id
        currency = opportunity.get("currency") or "USD"
        self.details_title.object = (
            '<div class="crm-pipeline"><h2>'
            f'<a href="{escape_text(record_url(opportunity["investor_id"]))}">'
            f"{escape_text(opportunity['investor_name'])}</a> · "
            f"{escape_text(opportunity['fund_name'])}</h2>"
            f'<p class="crm-muted">{escape_text(opportunity["stage_name"])}'
            f" for {plural(opportunity['days_in_stage'], 'day')} · weighted "
            f"{escape_text(money(opportunity['weighted_amount'], currency))}</p></div>"
        )
        self.stage_choice.value = opportunity["stage_id"]
        amount = opportunity["expected_amount"]
        self.expected.value = "" if amount is None else f"{amount:,.0f}"
        own = opportunity["probability"]
        self.probability.value = "" if own is None else percent(own)
        self.owner.value = opportunity["owner_id"]
        close = opportunity["expected_close"]
        self.expected_close.value = date.fromisoformat(close) if close else None
        self.next_step.value = opportunity["next_step"] or ""
        self.lost_reason.value = opportunity["lost_reason"] or ""
        self.history.object = _history_html(history, people_names(self.store.users))
        self.task_form.about(opportunity)
        self.details.visible = True

    def _changes(self) -> dict[str, Any]:
        return {
            "stage_id": self.stage_choice.value,
            "expected_amount": self.expected.value or None,
            "probability": self.probability.value or None,
            "owner_id": self.owner.value,
            "expected_close": self.expected_close.value.isoformat()
            if self.expected_close.value
            else None,
            "next_step": self.next_step.value,
        }

    def save(self) -> None:
        """Save the details form (with the version shown: a change made meanwhile is a
        conflict, and the details re-read)."""
        if self.selected is None:
            return
        shown = self.selected
        saved = self.act(
            lambda ctx: services.update_opportunity(
                ctx, shown["id"], self._changes(), expected_version=shown["version"]
            ),
            success=f"Saved {shown['investor_name']}'s opportunity.",
        )
        self.refresh()
        if saved is not None and saved.get("proposed_commitment"):
            propose_commitment(self, saved, self.refresh)

    def close_lost(self) -> None:
        if self.selected is None:
            return
        shown, reason = self.selected, self.lost_reason.value
        self.act(
            lambda ctx: services.close_opportunity(
                ctx, shown["id"], reason, expected_version=shown["version"]
            ),
            success=f"Closed {shown['investor_name']} as lost.",
        )
        self.refresh()

    # -- live ----------------------------------------------------------------------------
    def on_remote_changes(self, changes: list[Change]) -> None:
        """Another session's (or a job's) change: redraw once for a burst of them (the menus
        too when stages, funds or team members changed)."""
        if any(c.entity in MENU_TABLES for c in changes):
            self._menus_stale = True
        self.live.changed(changes)

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/pipeline",
            "Pipeline",
            pn.pane.Markdown(
                "Flag investors for a fund in the grid (its *stage* column); move them here by"
                " dragging a card, or focus a card and press ← →. Enter opens it, T adds a task.",
                css_classes=["crm-muted"],
            ),
            pn.Row(self.fund_choice, self.owner_choice, self.view_choice),
            self.empty,
            self.totals,
            pn.Row(self.board, self.details, sizing_mode="stretch_width"),
            pn.Row(self.forecast, self.funnel, sizing_mode="stretch_width"),
        )


def _history_html(history: list[Mapping[str, Any]], names: Mapping[str, str]) -> str:
    items = "".join(
        f"<li>{escape_text(str(move['at'])[:16].replace('T', ' '))}: "
        + (
            f"{escape_text(move['from_stage'])} → {escape_text(move['to_stage'])}"
            if move["from_stage"]
            else f"created in {escape_text(move['to_stage'])}"
        )
        + f' <span class="crm-muted">by {escape_text(person(move["actor"], names))}</span></li>'
        for move in history
    )
    return f'<div class="crm-pipeline"><h3>Stage history</h3><ul class="crm-history">{items}</ul></div>'
