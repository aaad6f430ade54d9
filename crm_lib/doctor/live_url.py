"""The public address users type (``crm doctor --url``): its ``/healthz`` requested through the
proxy, for HTTPS, the security headers the browser gets, and the scheme the app sees."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from crm_lib.config import Settings
from crm_lib.doctor.core import Finding, Setup
from crm_lib.doctor.network import (
    http_client,
    is_loopback,
    json_body,
    trust_fix,
    unreachable_reason,
)

#: Browsers should remember HTTPS for at least this long (180 days).
MIN_HSTS_SECONDS = 180 * 24 * 3600


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be checked as the public address (``--url``), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{url!r} is not an address like https://crm.example.com"
    if parts.query or parts.fragment:
        return f"{url!r}: give the address alone, without ?query or #fragment"
    return None


def check_live_url(setup: Setup, url: str) -> Iterable[Finding]:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    # plain HTTP on loopback is the app itself (it serves no TLS), not the proxy users go through
    direct = not https and is_loopback(parts.hostname)
    if direct:
        yield Finding(
            "warn",
            f"{url} is this machine's plain-HTTP address: it reaches the app, not what users get",
            "pass the public https:// address to --url",
        )
    plain = Finding(
        "fail",
        f"{url} serves plain HTTP: passwords and session cookies cross the network readable",
        "serve HTTPS through Caddy (deploy/Caddyfile) or `tailscale serve`, redirect HTTP to "
        "it, and check the https:// address",
    )
    health = f"{url}/healthz"
    started = time.monotonic()
    try:
        with http_client(setup) as client:
            response = client.get(health)
    except httpx.HTTPError as exc:
        reason = unreachable_reason(exc, setup.timeout_s)
        yield Finding(
            "fail",
            f"{health} unreachable: {reason}",
            "check that the proxy and the server run and that the name resolves here"
            + trust_fix(reason),
        )
        return
    if response.is_redirect:
        target = response.headers.get("location", "?")
        to_https = target.startswith("https://")
        if not https and to_https:
            yield Finding("ok", f"{url} sends browsers on to HTTPS ({target})")
        yield Finding(
            "warn" if to_https else "fail",
            f"{health} redirects (HTTP {response.status_code}) to {target}",
            "pass the address users end up at to --url",
        )
        return
    if not https and not direct:
        yield plain
    body = json_body(response) if response.status_code == 200 else None
    if not isinstance(body, dict) or body.get("status") != "ok":
        upstream = response.status_code in (502, 503, 504)
        yield Finding(
            "fail",
            f"{health} answered HTTP {response.status_code}, not Venture CRM's health probe"
            + (": the proxy answers but cannot reach the app" if upstream else ""),
            "start the server, and point the proxy's upstream (CRM_UPSTREAM) at its --host/--port"
            if upstream
            else "check that the address is the CRM's and the proxy forwards every path to it",
        )
        return
    millis = (time.monotonic() - started) * 1000
    yield Finding("ok", f"{health} answered as Venture CRM in {millis:.0f} ms")
    yield from _security_headers(response.headers, https, through_proxy=not direct)
    yield from _forwarded_scheme(setup.settings, body, url, https)
    public = setup.settings.public_url
    if public and not direct and urlsplit(public)[:2] != parts[:2]:
        yield Finding(
            "warn",
            f"Invite links use CRM_PUBLIC_URL={public}, not {parts.scheme}://{parts.netloc}",
            "set CRM_PUBLIC_URL to the address users type",
        )


def _security_headers(
    headers: httpx.Headers, https: bool, *, through_proxy: bool
) -> Iterable[Finding]:
    """HSTS (over HTTPS) and nosniff are the proxy's to add; the frame policy is the app's own."""
    caddy = "the proxy should add it (deploy/Caddyfile does)"
    present = []
    if https:
        hsts = headers.get("strict-transport-security")
        found = re.search(r"max-age\s*=\s*\"?(\d+)", hsts or "", re.IGNORECASE)
        if hsts is None or found is None:
            yield Finding(
                "warn",
                "No Strict-Transport-Security: a browser can be led to the plain-HTTP address",
                f"send `Strict-Transport-Security: max-age=31536000`; {caddy}",
            )
        elif int(found.group(1)) < MIN_HSTS_SECONDS:
            yield Finding(
                "warn",
                f"Strict-Transport-Security max-age={found.group(1)} is short (under 180 days)",
                "use max-age=31536000 (a year)",
            )
        else:
            present.append("Strict-Transport-Security")
    nosniff = headers.get("x-content-type-options", "").strip().lower() == "nosniff"
    if nosniff:
        present.append("X-Content-Type-Options")
    elif through_proxy:
        yield Finding(
            "warn",
            "No X-Content-Type-Options: nosniff: a browser may run an uploaded file as script",
            f"send `X-Content-Type-Options: nosniff`; {caddy}",
        )
    frame_options = headers.get("x-frame-options", "").strip().upper()
    policy = headers.get("content-security-policy", "")
    if frame_options not in ("DENY", "SAMEORIGIN") and "frame-ancestors" not in policy:
        yield Finding(
            "warn",
            "No frame policy (X-Frame-Options or CSP frame-ancestors): another site can frame "
            "the CRM's pages (clickjacking)",
            "the app sends X-Frame-Options: DENY itself: make the proxy pass it on, and upgrade "
            "an app that does not",
        )
    else:
        present.append("a frame policy")
    if present:
        yield Finding("ok", "Security headers: " + ", ".join(present))


def _forwarded_scheme(
    settings: Settings, body: dict[str, Any], url: str, https: bool
) -> Iterable[Finding]:
    scheme, client = body.get("scheme"), body.get("client", "?")
    if scheme is None:
        yield Finding(
            "warn",
            "/healthz does not say which scheme the app saw, so the forwarded headers cannot "
            "be checked",
            "upgrade the app (its /healthz reports scheme and client)",
        )
    elif https and scheme != "https":
        yield Finding(
            "fail",
            f"Users reach {url} over HTTPS but the app sees {scheme} (the request came from "
            f"{client}): the proxy's X-Forwarded-Proto is not believed",
            f"set CRM_BEHIND_PROXY=on (now {'on' if settings.behind_proxy else 'off'}), add the "
            f"proxy's address as the app sees it ({client}) to CRM_TRUSTED_PROXIES, and make the "
            "proxy send X-Forwarded-Proto (Caddy does)",
        )
    else:
        yield Finding("ok", f"The app sees the request as {scheme}, from {client}")
