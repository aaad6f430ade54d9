"""Links into the grid: what apps.links writes, the grid page reads back (a list tab, a preset
view the library computes, a record), and nothing else in a URL changes what it shows."""

from __future__ import annotations

from datetime import timedelta

import pytest

import crm_lib
from apps.grid.page import GridPage
from apps.links import GridLink, activity_url, grid_link, grid_url, record_url, url_int
from apps.runtime import Runtime
from crm_lib import services
from crm_lib.clock import today
from crm_lib.config import Settings
from tests.apps.conftest import session_of


def args_of(url: str) -> dict[str, list[bytes]]:
    """The query arguments of ``url`` as Bokeh hands them to a session."""
    from urllib.parse import parse_qs, urlsplit

    return {k: [v.encode() for v in vs] for k, vs in parse_qs(urlsplit(url).query).items()}


def test_urls_round_trip_through_what_the_grid_reads() -> None:
    record = record_url(12)  # wherever the record lives, its URL names the investor
    assert record.startswith("/") and [b"12"] in args_of(record).values()
    assert grid_url() == "/grid"
    link = grid_link(args_of(grid_url(list_key="follow_up", preset="going_cold")))
    assert link == GridLink(list_key="follow_up", preset="going_cold")
    assert activity_url(investor_id=7) == "/activity?investor=7"
    with pytest.raises(ValueError, match="No grid list"):
        grid_url(list_key="everything")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"list": [b"graveyard"]}, GridLink(list_key="graveyard")),
        ({"list": [b"secret"]}, GridLink()),  # not a tab: ignored
        ({"preset": [b"x" * 65]}, GridLink()),  # too long to be a name: ignored
        ({"investor": [b"12"]}, GridLink()),
        ({}, GridLink()),
    ],
)
def test_what_a_grid_url_may_ask(query: dict, expected: GridLink) -> None:
    assert grid_link(query) == expected


@pytest.mark.parametrize("raw", [b"", b"0", b"-3", b"1e3", b"\xff", b"9" * 40, b"12 OR 1"])
def test_an_id_that_is_not_one_is_no_id(raw: bytes) -> None:
    assert url_int("investor", {"investor": [raw]}) is None


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    old = (today(ctx.clock) - timedelta(days=90)).isoformat()
    for n in range(6):
        services.create_investor(
            ctx,
            {
                "name": f"LP {n}",
                "status": "Meeting",
                "list_membership": "follow_up" if n % 2 else "main",
                "last_contacted_at": old if n < 3 else None,
            },
        )
    services.create_investor(
        ctx,
        {
            "name": "Fresh LP",
            "status": "Meeting",
            "last_contacted_at": today(ctx.clock).isoformat(),
        },
    )
    ctx.close()
    return Runtime(settings_with_team, secret_key="k" * 48)


def open_grid(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, url: str) -> GridPage:
    monkeypatch.setattr("apps.links.session_args", lambda: args_of(url))
    page = GridPage(runtime, session=session_of(runtime, "bob@fund.example"))
    assert not page.failed, page.message
    return page


def test_the_grid_opens_on_the_list_a_link_names(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = open_grid(runtime, monkeypatch, grid_url(list_key="follow_up"))
    assert page.list_tabs.value == "follow_up" and page.store.list_key == "follow_up"
    assert sorted(page.table.value["name"]) == ["LP 1", "LP 3", "LP 5"]


def test_the_grid_opens_an_attention_preset_as_an_unsaved_view(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = open_grid(runtime, monkeypatch, grid_url(preset="going_cold"))
    with runtime.context() as ctx:
        [item] = [i for i in services.attention(ctx) if i["key"] == "going_cold"]
    assert page.store.view["name"] == "Conversations going cold"
    assert page.store.view["id"] is None  # nothing saved; the view builder can save it
    assert page.store.list_key == "all"
    assert page.store.total == item["count"] == 6  # every LP but the fresh one
    assert "Fresh LP" not in list(page.table.value["name"])


def test_an_unknown_preset_opens_the_grid_as_usual(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = open_grid(runtime, monkeypatch, "/grid?preset=drop_table")
    assert page.store.view["filters"] == {"op": "and", "conditions": []}
    assert page.store.list_key == "main"
