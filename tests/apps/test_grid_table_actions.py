"""The grid's table actions that go through the bridge: the header menu, column drags saved to
the view, a pasted range (one transaction, undo), edits kept offline and replayed, the footer's
totals and the active-filter line. Driven as the browser would send them, without a browser."""

from __future__ import annotations

import pytest

import crm_lib
from apps.grid.page import GridPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.errors import ValidationError
from tests.apps.conftest import session_of


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    fund = services.create_fund(ctx, {"name": "Fund III", "vintage_year": 2025})
    services.add_field(ctx, "Ticket", "currency", {})
    services.bulk_create_investors(
        ctx,
        [
            {
                "name": f"Investor {n:02d}",
                "ticket": n * 100,
                "location": "Paris" if n % 2 else "Boston",
                "commitments": [{"fund_id": fund["id"], "amount": n * 10}] if n <= 3 else [],
            }
            for n in range(1, 61)
        ],
    )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def grid(runtime: Runtime, email: str = "alice@fund.example") -> GridPage:
    page = GridPage(runtime, session=session_of(runtime, email))
    page.list_tabs.value = "all"
    return page


def cell(page: GridPage, position: int, field: str, text: str) -> dict:
    row = page.table.value.iloc[position]
    return {
        "id": int(row["id"]),
        "version": int(row["version"]),
        "field": field,
        "position": position,
        "text": text,
    }


def test_a_pasted_range_is_one_write_and_undo_puts_it_back(runtime: Runtime) -> None:
    page = grid(runtime)
    before = list(page.table.value["location"][:2])
    page._on_bridge(
        {
            "kind": "paste",
            "cells": [
                cell(page, 0, "location", "Lyon"),
                cell(page, 0, "ticket", "$1,500"),
                cell(page, 1, "location", "Rome"),
                cell(page, 1, "created_by", "me"),  # bookkeeping: skipped and said so
            ],
            "outside": 2,
        }
    )
    assert list(page.table.value["location"][:2]) == ["Lyon", "Rome"]
    assert page.table.value["ticket"].iloc[0] == 1500
    assert "Pasted 3 cells." in page.message
    assert "1 in Created by (it cannot be edited)" in page.message
    assert "2 beyond the edge of the page" in page.message
    assert page.undo_button.visible
    with runtime.context() as ctx:
        txns = ctx.db.execute(
            "SELECT count(DISTINCT txn) FROM audit_log WHERE actor = 'alice@fund.example'"
            " AND entity = 'fundraising_investors'"
        ).fetchone()[0]
    assert txns == 1

    page._on_bridge({"kind": "undo"})
    assert list(page.table.value["location"][:2]) == before
    assert "Undid the paste of 3 cells." in page.message
    assert not page.undo_button.visible


def test_a_paste_with_a_bad_cell_writes_nothing_and_names_the_cell(runtime: Runtime) -> None:
    page = grid(runtime)
    page.paste([cell(page, 0, "location", "Lyon"), cell(page, 1, "ticket", "lots")])
    assert page.failed
    assert "Nothing was pasted" in page.message and "row 2, Investor 02, Ticket" in page.message
    assert page.table.value["location"].iloc[0] == "Paris"


def test_header_menu_hides_and_freezes_and_drags_save_to_a_saved_view(runtime: Runtime) -> None:
    page = grid(runtime)
    view = page.act(lambda ctx: services.create_view(ctx, {"name": "Mine"}))
    page.refresh_views(select=view["id"])
    page.open_view(view["id"])
    page.header_command("hide", "location")
    assert "location" in page.table.hidden_columns
    page.header_command("freeze", "ticket")
    assert "ticket" in page.table.frozen_columns and "name" in page.table.frozen_columns
    page._on_bridge({"kind": "resize", "field": "ticket", "width": 333.4})
    shown = [c.key for c in page.store.columns]
    dragged = [shown[1], shown[0], *shown[2:]]
    page._on_bridge({"kind": "order", "fields": ["open", *dragged]})
    saved = page.act(lambda ctx: services.get_view(ctx, view["id"]))
    assert "location" in saved["hidden_fields"]
    assert saved["frozen_fields"][-1] == "ticket"
    assert saved["widths"]["ticket"] == 333
    assert saved["field_order"][:2] == dragged[:2]
    assert [c.key for c in page.store.columns][:2] == dragged[:2]
    page.header_command("unfreeze", "ticket")
    assert "ticket" not in page.table.frozen_columns


def test_kept_edits_replay_at_their_versions_once(runtime: Runtime) -> None:
    alice, bob = grid(runtime), grid(runtime, "bob@fund.example")
    first, second, third = (alice.table.value.iloc[i] for i in range(3))
    kept = [
        {
            "id": int(first["id"]),
            "version": int(first["version"]),
            "field": "location",
            "value": "Oslo",
            "at": 1,
        },
        {
            "id": int(second["id"]),
            "version": int(second["version"]),
            "field": "location",
            "value": "Rome",
            "at": 2,
        },
        {
            "id": int(third["id"]),
            "version": int(third["version"]),
            "field": "location",
            "value": "Nice",
            "at": 3,
        },
    ]
    bob.edit_cell(1, "location", "Bern")  # overtakes the second kept edit
    alice.edit_cell(2, "location", "Nice")  # the third reached the server before the drop
    alice.replay_kept_edits(kept)
    assert "Saved 1 edit made while offline." in alice.message
    assert "changed by" in alice.message and "Investor 02" not in alice.message
    locations = list(alice.table.value["location"][:3])
    assert locations == ["Oslo", "Bern", "Nice"]


