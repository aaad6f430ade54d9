"""The browser tests' error watch (:func:`tests.browser.conftest.page_errors`) against a tiny
local HTTP server: a reload that cancels a stylesheet still loading is no error; a missing file
and a console error are."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import page_errors

pytestmark = pytest.mark.browser

PAGE = b"<html><head><link rel='stylesheet' href='/slow.css'></head><body>hello</body></html>"
PLAIN = b"<html><body>plain</body></html>"


class Site:
    """A page whose stylesheet is held back until the test lets it go."""

    def __init__(self) -> None:
        self.asked = threading.Event()  # the browser requested the stylesheet
        self.release = threading.Event()  # the stylesheet may be sent

    def handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the name http.server calls
                if self.path == "/slow.css":
                    site.asked.set()
                    site.release.wait(timeout=30)
                    self._send(200, "text/css", b"body { color: #333; }")
                elif self.path == "/favicon.ico":  # Chromium asks for it on its own
                    self._send(204, "image/x-icon", b"")
                elif self.path in ("/", "/plain"):
                    self._send(200, "text/html", PAGE if self.path == "/" else PLAIN)
                else:
                    self._send(404, "text/plain", b"no such file")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the browser gave up on the request: what the test is about

            def log_message(self, *args: object) -> None:  # quiet: no request log on stderr
                return

        return Handler


@contextmanager
def site_served(site: Site) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), site.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        site.release.set()
        server.shutdown()
        server.server_close()


def test_a_stylesheet_cancelled_by_a_reload_is_not_an_error(page: Page) -> None:
    site = Site()
    errors = page_errors(page)
    aborted: list[tuple[str, str]] = []
    page.on(
        "requestfailed",
        lambda request: aborted.append((request.url.rsplit("/", 1)[-1], request.failure or "")),
    )
    with site_served(site) as base:
        page.goto(f"{base}/", wait_until="commit")
        assert site.asked.wait(timeout=10)  # the stylesheet is in flight...
        page.goto(f"{base}/plain")  # ...when the page navigates away
        page.wait_for_selector("text=plain")
        # The browser reported what it gave up on as aborted: the stylesheet, or, when the
        # navigation came while the first page was still loading, that page itself (its URL ends
        # in "/"), and under load also the favicon it asked for on its own.
        assert {name for name, _ in aborted} & {"slow.css", ""}, aborted
        assert {failure for _, failure in aborted} == {"net::ERR_ABORTED"}
        assert errors == []


def test_missing_files_and_console_errors_are_errors(page: Page) -> None:
    site = Site()
    site.release.set()
    errors = page_errors(page)
    with site_served(site) as base:
        page.goto(f"{base}/plain")
        with page.expect_response(f"{base}/missing.js"):
            page.evaluate("fetch('/missing.js')")
        with page.expect_console_message(lambda message: "broke" in message.text):
            page.evaluate("console.error('the app broke')")
    assert f"HTTP 404: GET {base}/missing.js" in errors
    assert "console error: the app broke" in errors
