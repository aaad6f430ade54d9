"""Exports: every column the grid shows, in the view's order, as CSV (which our own import reads
back unchanged), JSON (an array of objects) and XLSX (typed cells), streamed page by page."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import crm_lib
from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from crm_lib.demo import TEAM
from crm_lib.errors import ValidationError
from crm_lib.importers import airtable
from crm_lib.services import exports
from tests.conftest import START, make_investors

MEMBERS = (
    ("alice@fund.example", "Alice Adams", "admin"),
    ("bob@fund.example", "Bob Builder", "member"),
    ("bob.two@fund.example", "Bob Builder", "member"),  # two members share a name
)
#: Custom fields of every type an export writes differently (none named like a contact column:
#: "Email", "Phone" or "Title" would be read as a person's in a database without the field).
FIELDS = (
    ("Score", "number", {}),
    ("Ticket", "currency", {}),
    ("Ownership", "percent", {}),
    ("Met", "datetime", {}),
    ("Next call", "date", {}),
    ("Active", "checkbox", {}),
    ("Sectors", "multi_select", {"choices": ["AI", "Health, Bio", "=SUM", 'Fin"tech']}),
    ("Stage", "single_select", {"choices": ["Seed", "-A-"]}),
    ("Deal email", "email", {}),
    ("Desk phone", "phone", {}),
    ("Memo", "long_text", {}),
)


def team(ctx: Context) -> dict[str, int]:
    return {
        email: services.create_user(ctx, email, name, role)["id"] for email, name, role in MEMBERS
    }


def fill(ctx: Context) -> dict[str, Any]:
    """A small grid holding what is hard to export: every field type, a formula, negative and
    tiny and huge numbers, text a spreadsheet would run, lists with commas and quotes, people
    with and without emails and with commas in their names, two funds (one with a comma, in
    euros), a zero commitment, and owners two members' names cannot tell apart."""
    users = team(ctx)
    fund_i = services.create_fund(ctx, {"name": "Fund I", "vintage_year": 2020})
    parallel = services.create_fund(
        ctx, {"name": "Fund II, Parallel", "vintage_year": 2022, "currency": "EUR"}
    )
    for label, type_name, options in FIELDS:
        services.add_field(ctx, label, type_name, options)
    services.add_field(ctx, "Double score", "formula", formula="{Score} * 2")
    evil = services.create_investor(
        ctx,
        {
            "name": '=HYPERLINK("http://evil")',
            "owner_id": users["alice@fund.example"],
            "location": "@home",
            "website": "https://acme.example.com/a?b=c",
            "tags": ["co-invest", "re-up"],
            "last_contacted_at": "2026-10-01",
            "notes": "-minus",
            "Score": -5,
            "Ticket": -1250.5,
            "Ownership": 0.1 + 0.2,
            "Met": "2024-01-15T10:00:00+00:00",
            "Next call": "2024-02-01",
            "Active": True,
            "Sectors": ["AI", "Health, Bio", "=SUM", 'Fin"tech'],
            "Stage": "-A-",
            "Deal email": "deals@acme.example",
            "Desk phone": "+1 555 0100",
            "Memo": 'line one\nline two, "quoted"\n  indented',
        },
    )
    beta = services.create_investor(
        ctx,
        {
            "name": "Beta, LP",
            "owner_id": users["bob@fund.example"],
            "notes": "+1 more",
            "Score": 1e-05,
            "Ticket": 1e20,
            "Ownership": 0.00001,
            "Active": False,
        },
    )
    gamma = services.create_investor(
        ctx, {"name": "Gamma", "Score": 12345678901234567, "Ownership": 1.5, "Active": False}
    )
    for person in (
        {"full_name": "Roe, Bob", "email": "bob@acme.example"},
        {"full_name": "Jane O'Neil", "email": "jane@acme.example", "is_primary": True},
        {"full_name": "No Mail"},
        {"full_name": "Doe, No Mail"},
    ):
        services.add_person(ctx, evil["id"], person)
    services.add_person(ctx, beta["id"], {"full_name": "José Ñúñez", "email": "jose@beta.example"})
    services.set_commitment(ctx, evil["id"], fund_i["id"], 1_500_000)
    services.set_commitment(ctx, evil["id"], parallel["id"], 0)
    services.set_commitment(ctx, beta["id"], parallel["id"], 250_000.25)
    return {"evil": evil, "beta": beta, "gamma": gamma, "fund_i": fund_i, "parallel": parallel}


