"""The record page (/record?id=...) driven through its widgets without a browser: edits in place
with conflicts that keep what was typed, people, commitments and the total, restore from history,
previous / next through the view it was opened from, archived and unknown investors."""

from __future__ import annotations

from datetime import date

import pytest

import crm_lib
from apps.auth import page_access
from apps.contacts.page import ContactsPage
from apps.grid.page import GridPage
from apps.grid.place import GridPlace
from apps.record.page import RecordPage
from apps.runtime import Runtime
from apps.serve import PAGE_ACTIONS
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import served, session_of

ALICE, BOB = "alice@fund.example", "bob@fund.example"


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    """Fund III and twelve investors, odd ones on the Main list, even ones on Follow-up."""
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    services.create_fund(ctx, {"name": "Fund III", "vintage_year": 2025})
    services.create_fund(ctx, {"name": "Fund IV", "vintage_year": 2027})
    services.bulk_create_investors(
        ctx,
        [
            {
                "name": f"Investor {n:03d}",
                "status": "Prospect",
                "list_membership": "main" if n % 2 else "follow_up",
            }
            for n in range(1, 13)
        ],
    )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def record(
    runtime: Runtime, investor_id: int, email: str = ALICE, place: GridPlace | None = None
) -> RecordPage:
    return RecordPage(
        runtime, session=session_of(runtime, email), investor_id=investor_id, place=place
    )


def stored(runtime: Runtime, investor_id: int) -> dict:
    with runtime.context() as ctx:
        return services.get_investor(ctx, investor_id, include_archived=True)


def as_bob(runtime: Runtime):
    """A context acting as Bob (a member), as his own page would."""
    return runtime.user_context(session_of(runtime, BOB).token)


# -- fields ----------------------------------------------------------------------------------------
def test_a_field_edited_in_place_saves_with_the_version_shown(runtime: Runtime) -> None:
    page = record(runtime, 3)
    assert page.title.object == "<h2>Investor 003</h2>" and page.editors["name"].widget.value
    page.editors["location"].widget.value = "Boston"
    assert not page.failed and page.message == "Saved Location."
    investor = stored(runtime, 3)["investor"]
    assert (investor["location"], investor["version"], investor["updated_by"]) == (
        "Boston",
        2,
        ALICE,
    )
    page.editors["status"].widget.value = "Meeting"  # a select, at the version just saved
    assert stored(runtime, 3)["investor"]["status"] == "Meeting" and page.store.version == 3
    assert "Location" in page.history.table.value["Change"].iloc[1]  # newest first


def test_editors_follow_the_field_types_and_read_only_fields_show_formatted(
    runtime: Runtime,
) -> None:
    with runtime.context() as ctx:
        services.add_field(ctx, "Shout", "formula", formula="UPPER({Name})")
        services.add_field(ctx, "Share", "percent")
    page = record(runtime, 3)
    kinds = {key: type(e.widget).__name__ for key, e in page.editors.items() if e.widget}
    assert kinds["notes"] == "TextAreaInput" and kinds["last_contacted_at"] == "DatePicker"
    assert kinds["tags"] == "MultiChoice" and kinds["owner_id"] == "Select"
    assert page.editors["shout"].widget is None and page.editors["total_invested"].widget is None
    assert page.editors["shout"].display.object == "INVESTOR 003"
    assert page.editors["total_invested"].display.object == "$0"
    page.editors["share"].widget.value = 12.5  # typed as a percent, stored as a fraction
    assert stored(runtime, 3)["investor"]["share"] == pytest.approx(0.125)
    page.editors["last_contacted_at"].widget.value = __import__("datetime").date(2026, 3, 4)
    assert stored(runtime, 3)["investor"]["last_contacted_at"] == "2026-03-04"
    page.editors["tags"].new_tag.value = "Warm intro"  # a new tag, where the field allows one
    assert stored(runtime, 3)["investor"]["tags"] == ["Warm intro"]
    assert page.editors["tags"].widget.value == ["Warm intro"]


