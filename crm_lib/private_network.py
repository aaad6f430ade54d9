"""Which addresses count as "on the box or the office network" for services that receive
un-anonymised data (the digest's local model; later, a local embeddings server).

Allowed: loopback (127.0.0.0/8, ::1), the private ranges (10/8, 172.16/12, 192.168/16,
fc00::/7) and the shared range 100.64.0.0/10 that Tailscale gives a tailnet's machines.
Refused: everything else, including link-local (169.254/16, fe80::/10, where cloud metadata
services live), multicast, unspecified and public addresses. A host name is resolved and every
address it resolves to must be allowed; the check runs again before each request, so a name that
later resolves elsewhere is refused then.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from crm_lib.errors import ValidationError

TAILNET = ipaddress.ip_network("100.64.0.0/10")
#: Resolves a host name to its addresses; tests inject one (they never use the network).
Resolver = Callable[[str], Iterable[str]]


def system_resolver(host: str) -> list[str]:
    """The addresses the system resolver gives for ``host`` (``/etc/hosts`` first)."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in infos})


def allowed_address(text: str) -> bool:
    """Is this IP address loopback, private or on a tailnet (and not link-local)?"""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return False
    if address.is_loopback:
        return True
    if isinstance(address, ipaddress.IPv4Address) and address in TAILNET:
        return True
    return address.is_private and not address.is_reserved


def check_private_url(url: str, *, setting: str, resolver: Resolver = system_resolver) -> str:
    """``url`` if it is an http(s) URL whose host is loopback or on a private network; else a
    :class:`ValidationError` naming ``setting`` and the reason. Returns the URL without a
    trailing slash."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{setting} must be an http:// or https:// address, not {url!r}", field=setting
        )
    if parts.username or parts.password:
        raise ValidationError(f"{setting} must not carry a user or password", field=setting)
    host = parts.hostname
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
        addresses = [host]
    except ValueError:
        addresses = list(resolver(host))
        if not addresses:
            raise ValidationError(
                f"{setting}: the host {host!r} does not resolve", field=setting
            ) from None
    refused = [a for a in addresses if not allowed_address(a)]
    if refused:
        raise ValidationError(
            f"{setting} must point at this machine or a private network (the data it receives"
            f" never leaves the office): {host} is {', '.join(refused)}",
            field=setting,
        )
    return url.strip().rstrip("/")
