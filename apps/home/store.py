"""State of the home page, loaded from the service layer (no SQL here)."""

from __future__ import annotations

import pandas as pd
import param

from crm_lib import services
from crm_lib.context import Context

FUND_COLUMNS = {
    "name": "Fund",
    "vintage_year": "Vintage",
    "status": "Status",
    "target_size": "Target",
    "committed": "Committed",
    "progress": "% of target",
    "commitment_count": "LPs",
}
TOP_COLUMNS = {
    "name": "Investor",
    "type": "Type",
    "status": "Status",
    "owner_name": "Owner",
    "total_invested": "Total invested",
}


class HomeStore(param.Parameterized):
    """Everything the home page shows, as plain data."""

    list_counts = param.Dict(default={})
    #: Live commitments outside the graveyard list (as the team's sheet totals them) ...
    committed = param.Number(default=0)
    #: ... and those of graveyard investors, shown apart so nothing is silently dropped.
    committed_graveyard = param.Number(default=0)
    funds = param.DataFrame(default=pd.DataFrame(columns=list(FUND_COLUMNS.values())))
    top_investors = param.DataFrame(default=pd.DataFrame(columns=list(TOP_COLUMNS.values())))

    def load(self, ctx: Context) -> None:
        """Read the summary through the services."""
        funds = pd.DataFrame(services.list_funds(ctx), columns=[*FUND_COLUMNS, "id"])
        if not funds.empty:
            funds["progress"] = (funds["committed"] / funds["target_size"] * 100).round(1)
        top = services.list_investors(
            ctx, sort=[("total_invested", "desc")], page=1, page_size=10
        ).rows
        totals = services.relational_summary(ctx)["totals"]
        self.param.update(
            list_counts=services.count_by_list(ctx),
            committed=totals["committed_excluding_graveyard"],
            committed_graveyard=totals["committed_graveyard"],
            funds=funds[list(FUND_COLUMNS)].rename(columns=FUND_COLUMNS),
            top_investors=pd.DataFrame(top, columns=list(TOP_COLUMNS)).rename(columns=TOP_COLUMNS),
        )