def test_a_refused_value_keeps_what_was_typed_and_says_why(runtime: Runtime) -> None:
    page = record(runtime, 3)
    page.editors["website"].widget.value = "not a web address"
    assert page.failed and "Not saved" in page.message
    editor = page.editors["website"]
    assert editor.widget.value == "not a web address"  # kept, not reset
    assert editor.message.visible and "Not saved" in editor.message.object
    page.editors["location"].widget.value = "Oslo"  # another field saves; the typed one stays
    assert stored(runtime, 3)["investor"]["location"] == "Oslo"
    assert editor.widget.value == "not a web address"


def test_a_conflict_keeps_the_typed_value_and_names_the_person(runtime: Runtime) -> None:
    page = record(runtime, 3)  # Alice reads version 1
    with as_bob(runtime) as ctx:
        services.update_field(ctx, 3, "location", "Geneva", expected_version=1)
    page.editors["location"].widget.value = "Zurich"
    assert page.failed and "Not saved: Bob changed this record" in page.message
    assert "bob@fund.example" not in page.message  # the person, as the team knows them
    assert stored(runtime, 3)["investor"]["location"] == "Geneva"  # nothing overwritten
    assert page.editors["location"].widget.value == "Zurich"  # what Alice typed is kept
    assert page.conflict.visible and "Geneva" in page.conflict_text.object
    assert "Bob" in page.editors["location"].message.object
    page.save_mine()  # she has now seen Bob's value: hers replaces it
    assert not page.failed and stored(runtime, 3)["investor"]["location"] == "Zurich"
    assert not page.conflict.visible


def test_use_theirs_drops_what_was_typed(runtime: Runtime) -> None:
    page = record(runtime, 3)
    with as_bob(runtime) as ctx:
        services.update_field(ctx, 3, "location", "Geneva", expected_version=1)
    page.editors["location"].widget.value = "Zurich"
    page.use_theirs()
    assert page.editors["location"].widget.value == "Geneva" and not page.conflict.visible
    assert stored(runtime, 3)["investor"]["location"] == "Geneva"


# -- people ----------------------------------------------------------------------------------------
def test_people_are_added_edited_made_primary_and_removed(runtime: Runtime) -> None:
    page = record(runtime, 3)
    page.person_name.value, page.person_email.value = "Ada Lovelace", "ada@lp.example"
    page.add_person()
    page.person_name.value, page.person_primary.value = "Alan Turing", True
    page.add_person()
    people = {p["full_name"]: p for p in page.store.people}
    assert [p["full_name"] for p in page.store.people] == ["Alan Turing", "Ada Lovelace"]
    ada = people["Ada Lovelace"]
    rows = "".join(row.objects[0].object for row in page.people_rows.objects)
    assert f"href='/contacts?contact={ada['contact_id']}'" in rows  # the directory entry
    assert "Primary" in rows
    page.edit_person(ada["id"])
    assert page.person_name.value == "Ada Lovelace" and page.save_person_button.visible
    page.person_title.value = "CIO"
    page.save_person()
    assert not page.failed and page._person(ada["id"])["title"] == "CIO"
    page.make_primary(ada["id"])  # the other primary is cleared by the service
    primary = [p["full_name"] for p in page.store.people if p["is_primary"]]
    assert primary == ["Ada Lovelace"]
    page.remove_person(ada["id"])  # asks first
    assert page.confirmation.pending and len(page.store.people) == 2
    page.confirmation.accept()
    assert [p["full_name"] for p in page.store.people] == ["Alan Turing"]
    with runtime.context() as ctx:  # the directory follows
        assert [c["full_name"] for c in services.list_contacts(ctx)] == ["Alan Turing"]


