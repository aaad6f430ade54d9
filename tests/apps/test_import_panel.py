"""The grid's import panel driven through its widgets without a browser: upload an Airtable export,
read and change the mapping table, dry-run it (nothing written), import it (the grid shows the
rows), and the problems of bad files and bad rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

import crm_lib
from apps.grid.import_panel import ImportPanel
from apps.grid.page import GridPage
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of

EXPORT = "Investors-Grid view.csv"
GOOD = b"""Name,Record ID,Status,Tags,Fund I Commitment,Contacts
Acme Capital,recAAAAAAAAAAAAAA,Meeting,"AI,Climate","$1,500,000.00","Jane Doe <jane@acme.com>"
Beta Partners,recBBBBBBBBBBBBBB,Prospect,AI,,"Bob Roe <bob@beta.com>"
"""
#: Line 4 has no name (a new investor needs one) and a commitment that is not an amount.
BAD_ROW = GOOD + b",recCCCCCCCCCCCCCC,Prospect,AI,abc,\n"


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    services.create_fund(ctx, {"name": "Fund I", "vintage_year": 2020})
    services.bulk_create_investors(ctx, [{"name": f"Investor {n}"} for n in range(1, 4)])
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


@pytest.fixture
def page(runtime: Runtime) -> GridPage:
    return GridPage(runtime, session=session_of(runtime, "bob@fund.example"))


def opened(page: GridPage, content: bytes = GOOD, name: str = EXPORT) -> ImportPanel:
    """Click "⇪ Import" (unless its panel is open: the button toggles it) and upload ``content``
    as the browser would."""
    if not (page.side.visible and page.side.objects[0] is page.import_panel.layout):
        page.import_button.clicks += 1
    panel = page.import_panel
    assert page.side.visible and page.side.objects == [panel.layout]
    panel.file_input.param.update(filename=name, value=content)
    return panel


def investor_count(runtime: Runtime) -> int:
    with runtime.context() as ctx:
        return services.count_by_list(ctx)["all"]


def staged(runtime: Runtime) -> list[Path]:
    return sorted((runtime.settings.data_dir / "imports").glob("*"))


def test_an_upload_shows_the_mapping_table(page: GridPage, runtime: Runtime) -> None:
    panel = opened(page)
    assert not page.failed, page.message
    assert [p.name for p in staged(runtime)] == [panel.path.name]
    assert "Investors-Grid view.csv</b>: 2 rows" in panel.facts.object
    assert "Rows match investors on <b>Record ID</b>" in panel.facts.object
    assert "No saved mapping" in panel.facts.object
    assert panel.profile_name.value == "Investors"
    targets = {header: select.value for header, select in panel.target_selects.items()}
    assert targets == {
        "Name": "field:name",
        "Record ID": "new:text",
        "Status": "field:status",
        "Tags": "field:tags",
        "Fund I Commitment": "commitment:Fund I",
        "Contacts": "people",
    }
    choices = panel.target_selects["Status"].options
    assert choices["Field: Status"] == "field:status"
    assert {"New field: Currency", "People (“Name <email>” list)", "Person's email"} <= set(choices)
    assert choices["Commitment to Fund I"] == "commitment:Fund I"
    assert choices["Not imported"] == "skip"
    assert "Field: Total invested" not in choices  # calculated: nothing to import into
    assert panel.key_choice.value == "Record ID"
    assert panel.key_choice.options == list(targets)
    assert panel.import_button.disabled and not panel.dry_run_button.disabled


def test_the_mapping_shows_inferred_types_samples_and_failing_cells(page: GridPage) -> None:
    panel = opened(page, BAD_ROW)
    details = {c.header: c for c in panel.preview.columns}
    assert details["Fund I Commitment"].failures == 1
    shown = panel.mapping_box.objects[4].objects[1].object
    assert "1 cell fails: &#x27;abc&#x27; is not a number" in shown
    assert "“$1,500,000.00”" in shown
    assert "looks like Text" in panel.mapping_box.objects[0].objects[1].object


def test_changing_a_target_previews_again_with_that_mapping(page: GridPage) -> None:
    panel = opened(page)
    panel.target_selects["Status"].value = "skip"
    assert panel.preview.mapping["Status"] == "skip"
    assert panel.target_selects["Status"].value == "skip"  # the rebuilt table keeps the choice
    panel.target_selects["Tags"].value = "field:status"  # a field is fed by one column...
    assert panel.preview.mapping["Tags"] == "field:status"
    panel.target_selects["Status"].value = "field:status"  # ...so taking it back skips Tags
    assert (panel.preview.mapping["Status"], panel.preview.mapping["Tags"]) == (
        "field:status",
        "skip",
    )
    assert "Column 'Tags' is now not imported" in page.message


def test_a_refused_choice_is_explained_and_undone(page: GridPage) -> None:
    panel = opened(page)
    panel.target_selects["Name"].value = "skip"
    assert page.failed and "No column is mapped to the investor's Name" in page.message
    assert "No column is mapped" in panel.status.object
    assert panel.preview.mapping["Name"] == "field:name"
    assert panel.target_selects["Name"].value == "field:name"
    panel.key_choice.value = "Contacts"
    assert "cannot be the key" in page.message
    assert panel.key_choice.value == "Record ID"


def test_a_dry_run_shows_counts_and_changes_and_writes_nothing(
    page: GridPage, runtime: Runtime
) -> None:
    panel = opened(page)
    before = investor_count(runtime)
    panel.dry_run_button.clicks += 1
    assert not page.failed, page.message
    assert "Dry run: nothing was written." in panel.summary.object
    assert "Would create 2, update 0" in panel.summary.object
    assert "People: add 2" in panel.summary.object
    diffs = panel.diffs_table.value
    assert list(diffs["Key"]) == ["recAAAAAAAAAAAAAA", "recBBBBBBBBBBBBBB"]
    assert "Tags: — → AI, Climate" in diffs["Changes"].iloc[0]
    assert not panel.issues_table.visible and not panel.problems_download.visible
    assert investor_count(runtime) == before
    assert not panel.import_button.disabled
    panel.archive_missing.value = True  # another setting: that dry run no longer says it
    assert panel.import_button.disabled and not panel.diffs_table.visible
    assert "preview the changes again" in panel.summary.object
    panel.archive_missing.value = False
    assert panel.import_button.disabled  # only a dry run enables it
    panel.target_selects["Status"].value = "skip"
    panel.dry_run_button.clicks += 1
    assert not panel.import_button.disabled
    assert "Status" not in panel.diffs_table.value["Changes"].iloc[0]


def test_import_commits_and_the_grid_shows_the_new_rows(page: GridPage, runtime: Runtime) -> None:
    panel = opened(page)
    before = investor_count(runtime)
    panel.import_button.clicks += 1  # not before a dry run
    assert panel.import_button.disabled and investor_count(runtime) == before
    panel.dry_run_button.clicks += 1
    panel.import_button.clicks += 1
    assert not page.failed, page.message
    assert "Imported Investors-Grid view.csv: 2 created, 0 updated." in page.message
    assert "Did create 2" in panel.summary.object and panel.progress.value == 100
    assert investor_count(runtime) == before + 2
    shown = list(page.table.value["name"])
    assert {"Acme Capital", "Beta Partners"} <= set(shown)
    assert "record_id" in page.table.value.columns  # the new field is a grid column
    acme = page.table.value[page.table.value["name"] == "Acme Capital"].iloc[0]
    fund = next(c.key for c in page.store.columns if c.fund_id)
    assert (acme["status"], acme[fund], acme["people"]) == ("Meeting", 1_500_000, ["Jane Doe"])
    assert staged(runtime) == [] and panel.path is None
    assert panel.import_button.disabled and panel.dry_run_button.disabled

    again = opened(page)  # the same export again: its mapping is remembered, nothing changes
    assert "Reusing the saved mapping “Investors”" in again.facts.object
    again.dry_run_button.clicks += 1
    assert "0 changes: the database already matches this file." in again.summary.object
    assert again.import_button.disabled


def test_a_bad_file_shows_the_library_message(page: GridPage, runtime: Runtime) -> None:
    panel = opened(page, b"PK\x03\x04 zipped workbook", "Investors.csv")
    assert page.failed
    assert page.message.startswith("Investors.csv is a ZIP archive or an Excel workbook (.xlsx)")
    assert "not a text CSV file" in panel.status.object and "Traceback" not in panel.status.object
    assert not panel.settings_box.visible and staged(runtime) == []
    opened(page, b"", "empty.csv")
    assert "empty.csv is empty: there is nothing to import" in page.message


def test_bad_rows_show_the_problems_and_download_them(page: GridPage, runtime: Runtime) -> None:
    panel = opened(page, BAD_ROW)
    before = investor_count(runtime)
    panel.dry_run_button.clicks += 1
    issues = panel.issues_table.value
    assert issues.to_dict("records") == [
        {
            "Line": 4,
            "Column": "Fund I Commitment",
            "Value": "abc",
            "Reason": "'abc' is not a number: kept as text in 'Fund I Commitment (as imported)'",
            "Severity": "Warning",
        },
        {
            "Line": 4,
            "Column": "",
            "Value": "",
            "Reason": "a new investor needs a Name",
            "Severity": "Error",
        },
    ]
    assert "1 error," in panel.summary.object and "tick “Skip bad rows”" in panel.summary.object
    plan = panel.diffs_table.value.to_dict("records")
    assert [(row["Line"], row["Action"]) for row in plan] == [
        (2, "Create"),
        (3, "Create"),
        (4, "Skip"),
    ]
    assert plan[2]["Changes"] == "Line 4: a new investor needs a Name"
    assert panel.import_button.disabled
    download = panel.problems_download
    assert download.visible and download.filename == "Investors-Grid view-problems.csv"
    rows = list(csv.DictReader(io.StringIO(download.callback().getvalue().decode("utf-8-sig"))))
    assert [(r["line"], r["column"], r["value"], r["severity"]) for r in rows] == [
        ("4", "Fund I Commitment", "abc", "warning"),
        ("4", "", "", "error"),
    ]
    panel.skip_bad.value = True
    assert panel.import_button.disabled  # previewed without skipping: preview again
    panel.dry_run_button.clicks += 1
    panel.import_button.clicks += 1
    assert "Skipped 1 row that cannot go in" in panel.summary.object
    assert investor_count(runtime) == before + 2


def test_a_problem_with_the_whole_file_blocks_the_import_even_when_skipping_rows(
    page: GridPage,
) -> None:
    panel = opened(page, b"Name,Fund IX Commitment\nAcme Capital,100\n")
    assert panel.preview.mapping["Fund IX Commitment"] == "commitment:Fund IX"
    panel.skip_bad.value = True
    panel.dry_run_button.clicks += 1
    assert "only admins can create funds" in panel.summary.object  # Bob is a member
    assert panel.import_button.disabled
