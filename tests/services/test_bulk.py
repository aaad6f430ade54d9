"""The bulk path: same validation, audit and rollups as single writes, one transaction, batches."""

from __future__ import annotations

import json

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.storage.reads import query_dicts


def records(n: int, fund_id: int) -> list[dict]:
    return [
        {
            "name": f"Investor {i}",
            "type": "Pension",
            "tags": ["re-up"],
            "people": [
                {
                    "full_name": f"Person {i}.{j}",
                    "email": f"p{i}.{j}@example.com",
                    "is_primary": j == 0,
                }
                for j in range(3)
            ],
            "commitments": [{"fund_id": fund_id, "amount": 1000 * i, "status": "closed"}]
            if i % 2
            else [],
        }
        for i in range(n)
    ]


def counts(ctx: Context) -> dict[str, int]:
    tables = [
        "fundraising_investors",
        "fundraising_contacts",
        "contacts",
        "fundraising_commitments",
        "audit_log",
    ]
    return {t: ctx.db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def test_bulk_create_writes_people_links_rollups_and_one_audit_range_per_table(
    ctx: Context, fund: dict
) -> None:
    before = counts(ctx)["audit_log"]
    state = services.grid_state(ctx)["version"]
    result = services.bulk_create_investors(ctx, records(25, fund["id"]), batch_size=7)
    assert (result.investors, result.people, result.commitments) == (25, 75, 12)
    assert counts(ctx) == {
        "fundraising_investors": 25,
        "fundraising_contacts": 75,
        "contacts": 75,
        "fundraising_commitments": 12,
        "audit_log": before + 4,  # one range per table, not a copy of every row
    }
    ranges = ctx.db.execute(
        "SELECT entity, entity_id, last_entity_id, json_extract(new_value, '$.rows')"
        " FROM audit_log WHERE last_entity_id IS NOT NULL ORDER BY id"
    ).fetchall()
    assert [tuple(r) for r in ranges] == [
        ("fundraising_investors", result.first_investor_id, result.last_investor_id, 25),
        ("fundraising_contacts", 1, 75, 75),
        ("contacts", 1, 75, 75),
        ("fundraising_commitments", 1, 12, 12),
    ]
    broken_links = ctx.db.execute(
        "SELECT count(*) FROM fundraising_contacts p JOIN contacts c ON c.id = p.contact_id"
        " WHERE c.fundraising_contact_id != p.id OR c.email != p.email"
    ).fetchone()[0]
    assert broken_links == 0
    assert ctx.db.execute("PRAGMA foreign_key_check").fetchall() == []
    record = services.get_investor(ctx, result.first_investor_id + 3)
    assert record["investor"]["total_invested"] == 3000
    assert record["investor"]["tags"] == ["re-up"]
    assert [p["is_primary"] for p in record["people"]].count(True) == 1
    created = [(h["entity"], h["entity_id"]) for h in record["history"] if h["action"] == "create"]
    people = sorted(p["id"] for p in record["people"])
    assert sorted(created) == sorted(  # the record's creation, and each of its people's
        [("fundraising_investors", result.first_investor_id + 3)]
        + [("fundraising_contacts", i) for i in people]
        + [("fundraising_commitments", c["id"]) for c in record["commitments"]]
    )
    assert services.grid_state(ctx)["version"] == state + 1


def test_bulk_create_publishes_one_change_per_table_with_the_id_range(
    ctx: Context, fund: dict
) -> None:
    received: list = []
    ctx.events.subscribe(received.extend)
    result = services.bulk_create_investors(ctx, records(4, fund["id"]))
    ranges = {c.entity: (c.action, c.entity_id, c.last_entity_id) for c in received}
    assert ranges["fundraising_investors"] == (
        "create",
        result.first_investor_id,
        result.last_investor_id,
    )
    assert ranges["fundraising_contacts"] == ("create", 1, 12)
    assert len(received) == 4


def test_same_records_through_bulk_and_single_writes_store_the_same_rows(
    ctx: Context, fund: dict
) -> None:
    [one] = records(1, fund["id"])
    one["commitments"] = []
    single = services.create_investor(
        ctx, {k: v for k, v in one.items() if k not in ("people", "commitments")}
    )
    result = services.bulk_create_investors(ctx, [one])
    cols = "name, type, status, list_membership, owner_id, location, website, notes, tags, last_contacted_at, total_invested, version, created_by"
    rows = ctx.db.execute(f"SELECT {cols} FROM fundraising_investors ORDER BY id").fetchall()
    assert rows[0] == rows[1]
    (image,) = ctx.db.execute(  # the single write's audit image of its row...
        "SELECT new_value FROM audit_log WHERE entity = 'fundraising_investors' AND entity_id = ?",
        [single["id"]],
    ).fetchone()
    bulk_row = query_dicts(  # ...is what the bulk write's row holds at version 1
        ctx.db, "SELECT * FROM fundraising_investors WHERE id = ?", [result.first_investor_id]
    )[0]
    assert {k: v for k, v in json.loads(image).items() if k != "id"} == {
        k: bulk_row[k] for k in json.loads(image) if k != "id"
    }


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r[7].update(name=""), "Row 8: Name cannot be empty"),
        (
            lambda r: r[4].update(type="Hedge fund"),
            "Row 5, Type: 'Hedge fund' is not one of the choices",
        ),
        (
            lambda r: r[9]["people"].append({"full_name": "X", "email": "nope"}),
            "Row 10, email: 'nope' is not an email",
        ),
        (lambda r: r[3]["commitments"].append({"fund_id": 1, "amount": -1}), "Row 4"),
        (
            lambda r: r[6].update(commitments=[{"fund_id": 77, "amount": 5}]),
            "Row 7: no fund with id 77",
        ),
        (lambda r: r[2]["people"][1].update(is_primary=True), "Row 3: 2 people are marked primary"),
    ],
)
def test_one_bad_row_names_its_row_and_field_and_nothing_is_written(
    ctx: Context, fund: dict, mutate, message: str
) -> None:
    rows = records(12, fund["id"])
    mutate(rows)
    before, state = counts(ctx), services.grid_state(ctx)
    with pytest.raises(ValidationError, match=message):
        services.bulk_create_investors(ctx, rows, batch_size=5)  # the error is in a later batch
    assert counts(ctx) == before
    assert services.grid_state(ctx) == state


def test_the_activity_of_a_bulk_created_investor_names_its_creation_and_its_people(
    ctx: Context, fund: dict
) -> None:
    result = services.bulk_create_investors(ctx, records(3, fund["id"]))
    middle = result.first_investor_id + 1
    services.update_field(ctx, middle, "location", "Oslo", expected_version=1)
    feed = services.activity(ctx, investor_id=middle)
    summaries = [event["summary"] for event in feed]
    assert summaries[0].endswith("location — → Oslo")
    assert f"created 3 investors (ids {result.first_investor_id} to {result.last_investor_id})" in (
        summaries
    )
    assert "created 9 people (ids 1 to 9)" in summaries  # the range holding its people
    other = services.activity(ctx, investor_id=result.last_investor_id + 1)
    assert other == []  # an id outside every range: nothing
