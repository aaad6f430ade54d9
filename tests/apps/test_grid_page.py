"""The grid page driven through its widgets without a browser: paging, lists, search, header
filters and sorts, edits with conflicts, live updates between sessions, fields and views."""

from __future__ import annotations

import json
import threading
from datetime import date

import openpyxl
import pytest

import apps.grid.page as grid_page_module
import crm_lib
from apps.contacts.page import ContactsPage
from apps.grid.live import GridHub
from apps.grid.page import GridPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import served, session_of


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    fund = services.create_fund(ctx, {"name": "Fund III", "vintage_year": 2025})
    services.bulk_create_investors(
        ctx,
        [
            {
                "name": f"Investor {n:03d}",
                "status": "Meeting" if n % 3 == 0 else "Prospect",
                "list_membership": "main" if n % 2 else "follow_up",
                "commitments": [{"fund_id": fund["id"], "amount": n * 1000}] if n % 5 == 0 else [],
            }
            for n in range(1, 121)
        ],
    )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def grid(
    runtime: Runtime, email: str = "alice@fund.example", hub: GridHub | None = None
) -> GridPage:
    return GridPage(runtime, hub=hub, session=session_of(runtime, email))


def names(page: GridPage) -> list[str]:
    return list(page.table.value["name"])


def test_the_grid_holds_one_page_with_counts_and_totals(runtime: Runtime) -> None:
    page = grid(runtime)
    assert len(page.table.value) == 50 and page.store.total == 60  # the Main list
    assert "page 1 of 2" in page.summary.object
    assert "Main (60)" in page.list_tabs.options and "Follow-up (60)" in page.list_tabs.options
    page.turn(+1)
    assert names(page)[0] == "Investor 101"
    page.list_tabs.value = "all"
    assert page.store.total == 120 and page.store.page == 1
    assert "$" in page.summary.object and "committed" in page.summary.object
    page.search_box.value = "investor 11"
    assert names(page) == [f"Investor {n}" for n in range(110, 120)]


def test_every_column_starts_at_a_set_width_and_a_saved_width_wins(runtime: Runtime) -> None:
    """Tabulator draws fixed widths without measuring every cell first (the grid shows sooner)."""
    page = grid(runtime)
    widths = page.table.widths
    assert widths["name"] == 220 and all(isinstance(w, int) and w >= 40 for w in widths.values())
    assert set(page.table.value.columns) - {"id", "version"} <= set(widths)
    page.apply_view({**page.store.view, "widths": {"name": 333}})
    assert page.table.widths["name"] == 333


def test_header_sorts_and_filters_become_sql(runtime: Runtime) -> None:
    page = grid(runtime)
    page.list_tabs.value = "all"
    page.table.filters = [{"field": "status", "type": "in", "value": ["Meeting"]}]
    assert page.store.total == 40
    page.table.sorters = [{"field": "name", "dir": "desc"}]
    assert names(page)[:2] == ["Investor 120", "Investor 117"]


def test_an_edit_saves_with_its_version_and_shows_recomputed_values(runtime: Runtime) -> None:
    page = grid(runtime)
    with runtime.context() as ctx:
        services.add_field(ctx, "Shout", "formula", formula="UPPER({Name})")
    page.reload(columns=True)
    page.edit_cell(0, "name", "Acme Capital")
    row = page.table.value.iloc[0]
    assert (row["name"], row["shout"], row["version"]) == ("Acme Capital", "ACME CAPITAL", 2)
    assert "Saved Name" in page.summary.object
    page.edit_cell(0, "status", "Due diligence")
    with runtime.context() as ctx:
        stored = services.get_investor(ctx, int(row["id"]))["investor"]
    assert (stored["status"], stored["updated_by"]) == ("Due diligence", "alice@fund.example")


def test_a_bad_value_is_refused_and_the_cell_goes_back(runtime: Runtime) -> None:
    page = grid(runtime)
    page.edit_cell(0, "status", "Nonsense")
    assert page.failed and "'Nonsense' is not one of the choices" in page.message
    assert page.table.value["status"].iloc[0] == "Prospect"


