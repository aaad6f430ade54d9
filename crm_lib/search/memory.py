"""Local mode's queries, answered from numpy arrays.

Why: Qdrant's local mode scores sparse vectors point by point in Python and checks payload
filters point by point (measured: 80 ms for one keyword query over 5,000 chunks, so about 0.8 s
at 50,000, and several times that for trigrams). Qdrant local stays the store (on disk, reloaded
at start); this keeps the same vectors and the filterable payload as arrays, in step with every
write :class:`~crm_lib.search.index.SearchIndex` makes, and answers the same three queries with
Qdrant's own scoring: cosine for dense; for sparse, the query weight times the IDF modifier's
``ln((N - df + 0.5) / (df + 0.5) + 1)`` times the stored weight; RRF from qdrant-client's
fusion. The tests run every query through both and compare.

Deletes only mark rows dead; the arrays are compacted when a quarter of them are dead.
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from crm_lib.search.filters import Filters

#: the payload keys a delete can name, and the ones a filter can
DELETE_KEYS = ("doc_key", "email_id", "field_key")
CODED = ("doc_type", "team_member")
#: a point's sparse vectors: name -> (indices, weights)
SparseVectors = dict[str, tuple[Sequence[int], Sequence[float]]]
#: scores equal to this many decimals share a rank in the fusion
TIE_DECIMALS = 9
#: compact when this many rows, and a quarter of all rows, are dead
COMPACT_MIN = 1_000


class _Postings:
    """One sparse vector's postings: per term, the rows holding it and their weights."""

    def __init__(self) -> None:
        self.terms: dict[int, tuple[array, array]] = {}

    def add(
        self,
        first_row: int,
        indices: Sequence[Sequence[int]],
        values: Sequence[Sequence[float]],
    ) -> None:
        """Rows ``first_row``, ``first_row + 1``, … with these sparse vectors, grouped by term
        with numpy rather than appended term by term (a restart loads 50,000 chunks)."""
        lengths = np.fromiter(map(len, indices), dtype=np.int64, count=len(indices))
        total = int(lengths.sum())
        if not total:
            return
        terms = np.fromiter(itertools.chain.from_iterable(indices), dtype=np.int64, count=total)
        weights = np.fromiter(itertools.chain.from_iterable(values), dtype=np.float64, count=total)
        rows = np.repeat(np.arange(first_row, first_row + len(indices), dtype=np.int32), lengths)
        order = np.argsort(terms, kind="stable")
        terms, rows, weights = terms[order], rows[order], weights[order]
        cuts = np.flatnonzero(np.diff(terms)) + 1
        starts = np.concatenate(([0], cuts))
        ends = np.concatenate((cuts, [total]))
        for term, start, end in zip(terms[starts].tolist(), starts, ends, strict=True):
            posting = self.terms.get(term)
            if posting is None:
                posting = self.terms[term] = (array("i"), array("d"))
            posting[0].frombytes(rows[start:end].tobytes())
            posting[1].frombytes(weights[start:end].tobytes())

    def remap(self, new_row: np.ndarray, alive: np.ndarray) -> None:
        """Drop dead rows and renumber the rest (``new_row[old] = new``)."""
        kept: dict[int, tuple[array, array]] = {}
        for index, (rows, values) in self.terms.items():
            old = np.frombuffer(rows, dtype=np.int32)
            keep = alive[old]
            if keep.any():
                kept[index] = (
                    array("i", new_row[old[keep]].astype(np.int32).tobytes()),
                    array("d", np.frombuffer(values, dtype=np.float64)[keep].tobytes()),
                )
        self.terms = kept

    def scores(
        self, query: Sequence[tuple[int, float]], alive: np.ndarray, size: int
    ) -> np.ndarray:
        """Each row's score for ``query`` ((index, weight) pairs), IDF over the live rows."""
        total = np.zeros(size, dtype=np.float64)
        documents = int(np.count_nonzero(alive))
        for index, weight in query:
            posting = self.terms.get(index)
            if posting is None:
                continue
            rows = np.frombuffer(posting[0], dtype=np.int32)
            live = alive[rows]
            frequency = int(np.count_nonzero(live))
            if not frequency:
                continue
            idf = math.log((documents - frequency + 0.5) / (frequency + 0.5) + 1)
            total[rows] += np.frombuffer(posting[1], dtype=np.float64) * (weight * idf)
        return total


