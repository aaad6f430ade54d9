"""The labelled queries the search benchmark scores: enough of them, of every kind the issue
names, each pointing at text the demo corpus really contains."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERIES = json.loads((ROOT / "tests" / "data" / "search_queries.json").read_text())["queries"]
CORPUS = (ROOT / "crm_lib" / "mail" / "corpus.py").read_text() + (
    ROOT / "crm_lib" / "demo.py"
).read_text()


def test_at_least_fifty_queries_of_every_kind() -> None:
    assert len(QUERIES) >= 50
    kinds = {q["kind"] for q in QUERIES}
    assert kinds == {"exact", "paraphrase", "misspelling", "non-English"}
    assert len({q["query"] for q in QUERIES}) == len(QUERIES)


def test_every_label_names_text_the_demo_corpus_holds() -> None:
    flat = " ".join(CORPUS.replace('"\n', "").replace('        "', "").split())
    for query in QUERIES:
        assert query["relevant"], query["query"]
        for rule in query["relevant"]:
            assert rule["doc_type"] in ("email", "note", "field")
            assert rule["contains"] in flat, (query["query"], rule["contains"])
