"""Words for the keyword (sparse) vectors: Unicode words, case-folded and accent-folded, English
stop words dropped, Snowball-stemmed, each mapped to a stable 31-bit index (BLAKE2b of the stem).

Qdrant's IDF modifier turns the term counts into BM25-style scores at query time, so a chunk's
sparse vector holds only term frequencies. :data:`STAMP` names the analyzer: an index built
with another one is rebuilt.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from functools import lru_cache

import snowballstemmer

STAMP = "words-casefold-ascii-snowball-english-v1"
_WORD = re.compile(r"\w+", re.UNICODE)
_STEMMER = snowballstemmer.stemmer("english")
#: Words too common to say anything about a chunk (Snowball's English list, shortened).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "which",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
        "re",
        "fw",
        "fwd",
    ]
)


def fold(text: str) -> str:
    """Case- and accent-folded text: "Zürich" and "zurich" are the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of ``text`` (stop words included), in order."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def terms(text: str) -> list[str]:
    """The stems that make the sparse vector: words less stop words, stemmed."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


@lru_cache(maxsize=200_000)
def term_index(term: str) -> int:
    """A stable index for a term (the same in every process and version of Python)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "big") >> 1


def sparse(text: str) -> tuple[list[int], list[float]]:
    """(indices, term counts) of ``text``'s terms: the sparse vector of a chunk or a query."""
    counts = Counter(term_index(t) for t in terms(text))
    return list(counts), [float(v) for v in counts.values()]
