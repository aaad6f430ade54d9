"""The `crm` command: init, demo-data and doctor, with clean errors and exit codes; only `init`
creates a database; links point at the running server."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from crm_lib import doctor
from crm_lib.cli import main
from crm_lib.storage.migrations import latest_version


def run(data_dir: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], input=input)


def test_init_creates_then_reports_up_to_date(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = run(data_dir, "init")
    assert first.exit_code == 0 and "Migrated" in first.output
    assert (data_dir / "crm.db").exists()
    second = run(data_dir, "init")
    assert second.exit_code == 0 and f"is up to date (schema {latest_version()})" in second.output


def test_init_honours_crm_data_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init"], env={"CRM_DATA_DIR": str(tmp_path / "from-env")})
    assert result.exit_code == 0
    assert (tmp_path / "from-env" / "crm.db").exists()


def test_demo_data_loads_once_and_then_refuses_or_skips(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert run(data_dir, "init").exit_code == 0
    loaded = run(data_dir, "demo-data", "--investors", "120", "--as-of", "2026-11-25")
    assert loaded.exit_code == 0, loaded.output
    assert "120 investors" in loaded.output
    refused = run(data_dir, "demo-data")
    assert refused.exit_code == 1
    assert "Error: The database already holds 120 investors" in refused.output
    assert "Traceback" not in refused.output
    skipped = run(data_dir, "demo-data", "--if-empty")
    assert skipped.exit_code == 0 and "not loaded" in skipped.output


def doctor_marks(output: str) -> dict[str, list[str]]:
    """The report's marks by check: {"database": ["OK", "WARN"], ...}."""
    marks: dict[str, list[str]] = {}
    name = ""
    for line in output.splitlines()[1:]:
        if not line.strip():
            break  # "What to fix" and the summary follow
        name = line[:12].strip() or name
        marks.setdefault(name, []).append(line[13:].split()[0])
    return marks


def test_doctor_passes_on_a_healthy_install(tmp_path: Path) -> None:
    import os

    data_dir = tmp_path / "data"
    previous = os.umask(0o077)  # as the service runs (UMask=0077): the data stays private
    try:
        run(data_dir, "init")
        assert run(data_dir, "backup").exit_code == 0
    finally:
        os.umask(previous)
    result = run(data_dir, "doctor")
    assert result.exit_code == 0, result.output
    marks = doctor_marks(result.output)
    assert list(marks) == [name for name, _ in doctor.CHECKS]  # every check, in order
    assert {name: set(found) for name, found in marks.items()} == {name: {"OK"} for name in marks}
    assert "What to fix" not in result.output
    assert "0 failed, 0 warnings" in result.output


def test_doctor_names_what_is_wrong_and_exits_1(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "crm.db").write_bytes(b"PK\x03\x04 this is a zip file")
    result = run(data_dir, "doctor")
    assert result.exit_code == 1
    assert doctor_marks(result.output)["database"] == ["FAIL"]
    assert "is not a SQLite database" in result.output
    assert "Traceback" not in result.output


def test_doctor_warns_before_init(tmp_path: Path) -> None:
    result = run(tmp_path / "nothing-yet", "doctor")
    assert result.exit_code == 0
    assert doctor_marks(result.output)["database"] == ["WARN"]
    assert "run `crm init`" in result.output
    assert not (tmp_path / "nothing-yet").exists()  # the doctor only looks


