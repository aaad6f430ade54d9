"""Importing Airtable exports end to end: preview, dry run, upsert, repeatability, failure."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import PermissionDenied, ValidationError
from crm_lib.importers import airtable
from tests.importers.conftest import HEADER, ROWS, content, write_export


def by_name(ctx: Context) -> dict[str, dict]:
    rows = services.list_investors(ctx, page_size=1000).rows
    return {row["name"]: row for row in rows}


def test_preview_maps_columns_infers_types_and_counts_failures(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    preview = airtable.preview(write_export(tmp_path), ctx)
    table = {c.header: (c.target, c.inferred_type, c.failures) for c in preview.columns}
    assert table == {
        "Name": ("field:name", "text", 0),
        "Record ID": ("new:text", "text", 0),
        "Type": ("field:type", "text", 0),
        "Status": ("field:status", "text", 0),
        "Owner": ("field:owner_id", "text", 0),
        "Tags": ("field:tags", "multi_select", 0),
        "Fund I Commitment": ("commitment:Fund I", "currency", 0),
        "Fund II Commitment": ("commitment:Fund II", "currency", 0),
        "Ownership": ("new:percent", "percent", 0),
        "Last Contact": ("new:date", "date", 0),
        "Next Meeting": ("new:datetime", "datetime", 0),
        "Contacts": ("people", "text", 0),
        "Active": ("new:checkbox", "checkbox", 0),
        "Deck": ("new:long_text", "long_text", 0),
        "Notes": ("field:notes", "long_text", 0),
        "Score": ("new:number", "number", 0),
    }
    assert preview.key_column == "Record ID"
    assert preview.rows == 3
    assert preview.file.encoding == "UTF-8 with BOM"
    assert preview.new_funds == ["Fund II"]
    score = next(c for c in preview.columns if c.header == "Score")
    assert score.formula_errors == 2
    assert score.samples == ("#ERROR!", "7", "NaN")


def test_preview_counts_cells_that_would_fail_and_why(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    rows = [list(r) for r in ROWS]
    rows[1][4] = "Nobody Known"
    rows[2][9] = "13/13/2024"
    path = write_export(tmp_path, rows)
    preview = airtable.preview(path, ctx, mapping={"Last Contact": "field:last_contacted_at"})
    owner = next(c for c in preview.columns if c.header == "Owner")
    assert owner.failures == 1
    assert "no team member 'Nobody Known'" in owner.reasons[0][0]
    contact = next(c for c in preview.columns if c.header == "Last Contact")
    assert (contact.target, contact.failures) == ("field:last_contacted_at", 1)


def test_first_import_creates_investors_people_commitments_fields_funds_and_options(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    report = airtable.run(write_export(tmp_path), ctx)
    assert report.committed and not report.errors
    counted = {k: report.counts[k] for k in ("created", "people_added", "commitments_added")}
    assert counted == {"created": 3, "people_added": 3, "commitments_added": 4}  # -$0.00 is $0
    assert report.preview.new_fields == [
        "Record ID",
        "Ownership",
        "Last Contact",
        "Next Meeting",
        "Active",
        "Deck",
        "Score",
    ]
    rows = by_name(ctx)
    acme = rows["Acme Capital"]
    assert acme["record_id"] == "recAAAAAAAAAAAAAA"
    assert acme["owner_id"] == team["alice"]
    assert acme["tags"] == ["AI", "Health, Bio"]
    assert acme["ownership"] == 0.125
    assert acme["last_contact"] == "2024-01-15"
    assert acme["next_meeting"] == "2024-01-15T14:30:00+00:00"
    assert acme["active"] is True
    assert acme["deck"] == "deck.pdf (https://dl.airtable.com/.attachments/a1/deck.pdf)"
    assert acme["notes"] == 'Met at "SuperReturn", Berlin.\nFollow up in Q3'
    assert acme["score"] is None  # #ERROR! is reported, not imported
    assert acme["total_invested"] == 1_500_000
    beta = rows["Beta Partners"]
    assert beta["owner_id"] == team["bob"]  # collaborator by name
    assert beta["notes"] == '=HYPERLINK("http://evil.example","click")'  # plain text
    assert beta["active"] is False
    gamma = rows["Gamma LP"]
    assert gamma["status"] == "Intro call"
    assert gamma["total_invested"] == 75_000
    people = services.list_people(ctx, acme["id"])
    assert {(p["full_name"], p["email"]) for p in people} == {
        ("Jane Doe", "jane@acme.com"),
        ("Bob Roe", "bob@acme.com"),
    }
    assert [p["full_name"] for p in services.list_people(ctx, gamma["id"])] == ["Carol"]
    funds = {f["name"]: f for f in services.list_funds(ctx)}
    assert set(funds) == {"Fund I", "Fund II"}
    status = next(f for f in services.list_fields(ctx) if f.key == "status")
    assert "Intro call" in status.options["choices"]
    assert [w.reason for w in report.warnings] == [
        "Airtable formula error: cell left as it was"
    ] * 2


def test_reimporting_the_same_file_changes_nothing_and_writes_nothing(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(tmp_path)
    airtable.run(path, ctx)
    before = content(ctx)
    again = airtable.run(path, ctx)
    assert again.changes == 0
    assert (again.committed, again.unchanged) == (False, True)
    assert again.counts["unchanged"] == 3
    assert "0 changes: the database already matches this file." in again.summary()
    assert content(ctx) == before
    assert len(services.list_imports(ctx)) == 1


def test_dry_run_reports_exactly_what_the_run_then_does_and_writes_nothing(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(tmp_path)
    before = content(ctx)
    dry = airtable.run(path, ctx, dry_run=True)
    assert content(ctx) == before
    real = airtable.run(path, ctx)
    assert dict(dry.counts) == dict(real.counts)
    assert [d.changes for d in dry.diffs] == [d.changes for d in real.diffs]


def test_update_reports_per_field_diffs_and_history_names_the_file(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    airtable.run(write_export(tmp_path), ctx)
    rows = [list(r) for r in ROWS]
    rows[0][3] = "Due diligence"
    rows[0][6] = "$2,000,000.00"
    rows[0][11] += ", Zed Ward <zed@acme.com>"
    path = write_export(tmp_path, rows, name="Investors-Grid view (1).csv")
    dry = airtable.run(path, ctx, dry_run=True)
    assert dry.counts["updated"] == 1 and dry.counts["unchanged"] == 2
    assert dry.diffs == [
        airtable.RowDiff(
            2,
            "recAAAAAAAAAAAAAA",
            by_name(ctx)["Acme Capital"]["id"],
            "update",
            [
                ("Status", "Meeting", "Due diligence"),
                ("Person", None, "Zed Ward <zed@acme.com>"),
                ("Commitment to Fund I", 1_500_000.0, 2_000_000.0),
            ],
        )
    ]
    assert dry.changed_fields == {"Status": 1}
    report = airtable.run(path, ctx)
    acme = by_name(ctx)["Acme Capital"]
    assert (acme["status"], acme["total_invested"]) == ("Due diligence", 2_000_000)
    history = services.investor_history(ctx, acme["id"])
    status_change = next(h for h in history if h["field"] == "status")
    assert status_change["import_file"] == "Investors-Grid view (1).csv"
    imported = services.get_import(ctx, report.import_id)
    assert imported["file_name"] == "Investors-Grid view (1).csv"
    assert imported["created_by"] == "alice@fund.example"
    assert imported["counts"]["updated"] == 1
    assert len(imported["sha256"]) == 64


def test_a_cell_that_does_not_fit_never_costs_the_row_its_text_is_kept_and_reported(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][6] = "lots"  # Gamma's Fund I commitment
    report = airtable.run(write_export(tmp_path, rows), ctx)
    assert report.committed and not report.errors
    assert report.counts["created"] == 3 and report.accounted
    gamma = by_name(ctx)["Gamma LP"]
    kept = [f for f in services.list_fields(ctx) if f.label == "Fund I Commitment (as imported)"]
    assert kept and kept[0].type == "long_text"
    assert gamma[kept[0].key] == "lots"
    warning = next(i for i in report.warnings if i.column == "Fund I Commitment")
    assert (warning.line, warning.value) == (5, "lots")  # physical line: a note spans two
    assert (
        warning.reason
        == "'lots' is not a number: kept as text in 'Fund I Commitment (as imported)'"
    )
    assert "Fund I Commitment (as imported)" in report.preview.new_fields
    # the next import keeps using the same field, and a cell fixed at the source clears it
    rows[2][6] = "$75,000.00"
    again = airtable.run(write_export(tmp_path, rows), ctx)
    assert again.committed and "Fund I Commitment (as imported)" not in again.preview.new_fields
    gamma = by_name(ctx)["Gamma LP"]
    assert gamma[kept[0].key] is None and gamma["total_invested"] == 150_000  # and Fund II: 75,000


def test_a_non_url_in_the_website_column_keeps_the_row_and_the_text(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(
        tmp_path,
        [
            ["Acme", "https://acme.example"],
            ["Beta", "n/a"],
            ["Gamma", "https://gamma.example/about"],
            ["Delta", "www.delta.example"],
        ],
        header=["Name", "Website"],
    )
    preview = airtable.preview(path, ctx)
    website = next(c for c in preview.columns if c.header == "Website")
    assert (website.target, website.failures) == ("field:website", 1)
    assert website.note == (
        "1 cell does not fit: it is kept as text in the new field 'Website (as imported)'"
        " and listed in the report"
    )
    assert preview.new_fields == ["Website (as imported)"]
    dry = airtable.run(path, ctx, dry_run=True)
    assert dry.counts["created"] == 4 and not dry.errors
    assert dry.preview.new_fields == ["Website (as imported)"]
    report = airtable.run(path, ctx)
    assert report.committed and report.counts["created"] == 4
    investors = by_name(ctx)
    key = next(f.key for f in services.list_fields(ctx) if f.label == "Website (as imported)")
    assert investors["Acme"]["website"] == "https://acme.example"
    assert (investors["Beta"]["website"], investors["Beta"][key]) == (None, "n/a")
    assert [(i.line, i.column) for i in report.warnings] == [(3, "Website")]


def test_a_column_named_like_a_built_in_field_whose_values_mostly_do_not_fit_is_new_text(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(
        tmp_path,
        [
            ["Acme", "https://acme.example"],
            ["Beta", "n/a"],
            ["Gamma", "see LinkedIn: Gamma Partners page"],
        ],
        header=["Name", "Website"],
    )
    preview = airtable.preview(path, ctx)
    website = next(c for c in preview.columns if c.header == "Website")
    assert website.target == "new:text"
    assert website.note == (
        "most values are not web addresses (2 of the first 3, e.g. 'n/a'): proposed as a new"
        " text field instead of Website"
    )
    report = airtable.run(path, ctx)
    assert report.committed and not report.issues
    investors = by_name(ctx)
    key = next(f.key for f in services.list_fields(ctx) if f.label == "Website (imported)")
    assert [investors[n][key] for n in ("Acme", "Beta")] == ["https://acme.example", "n/a"]
    assert investors["Acme"]["website"] is None


def test_a_row_that_cannot_go_in_means_nothing_is_written_and_the_report_names_it(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    services.create_investor(ctx, {"name": "Already here"})
    before = content(ctx)
    rows = [list(r) for r in ROWS]
    rows[2][0] = ""  # Gamma without a name: a new investor needs one
    rows[2][6] = "lots"
    report = airtable.run(write_export(tmp_path, rows), ctx)
    assert not report.committed
    assert [(i.line, i.column, i.reason) for i in report.errors] == [
        (5, None, "a new investor needs a Name")
    ]
    assert (report.counts["created"], report.counts["skipped"], report.counts["rows"]) == (2, 1, 3)
    assert [d.action for d in report.diffs if d.line == 5] == ["skip"]
    assert content(ctx) == before  # no fields, funds, options, rows or audit written
    assert "5,,,a new investor needs a Name,error" in report.issues_csv()
    assert "Would skip 1 row that" in "\n".join(report.summary())


def test_skip_bad_rows_imports_the_good_ones(ctx: Context, team: dict, tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][0] = ""
    report = airtable.run(write_export(tmp_path, rows), ctx, skip_bad_rows=True)
    assert report.committed and report.accounted
    assert (report.counts["created"], report.counts["skipped"]) == (2, 1)
    assert set(by_name(ctx)) == {"Acme Capital", "Beta Partners"}


def test_empty_and_duplicate_keys_are_reported_with_their_lines(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    rows = [list(r) for r in ROWS] + [list(ROWS[0]), ["", *ROWS[1][1:]]]
    rows[4][1] = "recDDDDDDDDDDDDDD"
    path = write_export(tmp_path, rows, header=HEADER)
    preview = airtable.preview(path, ctx, key="Name")
    assert preview.duplicates == [("acme capital", [2, 6])]
    assert preview.blank_keys == [8]
    report = airtable.run(path, ctx, key="Name")
    assert not report.committed
    assert [(i.line, i.reason) for i in report.errors] == [  # the first row with a key is kept
        (6, "duplicate key: also on line 2"),
        (8, "the key is empty"),
    ]
    assert (report.counts["skipped"], report.counts["created"], report.accounted) == (2, 3, True)


def test_name_key_ignores_case_and_spacing_and_updates_existing_investors(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    existing = services.create_investor(ctx, {"name": "ACME  capital", "status": "Contacted"})
    path = write_export(tmp_path, [["Acme Capital", "Meeting"]], header=["Investor", "Status"])
    report = airtable.run(path, ctx)
    assert report.preview.key_column == "Investor"
    assert (report.counts["updated"], report.counts["created"]) == (1, 0)
    assert services.get_investor(ctx, existing["id"])["investor"]["status"] == "Meeting"


def test_archive_missing_is_explicit_and_a_returning_row_is_restored(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    airtable.run(write_export(tmp_path), ctx)
    manual = services.create_investor(ctx, {"name": "Created in the CRM"})
    shorter = write_export(tmp_path, ROWS[:2], name="short.csv")
    left_alone = airtable.run(shorter, ctx)
    assert left_alone.counts["archived"] == 0 and left_alone.changes == 0
    archived = airtable.run(shorter, ctx, archive_missing=True)
    assert archived.counts["archived"] == 1
    names = set(by_name(ctx))
    assert names == {"Acme Capital", "Beta Partners", manual["name"]}  # no key: never archived
    back = airtable.run(write_export(tmp_path), ctx)
    assert back.counts["restored"] == 1
    assert "Gamma LP" in by_name(ctx)


def test_mapping_is_saved_as_a_profile_and_reused_by_the_next_import(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(tmp_path)
    airtable.run(
        path,
        ctx,
        profile="LP table",
        mapping={"Deck": "skip", "Score": "new:text"},
        date_orders={"Last Contact": "mdy"},
    )
    profile = services.list_import_profiles(ctx)[0]
    assert profile["name"] == "LP table"
    assert profile["columns"]["Deck"] == "skip"
    assert profile["columns"]["Score"] == "field:score"
    assert profile["key_column"] == "Record ID"
    assert profile["options"]["date_orders"]["Last Contact"] == "mdy"
    assert "deck" not in {f.key for f in services.list_fields(ctx)}
    again = airtable.preview(path, ctx)  # same headers: the profile is found without naming it
    assert again.profile == "LP table" and again.profile_found
    assert next(c for c in again.columns if c.header == "Deck").target == "skip"
    assert airtable.run(path, ctx).changes == 0


def test_day_first_dates_are_detected_from_the_column_values(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(
        tmp_path,
        [["A", "3/4/2025 10:00"], ["B", "19/10/2025 11:40"]],
        header=["Name", "Met"],
    )
    preview = airtable.preview(path, ctx)
    assert next(c for c in preview.columns if c.header == "Met").date_order == "dmy"
    airtable.run(path, ctx)
    assert by_name(ctx)["A"]["met"] == "2025-04-03T10:00:00+00:00"


def test_separate_name_and_email_columns_become_one_person(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(
        tmp_path,
        [["Acme", "Jane Doe", "jane@acme.com", "Partner"], ["Beta", "", "ops@beta.com", ""]],
        header=["Name", "Contact Name", "Contact Email", "Contact Title"],
    )
    airtable.run(path, ctx)
    investors = by_name(ctx)
    jane = services.list_people(ctx, investors["Acme"]["id"])[0]
    assert (jane["full_name"], jane["email"], jane["title"]) == (
        "Jane Doe",
        "jane@acme.com",
        "Partner",
    )
    assert services.list_people(ctx, investors["Beta"]["id"])[0]["full_name"] == "Ops"


def test_messy_contact_cells_become_several_people_and_rows_without_a_person_still_go_in(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(
        tmp_path,
        [
            ["Acme", "Jane Doe / Bob Roe", "jane@acme.com, bob@acme.com", "Partner / Analyst"],
            ["Beta", "", "ops@beta.com (needs to be verified)", ""],
            ["Gamma", "", "", "Managing Director"],  # a title and nobody to give it to
            ["Delta", "", "", ""],
            ["Epsilon", "Eve Ng", "n/a", ""],
        ],
        header=["Name", "Contact Name", "Contact Email", "Contact Title"],
    )
    dry = airtable.run(path, ctx, dry_run=True)
    assert dry.counts["people_added"] == 4 and dry.accounted
    report = airtable.run(path, ctx)
    assert report.committed and report.counts["created"] == 5 and report.accounted
    investors = by_name(ctx)
    acme = sorted(services.list_people(ctx, investors["Acme"]["id"]), key=lambda p: p["id"])
    assert [(p["full_name"], p["email"], p["title"]) for p in acme] == [
        ("Jane Doe", "jane@acme.com", "Partner"),
        ("Bob Roe", "bob@acme.com", "Analyst"),
    ]
    (ops,) = services.list_people(ctx, investors["Beta"]["id"])
    assert (ops["full_name"], ops["email"], ops["notes"]) == (
        "Ops",
        "ops@beta.com",
        "needs to be verified",
    )
    assert services.list_people(ctx, investors["Gamma"]["id"]) == []
    assert services.list_people(ctx, investors["Delta"]["id"]) == []
    (eve,) = services.list_people(ctx, investors["Epsilon"]["id"])
    assert (eve["full_name"], eve["email"]) == ("Eve Ng", None)
    kept = next(
        f.key for f in services.list_fields(ctx) if f.label == "Contact Email (as imported)"
    )
    assert investors["Epsilon"][kept] == "n/a"
    reasons = {(i.line, i.reason) for i in report.warnings}
    assert (4, "no person's name or email on this row: the person is skipped") in reasons
    assert (
        6,
        "'n/a' is not an email address: kept as text in 'Contact Email (as imported)'",
    ) in reasons
    assert airtable.run(path, ctx).changes == 0  # and re-importing changes nothing


def test_export_then_import_round_trips_with_zero_changes(
    demo_ctx: Context, tmp_path: Path
) -> None:
    path = tmp_path / "venture-crm-investors.csv"
    path.write_text("".join(services.investors_csv(demo_ctx)), encoding="utf-8")
    report = airtable.run(path, demo_ctx)
    assert report.preview.key_column == "id"
    assert not report.errors, report.errors[:3]
    assert report.changes == 0, report.diffs[:3]
    assert report.counts["unchanged"] == services.count_by_list(demo_ctx)["all"]


def test_a_member_cannot_create_funds_through_an_import(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    member = ctx.as_user({"id": team["bob"], "email": "bob@fund.example", "role": "member"})
    report = airtable.run(write_export(tmp_path), member)
    assert not report.committed
    assert "only admins can create funds" in report.errors[0].reason
    viewer = ctx.as_user({"id": team["bob"], "email": "bob@fund.example", "role": "nobody"})
    with pytest.raises(PermissionDenied):
        airtable.preview(write_export(tmp_path), viewer)


def test_a_cell_too_long_to_keep_is_left_out_and_reported_not_a_crash(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    big = "x" * (1024 * 1024)
    path = write_export(tmp_path, [["Acme", big], ["Beta", "fine"]], header=["Name", "Notes"])
    report = airtable.run(path, ctx)
    assert report.committed and report.counts["created"] == 2
    warning = report.warnings[0]
    assert (warning.line, warning.column) == (2, "Notes")
    assert "1,048,576 characters; at most 100,000: the cell is left out" in warning.reason
    assert by_name(ctx)["Acme"]["notes"] is None


def test_file_level_problems_raise_clear_errors(ctx: Context, team: dict, tmp_path: Path) -> None:
    no_name = write_export(tmp_path, [["x"]], header=["Record ID"], name="a.csv")
    with pytest.raises(ValidationError, match="No column is mapped to the investor's Name"):
        airtable.preview(no_name, ctx, mapping={"Record ID": "new:text"})
    path = write_export(tmp_path)
    with pytest.raises(ValidationError, match="no column 'Nope'"):
        airtable.preview(path, ctx, key="Nope")
    with pytest.raises(ValidationError, match="unknown target 'field:nonsense'"):
        airtable.preview(path, ctx, mapping={"Type": "field:nonsense"})
    with pytest.raises(ValidationError, match="does not have: 'Ghost'"):
        airtable.preview(path, ctx, mapping={"Ghost": "skip"})


def test_ragged_rows_are_errors_naming_the_line(ctx: Context, tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_bytes(b"Name,Status\nAcme,Meeting\nBeta,Prospect,extra\n")
    report = airtable.run(path, ctx)
    assert [(i.line, i.reason) for i in report.errors] == [
        (3, "the row has 3 cells; the header has 2")
    ]


def test_windows_1252_and_utf16_files_import_the_same_values(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    rows = [["Café Zürich", "Meeting"], ["Señora Núñez Fund", "Prospect"]]
    header = ["Name", "Status"]
    first = write_export(tmp_path, rows, header=header, encoding="cp1252", name="a.csv")
    assert airtable.run(first, ctx).counts["created"] == 2
    second = write_export(tmp_path, rows, header=header, encoding="utf-16", name="b.csv")
    assert airtable.run(second, ctx).changes == 0
    assert set(by_name(ctx)) == {"Café Zürich", "Señora Núñez Fund"}


@pytest.mark.slow
def test_a_100k_row_file_imports_and_reimports_with_zero_changes(
    ctx: Context, tmp_path: Path
) -> None:
    services.create_fund(ctx, {"name": "Fund I"})
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write("Name,Record ID,Status,Fund I Commitment,Last Contact,Tags\r\n")
        for i in range(100_000):
            amount = f'"${(i % 97) * 10_000:,}.00"' if i % 3 else ""
            handle.write(
                f"LP {i:06d},rec{i:014d},{('Prospect', 'Meeting')[i % 2]},{amount},"
                f'{i % 12 + 1}/{i % 28 + 1}/2024,"AI,Climate"\r\n'
            )
    first = airtable.run(path, ctx)
    assert first.committed and first.counts["created"] == 100_000
    assert services.count_by_list(ctx)["all"] == 100_000
    again = airtable.run(path, ctx)
    assert again.changes == 0 and again.counts["unchanged"] == 100_000


def test_a_file_starting_with_record_ids_takes_its_name_from_the_name_column(
    ctx: Context, tmp_path: Path
) -> None:
    path = write_export(
        tmp_path, [["recAAAAAAAAAAAAAA", "Acme"]], header=["Record ID", "Name"], name="ids.csv"
    )
    preview = airtable.preview(path, ctx)
    assert [c.target for c in preview.columns] == ["new:text", "field:name"]
    assert preview.key_column == "Record ID"


def test_a_profile_naming_an_archived_field_falls_back_to_a_proposal(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(tmp_path)
    airtable.run(path, ctx, profile="LPs")
    services.archive_field(ctx, "deck", expected_version=1)
    again = airtable.preview(path, ctx, profile="LPs")
    assert next(c for c in again.columns if c.header == "Deck").target == "new:long_text"


def test_rows_changed_in_the_crm_since_the_last_import_are_compared_again(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(tmp_path)
    airtable.run(path, ctx)
    acme = by_name(ctx)["Acme Capital"]
    services.update_investor(
        ctx, acme["id"], {"status": "Passed"}, expected_version=acme["version"]
    )
    gamma = by_name(ctx)["Gamma LP"]
    person = services.list_people(ctx, gamma["id"])[0]
    services.update_person(ctx, person["id"], {"title": "CIO"}, expected_version=person["version"])
    beta = by_name(ctx)["Beta Partners"]
    commitment = services.list_commitments(ctx, investor_id=beta["id"])["rows"][0]
    services.remove_commitment(ctx, commitment["id"], expected_version=commitment["version"])
    report = airtable.run(path, ctx)
    assert (report.counts["updated"], report.counts["unchanged"]) == (2, 1)  # Gamma's title stays
    assert by_name(ctx)["Acme Capital"]["status"] == "Meeting"  # the file is the truth
    assert by_name(ctx)["Beta Partners"]["total_invested"] == 250_000
    assert airtable.run(path, ctx).changes == 0


def test_a_saved_mapping_reads_the_file_once_and_still_catches_key_problems(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = write_export(tmp_path)
    airtable.run(path, ctx)
    rows = [list(r) for r in ROWS] + [list(ROWS[1]), ["x"]]
    report = airtable.run(write_export(tmp_path, rows), ctx)
    assert report.preview.rows == 5
    assert [(i.line, i.reason) for i in report.errors] == [
        (6, "duplicate key: also on line 4"),
        (7, "the row has 1 cells; the header has 16"),
    ]
    assert not report.committed


def test_money_columns_are_not_mistaken_for_multi_selects_and_skipped_ids_are_no_key(
    ctx: Context, tmp_path: Path
) -> None:
    rows = [["A", "recAAAAAAAAAAAAAA", "$1,500,000.00"], ["B", "recBBBBBBBBBBBBBB", "abc"]]
    path = write_export(tmp_path, rows, header=["Name", "Record ID", "Raised"])
    preview = airtable.preview(path, ctx, mapping={"Record ID": "skip"})
    assert next(c for c in preview.columns if c.header == "Raised").inferred_type == "text"
    assert preview.key_column == "Name"


def test_reimports_only_convert_rows_whose_cells_or_records_changed(
    ctx: Context, team: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    converted: list[int] = []
    original = airtable._Converter.convert

    def counting(self, line, cells, report):  # type: ignore[no-untyped-def]
        converted.append(line)
        return original(self, line, cells, report)

    monkeypatch.setattr(airtable._Converter, "convert", counting)
    path = write_export(tmp_path)
    airtable.run(path, ctx)
    assert converted == [2, 4, 5]
    converted.clear()
    assert airtable.run(path, ctx).changes == 0
    assert converted == []  # every row recognised by its fingerprint
    rows = [list(r) for r in ROWS]
    rows[1][3] = "Due diligence"
    changed = write_export(tmp_path, rows, name="changed.csv")
    assert airtable.run(changed, ctx).counts["updated"] == 1
    assert converted == [4]
    converted.clear()
    gamma = by_name(ctx)["Gamma LP"]
    services.update_investor(
        ctx, gamma["id"], {"notes": "edited"}, expected_version=gamma["version"]
    )
    assert airtable.run(changed, ctx).counts["updated"] == 1
    assert converted == [5]  # only the record edited in the CRM is compared again
