"""A database that breaks while the server runs (a table gone, the file overwritten) never shows
a Python traceback in a page: each page says, in plain words, that the database cannot be read and
what to do. Checked on a served app, in the document each page sends the browser."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.requests.page import RequestsPage
from apps.runtime import Runtime
from crm_lib.config import Settings
from crm_lib.storage.connect import dbapi
from tests.api.conftest import LiveServer, start
from tests.apps.conftest import session_of
from tests.apps.documents import page_document

PAGES = ("/", "/grid", "/contacts", "/activity", "/requests", "/funds", "/account", "/admin")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from start(tmp_path)


def drop_investors_table(path: Path) -> None:
    conn = dbapi.connect(str(path), isolation_level=None)
    try:
        conn.execute("ALTER TABLE fundraising_investors RENAME TO lost_investors")
    finally:
        conn.close()


def scribble_over(path: Path) -> None:
    """Garbage over every page but the header: the file stays "SQLite", its content is gone."""
    with path.open("r+b") as handle:
        size = handle.seek(0, 2)
        for offset in range(8192, size, 512):
            handle.seek(offset)
            handle.write(b"\x5a" * 64)


@pytest.mark.parametrize("damage", [drop_investors_table, scribble_over])
def test_a_broken_database_shows_a_plain_message_never_a_traceback(
    server: LiveServer, damage
) -> None:
    admin = server.login(server.admin_email)
    assert "Acme Family Office" in page_document(admin, server.base, "/grid")
    damage(server.data_dir / "crm.db")
    shown = {path: page_document(admin, server.base, path) for path in PAGES}
    with_traceback = [path for path, doc in shown.items() if "Traceback" in doc]
    assert with_traceback == []
    # the home page reads every table (the grid may still show rows it read before the damage)
    assert "Venture CRM cannot read its database" in shown["/"]
    assert "crm doctor" in shown["/"]
    if damage is drop_investors_table:  # the API says the same, as its JSON error
        api = admin.get(f"{server.base}/api/fundraising/investors", timeout=30)
        assert api.status_code == 503 and api.json()["error"] == "database"
        assert "Venture CRM cannot read its database" in api.json()["detail"]


def test_an_action_on_a_page_after_a_table_is_gone_shows_a_message(
    settings_with_team: Settings,
) -> None:
    """A click on an open page (filing a request) when the database broke after the page was
    built: the page says what happened and what to do, instead of failing silently."""
    runtime = Runtime(settings_with_team, secret_key="k" * 48)
    page = RequestsPage(runtime, session=session_of(runtime, "bob@fund.example"))
    conn = dbapi.connect(str(settings_with_team.database_path), isolation_level=None)
    try:
        conn.execute("ALTER TABLE feature_requests RENAME TO lost_requests")
    finally:
        conn.close()
    page.title.value = "Pipeline board"
    page.file()
    assert page.failed and "crm doctor" in page.message and "crm restore" in page.message
    assert "Traceback" not in page.status.object