def table(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def by_name(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[1]: dict(zip(header, row, strict=True)) for row in rows[1:]}


def without_ids(text: str, *leaving_out: str) -> list[list[str]]:
    rows = table(text)
    kept = [i for i, name in enumerate(rows[0]) if i > 0 and name not in leaving_out]
    return [[row[i] for i in kept] for row in rows]


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Context]:
    """A second, empty database (another office's CRM)."""
    context = crm_lib.open_crm(tmp_path / "fresh", actor="system:test", clock=FixedClock(START))
    yield context
    context.close()


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> Iterator[Context]:
    """A private copy of the 300-investor demo fund."""
    data_dir = tmp_path / "demo"
    shutil.copytree(demo_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    context = crm_lib.open_crm(data_dir, actor="system:test", clock=FixedClock(START))
    yield context
    context.close()


# -- columns ----------------------------------------------------------------------------------------
def test_every_format_carries_every_column_the_grid_shows_in_the_same_order(ctx: Context) -> None:
    fill(ctx)
    header = table("".join(services.investors_csv(ctx)))[0]
    assert header == [
        "id",
        "Name",
        "Type",
        "Status",
        "List",
        "Owner",
        "Location",
        "Website",
        "Tags",
        "Last contacted",
        "Total invested",
        "Notes",
        "Last inbound email",
        "Last outbound email",
        "Emails in 30 days",
        "Emails in 90 days",
        "Relationship strength",
        "Strongest connection",
        "Next task due",
        *(label for label, _, _ in FIELDS),
        "Double score",
        "People",
        "Fund I Commitment",
        "Fund II, Parallel Commitment",
    ]
    records = json.loads("".join(services.investors_json(ctx)))
    assert all(list(record) == header for record in records)
    out = io.BytesIO()
    services.investors_xlsx(ctx, out)
    sheet = openpyxl.load_workbook(out).active
    assert [cell.value for cell in sheet[1]] == header


def test_a_view_exports_without_its_hidden_fields_in_its_column_order(ctx: Context) -> None:
    fill(ctx)
    view = services.create_view(
        ctx,
        {
            "name": "Tickets",
            "hidden_fields": ["Notes", "Memo", "Name"],  # Name is never hidden, as on screen
            "field_order": ["Ticket", "Name", "Owner"],
            "sorts": [{"field": "Name", "direction": "desc"}],
        },
    )
    query = services.export_query(view)
    rows = table("".join(services.investors_csv(ctx, **query)))
    assert rows[0][:5] == ["id", "Ticket", "Name", "Owner", "Type"]
    assert "Notes" not in rows[0] and "Memo" not in rows[0]
    assert rows[0][-3:] == ["People", "Fund I Commitment", "Fund II, Parallel Commitment"]
    assert [row[2] for row in rows[1:]] == ["Gamma", "Beta, LP", '\'=HYPERLINK("http://evil")']
    records = json.loads("".join(services.investors_json(ctx, **query)))
    assert list(records[0])[:4] == ["id", "Ticket", "Name", "Owner"]


def test_people_and_fund_columns_take_a_place_in_the_order_like_fields(ctx: Context) -> None:
    ids = fill(ctx)
    parallel = f"fund:{ids['parallel']['id']}"
    columns = exports.export_columns(ctx, field_order=[parallel, "people", "name"])
    assert [c.header for c in columns[:5]] == [
        "id",
        "Fund II, Parallel Commitment",
        "People",
        "Name",
        "Type",
    ]


# -- CSV --------------------------------------------------------------------------------------------
def test_csv_cells_are_written_as_the_import_reads_them(ctx: Context) -> None:
    fill(ctx)
    rows = by_name(table("".join(services.investors_csv(ctx))))
    evil, beta, gamma = rows['\'=HYPERLINK("http://evil")'], rows["Beta, LP"], rows["Gamma"]
    assert {k: evil[k] for k in evil if k not in ("id", "Memo", "Name")} == {
        "Type": "",
        "Status": "",
        "List": "main",
        "Owner": "Alice Adams",
        "Location": "'@home",
        "Website": "https://acme.example.com/a?b=c",
        "Tags": "co-invest, re-up",
        "Last contacted": "2026-10-01",
        "Total invested": "1500000",
        "Notes": "'-minus",
        "Last inbound email": "",
        "Last outbound email": "",
        "Emails in 30 days": "0",
        "Emails in 90 days": "0",
        "Relationship strength": "",
        "Strongest connection": "",
        "Next task due": "",
        "Score": "-5",  # a number, not text: no defusing quote
        "Ticket": "-1250.5",
        "Ownership": "0.30000000000000004",  # the fraction, exactly
        "Met": "2024-01-15T10:00:00+00:00",
        "Next call": "2024-02-01",
        "Active": "true",
        "Sectors": 'AI, "Health, Bio", =SUM, "Fin""tech"',
        "Stage": "'-A-",
        "Deal email": "deals@acme.example",
        "Desk phone": "'+1 555 0100",
        "Double score": "-10",
        "People": 'Jane O\'Neil <jane@acme.example>, "Roe, Bob" <bob@acme.example>, No Mail,'
        ' "Doe, No Mail"',  # primary first, then as added
        "Fund I Commitment": "1500000",
        "Fund II, Parallel Commitment": "0",
    }
    assert evil["Memo"] == 'line one\nline two, "quoted"\n  indented'
    assert (beta["Owner"], beta["Score"], beta["Ticket"], beta["Active"]) == (
        "bob@fund.example",  # "Bob Builder" is two members: the email says which
        "0.00001",  # never 1e-05
        "100000000000000000000",
        "false",
    )
    assert (beta["People"], beta["Fund I Commitment"], beta["Total invested"]) == (
        "José Ñúñez <jose@beta.example>",
        "",
        "250000.25",
    )
    assert (gamma["Score"], gamma["Owner"], gamma["People"]) == ("12345678901234568", "", "")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1500000.0, "1500000"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e-07, "0.0000001"),
        (-2.5e-10, "-0.00000000025"),
        (1e22, "10000000000000000000000"),
        (12, "12"),
    ],
)
def test_numbers_are_plain_digits_that_read_back_exactly(value: float, text: str) -> None:
    assert exports.number_text(value) == text
    assert float(text) == value


