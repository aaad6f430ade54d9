"""The one client of Qdrant: the collection of chunks, writes, and the three kinds of query.

Each chunk is a point with a named dense vector (``dense``, cosine) and two named sparse vectors
with Qdrant's IDF modifier (BM25 scores, see :mod:`~crm_lib.search.analyzer`): ``sparse``, the
stemmed words, and ``grams``, their character trigrams. *Semantic* queries the dense vector,
*keyword* the words, *hybrid* all three (dense and words also for the fund glossary's English
names of what the query mentions, see :mod:`~crm_lib.search.glossary`; grams for misspellings)
fused by reciprocal rank (k = 60, the constant of the RRF paper; Qdrant's default of 2 lets one
list's top hits outvote agreement between lists). Filters (investor, team member, type, dates)
are payload conditions applied inside the query.

Local mode (``QdrantClient(path=...)``) holds a lock on its folder: one process at a time, the
server. :class:`IndexBusy` says so to any other process. Local mode scores in Python point by
point, so its queries are answered from :class:`~crm_lib.search.memory.MemoryIndex`, which holds
the same vectors as arrays, and whose hybrid fuses every chunk's ranks with equal scores sharing
a rank (see ``MemoryIndex.fused_top``: the same notice sent to many investors is many chunks with
one score). A Qdrant server (``QDRANT_URL``) answers with ``query_points``: each list's top
:data:`PREFETCH` fused by Qdrant's RRF, where tied copies take successive ranks. Tests use
``:memory:``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qdrant_client import QdrantClient, models

from crm_lib.config import Settings
from crm_lib.errors import CRMError, ExternalServiceError
from crm_lib.search import analyzer, glossary
from crm_lib.search.chunks import Document, chunks_of
from crm_lib.search.embedders import Embedder
from crm_lib.search.filters import Filters
from crm_lib.search.memory import MemoryIndex, SparseVectors

COLLECTION = "crm_chunks"
MODES = ("hybrid", "semantic", "keyword")
DOC_TYPES = ("email", "note", "field")
#: How many candidates each side of a hybrid query brings to the fusion.
PREFETCH = 100
EMBED_BATCH = 256
#: A keyword score above this means at least one query term is in the chunk (local mode also
#: returns chunks sharing none, at 0).
MATCHED = 1e-9
#: RRF's rank constant (see the module docstring).
RRF_K = 60
#: The weight of the glossary's words beside the words typed (1).
EXPANSION_WEIGHT = 0.5
SPARSE_NAMES = ("sparse", "grams")


class IndexBusy(CRMError):
    """Another process (the server) holds the local index."""

    code = "search_busy"
    http_status = 503


@dataclass(frozen=True)
class Query:
    """One query as each vector sees it."""

    dense: list[float] | None
    words: list[tuple[int, float]]  # (term index, weight)
    grams: list[tuple[int, float]]

    @staticmethod
    def sparse_vector(pairs: list[tuple[int, float]]) -> models.SparseVector:
        return models.SparseVector(indices=[i for i, _ in pairs], values=[w for _, w in pairs])


@dataclass(frozen=True)
class Hit:
    score: float
    payload: dict[str, Any]


def open_client(settings: Settings, *, location: str | None = None) -> QdrantClient:
    """A client of ``QDRANT_URL``, else of the local index under the data folder (or of
    ``location``, e.g. ``":memory:"``). Raises :class:`IndexBusy` when another process holds
    the local index."""
    if location is not None:
        return QdrantClient(location=location)
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key or None)
    settings.search_dir.mkdir(parents=True, exist_ok=True)
    try:
        return QdrantClient(path=str(settings.search_dir))
    except RuntimeError as exc:
        if "already accessed by another instance" in str(exc):
            raise IndexBusy(
                "The search index is open in another process (the running server): search"
                " through it (the search box, GET /api/search, or `crm search` with"
                " CRM_API_TOKEN set), or stop the server"
            ) from None
        raise


class SearchIndex:
    """Chunks in Qdrant, embedded by ``embedder``."""

    def __init__(
        self,
        client: QdrantClient,
        embedder: Embedder,
        *,
        payload_indexes: bool = False,
        local: bool = False,
    ) -> None:
        self.client = client
        self.embedder = embedder
        #: a Qdrant server uses payload indexes for filters; local mode has none (it warns)
        self.payload_indexes = payload_indexes
        #: local mode is numpy arrays in this process: one sync or query at a time
        self.lock = threading.RLock()
        #: local mode's queries are answered from arrays (see the module docstring)
        self.memory = MemoryIndex(embedder.dim, SPARSE_NAMES) if local else None
        if self.memory is not None and self.exists():
            self._tune_local_store()
            self._load_memory()

    @property
    def stamp(self) -> str:
        """What built the vectors: a different stamp means the index must be rebuilt."""
        return f"{self.embedder.stamp}|{analyzer.STAMP}|chunks-800-160"

    def reset(self) -> None:
        """An empty collection for this embedder (dropping any other)."""
        try:
            if self.client.collection_exists(COLLECTION):
                self.client.delete_collection(COLLECTION)
            self.client.create_collection(
                COLLECTION,
                vectors_config={
                    "dense": models.VectorParams(
                        size=self.embedder.dim, distance=models.Distance.COSINE
                    )
                },
                sparse_vectors_config={
                    name: models.SparseVectorParams(modifier=models.Modifier.IDF)
                    for name in SPARSE_NAMES
                },
            )
            if self.memory is not None:
                self.memory.clear()
                self._tune_local_store()
            for key, kind in (
                ()
                if not self.payload_indexes
                else (
                    ("lp_id", models.PayloadSchemaType.INTEGER),
                    ("doc_key", models.PayloadSchemaType.KEYWORD),
                    ("doc_type", models.PayloadSchemaType.KEYWORD),
                    ("team_member", models.PayloadSchemaType.KEYWORD),
                    ("field_key", models.PayloadSchemaType.KEYWORD),
                    ("date_ts", models.PayloadSchemaType.FLOAT),
                )
            ):
                self.client.create_payload_index(COLLECTION, key, kind)
        except Exception as exc:  # the server refused: say which service
            raise _failure(exc) from None

    def exists(self) -> bool:
        return self.client.collection_exists(COLLECTION)

    def count(self) -> int:
        if self.memory is not None:
            return len(self.memory)
        return self.client.count(COLLECTION, exact=True).count

    def _tune_local_store(self) -> None:
        """Local mode writes each point in its own SQLite commit, each an fsync: more than
        half of indexing time. Write-ahead logging with ``synchronous=NORMAL`` keeps the store
        consistent through a crash without an fsync per commit (a power cut may lose the last
        commits; the index is rebuilt from the database with ``crm search reindex``). Reaches
        into qdrant-client's local storage: if that changes shape, nothing is tuned."""
        collections = getattr(getattr(self.client, "_client", None), "collections", None) or {}
        persistence = getattr(collections.get(COLLECTION), "storage", None)
        connection = getattr(persistence, "storage", None)
        # qdrant-client's own stdlib SQLite connection, on its own file (never one of ours:
        # those go through crm_lib.storage), recognised without importing sqlite3
        if type(connection).__module__ == "sqlite3" and hasattr(connection, "execute"):
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")

    def _load_memory(self) -> None:
        """The stored points into the arrays (at start, in local mode)."""
        assert self.memory is not None
        self.memory.clear()
        # one page: qdrant-client's local scroll sorts every id for each page it serves
        points, _ = self.client.scroll(
            COLLECTION,
            limit=max(1, self.client.count(COLLECTION, exact=True).count),
            with_payload=True,
            with_vectors=True,
        )
        for start in range(0, len(points), 5_000):
            self.memory.add([_arrays_of(point) for point in points[start : start + 5_000]])

    def upsert(self, documents: Sequence[Document], *, fresh: bool = False) -> int:
        """Index these documents, replacing their earlier chunks (``fresh``: there are none, as
        in a rebuild); returns the chunks written."""
        if documents and not fresh:
            self.delete_documents([d.key for d in documents])
        chunks = [c for d in documents for c in chunks_of(d)]
        for start in range(0, len(chunks), EMBED_BATCH):
            part = chunks[start : start + EMBED_BATCH]
            vectors = self.embedder.embed([c.embedded for c in part])
            points = []
            for chunk, vector in zip(part, vectors, strict=True):
                sparse = {
                    "sparse": analyzer.sparse(chunk.embedded),
                    "grams": analyzer.sparse_grams(chunk.embedded),
                }
                points.append(
                    models.PointStruct(
                        id=chunk.id,
                        vector={
                            "dense": vector.tolist(),
                            **{
                                name: models.SparseVector(indices=indices, values=values)
                                for name, (indices, values) in sparse.items()
                            },
                        },
                        payload={**chunk.document.payload(), "text": chunk.text},
                    )
                )
            self.client.upsert(COLLECTION, points, wait=True)
            if self.memory is not None:
                self.memory.add([_arrays_of(point) for point in points])
        return len(chunks)

    def delete_documents(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        if self.memory is not None:
            self._delete_local("doc_key", keys)
            return
        for start in range(0, len(keys), 500):
            self._delete(
                models.FieldCondition(
                    key="doc_key", match=models.MatchAny(any=keys[start : start + 500])
                )
            )

    def delete_where(self, key: str, value: Any) -> None:
        """Drop every chunk whose payload ``key`` (``email_id``, ``field_key``) is ``value``."""
        if self.memory is not None:
            self._delete_local(key, [value])
            return
        self._delete(models.FieldCondition(key=key, match=models.MatchValue(value=value)))

    def _delete_local(self, key: str, values: list[Any]) -> None:
        """Local mode: the arrays know the points' ids, and deleting by id spares Qdrant a
        payload check of every point per delete (quadratic over a sync)."""
        assert self.memory is not None
        ids = self.memory.ids_where(key, values)
        if ids:
            self.client.delete(
                COLLECTION, points_selector=models.PointIdsList(points=ids), wait=True
            )
        self.memory.delete_where(key, values)

    def set_lp_name(self, investor_id: int, name: str) -> None:
        """A renamed investor's name on all its chunks."""
        self.client.set_payload(
            COLLECTION,
            payload={"lp_name": name},
            points=models.FilterSelector(
                filter=models.Filter(
                    must=[
                        models.FieldCondition(
                            key="lp_id", match=models.MatchValue(value=investor_id)
                        )
                    ]
                )
            ),
            wait=True,
        )

    def _delete(self, condition: models.FieldCondition) -> None:
        self.client.delete(
            COLLECTION,
            points_selector=models.FilterSelector(filter=models.Filter(must=[condition])),
            wait=True,
        )

    def search(self, query: str, mode: str, filters: Filters, limit: int) -> list[Hit]:
        """The best ``limit`` chunks for ``query`` in ``mode``, within ``filters``. A query
        with no word in it ("???", "—") finds nothing: its embedding would rank chunks at
        random."""
        if not analyzer.words(query):
            return []
        built = self.query(query, mode)
        if mode == "keyword" and not built.words:
            return []
        if self.memory is not None:
            return self._search_memory(built, mode, filters, limit)
        where = filters.to_qdrant()
        depth = max(PREFETCH, limit)
        if mode == "keyword":
            result = self.client.query_points(
                COLLECTION,
                query=Query.sparse_vector(built.words),
                using="sparse",
                query_filter=where,
                limit=limit,
                score_threshold=MATCHED,
                with_payload=True,
            )
        elif mode == "semantic" or not (built.words or built.grams):
            result = self.client.query_points(
                COLLECTION,
                query=built.dense,
                using="dense",
                query_filter=where,
                limit=limit,
                with_payload=True,
            )
        else:
            result = self.client.query_points(
                COLLECTION,
                prefetch=[
                    models.Prefetch(query=built.dense, using="dense", filter=where, limit=depth),
                    *(
                        models.Prefetch(
                            query=Query.sparse_vector(pairs),
                            using=name,
                            filter=where,
                            limit=depth,
                            score_threshold=MATCHED,
                        )
                        for name, pairs in (("sparse", built.words), ("grams", built.grams))
                        if pairs
                    ),
                ],
                query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                limit=limit,
                with_payload=True,
            )
        return [Hit(p.score, dict(p.payload or {})) for p in result.points]

    def query(self, text: str, mode: str) -> Query:
        """``text`` as the vectors of ``mode`` see it: keyword takes the words as typed;
        semantic and hybrid add the glossary's English names of the concepts mentioned."""
        typed = analyzer.query_terms(text)
        if mode == "keyword":
            return Query(None, [(i, 1.0) for i in typed], [])
        expansion = glossary.expand(text)
        seen = set(typed)
        words = [(i, 1.0) for i in typed]
        for phrase in expansion.english:
            for index in analyzer.query_terms(phrase):
                if index not in seen:
                    seen.add(index)
                    words.append((index, EXPANSION_WEIGHT))
        embedded = f"{text} ({'; '.join(expansion.names)})" if expansion.concepts else text
        dense = self.embedder.embed([embedded])[0].tolist()
        if mode == "semantic":
            return Query(dense, [], [])
        return Query(dense, words, [(i, 1.0) for i in analyzer.query_grams(text)])

    def _search_memory(self, built: Query, mode: str, filters: Filters, limit: int) -> list[Hit]:
        """:meth:`search` in local mode, from the arrays (same scores as Qdrant's)."""
        assert self.memory is not None
        allowed = self.memory.allowed(filters)
        if mode == "keyword":
            ranked = self.memory.sparse_top("sparse", built.words, allowed, limit, MATCHED)
        elif mode == "semantic" or not (built.words or built.grams):
            assert built.dense is not None
            ranked = self.memory.dense_top(built.dense, allowed, limit)
        else:
            assert built.dense is not None
            signals = [(self.memory.dense_scores(built.dense), allowed)]
            for name, pairs in (("sparse", built.words), ("grams", built.grams)):
                if pairs:
                    scores = self.memory.sparse_scores(name, pairs)
                    signals.append((scores, allowed & (scores > MATCHED)))
            ranked = self.memory.fused_top(signals, RRF_K, limit)
        if not ranked:
            return []
        records = {
            str(r.id): r
            for r in self.client.retrieve(
                COLLECTION, [i for i, _ in ranked], with_payload=True, with_vectors=False
            )
        }
        return [
            Hit(score, dict(records[point_id].payload or {}))
            for point_id, score in ranked
            if point_id in records
        ]


def _arrays_of(point: Any) -> tuple[str, list[float], SparseVectors, dict[str, Any]]:
    """A stored or new point as :meth:`MemoryIndex.add` takes it."""
    vectors = point.vector
    return (
        str(point.id),
        vectors["dense"],
        {
            name: (vectors[name].indices, vectors[name].values) if name in vectors else ([], [])
            for name in SPARSE_NAMES
        },
        dict(point.payload or {}),
    )


def open_index(
    settings: Settings, embedder: Embedder, *, location: str | None = None
) -> SearchIndex:
    """The index the settings name (see :func:`open_client`)."""
    client = open_client(settings, location=location)
    server = bool(settings.qdrant_url) and not location
    return SearchIndex(client, embedder, payload_indexes=server, local=not server)


def _failure(exc: Exception) -> ExternalServiceError:
    return ExternalServiceError("qdrant", f"Qdrant refused the request ({type(exc).__name__})")
