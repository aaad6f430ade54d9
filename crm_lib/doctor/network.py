"""What the network checks (proxy, mail, models) share: whether a host is this machine (plain
text to it crosses no network), one HTTP client configured the doctor's way, and failures worded
in a few words with the fix for an untrusted certificate."""

from __future__ import annotations

import ipaddress
import re
import ssl
from typing import Any

import httpx

from crm_lib.doctor.core import Setup


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this machine."""
    name = (host or "").strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def http_client(setup: Setup) -> httpx.Client:
    """One client for the doctor's HTTP requests: the setup's timeout, the system's CAs (or the
    test's), no proxies from the environment, no redirects followed (they are reported)."""
    return httpx.Client(
        transport=setup.transport,
        timeout=httpx.Timeout(setup.timeout_s),
        verify=setup.ssl_context or ssl.create_default_context(),
        trust_env=False,
        follow_redirects=False,
    )


def unreachable_reason(exc: BaseException, timeout_s: float) -> str:
    """Why a connection failed, in a few words (never a traceback)."""
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return f"no answer in {timeout_s:g} s"
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"its TLS certificate is not trusted ({seen.verify_message})"
        seen = seen.__cause__ or seen.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "its TLS certificate is not trusted"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    # httpx words a refused connection "[Errno 111] Connection refused"
    return re.sub(r"^\[Errno -?\d+\] ", "", str(exc)) or type(exc).__name__


def trust_fix(reason: str) -> str:
    """The words to add to a fix when :func:`unreachable_reason` blamed the certificate."""
    if "certificate" not in reason:
        return ""
    return (
        "; a public name needs a certificate from a public CA (Caddy: CRM_TLS=<your email>); "
        "with Caddy's `tls internal`, install its root certificate on this machine "
        "(/usr/local/share/ca-certificates/, then update-ca-certificates)"
    )


def json_body(response: httpx.Response) -> Any:
    """The response's JSON, or None when it is not JSON (then it is not the server expected)."""
    try:
        return response.json()
    except ValueError:
        return None
