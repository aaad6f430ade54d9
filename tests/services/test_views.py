"""Saved views: validated on save, personal or shared, duplicated, renamed, deleted softly,
one default per user, and paged through one query with sorts that break ties on id."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ConflictError, NotFound, PermissionDenied, ValidationError

PASSWORD = "tangerine orbit mosaic"
FOLLOW_UPS = {
    "name": "Warm follow-ups",
    "list_membership": "follow_up",
    "filters": {
        "op": "or",
        "conditions": [
            {"field": "Status", "operator": "eq", "value": "Meeting"},
            {"field": "Tags", "operator": "has_any_of", "value": ["Warm"]},
        ],
    },
    "sorts": [{"field": "Status", "direction": "asc"}, {"field": "Name", "direction": "desc"}],
    "hidden_fields": ["Notes"],
    "frozen_fields": ["Name"],
    "widths": {"Name": 240},
    "field_order": ["Name", "Status", "Tags"],
}


def person(ctx: Context, email: str) -> Context:
    link = services.invite_user(ctx, email)
    return ctx.as_user(services.accept_link(ctx, link.token, name=email[:3], password=PASSWORD))


@pytest.fixture
def team(ctx: Context) -> tuple[Context, Context]:
    for name, status, tags, lst in [
        ("Acme", "Meeting", [], "follow_up"),
        ("Beta", "Passed", ["Warm"], "follow_up"),
        ("Gamma", "Meeting", [], "follow_up"),
        ("Delta", "Meeting", [], "main"),
        ("Epsilon", "Prospect", [], "follow_up"),
    ]:
        services.create_investor(
            ctx, {"name": name, "status": status, "tags": tags, "list_membership": lst}
        )
    return person(ctx, "bob@fund.example"), person(ctx, "cat@fund.example")


def test_a_saved_view_pages_its_list_filter_and_sorts(team) -> None:
    bob, _ = team
    view = services.create_view(bob, FOLLOW_UPS)
    assert view["shared"] is False and view["field_order"] == ["name", "status", "tags"]
    assert view["widths"] == {"name": 240} and view["hidden_fields"] == ["notes"]
    page = services.view_page(bob, view)
    assert [r["name"] for r in page.rows] == ["Gamma", "Acme", "Beta"] and page.total == 3
    resorted = services.view_page(bob, view, sorts=[{"field": "Name", "direction": "asc"}])
    assert [r["name"] for r in resorted.rows] == ["Acme", "Beta", "Gamma"]
    narrowed = services.view_page(
        bob, view, conditions=[("Name", "contains", "a")], page_size=1, page=2
    )
    assert [r["name"] for r in narrowed.rows] == ["Acme"] and narrowed.total == 3


def test_ties_break_on_id_so_paging_is_stable(ctx: Context) -> None:
    for _ in range(7):
        services.create_investor(ctx, {"name": "Same name", "status": "Meeting"})
    view = services.create_view(ctx, {"name": "All", "sorts": [{"field": "Status"}]})
    seen = []
    for page in (1, 2, 3):
        seen += [r["id"] for r in services.view_page(ctx, view, page=page, page_size=3).rows]
    assert seen == sorted(seen) and len(set(seen)) == 7


def test_personal_views_are_private_and_shared_ones_are_everyones(team) -> None:
    bob, cat = team
    mine = services.create_view(bob, FOLLOW_UPS)
    with pytest.raises(NotFound):
        services.get_view(cat, mine["id"])
    assert services.list_views(cat) == []
    shared = services.update_view(bob, mine["id"], {"shared": True}, expected_version=1)
    assert shared["shared"] and [v["name"] for v in services.list_views(cat)] == ["Warm follow-ups"]
    renamed = services.update_view(cat, mine["id"], {"name": "Team follow-ups"}, expected_version=2)
    assert renamed["name"] == "Team follow-ups"
    with pytest.raises(ConflictError):
        services.update_view(bob, mine["id"], {"name": "Stale"}, expected_version=2)
    private = services.create_view(cat, {"name": "Cat's"})
    services.update_view(cat, private["id"], {"shared": True}, expected_version=1)
    services.update_view(cat, private["id"], {"shared": False}, expected_version=2)
    with pytest.raises(NotFound):
        services.update_view(bob, private["id"], {"name": "x"}, expected_version=3)


def test_only_the_owner_can_touch_a_personal_view(team, ctx: Context) -> None:
    bob, cat = team
    mine = services.create_view(bob, {"name": "Mine"})
    for someone in (cat, ctx):  # another member, and the shell (which sees shared views only)
        with pytest.raises(NotFound):
            services.archive_view(someone, mine["id"], expected_version=1)
        with pytest.raises(NotFound):
            services.set_default_view(cat, mine["id"])
    assert services.create_view(ctx, {"name": "Shell's"})["shared"]


def test_duplicate_rename_delete_and_default(team) -> None:
    bob, _ = team
    view = services.create_view(bob, FOLLOW_UPS)
    copy = services.duplicate_view(bob, view["id"])
    assert copy["name"] == "Warm follow-ups copy" and copy["filters"] == view["filters"]
    services.set_default_view(bob, copy["id"])
    assert services.default_view(bob)["id"] == copy["id"]
    services.archive_view(bob, copy["id"], expected_version=1)
    assert services.default_view(bob) is None
    assert [v["name"] for v in services.list_views(bob)] == ["Warm follow-ups"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "  "}, "needs a name"),
        ({"name": "V", "list_membership": "vip"}, "List must be all or one of"),
        ({"name": "V", "sorts": [{"field": "Nmae"}]}, "Unknown field 'Nmae'"),
        ({"name": "V", "sorts": [{"field": "Name", "direction": "up"}]}, "asc or desc"),
        ({"name": "V", "hidden_fields": ["Name", "name"]}, "lists a field twice"),
        ({"name": "V", "widths": {"Name": 5}}, "40 to 2000 pixels"),
        (
            {
                "name": "V",
                "filters": {
                    "op": "and",
                    "conditions": [
                        {"field": "Total invested", "operator": "contains", "value": "1"}
                    ],
                },
            },
            "does not apply to Total invested",
        ),
        ({"name": "V", "colour": "red"}, "Unknown view settings: colour"),
    ],
)
def test_invalid_views_are_refused_when_saved(ctx: Context, values: dict, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_view(ctx, values)
    assert message in caught.value.message
    assert services.list_views(ctx) == []


def admin(ctx: Context, email: str) -> Context:
    link = services.invite_user(ctx, email, "admin")
    return ctx.as_user(services.accept_link(ctx, link.token, name=email[:3], password=PASSWORD))


def owner_of(ctx: Context, view_id: int) -> int | None:
    return ctx.db.conn.execute(
        "SELECT owner_id FROM fundraising_views WHERE id = ?", [view_id]
    ).fetchone()[0]


def test_a_member_cannot_unshare_a_view_someone_else_shared(team, ctx: Context) -> None:
    bob, cat = team
    ann = admin(ctx, "ann@fund.example")
    view = services.create_view(ann, {"name": "Admin's pipeline", "shared": True})
    with pytest.raises(PermissionDenied, match="Only its creator or an admin"):
        services.update_view(cat, view["id"], {"shared": False}, expected_version=1)
    assert owner_of(ctx, view["id"]) is None  # still the team's, not cat's
    assert [v["name"] for v in services.list_views(bob)] == ["Admin's pipeline"]
    # what the product intends stays: any member edits a shared view's settings, and saving
    # with "shared": True (as the view builder always sends) is no change of sharing
    edited = services.update_view(
        cat, view["id"], {"name": "Team pipeline", "shared": True}, expected_version=1
    )
    assert edited["shared"] and edited["name"] == "Team pipeline"


def test_unsharing_returns_a_view_to_its_creator_never_to_whoever_unshared_it(
    team, ctx: Context
) -> None:
    bob, cat = team
    ann = admin(ctx, "ann@fund.example")
    mine = services.create_view(bob, {"name": "Bob's"})
    services.update_view(bob, mine["id"], {"shared": True}, expected_version=1)
    unshared = services.update_view(ann, mine["id"], {"shared": False}, expected_version=2)
    assert unshared["shared"] is False and owner_of(ctx, mine["id"]) == bob.user_id
    assert [v["name"] for v in services.list_views(bob)] == ["Bob's"]
    assert services.list_views(ann) == [] and services.list_views(cat) == []
    # the creator shares and un-shares their own view as before
    services.update_view(bob, mine["id"], {"shared": True}, expected_version=3)
    services.update_view(bob, mine["id"], {"shared": False}, expected_version=4)
    assert owner_of(ctx, mine["id"]) == bob.user_id


def test_a_view_whose_creator_cannot_have_it_is_not_unshared(team, ctx: Context) -> None:
    bob, _ = team
    ann = admin(ctx, "ann@fund.example")
    made_by_the_shell = services.create_view(ctx, {"name": "Imported"})
    with pytest.raises(ValidationError, match="duplicate it"):
        services.update_view(ann, made_by_the_shell["id"], {"shared": False}, expected_version=1)
    leaving = services.create_view(bob, {"name": "Bob's shared", "shared": True})
    services.set_user_active(ctx, bob.user_id, False)
    with pytest.raises(ValidationError, match="deactivated"):
        services.update_view(ann, leaving["id"], {"shared": False}, expected_version=1)
    assert owner_of(ctx, made_by_the_shell["id"]) is None and owner_of(ctx, leaving["id"]) is None