def test_a_person_changed_by_someone_else_keeps_the_form_and_names_them(
    runtime: Runtime,
) -> None:
    with runtime.context() as ctx:
        person = services.add_person(ctx, 3, {"full_name": "Mia Moss"})
    page = record(runtime, 3)
    page.edit_person(person["id"])
    with as_bob(runtime) as ctx:
        services.update_person(ctx, person["id"], {"title": "CFO"}, expected_version=1)
    page.person_title.value = "Partner"
    page.save_person()
    assert page.failed and "Not saved: Bob changed Mia Moss" in page.message
    assert page.person_title.value == "Partner"  # the form keeps what was typed
    page.save_person()  # saved again, knowingly, over Bob's change
    assert not page.failed and page._person(person["id"])["title"] == "Partner"


# -- commitments -----------------------------------------------------------------------------------
def test_commitments_are_added_edited_removed_and_the_total_follows(runtime: Runtime) -> None:
    page = record(runtime, 3)
    funds = {f["name"]: f["id"] for f in page.store.grid.funds}
    page.commitment_fund.value = funds["Fund III"]
    page.commitment_amount.value = 250_000
    page.add_commitment()
    assert not page.failed and "$250,000" in page.total.object
    assert list(page.commitment_fund.options) == ["Fund IV"]  # one commitment per fund
    page.commitment_fund.value = funds["Fund IV"]
    page.commitment_amount.value = 50_000
    page.commitment_status.value = "soft_circled"
    page.add_commitment()
    assert "$300,000" in page.total.object and "2 funds" in page.total.object
    first = next(c for c in page.store.commitments if c["fund_id"] == funds["Fund III"])
    page.edit_commitment(first["id"])
    page.commitment_amount.value = 400_000
    page.commitment_status.value = "closed"
    page.commitment_date.value = __import__("datetime").date(2026, 5, 1)
    page.save_commitment()
    changed = stored(runtime, 3)["commitments"][0]
    assert (changed["amount"], changed["status"], changed["committed_on"]) == (
        400_000,
        "closed",
        "2026-05-01",
    )
    assert "$450,000" in page.total.object
    assert stored(runtime, 3)["investor"]["total_invested"] == 450_000
    page.remove_commitment(first["id"])
    page.confirmation.accept()
    assert "$50,000" in page.total.object and "1 fund<" in page.total.object
    assert stored(runtime, 3)["investor"]["total_invested"] == 50_000


# -- history and activity --------------------------------------------------------------------------
def _status_history(runtime: Runtime) -> tuple[RecordPage, dict[str, int]]:
    """Investor 3's status went Prospect -> Meeting -> Passed; the page, and the audit ids of
    the two changes by the value they replaced."""
    with runtime.context() as ctx:
        services.update_field(ctx, 3, "status", "Meeting", expected_version=1)
        services.update_field(ctx, 3, "status", "Passed", expected_version=2)
        history = services.get_investor(ctx, 3)["history"]
    changes = {h["old_value"]: h["id"] for h in history if h["field"] == "status"}
    return record(runtime, 3), changes


def test_restore_after_a_refresh_acts_on_the_chosen_entry(runtime: Runtime) -> None:
    page, changes = _status_history(runtime)
    page.history.choose(changes["Prospect"])  # "Status: Prospect -> Meeting": put Prospect back
    assert not page.history.button.disabled
    page.person_name.value = "Ada Lovelace"
    page.add_person()  # the history refreshes: "created person" is now on top
    table = page.history.table
    assert [table.value["Id"].iloc[i] for i in table.selection] == [changes["Prospect"]]
    page.history.restore()
    assert not page.failed, page.message
    investor = stored(runtime, 3)["investor"]
    assert (investor["status"], investor["version"]) == ("Prospect", 4)


