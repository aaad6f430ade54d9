"""The one client of Qdrant: the collection of chunks, writes, and the three kinds of query.

Each chunk is a point with a named dense vector (``dense``, cosine) and a named sparse vector
(``sparse``, Qdrant's IDF modifier: BM25-style scores from term counts). *Semantic* queries the
dense vector, *keyword* the sparse one, *hybrid* prefetches both and fuses them with RRF inside
Qdrant's ``query_points``. Filters (investor, team member, type, dates) are payload conditions
applied inside the query.

Local mode (``QdrantClient(path=...)``) holds a lock on its folder: one process at a time, the
server. :class:`IndexBusy` says so to any other process. ``QDRANT_URL`` points at a Qdrant
server instead; tests use ``:memory:``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from qdrant_client import QdrantClient, models

from crm_lib.config import Settings
from crm_lib.errors import CRMError, ExternalServiceError
from crm_lib.search import analyzer
from crm_lib.search.chunks import Document, chunks_of
from crm_lib.search.embedders import Embedder

COLLECTION = "crm_chunks"
MODES = ("hybrid", "semantic", "keyword")
DOC_TYPES = ("email", "note", "field")
#: How many candidates each side of a hybrid query brings to the fusion.
PREFETCH = 100
EMBED_BATCH = 256
#: A keyword score above this means at least one query term is in the chunk (local mode also
#: returns chunks sharing none, at 0).
MATCHED = 1e-9


class IndexBusy(CRMError):
    """Another process (the server) holds the local index."""

    code = "search_busy"
    http_status = 503


@dataclass(frozen=True)
class Filters:
    investor_id: int | None = None
    team_member: str | None = None
    doc_type: str | None = None
    since_ts: float | None = None
    until_ts: float | None = None

    def to_qdrant(self) -> models.Filter | None:
        must: list[Any] = []
        if self.investor_id is not None:
            must.append(
                models.FieldCondition(key="lp_id", match=models.MatchValue(value=self.investor_id))
            )
        if self.team_member:
            must.append(
                models.FieldCondition(
                    key="team_member", match=models.MatchValue(value=self.team_member)
                )
            )
        if self.doc_type:
            must.append(
                models.FieldCondition(key="doc_type", match=models.MatchValue(value=self.doc_type))
            )
        if self.since_ts is not None or self.until_ts is not None:
            must.append(
                models.FieldCondition(
                    key="date_ts", range=models.Range(gte=self.since_ts, lt=self.until_ts)
                )
            )
        return models.Filter(must=must) if must else None


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
        self, client: QdrantClient, embedder: Embedder, *, payload_indexes: bool = False
    ) -> None:
        self.client = client
        self.embedder = embedder
        #: a Qdrant server uses payload indexes for filters; local mode has none (it warns)
        self.payload_indexes = payload_indexes
        #: local mode is numpy arrays in this process: one sync or query at a time
        self.lock = threading.RLock()

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
                    "sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
            )
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
        return self.client.count(COLLECTION, exact=True).count

    def upsert(self, documents: Sequence[Document]) -> int:
        """Index these documents, replacing their earlier chunks; returns the chunks written."""
        if documents:
            self.delete_documents([d.key for d in documents])
        chunks = [c for d in documents for c in chunks_of(d)]
        for start in range(0, len(chunks), EMBED_BATCH):
            part = chunks[start : start + EMBED_BATCH]
            vectors = self.embedder.embed([c.embedded for c in part])
            points = []
            for chunk, vector in zip(part, vectors, strict=True):
                indices, values = analyzer.sparse(chunk.embedded)
                points.append(
                    models.PointStruct(
                        id=chunk.id,
                        vector={
                            "dense": vector.tolist(),
                            "sparse": models.SparseVector(indices=indices, values=values),
                        },
                        payload={**chunk.document.payload(), "text": chunk.text},
                    )
                )
            self.client.upsert(COLLECTION, points, wait=True)
        return len(chunks)

    def delete_documents(self, keys: Iterable[str]) -> None:
        keys = list(keys)
        for start in range(0, len(keys), 500):
            self._delete(
                models.FieldCondition(
                    key="doc_key", match=models.MatchAny(any=keys[start : start + 500])
                )
            )

    def delete_where(self, key: str, value: Any) -> None:
        """Drop every chunk whose payload ``key`` is ``value`` (an archived field's chunks)."""
        self._delete(models.FieldCondition(key=key, match=models.MatchValue(value=value)))

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
        """The best ``limit`` chunks for ``query`` in ``mode``, within ``filters``."""
        where = filters.to_qdrant()
        indices, values = analyzer.sparse(query)
        sparse_query = models.SparseVector(indices=indices, values=[1.0] * len(values))
        if mode == "keyword":
            if not indices:
                return []
            result = self.client.query_points(
                COLLECTION,
                query=sparse_query,
                using="sparse",
                query_filter=where,
                limit=limit,
                score_threshold=MATCHED,
                with_payload=True,
            )
        else:
            dense = self.embedder.embed([query])[0].tolist()
            if mode == "semantic" or not indices:
                result = self.client.query_points(
                    COLLECTION,
                    query=dense,
                    using="dense",
                    query_filter=where,
                    limit=limit,
                    with_payload=True,
                )
            else:
                result = self.client.query_points(
                    COLLECTION,
                    prefetch=[
                        models.Prefetch(
                            query=dense, using="dense", filter=where, limit=max(PREFETCH, limit)
                        ),
                        models.Prefetch(
                            query=sparse_query,
                            using="sparse",
                            filter=where,
                            limit=max(PREFETCH, limit),
                            score_threshold=MATCHED,
                        ),
                    ],
                    query=models.FusionQuery(fusion=models.Fusion.RRF),
                    limit=limit,
                    with_payload=True,
                )
        return [Hit(p.score, dict(p.payload or {})) for p in result.points]


def open_index(
    settings: Settings, embedder: Embedder, *, location: str | None = None
) -> SearchIndex:
    """The index the settings name (see :func:`open_client`)."""
    client = open_client(settings, location=location)
    return SearchIndex(client, embedder, payload_indexes=bool(settings.qdrant_url) and not location)


def _failure(exc: Exception) -> ExternalServiceError:
    return ExternalServiceError("qdrant", f"Qdrant refused the request ({type(exc).__name__})")
