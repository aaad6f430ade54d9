"""A real, messy Airtable export goes in whole: every row created, updated or skipped with its
reason, every cell that does not fit kept and reported, and the counts add up to the file."""

from __future__ import annotations

import shutil
from pathlib import Path

from crm_lib import services
from crm_lib.context import Context
from crm_lib.importers import airtable

MESSY = Path(__file__).parent / "data" / "messy-airtable-export.csv"
ROWS_IN_FILE = 9  # 8 well-formed data rows and a ragged one; the blank line at the end is no row


def people_of(ctx: Context, name: str) -> list[tuple]:
    investor = services.list_investors(ctx, search=name).rows[0]
    people = sorted(services.list_people(ctx, investor["id"]), key=lambda p: p["id"])
    return [(p["full_name"], p["email"], p["title"], p["notes"]) for p in people]


def kept(ctx: Context, name: str, label: str) -> str | None:
    key = next(f.key for f in services.list_fields(ctx) if f.label == label)
    return services.list_investors(ctx, search=name).rows[0][key]


def test_every_row_of_a_messy_export_is_created_or_skipped_with_its_reason(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    path = tmp_path / "Investors-Grid view.csv"
    shutil.copy(MESSY, path)
    dry = airtable.run(path, ctx, dry_run=True, skip_bad_rows=True)
    counts = dry.counts
    assert counts["rows"] == ROWS_IN_FILE and dry.accounted
    assert (counts["created"], counts["skipped"]) == (6, 3)
    outcome = {d.line: d.action for d in dry.diffs}
    assert outcome == {2: "create", 4: "create", 5: "create", 6: "create", 7: "create"} | {
        8: "skip",
        9: "skip",
        10: "skip",
        11: "create",
    }
    reasons = {d.line: d.changes[0][2] for d in dry.diffs if d.action == "skip"}
    assert reasons == {
        8: "Line 8: the row has 3 cells; the header has 15",
        9: "Line 9: a new investor needs a Name",
        10: "Line 10, column 'Record ID': 'recAAAAAAAAAAAAA2' duplicate key: also on line 4",
    }
    created = next(d for d in dry.diffs if d.line == 2)
    assert ("Name", None, "Acme Capital") in created.changes  # field by field, before → after

    report = airtable.run(path, ctx, skip_bad_rows=True)
    assert report.committed and report.counts == dry.counts
    assert people_of(ctx, "Acme Capital") == [
        ("Jane Doe", "jane@acme.example", "Partner", None),
        ("Bob Roe", "bob@acme.example", "Analyst", None),
    ]
    assert people_of(ctx, "Beta Partners") == [
        ("Ops", "ops@beta.example", None, "needs to be verified")
    ]
    assert people_of(ctx, "Gamma LP") == []  # no contact person: the investor still goes in
    assert people_of(ctx, "Delta Family Office") == [
        ("Dana Diaz", "dana@delta.example", "CIO", None),
        ("Sam", "sam@delta.example", None, "assistant"),
    ]
    assert people_of(ctx, "Epsilon Trust") == [("Eve Ng", None, None, None)]
    assert kept(ctx, "Epsilon Trust", "Contact Email (as imported)") == (
        "email (needs to be verified)"
    )
    assert kept(ctx, "Beta Partners", "Website (as imported)") == "n/a"
    assert kept(ctx, "Gamma LP", "Fund I Commitment (as imported)") == "TBD"
    assert kept(ctx, "Epsilon Trust", "Owner (as imported)") == "Carol Who"
    warned = {(i.line, i.column) for i in report.warnings}
    assert {(4, "Website"), (5, "Fund I Commitment"), (7, "Owner"), (7, "Contact Email")} <= warned
    assert (11, None) in warned  # Eta's title without a person to hold it

    again = airtable.run(path, ctx, skip_bad_rows=True)
    assert again.changes == 0 and again.accounted
    assert (again.counts["unchanged"], again.counts["skipped"]) == (6, 3)


def test_types_come_from_the_first_block_and_a_later_misfit_is_counted_then_kept(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    from crm_lib.importers.columns import INFER_ROWS
    from tests.importers.conftest import write_export

    rows = [[f"Investor {n}", f"{n * 10}"] for n in range(1, INFER_ROWS + 2)]
    rows.append(["Late LP", "about 5 million"])
    path = write_export(tmp_path, rows, header=["Name", "AUM"])
    preview = airtable.preview(path, ctx)
    aum = next(c for c in preview.columns if c.header == "AUM")
    assert (aum.target, aum.failures) == ("new:number", 1)  # the preview sees the whole file
    assert preview.rows == INFER_ROWS + 2
    report = airtable.run(path, ctx)
    assert report.committed and report.counts["created"] == INFER_ROWS + 2
    assert [(i.line, i.column) for i in report.warnings] == [(INFER_ROWS + 3, "AUM")]
    assert kept(ctx, "Late LP", "AUM (as imported)") == "about 5 million"


def test_a_hostile_column_name_gets_a_safe_kept_field_and_the_row_still_goes_in(
    ctx: Context, team: dict, tmp_path: Path
) -> None:
    from tests.importers.conftest import write_export

    header = "<img src=x onerror=alert(1)> Commitment to " + "long " * 60 + "Fund"
    path = write_export(
        tmp_path,
        [["Acme", "https://acme.example", "owner unknown"], ["Beta", "n/a", ""]],
        header=["Name", "Website", "Owner"],
    )
    path.write_text(path.read_text(encoding="utf-8-sig").replace("Owner", header, 1))
    report = airtable.run(path, ctx)
    assert report.committed and report.counts["created"] == 2 and report.accounted
    labels = [f.label for f in services.list_fields(ctx) if f.label.endswith("(as imported)")]
    assert labels == ["Website (as imported)"]  # the hostile column was new text: nothing to keep
    (kept_warning,) = report.warnings
    assert kept_warning.column == "Website" and kept_warning.line == 3
