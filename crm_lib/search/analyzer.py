"""The lexical side of search: two sparse vectors per chunk.

*Words*: Unicode words, case-folded and accent-folded, English stop words dropped,
Snowball-stemmed, each mapped to a stable 31-bit index (BLAKE2b of the stem). *Grams*: the
character trigrams of the same words (``" ca" "cap" "api" … "al "``), so "captial" and
"co-investmnt" still share most of their trigrams with what was meant.

Qdrant's IDF modifier multiplies a chunk's stored weight by the term's IDF at query time; it does
no length normalisation. So a chunk stores BM25's saturated, length-normalised term frequency
(k1 = 1.2, b = 0.75, against a fixed average length, as fastembed's BM25 does: the weights of
one chunk never change when others are added), and a query stores 1 per term: their product is
BM25. :data:`STAMP` names the analyzer: an index built with another one is rebuilt.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from functools import lru_cache

import snowballstemmer

STAMP = "words-casefold-ascii-snowball-english-bm25-grams3-v2"
_WORD = re.compile(r"\w+", re.UNICODE)
_COMPOUND = re.compile(r"\w+(?:[-\u2010]\w+)+", re.UNICODE)
_WORD_OR_COMPOUND = re.compile(r"\w+(?:[-\u2010]\w+)*", re.UNICODE)
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
    if text.isascii():  # most text: nothing to decompose
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded words of ``text`` (stop words included), in order."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def terms(text: str) -> list[str]:
    """The stems that make the sparse vector: words less stop words, stemmed, and each
    hyphenated compound also joined ("re-up" gives "up" and "reup"), so that "reup",
    "co-invest" and "coinvest" meet."""
    found = [stem(w) for w in words(text) if w not in STOP_WORDS]
    if "-" in text or "\u2010" in text:
        found.extend(stem("".join(_WORD.findall(m))) for m in _COMPOUND.findall(fold(text)))
    return found


def phrase_terms(text: str) -> list[str]:
    """The stems in order, each hyphenated compound as one joined word ("re-up" is "reup"):
    how the glossary matches phrases."""
    found = []
    for match in _WORD_OR_COMPOUND.findall(fold(text)):
        joined = "".join(_WORD.findall(match))
        if joined not in STOP_WORDS:
            found.append(stem(joined))
    return found


@lru_cache(maxsize=200_000)
def term_index(term: str) -> int:
    """A stable index for a term (the same in every process and version of Python)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=4).digest(), "big") >> 1


def grams(text: str) -> list[str]:
    """The character trigrams of ``text``'s words (stop words dropped), each word padded with a
    space on both sides so its start and end count."""
    out: list[str] = []
    for word in words(text):
        if word not in STOP_WORDS:
            padded = f" {word} "
            out.extend(padded[i : i + 3] for i in range(len(padded) - 2))
    return out


@lru_cache(maxsize=400_000)
def gram_index(gram: str) -> int:
    """A stable index for a trigram, apart from :func:`term_index`'s (another vector)."""
    return term_index("\x003:" + gram)


#: BM25's term-frequency saturation and length normalisation, and the average lengths (terms,
#: trigrams) they normalise against: fixed, so one chunk's weights never depend on the others.
K1 = 1.2
B = 0.75
AVERAGE_TERMS = 60.0
AVERAGE_GRAMS = 360.0


def _bm25(counts: Counter[int], length: int, average: float) -> tuple[list[int], list[float]]:
    norm = K1 * (1 - B + B * length / average)
    return list(counts), [count * (K1 + 1) / (count + norm) for count in counts.values()]


def sparse(text: str) -> tuple[list[int], list[float]]:
    """The words vector of a chunk: (indices, BM25 term weights)."""
    found = terms(text)
    return _bm25(Counter(term_index(t) for t in found), len(found), AVERAGE_TERMS)


def sparse_grams(text: str) -> tuple[list[int], list[float]]:
    """The grams vector of a chunk: (indices, BM25 trigram weights)."""
    found = grams(text)
    return _bm25(Counter(gram_index(g) for g in found), len(found), AVERAGE_GRAMS)


def query_terms(text: str) -> list[int]:
    """The words vector of a query: each distinct term once (weight 1)."""
    return list(dict.fromkeys(term_index(t) for t in terms(text)))


def query_grams(text: str) -> list[int]:
    """The grams vector of a query: each distinct trigram once (weight 1)."""
    return list(dict.fromkeys(gram_index(g) for g in grams(text)))
