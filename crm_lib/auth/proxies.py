"""Whose address is this request? The client's, as told by a proxy we trust, or the peer's own.

Rate limits, login back-off and the session list key on the client address. Behind a reverse
proxy every request arrives from the proxy, so the client's address travels in
``X-Forwarded-For`` (each proxy appends the address it saw) and the scheme in
``X-Forwarded-Proto``. Anyone can send those headers, so they are believed only when the peer
that connected is a trusted proxy (``CRM_TRUSTED_PROXIES``), and the chain is read from the
right: the first address that is not a trusted proxy is the client; everything left of it was
written by the client and is ignored. Tornado's own ``xheaders`` believes any peer and prefers
``X-Real-Ip``, which a client behind Caddy could set; hence this rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from crm_lib.config import IPNetwork

SCHEMES = ("http", "https")


@dataclass(frozen=True)
class ClientAddress:
    """Where a request really came from, and over which scheme the browser reached us."""

    ip: str
    scheme: str


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:  # "[::1]:1234" from some proxies
        candidate = candidate[1 : candidate.index("]")]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Iterable[IPNetwork]
) -> bool:
    return any(address.version == net.version and address in net for net in trusted)


def resolve(
    peer: str,
    scheme: str,
    forwarded_for: Iterable[str],
    forwarded_proto: str | None,
    trusted: tuple[IPNetwork, ...],
) -> ClientAddress:
    """The client address and scheme of one request.

    ``peer`` is the TCP peer, ``forwarded_for`` every ``X-Forwarded-For`` header value in order.
    A peer outside ``trusted`` keeps its own address and scheme whatever it claims. When every
    hop is a trusted proxy (a health check from the proxy itself), the leftmost hop is the client.
    """
    peer_address = _address(peer)
    if peer_address is None or not _trusted(peer_address, trusted):
        return ClientAddress(peer, scheme)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    client = peer_address
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # a garbled entry: nothing left of it can be trusted either
        client = address
        if not _trusted(address, trusted):
            break
    proto = (forwarded_proto or "").split(",")[-1].strip().lower()
    return ClientAddress(str(client), proto if proto in SCHEMES else scheme)