def test_a_conflict_is_not_applied_and_names_who_changed_it(runtime: Runtime) -> None:
    alice, bob = grid(runtime), grid(runtime, "bob@fund.example")
    bob.edit_cell(0, "status", "Meeting")
    alice.edit_cell(0, "status", "Passed")
    assert alice.failed and "Bob changed this record" in alice.message
    assert alice.table.value["status"].iloc[0] == "Meeting"


def test_other_sessions_see_an_edit_at_once(runtime: Runtime) -> None:
    hub = GridHub(runtime.events)
    alice, bob = grid(runtime, hub=hub), grid(runtime, "bob@fund.example", hub=hub)
    alice.edit_cell(1, "name", "Investor 003b")
    assert bob.table.value["name"].iloc[1] == "Investor 003b"
    bob.edit_cell(1, "status", "Meeting")  # no false conflict: Bob's copy has the new version
    assert not bob.failed


def test_fund_columns_edit_commitments_and_the_total(runtime: Runtime) -> None:
    page = grid(runtime)
    fund_key = next(c.key for c in page.store.columns if c.fund_id)
    page.edit_cell(0, fund_key, 250000)
    row = page.table.value.iloc[0]
    assert (row[fund_key], row["total_invested"]) == (250000, 250000)


def test_a_funds_stage_column_flags_the_investor_and_the_board_sees_it_live(
    runtime: Runtime,
) -> None:
    """The grid's flag: a stage picked in "Fund III stage" opens the opportunity, the board
    open in another session shows it at once, and Committed asks before writing the
    commitment."""
    from apps.pipeline.page import PipelinePage

    hub = GridHub(runtime.events)
    page = grid(runtime, hub=hub)
    board = PipelinePage(runtime, hub=hub, session=session_of(runtime, "bob@fund.example"))
    stage_key = next(c.key for c in page.store.columns if c.key.startswith("stage:"))
    expected_key = next(c.key for c in page.store.columns if c.key.startswith("expected:"))
    assert page.store.column(stage_key).title == "Fund III stage"
    page.edit_cell(0, expected_key, 4_000_000)
    page.edit_cell(0, stage_key, "Soft circle")
    assert not page.failed, page.message
    row = page.table.value.iloc[0]
    assert (row[stage_key], row[expected_key]) == ("Soft circle", 4_000_000)
    soft = next(c for c in board.board.columns if c["name"] == "Soft circle")
    assert [c["investor_name"] for c in soft["cards"]] == [row["name"]]
    page.edit_cell(0, stage_key, "Committed")
    assert "commitment of $4,000,000 to Fund III" in page.confirmation.question
    page.confirmation.accept()
    fund_key = next(c.key for c in page.store.columns if c.fund_id)
    assert page.table.value.iloc[0][fund_key] == 4_000_000
    page.edit_cell(0, stage_key, "")  # the flag removed: closed as lost, kept
    assert page.table.value.iloc[0][stage_key] in (None, "")
    lost = next(c for c in board.board.columns if c["name"] == "Lost")
    assert [c["investor_name"] for c in lost["cards"]] == [row["name"]]


def test_archive_and_restore_selected_rows(runtime: Runtime) -> None:
    page = grid(runtime)
    first = names(page)[0]
    page.table.selection = [0]
    page.archive_selected()
    assert first not in names(page) and page.store.counts["archived"] == 1
    page.list_tabs.value = "archived"
    assert names(page) == [first]
    page.table.selection = [0]
    page.restore_selected()
    assert page.store.total == 0 and page.store.counts["archived"] == 0


