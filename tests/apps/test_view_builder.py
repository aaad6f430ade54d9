"""The view builder updates its widgets in place: adding, removing or changing one condition,
group or sort leaves every other widget on the panel as it was (a full redraw loses a click
made meanwhile). Driven on a real GridPage without a browser; a click is ``clicks += 1``."""

from __future__ import annotations

from typing import Any

import panel as pn
import pytest

import crm_lib
from apps.grid.page import GridPage
from apps.grid.view_builder import ViewBuilder
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    services.add_field(ctx, "Ticket", "currency", {})
    services.bulk_create_investors(ctx, [{"name": "Investor 01", "ticket": 100}])
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


@pytest.fixture
def builder(runtime: Runtime) -> ViewBuilder:
    page = GridPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.view_builder.refresh()
    return page.view_builder


def click(panel: pn.viewable.Viewable, css_class: str) -> None:
    [button] = [w for w in panel.select(pn.widgets.Button) if css_class in (w.css_classes or [])]
    button.clicks += 1


def rows(column: pn.Column) -> list[Any]:
    return [o for o in column.objects if "crm-condition" in (o.css_classes or [])]


def test_adding_a_condition_keeps_the_other_rows(builder: ViewBuilder) -> None:
    builder.add_filter_for("ticket")
    top = builder.tree_box[0]
    [first] = rows(top)
    click(top[-1], "crm-add-condition")
    assert rows(top)[0] is first and len(rows(top)) == 2
    assert len(builder.spec["filters"]["conditions"]) == 2


def test_a_new_field_replaces_only_that_conditions_operator_and_value(
    builder: ViewBuilder,
) -> None:
    builder.add_filter_for("ticket")
    builder.add_filter_for("name")
    top = builder.tree_box[0]
    first, second = rows(top)
    field, operator, _value, remove = second.objects
    field.value = "ticket"
    assert rows(top) == [first, second]
    assert second[0] is field and second[1] is operator and second[3] is remove
    condition = builder.spec["filters"]["conditions"][1]
    ticket_ops = [o["name"] for o in builder.page.store.operators["ticket"]]
    assert condition["field"] == "ticket" and condition["operator"] in ticket_ops
    assert list(operator.options.values()) == ticket_ops
    assert operator.value == condition["operator"]


def test_removing_one_of_two_equal_conditions_removes_that_one(builder: ViewBuilder) -> None:
    builder.add_filter_for("name")
    builder.add_filter_for("name")
    top = builder.tree_box[0]
    first, second = rows(top)
    kept = builder.spec["filters"]["conditions"][1]
    first[3].clicks += 1  # ✕ on the first row
    assert rows(top) == [second]
    assert len(builder.spec["filters"]["conditions"]) == 1
    assert builder.spec["filters"]["conditions"][0] is kept
    second[2].value_input = "Acme"  # the row left still writes into its own condition
    assert kept["value"] == "Acme"


def test_groups_and_sorts_are_added_and_removed_in_place(builder: ViewBuilder) -> None:
    top = builder.tree_box[0]
    click(top[-1], "crm-add-group")
    group = top[-2]
    assert "crm-group-2" in group.css_classes and len(rows(group)) == 1
    [remove_group] = [b for b in group[-1].objects if b.name == "Remove group"]
    remove_group.clicks += 1
    assert top[-2] is not group and builder.spec["filters"]["conditions"] == []
    add_sort = builder.sorts_box[-1]
    add_sort.clicks += 1
    add_sort.clicks += 1
    assert builder.sorts_box[-1] is add_sort and len(builder.spec["sorts"]) == 2
    first_sort = builder.sorts_box[0]
    builder.sorts_box[1][2].clicks += 1
    assert list(builder.sorts_box) == [first_sort, add_sort] and len(builder.spec["sorts"]) == 1
