"""State of the pipeline page, read through the service layer (no SQL here), and the board's
payload: every figure written as text once, here, so the browser only places it.

Filters: the fund (one board per fund), the owner and a saved view (its investors). The
fund's own figures (committed, target, open weighted and unweighted) stay whole; the columns,
cards, forecast and funnel follow the filters.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from typing import Any

import param

from apps.formatting import money, percent, plural
from apps.links import record_url
from crm_lib import services
from crm_lib.context import Context

#: Filter choices meaning "no filter".
EVERYONE = 0
ALL_INVESTORS = 0


class PipelineStore(param.Parameterized):
    """One session's pipeline page: the chosen fund and filters, and what they show."""

    fund_id = param.Integer(default=None, allow_None=True)
    owner_id = param.Integer(default=EVERYONE)
    view_id = param.Integer(default=ALL_INVESTORS)
    cold_days = param.Integer(default=30)

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.funds: list[dict[str, Any]] = []
        self.users: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.stages: list[dict[str, Any]] = []
        self.board: dict[str, Any] = {}
        self.whole: dict[str, Any] = {}
        self.forecast: list[dict[str, Any]] = []
        self.funnel: list[dict[str, Any]] = []
        self.cards: dict[int, dict[str, Any]] = {}

    def load_choices(self, ctx: Context) -> None:
        """The funds, team members, saved views and stages the page's menus offer."""
        self.funds = services.list_funds(ctx)
        self.users = [u for u in services.list_users(ctx) if u.get("is_active", 1)]
        self.views = services.list_views(ctx)
        self.stages = services.list_stages(ctx)
        if self.fund_id not in {f["id"] for f in self.funds}:
            raising = [f for f in self.funds if f.get("status") == "raising"]
            self.fund_id = (raising or self.funds or [{"id": None}])[0]["id"]

    def load(self, ctx: Context) -> None:
        """The chosen fund's board, forecast and funnel, as the filters narrow them."""
        if self.fund_id is None:
            self.board, self.whole, self.forecast, self.funnel, self.cards = {}, {}, [], [], {}
            return
        owner = self.owner_id or None
        ids = services.view_investor_ids(ctx, self.view_id) if self.view_id else None
        self.board = services.pipeline_board(
            ctx, self.fund_id, owner_id=owner, investor_ids=ids, cold_days=self.cold_days
        )
        narrowed = owner is not None or ids is not None
        self.whole = services.pipeline_summary(ctx, self.fund_id) if narrowed else self.board
        self.forecast = services.pipeline_forecast(
            ctx, self.fund_id, owner_id=owner, investor_ids=ids
        )
        self.funnel = services.pipeline_funnel(ctx, self.fund_id, owner_id=owner, investor_ids=ids)
        self.cards = {
            card["id"]: card for column in self.board["columns"] for card in column["cards"]
        }

    @property
    def currency(self) -> str:
        return str(self.board.get("currency") or "USD")

    def columns(self) -> list[dict[str, Any]]:
        """The board's payload: per stage its figures as text and its cards."""
        return [self._column(column) for column in self.board.get("columns", [])]

    def _column(self, column: Mapping[str, Any]) -> dict[str, Any]:
        currency = self.currency
        shown = len(column["cards"])
        more = column["count"] - shown
        return {
            "id": column["id"],
            "name": column["name"],
            "kind": column["kind"],
            "figures_text": f"{plural(column['count'], 'opportunity', 'opportunities')}"
            f" · {money(column['expected'], currency)}",
            "weighted_text": (
                f"{money(column['weighted'], currency)} weighted at"
                f" {percent(column['probability'])}"
                if column["kind"] == "open"
                else ""
            ),
            "more_text": f"and {more:,} smaller ones (see the totals)" if more > 0 else "",
            "cards": [card_payload(card, currency) for card in column["cards"]],
        }


def card_payload(card: Mapping[str, Any], currency: str) -> dict[str, Any]:
    """One card as the board draws it (names as the text they are; see :mod:`.board`)."""
    amount = card["expected_amount"]
    amount_text = (
        f"{money(amount, currency)} · {percent(card['probability_used'])}"
        if amount is not None
        else f"No amount yet · {percent(card['probability_used'])}"
    )
    touch = card.get("last_touch_at")
    touch_text = f"Last email {str(touch)[:10]}" if touch else "No email yet"
    cold = bool(card.get("going_cold")) and card["status"] != "lost"  # open, and committed
    if cold:
        touch_text = "Going cold · " + touch_text
    days = card["days_in_stage"]
    return {
        "id": card["id"],
        "version": card["version"],
        "stage_id": card["stage_id"],
        "investor_id": card["investor_id"],
        "investor_name": card["investor_name"],
        "record_url": record_url(card["investor_id"]),
        "amount_text": amount_text,
        "owner_text": card.get("owner_name") or "No owner",
        "next_step": card.get("next_step") or "",
        "age_text": f"{plural(days, 'day')} in {card['stage_name']}",
        "touch_text": touch_text,
        "going_cold": cold,
        "label": f"{card['investor_name']}, {amount_text}, {card['stage_name']}",
    }


def month_label(month: str) -> str:
    """``2027-03`` as "Mar 2027"; other text (no expected close) as it is."""
    year, _, number = month.partition("-")
    if not (year.isdigit() and number.isdigit()) or not 1 <= int(number) <= 12:
        return month
    return f"{calendar.month_abbr[int(number)]} {year}"
