"""The whole-grid document: read it, edit it, apply the differences (or nothing on conflict)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

import crm_lib
from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, ValidationError
from crm_lib.storage.writes import BOOKKEEPING


@pytest.fixture
def grid(ctx: Context, fund: dict) -> dict:
    acme = services.create_investor(ctx, {"name": "Acme LP", "status": "Meeting"})
    services.add_person(ctx, acme["id"], {"full_name": "Jane Doe", "email": "jane@acme.example"})
    services.set_commitment(ctx, acme["id"], fund["id"], 2_000_000)
    services.create_investor(ctx, {"name": "Beta Endowment"})
    return services.grid_snapshot(ctx)


def test_snapshot_holds_fields_funds_and_investors_with_people_and_commitments(grid: dict):
    assert [i["name"] for i in grid["investors"]] == ["Acme LP", "Beta Endowment"]
    acme = grid["investors"][0]
    assert [p["full_name"] for p in acme["people"]] == ["Jane Doe"]
    assert [(c["fund_name"], c["amount"]) for c in acme["commitments"]] == [("Fund III", 2e6)]
    assert acme["total_invested"] == 2e6
    assert {f["key"] for f in grid["fields"]} >= {"name", "status", "total_invested"}
    assert [f["name"] for f in grid["funds"]] == ["Fund III"]
    assert grid["version"] >= 1 and grid["views"] == []


def test_applying_an_unchanged_document_changes_nothing(ctx: Context, grid: dict) -> None:
    result = services.apply_snapshot(ctx, grid, expected_version=grid["version"])
    assert result["changes"] == {} and result["state"]["version"] == grid["version"]


def test_differences_are_applied_through_the_services(ctx: Context, grid: dict) -> None:
    edited = copy.deepcopy(grid)
    acme, beta = edited["investors"]
    acme["status"] = "Committed"
    acme["people"][0]["title"] = "CIO"
    acme["people"].append({"full_name": "Bob Roe", "email": "bob@acme.example"})
    acme["commitments"][0]["amount"] = 2_500_000
    edited["investors"] = [acme, {"name": "Gamma Pension", "people": []}]  # Beta left out
    result = services.apply_snapshot(ctx, edited, expected_version=grid["version"])
    assert result["changes"] == {
        "investors_updated": 1,
        "people_updated": 1,
        "people_created": 1,
        "commitments_updated": 1,
        "investors_created": 1,
        "investors_archived": 1,
    }
    after = services.grid_snapshot(ctx)
    assert [i["name"] for i in after["investors"]] == ["Acme LP", "Gamma Pension"]
    assert after["investors"][0]["total_invested"] == 2.5e6
    assert sorted(p["full_name"] for p in after["investors"][0]["people"]) == [
        "Bob Roe",
        "Jane Doe",
    ]
    history = services.investor_history(ctx, acme["id"])
    assert any(h["field"] == "status" and h["new_value"] == "Committed" for h in history)
    assert services.get_investor(ctx, beta["id"], include_archived=True)["investor"]["deleted_at"]


def test_a_stale_document_is_refused_and_nothing_is_written(
    ctx: Context, bob: Context, grid: dict
) -> None:
    services.update_field(bob, grid["investors"][1]["id"], "status", "Passed", expected_version=1)
    edited = copy.deepcopy(grid)
    edited["investors"][0]["status"] = "Committed"
    with pytest.raises(ConflictError) as caught:
        services.apply_snapshot(ctx, edited, expected_version=grid["version"])
    assert caught.value.updated_by == "bob@fund.example"
    assert services.grid_snapshot(ctx)["investors"][0]["status"] == "Meeting"


def test_one_bad_item_writes_nothing(ctx: Context, grid: dict) -> None:
    edited = copy.deepcopy(grid)
    edited["investors"][0]["status"] = "Committed"
    edited["investors"][1]["last_contacted_at"] = "someday"
    with pytest.raises(ValidationError, match="not a date"):
        services.apply_snapshot(ctx, edited, expected_version=grid["version"])
    assert services.grid_snapshot(ctx)["investors"][0]["status"] == "Meeting"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["investors"].append({"id": 999, "name": "Ghost"}),
            "no live investor with id 999",
        ),
        (lambda d: d["investors"].append(dict(d["investors"][0])), "lists id 1 twice"),
        (lambda d: d["fields"][0].update(label="Investor"), "fields cannot be changed"),
        (lambda d: d.update(investors={"not": "a list"}), "investors must be a list"),
    ],
)
def test_malformed_documents_are_refused_naming_the_problem(
    ctx: Context, grid: dict, edit, message: str
) -> None:
    edited = copy.deepcopy(grid)
    edit(edited)
    with pytest.raises(ValidationError, match=message):
        services.apply_snapshot(ctx, edited, expected_version=grid["version"])


VOLATILE = set(BOOKKEEPING) | {"owner_id", "investor_id", "contact_id", "fund_id", "position"}
#: derived from tasks, which the grid's document does not carry
VOLATILE |= {"tasks__next_due"}


def _portable(value: object) -> object:
    """A document without what a new database numbers or stamps anew."""
    if isinstance(value, dict):
        return {k: _portable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_portable(v) for v in value]
    return value


def test_a_json_export_loads_into_an_empty_database_with_nothing_lost(
    demo_dir: Path, tmp_path: Path
) -> None:
    source = crm_lib.open_crm(demo_dir, actor="system:test")
    try:
        services.add_field(source, "Check size x2", "formula", formula="{Total invested} * 2")
        exported = json.loads(json.dumps(services.grid_snapshot(source)))  # through JSON
        team = services.list_users(source)
    finally:
        source.close()
    target = crm_lib.open_crm(tmp_path / "empty", actor="system:test")
    try:
        for user in team:
            services.create_user(target, user["email"], name=user["name"], role=user["role"])
        counts = services.load_snapshot(target, exported)
        assert counts["investors"] == len(exported["investors"]) > 0
        assert counts["commitments"] == sum(len(i["commitments"]) for i in exported["investors"])
        again = services.grid_snapshot(target)
        for part in ("fields", "funds", "views", "owners", "investors"):
            assert _portable(again[part]) == _portable(exported[part]), part
        with pytest.raises(ValidationError, match="fills an empty database"):
            services.load_snapshot(target, exported)
    finally:
        target.close()
