"""The search page driven through its widgets: a query from the URL or the box, the mode
switch and filters, hits grouped by investor with marked words, links to records and threads,
and names that stay text."""

from __future__ import annotations

import pytest

import crm_lib
from apps.runtime import Runtime
from apps.search.page import SearchPage
from crm_lib import services
from crm_lib.config import Settings
from tests.apps.conftest import session_of

HOSTILE = '<img src=x onerror="alert(1)">Mining Partners'


@pytest.fixture
def runtime(settings_with_team: Settings) -> Runtime:
    ctx = crm_lib.open_crm(settings=settings_with_team, actor="system:test")
    services.create_investor(
        ctx, {"name": HOSTILE, "notes": "We discussed the copper mining deal in Chile."}
    )
    services.create_investor(ctx, {"name": "Quiet LP", "notes": "Prefers infrastructure."})
    ctx.close()
    runtime = Runtime(settings_with_team, secret_key="k" * 48)
    with runtime.context() as ctx:
        services.sync_search(ctx, runtime.search_index())
    yield runtime
    runtime.search_index().client.close()


def test_a_search_shows_hits_grouped_by_investor_with_marked_words(runtime: Runtime) -> None:
    page = SearchPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.query.value = "mining deal"
    page.run()
    assert "for <b>mining deal</b> in" in page.summary.object
    html = page.results.object
    assert html.index("Mining Partners") < html.index("Quiet LP")  # by meaning: nearest first
    assert "<mark>mining</mark> <mark>deal</mark>" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=" in html
    assert 'href="/record?id=1"' in html
    page.mode.value = "keyword"
    page.query.value = "infrastructure"
    page.run()
    assert "Quiet LP" in page.results.object and "Mining Partners" not in page.results.object
    page.doc_type.value = "email"
    assert "Nothing found for <b>infrastructure</b>" in page.summary.object


def test_an_empty_page_explains_what_search_does(runtime: Runtime) -> None:
    page = SearchPage(runtime, session=session_of(runtime, "bob@fund.example"))
    assert "Search every email, note" in page.summary.object
    assert page.results.object == ""


def test_the_page_says_what_the_glossary_added(runtime: Runtime) -> None:
    page = SearchPage(runtime, session=session_of(runtime, "alice@fund.example"))
    page.query.value = "Kapitalabruf"
    page.run()
    assert "Also searched for <b>capital call</b> (the fund glossary)" in page.summary.object
    page.mode.value = "keyword"  # exact words: nothing added
    assert "Also searched" not in page.summary.object