class MemoryIndex:
    """The chunks' vectors and filterable payload, as arrays."""

    def __init__(self, dim: int, sparse_names: Sequence[str]) -> None:
        self.dim = dim
        self.sparse_names = tuple(sparse_names)
        self.clear()

    def clear(self) -> None:
        self.ids: list[str] = []
        self.row_of: dict[str, int] = {}
        self.size = 0
        self.dead = 0
        self.alive = np.zeros(0, dtype=bool)
        self.dense = np.zeros((0, self.dim), dtype=np.float32)
        self.lp_id = np.zeros(0, dtype=np.int64)
        self.date_ts = np.zeros(0, dtype=np.float64)
        self.codes: dict[str, dict[str, int]] = {key: {} for key in CODED}
        self.coded = {key: np.zeros(0, dtype=np.int32) for key in CODED}
        self.by_key: dict[str, dict[Any, list[int]]] = {key: {} for key in DELETE_KEYS}
        self.postings = {name: _Postings() for name in self.sparse_names}

    def __len__(self) -> int:
        return self.size - self.dead

    # writes -------------------------------------------------------------------------------

    def add(
        self,
        points: Sequence[tuple[str, Sequence[float], SparseVectors, dict[str, Any]]],
    ) -> None:
        """Points as (id, dense vector, sparse vectors by name, payload), each replacing any
        earlier point with its id."""
        if not points:
            return
        if len({point[0] for point in points}) < len(points):  # the last of an id wins
            points = list({point[0]: point for point in points}.values())
        replaced = [self.row_of[point_id] for point_id, *_ in points if point_id in self.row_of]
        self._kill(replaced)
        first = self.size
        last = first + len(points)
        self._grow(last)
        vectors = np.asarray([dense for _, dense, _, _ in points], dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.dense[first:last] = vectors / np.where(norms > 0, norms, 1)
        self.alive[first:last] = True
        for row, (point_id, _, _, payload) in enumerate(points, start=first):
            lp_id = payload.get("lp_id")
            self.lp_id[row] = -1 if lp_id is None else int(lp_id)
            date_ts = payload.get("date_ts")
            self.date_ts[row] = np.nan if date_ts is None else float(date_ts)
            for key in CODED:
                value = payload.get(key)
                self.coded[key][row] = (
                    -1 if value is None else self.codes[key].setdefault(value, len(self.codes[key]))
                )
            for key in DELETE_KEYS:
                value = payload.get(key)
                if value is not None:
                    self.by_key[key].setdefault(value, []).append(row)
            self.ids.append(point_id)
            self.row_of[point_id] = row
        for name in self.sparse_names:
            self.postings[name].add(
                first,
                [sparse[name][0] for _, _, sparse, _ in points],
                [sparse[name][1] for _, _, sparse, _ in points],
            )
        self.size = last

    def ids_where(self, key: str, values: Iterable[Any]) -> list[str]:
        """The live points whose payload ``key`` (one of :data:`DELETE_KEYS`) is in ``values``."""
        return [
            self.ids[row]
            for value in values
            for row in self.by_key[key].get(value, ())
            if self.alive[row]
        ]

    def delete_where(self, key: str, values: Iterable[Any]) -> None:
        """Drop the points whose payload ``key`` (one of :data:`DELETE_KEYS`) is in ``values``."""
        rows = [row for value in values for row in self.by_key[key].pop(value, ())]
        self._kill(rows)
        if self.dead > max(COMPACT_MIN, self.size // 4):
            self._compact()

    def _kill(self, rows: Iterable[int]) -> None:
        for row in rows:
            if self.alive[row]:
                self.alive[row] = False
                self.dead += 1
                self.row_of.pop(self.ids[row], None)

    def _grow(self, needed: int) -> None:
        if needed <= len(self.alive):
            return
        capacity = max(needed, 2 * len(self.alive), 1_024)
        extra = capacity - len(self.alive)
        self.alive = np.concatenate([self.alive, np.zeros(extra, dtype=bool)])
        self.dense = np.concatenate([self.dense, np.zeros((extra, self.dim), dtype=np.float32)])
        self.lp_id = np.concatenate([self.lp_id, np.zeros(extra, dtype=np.int64)])
        self.date_ts = np.concatenate([self.date_ts, np.zeros(extra, dtype=np.float64)])
        for key in CODED:
            self.coded[key] = np.concatenate([self.coded[key], np.zeros(extra, dtype=np.int32)])

    def _compact(self) -> None:
        live = self.alive[: self.size]
        new_row = np.cumsum(live) - 1
        keep = np.nonzero(live)[0]
        self.ids = [self.ids[row] for row in keep]
        self.row_of = {point_id: row for row, point_id in enumerate(self.ids)}
        self.dense = self.dense[keep].copy()
        self.lp_id = self.lp_id[keep].copy()
        self.date_ts = self.date_ts[keep].copy()
        for key in CODED:
            self.coded[key] = self.coded[key][keep].copy()
        for key in DELETE_KEYS:
            self.by_key[key] = {
                value: [int(new_row[row]) for row in rows if live[row]]
                for value, rows in self.by_key[key].items()
            }
            self.by_key[key] = {value: rows for value, rows in self.by_key[key].items() if rows}
        for postings in self.postings.values():
            postings.remap(new_row, live)
        self.size = len(keep)
        self.alive = np.ones(self.size, dtype=bool)
        self.dead = 0

    # queries ------------------------------------------------------------------------------

    def allowed(self, filters: Filters) -> np.ndarray:
        """The live rows that pass ``filters``."""
        allowed = self.alive[: self.size].copy()
        if filters.investor_id is not None:
            allowed &= self.lp_id[: self.size] == filters.investor_id
        for key, value in (("team_member", filters.team_member), ("doc_type", filters.doc_type)):
            if value:
                code = self.codes[key].get(value)
                if code is None:
                    return np.zeros(self.size, dtype=bool)
                allowed &= self.coded[key][: self.size] == code
        dates = self.date_ts[: self.size]
        with np.errstate(invalid="ignore"):
            if filters.since_ts is not None:
                allowed &= dates >= filters.since_ts
            if filters.until_ts is not None:
                allowed &= dates < filters.until_ts
        return allowed

    def dense_scores(self, query: Sequence[float]) -> np.ndarray:
        """Every row's cosine with ``query``."""
        vector = np.asarray(query, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if not norm:
            return np.zeros(self.size, dtype=np.float64)
        return (self.dense[: self.size] @ (vector / norm)).astype(np.float64)

    def sparse_scores(self, name: str, query: Sequence[tuple[int, float]]) -> np.ndarray:
        """Every row's score on the sparse vector ``name`` for ``query``."""
        return self.postings[name].scores(query, self.alive[: self.size], self.size)

    def dense_top(
        self, query: Sequence[float], allowed: np.ndarray, limit: int
    ) -> list[tuple[str, float]]:
        """The ``limit`` best (id, cosine) among the allowed rows."""
        if not allowed.any():
            return []
        return self._top(self.dense_scores(query), allowed, limit)

    def sparse_top(
        self,
        name: str,
        query: Sequence[tuple[int, float]],
        allowed: np.ndarray,
        limit: int,
        threshold: float,
    ) -> list[tuple[str, float]]:
        """The ``limit`` best (id, score) among the allowed rows scoring above ``threshold``."""
        if not query or not allowed.any():
            return []
        scores = self.sparse_scores(name, query)
        return self._top(scores, allowed & (scores > threshold), limit)

    def fused_top(
        self, signals: Sequence[tuple[np.ndarray, np.ndarray]], k: int, limit: int
    ) -> list[tuple[str, float]]:
        """Reciprocal rank fusion over every row: each signal is (scores, eligible rows), and
        an eligible row adds ``1 / (k + rank)``, its rank being one more than the number of
        eligible rows scoring strictly higher. Equal scores share a rank, so the same notice
        sent to 300 investors (300 chunks, one score) counts as one place in each list, and
        agreement between lists decides, not which copies a top 100 happened to take."""
        fused = np.zeros(self.size, dtype=np.float64)
        reached = np.zeros(self.size, dtype=bool)
        for scores, eligible in signals:
            if not eligible.any():
                continue
            # to 9 decimals: the same text must tie however its sums were ordered
            rounded = np.round(scores[eligible], TIE_DECIMALS)
            descending = -np.sort(rounded)[::-1]
            ranks = 1 + np.searchsorted(descending, -rounded, side="left")
            fused[eligible] += 1.0 / (k + ranks)
            reached |= eligible
        return self._top(fused, reached, limit)

    def _top(self, scores: np.ndarray, allowed: np.ndarray, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` best allowed rows, best first, equal scores by id: the same answer
        whatever the limit (a tie at the cut is settled by id, not by where the rows lie)."""
        rows = np.nonzero(allowed)[0]
        if len(rows) > limit:
            values = scores[rows]
            cut = np.partition(values, len(rows) - limit)[len(rows) - limit]
            rows = rows[values >= cut]
        ranked = sorted((-float(scores[row]), self.ids[row]) for row in rows)[:limit]
        return [(point_id, -negative) for negative, point_id in ranked]
