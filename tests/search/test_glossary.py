"""The fund glossary: what a query mentions, in any of its languages, is also searched under its
English names (crm_lib/search/glossary.py)."""

from __future__ import annotations

from crm_lib.search import analyzer, glossary


def test_each_language_finds_the_concept() -> None:
    for query in (
        "Kapitalabruf Q3",
        "appel de fonds",
        "LLAMADA DE CAPITAL",
        "drawdown notices",
        "richiamo di capitale",
    ):
        assert glossary.expand(query).names == ["capital call"], query


def test_accents_case_and_plurals_do_not_matter() -> None:
    assert glossary.expand("Réunion MARDI").names == ["meeting", "Tuesday"]
    assert glossary.expand("reunion mardi").names == ["meeting", "Tuesday"]
    assert glossary.expand("the side letters").names == ["side letter"]


def test_the_longest_phrase_wins_its_words() -> None:
    assert glossary.expand("appel de fonds").names == ["capital call"]  # not also "fund"
    assert glossary.expand("access to the fund documents").names == ["data room"]
    assert glossary.expand("reinvest in the new vehicle").names == ["re-up", "fund"]


def test_a_query_outside_the_glossary_is_left_alone() -> None:
    assert glossary.expand("copper mining in Chile").concepts == ()
    assert glossary.expand("").concepts == ()
    assert glossary.expand("call").concepts == ()  # too common alone to mean anything


def test_the_glossary_file_is_sound() -> None:
    concepts = glossary.concepts()
    assert len(concepts) >= 50
    seen: dict[tuple[str, ...], str] = {}
    for concept in concepts:
        assert concept.english and all(analyzer.terms(p) for p in concept.english), concept.name
        for phrase in concept.phrases:
            assert phrase, concept.name
            assert seen.setdefault(phrase, concept.name) == concept.name, (phrase, concept.name)


def test_what_is_said_to_be_added_leaves_out_what_was_typed() -> None:
    assert glossary.expand("Kapitalabruf").added_to("Kapitalabruf") == ["capital call"]
    assert glossary.expand("re-up").added_to("re-up") == []
    assert glossary.expand("capital calls due").added_to("capital calls due") == []
    query = "reinvest in the new vehicle"
    assert glossary.expand(query).added_to(query) == ["re-up", "fund"]