def test_add_investor_opens_its_record_with_history(runtime: Runtime) -> None:
    page = grid(runtime)
    page.add_investor("Zeta Partners")
    assert page.side.visible and "Zeta Partners" in page.record.title.object
    page.record.person_name.value = "Ada Lovelace"
    page.record.person_email.value = "ada@zeta.example"
    page.record.add_person()
    assert list(page.record.people_table.value["Name"]) == ["Ada Lovelace"]
    page.record.people_table.selection = [0]
    assert page.record.person_email.value == "ada@zeta.example"
    page.record.person_title.value = "CIO"
    page.record.save_person()
    assert list(page.record.people_table.value["Title"]) == ["CIO"]
    with runtime.context() as ctx:
        [contact] = services.list_contacts(ctx, search="Ada Lovelace")
    assert contact["title"] == "CIO"  # the directory follows the person
    investor_id = page.record.investor_id
    with runtime.context() as ctx:
        services.update_field(ctx, investor_id, "status", "Meeting", expected_version=1)
    page.record.show(investor_id)
    history = page.record.history_table.value
    change = list(history["Field"]).index("status")
    page.record.history_table.selection = [change]
    page.record.restore_value()
    with runtime.context() as ctx:
        assert services.get_investor(ctx, investor_id)["investor"]["status"] is None


def _status_history(runtime: Runtime) -> tuple[GridPage, int, dict[str, int]]:
    """Investor 001 whose status went Prospect -> Meeting -> Passed, its record open; the audit
    ids of the two changes by the value they replaced."""
    page = grid(runtime)
    investor_id = int(page.table.value["id"].iloc[0])
    with runtime.context() as ctx:
        services.update_field(ctx, investor_id, "status", "Meeting", expected_version=1)
        services.update_field(ctx, investor_id, "status", "Passed", expected_version=2)
        history = services.get_investor(ctx, investor_id)["history"]
    changes = {h["old_value"]: h["id"] for h in history if h["field"] == "status"}
    page.open_record(investor_id)
    return page, investor_id, changes


def _choose(page: GridPage, audit_id: int) -> None:
    """Click the history row of ``audit_id`` (Tabulator reports its position)."""
    page.record.history_table.selection = [
        list(page.record.history_table.value["Id"]).index(audit_id)
    ]


def _status(runtime: Runtime, investor_id: int) -> tuple[str, int]:
    with runtime.context() as ctx:
        investor = services.get_investor(ctx, investor_id)["investor"]
    return investor["status"], investor["version"]


def test_restore_acts_on_the_chosen_entry_after_the_history_refreshes(runtime: Runtime) -> None:
    page, investor_id, changes = _status_history(runtime)
    _choose(page, changes["Prospect"])  # "Status: Prospect -> Meeting": put Prospect back
    page.record.person_name.value = "Ada Lovelace"
    page.record.add_person()  # the history refreshes: "created person" is now on top
    chosen = page.record.history_table.selection
    assert [page.record.history_table.value["Id"].iloc[i] for i in chosen] == [changes["Prospect"]]
    page.record.restore_value()
    assert not page.failed, page.message
    assert _status(runtime, investor_id) == ("Prospect", 4)


def test_restore_after_the_record_changed_is_a_conflict_and_writes_nothing(
    runtime: Runtime,
) -> None:
    page, investor_id, changes = _status_history(runtime)
    _choose(page, changes["Prospect"])
    with runtime.context() as ctx:  # someone else edits the record meanwhile...
        services.update_field(ctx, investor_id, "location", "Oslo", expected_version=3)
    page.record.refresh()  # ...and the history shows it (positions shift by one)
    page.record.restore_value()
    assert page.failed and "Not restored" in page.message and "after you chose" in page.message
    assert _status(runtime, investor_id) == ("Passed", 4)
    assert page.record.chosen_entry is None and page.record.history_table.selection == []
    page.record.restore_value()  # nothing chosen any more: nothing restored
    assert page.failed and "Select a change in the history first." in page.message
    assert _status(runtime, investor_id) == ("Passed", 4)


def test_opening_another_record_forgets_the_chosen_entry(runtime: Runtime) -> None:
    page, _investor_id, changes = _status_history(runtime)
    _choose(page, changes["Prospect"])
    page.open_record(int(page.table.value["id"].iloc[1]))
    assert page.record.chosen_entry is None
    page.record.restore_value()
    assert page.failed and "Select a change in the history first." in page.message


