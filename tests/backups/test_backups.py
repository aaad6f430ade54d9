"""Backups end to end on real files: consistent copies under load, crash safety, verify, retention,
restore preview, restore round trip, and refusing a tampered backup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import crm_lib
from crm_lib import services
from crm_lib.backups import files
from crm_lib.backups.retention import Candidate, Policy, to_keep
from crm_lib.context import Context
from crm_lib.errors import NotFound, PermissionDenied, ValidationError
from crm_lib.storage.connect import dbapi
from tests.conftest import make_investors

ROOT = Path(__file__).resolve().parents[2]
WRITER = textwrap.dedent(
    """
    import sys
    import crm_lib
    from crm_lib import services
    ctx = crm_lib.open_crm(sys.argv[1], actor="system:writer")
    n = 0
    while True:
        n += 1
        row = services.create_investor(ctx, {"name": f"Writer {n:06d}"})
        print(row["id"], flush=True)
    """
)


def grid_rows(ctx: Context) -> list[tuple]:
    """The records a restore must bring back exactly (not the catalog, audit or state)."""
    rows: list[tuple] = []
    for table in ("fundraising_investors", "fundraising_contacts", "fundraising_commitments"):
        rows += [(table, *r) for r in ctx.db.execute(f"SELECT * FROM {table} ORDER BY id")]
    return rows


def start_writer(data_dir: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def read_ids(writer: subprocess.Popen[str], count: int) -> list[int]:
    assert writer.stdout is not None
    return [int(writer.stdout.readline()) for _ in range(count)]


def test_a_backup_taken_while_another_process_writes_is_consistent_and_writes_go_on(
    ctx: Context,
) -> None:
    writer = start_writer(ctx.settings.data_dir)
    try:
        before = read_ids(writer, 50)
        row = services.create_backup(ctx)
        after = read_ids(writer, 50)
    finally:
        writer.kill()
        writer.wait()
    assert row["integrity"] == "ok" and row["verify_status"] == "ok"
    assert after[-1] > before[-1]  # the writer never stopped
    copy = files.read_only(ctx.settings.backup_dir / row["file_name"])
    try:
        ids = [r[0] for r in copy.execute("SELECT id FROM fundraising_investors ORDER BY id")]
        audited = copy.execute(
            "SELECT count(*) FROM audit_log WHERE entity = 'fundraising_investors'"
        ).fetchone()[0]
    finally:
        copy.close()
    assert ids == list(range(1, len(ids) + 1))  # a prefix of the writes: one moment in time
    assert len(ids) >= len(before) and audited == len(ids)  # every row with its audit row


def test_killing_a_writer_mid_flight_loses_no_reported_commit(ctx: Context) -> None:
    writer = start_writer(ctx.settings.data_dir)
    reported = read_ids(writer, 200)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    conn = dbapi.connect(str(ctx.settings.database_path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r[0] for r in conn.execute("SELECT id FROM fundraising_investors")}
    finally:
        conn.close()
    assert set(reported) <= stored


def test_restore_brings_back_exactly_what_was_backed_up(ctx: Context, fund: dict) -> None:
    acme, beta = make_investors(ctx, ["Acme", "Beta"])
    services.add_person(ctx, acme["id"], {"full_name": "Ann Lee", "email": "ann@acme.example"})
    services.set_commitment(ctx, acme["id"], fund["id"], 250_000)
    original = grid_rows(ctx)
    backup = services.create_backup(ctx)
    services.update_investor(
        ctx, acme["id"], {"status": "Passed"}, expected_version=acme["version"] + 1
    )
    services.archive_investor(ctx, beta["id"], expected_version=beta["version"])
    make_investors(ctx, ["Gamma"])
    state_before = services.grid_state(ctx)["version"]
    preview = services.restore_preview(ctx, backup["id"])
    assert preview["restorable"]
    assert preview["investors_back"] == {"count": 1, "examples": ["Beta"]}
    assert preview["investors_gone"] == {"count": 1, "examples": ["Gamma"]}
    assert preview["investors_changed"]["count"] == 1
    counts = {t["table"]: (t["live"], t["backup"]) for t in preview["tables"]}
    assert counts["fundraising_investors"] == (2, 2)
    done = services.restore_backup(ctx, backup["id"])
    assert grid_rows(ctx) == original
    assert services.grid_state(ctx)["version"] > state_before  # open pages see a change
    kinds = [b["kind"] for b in services.list_backups(ctx)]
    assert kinds == ["pre-restore", "manual"]  # the catalog survived going back in time
    restored = ctx.db.execute(
        "SELECT actor, new_value FROM audit_log WHERE entity = 'backups' AND action = 'restore'"
    ).fetchall()
    assert (
        restored[0][0] == "alice@fund.example"
        and f'"pre_restore": {done["pre_restore_backup"]}' in restored[0][1]
    )
    services.restore_backup(ctx, done["pre_restore_backup"])  # and the restore can be undone
    assert {r["name"] for r in services.list_investors(ctx).rows} == {"Acme", "Gamma"}


def test_a_flipped_byte_fails_verification_and_the_backup_is_never_restored(ctx: Context) -> None:
    make_investors(ctx, ["Acme"])
    backup = services.create_backup(ctx)
    path = ctx.settings.backup_dir / backup["file_name"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    checked = services.verify_backup(ctx, backup["id"])
    assert checked["verify_status"] == "failed" and "SHA-256" in checked["verify_detail"]
    assert not services.restore_preview(ctx, backup["id"])["restorable"]
    with pytest.raises(ValidationError, match="failed verification"):
        services.restore_backup(ctx, backup["id"])
    path.write_bytes(bytes(data[: len(data) // 3]))  # truncated
    assert services.verify_backup(ctx, backup["id"])["verify_status"] == "failed"
    path.unlink()
    assert "missing" in services.verify_backup(ctx, backup["id"])["verify_detail"]


def test_restore_test_checks_the_newest_verified_backup_against_live_counts(ctx: Context) -> None:
    with pytest.raises(NotFound):
        services.restore_test(ctx)
    make_investors(ctx, ["Acme", "Beta"])
    services.create_backup(ctx)
    make_investors(ctx, ["Gamma"])
    result = services.restore_test(ctx)
    assert result["ok"] and result["integrity"] == "ok"
    investors = next(t for t in result["tables"] if t["table"] == "fundraising_investors")
    assert (investors["backup"], investors["live"]) == (2, 3)
    assert not list(ctx.settings.data_dir.glob("restore-test-*"))


def test_an_older_backup_is_migrated_forward_when_restored(ctx: Context) -> None:
    from crm_lib.storage.connect import connect
    from crm_lib.storage.migrations import available_migrations, migrate

    old = ctx.settings.backup_dir / "crm-old-manual.db"
    old.parent.mkdir(parents=True, exist_ok=True)
    db = connect(old)
    migrate(db, ctx.clock, migrations=[m for m in available_migrations() if m.version <= 5])
    db.execute("PRAGMA journal_mode = DELETE")
    db.conn.close()
    with crm_lib.storage.writes.write(ctx) as tx:  # register it as a backup taken long ago
        tx.insert(
            "backups",
            {
                "kind": "manual",
                "file_name": old.name,
                "size_bytes": old.stat().st_size,
                "sha256": files.file_sha256(old),
                "integrity": "ok",
                "schema_version": 5,
                "started_at": "2026-01-01T00:00:00.000000+00:00",
                "duration_ms": 1,
            },
        )
    backup_id = services.list_backups(ctx)[0]["id"]
    services.restore_backup(ctx, backup_id)
    version = ctx.db.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    assert version == max(m.version for m in available_migrations())
    assert services.list_imports(ctx) == []  # tables added after schema 5 exist again


def test_only_admins_may_back_up_or_restore(ctx: Context) -> None:
    member = ctx.as_user({"id": 1, "email": "bob@fund.example", "role": "member"})
    with pytest.raises(PermissionDenied):
        services.create_backup(member)
    admin = ctx.as_user({"id": 1, "email": "alice@fund.example", "role": "admin"})
    backup = services.create_backup(admin)
    with pytest.raises(PermissionDenied, match="restore a backup"):
        services.restore_backup(member, backup["id"])


def test_policy_defaults_changes_and_refuses_nonsense(ctx: Context) -> None:
    assert services.backup_policy(ctx) == {"daily": 14, "weekly": 8, "monthly": 12, "version": 0}
    changed = services.set_backup_policy(ctx, {"daily": 7}, expected_version=0)
    assert changed == {"daily": 7, "weekly": 8, "monthly": 12, "version": 1}
    with pytest.raises(ValidationError, match="daily must be a whole number from 0 to 366"):
        services.set_backup_policy(ctx, {"daily": -1}, expected_version=1)
    with pytest.raises(ValidationError, match="Unknown retention setting 'hourly'"):
        services.set_backup_policy(ctx, {"hourly": 3}, expected_version=1)


def test_retention_keeps_daily_weekly_monthly_and_the_newest_good_backup() -> None:
    start = datetime(2026, 1, 1, 2, tzinfo=UTC)
    nightly = [Candidate(i, start + timedelta(days=i), True) for i in range(120)]
    kept = to_keep(nightly, Policy(daily=3, weekly=2, monthly=2))
    assert kept == {119, 118, 117, 115, 89}  # 3 days; the week before; the month before
    failed_newest = [*nightly[:5], Candidate(200, start + timedelta(days=10), False)]
    assert to_keep(failed_newest, Policy(daily=0, weekly=0, monthly=0)) == {4}


def test_apply_retention_removes_files_and_archives_rows(ctx: Context) -> None:
    first, second, third = (services.create_backup(ctx) for _ in range(3))
    services.set_backup_policy(ctx, {"daily": 1, "weekly": 0, "monthly": 0}, expected_version=0)
    removed = services.apply_retention(ctx)
    assert [r["id"] for r in removed] == [second["id"], first["id"]]
    assert [b["id"] for b in services.list_backups(ctx)] == [third["id"]]
    assert not (ctx.settings.backup_dir / first["file_name"]).exists()
    assert (ctx.settings.backup_dir / third["file_name"]).exists()


def test_the_copy_taken_before_a_migration_joins_the_catalog(tmp_path: Path) -> None:
    from crm_lib.config import Settings
    from crm_lib.database import init_database
    from crm_lib.storage.connect import connect
    from crm_lib.storage.migrations import available_migrations, migrate

    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir(parents=True)
    db = connect(settings.database_path)
    migrate(
        db,
        crm_lib.clock.SystemClock(),
        migrations=[m for m in available_migrations() if m.version <= 6],
    )
    db.execute(
        "INSERT INTO app_settings (key, value, created_at, created_by, updated_at, updated_by)"
        " VALUES ('x', '1', 'now', 'me', 'now', 'me')"
    )  # holds data: migrating copies it
    db.conn.close()
    later = [m.version for m in available_migrations() if m.version > 6]
    assert init_database(settings) == later
    ctx = crm_lib.open_crm(settings=settings)
    try:
        listed = services.list_backups(ctx)
        assert [(b["kind"], b["schema_version"], b["verify_status"]) for b in listed] == [
            ("pre-migration", 6, "ok")
        ]
        assert services.verify_backup(ctx, listed[0]["id"])["verify_status"] == "ok"
    finally:
        ctx.close()
