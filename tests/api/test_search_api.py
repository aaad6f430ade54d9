"""GET /api/search on a live server: the server builds its index and keeps it in step (a note
written through the API is found within seconds), modes and validation; members search too;
POST /api/search/reindex is for admins."""

from __future__ import annotations

import time

import pytest

from crm_lib import search_client
from crm_lib.config import Settings
from crm_lib.errors import ConfigError, ExternalServiceError
from tests.api.conftest import LiveServer
from tests.api.conftest import session_for as api


def test_a_note_written_is_found_within_seconds(live: LiveServer) -> None:
    admin, member = api(live, "admin"), api(live, "member")
    made = admin.post(
        f"{live.base}/api/fundraising/investors",
        json={"fields": {"Name": "Lithium Lake LP", "Notes": "Keen on the cobalt mining deal."}},
    )
    assert made.status_code == 201, made.text
    deadline, hits = time.monotonic() + 30, []
    while time.monotonic() < deadline and not hits:
        found = member.get(f"{live.base}/api/search", params={"q": "cobalt", "mode": "keyword"})
        assert found.status_code == 200, found.text
        hits = found.json()["hits"]
        time.sleep(0.3)
    assert [(h["lp_name"], h["doc_type"]) for h in hits] == [("Lithium Lake LP", "note")]
    assert "<mark>cobalt</mark>" in hits[0]["snippet_html"]
    semantic = member.get(f"{live.base}/api/search", params={"q": "mine", "mode": "semantic"})
    assert "Lithium Lake LP" in [h["lp_name"] for h in semantic.json()["hits"]]
    assert semantic.json()["also_searched"] == []
    glossary = member.get(f"{live.base}/api/search", params={"q": "Kapitalabruf"}).json()
    assert glossary["also_searched"] == ["capital call"]


def test_bad_searches_are_refused_naming_the_parameter(live: LiveServer) -> None:
    member = api(live, "member")
    for params, field in (
        ({"q": "x", "mode": "fuzzy"}, "mode"),
        ({"q": "x", "doc_type": "memo"}, "doc_type"),
        ({"q": "x", "since": "last week"}, "since"),
        ({"q": " "}, "q"),
        ({"q": "x", "limit": "1000"}, "limit"),
    ):
        refused = member.get(f"{live.base}/api/search", params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["field"] == field
    assert member.post(f"{live.base}/api/search/reindex").status_code == 403
    rebuilt = api(live, "admin").post(f"{live.base}/api/search/reindex")
    assert rebuilt.status_code == 200 and rebuilt.json()["rebuilt"] is True


def test_a_notebook_searches_through_the_server_that_holds_the_index(live: LiveServer) -> None:
    made = api(live, "admin").post(
        f"{live.base}/api/fundraising/investors",
        json={"fields": {"Name": "Nickel Notebook LP", "Notes": "Toured the nickel smelter."}},
    )
    assert made.status_code == 201, made.text
    with_token = Settings(data_dir=live.data_dir, api_token=live.member_token)
    deadline, hits = time.monotonic() + 30, []
    while time.monotonic() < deadline and not hits:
        hits = search_client.search("smelter", mode="keyword", settings=with_token)["hits"]
        time.sleep(0.3)
    assert [h["lp_name"] for h in hits] == ["Nickel Notebook LP"]
    with pytest.raises(ConfigError, match="CRM_API_TOKEN"):
        search_client.search("smelter", settings=Settings(data_dir=live.data_dir))
    forged = Settings(data_dir=live.data_dir, api_token="not-a-token")
    with pytest.raises(ExternalServiceError, match="The server refused the search"):
        search_client.search("smelter", settings=forged)