def test_csv_defuses_formulas_but_numbers_keep_their_sign(ctx: Context) -> None:
    services.add_field(ctx, "Delta", "number")
    for n, notes in enumerate(["=1+1", "+cmd", "-minus", "@SUM(A1)", "\tTab", "\rCR", "'quoted"]):
        services.create_investor(ctx, {"name": f"LP {n}", "notes": notes, "Delta": -n})
    rows = table("".join(services.investors_csv(ctx)))
    notes = rows[0].index("Notes")
    assert [(row[notes], row[rows[0].index("Delta")]) for row in rows[1:]] == [
        ("'=1+1", "0"),
        ("'+cmd", "-1"),  # a number is not text: its minus stays, and no quote
        ("'-minus", "-2"),
        ("'@SUM(A1)", "-3"),
        ("'\tTab", "-4"),
        ("'\rCR", "-5"),
        ("'quoted", "-6"),  # nothing a spreadsheet runs: as it is
    ]


# -- JSON -------------------------------------------------------------------------------------------
def test_json_is_an_array_of_objects_with_typed_values_people_and_commitments(
    ctx: Context,
) -> None:
    fill(ctx)
    records = {r["Name"]: r for r in json.loads("".join(services.investors_json(ctx)))}
    evil = records['=HYPERLINK("http://evil")']  # JSON is not a spreadsheet: nothing defused
    assert evil["People"] == [
        {
            "name": "Jane O'Neil",
            "email": "jane@acme.example",
            "title": None,
            "phone": None,
            "is_primary": True,
        },
        {
            "name": "Roe, Bob",
            "email": "bob@acme.example",
            "title": None,
            "phone": None,
            "is_primary": False,
        },
        {"name": "No Mail", "email": None, "title": None, "phone": None, "is_primary": False},
        {"name": "Doe, No Mail", "email": None, "title": None, "phone": None, "is_primary": False},
    ]
    assert (evil["Fund I Commitment"], evil["Fund II, Parallel Commitment"]) == (1_500_000, 0)
    assert evil["Sectors"] == ["AI", "Health, Bio", "=SUM", 'Fin"tech']
    assert (evil["Active"], evil["Score"], evil["Ownership"]) == (True, -5, 0.1 + 0.2)
    assert (evil["Owner"], evil["Notes"], evil["Met"]) == (
        "Alice Adams",
        "-minus",
        "2024-01-15T10:00:00+00:00",
    )
    gamma = records["Gamma"]
    assert (gamma["People"], gamma["Fund I Commitment"], gamma["Type"], gamma["Tags"]) == (
        [],
        None,
        None,
        [],
    )


