"""Off-box copies end to end on real files: a folder in tmp_path and a real S3 server (moto over
HTTP on loopback). Copies are read back and checked, a changed remote copy is found, retention
deletes only what it recorded, a dead destination is recorded without failing the backup, a hung
one is abandoned, a restore starts from an off-box copy (on this machine and on a new one), the
`crm backup` commands, and names that could leave the folder or prefix are refused."""

from __future__ import annotations

import json
import stat
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

import crm_lib
from crm_lib import jobs, services
from crm_lib.backups import files, offbox
from crm_lib.backups.offbox import Deadline, FolderDestination, S3Destination
from crm_lib.cli import main
from crm_lib.clock import FixedClock
from crm_lib.config import load_settings
from crm_lib.context import Context
from crm_lib.errors import ConfigError, ExternalServiceError, ValidationError
from tests.backups.conftest import s3_client
from tests.conftest import make_investors

PREFIX = "crm/prod"


def configured(ctx: Context, **changes: object) -> Context:
    """The same database, with off-box settings."""
    return replace(ctx, settings=replace(ctx.settings, **changes))


def folder_and_s3(ctx: Context, tmp_path: Path, endpoint: str, bucket: str, **more: object):  # type: ignore[no-untyped-def]
    nas = tmp_path / "nas"
    nas.mkdir()
    return configured(
        ctx,
        offbox_dir=nas,
        offbox_s3_url=f"s3://{bucket}/{PREFIX}",
        offbox_s3_endpoint=endpoint,
        **more,
    ), nas


def names(ctx: Context) -> list[str]:
    return sorted(r["name"] for r in services.list_investors(ctx).rows)


def s3_keys(endpoint: str, bucket: str) -> list[str]:
    listed = s3_client(endpoint).list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listed.get("Contents", []))


# -- copying and checking -------------------------------------------------------------------------
def test_a_backup_is_copied_to_a_folder_and_to_s3_and_each_copy_is_read_back(
    ctx: Context, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    make_investors(ctx, ["Acme Capital", "Bloom Pension"])
    octx, nas = folder_and_s3(ctx, tmp_path, s3_endpoint, bucket)
    backup = services.create_backup(octx, "manual")
    name, sha = backup["file_name"], backup["sha256"]
    local = (ctx.settings.backup_dir / name).read_bytes()

    copies = {c["destination"]: c for c in services.list_offbox_copies(octx)}
    assert {k: (c["status"], c["detail"]) for k, c in copies.items()} == {
        "folder": ("ok", "ok"),
        "s3": ("ok", "ok"),
    }
    assert all(c["sha256"] == sha and c["copied_at"] and c["verified_at"] for c in copies.values())
    assert copies["folder"]["remote_key"] == str(nas / name)
    assert copies["s3"]["remote_key"] == f"{PREFIX}/{name}"
    host = s3_endpoint.removeprefix("http://")
    assert copies["s3"]["location"] == f"s3://{bucket}/{PREFIX} at {host}"

    assert (nas / name).read_bytes() == local
    assert stat.S_IMODE((nas / name).stat().st_mode) == 0o600  # the fund's data, on a share
    assert (nas / f"{name}.sha256").read_text() == f"{sha}  {name}\n"  # sha256sum -c format
    assert sorted(p.name for p in nas.iterdir()) == [name, f"{name}.sha256"]  # no leftovers
    stored = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=f"{PREFIX}/{name}")
    assert stored["Body"].read() == local
    assert stored["Metadata"] == {"sha256": sha}

    # a backup taken in the middle of a restore is not copied (the restore must not wait)
    services.create_backup(octx, "pre-restore")
    assert len(services.list_offbox_copies(octx)) == 2


