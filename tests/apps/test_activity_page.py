"""The activity page driven through its widgets without a browser: sentences grouped by day, each
investor linked to its record, filters that narrow the feed, "Load more", and empty states that
say what to do."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import pytest

from apps.activity.page import PAGE_SIZE, ActivityPage
from apps.activity.render import day_heading
from apps.links import record_url
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.config import Settings
from tests.apps.conftest import session_of

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # a Wednesday
HOSTILE = '<img src=x onerror="window.__xss=1">'
#: What a missing value or a stored timestamp looks like when it leaks into a page.
LEAKS = re.compile(r"\b(NaN|None|null|undefined|NaT)\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def text_of(markup: str) -> str:
    """What a person reads: the tags dropped (titles and attributes included), entities read."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))


@pytest.fixture
def runtime(settings_with_team: Settings, clock: FixedClock) -> Runtime:
    """Alice's edits over three days (a Friday, yesterday and today), Bob's one today."""
    runtime = Runtime(settings_with_team, secret_key="k" * 48, clock=clock)
    with runtime.context() as ctx:
        users = {u["email"]: u for u in services.list_users(ctx)}
        alice = ctx.as_user(users["alice@fund.example"])
        bob = ctx.as_user(users["bob@fund.example"])
        acme = services.create_investor(alice, {"name": "Acme Capital", "location": "Boston"})
        services.create_investor(alice, {"name": HOSTILE})
        clock.advance(days=4)  # Tuesday the 24th: yesterday
        services.update_field(alice, acme["id"], "location", "New York", expected_version=1)
        clock.advance(hours=24)  # today
        other = services.create_investor(bob, {"name": "Other LP"})
        services.update_field(bob, other["id"], "status", "Meeting", expected_version=1)
    clock.advance(hours=5)  # the page is read later today
    assert clock.now() == NOW
    return runtime


def page_of(runtime: Runtime, email: str = "bob@fund.example") -> ActivityPage:
    page = ActivityPage(runtime, session=session_of(runtime, email))
    assert not page.failed, page.message
    return page


def test_events_read_as_sentences_grouped_by_day(runtime: Runtime) -> None:
    page = page_of(runtime)
    shown = text_of(page.feed.object)
    assert [h for h in ("Today", "Yesterday", "Friday, Nov 20") if h in shown] == [
        "Today",
        "Yesterday",
        "Friday, Nov 20",
    ]
    assert shown.index("Today") < shown.index("Bob set Status of Other LP to Meeting")
    assert "Alice changed Location of Acme Capital from Boston to New York" in shown
    assert "Alice added Acme Capital to Main" in shown
    assert LEAKS.search(shown) is None, LEAKS.search(shown)
    assert "hours ago" in shown or "minutes ago" in shown  # when, relative ...
    assert re.search(r'<time datetime="[^"]+" title="2026-11-24 \d\d:\d\d UTC">', page.feed.object)


def test_each_investor_links_to_its_record(runtime: Runtime) -> None:
    page = page_of(runtime)
    with runtime.context() as ctx:
        acme = next(r for r in services.list_investors(ctx).rows if r["name"] == "Acme Capital")
    link = f'<a class="crm-investor" href="{html.escape(record_url(acme["id"]))}">Acme Capital</a>'
    assert link in page.feed.object


def test_a_hostile_name_is_shown_as_text(runtime: Runtime) -> None:
    page = page_of(runtime)
    assert "<img" not in page.feed.object
    assert f"Alice added {HOSTILE} to Main" in text_of(page.feed.object)


def test_a_question_asked_links_back_to_the_ask_page_and_shows_to_its_asker(
    runtime: Runtime,
) -> None:
    from crm_lib.services.ask import AskEngine

    engine = AskEngine(runtime.settings)
    question = f"How many investors does each owner on the team cover? {HOSTILE}"
    with runtime.context() as ctx:
        bob = ctx.as_user(next(u for u in services.list_users(ctx) if u["email"].startswith("bob")))
        services.ask_sql(bob, engine, "SELECT count(*) AS n FROM investors", question=question)
    engine.close()
    mine = page_of(runtime).feed.object
    shown = text_of(mine)
    assert "Bob asked “How many investors does each owner on the team cover? <img" in shown
    assert "…” (1 row)" in shown  # a long question is cut; its link asks the whole of it
    assert 'class="crm-part-question" href="/ask?q=How+many+investors' in mine
    assert "window.__xss%3D1%22%3E" in mine  # the whole question, URL-encoded
    assert "<img" not in mine
    assert "Bob asked" in text_of(page_of(runtime, "alice@fund.example").feed.object)  # an admin


