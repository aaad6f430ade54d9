"""The hooks the grid's column header menu calls on its panels, driven on a real GridPage
without a browser: FieldsPanel.edit_field, FieldsPanel.new_field_beside and
ViewBuilder.add_filter_for (apps/grid/table_actions.py shows the panel, then calls these)."""

from __future__ import annotations

import pytest

import crm_lib
from apps.grid.page import GridPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    services.add_field(ctx, "Ticket", "currency", {})
    services.bulk_create_investors(
        ctx,
        [
            {"name": f"Investor {n:02d}", "ticket": n * 100, "location": "Paris"}
            for n in range(1, 6)
        ],
    )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def grid(runtime: Runtime) -> GridPage:
    page = GridPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.list_tabs.value = "all"
    return page


def column_keys(page: GridPage) -> list[str]:
    return [c.key for c in page.store.columns if c.field_key]


def test_edit_field_selects_the_field_for_editing(runtime: Runtime) -> None:
    page = grid(runtime)
    page.fields_panel.edit_field("ticket")
    assert page.fields_panel.choice.value == "ticket"
    assert page.fields_panel.rename_box.value == "Ticket"
    page.fields_panel.edit_field("location")
    assert page.fields_panel.choice.value == "location"
    assert page.fields_panel.rename_box.value == "Location"


def test_edit_field_of_an_unknown_key_changes_nothing(runtime: Runtime) -> None:
    page = grid(runtime)
    page.fields_panel.edit_field("ticket")
    page.fields_panel.edit_field("no_such_field")
    assert page.fields_panel.choice.value == "ticket"


@pytest.mark.parametrize("side, offset", [("left", -1), ("right", +1)])
def test_a_field_added_after_new_field_beside_sits_beside_its_column(
    runtime: Runtime, side: str, offset: int
) -> None:
    page = grid(runtime)
    page.fields_panel.new_field_beside("location", side)  # type: ignore[arg-type]
    assert f"{side} of Location" in page.fields_panel.add_button.label
    assert not page.failed and f"{side} of Location" in page.message
    page.fields_panel.new_label.value = "Region"
    page.fields_panel.add()
    keys = column_keys(page)
    assert keys.index("region") == keys.index("location") + offset
    order = page.store.view["field_order"]  # the view's column order says so too
    assert order.index("region") == order.index("location") + offset
    assert page.fields_panel.add_button.label == "Add field"  # the next field goes at the end


def test_new_field_beside_is_used_once(runtime: Runtime) -> None:
    page = grid(runtime)
    page.fields_panel.new_field_beside("name", "right")
    page.fields_panel.new_label.value = "Region"
    page.fields_panel.add()
    page.fields_panel.new_label.value = "Sector"
    page.fields_panel.add()
    keys = column_keys(page)
    assert keys.index("region") == keys.index("name") + 1
    assert keys.index("sector") != keys.index("name") + 1


def test_new_field_beside_an_unknown_key_changes_nothing(runtime: Runtime) -> None:
    page = grid(runtime)
    page.fields_panel.new_field_beside("no_such_field", "left")
    assert page.fields_panel.add_button.label == "Add field"


def test_add_filter_for_adds_a_condition_row_for_that_field(runtime: Runtime) -> None:
    page = grid(runtime)
    builder = page.view_builder
    builder.refresh()
    builder.add_filter_for("ticket")
    [condition] = builder.spec["filters"]["conditions"]
    operators = [o["name"] for o in page.store.operators["ticket"]]
    assert condition["field"] == "ticket" and condition["operator"] == operators[0]
    [group] = builder.tree_box.objects
    rows = [o for o in group.objects if "crm-condition" in o.css_classes]
    assert len(rows) == 1 and rows[0].objects[0].value == "ticket"
    builder.add_filter_for("location")
    assert [c["field"] for c in builder.spec["filters"]["conditions"]] == ["ticket", "location"]


def test_add_filter_for_an_unknown_field_adds_nothing(runtime: Runtime) -> None:
    page = grid(runtime)
    page.view_builder.refresh()
    page.view_builder.add_filter_for("no_such_field")
    assert page.view_builder.spec["filters"]["conditions"] == []
