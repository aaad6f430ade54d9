"""The funds page (admins): create and edit funds, and the commitments matrix (investors by
funds) with each fund's total against its target."""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.chrome import UserPage, read_only_table, set_choices, table_frame
from apps.formatting import (
    MONEY,
    PERCENT,
    PLAIN,
    Show,
    label,
    money,
    money_in,
    percent,
    pills,
    plural,
)
from apps.forms import FormErrors
from apps.markup import column_titles, escape_text
from crm_lib import limits, services
from crm_lib.services.funds import STATUSES

FUND_COLUMNS = {
    "id": "Id",
    "name": "Fund",
    "vintage_year": "Vintage",
    "status": "Status",
    "currency": "Currency",
    "target_size": "Target",
    "committed": "Committed",
    "progress": "% of target",
    "commitment_count": "LPs",
}
#: Amounts in each fund's own currency (the row's "Currency" cell).
FUND_MONEY = money_in(currency_field="Currency")
FUND_SHOWS: dict[str, Show] = {
    "id": PLAIN,
    "vintage_year": PLAIN,  # a year: "2017", not "2,017"
    "status": pills("fund_status"),
    "target_size": FUND_MONEY,
    "committed": FUND_MONEY,
    "progress": PERCENT,
    "commitment_count": PLAIN,
}
MATRIX_PAGE = 50


class FundsPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.funds: list[dict[str, Any]] = []
        self.funds_table = read_only_table(
            FUND_COLUMNS,
            FUND_SHOWS,
            empty="No funds yet. Add the first one: fill in the form below and press “Save fund”.",
        )
        self.matrix_table = read_only_table(
            {"investor": "Investor", "total": "Total"},
            empty="No commitments yet. Enter them in the grid's fund columns or on a record.",
        )
        self.page = 1
        self.matrix_info = pn.pane.HTML("", sizing_mode="stretch_width")
        self.choice = pn.widgets.Select(label="Fund to edit", options={"New fund": None})
        self.fund_name = pn.widgets.TextInput(
            label="Name", max_length=limits.max_length("fund_name")
        )
        self.vintage = pn.widgets.IntInput(label="Vintage year", value=None, start=1900, end=2200)
        self.target = pn.widgets.TextInput(
            label="Target size", placeholder="$350,000,000", max_length=limits.max_length("amount")
        )
        self.currency = pn.widgets.TextInput(
            label="Currency", value="USD", max_length=limits.max_length("text")
        )
        self.status_choice = pn.widgets.Select(
            label="Status",
            options={label("fund_status", s): s for s in STATUSES},
            value="raising",
        )
        self.form = FormErrors(
            {
                "name": self.fund_name,
                "vintage_year": self.vintage,
                "target_size": self.target,
                "currency": self.currency,
                "status": self.status_choice,
            }
        )
        self.save_button = pn.widgets.Button(label="Save fund", color="primary")
        self.prev_button = pn.widgets.Button(label="◀ Previous")
        self.next_button = pn.widgets.Button(label="Next ▶")
        self.save_button.on_click(lambda _: self.save())
        self.prev_button.on_click(lambda _: self.turn(-1))
        self.next_button.on_click(lambda _: self.turn(+1))
        self.choice.param.watch(lambda _: self.load_form(), "value")
        self.refresh()

    def refresh(self) -> None:
        loaded = self.act(
            lambda ctx: (
                services.list_funds(ctx),
                services.commitments_matrix(ctx, page=self.page, page_size=MATRIX_PAGE),
            )
        )
        if loaded is None:
            return
        self.funds, matrix = loaded
        shown = [
            {**f, "progress": f["committed"] / f["target_size"] if f["target_size"] else None}
            for f in self.funds
        ]
        self.funds_table.value = table_frame(shown, FUND_COLUMNS, FUND_SHOWS)
        set_choices(self.choice, {"New fund": None, **{f["name"]: f["id"] for f in self.funds}})
        # A fund's column is keyed by its id and titled by its name: a name in the field would
        # reach Tabulator's configuration (which Panel may run as code, and where "a.b" means
        # nested data), and titles are HTML, so they are escaped (apps/markup.py).
        funds = {f"fund_{f['fund_id']}": f["fund"] for f in matrix["funds"]}
        currency = {f["id"]: f["currency"] or "USD" for f in self.funds}
        shows = {"total": MONEY} | {
            f"fund_{f['fund_id']}": money_in(currency.get(f["fund_id"], "USD"))
            for f in matrix["funds"]
        }
        columns = {"investor": "Investor", "total": "Total", **{key: key for key in funds}}
        self.matrix_table.param.update(
            value=table_frame(matrix["rows"], columns, shows),
            titles=column_titles(funds),
            formatters={columns[key]: show.formatter for key, show in shows.items()},
            text_align={columns[key]: "right" for key in shows},
        )
        targets = " · ".join(
            f"<b>{escape_text(f['fund'])}</b> "
            + escape_text(money(f["committed"], currency.get(f["fund_id"], "USD")))
            + (
                " of "
                + escape_text(money(f["target_size"], currency.get(f["fund_id"], "USD")))
                + f" ({escape_text(percent(f['progress']))})"
                if f["target_size"]
                else ""
            )
            for f in matrix["funds"]
        )
        last = max(1, -(-matrix["total"] // MATRIX_PAGE))
        counted = plural(matrix["total"], "investor")
        self.matrix_info.object = (
            f"<p>{targets}</p><p>{counted} with commitments · page {self.page:,} of {last:,}</p>"
        )

    def turn(self, step: int) -> None:
        self.page = max(1, self.page + step)
        self.refresh()

    def load_form(self) -> None:
        fund = next((f for f in self.funds if f["id"] == self.choice.value), None)
        self.form.clear()
        self.fund_name.value = fund["name"] if fund else ""
        self.vintage.value = fund["vintage_year"] if fund else None
        self.target.value = f"{fund['target_size']:,.0f}" if fund and fund["target_size"] else ""
        self.currency.value = fund["currency"] if fund else "USD"
        self.status_choice.value = fund["status"] if fund else "raising"

    def _values(self) -> dict[str, Any]:
        return {
            "name": self.fund_name.value,
            "vintage_year": self.vintage.value,
            "target_size": self.target.value or None,
            "currency": self.currency.value,
            "status": self.status_choice.value,
        }

    def save(self) -> None:
        fund = next((f for f in self.funds if f["id"] == self.choice.value), None)
        values = self._values()
        if fund is None:
            saved = self.act(
                lambda ctx: services.create_fund(ctx, values),
                success=f"Created {values['name']}.",
                form=self.form,
            )
        else:
            saved = self.act(
                lambda ctx: services.update_fund(
                    ctx, fund["id"], values, expected_version=fund["version"]
                ),
                success=f"Saved {values['name']}.",
                form=self.form,
            )
        if saved is not None:
            self.refresh()
            self.choice.value = saved["id"]

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/funds",
            "Funds",
            self.funds_table,
            pn.pane.Markdown("## Create or edit a fund"),
            self.choice,
            pn.Row(*(self.form.field(key) for key in ("name", "vintage_year", "target_size"))),
            pn.Row(self.form.field("currency"), self.form.field("status"), self.save_button),
            pn.pane.Markdown("## Commitments by investor and fund"),
            self.matrix_info,
            self.matrix_table,
            pn.Row(self.prev_button, self.next_button),
        )