def test_filters_narrow_the_feed(runtime: Runtime) -> None:
    page = page_of(runtime)
    everything = len(page.events)
    page.person.value = "alice@fund.example"
    assert page.events and {e["actor"] for e in page.events} == {"alice@fund.example"}
    assert "Other LP" not in text_of(page.feed.object)
    page.person.value = ""
    page.investor_search.value_input = "acme"  # one match: picked at once
    assert page.investor.value != 0
    assert {e["investor_name"] for e in page.events} == {"Acme Capital"}
    assert len(page.events) == 2 < everything
    page.investor.value = 0
    assert len(page.events) == everything
    page.kinds.value = ["backup"]
    assert page.events == [] and "Nothing matches these filters" in page.feed.object
    page.kinds.value = []
    assert "Choose at least one kind" in page.feed.object


def test_the_picker_offers_every_match_and_keeps_the_pick(runtime: Runtime) -> None:
    page = page_of(runtime)
    page.investor_search.value_input = "e"  # one letter: nothing asked yet
    assert list(page.investor.options) == ["Any investor"]
    page.investor_search.value_input = "er"  # Other LP, and the planted name's "onerror"
    assert list(page.investor.options) == ["Any investor", HOSTILE, "Other LP"]
    assert page.investor.value == 0  # two matches: the person picks
    page.investor.value = page.investor.options["Other LP"]
    page.investor_search.value_input = "zz"
    assert list(page.investor.options) == ["Any investor", "Other LP"]  # the pick stays
    assert {e["investor_name"] for e in page.events} == {"Other LP"}


def test_load_more_adds_the_next_events(runtime: Runtime, clock: FixedClock) -> None:
    with runtime.context() as ctx:
        made = services.create_investor(ctx, {"name": "Busy LP"})
        for n in range(PAGE_SIZE + 5):
            services.update_field(ctx, made["id"], "notes", f"note {n}", expected_version=n + 1)
    page = page_of(runtime)
    assert len(page.events) == PAGE_SIZE and page.more_button.visible
    first = [e["cursor"] for e in page.events]
    page.load_more()
    cursors = [e["cursor"] for e in page.events]
    assert cursors[:PAGE_SIZE] == first and len(set(cursors)) == len(cursors)
    assert not page.more_button.visible  # the end: 61 events in all
    assert len(cursors) == PAGE_SIZE + 11


def test_an_empty_feed_says_what_to_do(settings_with_team: Settings) -> None:
    runtime = Runtime(settings_with_team, secret_key="k" * 48)
    page = page_of(runtime)
    assert page.events == []
    assert "Nothing has happened yet" in page.feed.object
    assert 'href="/grid"' in page.feed.object


def test_a_link_opens_the_feed_of_one_investor(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with runtime.context() as ctx:
        acme = next(r for r in services.list_investors(ctx).rows if r["name"] == "Acme Capital")
    monkeypatch.setattr("apps.links.session_args", lambda: {"investor": [str(acme["id"]).encode()]})
    page = page_of(runtime)
    assert page.investor.value == acme["id"]
    assert {e["investor_id"] for e in page.events} == {acme["id"]}


@pytest.mark.parametrize(
    ("day", "heading"),
    [
        ("2026-11-25", "Today"),
        ("2026-11-24", "Yesterday"),
        ("2026-11-23", "Monday, Nov 23"),
        ("2025-12-31", "Wednesday, Dec 31, 2025"),
    ],
)
def test_day_headings(day: str, heading: str) -> None:
    assert day_heading(date.fromisoformat(day), date(2026, 11, 25)) == heading


def test_the_day_follows_the_users_timezone(
    runtime: Runtime, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """02:00 UTC on the 25th is 18:00 on the 24th in Los Angeles: yesterday there."""
    clock.advance(hours=-13)
    with runtime.context() as ctx:
        services.create_investor(ctx, {"name": "Night Owl LP"})
    clock.advance(hours=13)
    assert "Night Owl LP" in text_of(page_of(runtime).feed.object).split("Yesterday")[0]
    monkeypatch.setattr("apps.activity.page.browser_zone", lambda: "America/Los_Angeles")
    shown = text_of(page_of(runtime).feed.object)
    assert "Night Owl LP" in shown.split("Yesterday")[1]
