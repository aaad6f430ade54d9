"""A full disk during a write: 503 ``{"error": "disk_full"}`` and nothing half-written.

The disk fills for real as far as SQLite is concerned: the server's connection gets
``PRAGMA max_page_count`` at the database's current size, so the engine itself answers
SQLITE_FULL ("database or disk is full") when a write needs another page, exactly as it does when
the file system has no room left. The API runs in this process (on loopback, as served) so that
the test can set the limit on the very connection that writes.
"""

from __future__ import annotations

import requests

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from tests.api.conftest import InProcessAPI

NOTES = "a note that needs pages of its own " * 2_000  # about 70 KB


def counts(settings: Settings) -> tuple[int, int, int]:
    """Investors, audit rows and the grid's version, read on a connection of our own."""
    ctx = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        return (
            services.list_investors(ctx, page_size=1000).total,
            ctx.db.execute("SELECT count(*) FROM audit_log").fetchone()[0],
            services.grid_state(ctx)["version"],
        )
    finally:
        ctx.close()


def test_a_full_disk_answers_503_disk_full_and_writes_nothing(in_process_api: InProcessAPI) -> None:
    api = in_process_api
    headers = {"Authorization": f"Bearer {api.token}"}
    url = f"{api.base}/api/fundraising/investors"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200  # connection open
    before = counts(api.settings)
    api.on_server_connection("PRAGMA max_page_count = 1")  # clamps to the current size

    full = requests.post(
        url, json={"fields": {"name": "Disk Full LP", "notes": NOTES}}, headers=headers, timeout=10
    )
    assert full.status_code == 503, full.text
    error = full.json()
    assert error["error"] == "disk_full" and "nothing was saved" in error["detail"]
    assert counts(api.settings) == before
    assert requests.get(url, headers=headers, timeout=10).status_code == 200  # reads go on

    api.on_server_connection("PRAGMA max_page_count = 1073741823")  # space freed
    again = requests.post(
        url, json={"fields": {"name": "Disk Full LP", "notes": NOTES}}, headers=headers, timeout=10
    )
    assert again.status_code == 201, again.text
    assert counts(api.settings)[0] == before[0] + 1
