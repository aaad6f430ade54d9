"""Search over notes, fields, titles and mail: the three modes, filters, snippets, and the
database deciding what each reader sees (archived, private, shared as subject only)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.search.index import SearchIndex
from crm_lib.services import search as S
from tests.digest.conftest import deliver, mail
from tests.search.conftest import ALICE, BOB, day

MINING = "We discussed the copper mining deal in Chile with their CIO.\n\nFollow up in March."


def _investor(ctx: Context, investor_id: int) -> dict:
    return services.get_investor(ctx, investor_id)["investor"]


@pytest.fixture
def corpus(ctx: Context, crm: dict, index: SearchIndex) -> dict:
    services.update_investor(
        ctx, crm["acme"], {"notes": MINING}, expected_version=_investor(ctx, crm["acme"])["version"]
    )
    tom = services.get_person(ctx, crm["tom"])
    services.update_person(
        ctx, crm["tom"], {"title": "Head of Private Markets"}, expected_version=tom["version"]
    )
    deliver(
        ctx,
        ALICE,
        mail(
            "Re-up into Fund III",
            "Jane Doe <jane@acme.example>",
            ALICE,
            day(24, 9),
            body="We are minded to re-up into Fund III at 5m, subject to the fee break.",
        ),
    )
    deliver(
        ctx,
        BOB,
        mail(
            "Data room",
            "Tom Smith <tomsmith@gmail.com>",
            BOB,
            day(24, 10),
            body="The data room for the Zürich meeting works, thanks.",
        ),
    )
    S.sync_search(ctx, index)
    return crm


def _investor_any(ctx: Context, investor_id: int) -> dict:
    row = ctx.db.execute(
        "SELECT version FROM fundraising_investors WHERE id = ?", [investor_id]
    ).fetchone()
    return {"version": row[0]}


def _found(result: dict) -> list[tuple[str, str]]:
    return [(h["lp_name"], h["doc_type"]) for h in result["hits"]]


def test_each_mode_finds_what_it_should(ctx: Context, corpus: dict, index: SearchIndex) -> None:
    alice = ctx.as_user(corpus["alice"])
    keyword = S.run_search(alice, index, "re-up Fund III", mode="keyword")
    assert _found(keyword)[0] == ("Acme Capital", "email")
    assert "<mark>Fund</mark> <mark>III</mark>" in keyword["hits"][0]["snippet_html"]
    semantic = S.run_search(alice, index, "copper mine", mode="semantic", limit=3)
    assert ("Acme Capital", "note") in _found(semantic)
    hybrid = S.run_search(alice, index, "mining deal", mode="hybrid", limit=3)
    assert _found(hybrid)[0] == ("Acme Capital", "note")
    assert hybrid["investors"][0]["lp_name"] == "Acme Capital"
    assert "<mark>mining</mark> <mark>deal</mark>" in hybrid["hits"][0]["snippet_html"]
    accents = S.run_search(alice, index, "zurich", mode="keyword")  # folded: Zürich
    assert _found(accents) == [("Bloom Pension", "email")]


def test_filters_narrow_by_investor_type_member_and_date(
    ctx: Context, corpus: dict, index: SearchIndex
) -> None:
    alice = ctx.as_user(corpus["alice"])
    everything = S.run_search(alice, index, "fund data room mining", mode="keyword", limit=20)
    assert {h["doc_type"] for h in everything["hits"]} == {"email", "note"}
    only_bloom = S.run_search(alice, index, "fund data room mining", investor_id=corpus["bloom"])
    assert {h["lp_name"] for h in only_bloom["hits"]} == {"Bloom Pension"}
    notes = S.run_search(alice, index, "fund data room mining", doc_type="note")
    assert {h["doc_type"] for h in notes["hits"]} == {"note"}
    bobs = S.run_search(alice, index, "fund data room", mode="keyword", user_id=corpus["bob"]["id"])
    assert {h["team_member"] for h in bobs["hits"]} == {"Bob"}
    later = S.run_search(
        alice, index, "data room", mode="keyword", since=day(24, 9) + timedelta(minutes=30)
    )
    assert [h["title"] for h in later["hits"]] == ["Data room"]
    with pytest.raises(ValidationError) as bad:
        S.run_search(alice, index, "x", mode="fuzzy")
    assert bad.value.field == "mode"
    with pytest.raises(ValidationError):
        S.run_search(alice, index, "   ")


def test_an_edit_is_found_after_sync_and_the_old_text_is_gone(
    ctx: Context, corpus: dict, index: SearchIndex
) -> None:
    alice = ctx.as_user(corpus["alice"])
    services.update_investor(
        ctx,
        corpus["acme"],
        {"notes": "Prefers infrastructure co-investments."},
        expected_version=_investor(ctx, corpus["acme"])["version"],
    )
    S.sync_search(ctx, index)
    assert S.run_search(alice, index, "mining", mode="keyword")["hits"] == []
    assert _found(S.run_search(alice, index, "infrastructure", mode="keyword")) == [
        ("Acme Capital", "note")
    ]


def test_archived_investors_vanish_at_once_and_come_back_on_restore(
    ctx: Context, corpus: dict, index: SearchIndex
) -> None:
    alice = ctx.as_user(corpus["alice"])
    services.archive_investor(
        ctx, corpus["acme"], expected_version=_investor(ctx, corpus["acme"])["version"]
    )
    # no sync yet: the database already hides it
    assert all(
        h["lp_id"] != corpus["acme"] for h in S.run_search(alice, index, "mining Fund III")["hits"]
    )
    S.sync_search(ctx, index)
    assert all(h["lp_id"] != corpus["acme"] for h in S.run_search(alice, index, "mining")["hits"])
    services.restore_investor(
        ctx, corpus["acme"], expected_version=_investor_any(ctx, corpus["acme"])["version"]
    )
    assert _found(S.run_search(alice, index, "mining", mode="keyword")) == [
        ("Acme Capital", "note")
    ]


def test_private_threads_and_unshared_mailboxes_are_not_searchable_by_others(
    ctx: Context, corpus: dict, index: SearchIndex
) -> None:
    alice, bob = ctx.as_user(corpus["alice"]), ctx.as_user(corpus["bob"])
    thread = S.run_search(alice, index, "fee break", mode="keyword")["hits"][0]["thread_id"]
    services.set_thread_private(alice, thread, True)
    assert S.run_search(bob, index, "fee break", mode="keyword")["hits"] == []
    assert len(S.run_search(alice, index, "fee break", mode="keyword")["hits"]) == 1  # its owner
    account = services.ensure_account(ctx, BOB)
    services.set_sharing(ctx, account["id"], "subject", expected_version=account["version"])
    assert S.run_search(alice, index, "zurich", mode="keyword")["hits"] == []
    assert len(S.run_search(bob, index, "zurich", mode="keyword")["hits"]) == 1


def test_a_changed_stamp_rebuilds_the_index(ctx: Context, corpus: dict, index: SearchIndex) -> None:
    before = S.search_status(ctx.as_user(corpus["alice"]), index)
    assert before["current"] and before["chunks"] >= 3
    index.embedder.stamp = "another-model"  # type: ignore[misc]
    try:
        report = S.sync_search(ctx, index)
        assert report.rebuilt and report.chunks == before["chunks"]
    finally:
        del index.embedder.stamp  # type: ignore[misc]


def test_a_title_is_found_and_follows_the_person(
    ctx: Context, corpus: dict, index: SearchIndex
) -> None:
    alice = ctx.as_user(corpus["alice"])
    hits = S.run_search(alice, index, "private markets", mode="keyword")["hits"]
    assert [(h["lp_name"], h["field_key"], h["person_id"]) for h in hits] == [
        ("Bloom Pension", "title", corpus["tom"])
    ]


def test_other_languages_and_misspellings_find_the_mail(
    ctx: Context, corpus: dict, index: SearchIndex
) -> None:
    alice = ctx.as_user(corpus["alice"])
    for query in ("sala de datos", "Datenraum", "salle de données"):
        found = S.run_search(alice, index, query, mode="hybrid", limit=3)
        assert found["hits"][0]["title"] == "Data room", query
        assert "<mark>data</mark> <mark>room</mark>" in found["hits"][0]["snippet_html"]
    reup = S.run_search(alice, index, "Reinvestition", mode="hybrid", limit=3)
    assert reup["hits"][0]["title"] == "Re-up into Fund III"
    typo = S.run_search(alice, index, "mininng deaal", mode="hybrid", limit=3)
    assert _found(typo)[0] == ("Acme Capital", "note")
    assert "<mark>mining</mark> <mark>deal</mark>" in typo["hits"][0]["snippet_html"]
    # keyword mode is the words as typed: no glossary, no near spellings
    assert S.run_search(alice, index, "Datenraum", mode="keyword")["hits"] == []
    assert S.run_search(alice, index, "mininng deaal", mode="keyword")["hits"] == []


def test_a_query_without_a_word_finds_nothing_in_any_mode(
    ctx: Context, corpus: dict, index: SearchIndex
) -> None:
    alice = ctx.as_user(corpus["alice"])
    for query in ("???", "— …", "!!"):
        for mode in ("hybrid", "semantic", "keyword"):
            assert S.run_search(alice, index, query, mode=mode)["hits"] == [], (query, mode)
    assert S.run_search(alice, index, "the", mode="semantic")["hits"]  # a word: by meaning
