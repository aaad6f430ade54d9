"""The home page view: list counts, fund progress and the largest investors."""

from __future__ import annotations

import pandas as pd
import panel as pn
from panel.viewable import Viewer

from apps.auth.live import OpenPages
from apps.auth.provider import current_session
from apps.chrome import nav_bar
from apps.home.store import HomeStore
from apps.runtime import Runtime

LIST_LABELS = {
    "all": "All investors",
    "main": "Main",
    "follow_up": "Follow-up",
    "graveyard": "Graveyard",
    "longshot": "Longshot",
}
MONEY = {"type": "money", "symbol": "$", "precision": 0}
PERCENT = {"type": "money", "symbol": "%", "symbolAfter": True, "precision": 1}
PLAIN = {"type": "plaintext"}  # years: no thousands separator


class HomePage(Viewer):
    """Read-only overview; the editable grid is its own page."""

    def __init__(self, runtime: Runtime, pages: OpenPages | None = None, **params: object) -> None:
        super().__init__(**params)
        self.store = HomeStore()
        self.session = current_session()
        if self.session is not None and pages is not None:
            pages.register(self.session.session.session_id)
        with runtime.context("system:web") as ctx:
            self.store.load(ctx)
        self.funds_table = self._table(
            self.store.funds,
            {"Target": MONEY, "Committed": MONEY, "% of target": PERCENT, "Vintage": PLAIN},
        )
        self.top_table = self._table(self.store.top_investors, {"Total invested": MONEY})

    def _counts(self) -> pn.Row:
        return pn.Row(
            *(
                pn.indicators.Number(
                    label=label,
                    value=self.store.list_counts.get(key, 0),
                    format="{value:,}",
                    font_size="28pt",
                    title_size="11pt",
                )
                for key, label in LIST_LABELS.items()
            ),
            css_classes=["crm-list-counts"],
        )

    def _committed(self) -> pn.Row:
        """The fundraise's total as the team's sheet has it (no graveyard), and the graveyard's
        part beside it, labelled so that nobody compares it with an all-in number."""
        return pn.Row(
            *(
                pn.indicators.Number(
                    label=label,
                    value=value,
                    format="${value:,.0f}",
                    font_size="28pt",
                    title_size="11pt",
                )
                for label, value in (
                    ("Total committed (excluding graveyard)", self.store.committed),
                    ("Committed by graveyard investors", self.store.committed_graveyard),
                )
            ),
            css_classes=["crm-committed"],
        )

    @staticmethod
    def _table(frame: pd.DataFrame, formatters: dict[str, dict]) -> pn.widgets.Tabulator:
        return pn.widgets.Tabulator(
            frame,
            disabled=True,
            show_index=False,
            layout="fit_data_table",
            formatters=formatters,
            sizing_mode="stretch_width",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        header = pn.Column(
            nav_bar(self.session, "/"),
            pn.pane.Markdown(
                "# Venture CRM\nThe fundraising team's record of investors, people, funds and "
                "commitments."
            ),
        )
        if not self.store.list_counts.get("all"):
            empty = pn.pane.Alert(
                "No investors yet. Load the demo fund with `./panel_serve.sh --demo` "
                "(or `crm demo-data`), or add investors from a notebook with `crm_lib.services`.",
                alert_type="info",
            )
            return pn.Column(header, empty, sizing_mode="stretch_width")
        return pn.Column(
            header,
            self._counts(),
            self._committed(),
            pn.pane.Markdown("## Funds"),
            self.funds_table,
            pn.pane.Markdown("## Largest investors"),
            self.top_table,
            sizing_mode="stretch_width",
            styles={"max-width": "1100px", "margin": "0 auto"},
        )
