"""Framing and cookie flags on real responses: every response (Panel pages, login pages, API,
probes, redirects, errors) forbids framing, and in production the ``_xsrf`` cookie is ``Secure``
and ``SameSite=Lax`` like the session cookie."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.api.conftest import LiveServer, start


def assert_not_frameable(response: requests.Response) -> None:
    where = f"{response.request.method} {response.request.url} -> {response.status_code}"
    assert response.headers.get("X-Frame-Options") == "DENY", where
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, (where, policy)
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/grid", 200),
        ("/admin", 403),  # refused pages too
        ("/login", 302),  # logged in: sent on to the app
        ("/logout", 200),
        ("/api/me", 200),
        ("/api/no-such-route", 404),
        ("/healthz", 200),
        ("/readyz", 200),
    ],
)
def test_every_response_forbids_framing(live: LiveServer, path: str, status: int) -> None:
    member = live.login()
    response = member.get(f"{live.base}{path}", allow_redirects=False, timeout=60)
    assert response.status_code == status
    assert_not_frameable(response)


@pytest.mark.parametrize("path", ["/", "/grid", "/login", "/api/me", "/healthz"])
def test_responses_to_anonymous_requests_forbid_framing(live: LiveServer, path: str) -> None:
    assert_not_frameable(requests.get(f"{live.base}{path}", allow_redirects=False, timeout=60))


def test_the_login_page_keeps_its_strict_policy(live: LiveServer) -> None:
    policy = requests.get(f"{live.base}/login", timeout=30).headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and policy.count("frame-ancestors") == 1


def xsrf_cookie(response: requests.Response) -> str:
    [cookie] = [c for c in response.raw.headers.getlist("Set-Cookie") if c.startswith("_xsrf=")]
    return cookie


def test_the_xsrf_cookie_is_samesite_and_secure_in_production(tmp_path: Path) -> None:
    for server in start(tmp_path, CRM_ENV="production", CRM_PUBLIC_URL="https://crm.fund.example"):
        cookie = xsrf_cookie(requests.get(f"{server.base}/login", timeout=30))
        assert "Secure" in cookie and "SameSite=Lax" in cookie, cookie


def test_the_xsrf_cookie_is_samesite_in_development(live: LiveServer) -> None:
    cookie = xsrf_cookie(requests.get(f"{live.base}/login", timeout=30))
    assert "SameSite=Lax" in cookie and "Secure" not in cookie, cookie  # plain http on loopback


def test_hsts_only_for_what_the_browser_received_over_https(tmp_path: Path) -> None:
    """Over plain HTTP the header means nothing (and would pin a name with no certificate); when
    a trusted proxy says the browser came over HTTPS (``tailscale serve`` adds no HSTS of its
    own) the app sends it; an untrusted claim of HTTPS is not enough."""
    for server in start(tmp_path, CRM_BEHIND_PROXY="on"):
        plain = requests.get(f"{server.base}/login", timeout=30)
        forwarded = requests.get(
            f"{server.base}/login", headers={"X-Forwarded-Proto": "https"}, timeout=30
        )
        assert "Strict-Transport-Security" not in plain.headers
        assert forwarded.headers["Strict-Transport-Security"] == "max-age=31536000"
    for server in start(
        tmp_path / "untrusting", CRM_BEHIND_PROXY="on", CRM_TRUSTED_PROXIES="10.1.2.3"
    ):
        claimed = requests.get(
            f"{server.base}/healthz", headers={"X-Forwarded-Proto": "https"}, timeout=30
        )
        assert "Strict-Transport-Security" not in claimed.headers
        assert claimed.json()["scheme"] == "http"
