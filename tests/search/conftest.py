"""Search fixtures: the mail tests' team and investors, the real default embedder (wordllama,
loaded once) and a Qdrant index in memory."""

from __future__ import annotations

import pytest

from crm_lib.context import Context
from crm_lib.search.embedders import WordLlamaEmbedder
from crm_lib.search.index import SearchIndex, open_client
from tests.mail.conftest import ALICE, BOB, crm, day  # noqa: F401 (crm is a fixture)

__all__ = ["ALICE", "BOB", "day"]


@pytest.fixture(scope="session")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


@pytest.fixture
def index(ctx: Context, embedder: WordLlamaEmbedder) -> SearchIndex:
    """Queried from arrays, as local mode on disk is (see crm_lib/search/memory.py)."""
    return SearchIndex(open_client(ctx.settings, location=":memory:"), embedder, local=True)
