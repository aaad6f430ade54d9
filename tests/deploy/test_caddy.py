"""The app behind Debian's Caddy with ``deploy/Caddyfile``, as an operator runs it: HTTPS from
Caddy's internal CA (verified, not ignored), the security headers, the client address and scheme
the app sees, a login through the form, and the grid page whose rows arrive over the websocket.
Everything is on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, WebSocket

from tests.apps.server import free_port, running
from tests.browser.conftest import log_in, page_errors
from tests.deploy.caddy import CADDY, CADDYFILE, Proxy, caddy_environment, caddy_in_front

pytestmark = pytest.mark.browser

SPOOFED = "203.0.113.7"  # a documentation address: only ever a header value here


@dataclass(frozen=True)
class Deployment:
    proxy: Proxy
    app: str  # the app's own loopback address, behind the proxy


@pytest.fixture
def deployment(demo_with_admin: Path, tmp_path: Path) -> Iterator[Deployment]:
    https_port, app_port = free_port(), free_port()
    site = f"https://127.0.0.1:{https_port}"
    env = {
        "CRM_ENV": "production",
        "CRM_SECRET_KEY": secrets.token_urlsafe(48),
        "CRM_BEHIND_PROXY": "on",
        "CRM_PUBLIC_URL": site,
    }
    command = [sys.executable, "-m", "apps.serve", "--port", str(app_port)]
    with (
        running(command, demo_with_admin, app_port, extra_env=env) as app,
        caddy_in_front(f"127.0.0.1:{app_port}", tmp_path / "caddy", https_port) as proxy,
    ):
        yield Deployment(proxy, app)


def test_the_caddyfile_is_valid_as_shipped_and_as_configured(tmp_path: Path) -> None:
    shipped = subprocess.run(
        [CADDY, "validate", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=caddy_environment(tmp_path, free_port(), free_port(), "127.0.0.1:5006")
        | {"CRM_SITE": "crm.example.com", "CRM_TLS": "ops@fund.example"},
    )
    assert shipped.returncode == 0, shipped.stderr
    formatted = subprocess.run(
        [CADDY, "fmt", str(CADDYFILE)], capture_output=True, text=True, check=True
    )
    assert formatted.stdout == CADDYFILE.read_text(), "run `caddy fmt --overwrite deploy/Caddyfile`"


def test_https_headers_and_client_address_through_caddy(deployment: Deployment) -> None:
    proxy = deployment.proxy
    trusting_caddy = ssl.create_default_context(cafile=proxy.root_certificate)
    with httpx.Client(verify=trusting_caddy, timeout=10) as client:
        seen = client.get(f"{proxy.base}/healthz", headers={"X-Forwarded-For": SPOOFED})
        login = client.get(f"{proxy.base}/login")
    assert seen.status_code == 200
    # Caddy replaced the client's claim with the address it saw; the app believed Caddy
    assert seen.json() == {"status": "ok", "scheme": "https", "client": "127.0.0.1"}
    for response in (seen, login):
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "Server" not in response.headers
    # the production session and CSRF cookies are Secure: they only travel over this HTTPS
    assert "secure" in login.headers["set-cookie"].lower()


def test_plain_http_is_redirected_to_https(deployment: Deployment) -> None:
    answer = httpx.get(f"http://127.0.0.1:{deployment.proxy.http_port}/grid", timeout=10)
    assert answer.status_code in (301, 308)
    # (on 443 in production; Caddy leaves a non-standard HTTPS port out of the redirect)
    assert answer.headers["Location"].startswith("https://127.0.0.1")
    assert answer.headers["Location"].endswith("/grid")


def test_a_request_from_a_trusted_proxy_is_taken_at_its_word_and_the_scheme_too(
    deployment: Deployment,
) -> None:
    """The app trusts loopback (the default CRM_TRUSTED_PROXIES): what Caddy forwards counts.
    The rule for untrusted peers is tested in tests/auth/test_proxies.py."""
    seen = httpx.get(
        f"{deployment.app}/healthz",
        headers={"X-Forwarded-For": f"10.9.9.9, {SPOOFED}", "X-Forwarded-Proto": "https"},
        timeout=10,
    ).json()
    assert seen == {"status": "ok", "scheme": "https", "client": SPOOFED}


def test_login_and_the_grid_over_a_websocket_through_caddy(
    browser: Browser, deployment: Deployment
) -> None:
    proxy = deployment.proxy
    # Chromium has not installed Caddy's CA (httpx verified the chain above)
    context = browser.new_context(
        ignore_https_errors=True, viewport={"width": 1300, "height": 1000}
    )
    page = context.new_page()
    errors = page_errors(page)
    sockets: list[WebSocket] = []
    page.on("websocket", lambda ws: sockets.append(ws))
    try:
        log_in(page, proxy.base)
        page.goto(f"{proxy.base}/grid")
        page.wait_for_selector(
            '.tabulator-row .tabulator-cell[tabulator-field="name"]', timeout=30_000
        )
        names = page.locator('.tabulator-row .tabulator-cell[tabulator-field="name"]')
        assert names.count() > 5
        live = [ws for ws in sockets if ws.url == f"wss://{proxy.base.split('//')[1]}/ws"]
        assert live and not live[0].is_closed(), [ws.url for ws in sockets]
    finally:
        context.close()
    assert errors == []
    # Caddy logs a websocket when it closes: the grid's went through it, and no credential
    # (the session token rides in the subprotocol header) reached the log
    deadline = time.monotonic() + 10
    while '"uri":"/ws"' not in proxy.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    entries = [json.loads(line) for line in proxy.log.read_text().splitlines()]
    websocket = [entry for entry in entries if entry["request"]["uri"] == "/ws"]
    assert websocket, "the websocket did not go through Caddy"
    assert "Sec-Websocket-Protocol" not in websocket[0]["request"]["headers"]
    assert all(entry["request"]["headers"].get("Cookie") in (None, []) for entry in entries)
