"""Managing grid fields: rename, reorder, options, type changes with preview, restore; history."""

from __future__ import annotations

import json

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, ValidationError
from tests.conftest import make_investors


def test_moving_a_field_reorders_the_grid(ctx: Context) -> None:
    services.add_field(ctx, "Ticket", "number")
    keys = [f.key for f in services.move_field(ctx, "ticket", 1)]
    assert keys[:3] == ["name", "ticket", "type"]
    assert [f.position for f in services.list_fields(ctx)] == list(range(len(keys)))


def test_rename_is_checked_and_version_guarded(ctx: Context) -> None:
    ticket = services.add_field(ctx, "Ticket", "number")
    with pytest.raises(ValidationError, match="already exists"):
        services.rename_field(ctx, "ticket", "name", expected_version=ticket.version)
    with pytest.raises(ValidationError, match="cannot contain"):
        services.rename_field(ctx, "ticket", "a{b}", expected_version=ticket.version)
    services.rename_field(ctx, "ticket", "Check", expected_version=ticket.version)
    with pytest.raises(ConflictError):
        services.rename_field(ctx, "ticket", "Again", expected_version=ticket.version)


def test_select_options_are_added_renamed_and_recoloured(ctx: Context) -> None:
    stage = services.add_field(ctx, "Stage", "single_select", {"choices": ["Cold", "Warm"]})
    areas = services.add_field(ctx, "Areas", "multi_select", {"choices": ["AI", "Bio"]})
    [acme] = make_investors(ctx, ["Acme"], Stage="Cold", Areas=["AI", "Bio"])
    services.update_choices(
        ctx,
        "stage",
        ["Frozen", "Warm", "Hot"],
        colors={"Hot": "red"},
        renames={"Cold": "Frozen"},
        expected_version=stage.version,
    )
    services.update_choices(
        ctx, "areas", ["ML", "Bio"], renames={"AI": "ML"}, expected_version=areas.version
    )
    record = services.get_investor(ctx, acme["id"])["investor"]
    assert (record["stage"], record["areas"]) == ("Frozen", ["ML", "Bio"])
    assert services.fields.load_fields(ctx.db)["stage"].options["colors"] == {"Hot": "red"}
    history = [(h["field"], h["old_value"], h["new_value"]) for h in record_history(ctx, acme)]
    assert ("stage", "Cold", "Frozen") in history
    services.update_investor(ctx, acme["id"], {"Stage": "Warm"}, expected_version=3)
    with pytest.raises(ValidationError, match="1 investors still have 'Warm'"):
        services.update_choices(ctx, "stage", ["Frozen"], expected_version=stage.version + 1)
    with pytest.raises(ValidationError, match="Colours must be one of"):
        services.update_choices(
            ctx, "stage", ["Frozen", "Warm"], colors={"Warm": "url(x)"}, expected_version=2
        )


def record_history(ctx: Context, investor: dict) -> list[dict]:
    return services.investor_history(ctx, investor["id"])


def test_type_change_preview_names_values_that_would_not_convert(ctx: Context) -> None:
    size = services.add_field(ctx, "Size", "text")
    make_investors(ctx, ["A"], Size="1,000")
    make_investors(ctx, ["B"], Size="large")
    preview = services.preview_type_change(ctx, "size", "number")
    assert (preview.total, preview.convertible, preview.failure_count) == (2, 1, 1)
    assert preview.failures[0]["name"] == "B"
    assert "'large' is not a number" in preview.failures[0]["error"]
    assert ctx.db.execute("SELECT size FROM fundraising_investors ORDER BY id").fetchall() == [
        ("1,000",),
        ("large",),
    ]
    services.change_field_type(ctx, "size", "number", expected_version=size.version)
    assert ctx.db.execute("SELECT size FROM fundraising_investors ORDER BY id").fetchall() == [
        (1000.0,),
        (None,),
    ]
    kept = ctx.db.execute("SELECT size__before_1 FROM fundraising_investors ORDER BY id")
    assert kept.fetchall() == [("1,000",), ("large",)]
    lost = ctx.db.execute(
        "SELECT old_value, new_value FROM audit_log WHERE field = 'size' AND entity_id = 2"
        " ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert lost == ('"large"', "null")
    assert [f.key for f in services.list_fields(ctx)].count("size__before_1") == 0


def test_type_change_is_refused_when_a_formula_would_break(ctx: Context) -> None:
    met = services.add_field(ctx, "Met", "date")
    services.add_field(ctx, "Met weekday", "formula", formula="WEEKDAY({Met})")
    with pytest.raises(ValidationError, match="formula of \\{Met weekday\\} would break"):
        services.change_field_type(ctx, "met", "number", expected_version=met.version)


def test_archived_field_can_be_restored_with_its_values(ctx: Context) -> None:
    warm = services.add_field(ctx, "Warm", "checkbox")
    make_investors(ctx, ["A"], Warm=True)
    services.archive_field(ctx, "warm", expected_version=warm.version)
    [archived] = services.list_archived_fields(ctx)
    restored = services.restore_field(ctx, "warm", expected_version=archived["version"])
    assert restored.position == len(services.list_fields(ctx)) - 1
    assert services.list_investors(ctx).rows[0]["warm"] is True


def test_restore_value_sets_a_field_back_from_history(ctx: Context) -> None:
    [acme] = make_investors(ctx, ["Acme"], status="Prospect", tags=["ai"])
    services.update_investor(
        ctx, acme["id"], {"status": "Meeting", "tags": ["ai", "bio"]}, expected_version=1
    )
    changes = {h["field"]: h["id"] for h in record_history(ctx, acme) if h["action"] == "update"}
    services.restore_value(ctx, changes["status"], expected_version=2)
    restored = services.restore_value(ctx, changes["tags"], expected_version=3)
    assert (restored["status"], restored["tags"]) == ("Prospect", ["ai"])
    with pytest.raises(ConflictError):
        services.restore_value(ctx, changes["status"], expected_version=2)
    create_row = next(h["id"] for h in record_history(ctx, acme) if h["action"] == "create")
    with pytest.raises(ValidationError, match="Only a changed field"):
        services.restore_value(ctx, create_row, expected_version=4)
    assert json.loads(json.dumps(restored["tags"])) == ["ai"]
