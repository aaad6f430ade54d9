"""The activity page: one stream of what happened — record changes, imports, backups, restores
and job runs — newest first, as sentences grouped by day ("Alice changed Location of Acme Capital
from Boston to New York · 3 minutes ago"), each investor linked to its record. Filters: who, which
investor (type part of a name, pick a match), what kinds and which days; "Load more" continues
where the list ends. Everyone on the team sees it; the library decides what each event says
(``services.activity``), :mod:`apps.activity.render` draws it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import panel as pn

from apps.activity.render import FEED_CSS, empty_html, feed_html, local_zone
from apps.chrome import UserPage
from apps.formatting import browser_zone, plural
from apps.links import url_int
from crm_lib import limits, services
from crm_lib.services.activity import KIND_LABELS, KINDS

#: Events per page; "Load more" asks for the next as many.
PAGE_SIZE = 50
#: Investor names offered for what was typed.
MATCHES = 10
ANYONE = ""
ANY_INVESTOR = 0


class ActivityPage(UserPage):
    """One user's activity feed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events: list[dict[str, Any]] = []
        self.has_more = False
        self.person = pn.widgets.Select(
            label="Who",
            options={"Anyone": ANYONE},
            value=ANYONE,
            width=200,
            css_classes=["crm-person-choice"],
        )
        self.investor_search = pn.widgets.TextInput(
            label="Investor",
            placeholder="Type part of a name",
            width=200,
            max_length=limits.max_length("search"),
            css_classes=["crm-investor-search"],
        )
        self.investor = pn.widgets.Select(
            label="Matching investors",
            options={"Any investor": ANY_INVESTOR},
            value=ANY_INVESTOR,
            width=240,
            css_classes=["crm-investor-choice"],
        )
        self.kinds = pn.widgets.CheckButtonGroup(
            label="Kinds",
            options={KIND_LABELS[kind]: kind for kind in KINDS},
            value=list(KINDS),
            color="primary",
            variant="outline",
            css_classes=["crm-kinds"],
        )
        self.since = pn.widgets.DatePicker(label="From", width=130)
        self.until = pn.widgets.DatePicker(label="To (inclusive)", width=130)
        self.feed = pn.pane.HTML(
            "",
            css_classes=["crm-activity"],
            stylesheets=[FEED_CSS],
            sizing_mode="stretch_width",
        )
        self.more_button = pn.widgets.Button(
            label="Load more", visible=False, css_classes=["crm-load-more"]
        )
        self.shown = pn.pane.HTML("", css_classes=["crm-activity-count"], margin=(8, 10))
        self._load_people()
        opened_on = url_int("investor")  # /activity?investor=12 (apps.links.activity_url)
        if opened_on is not None:
            self._offer_investors(investor_id=opened_on)
        for widget in (self.person, self.investor, self.kinds, self.since, self.until):
            widget.param.watch(lambda _: self.refresh(), "value")
        self.investor_search.param.watch(lambda e: self.find_investors(e.new), "value_input")
        self.more_button.on_click(lambda _: self.load_more())
        info = getattr(pn.state, "browser_info", None)
        if info is not None and pn.state.curdoc is not None:
            # the browser says its timezone after the page is built: days and times follow it
            info.param.watch(lambda _: self.render(), "timezone")
        self.refresh()

    # -- the filters -------------------------------------------------------------------------
    def _load_people(self) -> None:
        people = self.act(services.activity_people) or []
        names = [p["name"] for p in people]
        options = {"Anyone": ANYONE}
        for person in people:  # two members with one name are told apart by email
            label = person["name"]
            if names.count(label) > 1:
                label = f"{label} ({person['actor']})"
            options[label] = person["actor"]
        self.person.options = options

    def find_investors(self, text: str) -> None:
        """Offer the investors whose name holds ``text`` (two letters at least); one match is
        picked at once."""
        text = (text or "").strip()
        if len(text) < 2:
            return
        self._offer_investors(text=text)

    def _offer_investors(self, *, text: str = "", investor_id: int | None = None) -> None:
        found = self.act(
            lambda ctx: services.activity_investors(
                ctx, text, investor_id=investor_id, limit=MATCHES
            )
        )
        if found is None:
            return
        options = {"Any investor": ANY_INVESTOR}
        current = self.investor.value
        if current:  # the investor picked stays picked while another name is typed
            label = next((k for k, v in self.investor.options.items() if v == current), None)
            options[label or f"Investor #{current}"] = current
        for row in found:
            if row["id"] in options.values():
                continue
            label = row["name"] + (" (archived)" if row["archived"] else "")
            if label in options:  # two investors with one name: the id tells them apart
                label = f"{label} (#{row['id']})"
            options[label] = row["id"]
        self.investor.options = options
        if len(found) == 1:
            self.investor.value = found[0]["id"]

    def _query(self) -> dict[str, Any]:
        zone = local_zone(browser_zone())
        since = self.since.value
        until = self.until.value
        return {
            "actor": self.person.value or None,
            "investor_id": self.investor.value or None,
            "kinds": tuple(self.kinds.value),
            "since": _start_of(since, zone) if since else None,
            "until": _start_of(until + timedelta(days=1), zone) if until else None,
        }

    def filtered(self) -> bool:
        """Whether any filter narrows the feed (the empty state says what to undo)."""
        query = self._query()
        return bool(
            query["actor"]
            or query["investor_id"]
            or query["since"]
            or query["until"]
            or set(query["kinds"]) != set(KINDS)
        )

    # -- reading -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the newest events that match the filters."""
        query = self._query()
        if not query["kinds"]:
            self.events, self.has_more = [], False
            self.render()
            return
        events = self.act(lambda ctx: services.activity(ctx, **query, limit=PAGE_SIZE))
        if events is None:
            return
        self.events, self.has_more = events, len(events) == PAGE_SIZE
        self.render()

    def load_more(self) -> None:
        """Add the next events after the last one shown."""
        if not self.events:
            return
        query = self._query()
        before = self.events[-1]["cursor"]
        events = self.act(
            lambda ctx: services.activity(ctx, **query, limit=PAGE_SIZE, before=before)
        )
        if events is None:
            return
        self.events = [*self.events, *events]
        self.has_more = len(events) == PAGE_SIZE
        self.render()

    def render(self) -> None:
        zone = browser_zone()
        now = self.runtime.clock.now()
        if self.events:
            self.feed.object = feed_html(self.events, zone=zone, now=now)
            self.shown.object = f"Showing {plural(len(self.events), 'event')}"
        elif not self.kinds.value:
            self.feed.object = empty_html("Choose at least one kind of activity to see.")
            self.shown.object = ""
        elif self.filtered():
            self.feed.object = empty_html(
                "Nothing matches these filters. Choose “Anyone”, “Any investor”, more kinds"
                " or other days to see more."
            )
            self.shown.object = ""
        else:
            self.feed.object = empty_html(
                "Nothing has happened yet. Every change to an investor, a person, a commitment,"
                " a fund, a field or a view shows here, with imports, backups and job runs."
                " Start in the grid: add an investor or import a spreadsheet.",
                ("/grid", "Open the grid"),
            )
            self.shown.object = ""
        self.more_button.visible = self.has_more

    def __panel__(self) -> pn.viewable.Viewable:
        return self.frame(
            "/activity",
            "Activity",
            pn.Row(self.person, self.investor_search, self.investor, self.since, self.until),
            self.kinds,
            self.feed,
            pn.Row(self.more_button, self.shown),
        )


def _start_of(day: date, zone: Any) -> datetime:
    """Midnight at the start of ``day`` in the user's timezone."""
    return datetime.combine(day, time(0), tzinfo=zone)