def test_import_airtable_dry_run_import_reimport_and_exit_codes(tmp_path: Path) -> None:
    from tests.importers.conftest import write_export

    data = tmp_path / "data"
    assert run(data, "init").exit_code == 0
    rows = [["Acme Capital", "Meeting", "Jane Doe <jane@acme.com>"], ["Beta", "Prospect", ""]]
    path = write_export(tmp_path, rows, header=["Name", "Status", "Contacts"])
    dry = run(data, "import-airtable", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "Dry run: nothing was written." in dry.output
    assert "Would create 2, update 0" in dry.output
    done = run(data, "import-airtable", str(path), "--profile", "LPs")
    assert (
        done.exit_code == 0 and "Did create 2" in done.output and "Import 1 recorded" in done.output
    )
    again = run(data, "import-airtable", str(path))
    assert again.exit_code == 0 and "0 changes: the database already matches" in again.output
    bad = write_export(
        tmp_path,
        [["", "Prospect", ""], ["Gamma", "Prospect", "not <an email"]],
        name="bad.csv",
        header=["Name", "Status", "Contacts"],
    )
    errors = tmp_path / "problems.csv"
    failed = run(data, "import-airtable", str(bad), "--errors-csv", str(errors))
    assert failed.exit_code == 1
    assert "Nothing was written" in failed.output and "Line 2, column 'Name'" in failed.output
    assert "Line 3, column 'Contacts'" in failed.output  # a cell kept as text: a warning
    problems = errors.read_text().splitlines()
    assert problems[:2] == [
        "line,column,value,reason,severity",
        "2,Name,,the key is empty,error",
    ]
    assert problems[2].startswith("3,Contacts,not <an email,") and problems[2].endswith(",warning")
    assert run(data, "import-airtable", str(tmp_path / "missing.csv")).exit_code == 2
    assert run(data, "import-airtable", str(path), "--map", "Status").exit_code == 2
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\x01\x02\x03" * 100)
    refused = run(data, "import-airtable", str(garbage))
    assert refused.exit_code == 1 and "not a text CSV file" in refused.output
    assert "Traceback" not in refused.output


def test_export_writes_each_format_and_its_csv_imports_back_with_zero_changes(
    tmp_path: Path,
) -> None:
    import json

    import openpyxl

    import crm_lib
    from crm_lib import services

    data = tmp_path / "data"
    assert run(data, "init").exit_code == 0
    assert run(data, "demo-data", "--investors", "25", "--as-of", "2026-11-25").exit_code == 0
    csv_file, json_file, xlsx_file = (tmp_path / f"lps.{s}" for s in ("csv", "json", "xlsx"))
    done = run(data, "export", str(csv_file))
    assert done.exit_code == 0 and "Exported 25 investors to" in done.output, done.output
    assert csv_file.read_bytes().startswith("\ufeffid,Name,".encode())  # Excel reads UTF-8
    again = run(data, "import-airtable", str(csv_file), "--dry-run")
    assert again.exit_code == 0 and "0 changes: the database already matches" in again.output
    assert run(data, "export", str(json_file), "--list", "graveyard").exit_code == 0
    graveyard = json.loads(json_file.read_text(encoding="utf-8"))
    assert graveyard and {r["List"] for r in graveyard} == {"graveyard"}
    ctx = crm_lib.open_crm(data)
    committed = {
        "op": "and",
        "conditions": [{"field": "Status", "operator": "eq", "value": "Committed"}],
    }
    view = services.create_view(
        ctx, {"name": "Committed", "filters": committed, "hidden_fields": ["Notes"], "shared": True}
    )
    ctx.close()
    assert run(data, "export", str(xlsx_file), "--view", str(view["id"])).exit_code == 0
    sheet = openpyxl.load_workbook(xlsx_file).active
    header = [c.value for c in sheet[1]]
    assert "Notes" not in header and "People" in header
    assert {row[header.index("Status")].value for row in sheet.iter_rows(min_row=2)} == {
        "Committed"
    }
    unknown = run(data, "export", str(tmp_path / "lps.pdf"))
    assert unknown.exit_code == 2 and "--format csv, json or xlsx" in unknown.output
    missing = run(data, "export", str(csv_file), "--view", "999")
    assert missing.exit_code == 1 and "Traceback" not in missing.output
    assert not (tmp_path / ".lps.csv.part").exists()


def test_backup_list_verify_restore_test_and_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "init").exit_code == 0
    assert run(data, "demo-data", "--investors", "20").exit_code == 0
    taken = run(data, "backup")
    assert taken.exit_code == 0 and taken.output.startswith("Backup 1: crm-")
    listed = run(data, "backup", "list")
    assert listed.output.split()[0] == "1" and "manual" in listed.output
    assert "Backup 1: ok (ok)" in run(data, "backup", "verify", "1").output
    tested = run(data, "backup", "restore-test")
    assert tested.exit_code == 0 and "Restore test passed." in tested.output
    refused = run(data, "restore", "1", input="n\n")
    assert refused.exit_code == 1 and "Aborted" in refused.output
    restored = run(data, "restore", "1", "--yes")
    assert (
        restored.exit_code == 0
        and "Restored backup 1; the data before it is backup 2." in restored.output
    )
    backup = next((data / "backups").glob("*manual*.db"))
    backup.write_bytes(backup.read_bytes()[:4096])
    failed = run(data, "backup", "verify", "1")
    assert failed.exit_code == 1 and "failed" in failed.output
    assert "failed verification" in run(data, "restore", "1", "--yes").output


def test_jobs_run_and_list(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "init").exit_code == 0
    assert run(data, "demo-data", "--investors", "10").exit_code == 0
    assert "ALERT No verified backup ever" in run(data, "jobs", "list").output
    done = run(data, "jobs", "run", "nightly_backup")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Run 1 of nightly_backup: ok")
    listed = run(data, "jobs", "list").output
    assert "nightly_backup" in listed and " ok " in listed and "ALERT" not in listed
    unknown = run(data, "jobs", "run", "weekly_report")
    assert unknown.exit_code == 1 and "nightly_backup" in unknown.output


