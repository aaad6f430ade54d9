"""The home page shows the fundraise from the service layer (tested without a browser)."""

from __future__ import annotations

from pathlib import Path

import panel as pn

import crm_lib
from apps.home.page import HomePage
from apps.home.store import HomeStore
from apps.runtime import Runtime
from crm_lib import analytics, services
from crm_lib.config import load_settings


def test_store_loads_funds_lists_and_largest_investors(demo_dir: Path) -> None:
    runtime = Runtime(load_settings(data_dir=demo_dir))
    store = HomeStore()
    with runtime.context() as ctx:
        store.load(ctx)
        expected_lists = services.count_by_list(ctx)
    assert store.list_counts == expected_lists
    assert list(store.funds["Fund"]) == ["Fund I", "Fund II", "Fund III"]
    duck = analytics.connect(demo_dir)
    top = [
        n
        for (n,) in duck.sql(
            "SELECT name FROM investors ORDER BY total_invested DESC, name, id LIMIT 10"
        ).fetchall()
    ]
    assert list(store.top_investors["Investor"]) == top


def test_page_renders_tables_and_counts(demo_dir: Path) -> None:
    page = HomePage(Runtime(load_settings(data_dir=demo_dir)))
    layout = page.__panel__()
    assert layout.select(pn.widgets.Tabulator) == [page.funds_table, page.top_table]
    assert len(page.funds_table.value) == 3 and len(page.top_table.value) == 10
    assert page.funds_table.disabled and page.top_table.disabled
    numbers = layout.select(pn.indicators.Number)
    assert (numbers[0].label, numbers[0].value) == ("All investors", 300)


def test_total_committed_excludes_the_graveyard_and_says_so(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    fund = services.create_fund(ctx, {"name": "Fund I", "vintage_year": 2024, "target_size": 1e8})
    for name, amount, where in [
        ("A", 3e6, "main"),
        ("B", 1e6, "follow_up"),
        ("C", 4e6, "graveyard"),
    ]:
        made = services.create_investor(ctx, {"name": name, "list_membership": where})
        services.set_commitment(ctx, made["id"], fund["id"], amount)
    ctx.close()
    layout = HomePage(Runtime(settings)).__panel__()
    numbers = {n.name: n.value for n in layout.select(pn.indicators.Number)}
    assert numbers["Total committed (excluding graveyard)"] == 4e6
    assert numbers["Committed by graveyard investors"] == 4e6 and numbers["Graveyard"] == 1


def test_empty_database_explains_how_to_get_data(tmp_path: Path) -> None:
    from crm_lib.database import init_database

    settings = load_settings(data_dir=tmp_path / "data")
    init_database(settings)
    layout = HomePage(Runtime(settings)).__panel__()
    [alert] = layout.select(pn.pane.Alert)
    assert "./panel_serve.sh --demo" in alert.object
