"""What an operator's shell does to the live database while the server runs: backups with the
``sqlite3`` command line, readers in other processes, a kill -9. Every write the API
acknowledged is still there afterwards, and after a restart, and the file passes
``integrity_check``.

The server runs with its scheduled jobs on, as in production: the scheduler thread opens the
database again while request connections are open, which is where a plain file read of the
database once dropped the server's SQLite locks (tests/locks.py explains the mechanism).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from crm_lib.storage.connect import dbapi
from tests.api.conftest import SECRET_KEY, seed_accounts
from tests.apps.server import Served, free_port, serving
from tests.locks import posix_locks

WRITES = 250
READER = """
import sqlite3, sys, time
path, stop = sys.argv[1], sys.argv[2]
import os
while not os.path.exists(stop):
    conn = sqlite3.connect(path, timeout=5)
    conn.execute("SELECT count(*) FROM fundraising_investors").fetchone()
    conn.close()
    time.sleep(0.02)
"""

pytestmark = pytest.mark.slow


@contextmanager
def server(data_dir: Path) -> Iterator[Served]:
    port = free_port()
    env = {"CRM_SECRET_KEY": SECRET_KEY, "CRM_JOBS": "on", "CRM_WRITE_RATE_PER_MINUTE": "100000"}
    with serving(
        [sys.executable, "-m", "apps.serve", "--port", str(port)], data_dir, port, extra_env=env
    ) as served:
        yield served


def scheduler_has_started(data_dir: Path, timeout: float = 60) -> None:
    """The start-up catch-up of the nightly backup has begun: the scheduler thread has opened
    its own connection (in another thread from the request connections)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = dbapi.connect(str(data_dir / "crm.db"), timeout=5)
        try:
            if conn.execute("SELECT count(*) FROM job_runs").fetchone()[0]:
                return
        finally:
            conn.close()
        time.sleep(0.2)
    raise AssertionError("the scheduler never started the nightly backup")


@contextmanager
def outside_processes(data_dir: Path, work: Path) -> Iterator[None]:
    """Three ``sqlite3 crm.db ".backup"`` loops (what an operator may run) and a Python reader
    loop, each a process of its own opening and closing the live file, until the block ends.
    Each pauses a moment between runs: hundreds of runs still overlap the writes, and the loops
    leave the other tests of a parallel run some CPU."""
    cli = shutil.which("sqlite3")
    assert cli, "the sqlite3 command line is needed (./run_tests.sh installs Debian's sqlite3)"
    stop = work / "stop"
    stop.unlink(missing_ok=True)
    live = str(data_dir / "crm.db")
    loops = [
        subprocess.Popen(
            [
                "bash",
                "-c",
                f'n=0; while [ ! -e "$1" ]; do n=$((n+1)); rm -f "$2"; '
                f'"{cli}" -cmd ".timeout 10000" "$3" ".backup $2" || exit 1; sleep 0.05; done',
                "backup-loop",
                str(stop),
                str(work / f"copy-{i}.db"),
                live,
            ]
        )
        for i in range(3)
    ]
    loops.append(subprocess.Popen([sys.executable, "-c", READER, live, str(stop)]))
    try:
        yield
    finally:
        stop.touch()
        codes = [loop.wait(timeout=60) for loop in loops]
    assert codes == [0, 0, 0, 0], f"an outside process failed: {codes}"


def write_investors(base: str, token: str, prefix: str, acked: list[int], count: int) -> None:
    """Create investors one by one; remember each one the API acknowledged (201)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for n in range(count):
        try:
            response = session.post(
                f"{base}/api/fundraising/investors",
                json={"fields": {"name": f"{prefix} {n}"}},
                timeout=30,
            )
        except requests.ConnectionError:
            return  # the server was killed
        assert response.status_code == 201, response.text
        acked.append(response.json()["id"])


def stored(data_dir: Path) -> tuple[set[int], str]:
    """Ids of live investors and the integrity_check result, from a fresh connection."""
    conn = dbapi.connect(str(data_dir / "crm.db"), timeout=5)
    try:
        ids = {r[0] for r in conn.execute("SELECT id FROM fundraising_investors")}
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return ids, check


def test_acknowledged_writes_survive_outside_backups_readers_restarts_and_kill_9(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    admin_token, _ = seed_accounts(data_dir)
    database = data_dir / "crm.db"
    acked: list[int] = []

    # 1. writes while backups and readers run in other processes, then a clean stop
    with server(data_dir) as served:
        scheduler_has_started(data_dir)
        assert posix_locks(database, served.pid), "the server holds no lock on the database"
        with outside_processes(data_dir, tmp_path):
            write_investors(served.base, admin_token, "Calm", acked, WRITES)
        assert posix_locks(database, served.pid), "the server lost its lock on the database"
    assert len(acked) == WRITES
    ids, check = stored(data_dir)
    assert (set(acked) - ids, check) == (set(), "ok")

    # 2. after a restart; then a kill -9 half-way through a second run of writes
    with server(data_dir) as served:
        ids_after_restart = {
            r["id"]
            for r in requests.get(
                f"{served.base}/api/fundraising/investors?page_size=1000",
                headers={"Authorization": f"Bearer {admin_token}"},
                timeout=30,
            ).json()["rows"]
        }
        assert set(acked) <= ids_after_restart
        second: list[int] = []
        with outside_processes(data_dir, tmp_path):
            writer = threading.Thread(
                target=write_investors,
                args=(served.base, admin_token, "Killed", second, WRITES),
            )
            writer.start()
            while len(second) < WRITES // 2:
                time.sleep(0.01)
            os.killpg(served.pid, signal.SIGKILL)
            writer.join(timeout=60)
        acked.extend(second)
    assert WRITES // 2 <= len(second) < WRITES

    # 3. a fresh start after the crash: every acknowledged write, an intact file
    with server(data_dir):
        ids, check = stored(data_dir)
    assert (set(acked) - ids, check) == (set(), "ok")
