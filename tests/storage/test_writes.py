"""The one write path: version checks, audit rows, state bumps, events, all-or-nothing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import ConflictError, ValidationError
from crm_lib.events import Change, EventBus
from crm_lib.storage.writes import same_stored_value, write


def audit_rows(ctx: Context, entity: str = "fundraising_investors") -> list[tuple]:
    return ctx.db.execute(
        "SELECT actor, action, field, old_value, new_value FROM audit_log WHERE entity = ? ORDER BY id",
        [entity],
    ).fetchall()


def test_two_writers_same_version_one_wins_other_gets_conflict_nothing_lost(
    ctx: Context, bob: Context, clock: FixedClock
) -> None:
    investor = services.create_investor(ctx, {"name": "Acme Family Office"})
    seen_by_alice = services.get_investor(ctx, investor["id"])["investor"]["version"]
    seen_by_bob = services.get_investor(bob, investor["id"])["investor"]["version"]
    assert seen_by_alice == seen_by_bob == 1

    clock.advance(minutes=1)
    services.update_field(ctx, investor["id"], "status", "Meeting", expected_version=seen_by_alice)
    with pytest.raises(ConflictError) as caught:
        services.update_field(bob, investor["id"], "status", "Passed", expected_version=seen_by_bob)

    conflict = caught.value
    assert (conflict.current_version, conflict.updated_by) == (2, "alice@fund.example")
    assert conflict.updated_at == "2026-11-25T09:01:00.000000+00:00"
    assert conflict.to_dict()["error"] == "conflict"
    stored = services.get_investor(bob, investor["id"])["investor"]
    assert (stored["status"], stored["version"]) == ("Meeting", 2)
    assert [r[:3] for r in audit_rows(ctx)] == [
        ("alice@fund.example", "create", None),
        ("alice@fund.example", "update", "status"),
    ]
    # Bob reloads and re-applies: his change lands on top, Alice's stays in history.
    services.update_field(
        bob, investor["id"], "status", "Passed", expected_version=conflict.current_version
    )
    assert audit_rows(ctx)[-1] == ("bob@fund.example", "update", "status", '"Meeting"', '"Passed"')


def test_every_changed_field_gets_an_audit_row_with_old_and_new(
    ctx: Context, clock: FixedClock
) -> None:
    investor = services.create_investor(ctx, {"name": "Acme", "location": "Boston, MA"})
    clock.advance(hours=1)
    services.update_investor(
        ctx,
        investor["id"],
        {
            "location": "Zurich, Switzerland",
            "tags": ["warm intro"],
            "name": "Acme",
        },  # name unchanged
        expected_version=1,
    )
    rows = ctx.db.execute(
        "SELECT at, actor, field, old_value, new_value FROM audit_log WHERE action = 'update'"
    ).fetchall()
    assert rows == [
        (
            "2026-11-25T10:00:00.000000+00:00",
            "alice@fund.example",
            "location",
            '"Boston, MA"',
            '"Zurich, Switzerland"',
        ),
        (
            "2026-11-25T10:00:00.000000+00:00",
            "alice@fund.example",
            "tags",
            "null",
            json.dumps('["warm intro"]'),
        ),
    ]
    created = json.loads(audit_rows(ctx)[0][4])
    assert created["name"] == "Acme" and created["location"] == "Boston, MA"


def test_a_write_that_changes_nothing_keeps_the_version_and_writes_no_audit(ctx: Context) -> None:
    investor = services.create_investor(ctx, {"name": "Acme", "status": "Meeting"})
    state = services.grid_state(ctx)["version"]
    again = services.update_field(ctx, investor["id"], "status", "meeting", expected_version=1)
    assert again["version"] == 1 and again["status"] == "Meeting"
    assert len(audit_rows(ctx)) == 1
    assert services.grid_state(ctx)["version"] == state


def test_grid_state_is_bumped_by_each_grid_write_and_not_by_a_failed_one(ctx: Context) -> None:
    start = services.grid_state(ctx)["version"]
    investor = services.create_investor(ctx, {"name": "Acme"})
    services.update_field(ctx, investor["id"], "notes", "Met at AGM", expected_version=1)
    assert services.grid_state(ctx) == {
        "version": start + 2,
        "updated_at": "2026-11-25T09:00:00.000000+00:00",
        "updated_by": "alice@fund.example",
    }
    with pytest.raises(ConflictError):
        services.update_field(ctx, investor["id"], "notes", "stale", expected_version=1)
    assert services.grid_state(ctx)["version"] == start + 2


def test_an_error_inside_a_transaction_rolls_back_every_statement(ctx: Context) -> None:
    investor = services.create_investor(ctx, {"name": "Acme"})
    with pytest.raises(ValidationError), write(ctx) as tx:
        tx.update("fundraising_investors", investor["id"], {"location": "Oslo"}, expected_version=1)
        raise ValidationError("something later in the same service call failed")
    stored = services.get_investor(ctx, investor["id"])["investor"]
    assert (stored["location"], stored["version"]) == (None, 1)
    assert len(audit_rows(ctx)) == 1


def test_events_are_published_after_commit_and_never_for_a_rollback(
    ctx: Context, events: EventBus
) -> None:
    received: list[Change] = []
    unsubscribe = events.subscribe(received.extend)
    investor = services.create_investor(ctx, {"name": "Acme"})
    services.update_field(ctx, investor["id"], "status", "Contacted", expected_version=1)
    with pytest.raises(ConflictError):
        services.update_field(ctx, investor["id"], "status", "Passed", expected_version=1)
    assert [(c.entity, c.action, c.fields, c.version) for c in received] == [
        ("fundraising_investors", "create", (), 1),
        ("fundraising_investors", "update", ("status",), 2),
    ]
    unsubscribe()
    services.update_field(ctx, investor["id"], "status", "Passed", expected_version=2)
    assert len(received) == 2


def test_a_failing_listener_does_not_undo_the_committed_write(
    ctx: Context, events: EventBus
) -> None:
    def broken(changes: list[Change]) -> None:
        raise RuntimeError("listener bug")

    events.subscribe(broken)
    investor = services.create_investor(ctx, {"name": "Acme"})
    assert services.get_investor(ctx, investor["id"])["investor"]["name"] == "Acme"


def test_nothing_is_hard_deleted_archive_keeps_the_row(ctx: Context) -> None:
    investor = services.create_investor(ctx, {"name": "Acme"})
    services.archive_investor(ctx, investor["id"], expected_version=1)
    row = ctx.db.execute(
        "SELECT name, deleted_at, deleted_by, version FROM fundraising_investors WHERE id = ?",
        [investor["id"]],
    ).fetchone()
    assert row == ("Acme", "2026-11-25T09:00:00.000000+00:00", "alice@fund.example", 2)
    assert [r[1] for r in audit_rows(ctx)] == ["create", "archive"]


def test_saving_the_same_number_again_is_not_a_change(ctx: Context) -> None:
    field = services.add_field(ctx, "Ticket", "number")
    investor = services.create_investor(ctx, {"name": "Acme", field.label: 1_500_000})
    again = services.update_field(ctx, investor["id"], "Ticket", "1,500,000", expected_version=1)
    assert again["version"] == 1
    changed = services.update_field(ctx, investor["id"], "Ticket", 1_500_000.5, expected_version=1)
    assert changed["version"] == 2


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        (2, 2.0, True),
        (2, "2", False),
        (None, None, True),
        (None, "", False),
        ("a", "a", True),
        (1, True, False),
    ],
)
def test_same_stored_value(old: object, new: object, same: bool) -> None:
    assert same_stored_value(old, new) is same


def test_concurrent_writers_on_two_connections_all_land(ctx: Context, bob: Context) -> None:
    investors = [services.create_investor(ctx, {"name": f"Investor {n}"}) for n in range(2)]

    def edit(who: Context, investor_id: int) -> None:
        version = 1
        for n in range(60):
            version = services.update_field(
                who, investor_id, "notes", f"note {n}", expected_version=version
            )["version"]

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(edit, who, inv["id"])
            for who, inv in zip((ctx, bob), investors, strict=True)
        ]
        for future in futures:
            future.result()
    rows = ctx.db.execute("SELECT notes, version FROM fundraising_investors ORDER BY id").fetchall()
    assert rows == [("note 59", 61), ("note 59", 61)]
    updates = ctx.db.execute(
        "SELECT actor, count(*) FROM audit_log WHERE action = 'update' GROUP BY actor"
    ).fetchall()
    assert sorted(updates) == [("alice@fund.example", 60), ("bob@fund.example", 60)]


def test_a_conflict_names_the_person_by_their_name_not_their_email(
    ctx: Context, bob: Context
) -> None:
    services.create_user(ctx, "alice@fund.example", name="Alice Adams")
    investor = services.create_investor(ctx, {"name": "Acme"})
    services.update_field(ctx, investor["id"], "status", "Meeting", expected_version=1)
    with pytest.raises(ConflictError) as caught:
        services.update_field(bob, investor["id"], "status", "Passed", expected_version=1)
    conflict = caught.value
    assert conflict.updated_by == "alice@fund.example"  # what the audit records
    assert conflict.updated_by_name == "Alice Adams"  # what a person reads
    assert "was changed by Alice Adams at" in conflict.message
    assert conflict.to_dict()["updated_by_name"] == "Alice Adams"
