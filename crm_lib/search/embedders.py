"""Dense vectors: one interface, three kinds of embedder.

* ``wordllama`` (default): static 256-dimension embeddings whose weights ship in the wheel,
  loaded from the package folder with downloads disabled (notes/stack.md), so it works offline.
* ``sentence-transformers:<folder>``: a model already on disk (needs the sentence-transformers
  package and torch, which the project does not install: the message says so).
* ``CRM_EMBEDDINGS_URL``: an OpenAI-compatible ``/embeddings`` endpoint on this machine or the
  office network (the text of mail goes there, so only private addresses are accepted).

Vectors are L2-normalised float32; :attr:`Embedder.stamp` names the model, so an index built
with another one is rebuilt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import numpy as np

from crm_lib.config import Settings
from crm_lib.errors import ConfigError, ExternalServiceError
from crm_lib.private_network import check_private_url

BATCH = 256


class Embedder(Protocol):
    stamp: str
    dim: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class WordLlamaEmbedder:
    """wordllama's ``l2_supercat`` 256-d model, from the weights in its wheel."""

    stamp = "wordllama-l2_supercat-256"
    dim = 256

    def __init__(self) -> None:
        import wordllama
        from wordllama import WordLlama

        self.model = WordLlama.load(
            cache_dir=Path(wordllama.__file__).parent, disable_download=True
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalised(self.model.embed(texts))


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a folder on disk (never downloaded)."""

    def __init__(self, folder: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ConfigError(
                "CRM_EMBEDDER=sentence-transformers:... needs the sentence-transformers package"
                " (and torch) installed; the default embedder is wordllama"
            ) from None
        if not Path(folder).is_dir():
            raise ConfigError(f"CRM_EMBEDDER: no model folder at {folder}")
        self.model = SentenceTransformer(folder, local_files_only=True)
        self.dim = int(self.model.get_sentence_embedding_dimension())
        self.stamp = f"sentence-transformers-{Path(folder).name}-{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        return _normalised(self.model.encode(texts, batch_size=64))


@dataclass
class EndpointEmbedder:
    """An OpenAI-compatible embeddings endpoint on the box or the office network."""

    url: str
    model: str
    timeout_s: float = 60.0
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    dim: int = 0
    stamp: str = ""

    def __post_init__(self) -> None:
        self.url = check_private_url(self.url, setting="CRM_EMBEDDINGS_URL")
        self.dim = len(self.embed(["dimension probe"])[0])
        self.stamp = f"endpoint-{self.model}-{self.dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        check_private_url(self.url, setting="CRM_EMBEDDINGS_URL")
        rows: list[list[float]] = []
        with httpx.Client(
            transport=self.transport, timeout=self.timeout_s, trust_env=False
        ) as client:
            for start in range(0, len(texts), BATCH):
                part = texts[start : start + BATCH]
                try:
                    response = client.post(
                        f"{self.url}/embeddings", json={"model": self.model, "input": part}
                    )
                except httpx.HTTPError as exc:
                    raise ExternalServiceError(
                        "embeddings", f"the embeddings server failed ({type(exc).__name__})"
                    ) from None
                rows += _vectors(response, len(part))
        return _normalised(np.array(rows, dtype=np.float32))


def _vectors(response: httpx.Response, expected: int) -> list[list[float]]:
    if response.status_code != 200:
        raise ExternalServiceError(
            "embeddings", f"the embeddings server answered HTTP {response.status_code}"
        )
    try:
        data: Any = json.loads(response.content)
        rows = [item["embedding"] for item in sorted(data["data"], key=lambda d: d["index"])]
    except (ValueError, KeyError, TypeError):
        raise ExternalServiceError("embeddings", "the embeddings answer is malformed") from None
    if len(rows) != expected:
        raise ExternalServiceError("embeddings", "the embeddings answer has the wrong length")
    return rows


def embedder_from_settings(settings: Settings) -> Embedder:
    """The configured embedder: ``CRM_EMBEDDINGS_URL``, else ``CRM_EMBEDDER``."""
    if settings.embeddings_url:
        return EndpointEmbedder(settings.embeddings_url, settings.embeddings_model)
    kind, _, where = settings.embedder.partition(":")
    if kind == "wordllama":
        return WordLlamaEmbedder()
    if kind == "sentence-transformers":
        return SentenceTransformerEmbedder(where)
    raise ConfigError(
        f"CRM_EMBEDDER must be wordllama or sentence-transformers:<folder>, not {settings.embedder!r}"
    )
