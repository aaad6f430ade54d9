"""Tasks on a real SQLite file: created for oneself by default, about an investor, one of its
people or an opportunity (checked to belong together), "my tasks" as overdue, today and
upcoming in the CRM's date, completed with a version check, filtered lists, soft delete."""

from __future__ import annotations

from datetime import date

import pytest

from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.errors import ConflictError, NotFound, ValidationError


@pytest.fixture
def team(ctx: Context) -> dict:
    bob = ctx.as_user(services.create_user(ctx, "bob@fund.example", "Bob", "member"))
    carol_id = services.create_user(ctx, "carol@fund.example", "Carol", "member")["id"]
    acme = services.create_investor(ctx, {"name": "Acme Capital"})
    bloom = services.create_investor(ctx, {"name": "Bloom Pension"})
    jane = services.add_person(ctx, acme["id"], {"full_name": "Jane Doe"})
    return {"bob": bob, "carol": carol_id, "acme": acme["id"], "bloom": bloom["id"], "jane": jane}


def test_a_task_is_its_creators_and_takes_its_investor_from_its_person(team: dict) -> None:
    bob = team["bob"]
    task = services.create_task(
        bob,
        {"title": "  Send   the deck ", "person_id": team["jane"]["id"], "due_on": "2026-11-30"},
    )
    assert task["title"] == "Send the deck" and task["assignee_name"] == "Bob"
    assert task["investor_id"] == team["acme"] and task["person_name"] == "Jane Doe"
    assert (task["status"], task["priority"], task["source"]) == ("open", "normal", "manual")
    with pytest.raises(ValidationError, match=r"Person \d+ is not one of investor"):
        services.create_task(
            bob, {"title": "x", "investor_id": team["bloom"], "person_id": team["jane"]["id"]}
        )
    with pytest.raises(NotFound):
        services.create_task(bob, {"title": "x", "investor_id": 999})
    with pytest.raises(ValidationError, match="A task needs a title"):
        services.create_task(bob, {"title": "   "})
    with pytest.raises(ValidationError, match="is not a date"):
        services.create_task(bob, {"title": "x", "due_on": "next Tuesday"})
    with pytest.raises(ValidationError, match="priority is one of"):
        services.create_task(bob, {"title": "x", "priority": "urgent"})


def test_my_tasks_are_overdue_today_and_upcoming_in_the_crms_date(
    team: dict, clock: FixedClock
) -> None:
    bob = team["bob"]
    today = clock.now().date()
    for title, due in (
        ("late", "2026-11-20"),
        ("now", today.isoformat()),
        ("soon", "2026-12-01"),
        ("someday", None),
    ):
        services.create_task(bob, {"title": title, "due_on": due})
    services.create_task(
        bob, {"title": "Carol's", "assignee_id": team["carol"], "due_on": "2026-11-01"}
    )
    mine = services.my_tasks(bob)
    assert {k: [t["title"] for t in v] for k, v in mine.items()} == {
        "overdue": ["late"],
        "today": ["now"],
        "upcoming": ["soon", "someday"],
    }
    clock.advance(days=7)
    assert [t["title"] for t in services.my_tasks(bob)["overdue"]] == ["late", "now", "soon"]


def test_completing_checks_the_version_and_a_list_filters(team: dict) -> None:
    bob = team["bob"]
    task = services.create_task(bob, {"title": "Call", "investor_id": team["acme"]})
    done = services.complete_task(bob, task["id"], expected_version=task["version"])
    assert done["status"] == "done" and done["completed_at"] is not None
    with pytest.raises(ConflictError):
        services.complete_task(bob, task["id"], expected_version=task["version"])
    reopened = services.update_task(
        bob, task["id"], {"status": "open"}, expected_version=done["version"]
    )
    assert reopened["completed_at"] is None
    services.create_task(
        bob, {"title": "Other", "investor_id": team["bloom"], "due_on": "2026-12-10"}
    )
    assert [t["title"] for t in services.list_tasks(bob, investor_id=team["acme"])] == ["Call"]
    early = services.list_tasks(bob, due_before=date(2026, 12, 31))
    assert [t["title"] for t in early] == ["Other"]
    services.archive_task(bob, reopened["id"], expected_version=reopened["version"])
    assert [t["title"] for t in services.list_tasks(bob)] == ["Other"]
    with pytest.raises(NotFound):
        services.get_task(bob, task["id"])


def test_an_archived_investors_tasks_are_on_no_read_path(team: dict) -> None:
    bob = team["bob"]
    services.create_task(bob, {"title": "Gone soon", "investor_id": team["bloom"]})
    services.archive_investor(bob, team["bloom"], expected_version=1)
    assert services.list_tasks(bob) == []


def test_the_grid_shows_each_investors_next_task_due_and_filters_the_overdue(
    ctx: Context, team: dict
) -> None:
    """ "Next task due" is the earliest open task's due date, kept with every task change in the
    same transaction, read-only, and "is before today" is the overdue filter (today being
    2026-11-25 on the fixed clock)."""
    bob = team["bob"]

    def due(investor: str) -> str | None:
        return services.get_investor(ctx, team[investor])["investor"]["tasks__next_due"]

    late = services.create_task(
        bob, {"title": "Chase the side letter", "investor_id": team["acme"], "due_on": "2026-11-20"}
    )
    services.create_task(
        bob, {"title": "Send Q3 letter", "investor_id": team["acme"], "due_on": "2026-12-02"}
    )
    services.create_task(
        bob, {"title": "Intro call", "investor_id": team["bloom"], "due_on": "2026-12-09"}
    )
    version = services.get_investor(ctx, team["acme"])["investor"]["version"]
    assert (due("acme"), due("bloom")) == ("2026-11-20", "2026-12-09")
    overdue = services.list_investors(
        ctx,
        filter_tree={"field": "Next task due", "operator": "before_today"},
    )
    assert [row["name"] for row in overdue.rows] == ["Acme Capital"]
    by_due = services.list_investors(ctx, sort=[("tasks__next_due", "desc")])
    assert [row["name"] for row in by_due.rows] == ["Bloom Pension", "Acme Capital"]
    done = services.complete_task(bob, late["id"], expected_version=late["version"])
    assert due("acme") == "2026-12-02"
    # derived like a formula: a task never bumps the investor's version (no false conflicts)
    assert services.get_investor(ctx, team["acme"])["investor"]["version"] == version
    moved = services.update_task(
        bob,
        done["id"],
        {"status": "open", "investor_id": team["bloom"]},
        expected_version=done["version"],
    )
    assert (due("acme"), due("bloom")) == ("2026-12-02", "2026-11-20")
    services.archive_task(bob, moved["id"], expected_version=moved["version"])
    assert due("bloom") == "2026-12-09"
    with pytest.raises(ValidationError):
        services.update_investor(
            ctx, team["acme"], {"tasks__next_due": "2027-01-01"}, expected_version=version
        )