def test_footer_totals_and_active_filters_say_what_the_grid_shows(runtime: Runtime) -> None:
    page = grid(runtime)
    assert page.bridge.counts == "60 investors in this view"
    page.table.selection = [0, 2]
    assert page.bridge.counts == "60 investors in this view · 2 ticked"
    page.table.selection = []
    assert "Ticket $183,000" in page.bridge.totals and "Fund III $60" in page.bridge.totals
    page.table.filters = [{"field": "location", "type": "like", "value": "Bos"}]
    assert page.bridge.counts == "30 investors in this view"
    assert "Ticket $93,000" in page.bridge.totals
    assert "Location contains Bos" in page.active_note.object
    assert page.clear_button.visible
    page.search_box.value = "<b>x"
    assert "&lt;b&gt;x" in page.active_note.object
    page.clear_filters()
    assert page.store.header_conditions == [] and page.search_box.value == ""
    assert not page.clear_button.visible


def test_grouping_orders_by_the_field_and_heads_each_group_with_its_view_count(
    runtime: Runtime,
) -> None:
    page = grid(runtime)
    view = page.act(lambda ctx: services.create_view(ctx, {"name": "By city"}))
    page.refresh_views(select=view["id"])
    page.open_view(view["id"])
    page.header_command("group", "location")
    assert page.table.groupby == ["location"]
    assert list(page.table.value["location"][:2]) == ["Boston", "Boston"]
    assert page.bridge.group_by == "location"
    assert page.bridge.groups == {
        "Boston": "Location: Boston · 30 investors",
        "Paris": "Location: Paris · 30 investors",
    }
    assert page.act(lambda ctx: services.get_view(ctx, view["id"]))["group_by"] == "location"
    page.header_command("ungroup", "location")
    assert page.table.groupby == [] and page.bridge.groups == {}
    with runtime.context() as ctx, pytest.raises(ValidationError, match="grouped by Tags"):
        services.update_view(ctx, view["id"], {"group_by": "tags"}, expected_version=99)


def test_a_conflict_keeps_what_was_typed_and_can_apply_it(runtime: Runtime) -> None:
    alice, bob = grid(runtime), grid(runtime, "bob@fund.example")
    bob.edit_cell(0, "location", "Bern")
    alice.edit_cell(0, "location", "Oslo")  # read before Bob's change: a conflict
    assert "Bob changed this record" in alice.message
    assert "Your Location “Oslo” is kept" in alice.message
    assert alice.table.value["location"].iloc[0] == "Bern"
    assert alice.retry_button.visible
    alice.retry_edit()
    assert alice.table.value["location"].iloc[0] == "Oslo"
    assert not alice.retry_button.visible


def test_hostile_field_names_stay_text_in_the_filter_line_and_group_headers(
    runtime: Runtime,
) -> None:
    hostile = '<img src=x onerror="alert(1)">'
    with runtime.context() as ctx:
        services.add_field(ctx, hostile, "single_select", {"choices": ["<b>hot</b>", "cold"]})
        services.update_investor(
            ctx,
            1,
            {hostile: "<b>hot</b>"},
            expected_version=services.get_investor(ctx, 1)["investor"]["version"],
        )
    page = grid(runtime)
    key = next(k for k, spec in page.store.fields.items() if spec.label == hostile)
    page.table.filters = [{"field": key, "type": "in", "value": ["<b>hot</b>"]}]
    assert "<img" not in page.active_note.object and "&lt;img" in page.active_note.object
    assert "<b>" not in page.active_note.object
    page.header_command("group", key)
    # the browser sets group headers as text (textContent), so the raw label is what shows
    assert f"{hostile}: <b>hot</b> · 1 investor" in page.bridge.groups.values()


def test_header_menu_opens_the_field_editor_a_new_field_beside_and_a_filter(
    runtime: Runtime,
) -> None:
    page = grid(runtime)
    page.header_command("edit", "location")
    assert page.side.visible and page.side.objects[0] is page.fields_panel.layout
    assert page.fields_panel.choice.value == "location"
    page.header_command("insert_left", "location")
    assert "left of Location" in page.fields_panel.add_button.label
    page.fields_panel.new_label.value = "Region"
    page.fields_panel.add()
    keys = [c.key for c in page.store.columns]
    assert keys.index("region") == keys.index("location") - 1
    page.header_command("filter", "ticket")
    assert page.side.objects[0] is page.view_builder.layout
    assert page.view_builder.spec["filters"]["conditions"][-1]["field"] == "ticket"