def test_json_of_nothing_is_an_empty_array(ctx: Context) -> None:
    assert json.loads("".join(services.investors_json(ctx))) == []


# -- XLSX -------------------------------------------------------------------------------------------
def test_xlsx_cells_are_typed_and_text_is_never_a_formula(ctx: Context) -> None:
    fill(ctx)
    out = io.BytesIO()
    assert services.investors_xlsx(ctx, out) == 3
    sheet = openpyxl.load_workbook(out).active
    header = [cell.value for cell in sheet[1]]
    evil = dict(zip(header, sheet[2], strict=True))  # sorted by name: '=HYPERLINK...' first

    def shown(name: str) -> tuple[Any, str, str]:
        cell = evil[name]
        return cell.value, cell.data_type, cell.number_format

    assert {name: shown(name) for name in header} == {
        "id": (1, "n", "General"),
        "Name": ('=HYPERLINK("http://evil")', "s", "General"),  # a string, not a formula
        "Type": (None, "n", "General"),
        "Status": (None, "n", "General"),
        "List": ("main", "s", "General"),
        "Owner": ("Alice Adams", "s", "General"),
        "Location": ("@home", "s", "General"),
        "Website": ("https://acme.example.com/a?b=c", "s", "General"),
        "Tags": ("co-invest, re-up", "s", "General"),
        "Last contacted": (datetime(2026, 10, 1), "d", "yyyy-mm-dd"),
        "Total invested": (1_500_000, "n", '"$"#,##0.00'),
        "Notes": ("-minus", "s", "General"),
        "Last inbound email": (None, "n", "General"),  # no mail: blank, and zero counts
        "Last outbound email": (None, "n", "General"),
        "Emails in 30 days": (0, "n", "General"),
        "Emails in 90 days": (0, "n", "General"),
        "Relationship strength": (None, "n", "General"),
        "Strongest connection": (None, "n", "General"),
        "Next task due": (None, "n", "General"),
        "Score": (-5, "n", "General"),
        "Ticket": (-1250.5, "n", '"$"#,##0.00'),
        "Ownership": (0.3, "n", "0.00%"),  # Excel keeps 15 digits: 0.30000000000000004 is 0.3
        "Met": (datetime(2024, 1, 15, 10, 0), "d", "yyyy-mm-dd hh:mm:ss"),
        "Next call": (datetime(2024, 2, 1), "d", "yyyy-mm-dd"),
        "Active": (True, "b", "General"),
        "Sectors": ('AI, "Health, Bio", =SUM, "Fin""tech"', "s", "General"),
        "Stage": ("-A-", "s", "General"),
        "Deal email": ("deals@acme.example", "s", "General"),
        "Desk phone": ("+1 555 0100", "s", "General"),
        "Memo": ('line one\nline two, "quoted"\n  indented', "s", "General"),
        "Double score": (-10, "n", "General"),
        "People": (
            'Jane O\'Neil <jane@acme.example>, "Roe, Bob" <bob@acme.example>, No Mail,'
            ' "Doe, No Mail"',
            "s",
            "General",
        ),
        "Fund I Commitment": (1_500_000, "n", '"$"#,##0.00'),
        "Fund II, Parallel Commitment": (0, "n", '"€"#,##0.00'),  # the fund's currency
    }
    beta = dict(zip(header, sheet[3], strict=True))
    assert (beta["Active"].value, beta["Active"].data_type) == (False, "b")