def test_saving_a_person_acts_on_the_one_chosen_after_the_list_refreshes(
    runtime: Runtime,
) -> None:
    page = grid(runtime)
    investor_id = int(page.table.value["id"].iloc[0])
    with runtime.context() as ctx:
        services.add_person(ctx, investor_id, {"full_name": "Mia Moss"})
    page.open_record(investor_id)
    record = page.record
    record.people_table.selection = [list(record.people_table.value["Name"]).index("Mia Moss")]
    with runtime.context() as ctx:  # a colleague adds someone who sorts before Mia
        services.add_person(ctx, investor_id, {"full_name": "Abe Ash"})
    record.refresh()  # the list re-sorts: position 0 is now Abe
    assert list(record.people_table.value["Name"])[record.people_table.selection[0]] == "Mia Moss"
    record.person_title.value = "Partner"
    record.save_person()
    assert not page.failed, page.message
    with runtime.context() as ctx:
        titles = {p["full_name"]: p["title"] for p in services.list_people(ctx, investor_id)}
    assert titles == {"Abe Ash": None, "Mia Moss": "Partner"}


def test_fields_panel_adds_a_formula_validated_as_you_type(runtime: Runtime) -> None:
    page = grid(runtime)
    panel = page.fields_panel
    page.show_side(panel)
    check = panel.check_new_formula("{Totl invested} * 2")
    assert not check.ok and "did you mean {Total invested}?" in panel.formula_check.object
    assert "^" in panel.formula_check.object
    panel.new_label.value = "Double"
    panel.new_type.value = "formula"
    panel.formula.value = "{Total invested} * 2"
    panel.add()
    assert "double" in page.table.value.columns and panel.choice.value == "double"
    panel.rename_box.value = "Twice"
    panel.rename()
    assert page.table.titles["double"] == "Twice"


def test_view_builder_saves_a_view_with_groups_and_two_sorts(runtime: Runtime) -> None:
    page = grid(runtime)
    builder = page.view_builder
    page.show_side(builder)
    builder.list_choice.value = "all"
    builder.spec["filters"] = {
        "op": "and",
        "conditions": [
            {"field": "status", "operator": "eq", "value": "Meeting"},
            {
                "op": "or",
                "conditions": [
                    {"field": "name", "operator": "contains", "value": "10"},
                    {"field": "name", "operator": "contains", "value": "11"},
                ],
            },
        ],
    }
    builder.spec["sorts"] = [
        {"field": "status", "direction": "asc"},
        {"field": "name", "direction": "desc"},
    ]
    builder.render()
    builder.name_box.value = "Meetings 10x-11x"
    builder.shared_box.value = False
    builder.save_new()
    assert not page.failed, page.message
    assert names(page) == [f"Investor {n}" for n in (117, 114, 111, 108, 105, 102)]
    again = grid(runtime)
    assert "Meetings 10x-11x (mine)" in again.view_choice.options
    builder.make_default()
    fresh = grid(runtime)
    assert fresh.store.view["name"] == "Meetings 10x-11x"
    assert names(fresh) == names(page)


class Click:
    """A cell click as Tabulator reports it."""

    def __init__(self, row: int, column: str) -> None:
        self.row, self.column = row, column


def test_a_change_arriving_while_a_cell_is_open_makes_the_edit_a_conflict(
    runtime: Runtime,
) -> None:
    hub = GridHub(runtime.events)
    alice, bob = grid(runtime, hub=hub), grid(runtime, "bob@fund.example", hub=hub)
    bob._on_cell_click(Click(0, "status"))  # Bob double-clicks: the editor opens...
    bob._on_cell_click(Click(0, "status"))
    alice.edit_cell(0, "status", "Meeting")  # ...Alice saves; Bob's redraw waits for his edit
    assert bob.table.value["status"].iloc[0] == "Prospect"
    bob.edit_cell(0, "status", "Passed")  # Bob commits what he typed
    assert bob.failed and "Alice changed this record" in bob.message
    assert bob.table.value["status"].iloc[0] == "Meeting"
    bob._on_cell_click(Click(0, "open"))
    assert bob.side.visible and bob.record.investor_id == int(bob.table.value["id"].iloc[0])


