"""The contacts page: the read-only directory of every person the fund knows, searchable and
filterable by investor, each row linking to its investor's record page. People are created and
edited on their investor's record, so the directory never disagrees with it.

The URL opens it filtered: ``/contacts?contact=<id>`` shows that one contact (each person on a
record page links there), ``/contacts?investor=<id>`` that investor's people."""

from __future__ import annotations

from typing import Any

import panel as pn

from apps.chrome import UserPage, read_only_table, table_frame
from apps.formatting import plural
from apps.links import url_int
from apps.markup import link_formatter
from crm_lib import limits, services

COLUMNS = {
    "full_name": "Name",
    "email": "Email",
    "title": "Title",
    "phone": "Phone",
    "organization": "Investor",
    "link": "Open",
}
PAGE_SIZE = 100
#: The "Open" cell holds the investor's id, drawn as a link (never as HTML from the data).
INVESTOR_LINK = link_formatter("/record?id={}", "record ↗")


class ContactsPage(UserPage):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page = 1
        self.total = 0
        self.search = pn.widgets.TextInput(
            label="Search",
            placeholder="Name, email, title or investor",
            max_length=limits.max_length("search"),
            css_classes=["crm-contacts-search"],
        )
        self.investor = pn.widgets.IntInput(
            label="Investor id", value=url_int("investor"), start=1, width=120
        )
        #: one contact asked for by the URL (?contact=<id>); dropped by any other filter
        self.contact_id = url_int("contact")
        self.show_all_button = pn.widgets.Button(label="Show everyone", visible=False)
        self.table = read_only_table(
            COLUMNS, empty="No people match. Add people to investors on their record page."
        )
        self.table.formatters = {"Open": INVESTOR_LINK}
        self.table.height = 600
        self.info = pn.pane.HTML("")
        self.prev_button = pn.widgets.Button(label="◀ Previous")
        self.next_button = pn.widgets.Button(label="Next ▶")
        self.search.param.watch(lambda _: self.show_everyone(), "value")
        self.investor.param.watch(lambda _: self.show_everyone(), "value")
        self.show_all_button.on_click(lambda _: self.show_everyone())
        self.prev_button.on_click(lambda _: self.go(self.page - 1))
        self.next_button.on_click(lambda _: self.go(self.page + 1))
        self.go(1)

    def show_everyone(self) -> None:
        """Drop the one-contact filter of the URL; show the first page of the rest."""
        self.contact_id = None
        self.go(1)

    def go(self, page: int) -> None:
        """Show a page of the directory (first page when the search or investor changes)."""
        search, investor_id = self.search.value or None, self.investor.value
        contact_id = self.contact_id

        def load(ctx: Any) -> tuple[list[dict[str, Any]], int]:
            total = services.count_contacts(
                ctx, search=search, investor_id=investor_id, contact_id=contact_id
            )
            last = max(1, -(-total // PAGE_SIZE))
            self.page = max(1, min(page, last))
            rows = services.list_contacts(
                ctx,
                limit=PAGE_SIZE,
                offset=(self.page - 1) * PAGE_SIZE,
                search=search,
                investor_id=investor_id,
                contact_id=contact_id,
            )
            return rows, total

        loaded = self.act(load)
        if loaded is None:
            return
        rows, self.total = loaded
        for row in rows:
            row["link"] = row.get("investor_id")
            row["organization"] = row.get("organization") or ""
        self.table.value = table_frame(rows, COLUMNS)
        pages = max(1, -(-self.total // PAGE_SIZE))
        counted = plural(self.total, "person", "people")
        self.info.object = f"<b>{counted}</b> · page {self.page:,} of {pages:,}"
        if contact_id is not None:
            self.info.object = (
                "Showing the one contact the link asked for"
                if self.total
                else "The contact the link asked for is not in the directory (removed?)"
            )
        self.show_all_button.visible = contact_id is not None
        self.prev_button.disabled = self.page <= 1
        self.next_button.disabled = self.page >= pages

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/contacts",
            "Contacts",
            pn.pane.Markdown(
                "Everyone the fund knows. People are added and edited on their investor's record."
            ),
            pn.Row(self.search, self.investor),
            pn.Row(
                self.info,
                self.show_all_button,
                pn.layout.HSpacer(),
                self.prev_button,
                self.next_button,
            ),
            self.table,
        )