def test_restore_after_the_record_changed_is_a_conflict_and_writes_nothing(
    runtime: Runtime,
) -> None:
    page, changes = _status_history(runtime)
    page.history.choose(changes["Prospect"])
    with as_bob(runtime) as ctx:
        services.update_field(ctx, 3, "location", "Oslo", expected_version=3)
    page.reload()  # the history shows Bob's change (positions shift by one)
    page.history.restore()
    assert page.failed and "Not restored: Bob changed" in page.message
    assert stored(runtime, 3)["investor"]["status"] == "Passed"
    assert page.history.chosen is None and page.history.button.disabled


def test_the_activity_tab_tells_what_happened_to_this_investor_only(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        services.update_field(ctx, 5, "location", "Paris", expected_version=1)
    page = record(runtime, 3)
    page.editors["location"].widget.value = "Boston"
    shown = page.activity.object
    assert "Boston" in shown and "Paris" not in shown and "Today" in shown
    assert "<time" in shown  # relative time, the exact time on hover


def test_the_tasks_tab_adds_and_completes_this_investors_tasks(runtime: Runtime) -> None:
    page = record(runtime, 3, email="bob@fund.example")
    names = list(page.tabs._names)
    assert names == ["History", "Activity", "Emails", "Tasks", "Pipeline"]
    form = page.task_form
    assert form.checklist.sections[0]["tasks"] == []
    form.title.value = "Send the side letter"
    form.due.value = date(2020, 1, 2)
    form.add()
    assert page.message == "Added the task “Send the side letter”."
    [task] = form.checklist.sections[0]["tasks"]
    assert (task["title"], task["late"], task["investor_name"]) == (
        "Send the side letter",
        True,
        "Investor 003",
    )
    assert task["due_text"].startswith("Overdue: due 2020-01-02")
    with runtime.context() as ctx:
        assert services.get_investor(ctx, 3)["investor"]["tasks__next_due"] == "2020-01-02"
    form._on_checklist({"kind": "done", "id": task["id"], "version": task["version"]})
    assert form.checklist.sections[0]["tasks"] == []
    with runtime.context() as ctx:
        assert services.get_investor(ctx, 3)["investor"]["tasks__next_due"] is None


def test_the_pipeline_tab_lists_the_investors_opportunities(runtime: Runtime) -> None:
    page = record(runtime, 3)
    assert "In no fund's pipeline" in page.pipeline.object
    with runtime.context() as ctx:
        fund = next(f for f in services.list_funds(ctx) if f["name"] == "Fund III")
        services.create_opportunity(
            ctx, 3, fund["id"], {"expected_amount": 2e6, "next_step": "<b>Send</b> the deck"}
        )
    page = record(runtime, 3)
    shown = page.pipeline.object
    assert f"/pipeline?fund={fund['id']}" in shown
    assert "Prospect · $2,000,000 at 10%" in shown
    assert "&lt;b&gt;Send&lt;/b&gt; the deck" in shown


# -- previous / next -------------------------------------------------------------------------------
def test_previous_and_next_walk_the_view_it_was_opened_from(runtime: Runtime) -> None:
    # the Main list by name: investors 1, 3, 5, 7, 9, 11; investor 5 is the third
    page = record(runtime, 5, place=GridPlace(list_key="main", position=2))
    assert "3 of 6" in page.nav.object
    assert page.keys.previous_url == "/record?id=3&list=main&pos=1"
    assert page.keys.next_url == "/record?id=7&list=main&pos=3"
    assert page.keys.back_url == "/grid?list=main&pos=2"
    first = record(runtime, 1, place=GridPlace(list_key="main", position=0))
    assert first.keys.previous_url == "" and "◀ Previous</span>" in first.nav.object
    # sorted by a clicked header, name descending: 11, 9, 7, 5 ...
    down = record(runtime, 5, place=GridPlace(list_key="main", sorts=(("name", "desc"),)))
    assert down.keys.next_url.startswith("/record?id=3&") and "sort=name%3Adesc" in (
        down.keys.next_url
    )


def test_a_record_edited_out_of_its_view_still_steps_on_from_where_it_was(
    runtime: Runtime,
) -> None:
    page = record(runtime, 5, place=GridPlace(list_key="main", position=2))
    page.editors["list_membership"].widget.value = "graveyard"  # leaves the Main list
    assert "Not in All investors · Main now" in page.nav.object
    assert page.keys.previous_url.startswith("/record?id=3&")
    assert page.keys.next_url.startswith("/record?id=7&")


def test_neighbours_are_read_again_only_when_a_change_can_move_the_record(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each read of the neighbours walks the view's whole order: a field that is no sort key,
    filter, search or list of the place leaves them as they were."""
    reads: list[int] = []
    real = services.view_neighbours

    def counted(*args, **kwargs):
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "view_neighbours", counted)
    page = record(runtime, 5, place=GridPlace(list_key="main", position=2))
    page.editors["location"].widget.value = "Oslo"
    page.person_name.value = "Ada Lovelace"
    page.add_person()
    assert len(reads) == 1
    page.editors["name"].widget.value = "Aardvark Partners"  # sorted by name: now the first
    assert len(reads) == 2 and page.store.neighbours.position == 0
    assert page.keys.previous_url == "" and page.keys.next_url.startswith("/record?id=1&")


def test_the_grid_place_survives_the_url_and_bad_parameters_are_dropped() -> None:
    place = GridPlace(
        view_id=4,
        list_key="follow_up",
        search="acme",
        sorts=(("status", "desc"), ("name", "asc")),
        conditions=(("status", "has_any_of", ["Meeting"]),),
        position=41,
    )
    url = place.record_url(12)
    from urllib.parse import parse_qs, urlsplit

    args = {k: [v.encode() for v in vs] for k, vs in parse_qs(urlsplit(url).query).items()}
    assert args["id"] == [b"12"]
    assert GridPlace.from_args(args) == place
    bad = GridPlace.from_args(
        {"list": [b"nope"], "pos": [b"-1"], "sort": [b"name:sideways"], "f": [b"{"]}
    )
    assert bad == GridPlace() and set(bad.dropped) == {"list", "pos", "sort", "f"}


def test_the_record_panel_opens_the_record_page_at_the_grid_place(runtime: Runtime) -> None:
    grid = GridPage(runtime, session=session_of(runtime, ALICE))
    investor_id = int(grid.table.value["id"].iloc[1])
    grid.open_record(investor_id)
    link = grid.record.open_link.object
    assert f"/record?id={investor_id}&amp;list=main&amp;pos=1" in link and "Open record" in link


def test_a_bad_place_leaves_previous_and_next_off_and_says_why(runtime: Runtime) -> None:
    page = record(runtime, 5, place=GridPlace(list_key="main", sorts=(("no_such_field", "asc"),)))
    assert page.keys.next_url == "" and "Previous and next are off" in page.nav.object
    assert not page.failed  # the record itself shows and edits
    page.editors["location"].widget.value = "Lima"
    assert stored(runtime, 5)["investor"]["location"] == "Lima"


# -- archived, unknown, who may open it ------------------------------------------------------------
def test_an_archived_investor_opens_read_only_with_restore(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        services.add_person(ctx, 3, {"full_name": "Ada Lovelace"})
        services.archive_investor(ctx, 3, expected_version=1)
    page = record(runtime, 3)
    assert "Archived" in page.title.object and page.archived_note.visible
    assert page.restore_investor_button.visible and not page.archive_button.visible
    assert all(e.widget is None or not e.widget.visible for e in page.editors.values())
    assert page.editors["name"].display.visible and page.editors["name"].display.object
    assert not page.person_form.visible and not page.commitment_form.visible
    assert len(page.people_rows.objects[0]) == 1  # a person's line, and no buttons
    page.save_field("location", "Sneaky")
    assert stored(runtime, 3)["investor"]["location"] is None
    page.restore_investor()
    assert not page.store.archived and page.editors["location"].widget.visible
    assert not page.editors["location"].widget.disabled


def test_archive_asks_first(runtime: Runtime) -> None:
    page = record(runtime, 3)
    page.archive()
    assert page.confirmation.pending and stored(runtime, 3)["investor"]["deleted_at"] is None
    page.confirmation.accept()
    assert page.store.archived and page.restore_investor_button.visible


def test_an_unknown_id_says_so_plainly(runtime: Runtime) -> None:
    page = record(runtime, 999_999)
    assert page.missing.visible and "no investor \\#999999" in page.missing.object
    assert not page.body.visible and page.title.object == "<h2>Investor not found</h2>"
    assert not page.failed
    nothing = record(runtime, None)
    assert nothing.missing.visible and "open it from the grid" in nothing.missing.object


def test_every_role_that_may_use_the_grid_may_open_a_record(runtime: Runtime) -> None:
    for email in (ALICE, BOB):
        user = session_of(runtime, email).user
        assert page_access.may_open(user, "/record", PAGE_ACTIONS)
    assert not page_access.may_open(None, "/record", PAGE_ACTIONS)
    built = page_access.checked_in_session({"/record": lambda: "built"}, PAGE_ACTIONS)
    assert "Not allowed" in built["/record"]().object  # no session: nothing is built


def test_contacts_open_one_contact_by_url(runtime: Runtime, monkeypatch) -> None:
    with runtime.context() as ctx:
        ada = services.add_person(ctx, 3, {"full_name": "Ada Lovelace"})
        services.add_person(ctx, 5, {"full_name": "Alan Turing"})
    monkeypatch.setattr(
        "apps.contacts.page.url_int",
        lambda name, args=None: {"contact": ada["contact_id"]}.get(name),
    )
    page = ContactsPage(runtime, session=session_of(runtime, BOB))
    assert list(page.table.value["Name"]) == ["Ada Lovelace"] and page.show_all_button.visible
    page.show_everyone()
    assert list(page.table.value["Name"]) == ["Ada Lovelace", "Alan Turing"]


def test_the_record_page_follows_changes_made_elsewhere(runtime: Runtime) -> None:
    from apps.grid.live import GridHub

    hub = GridHub(runtime.events)
    page = record(runtime, 3)
    forget = hub.register(page)
    other = record(runtime, 4)  # a change to another investor leaves this page alone
    hub.register(other)
    page.editors["notes"].widget.value = "typed, not saved"
    page.kept.add("notes")
    with as_bob(runtime) as ctx:
        current = services.get_investor(ctx, 3)["investor"]
        services.update_investor(
            ctx, 3, {"location": "Reykjavik"}, expected_version=current["version"]
        )
        services.add_person(ctx, 3, {"full_name": "Ada Live", "email": "ada@live.example"})
    assert page.editors["location"].widget.value == "Reykjavik"
    assert any(p["full_name"] == "Ada Live" for p in page.store.people)
    assert page.editors["notes"].widget.value == "typed, not saved"  # kept while typing
    assert other.store.investor["location"] != "Reykjavik"
    forget()


def test_neighbours_that_need_a_scan_are_read_on_a_read_thread(runtime: Runtime) -> None:
    """Opened in a place whose order is not remembered (a sort not read since the data
    changed), a served record page shows the record at once and its previous / next when the
    read thread has them: a scan on the event loop held up every other session."""
    page = record(runtime, 5, place=GridPlace(list_key="main", position=2))
    document = served(page)
    page.store.place = GridPlace(list_key="main", sorts=(("name", "desc"),), position=3)
    page.reload()
    assert "3 of 6" in page.nav.object  # still the place as read before
    document.run()
    assert "4 of 6" in page.nav.object  # 11, 9, 7, 5: the fourth
    page.reload()  # remembered now: read at once
    assert not document.callbacks and "4 of 6" in page.nav.object
