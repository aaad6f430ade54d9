"""Local mode's queries come from numpy arrays (crm_lib/search/memory.py): they must give what
Qdrant's own ``query_points`` gives for the same points, in every mode, with every filter, after
replacements and deletes, after compaction, and after a restart that reloads the arrays."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from qdrant_client import QdrantClient

from crm_lib.search import memory
from crm_lib.search.chunks import Document
from crm_lib.search.embedders import WordLlamaEmbedder
from crm_lib.search.index import COLLECTION, MATCHED, RRF_K, Filters, Query, SearchIndex
from crm_lib.search.memory import TIE_DECIMALS

WORDS = [
    "capital",
    "call",
    "drawdown",
    "wire",
    "fund",
    "data",
    "room",
    "fee",
    "management",
    "carry",
    "committee",
    "meeting",
    "tuesday",
    "quarterly",
    "report",
    "distribution",
    "mining",
    "copper",
    "chile",
    "zurich",
    "reup",
    "diligence",
    "allocation",
    "pension",
    "endowment",
    "family",
    "office",
    "secondary",
    "valuation",
    "track",
    "record",
]
MEMBERS = ("Alice Example", "Bob Example", None)
QUERIES = [
    "capital call wire",
    "data room",
    "captial cal",
    "management fees",
    "Kapitalabruf",
    "copper mining in Chile",
    "quarterly report",
    "zurich",
    "nothing matches xylophone",
]
FILTERS = [
    Filters(),
    Filters(investor_id=3),
    Filters(doc_type="email"),
    Filters(team_member="Alice Example"),
    Filters(since_ts=1_700_000_000.0, until_ts=1_750_000_000.0),
    Filters(investor_id=2, doc_type="note"),
    Filters(team_member="Nobody"),
]


def _documents(seed: int, count: int) -> list[Document]:
    rng = random.Random(seed)
    documents = []
    for n in range(count):
        kind = rng.choice(("email", "note", "field"))
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 40)))
        documents.append(
            Document(
                key=f"{kind}:{n}",
                doc_type=kind,
                text=text,
                lp_id=rng.randint(1, 5),
                lp_name=f"Investor {n}",
                title=rng.choice(("", "Re: fund update", "Notes")),
                date_ts=rng.choice((None, 1_690_000_000.0 + rng.randint(0, 80_000_000))),
                team_member=rng.choice(MEMBERS) if kind == "email" else None,
                email_id=n if kind == "email" else None,
                field_key="notes" if kind == "note" else ("memo" if kind == "field" else None),
            )
        )
    return documents


@pytest.fixture
def pair(embedder: WordLlamaEmbedder) -> tuple[SearchIndex, SearchIndex]:
    """The same points in Qdrant (queried by Qdrant) and in local mode (queried from arrays)."""
    qdrant = SearchIndex(QdrantClient(location=":memory:"), embedder, local=False)
    arrays = SearchIndex(QdrantClient(location=":memory:"), embedder, local=True)
    for index in (qdrant, arrays):
        index.reset()
        index.upsert(_documents(7, 90))
    return qdrant, arrays


def _ranked(index: SearchIndex, query: str, mode: str, filters: Filters) -> list[tuple[str, float]]:
    return [
        (hit.payload["doc_key"], hit.score) for hit in index.search(query, mode, filters, limit=200)
    ]


def _grams(index: SearchIndex, query: str, filters: Filters) -> list[tuple[str, float]]:
    """The trigram list alone (hybrid's third input), as Qdrant or the arrays rank it."""
    built = index.query(query, "hybrid")
    if index.memory is None:
        points = index.client.query_points(
            COLLECTION,
            query=Query.sparse_vector(built.grams),
            using="grams",
            query_filter=filters.to_qdrant(),
            limit=200,
            score_threshold=MATCHED,
        ).points
        return [(str(p.id), p.score) for p in points]
    allowed = index.memory.allowed(filters)
    return index.memory.sparse_top("grams", built.grams, allowed, 200, MATCHED)


def _fused_from_qdrant(index: SearchIndex, query: str, filters: Filters) -> dict[str, float]:
    """Hybrid as documented, computed here from Qdrant's full lists: each point adds
    1 / (60 + rank) per list it is in, rank = 1 + the number of points scoring higher
    (to 9 decimals)."""
    built = index.query(query, "hybrid")
    where = filters.to_qdrant()
    lists = [
        index.client.query_points(
            COLLECTION, query=built.dense, using="dense", query_filter=where, limit=1_000
        ).points
    ]
    for name, pairs in (("sparse", built.words), ("grams", built.grams)):
        if pairs:
            lists.append(
                index.client.query_points(
                    COLLECTION,
                    query=Query.sparse_vector(pairs),
                    using=name,
                    query_filter=where,
                    limit=1_000,
                    score_threshold=MATCHED,
                    with_payload=True,
                ).points
            )
    fused: dict[str, float] = {}
    for points in lists:
        scores = [round(point.score, TIE_DECIMALS) for point in points]
        for point, score in zip(points, scores, strict=True):
            rank = 1 + sum(other > score for other in scores)
            key = point.payload["doc_key"]
            fused[key] = fused.get(key, 0.0) + 1 / (RRF_K + rank)
    return fused


def _same_scores(got: list[tuple[str, float]], expected: list[tuple[str, float]]) -> bool:
    """The same points with the same scores (to float32 rounding), in any order."""
    wanted = dict(expected)
    return len(got) == len(expected) and all(
        key in wanted and math.isclose(score, wanted[key], rel_tol=1e-5, abs_tol=1e-6)
        for key, score in got
    )


def _assert_same(qdrant: SearchIndex, arrays: SearchIndex) -> int:
    """Each list gives the same points and scores as Qdrant's; hybrid gives the documented
    fusion of Qdrant's own lists."""
    compared = 0
    for query in QUERIES:
        for filters in FILTERS:
            for mode in ("semantic", "keyword"):
                expected = _ranked(qdrant, query, mode, filters)
                got = _ranked(arrays, query, mode, filters)
                assert _same_scores(got, expected), (query, mode, filters)
                assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
                compared += len(got)
            assert _same_scores(_grams(arrays, query, filters), _grams(qdrant, query, filters))
            expected = _fused_from_qdrant(qdrant, query, filters)
            got = _ranked(arrays, query, "hybrid", filters)
            assert dict(got).keys() == expected.keys(), (query, filters)
            assert all(math.isclose(score, expected[key], abs_tol=1e-9) for key, score in got)
            assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
            compared += len(got)
    return compared


def test_arrays_answer_as_qdrant_does_in_every_mode_and_filter(
    pair: tuple[SearchIndex, SearchIndex],
) -> None:
    assert _assert_same(*pair) > 1_000
    qdrant, arrays = pair
    assert arrays.count() == qdrant.count() == 90


def test_and_still_after_replacements_and_deletes(pair: tuple[SearchIndex, SearchIndex]) -> None:
    replaced = _documents(11, 30)  # same keys as the first 30, new texts
    for index in pair:
        index.upsert(replaced)
        index.delete_documents(["note:40", "field:41", "email:42"])
        index.delete_where("email_id", 43)
        index.delete_where("field_key", "memo")
    _assert_same(*pair)
    assert pair[1].count() == pair[0].count()


def test_and_after_compaction(
    pair: tuple[SearchIndex, SearchIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memory, "COMPACT_MIN", 5)
    qdrant, arrays = pair
    rows_before = arrays.memory.size
    keys = [d.key for d in _documents(7, 90)][::2]
    for index in pair:
        index.delete_documents(keys)
        index.upsert(_documents(13, 20))
    assert arrays.memory.size < rows_before  # dead rows dropped, rows renumbered
    assert arrays.memory.dead == 0 or arrays.memory.dead < arrays.memory.size // 4
    _assert_same(qdrant, arrays)


def test_replacing_the_same_points_again_and_again_keeps_the_arrays_bounded(
    pair: tuple[SearchIndex, SearchIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edited note replaces its points; the replaced rows must be reclaimed, or a server
    whose team keeps editing grows without end (bench/bench_load.py: 9 MB a minute)."""
    monkeypatch.setattr(memory, "COMPACT_MIN", 5)
    qdrant, arrays = pair
    for round_ in range(12):
        for index in pair:
            index.upsert(_documents(100 + round_, 30))  # the same 30 keys, new texts
        assert arrays.memory.size - arrays.memory.dead == arrays.count() == qdrant.count()
        assert arrays.memory.size <= 2 * arrays.count()  # without reclaiming: +30 a round
        assert len(arrays.memory.alive) <= max(1_024, 4 * arrays.count())
    _assert_same(qdrant, arrays)


def test_a_restart_reloads_the_arrays_from_the_stored_points(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    client = QdrantClient(path=str(tmp_path / "search"))
    index = SearchIndex(client, embedder, local=True)
    index.reset()
    index.upsert(_documents(5, 60))
    index.delete_documents(["note:1", "email:2"])
    before = {q: _ranked(index, q, "hybrid", Filters()) for q in QUERIES}
    client.close()
    reopened = SearchIndex(QdrantClient(path=str(tmp_path / "search")), embedder, local=True)
    assert reopened.count() == index.count()
    assert {q: _ranked(reopened, q, "hybrid", Filters()) for q in QUERIES} == before
    reopened.client.close()


def test_a_tie_at_the_cut_is_settled_by_id_whatever_the_limit(
    pair: tuple[SearchIndex, SearchIndex],
) -> None:
    _, arrays = pair
    copies = [
        Document(
            key=f"note:copy{n}",
            doc_type="note",
            text="Send the side-letter draft.",
            lp_id=n,
            lp_name=f"LP {n}",
        )
        for n in range(40)
    ]
    arrays.upsert(copies)
    for mode in ("hybrid", "semantic", "keyword"):
        everything = [
            h.payload["doc_key"] for h in arrays.search("side-letter draft", mode, Filters(), 40)
        ]
        for limit in (1, 3, 7, 20):
            first = [
                h.payload["doc_key"]
                for h in arrays.search("side-letter draft", mode, Filters(), limit)
            ]
            assert first == everything[:limit], (mode, limit)
