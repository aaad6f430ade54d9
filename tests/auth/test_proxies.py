"""Whom the app believes about a client's address (crm_lib.auth.proxies)."""

from __future__ import annotations

import re

import pytest

from crm_lib.auth.proxies import ClientAddress, resolve
from crm_lib.config import LOOPBACK_PROXIES, load_settings
from crm_lib.errors import ConfigError

DOCKER = load_settings({"CRM_TRUSTED_PROXIES": "172.16.0.0/12, ::1"}).trusted_proxies


def test_a_peer_that_is_not_a_trusted_proxy_keeps_its_own_address_whatever_it_claims() -> None:
    assert resolve("198.51.100.4", "http", ["127.0.0.1"], "https", LOOPBACK_PROXIES) == (
        ClientAddress("198.51.100.4", "http")
    )


def test_behind_a_trusted_proxy_the_client_is_the_first_untrusted_hop_from_the_right() -> None:
    # the client wrote "10.0.0.1" itself; Caddy appended the address it really saw
    seen = resolve("127.0.0.1", "http", ["10.0.0.1, 198.51.100.4"], "https", LOOPBACK_PROXIES)
    assert seen == ClientAddress("198.51.100.4", "https")


def test_a_chain_of_trusted_proxies_is_walked_through() -> None:
    seen = resolve(
        "172.18.0.3", "http", ["203.0.113.9", "172.18.0.2"], "https", DOCKER
    )  # two X-Forwarded-For headers: read in order, as one list
    assert seen == ClientAddress("203.0.113.9", "https")


def test_a_health_check_from_the_proxy_itself_is_the_proxy() -> None:
    assert resolve("::1", "http", [], None, LOOPBACK_PROXIES) == ClientAddress("::1", "http")
    assert resolve("127.0.0.1", "http", ["127.0.0.1"], None, LOOPBACK_PROXIES).ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        (["not-an-ip"], "127.0.0.1"),  # garbage where the proxy's entry should be
        (["evil, 198.51.100.4"], "198.51.100.4"),
        (["198.51.100.4, 127.0.0.1"], "198.51.100.4"),
        (["[2001:db8::7]:4711"], "2001:db8::7"),
        (["198.51.100.4<script>"], "127.0.0.1"),
        ([", , "], "127.0.0.1"),
    ],
)
def test_malformed_forwarded_headers_never_yield_a_made_up_address(
    forwarded: list[str], expected: str
) -> None:
    assert resolve("127.0.0.1", "http", forwarded, None, LOOPBACK_PROXIES).ip == expected


@pytest.mark.parametrize("proto", ["javascript", "https, ftp", "", "HTTPS"])
def test_only_http_or_https_is_taken_as_the_scheme(proto: str) -> None:
    scheme = resolve("127.0.0.1", "http", [], proto, LOOPBACK_PROXIES).scheme
    assert scheme == ("https" if proto == "HTTPS" else "http")


def test_a_bad_trusted_proxies_setting_names_the_entry() -> None:
    with pytest.raises(ConfigError, match=re.escape("'10.0.0.0/33'")):
        load_settings({"CRM_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/33"})
