"""The models: the local model server lists the digest's model, and the Anthropic key is present,
well formed and sent only over HTTPS (or to this machine). Claude is never called."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpx

from crm_lib.config import Settings
from crm_lib.doctor.core import Finding, Setup, check
from crm_lib.doctor.network import (
    http_client,
    is_loopback,
    json_body,
    trust_fix,
    unreachable_reason,
)
from crm_lib.private_network import check_private_url


def _same_model(wanted: str, listed: str) -> bool:
    # Ollama lists "llama3:latest" for a model asked for as "llama3"
    return listed in (wanted, f"{wanted}:latest") or wanted == f"{listed}:latest"


@check("models")
def check_models(setup: Setup) -> Iterable[Finding]:
    yield from _local_model(setup)
    yield from _anthropic(setup.settings)


def _local_model(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    if not settings.local_llm_url:
        yield Finding(
            "ok", "No local model (CRM_LOCAL_LLM_URL unset): digest narratives come from the data"
        )
        return
    url = check_private_url(settings.local_llm_url, setting="CRM_LOCAL_LLM_URL")
    model = settings.local_llm_model
    if not model:
        yield Finding(
            "fail",
            "CRM_LOCAL_LLM_MODEL is not set: the digest cannot ask the local model",
            f"set it to one of the models {url}/models lists",
        )
        return
    fallback = "; the digest writes its narratives from the data meanwhile"
    try:
        with http_client(setup) as client:
            response = client.get(f"{url}/models")
    except httpx.HTTPError as exc:
        reason = unreachable_reason(exc, setup.timeout_s)
        yield Finding(
            "warn",
            f"The local model at {url} unreachable: {reason}{fallback}",
            "start the model server (`ollama serve`), or correct CRM_LOCAL_LLM_URL"
            + trust_fix(reason),
        )
        return
    body = json_body(response) if response.status_code == 200 else None
    entries = body.get("data") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        yield Finding(
            "warn",
            f"{url}/models answered HTTP {response.status_code}, not an OpenAI-compatible model "
            "list: cannot tell whether the model is there",
            "CRM_LOCAL_LLM_URL is the API's base, ending in /v1 (Ollama: "
            "http://127.0.0.1:11434/v1)",
        )
        return
    names = [e["id"] for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]
    if not any(_same_model(model, name) for name in names):
        listed = ", ".join(names[:8]) if names else "none"
        yield Finding(
            "warn",
            f"The local model {model!r} is not served at {url} (it has: {listed}){fallback}",
            f"load it (`ollama pull {model}`), or set CRM_LOCAL_LLM_MODEL to one it has",
        )
    else:
        yield Finding("ok", f"The local model {model} is served at {url}")


def _anthropic(settings: Settings) -> Iterable[Finding]:
    key = settings.anthropic_api_key
    if not key:
        yield Finding(
            "ok", "ANTHROPIC_API_KEY unset: the Ask page answers its curated questions only"
        )
        return
    base = urlsplit(settings.anthropic_base_url)
    if base.scheme != "https" and not is_loopback(base.hostname):
        yield Finding(
            "fail",
            f"ANTHROPIC_BASE_URL {settings.anthropic_base_url} is plain HTTP: the key and the "
            "questions cross the network readable",
            "use an https:// address",
        )
    described = f"{len(key)} characters"
    if key != key.strip("'\" \t") or any(c.isspace() for c in key):
        yield Finding(
            "warn",
            f"ANTHROPIC_API_KEY ({described}) holds quotes or spaces",
            "set it to the key alone, without quotes",
        )
    elif not re.fullmatch(r"sk-ant-[A-Za-z0-9_-]{20,}", key):
        yield Finding(
            "warn",
            f"ANTHROPIC_API_KEY ({described}) does not look like an Anthropic key "
            "(those start with sk-ant-)",
            "paste the key from console.anthropic.com (a gateway's key may look different)",
        )
    else:
        yield Finding(
            "ok",
            f"ANTHROPIC_API_KEY is set ({key[:7]}…, {described}; not tried: the doctor never "
            f"calls Claude), model {settings.anthropic_model}",
        )
