"""The home page shows the fundraise from the service layer (tested without a browser): every
figure labelled as people say it, formatted, and linked to the rows behind it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import panel as pn
import pytest

import crm_lib
from apps.home.page import HomePage
from apps.home.store import HomeStore
from apps.links import grid_url, record_url
from apps.runtime import Runtime
from crm_lib import analytics, services
from crm_lib.config import load_settings
from tests.apps.conftest import session_of

LEAKS = re.compile(r"\b(NaN|None|null|undefined|NaT)\b|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def hrefs(markup: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', markup)]


def test_store_loads_funds_lists_and_largest_investors(demo_dir: Path) -> None:
    runtime = Runtime(load_settings(data_dir=demo_dir))
    store = HomeStore()
    with runtime.context() as ctx:
        store.load(ctx)
        expected_lists = services.count_by_list(ctx)
        totals = services.relational_summary(ctx)["totals"]
    assert store.list_counts == expected_lists
    assert [f["fund"] for f in store.funds] == ["Fund I", "Fund II", "Fund III"]
    # the per-list rollup and the commitments themselves agree
    assert store.committed == pytest.approx(totals["committed_excluding_graveyard"])
    assert store.committed_graveyard == pytest.approx(totals["committed_graveyard"])
    duck = analytics.connect(demo_dir)
    top = [
        n
        for (n,) in duck.sql(
            "SELECT name FROM investors ORDER BY total_invested DESC, name, id LIMIT 10"
        ).fetchall()
    ]
    assert [row["name"] for row in store.top_investors] == top


def test_every_figure_links_to_the_rows_behind_it(demo_dir: Path) -> None:
    page = HomePage(Runtime(load_settings(data_dir=demo_dir)))
    store = page.store
    lists = page.lists.object
    assert hrefs(lists) == [
        grid_url(list_key=key) for key in ("main", "follow_up", "graveyard", "longshot")
    ]
    assert "Follow-up" in text_of(lists) and "follow_up" not in text_of(lists)
    assert f"{store.list_counts['main']:,}" in text_of(lists)
    assert grid_url(list_key="all") in hrefs(page.totals.object)
    attention = page.attention.object
    assert store.attention, "the demo has conversations going cold"
    for item in store.attention:
        assert grid_url(preset=item["preset"]) in hrefs(attention)
        for example in item["examples"]:
            assert record_url(example["id"]) in hrefs(attention)
    assert [record_url(r["id"]) for r in store.top_investors] == hrefs(page.top.object)
    assert "/activity" in hrefs(page.recent.object)
    for pane in (page.totals, page.lists, page.funds, page.attention, page.recent, page.top):
        assert LEAKS.search(text_of(pane.object)) is None, text_of(pane.object)


def test_funds_show_committed_against_target(demo_dir: Path) -> None:
    page = HomePage(Runtime(load_settings(data_dir=demo_dir)))
    shown = text_of(page.funds.object)
    fund_iii = next(f for f in page.store.funds if f["fund"] == "Fund III")
    assert f"${fund_iii['committed']:,.0f}  committed of $350,000,000 target" in shown
    assert "Raising" in shown and f"{fund_iii['commitments']} LPs" in shown
    assert re.search(r"width:(\d+\.\d)%", page.funds.object)
    widths = [float(w) for w in re.findall(r"width:(\d+\.\d)%", page.funds.object)]
    assert max(widths) == 100.0  # Fund II is over its target: the bar stops at full


def test_total_committed_excludes_the_graveyard_and_says_so(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    fund = services.create_fund(ctx, {"name": "Fund I", "vintage_year": 2024})
    for name, amount, where in [
        ("A", 3e6, "main"),
        ("B", 1e6, "follow_up"),
        ("C", 4e6, "graveyard"),
    ]:
        made = services.create_investor(ctx, {"name": name, "list_membership": where})
        services.set_commitment(ctx, made["id"], fund["id"], amount)
    ctx.close()
    page = HomePage(Runtime(settings))
    totals = text_of(page.totals.object)
    assert re.search(r"Total committed \(excluding graveyard\)\s+\$4,000,000", totals)
    assert re.search(r"Committed by graveyard investors\s+\$4,000,000", totals)
    assert re.search(r"Graveyard\s+1\s", text_of(page.lists.object))
    assert "no target set" in text_of(page.funds.object)
    assert "No fund has a target yet" in text_of(page.funds.object)


def test_only_admins_get_a_link_to_the_funds_page(demo_with_team: Runtime) -> None:
    admin = HomePage(demo_with_team, session=session_of(demo_with_team, "alice@fund.example"))
    member = HomePage(demo_with_team, session=session_of(demo_with_team, "bob@fund.example"))
    assert "/funds" in hrefs(admin.funds.object)
    assert "/funds" not in hrefs(member.funds.object)


def test_empty_database_explains_how_to_get_data(tmp_path: Path) -> None:
    from crm_lib.database import init_database

    settings = load_settings(data_dir=tmp_path / "data")
    init_database(settings)
    layout = HomePage(Runtime(settings)).__panel__()
    [alert] = layout.select(pn.pane.Alert)
    assert "./panel_serve.sh --demo" in alert.object


@pytest.fixture
def demo_with_team(settings_with_team) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    fund = services.create_fund(ctx, {"name": "Fund I", "target_size": 1e7})
    made = services.create_investor(ctx, {"name": "A"})
    services.set_commitment(ctx, made["id"], fund["id"], 1e6)
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def test_empty_sections_say_what_to_do_next(tmp_path: Path) -> None:
    from crm_lib.database import init_database

    settings = load_settings(data_dir=tmp_path / "data")
    init_database(settings)
    page = HomePage(Runtime(settings))
    page.store.funds, page.store.recent, page.store.top_investors = [], [], []
    assert "An admin adds them on the Funds page." in text_of(page._funds_html())
    assert "Edit an investor on the grid" in " ".join(
        text_of(page._recent_html(None, None)).split()
    )
    assert "Enter them in the grid's fund columns" in text_of(page._top_html())
    page.may_open_funds = True
    assert "/funds" in hrefs(page._funds_html())


def test_home_lists_my_tasks_and_the_investors_going_cold(demo_with_team: Runtime) -> None:
    """Bob's tasks (an overdue one first, its investor linked) and, since Bob owns nothing
    going cold, the team's: "A" has a commitment and no email at all."""
    with demo_with_team.context() as ctx:
        bob = next(u for u in services.list_users(ctx) if u["email"] == "bob@fund.example")
        investor = services.list_investors(ctx).rows[0]
        for title, due in (("Chase the <b>LPA</b>", "2020-03-02"), ("Plan Q1", None)):
            services.create_task(
                ctx,
                {
                    "title": title,
                    "due_on": due,
                    "assignee_id": bob["id"],
                    "investor_id": investor["id"],
                },
            )
    page = HomePage(demo_with_team, session=session_of(demo_with_team, "bob@fund.example"))
    tasks = page.tasks.object
    assert "My tasks" in tasks and "overdue since 2020-03-02" in text_of(tasks)
    assert text_of(tasks).index("Chase the <b>LPA</b>") < text_of(tasks).index("Plan Q1")
    assert "<b>LPA" not in tasks  # a title is text, never markup
    assert record_url(investor["id"]) in hrefs(tasks) and "/tasks" in hrefs(tasks)
    cold = page.cold.object
    assert "The team's" in cold and "Committed · no email yet" in text_of(cold)
    assert "/pipeline" in hrefs(cold)
    assert not LEAKS.search(text_of(tasks + cold))


def test_home_shows_unread_notices_from_the_automations(demo_with_team: Runtime) -> None:
    with demo_with_team.context() as ctx:
        rule = services.create_rule(
            ctx,
            {
                "name": "<b>Rule</b>",
                "trigger": {"kind": "no_two_way_touch", "days": 30},
                "actions": [{"kind": "notify", "text": "<i>{investor}</i> went quiet"}],
            },
        )
        services.run_rule(ctx, rule["id"])
    page = HomePage(demo_with_team, session=session_of(demo_with_team, "bob@fund.example"))
    shown = page.notices.object
    assert "From the automations" in shown and "&lt;i&gt;A&lt;/i&gt; went quiet" in shown
    assert "<b>Rule" not in shown and any(h.startswith("/record?id=") for h in hrefs(shown))
