"""The one client of the local model: an OpenAI-compatible chat-completions server on this
machine or the office network (Ollama, llama.cpp's server, vLLM) that writes the digest's
narratives.

The digest holds real investors' names and email substance, so this client refuses any address
that is not loopback or a private network (:mod:`crm_lib.private_network`), checked when it is
built and again before each request. It never retries into a slow server: one request, one
deadline for the whole answer (connect, wait and read), an answer of at most
:data:`MAX_ANSWER_BYTES`. Every failure becomes :class:`ExternalServiceError` naming what
happened, and the caller falls back to the narrative written from the data. Neither the prompt
nor the answer is ever logged.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from crm_lib.config import Settings
from crm_lib.errors import ExternalServiceError
from crm_lib.private_network import Resolver, check_private_url, system_resolver

SERVICE = "local model"
MAX_ANSWER_BYTES = 256 * 1024


@dataclass
class LocalModel:
    """A chat model at ``url`` (the server's base, e.g. ``http://127.0.0.1:11434/v1``)."""

    url: str
    model: str
    timeout_s: float = 60.0
    resolver: Resolver = system_resolver
    #: tests pass a transport; production uses httpx's own
    transport: httpx.BaseTransport | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.url = check_private_url(self.url, setting="CRM_LOCAL_LLM_URL", resolver=self.resolver)
        if not self.model.strip():
            raise ExternalServiceError(SERVICE, "CRM_LOCAL_LLM_MODEL is not set")

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalModel | None:
        """The configured model, or None when ``CRM_LOCAL_LLM_URL`` is unset."""
        if not settings.local_llm_url:
            return None
        return cls(settings.local_llm_url, settings.local_llm_model, settings.local_llm_timeout_s)

    def chat(self, system: str, user: str, *, max_tokens: int = 600) -> str:
        """The model's answer to one system + user prompt, as text (untrusted: escape it)."""
        check_private_url(self.url, setting="CRM_LOCAL_LLM_URL", resolver=self.resolver)
        payload = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": 0.2,
            "max_tokens": max_tokens,
            "stream": False,
        }
        body = self._post(f"{self.url}/chat/completions", payload)
        return _answer_text(body)

    def _post(self, url: str, payload: dict[str, Any]) -> bytes:
        deadline = time.monotonic() + self.timeout_s
        timeout = httpx.Timeout(self.timeout_s)
        try:
            with (
                httpx.Client(
                    transport=self.transport,
                    timeout=timeout,
                    trust_env=False,
                    follow_redirects=False,
                ) as client,
                client.stream("POST", url, json=payload) as response,
            ):
                if response.status_code != 200:
                    raise ExternalServiceError(
                        SERVICE, f"the local model answered HTTP {response.status_code}"
                    )
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        raise ExternalServiceError(SERVICE, "the local model's answer is too long")
                    if time.monotonic() > deadline:
                        raise ExternalServiceError(
                            SERVICE, f"the local model took over {self.timeout_s:g} s"
                        )
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.TimeoutException:
            raise ExternalServiceError(
                SERVICE, f"the local model took over {self.timeout_s:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise ExternalServiceError(
                SERVICE, f"the local model could not be reached ({type(exc).__name__})"
            ) from None


def _answer_text(body: bytes) -> str:
    """``choices[0].message.content`` of a chat-completions answer, checked."""
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise ExternalServiceError(
            SERVICE, "the local model's answer is not a chat completion (malformed JSON)"
        ) from None
    if not isinstance(content, str) or not content.strip():
        raise ExternalServiceError(SERVICE, "the local model's answer is empty")
    return content.strip()