def test_xlsx_says_where_the_rest_of_a_note_too_long_for_excel_is(ctx: Context) -> None:
    make_investors(ctx, ["Acme"], notes="x" * 40_000)
    out = io.BytesIO()
    services.investors_xlsx(ctx, out)
    sheet = openpyxl.load_workbook(out).active
    notes = sheet.cell(row=2, column=[c.value for c in sheet[1]].index("Notes") + 1).value
    assert len(notes) == exports.EXCEL_CELL_CHARS
    assert notes.endswith("[… 40,000 characters in all: the CSV and JSON exports hold them]")


# -- streaming --------------------------------------------------------------------------------------
def test_exports_read_the_grid_a_page_at_a_time(
    ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_investors(ctx, [f"Investor {n}" for n in range(5)])
    pages: list[tuple[int, int]] = []
    real = exports.list_investors

    def spy(ctx: Context, **query: Any) -> Any:
        page = real(ctx, **query)
        pages.append((query["page"], len(page.rows)))
        return page

    monkeypatch.setattr(exports, "MAX_PAGE_SIZE", 2)
    monkeypatch.setattr(exports, "list_investors", spy)
    chunks = list(services.investors_csv(ctx))
    assert pages == [(1, 2), (2, 2), (3, 1)]  # never more than a page in hand
    assert len(chunks) == 3 and table("".join(chunks))[-1][1] == "Investor 4"
    pages.clear()
    assert len(json.loads("".join(services.investors_json(ctx)))) == 5
    assert pages == [(1, 2), (2, 2), (3, 1)]


def test_write_export_counts_investors_and_refuses_unknown_formats(ctx: Context) -> None:
    make_investors(ctx, ["Acme", "Birch"])
    out = io.BytesIO()
    assert services.write_export(ctx, "csv", out, bom=True) == 2
    assert out.getvalue().startswith("\ufeffid,Name".encode())
    with pytest.raises(ValidationError, match="Unknown export format 'pdf'; use csv, json, xlsx"):
        services.write_export(ctx, "pdf", io.BytesIO())


# -- round trips through our own import -------------------------------------------------------------
def test_reimporting_an_export_into_the_same_database_changes_nothing(
    ctx: Context, tmp_path: Path
) -> None:
    fill(ctx)
    path = tmp_path / "venture-crm-investors.csv"
    path.write_text("".join(services.investors_csv(ctx)), encoding="utf-8")
    report = airtable.run(path, ctx, dry_run=True)
    assert report.preview.key_column == "id"
    assert not report.issues, [i.describe() for i in report.issues]
    assert report.changes == 0, report.diffs
    notes = {c.header: (c.target, c.note) for c in report.preview.columns}
    assert notes["Total invested"] == (
        "field:total_invested",
        "Total invested is calculated here: the column is not imported",
    )
    assert notes["Double score"][1] == "Double score is calculated here: the column is not imported"
    assert notes["People"][0] == "people"
    assert notes["Fund II, Parallel Commitment"][0] == "commitment:Fund II, Parallel"


def test_the_demo_funds_export_reimports_with_zero_changes(demo: Context, tmp_path: Path) -> None:
    path = tmp_path / "demo.csv"
    path.write_text("".join(services.investors_csv(demo)), encoding="utf-8")
    report = airtable.run(path, demo)
    assert not report.errors, report.errors[:3]
    assert report.changes == 0 and not report.committed, report.diffs[:3]
    assert report.counts["unchanged"] == services.count_by_list(demo)["all"]


def test_an_export_imported_into_a_new_database_exports_again_the_same(
    ctx: Context, fresh: Context, tmp_path: Path
) -> None:
    fill(ctx)
    exported = "".join(services.investors_csv(ctx))
    path = tmp_path / "venture-crm-investors.csv"
    path.write_text(exported, encoding="utf-8")
    team(fresh)  # owners are matched by name or email: the same team is invited first
    report = airtable.run(path, fresh, mapping={"id": "skip"})  # our ids mean nothing there
    assert report.committed and not report.issues, [i.describe() for i in report.issues]
    assert (report.counts["created"], report.counts["people_added"]) == (3, 5)
    assert report.preview.new_funds == ["Fund I", "Fund II, Parallel"]
    assert without_ids("".join(services.investors_csv(fresh))) == without_ids(exported)


def test_the_demo_fund_survives_a_trip_to_a_new_database(
    demo: Context, fresh: Context, tmp_path: Path
) -> None:
    exported = "".join(services.investors_csv(demo))
    path = tmp_path / "demo.csv"
    path.write_text(exported, encoding="utf-8")
    for email, name, role in TEAM:
        services.create_user(fresh, email, name, role)
    report = airtable.run(path, fresh, mapping={"id": "skip"})
    assert report.committed and not report.errors, report.errors[:3]
    again = "".join(services.investors_csv(fresh))
    # "Next task due" is derived from tasks, which a grid export does not carry
    assert without_ids(again, "Next task due") == without_ids(exported, "Next task due")
    assert again != exported  # the ids are the new database's own


def test_a_multi_select_starting_with_a_formula_character_reimports_unchanged(
    ctx: Context, tmp_path: Path
) -> None:
    services.add_field(ctx, "Sectors", "multi_select", {"choices": ["=SUM", "AI"]})
    make_investors(ctx, ["Acme"], Sectors=["=SUM", "AI"])
    path = tmp_path / "export.csv"
    path.write_text("".join(services.investors_csv(ctx)), encoding="utf-8")
    assert airtable.run(path, ctx, dry_run=True).changes == 0


def test_a_never_set_checkbox_reimports_unchanged(ctx: Context, tmp_path: Path) -> None:
    services.add_field(ctx, "Active", "checkbox")
    make_investors(ctx, ["Acme"])  # Active never set: NULL, shown (and exported) as false
    path = tmp_path / "export.csv"
    path.write_text("".join(services.investors_csv(ctx)), encoding="utf-8")
    assert airtable.run(path, ctx, dry_run=True).changes == 0


def test_people_with_brackets_or_quotes_in_their_names_reimport_unchanged(
    ctx: Context, tmp_path: Path
) -> None:
    [acme] = make_investors(ctx, ["Acme"])
    services.add_person(ctx, acme["id"], {"full_name": "Dr. Who (Tardis)", "email": "w@x.com"})
    services.add_person(ctx, acme["id"], {"full_name": 'Jo "JJ" Doe', "email": "jo@x.com"})
    path = tmp_path / "export.csv"
    path.write_text("".join(services.investors_csv(ctx)), encoding="utf-8")
    assert airtable.run(path, ctx, dry_run=True).changes == 0


def test_our_csv_from_another_database_matches_on_name_instead_of_ids(
    ctx: Context, tmp_path: Path
) -> None:
    make_investors(ctx, ["Acme", "Beta"])
    path = tmp_path / "export.csv"
    text = "".join(services.investors_csv(ctx))
    path.write_text(text.replace("\n1,", "\n901,").replace("\n2,", "\n902,"), encoding="utf-8")
    preview = airtable.preview(path, ctx)
    assert preview.key_column == "Name"
    id_column = next(c for c in preview.columns if c.header == "id")
    assert id_column.target == "skip" and "another Venture CRM" in (id_column.note or "")
    report = airtable.run(path, ctx, dry_run=True)
    assert not report.errors and report.changes == 0  # the same names: nothing to change
