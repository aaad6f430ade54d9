"""State of the home page, loaded from the service layer (no SQL here): plain data, drawn by
:mod:`apps.home.page`."""

from __future__ import annotations

from typing import Any

import param

from crm_lib import services
from crm_lib.context import Context

#: How many of each the home page shows.
RECENT_EVENTS = 6
TOP_INVESTORS = 10
ATTENTION_EXAMPLES = 3
TASKS_SHOWN = 6
TASKS_READ = 200
COLD_SHOWN = 8
NOTICES_SHOWN = 8


class HomeStore(param.Parameterized):
    """Everything the home page shows."""

    #: Live investors per list key, plus ``all`` and ``archived`` (services.count_by_list).
    list_counts = param.Dict(default={})
    #: Each list: ``{"list", "label", "investors", "committed"}`` (services.list_breakdown).
    lists = param.List(default=[])
    #: Commitments outside the graveyard list (as the team's sheet totals them) ...
    committed = param.Number(default=0)
    #: ... and those of graveyard investors, shown apart so nothing is silently dropped.
    committed_graveyard = param.Number(default=0)
    #: Each live fund against its target (services.fund_progress).
    funds = param.List(default=[])
    #: What needs the team (services.attention), counts of zero left out.
    attention = param.List(default=[])
    #: The latest events, with their sentences (services.activity).
    recent = param.List(default=[])
    #: The largest investors by total invested (only those with a commitment).
    top_investors = param.List(default=[])
    #: The member's open tasks: ``{"overdue": [...], "today": [...], "upcoming": [...]}``.
    my_tasks = param.Dict(default={})
    #: Investors going cold (services.going_cold): the member's own, else the team's.
    going_cold = param.Dict(default={})
    #: Whether :attr:`going_cold` is the member's own (False: the whole team's).
    cold_mine = param.Boolean(default=True)
    #: Unread notices from automation rules (services.list_notifications).
    notices = param.Dict(default={})

    def load(self, ctx: Context) -> None:
        """Read the summary through the services."""
        lists = services.list_breakdown(ctx)
        # the committed total as the team's sheet has it, and the graveyard's part apart
        committed = sum(row["committed"] for row in lists if row["list"] != "graveyard")
        graveyard = sum(row["committed"] for row in lists if row["list"] == "graveyard")
        top = services.list_investors(
            ctx, sort=[("total_invested", "desc")], page=1, page_size=TOP_INVESTORS
        ).rows
        self.param.update(
            list_counts=services.count_by_list(ctx),
            lists=lists,
            committed=committed,
            committed_graveyard=graveyard,
            funds=services.fund_progress(ctx),
            attention=[
                item
                for item in services.attention(ctx, examples=ATTENTION_EXAMPLES)
                if item["count"]
            ],
            recent=services.activity(ctx, limit=RECENT_EVENTS),
            top_investors=[_top(row) for row in top if row.get("total_invested")],
        )

    def load_mine(self, ctx: Context, cold_days: int) -> None:
        """What is the member's own: their tasks, and the investors they own going cold
        (the team's when they own none that are)."""
        mine = services.going_cold(ctx, days=cold_days, owner_id=ctx.user_id, limit=COLD_SHOWN)
        team = mine
        if not mine["total"]:
            team = services.going_cold(ctx, days=cold_days, limit=COLD_SHOWN)
        self.param.update(
            notices=services.list_notifications(ctx, limit=NOTICES_SHOWN),
            my_tasks=services.my_tasks(ctx, limit=TASKS_READ),
            going_cold=team,
            cold_mine=bool(mine["total"]),
        )


def _top(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "type": row.get("type"),
        "status": row.get("status"),
        "total_invested": row["total_invested"],
    }
