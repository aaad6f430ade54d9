"""The grid service: pages with people and per-fund columns, fund-cell edits, archived list,
and exports of a view as CSV and XLSX."""

from __future__ import annotations

import io

import openpyxl
import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError
from tests.conftest import make_investors


def test_a_grid_page_carries_people_and_one_column_per_fund(ctx: Context, fund) -> None:
    acme, birch = make_investors(ctx, ["Acme", "Birch"])
    services.add_person(ctx, acme["id"], {"full_name": "Zoe Park", "email": "zoe@acme.example"})
    services.add_person(ctx, acme["id"], {"full_name": "Al Ng", "is_primary": True})
    services.set_commitment(ctx, birch["id"], fund["id"], 5_000_000)
    page = services.grid_page(ctx, {"sorts": [{"field": "name", "direction": "desc"}]})
    column = f"fund:{fund['id']}"
    assert [(r["name"], r["people"], r[column]) for r in page.rows] == [
        ("Birch", [], 5_000_000),
        ("Acme", ["Al Ng", "Zoe Park"], None),
    ]
    assert (page.total, page.total_invested) == (2, 5_000_000)
    columns = services.grid_columns(ctx)
    assert [f["name"] for f in columns.funds] == ["Fund III"]
    assert {"name": "contains", "label": "contains", "value": "text"} in columns.operators["name"]


def test_a_fund_cell_edit_sets_changes_and_removes_the_commitment(ctx: Context, fund) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    services.set_fund_cell(ctx, acme["id"], fund["id"], "250,000", commitment=None)
    row = services.grid_page(ctx, {}).rows[0]
    shown = row["commitments"][f"fund:{fund['id']}"]
    assert (row["total_invested"], shown["amount"]) == (250_000, 250_000)
    with pytest.raises(ConflictError):  # someone else's commitment appeared meanwhile
        services.set_fund_cell(ctx, acme["id"], fund["id"], 1, commitment=None)
    services.set_fund_cell(ctx, acme["id"], fund["id"], 300_000, commitment=shown)
    with pytest.raises(ConflictError):  # the grid's copy is now stale
        services.set_fund_cell(ctx, acme["id"], fund["id"], "", commitment=shown)
    fresh = services.grid_page(ctx, {}).rows[0]["commitments"][f"fund:{fund['id']}"]
    services.set_fund_cell(ctx, acme["id"], fund["id"], "", commitment=fresh)
    assert services.grid_page(ctx, {}).rows[0]["total_invested"] == 0


def test_archived_rows_have_their_own_list_and_count(ctx: Context) -> None:
    acme, _ = make_investors(ctx, ["Acme", "Birch"])
    services.archive_investor(ctx, acme["id"], expected_version=1)
    archived = services.grid_page(ctx, {}, archived=True)
    assert [r["name"] for r in archived.rows] == ["Acme"]
    assert services.count_by_list(ctx)["archived"] == 1
    assert [r["name"] for r in services.grid_page(ctx, {}).rows] == ["Birch"]


def test_xlsx_export_of_a_view_is_typed_and_never_runs_formulas(ctx: Context) -> None:
    make_investors(ctx, ['=HYPERLINK("http://evil")'], tags=["ai", "bio"])
    make_investors(ctx, ["Birch"], status="Meeting")
    view = services.create_view(
        ctx,
        {
            "name": "Meetings",
            "filters": {
                "op": "or",
                "conditions": [
                    {"field": "status", "operator": "eq", "value": "Meeting"},
                    {"field": "tags", "operator": "has_any_of", "value": ["ai"]},
                ],
            },
            "hidden_fields": ["notes"],
        },
    )
    out = io.BytesIO()
    count = services.investors_xlsx(
        ctx, out, filter_tree=view["filters"], hidden_fields=view["hidden_fields"]
    )
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert count == 2 and "Notes" not in rows[0] and rows[0][:2] == ["id", "Name"]
    evil = rows[1]
    assert evil[1] == '=HYPERLINK("http://evil")'
    assert sheet.cell(row=2, column=2).data_type == "s"  # a string, not a formula
    assert "ai, bio" in evil
    assert rows[2][1] == "Birch"


def test_the_contacts_directory_searches_and_filters_by_investor(ctx: Context) -> None:
    acme, birch = make_investors(ctx, ["Acme", "Birch 100%"])
    services.add_person(ctx, acme["id"], {"full_name": "Zoe Park", "title": "CIO"})
    services.add_person(ctx, birch["id"], {"full_name": "Al Ng", "email": "al@birch.example"})
    names = lambda **q: [c["full_name"] for c in services.list_contacts(ctx, **q)]  # noqa: E731
    assert names() == ["Al Ng", "Zoe Park"]
    assert names(search="cio") == ["Zoe Park"]
    assert names(search="100%") == ["Al Ng"]  # by investor name; % is a character, not a wildcard
    assert names(search="_") == []
    assert names(investor_id=acme["id"]) == ["Zoe Park"]
    assert services.count_contacts(ctx, search="birch") == 1


def test_remembered_order_pages_match_the_query_and_follow_every_write(ctx: Context, fund) -> None:
    for n in range(30):
        [investor] = make_investors(ctx, [f"LP {n:02d}"], status="Meeting" if n % 2 else None)
        services.set_commitment(ctx, investor["id"], fund["id"], (n % 7) * 1000)
    query = {
        "sort": [("total_invested", "desc"), ("name", "asc")],
        "conditions": [("status", "eq", "Meeting")],
        "page_size": 4,
    }
    expected = [
        row[0]
        for row in ctx.db.execute(
            "SELECT id FROM fundraising_investors WHERE deleted_at IS NULL AND status = 'Meeting'"
            " ORDER BY total_invested DESC NULLS LAST, name COLLATE NOCASE, id"
        )
    ]
    for page in (1, 2, 4):
        remembered = services.list_investors(ctx, page=page, **query)
        assert [r["id"] for r in remembered.rows] == expected[(page - 1) * 4 : page * 4]
        assert remembered.total == len(expected) == 15
    first = services.list_investors(ctx, **query).rows[0]
    services.update_field(ctx, first["id"], "status", None, expected_version=first["version"])
    again = services.list_investors(ctx, **query)
    assert first["id"] not in [r["id"] for r in again.rows] and again.total == 14
