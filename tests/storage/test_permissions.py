"""The fund's data is readable by the account that runs the CRM alone, whatever the umask of
the shell that created it: a new data folder 0700, the database (and its WAL) 0600, backups
in a 0700 folder as 0600 files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import profiles

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.database import init_database


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_folder_database_and_backup_are_private(
    tmp_path: Path, permissive_umask: None
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        backups_folder=tmp_path / "elsewhere" / "backups",
        password_hashing=profiles.CHEAPEST,
    )
    init_database(settings)
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        services.create_investor(ctx, {"name": "Anchor Pension Fund"})
        backup = services.create_backup(ctx, "manual")
    finally:
        ctx.close()
    assert mode(settings.data_dir) == 0o700
    assert mode(settings.database_path) == 0o600
    wal = settings.database_path.with_name("crm.db-wal")
    assert not wal.exists() or mode(wal) == 0o600
    assert mode(settings.backup_dir) == 0o700
    assert mode(settings.backup_dir / backup["file_name"]) == 0o600


def test_an_existing_folder_keeps_the_mode_its_operator_chose(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir(mode=0o750)
    folder.chmod(0o750)
    init_database(Settings(data_dir=folder, password_hashing=profiles.CHEAPEST))
    assert mode(folder) == 0o750
