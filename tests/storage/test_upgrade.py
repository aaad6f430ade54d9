"""``crm upgrade`` on real SQLite files: every released schema version (tests/data/schemas)
upgrades to the latest with its data intact and the backup listed; a failing migration, or one
that loses rows, is rolled back by restoring the backup, with a report naming the problem; a
database from a newer release is refused untouched; the command's output and exit codes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from argon2 import profiles
from click.testing import CliRunner

import crm_lib
from crm_lib import services
from crm_lib.cli import main
from crm_lib.config import Settings
from crm_lib.errors import SchemaTooNewError
from crm_lib.storage.migrations import Migration, available_migrations, latest_version
from crm_lib.upgrade import upgrade

SCHEMAS = Path(__file__).resolve().parents[1] / "data" / "schemas"
FIXTURES = sorted(SCHEMAS.glob("v*.sql"))


def _load(fixture: Path, tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", password_hashing=profiles.CHEAPEST)
    settings.data_dir.mkdir(parents=True)
    conn = sqlite3.connect(settings.database_path)
    conn.executescript(fixture.read_text(encoding="utf-8"))
    conn.close()
    return settings


def _version(settings: Settings) -> int:
    conn = sqlite3.connect(settings.database_path)
    try:
        return conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    finally:
        conn.close()


def test_there_is_a_fixture_for_every_released_version_before_the_latest() -> None:
    assert [f.name for f in FIXTURES] == [f"v{n:02d}.sql" for n in range(1, latest_version())]


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_every_released_schema_upgrades_with_its_data(fixture: Path, tmp_path: Path) -> None:
    settings = _load(fixture, tmp_path)
    start = int(fixture.stem[1:])
    report = upgrade(settings)
    assert report.outcome == "upgraded", report.problems
    assert (report.from_version, report.to_version) == (start, latest_version())
    assert report.applied == list(range(start + 1, latest_version() + 1))
    assert _version(settings) == latest_version()
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        names = [r["name"] for r in services.list_investors(ctx).rows]
        assert names == ["Acme Capital", "Bloom Pension"]  # the archived one stays archived
        acme = services.list_investors(ctx).rows[0]
        assert acme["total_invested"] == 2_500_000
        assert [
            b["file_name"].startswith("pre-migration-") for b in services.list_backups(ctx)
        ] == [True]
    finally:
        ctx.close()
    assert upgrade(settings).outcome == "current"


def _at(version: int, tmp_path: Path) -> Settings:
    return _load(SCHEMAS / f"v{version:02d}.sql", tmp_path)


def test_a_failing_migration_restores_the_backup_and_says_why(tmp_path: Path) -> None:
    settings = _at(latest_version() - 1, tmp_path)
    broken = Migration(latest_version() + 1, "broken", "CREATE TABLE x (id INTEGER);\nSELECT nope;")
    report = upgrade(settings, migrations=[*available_migrations(), broken])
    assert report.outcome == "restored"
    assert "failed and was rolled back" in report.problems[0]
    assert _version(settings) == latest_version() - 1  # the backup's version, all of it
    conn = sqlite3.connect(settings.database_path)
    names = [r[0] for r in conn.execute("SELECT name FROM fundraising_investors ORDER BY id")]
    conn.close()
    assert names[:2] == ["Acme Capital", "Bloom Pension"]


def test_a_migration_that_loses_rows_is_caught_and_undone(tmp_path: Path) -> None:
    settings = _at(latest_version() - 1, tmp_path)
    lossy = Migration(
        latest_version() + 1, "lossy", "DELETE FROM fundraising_contacts WHERE id > 0;"
    )
    report = upgrade(settings, migrations=[*available_migrations(), lossy])
    assert report.outcome == "restored"
    assert any(
        p.startswith("live rows lost: fundraising_contacts (1 -> 0)") for p in report.problems
    )
    conn = sqlite3.connect(settings.database_path)
    assert conn.execute("SELECT count(*) FROM fundraising_contacts").fetchone()[0] == 1
    conn.close()


def test_a_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    settings = _at(latest_version() - 1, tmp_path)
    future = Migration(latest_version() + 1, "future", "CREATE TABLE future (id INTEGER);")
    assert upgrade(settings, migrations=[*available_migrations(), future]).outcome == "upgraded"
    backups = sorted(settings.backup_dir.iterdir())
    with pytest.raises(SchemaTooNewError, match="newer release"):
        upgrade(settings)
    assert _version(settings) == latest_version() + 1  # not migrated, nor restored
    assert sorted(settings.backup_dir.iterdir()) == backups  # nothing even copied


def test_the_command_reports_and_exits_nonzero_only_when_it_restored(tmp_path: Path) -> None:
    settings = _at(1, tmp_path)
    runner = CliRunner()
    done = runner.invoke(main, ["--data-dir", str(settings.data_dir), "upgrade"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"Upgraded schema 1 -> {latest_version()} (backup first:")
    assert "  ok: integrity_check: ok" in done.output
    again = runner.invoke(main, ["--data-dir", str(settings.data_dir), "upgrade"])
    assert again.output.startswith(f"Already at schema version {latest_version()}")
    missing = runner.invoke(main, ["--data-dir", str(tmp_path / "nowhere"), "upgrade"])
    assert missing.exit_code == 1 and "nothing to upgrade" in missing.output
