"""Search from outside the server: the shell (`crm search`) and notebooks.

Why: local mode holds the index in one process. When no other process holds it, the search runs
here (after bringing the index up to date); while the server runs, it holds the index, and the
search goes through its ``GET /api/search`` with ``CRM_API_TOKEN`` (an API token from the
account page), or fails with a message naming that fix. The result is the same dict either way.

    from crm_lib.search_client import search
    search("re-up into Fund III", mode="hybrid")["hits"]
"""

from __future__ import annotations

from typing import Any

import httpx

import crm_lib
from crm_lib import running_server
from crm_lib.config import Settings, load_settings
from crm_lib.errors import ConfigError, ExternalServiceError
from crm_lib.search.index import IndexBusy


def search(
    query: str,
    *,
    mode: str = "hybrid",
    limit: int = 10,
    doc_type: str | None = None,
    investor_id: int | None = None,
    settings: Settings | None = None,
    actor: str = "system:notebook:search",
) -> dict[str, Any]:
    """Hits for ``query`` as :func:`crm_lib.services.run_search` returns them."""
    from crm_lib import services
    from crm_lib.services.search import open_search_index

    settings = settings or load_settings()
    try:
        index = open_search_index(settings)
    except IndexBusy:
        return _through_server(settings, query, mode, limit, doc_type, investor_id)
    ctx = crm_lib.open_crm(settings=settings, actor=actor)
    try:
        services.sync_search(ctx, index)
        return services.run_search(
            ctx, index, query, mode=mode, limit=limit, doc_type=doc_type, investor_id=investor_id
        )
    finally:
        ctx.close()
        index.client.close()


def _through_server(
    settings: Settings,
    query: str,
    mode: str,
    limit: int,
    doc_type: str | None,
    investor_id: int | None,
) -> dict[str, Any]:
    token = settings.api_token
    base = running_server.recorded_url(settings)
    if not token or not base:
        raise ConfigError(
            "The search index is held by the running server. Set CRM_API_TOKEN to one of your"
            " API tokens (account page) to search through it, or stop the server."
        )
    params: dict[str, Any] = {"q": query, "mode": mode, "limit": limit}
    if doc_type:
        params["doc_type"] = doc_type
    if investor_id:
        params["investor_id"] = investor_id
    try:
        response = httpx.get(
            f"{base}/api/search",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
            trust_env=False,
        )
    except httpx.HTTPError as exc:
        raise ExternalServiceError(
            "server", f"The server at {base} did not answer ({type(exc).__name__})"
        ) from None
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", "")
        except ValueError:
            detail = response.text[:200]
        raise ExternalServiceError("server", f"The server refused the search: {detail}")
    return response.json()