def test_load_snapshot_fills_an_empty_database_and_refuses_garbage(tmp_path: Path) -> None:
    import json

    import crm_lib
    from crm_lib import services

    source = tmp_path / "source"
    assert run(source, "init").exit_code == 0
    assert run(source, "demo-data", "--investors", "15").exit_code == 0
    ctx = crm_lib.open_crm(source)
    document = services.grid_snapshot(ctx)
    owners = document["owners"]
    ctx.close()
    export = tmp_path / "export.json"
    export.write_text(json.dumps(document))
    target = tmp_path / "target"
    assert run(target, "init").exit_code == 0
    refused = run(target, "load-snapshot", str(export))
    assert refused.exit_code == 1 and "invite them first" in refused.output
    ctx = crm_lib.open_crm(target)
    for owner in owners:
        services.create_user(ctx, owner["email"], name=owner["name"])
    ctx.close()
    loaded = run(target, "load-snapshot", str(export))
    assert loaded.exit_code == 0 and "15 investors" in loaded.output
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{nope")
    assert "is not a JSON export" in run(target, "load-snapshot", str(garbage)).output


def _export(tmp_path: Path) -> Path:
    from tests.importers.conftest import write_export

    return write_export(tmp_path, [["Acme Capital", "Meeting", ""]], header=["Name", "Status", "x"])


NEEDS_A_DATABASE = {
    "backup": ["backup"],
    "backup list": ["backup", "list"],
    "jobs list": ["jobs", "list"],
    "jobs run": ["jobs", "run", "nightly_backup"],
    "invite": ["invite", "ana@example.com"],
    "create-admin": ["create-admin", "ana@example.com"],
    "demo-data": ["demo-data", "--investors", "5"],
    "import-airtable --dry-run": ["import-airtable", "{export}", "--dry-run"],
    "restore": ["restore", "1", "--yes"],
    "load-snapshot": ["load-snapshot", "{snapshot}"],
    "export": ["export", "{out}"],
}


@pytest.mark.parametrize("command", NEEDS_A_DATABASE.values(), ids=NEEDS_A_DATABASE.keys())
@pytest.mark.parametrize("folder_exists", [False, True], ids=["no folder", "empty folder"])
def test_commands_without_a_database_say_where_they_looked_and_create_nothing(
    tmp_path: Path, command: list[str], folder_exists: bool
) -> None:
    data = tmp_path / "data"
    if folder_exists:
        data.mkdir()
    snapshot = tmp_path / "snapshot.json"
    snapshot.write_text("{}")
    out = tmp_path / "out.csv"
    args = [a.format(export=_export(tmp_path), snapshot=snapshot, out=out) for a in command]
    result = CliRunner().invoke(main, args, env={"CRM_DATA_DIR": str(data)})
    assert result.exit_code == 1, result.output
    assert f"No CRM database at {data / 'crm.db'}" in result.output
    assert "run `crm init`" in result.output and "Traceback" not in result.output
    if folder_exists:
        assert list(data.iterdir()) == []  # no crm.db, -wal, -shm, backups/ or cache/
    else:
        assert not data.exists()


def test_doctor_still_reports_a_missing_database_and_creates_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    result = run(data, "doctor")
    assert result.exit_code == 0 and f"No database at {data / 'crm.db'}" in result.output
    assert list(data.iterdir()) == []


def _invite_link(data: Path, env: dict[str, str | None]) -> str:
    result = CliRunner().invoke(
        main, ["--data-dir", str(data), "invite", "ana@example.com"], env=env
    )
    assert result.exit_code == 0, result.output
    return result.output.splitlines()[1].strip()


def test_invite_links_use_the_running_servers_address(tmp_path: Path) -> None:
    import os

    from crm_lib import running_server
    from crm_lib.config import load_settings

    data = tmp_path / "data"
    assert run(data, "init").exit_code == 0
    running_server.record(load_settings(data_dir=data), "http://127.0.0.1:7777", pid=os.getpid())
    assert _invite_link(data, {"CRM_PUBLIC_URL": None}).startswith("http://127.0.0.1:7777/invite/")
    admin = CliRunner().invoke(
        main,
        ["--data-dir", str(data), "create-admin", "boss@example.com"],
        env={"CRM_PUBLIC_URL": None},
    )
    assert "http://127.0.0.1:7777/invite/" in admin.output
    explicit = _invite_link(data, {"CRM_PUBLIC_URL": "https://crm.example.com/"})
    assert explicit.startswith("https://crm.example.com/invite/")


def test_a_stopped_servers_address_is_ignored(tmp_path: Path) -> None:
    import subprocess
    import sys

    from crm_lib import running_server
    from crm_lib.config import load_settings

    data = tmp_path / "data"
    assert run(data, "init").exit_code == 0
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait()
    running_server.record(load_settings(data_dir=data), "http://127.0.0.1:7777", pid=finished.pid)
    assert _invite_link(data, {"CRM_PUBLIC_URL": None}).startswith("http://127.0.0.1:5006/invite/")
