"""How long browsers may keep files (apps/static_cache.py): the unversioned bundles inside
Panel and the favicon for a day, while pages, the API and our own stylesheets are never given a
lifetime (a deploy must show at once)."""

from __future__ import annotations

import requests

from apps.static_cache import DAY_SECONDS
from tests.api.conftest import LiveServer

TABULATOR = (
    "/static/extensions/panel/bundled/datatabulator/tabulator-tables@6.4.0/dist/js/tabulator.min.js"
)
LUXON = "/static/extensions/panel/bundled/datatabulator/luxon/build/global/luxon.min.js"


def test_unversioned_bundles_and_the_favicon_are_kept_for_a_day(live: LiveServer) -> None:
    for path in (TABULATOR, LUXON, "/favicon.ico"):
        response = requests.get(f"{live.base}{path}", timeout=30)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == f"public, max-age={DAY_SECONDS}", path


def test_a_revalidation_answers_304_with_the_same_lifetime(live: LiveServer) -> None:
    first = requests.get(f"{live.base}{TABULATOR}", timeout=30)
    again = requests.get(
        f"{live.base}{TABULATOR}", headers={"If-None-Match": first.headers["Etag"]}, timeout=30
    )
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == f"public, max-age={DAY_SECONDS}"


def test_pages_and_the_api_get_no_lifetime(live: LiveServer) -> None:
    member = live.login()
    for path in ("/grid", "/api/me", "/login"):
        response = member.get(f"{live.base}{path}", allow_redirects=False, timeout=60)
        assert "max-age=86400" not in response.headers.get("Cache-Control", ""), path


def test_a_missing_bundle_is_not_cached(live: LiveServer) -> None:
    response = requests.get(f"{live.base}/static/extensions/panel/bundled/nothing.js", timeout=30)
    assert response.status_code == 404
    assert "max-age" not in response.headers.get("Cache-Control", "")
