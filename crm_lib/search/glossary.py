"""The fund's vocabulary (``glossary.toml``): a query is also searched for the English names of
the concepts it mentions, in any of the languages listed.

Why: the default embedder (wordllama) is English-only and knows little of fund jargon, so
"Kapitalabruf", "appel de fonds" and "drawdown notice" would otherwise miss the emails that say
"capital call". Matching is on the analyzer's folded, stemmed words (a hyphenated compound as one word),
phrase by phrase, so case,
accents and plurals do not matter; the expansion weighs less than the words typed.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from crm_lib.search import analyzer

GLOSSARY = Path(__file__).with_name("glossary.toml")
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl")


@dataclass(frozen=True)
class Concept:
    name: str  # the first English phrase
    english: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]  # every phrase in every language, as stems


@dataclass(frozen=True)
class Expansion:
    concepts: tuple[Concept, ...]

    @property
    def english(self) -> list[str]:
        """The English phrases of the concepts found, to search for besides the query."""
        return [phrase for concept in self.concepts for phrase in concept.english]

    @property
    def names(self) -> list[str]:
        return [concept.name for concept in self.concepts]

    def added_to(self, query: str) -> list[str]:
        """The names of the concepts found whose own name is not already in ``query``: what
        the search adds, as the page says it ("re-up" adds nothing worth saying)."""
        stems = analyzer.phrase_terms(query)
        return [
            concept.name
            for concept in self.concepts
            if not _contains(stems, tuple(analyzer.phrase_terms(concept.name)))
        ]


@cache
def concepts() -> tuple[Concept, ...]:
    entries = tomllib.loads(GLOSSARY.read_text(encoding="utf-8"))["concept"]
    loaded = []
    for entry in entries:
        english = tuple(entry["en"])
        phrases = {
            tuple(analyzer.phrase_terms(phrase))
            for language in LANGUAGES
            for phrase in entry.get(language, ())
        }
        loaded.append(Concept(english[0], english, tuple(sorted(p for p in phrases if p))))
    return tuple(loaded)


@lru_cache(maxsize=1_024)  # one search asks three times (vectors, marks, the page's line)
def expand(query: str) -> Expansion:
    """The concepts whose phrases appear in ``query`` (as consecutive stems), longest phrase
    first: a word inside a longer phrase ("fonds" in "appel de fonds") counts only for it."""
    stems = analyzer.phrase_terms(query)
    matches = sorted(
        (
            (len(phrase), start, index)
            for index, concept in enumerate(concepts())
            for phrase in concept.phrases
            for start in range(len(stems) - len(phrase) + 1)
            if tuple(stems[start : start + len(phrase)]) == phrase
        ),
        key=lambda match: (-match[0], match[1]),
    )
    taken: set[int] = set()
    found: list[int] = []
    for width, start, index in matches:
        span = set(range(start, start + width))
        if span & taken:
            continue
        taken |= span
        if index not in found:
            found.append(index)
    every = concepts()
    return Expansion(tuple(every[i] for i in found))


def _contains(stems: list[str], phrase: tuple[str, ...]) -> bool:
    width = len(phrase)
    return any(tuple(stems[i : i + width]) == phrase for i in range(len(stems) - width + 1))