def test_a_large_file_goes_up_in_parts_and_reads_back_whole(
    tmp_path: Path, s3_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(offbox.s3, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    monkeypatch.setattr(offbox.s3, "MULTIPART_CHUNK", 5 * 1024 * 1024)
    source = tmp_path / "big.db"
    source.write_bytes(bytes(range(256)) * (11 * 4096))  # 11 MiB: three parts
    sha = files.file_sha256(source)
    destination = S3Destination(f"s3://{bucket}/{PREFIX}", endpoint=s3_endpoint)
    offbox.copy(destination, source, "crm-big.db", sha, 60)
    head = s3_client(s3_endpoint).head_object(Bucket=bucket, Key=f"{PREFIX}/crm-big.db")
    assert head["ETag"].strip('"').endswith("-3")  # multipart: the ETag is no hash of the file
    assert head["Metadata"]["sha256"] == sha
    assert destination.read_sha256("crm-big.db", Deadline(60, "test")) == sha


def test_a_changed_remote_copy_is_found_by_reading_it_back_and_copied_again(
    ctx: Context, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    octx, nas = folder_and_s3(ctx, tmp_path, s3_endpoint, bucket)
    backup = services.create_backup(octx, "nightly")
    name = backup["file_name"]
    (nas / name).write_bytes(b"bit rot")
    s3_client(s3_endpoint).put_object(
        Bucket=bucket, Key=f"{PREFIX}/{name}", Body=b"tampered", Metadata={"sha256": "0" * 64}
    )

    again = services.copy_offbox(octx, backup["id"])
    assert [c["status"] for c in again] == ["ok", "ok"]
    history = services.list_offbox_copies(octx)
    stale = [c for c in history if c["status"] == "failed"]
    assert len(history) == 4 and len(stale) == 2
    assert all(c["detail"].startswith("read back later: has SHA-256 ") for c in stale)
    local = (ctx.settings.backup_dir / name).read_bytes()
    assert (nas / name).read_bytes() == local
    body = s3_client(s3_endpoint).get_object(Bucket=bucket, Key=f"{PREFIX}/{name}")["Body"]
    assert body.read() == local

    # copies that are intact are only read back, not copied again
    third = services.copy_offbox(octx, backup["id"])
    assert [c["id"] for c in third] == [c["id"] for c in again]
    assert len(services.list_offbox_copies(octx)) == 4


def test_a_copy_that_reads_back_wrong_is_removed_and_reported(ctx: Context, tmp_path: Path) -> None:
    class Rotting(FolderDestination):
        """A share that changes what it was given."""

        def put(self, source: Path, name: str, sha256: str, deadline: Deadline) -> None:
            super().put(source, name, sha256, deadline)
            (self.folder / name).write_bytes(b"not what was written")

    backup = services.create_backup(ctx, "manual")
    nas = tmp_path / "nas"
    nas.mkdir()
    path = ctx.settings.backup_dir / backup["file_name"]
    with pytest.raises(ExternalServiceError, match=r"read back has SHA-256 .*; it was removed"):
        offbox.copy(Rotting(nas), path, backup["file_name"], backup["sha256"], 60)
    assert list(nas.iterdir()) == []


# -- retention off the box ------------------------------------------------------------------------
def test_retention_deletes_the_copies_the_policy_drops_and_nothing_it_did_not_make(
    ctx: Context, clock: FixedClock, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    octx, nas = folder_and_s3(
        ctx,
        tmp_path,
        s3_endpoint,
        bucket,
        offbox_keep=(("daily", 2), ("weekly", 0), ("monthly", 0)),
    )
    taken = []
    for _ in range(4):
        taken.append(services.create_backup(octx, "nightly")["file_name"])
        clock.advance(days=1)
    # what retention must never touch: a file nobody recorded, an object beside the prefix,
    # one in a folder below it
    (nas / "crm-notes.db").write_bytes(b"someone else's")
    client = s3_client(s3_endpoint)
    for key in (f"{PREFIX}/foreign.db", "crm/other.db", f"{PREFIX}/old/{taken[0]}"):
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    assert services.offbox_policy(octx) == {"daily": 2, "weekly": 0, "monthly": 0}

    removed = services.apply_offbox_retention(octx)
    assert sorted((r["destination"], Path(r["remote_key"]).name) for r in removed) == sorted(
        (d, n) for d in ("folder", "s3") for n in taken[:2]
    )
    assert all(r["removed"] and r["deleted_at"] for r in removed)
    assert sorted(p.name for p in nas.glob("*.db")) == sorted([*taken[2:], "crm-notes.db"])
    assert sorted(p.name for p in nas.glob("*.sha256")) == sorted(f"{n}.sha256" for n in taken[2:])
    untouched = [f"{PREFIX}/foreign.db", "crm/other.db", f"{PREFIX}/old/{taken[0]}"]
    assert s3_keys(s3_endpoint, bucket) == sorted(
        [*(f"{PREFIX}/{n}" for n in taken[2:]), *untouched]
    )
    live = services.list_offbox_copies(octx)
    assert len(live) == 4  # the removed copies' rows are archived, not deleted
    archived = ctx.db.execute("SELECT count(*) FROM offbox_copies WHERE deleted_at IS NOT NULL")
    assert archived.fetchone()[0] == 4
    assert len(services.list_backups(octx)) == 4  # local backups follow their own policy
    assert services.apply_offbox_retention(octx) == []

    # the nightly job's parameter overrides for one run; the newest copy is always kept
    last = services.apply_offbox_retention(octx, {"daily": 0})
    assert {Path(r["remote_key"]).name for r in last} == {taken[2]}
    assert sorted(p.name for p in nas.glob("crm-2*.db")) == [taken[3]]


def test_retention_never_deletes_outside_the_destination(
    ctx: Context, clock: FixedClock, tmp_path: Path
) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    octx = configured(ctx, offbox_dir=nas)
    first = services.create_backup(octx, "nightly")
    clock.advance(days=1)
    services.create_backup(octx, "nightly")
    outside = tmp_path / first["file_name"]
    outside.write_bytes(b"not the share's")
    # a catalog row that (somehow) points outside the folder
    ctx.db.execute(
        "UPDATE offbox_copies SET remote_key = ? WHERE backup_id = ?", [str(outside), first["id"]]
    )
    ctx.db.conn.commit()
    removed = services.apply_offbox_retention(octx, {"daily": 1, "weekly": 0, "monthly": 0})
    assert [(r["removed"], r["error"]) for r in removed] == [(False, f"{outside} is not at {nas}")]
    assert outside.exists() and (nas / first["file_name"]).exists()


# -- failures and time limits ---------------------------------------------------------------------
def test_a_dead_or_unmounted_destination_is_recorded_and_the_local_backup_stands(
    ctx: Context, tmp_path: Path, dead_endpoint: str, aws_env: None
) -> None:
    octx = configured(
        ctx,
        offbox_dir=tmp_path / "unmounted",
        offbox_s3_url="s3://crm-backups/crm",
        offbox_s3_endpoint=dead_endpoint,
    )
    backup = services.create_backup(octx, "manual")
    assert backup["verify_status"] == "ok"
    assert (ctx.settings.backup_dir / backup["file_name"]).exists()
    assert [b["id"] for b in services.list_backups(octx)] == [backup["id"]]

    copies = {c["destination"]: c for c in services.list_offbox_copies(octx)}
    assert {k: c["status"] for k, c in copies.items()} == {"folder": "failed", "s3": "failed"}
    assert copies["folder"]["detail"] == (
        f"off-box folder {tmp_path / 'unmounted'}: does not exist (is the share mounted?)"
    )
    assert copies["s3"]["detail"].startswith("off-box s3://crm-backups/crm at 127.0.0.1:")
    assert "cannot connect" in copies["s3"]["detail"]
    assert all(c["copied_at"] is None and c["verified_at"] is None for c in copies.values())
    assert not (tmp_path / "unmounted").exists()  # an unmounted share is never created
    recorded = json.dumps(services.list_offbox_copies(octx))
    assert "offbox-test-secret-value" not in recorded and "offbox-test-key-id" not in recorded

    status = services.offbox_status(octx)
    assert not status["ok"]
    assert [d["last_attempt_failed"] for d in status["destinations"]] == [True, True]
    assert any(p.startswith("The last copy to s3://crm-backups/crm") for p in status["problems"])


def test_a_remote_that_hangs_is_abandoned_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(offbox.common, "GRACE_S", 0.05)
    stuck = threading.Event()
    try:  # a call stuck in the kernel (a hung NFS mount) never returns by itself
        with pytest.raises(ExternalServiceError, match=r"no answer within 0 s"):
            offbox.bounded(lambda _d: stuck.wait(60), 0.05, "off-box folder /mnt/nas")
    finally:
        stuck.set()
    # loops check their deadline between chunks: a copy past it stops and leaves nothing
    source = tmp_path / "crm.db"
    source.write_bytes(b"x" * 1024)
    nas = tmp_path / "nas"
    nas.mkdir()
    late = Deadline(60, "off-box folder")
    late.cancel()  # what bounded() does to the deadline of work it abandons
    with pytest.raises(ExternalServiceError, match="not finished within 60 s"):
        FolderDestination(nas).put(source, "crm-x.db", "0" * 64, late)
    assert list(nas.iterdir()) == []


# -- restoring from an off-box copy ---------------------------------------------------------------
def test_a_backup_removed_here_comes_back_from_the_folder_and_restores(
    ctx: Context, tmp_path: Path
) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    octx = configured(ctx, offbox_dir=nas)
    make_investors(ctx, ["Acme Capital"])
    first = services.create_backup(octx, "manual")
    make_investors(ctx, ["Made Later"])
    second = services.create_backup(octx, "manual")
    removed = services.apply_retention(octx, {"daily": 0, "weekly": 0, "monthly": 0})
    assert [r["id"] for r in removed] == [first["id"]]
    assert not (ctx.settings.backup_dir / first["file_name"]).exists()

    fetched = services.fetch_offbox(octx, "folder", first["file_name"])
    assert (fetched["id"], fetched["deleted_at"], fetched["fetched"]) == (first["id"], None, True)
    assert fetched["verify_status"] == "ok" and fetched["source"] == str(nas)
    assert services.verify_backup(octx, first["id"])["verify_status"] == "ok"
    services.restore_backup(octx, first["id"])
    assert names(ctx) == ["Acme Capital"]
    # the restore kept the catalog of off-box copies (both backups' copies, newer one included)
    copied = {c["backup_id"] for c in services.list_offbox_copies(octx) if c["status"] == "ok"}
    assert copied == {first["id"], second["id"]}


def test_a_new_machine_restores_the_latest_copy_from_s3(
    ctx: Context, clock: FixedClock, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    octx = configured(ctx, offbox_s3_url=f"s3://{bucket}/{PREFIX}", offbox_s3_endpoint=s3_endpoint)
    make_investors(ctx, ["Acme Capital", "Bloom Pension"])
    services.create_backup(octx, "nightly")
    clock.advance(hours=20)
    make_investors(ctx, ["Cedar Trust"])
    newest = services.create_backup(octx, "nightly")

    # the machine is lost: a new one has an empty database and the same bucket
    fresh = crm_lib.open_crm(
        settings=replace(octx.settings, data_dir=tmp_path / "new-machine"),
        clock=clock,
        actor="alice@fund.example",
    )
    try:
        listed = services.offbox_listing(fresh, "s3")
        assert listed[0]["name"] == newest["file_name"]
        assert [r["kind"] for r in listed] == ["nightly", "nightly"]
        row = services.fetch_offbox(fresh, "s3", latest=True)
        assert row["fetched"] and row["file_name"] == newest["file_name"]
        assert (row["kind"], row["started_at"]) == ("nightly", newest["started_at"])
        assert row["sha256"] == newest["sha256"] and row["verify_status"] == "ok"
        services.restore_backup(fresh, row["id"])
        assert names(fresh) == ["Acme Capital", "Bloom Pension", "Cedar Trust"]
        again = services.fetch_offbox(fresh, "s3", newest["file_name"])
        assert again["fetched"] is False  # already on disk and intact: nothing downloaded
    finally:
        fresh.close()


def test_a_damaged_offbox_copy_is_refused_and_nothing_is_kept(
    ctx: Context, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    octx = configured(ctx, offbox_s3_url=f"s3://{bucket}/{PREFIX}", offbox_s3_endpoint=s3_endpoint)
    backup = services.create_backup(octx, "nightly")
    name = backup["file_name"]
    damaged = (ctx.settings.backup_dir / name).read_bytes()[:-4096] + b"\0" * 4096
    s3_client(s3_endpoint).put_object(
        Bucket=bucket, Key=f"{PREFIX}/{name}", Body=damaged, Metadata={"sha256": backup["sha256"]}
    )
    (ctx.settings.backup_dir / name).unlink()
    with pytest.raises(ValidationError, match=f"The copy of {name} at .* is damaged"):
        services.fetch_offbox(octx, "s3", name)
    assert list(ctx.settings.backup_dir.iterdir()) == []  # no partial download left
    assert [b["id"] for b in services.list_backups(octx)] == [backup["id"]]

    # a new machine knows only the hash recorded beside the copy: refused the same way
    fresh = crm_lib.open_crm(
        settings=replace(octx.settings, data_dir=tmp_path / "new"), actor="alice@fund.example"
    )
    try:
        with pytest.raises(ValidationError, match="is damaged"):
            services.fetch_offbox(fresh, "s3", latest=True)
        assert services.list_backups(fresh) == []
    finally:
        fresh.close()


# -- names, keys and settings ---------------------------------------------------------------------
HOSTILE_NAMES = ["../crm.db", "a/b.db", ".hidden.db", "/etc/x.db", "crm.db/..", "x.db\n", "..", "x"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_name_that_is_not_one_plain_file_name_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is not a backup file name"):
        offbox.check_name(name)
    with pytest.raises(ValidationError):
        FolderDestination(tmp_path).key(name)
    with pytest.raises(ValidationError):
        S3Destination("s3://crm-backups/crm").key(name)


def test_keys_and_paths_stay_inside_the_prefix_and_the_folder(
    ctx: Context, tmp_path: Path, s3_endpoint: str, bucket: str
) -> None:
    octx, nas = folder_and_s3(ctx, tmp_path, s3_endpoint, bucket)
    s3 = S3Destination(f"s3://{bucket}/{PREFIX}", endpoint=s3_endpoint)
    assert s3.key("crm-x.db") == f"{PREFIX}/crm-x.db"
    client = s3_client(s3_endpoint)
    for key in (f"{PREFIX}/crm-in.db", f"{PREFIX}/sub/crm-below.db", "crm/crm-beside.db"):
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    client.put_object(Bucket=bucket, Key="crm/prodx/crm-lookalike.db", Body=b"x")
    assert [o.key for o in s3.list(Deadline(60, "test"))] == [f"{PREFIX}/crm-in.db"]

    secret = tmp_path / "secret.db"
    secret.write_bytes(b"outside the share")
    (nas / "crm-link.db").symlink_to(secret)
    assert FolderDestination(nas).list(Deadline(60, "test")) == []  # links are not backups
    with pytest.raises(ExternalServiceError):  # and are never followed
        FolderDestination(nas).read_sha256("crm-link.db", Deadline(60, "test"))

    for hostile in ("../secret.db", f"../{PREFIX}/crm-in.db", "sub/crm-below.db"):
        with pytest.raises(ValidationError):
            services.fetch_offbox(octx, "s3", hostile)
    assert list(ctx.settings.backup_dir.glob("*")) == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CRM_OFFBOX_S3_URL": "s3://AKIAEXAMPLE:top-secret@bucket/crm"}, "holds credentials"),
        ({"CRM_OFFBOX_S3_URL": "s3://crm-backups/crm/../etc"}, "not a plain folder name"),
        ({"CRM_OFFBOX_S3_URL": "https://crm-backups/crm"}, "is not like s3://bucket/prefix"),
        ({"CRM_OFFBOX_S3_URL": "s3://B/crm"}, "names no valid bucket"),
        (
            {"CRM_OFFBOX_S3_ENDPOINT": "https://key:top-secret@s3.example.com"},
            "no credentials|must not hold credentials",
        ),
        ({"CRM_OFFBOX_KEEP": "yearly=5"}, "is not like daily=30"),
        ({"CRM_OFFBOX_KEEP": "daily=9999"}, "daily must be at most 366"),
        ({"CRM_OFFBOX_TIMEOUT_S": "0"}, "CRM_OFFBOX_TIMEOUT_S must be a whole number above 0"),
        ({"CRM_OFFBOX_DIR": "{data}/backups"}, "must be apart from the backup folder"),
    ],
)
def test_offbox_settings_are_checked_and_never_echo_a_secret(
    env: dict[str, str], message: str, tmp_path: Path
) -> None:
    values = {k: v.format(data=tmp_path / "data") for k, v in env.items()}
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings({"CRM_DATA_DIR": str(tmp_path / "data"), **values})
    assert "top-secret" not in caught.value.message


def test_offbox_settings_are_normalised() -> None:
    settings = load_settings(
        {
            "CRM_OFFBOX_S3_URL": "s3://crm-backups//venture/crm/",
            "CRM_OFFBOX_S3_ENDPOINT": "https://s3.eu-central-003.backblazeb2.com/",
            "CRM_OFFBOX_S3_REGION": "eu-central-003",
            "CRM_OFFBOX_KEEP": " daily=30 , monthly=24 ",
        }
    )
    assert settings.offbox_s3_url == "s3://crm-backups/venture/crm"
    assert settings.offbox_s3_endpoint == "https://s3.eu-central-003.backblazeb2.com"
    assert settings.offbox_keep == (("daily", 30), ("monthly", 24))
    s3 = offbox.destinations(settings)[0]
    assert (s3.kind, s3.location) == (
        "s3",
        "s3://crm-backups/venture/crm at s3.eu-central-003.backblazeb2.com",
    )
    assert offbox.destinations(load_settings({})) == []


# -- the nightly job and the command line ---------------------------------------------------------
def test_the_nightly_job_copies_off_the_box_and_fails_only_after_every_local_step(
    ctx: Context, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dead_endpoint: str, aws_env: None
) -> None:
    nas = tmp_path / "nas"
    nas.mkdir()
    monkeypatch.setenv("CRM_OFFBOX_DIR", str(nas))
    monkeypatch.setenv("CRM_OFFBOX_S3_URL", "s3://crm-backups/crm")
    monkeypatch.setenv("CRM_OFFBOX_S3_ENDPOINT", dead_endpoint)
    make_investors(ctx, ["Acme Capital"])
    run = jobs.run_job(ctx, "nightly_backup")
    assert run["status"] == "failed"
    assert "Off-box copy failed (the local backup is fine): s3://crm-backups/crm" in run["error"]
    [backup] = services.list_backups(ctx)
    assert backup["kind"] == "nightly" and backup["verify_status"] == "ok"
    assert (nas / backup["file_name"]).read_bytes() == (
        ctx.settings.backup_dir / backup["file_name"]
    ).read_bytes()
    html = (ctx.settings.jobs_dir / "runs" / run["html_file"]).read_text()
    assert "off-box folder" in html and "off-box retention" in html and "restore test" in html


def test_crm_backup_status_offbox_list_fetch_and_restore(
    tmp_path: Path, s3_endpoint: str, bucket: str, dead_endpoint: str
) -> None:
    data = tmp_path / "data"
    env = {
        "CRM_DATA_DIR": str(data),
        "CRM_OFFBOX_S3_URL": f"s3://{bucket}/crm",
        "CRM_OFFBOX_S3_ENDPOINT": s3_endpoint,
    }

    def run(*args: str, **changes: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(main, list(args), env={**env, **changes})

    assert run("init").exit_code == 0
    empty = run("backup", "status")
    assert empty.exit_code == 1, empty.output
    assert "Local:   no backups yet" in empty.output
    assert f"PROBLEM  No off-box copy at s3://{bucket}/crm at " in empty.output

    assert run("backup").exit_code == 0
    status = run("backup", "status")
    assert status.exit_code == 0, status.output
    assert f"Off-box: s3     s3://{bucket}/crm at 127.0.0.1:" in status.output
    assert "newest copy backup 1 (" in status.output and "1 kept" in status.output
    assert status.output.rstrip().endswith("All well.")
    as_json = json.loads(run("backup", "status", "--json").output)
    assert as_json["ok"] and as_json["destinations"][0]["last_copy"]["backup_id"] == 1

    again = run("backup", "offbox", "1")
    assert again.exit_code == 0 and again.output.startswith("Backup 1 → s3 crm/crm-")
    listed = run("backup", "list", "--from", "s3")
    assert listed.exit_code == 0 and "manual" in listed.output and "crm-" in listed.output

    # the same bucket through a dead address: the failure is named, and status exits 1
    dead = run("backup", "offbox", CRM_OFFBOX_S3_ENDPOINT=dead_endpoint)
    assert dead.exit_code == 1 and ": failed (off-box s3://" in dead.output
    failing = run("backup", "status", CRM_OFFBOX_S3_ENDPOINT=dead_endpoint)
    assert failing.exit_code == 1 and "last failure" in failing.output
    assert "PROBLEM  The last copy to" in failing.output

    for file in (data / "backups").glob("*.db"):
        file.unlink()
    fetched = run("backup", "fetch", "--latest", "--from", "s3")
    assert fetched.exit_code == 0, fetched.output
    assert (
        "backup 1 (manual" in fetched.output and "Restore it with: crm restore 1" in fetched.output
    )
    restored = run("restore", "1", "--yes")
    assert restored.exit_code == 0 and "Restored backup 1" in restored.output

    usage = run("backup", "fetch", "--from", "s3")
    assert usage.exit_code == 2 and "Give a NAME" in usage.output
    missing = run("backup", "fetch", "--latest", "--from", "folder")
    assert missing.exit_code == 1
    assert "No off-box folder is configured: set CRM_OFFBOX_DIR" in missing.output
    nas = tmp_path / "nas"
    nas.mkdir()
    same_disk = run("backup", "status", CRM_OFFBOX_DIR=str(nas))
    assert same_disk.exit_code == 1 and "same disk as the data" in same_disk.output