def test_contacts_page_lists_people_linking_to_their_investor(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        services.add_person(ctx, 1, {"full_name": "Ada Lovelace", "email": "ada@lp.example"})
        services.add_person(ctx, 2, {"full_name": "Alan Turing"})
    page = ContactsPage(runtime, session=session_of(runtime, "bob@fund.example"))
    assert list(page.table.value["Name"]) == ["Ada Lovelace", "Alan Turing"]
    assert page.table.value["Open"].iloc[0] == 1  # drawn as a link to /record?id=1
    page.search.value = "turing"
    assert list(page.table.value["Name"]) == ["Alan Turing"] and "1 person</b>" in page.info.object


def test_exports_follow_what_the_grid_shows(runtime: Runtime) -> None:
    page = grid(runtime)
    page.search_box.value = "investor 01"
    text = page.csv_file().getvalue().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id,Name") and text.count("Investor 01") == 5
    workbook = openpyxl.load_workbook(page.xlsx_file())
    assert [row[1].value for row in workbook.active.iter_rows(min_row=2)] == [
        f"Investor {n:03d}" for n in (11, 13, 15, 17, 19)
    ]
    records = json.loads(page.json_file().getvalue())
    assert [r["Name"] for r in records] == [f"Investor {n:03d}" for n in (11, 13, 15, 17, 19)]


def test_people_show_as_pills_and_a_click_on_them_opens_the_record(runtime: Runtime) -> None:
    with runtime.context() as ctx:
        services.add_person(ctx, 1, {"full_name": "Ada Lovelace"})
        services.add_person(ctx, 1, {"full_name": "Alan Turing"})
    page = grid(runtime)
    assert page.table.value["people"].iloc[0] == ["Ada Lovelace", "Alan Turing"]
    page._on_cell_click(Click(0, "people"))
    assert page.side.visible and list(page.record.people_table.value["Name"]) == [
        "Ada Lovelace",
        "Alan Turing",
    ]


def test_a_selected_cell_does_not_hold_back_live_updates(runtime: Runtime) -> None:
    hub = GridHub(runtime.events)
    alice, bob = grid(runtime, hub=hub), grid(runtime, "bob@fund.example", hub=hub)
    bob._on_cell_click(Click(0, "status"))  # one click only selects the cell
    alice.edit_cell(0, "status", "Meeting")
    assert bob.table.value["status"].iloc[0] == "Meeting"
    bob.edit_cell(0, "status", "Passed")  # Bob saw Alice's value before editing: no conflict
    assert not bob.failed and bob.table.value["status"].iloc[0] == "Passed"


def test_the_record_panel_adds_a_task_and_next_task_due_shows_in_the_row(
    runtime: Runtime,
) -> None:
    page = grid(runtime)
    investor_id = int(page.table.value["id"].iloc[0])
    page.record.show(investor_id)
    form = page.record.tasks
    form.title.value = "Call about the re-up"
    form.due.value = date(2021, 5, 4)
    form.add()
    assert page.message == "Added the task “Call about the re-up”."
    assert [t["title"] for t in form.checklist.sections[0]["tasks"]] == ["Call about the re-up"]
    page.reload()
    due = page.table.value.iloc[0]["tasks__next_due"]
    assert str(due)[:10] == "2021-05-04"  # a date cell (datetime64), shown red as overdue
    assert str(page.table.value["tasks__next_due"].dtype).startswith("datetime64")


class Edit:
    """A cell edit as Panel reports it: its value read from the server's copy of the table."""

    def __init__(self, row: int, column: str, value: object, old: object) -> None:
        self.row, self.column, self.value, self.old = row, column, value, old


def test_an_edit_whose_typed_value_a_redraw_put_back_is_refused_not_shown_saved(
    runtime: Runtime,
) -> None:
    """Under load a redraw (others' changes) can land between the browser's new cell and the
    edit's event: Panel then reports the stored value as the edit's. Saving it would say
    "Saved" for an edit never written (bench/bench_load.py found 19 of 176)."""
    hub = GridHub(runtime.events)
    alice, bob = grid(runtime, hub=hub), grid(runtime, "bob@fund.example", hub=hub)
    bob._on_cell_click(Click(0, "location"))  # one click: no open editor holds redraws back
    alice.edit_cell(0, "notes", "met at the AGM")  # Bob's grid redraws the row
    stored = bob.table.value["location"].iloc[0]
    writes_before = audit_rows(runtime)
    bob._on_edit(Edit(0, "location", stored, stored))  # what Bob typed did not survive
    assert bob.failed and "Type it again" in bob.message
    assert "Not saved" in bob.save_text
    assert audit_rows(runtime) == writes_before  # nothing written, nothing claimed


def test_a_redraw_keeps_a_value_typed_in_the_browser_until_its_edit_arrives(
    runtime: Runtime,
) -> None:
    hub = GridHub(runtime.events)
    alice, bob = grid(runtime, hub=hub), grid(runtime, "bob@fund.example", hub=hub)
    investor_id = int(bob.table.value["id"].iloc[0])
    bob._on_cell_click(Click(0, "location"))
    old = bob.table.value["location"].iloc[0]
    bob.table.patch({"location": [(0, "Lisbon")]}, as_index=False)  # the browser's new cell
    alice.edit_cell(0, "notes", "met at the AGM")  # a redraw arrives before Bob's edit event
    assert bob.table.value["notes"].iloc[0] == "met at the AGM"
    assert bob.table.value["location"].iloc[0] == "Lisbon"  # not put back
    bob._on_edit(Edit(0, "location", "Lisbon", old))
    assert not bob.failed, bob.message
    ctx = crm_lib.open_crm(settings=runtime.settings, actor="system:test")
    try:
        assert services.get_investor(ctx, investor_id)["investor"]["location"] == "Lisbon"
    finally:
        ctx.close()


def audit_rows(runtime: Runtime) -> int:
    ctx = crm_lib.open_crm(settings=runtime.settings, actor="system:test")
    try:
        return int(ctx.db.execute("SELECT count(*) FROM audit_log").fetchone()[0])
    finally:
        ctx.close()


def test_a_change_burst_reaches_a_busy_grid_as_one_update() -> None:
    """Changes that arrive while a grid's update is queued join that update: a page re-reads
    itself once per burst, not once per change (20 grids x 50 writes/s overloaded the server)."""
    from crm_lib.events import Change, EventBus

    class Document:
        def __init__(self) -> None:
            self.callbacks: list = []

        def add_next_tick_callback(self, callback: object) -> None:
            self.callbacks.append(callback)

    class Page:
        def __init__(self) -> None:
            self.document = Document()
            self.updates: list[list[Change]] = []

        def on_remote_changes(self, changes: list[Change]) -> None:
            self.updates.append(changes)

    events = EventBus()
    hub = GridHub(events)
    page = Page()
    hub.register(page)
    burst = [
        Change("fundraising_investors", n, "update", ("notes",), 2, "user:1", "t")
        for n in range(1, 6)
    ]
    for change in burst:
        events.publish([change])
    assert len(page.document.callbacks) == 1
    page.document.callbacks[0]()
    assert page.updates == [burst]
    events.publish([burst[0]])  # after the update ran, the next change is queued anew
    assert len(page.document.callbacks) == 2


def api_edit(runtime: Runtime, investor_id: int, key: str, value: object) -> None:
    """Another writer in the server (the REST API, a job) changes one field."""
    with runtime.context("system:test") as ctx:
        version = services.get_investor(ctx, investor_id)["investor"]["version"]
        services.update_field(ctx, investor_id, key, value, expected_version=version)


def page_reads(page: GridPage, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the page's reads of its whole page (each starts with the store's request)."""
    reads: list[int] = []
    page_request = page.store.page_request

    def counted() -> object:
        reads.append(1)
        return page_request()

    monkeypatch.setattr(page.store, "page_request", counted)
    return reads


def test_a_page_that_needs_a_scan_is_read_on_a_read_thread_and_shown_when_it_arrives(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search not read since the data changed needs a scan of every investor (a second at a
    million): served, it is read on a read thread while the table shows it is loading, and the
    rows arrive with a callback on the page's document. A remembered page is shown at once."""
    page = grid(runtime)
    before = names(page)
    document = served(page)
    threads: list[str] = []
    read_page = grid_page_module.read_page

    def where(ctx: object, request: object) -> object:
        threads.append(threading.current_thread().name)
        return read_page(ctx, request)

    monkeypatch.setattr(grid_page_module, "read_page", where)
    page.set_search("Investor 07")
    assert names(page) == before and page.table.loading  # still the old page, loading
    assert threads[-1].startswith("crm-read")
    document.run()
    assert names(page) == [f"Investor {n:03d}" for n in range(71, 80, 2)]
    assert not page.table.loading and page.store.total == 5
    threads.clear()
    page.go_to_page(1)  # remembered now: read and shown at once, on this thread
    assert threads == [threading.current_thread().name] and not page.table.loading
    assert names(page) == [f"Investor {n:03d}" for n in range(71, 80, 2)]


def test_a_read_overtaken_by_a_newer_one_is_not_shown(runtime: Runtime) -> None:
    """Two searches typed one after the other: the first one's rows, arriving later, must not
    replace the second's (the person has moved on)."""
    page = grid(runtime)
    document = served(page)
    page.set_search("Investor 01")
    page.set_search("Investor 11")
    document.run()
    assert names(page) == [f"Investor {n:03d}" for n in range(111, 120, 2)]
    assert page.store.search == "Investor 11" and not page.table.loading


def test_a_change_that_cannot_move_the_page_re_reads_only_the_changed_row(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Notes are not filtered, sorted or totalled in the default view: a change to a shown row
    is patched into that row alone, and a change to a row elsewhere costs nothing."""
    hub = GridHub(runtime.events)
    bob = grid(runtime, "bob@fund.example", hub=hub)
    reads = page_reads(bob, monkeypatch)
    shown = bob.table.value
    investor_id = int(shown["id"].iloc[3])
    api_edit(runtime, investor_id, "notes", "Met at the AGM")
    assert bob.table.value["notes"].iloc[3] == "Met at the AGM"
    assert bob.table.value is shown and reads == []  # patched, not re-read
    page_two = grid(runtime, hub=hub)
    page_two.turn(+1)
    elsewhere = int(page_two.table.value["id"].iloc[0])
    assert elsewhere not in set(shown["id"])
    api_edit(runtime, elsewhere, "notes", "Not on Bob's page")
    assert reads == [] and "Not on Bob's page" not in set(bob.table.value["notes"])


def test_a_change_to_what_the_view_sorts_on_brings_the_row_onto_the_page(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = GridHub(runtime.events)
    bob = grid(runtime, "bob@fund.example", hub=hub)
    bob.apply_view({**bob.store.view, "sorts": [{"field": "location", "direction": "asc"}]})
    reads = page_reads(bob, monkeypatch)
    page_two = grid(runtime, hub=hub)
    page_two.turn(+1)
    outsider = int(page_two.table.value["id"].iloc[0])
    assert outsider not in set(bob.table.value["id"])
    api_edit(runtime, outsider, "location", "Aachen")  # sorts first: now on Bob's first page
    assert reads == [1]
    assert int(bob.table.value["id"].iloc[0]) == outsider
    assert bob.table.value["location"].iloc[0] == "Aachen"


def test_the_next_page_starts_after_the_last_row_shown_while_others_add_rows(
    runtime: Runtime,
) -> None:
    """▶ steps from the rows on screen (a keyset cursor), not by page number: rows a colleague
    adds ahead meanwhile (before this page heard of them) do not bring back a row already seen;
    ◀ returns to the rows before."""
    bob = grid(runtime, "bob@fund.example")
    first_page = names(bob)
    assert bob.prev_button.disabled and not bob.next_button.disabled
    with runtime.context("system:test") as ctx:
        for n in range(3):  # sorts before every row of the first page
            services.create_investor(ctx, {"name": f"Investor 000{n}", "list_membership": "main"})
    bob.turn(+1)
    second_page = names(bob)
    assert second_page[0] == "Investor 101"  # right after the last row shown, as before
    assert not set(second_page) & set(first_page)
    assert bob.next_button.disabled and not bob.prev_button.disabled  # the list's last rows
    bob.turn(-1)
    assert names(bob)[-1] == first_page[-1]  # the page ending right before Investor 101
