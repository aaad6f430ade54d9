"""Start the one Venture CRM server process: Panel pages, login pages and the REST API on one
port, behind one login.

    python -m apps.serve [--port 5006] [--host 127.0.0.1]

Usually started by ``./panel_serve.sh``, which also prepares the venv and the database. On a
database where no admin can log in yet, it prints a one-time setup link for the first admin.
"""

from __future__ import annotations

import argparse
import gc
import logging
import re
import signal
import sys
from dataclasses import replace
from urllib.parse import urlparse

import panel as pn
from bokeh.settings import settings as bokeh_settings

from apps import session_cleanup, theme
from apps.account.page import AccountPage
from apps.activity.page import ActivityPage
from apps.admin.page import AdminPage
from apps.api import health
from apps.api import server as api_server
from apps.ask.page import AskPage
from apps.auth import handlers as auth_handlers
from apps.auth import page_access
from apps.auth.cookies import SESSION_COOKIE, xsrf_cookie_kwargs
from apps.auth.headers import TRANSFORMS, forwarded_client
from apps.auth.live import OpenPages
from apps.auth.provider import LOGIN_URL, CRMAuthProvider
from apps.automations.page import AutomationsPage
from apps.contacts.page import ContactsPage
from apps.funds.page import FundsPage
from apps.grid.live import GridHub
from apps.grid.page import GridPage
from apps.home.page import HomePage
from apps.mail.page import EmailPage
from apps.page_guard import guard_pages
from apps.pipeline.page import PipelinePage
from apps.record.page import RecordPage
from apps.requests.page import RequestsPage
from apps.runtime import Runtime
from apps.search.page import SearchPage
from apps.static_cache import CacheStatic
from apps.tasks.page import TasksPage
from crm_lib import running_server, services
from crm_lib.config import Settings, load_settings
from crm_lib.database import init_database, open_crm
from crm_lib.errors import CRMError
from crm_lib.jobs import start_scheduler
from crm_lib.services.search import start_search_sync

log = logging.getLogger("crm.serve")
#: Garbage-collector thresholds for the server process (see main()).
GC_THRESHOLDS = (50_000, 50, 100)
#: Page path -> permission action needed (other pages need only a login); see
#: :mod:`apps.auth.page_access`, which checks it wherever a page's document would be built.
PAGE_ACTIONS: dict[str, str] = {
    "/admin": "manage_users",
    "/funds": "manage_funds",
    "/ask": "ask",
}
#: Largest websocket message a page may send. A FileInput upload travels in one message,
#: base64-encoded (4/3 of the file), so Bokeh's default of 20 MiB refuses exports over ~15 MB;
#: 100 MiB takes a 30 MB export with room to spare (up to ~70 MB; Tornado's own stream buffer,
#: 100 MiB by default, is the next limit).
WEBSOCKET_MAX_MESSAGE_BYTES = 100 * 1024 * 1024


class RedactSecrets(logging.Filter):
    """Keep one-time link tokens out of the access log (``GET /invite/<token>``)."""

    PATTERN = re.compile(r"(/invite/)[A-Za-z0-9_\-]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(
                self.PATTERN.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        record.msg = self.PATTERN.sub(r"\1[redacted]", str(record.msg))
        return True


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve Venture CRM")
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--host", default="127.0.0.1")
    return parser.parse_args(argv)


def websocket_origins(settings: Settings, host: str, port: int) -> list[str]:
    """Origins whose pages may open the live websocket: the public URL's host, and local ones.

    Bokeh compares ``host[:port]`` and treats a missing port as 80, so the public host is given
    without its port when it uses the scheme's default (https://crm.example.com → crm.example.com).
    """
    origins = {f"{name}:{port}" for name in {host, "localhost", "127.0.0.1"}}
    if settings.public_url:
        parsed = urlparse(settings.public_url)
        if parsed.hostname:
            origins.add(
                parsed.hostname if parsed.port is None else f"{parsed.hostname}:{parsed.port}"
            )
    return sorted(origins)


def print_setup_link(runtime: Runtime) -> None:
    """On a database no admin can log into, print the one-time link that creates the first one."""
    with runtime.context("system:setup") as ctx:
        if services.has_admin_login(ctx):
            return
        link = services.create_setup_link(ctx)
    print(
        "\nNo admin account yet. Open this one-time link (valid 24 h) to create the first admin:\n"
        f"    {link.url}\n"
        "(or run `crm create-admin EMAIL`).\n",
        flush=True,
    )


def reachable_host(host: str) -> str:
    """The host to put in links: a server listening on every interface (0.0.0.0 or ::, as in
    the container) is reached on loopback, not at an address no browser can open."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("tornado.access").addFilter(RedactSecrets())
    try:
        settings = load_settings()
        if not settings.public_url:
            settings = replace(
                settings, public_url=f"http://{reachable_host(args.host)}:{args.port}"
            )
        init_database(settings)
        runtime = Runtime(settings)
    except CRMError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 2
    pages = OpenPages(runtime.events)
    hub = GridHub(runtime.events)
    # the look of every page (design tokens, component and page styles): apps/theme, before
    # the first page is built
    theme.install()
    pn.extension("tabulator", notifications=True)
    session_cleanup.install()
    page_access.install()
    print_setup_link(runtime)
    # Everything loaded so far (Panel, Bokeh, pandas, our modules) lives as long as the process:
    # moving it out of the collector's sight stops full collections from rescanning it while a
    # new session builds its page (measured: first-page p95 of the grid 510 -> 330 ms at 100,000 investors).
    gc.collect()
    gc.freeze()
    # A new grid session creates tens of thousands of short-lived objects (Bokeh models);
    # collecting young objects every 50,000 allocations instead of 700 keeps the collector out
    # of its way (measured: first-page p95 of 30 sessions 296-322 ms -> 267-271 ms).
    gc.set_threshold(*GC_THRESHOLDS)
    # Bokeh checks every model of a new document (``Document.validate``) before serving it: a
    # developer's aid that only logs warnings, at ~25 ms of every page switch (measured:
    # 1.29 s of 25 page builds under cProfile). The tests build documents with it on.
    bokeh_settings.perform_document_validation.set_value(False)
    print(
        f"Venture CRM serving {settings.database_path} at {settings.public_url}"
        f" (listening on {args.host}:{args.port})",
        flush=True,
    )
    # so `crm invite` in another shell prints links to this port, not the default 5006
    running_server.record(settings, settings.public_url)
    if settings.jobs:  # in this process: one scheduler, and its events reach open pages
        start_scheduler(
            lambda: open_crm(settings=settings, actor="system:jobs", events=runtime.events)
        )
        print(
            f"Scheduled jobs on: nightly backup at {settings.nightly_backup_at} local; email"
            f" sync every {settings.email_sync_minutes} min while Gmail mailboxes are chosen;"
            " the daily digest once an admin turns it on (admin page).",
            flush=True,
        )
    # the search index lives in this process (Qdrant's local mode is one process): kept in
    # step with the database every few seconds, built the first time
    if settings.search_sync:
        start_search_sync(
            lambda: open_crm(settings=settings, actor="system:search", events=runtime.events),
            runtime.search_index,
        )
    # `systemctl stop` and `docker stop` send SIGTERM; as PID 1 in a container the process would
    # ignore it and be killed 10 s later. Stop as on Ctrl-C instead (Panel's SIGINT handler ends
    # the loop; the finally below runs).
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))
    try:
        _serve(runtime, settings, args, pages, hub)
    finally:
        running_server.forget(settings)
    return 0


def _serve(
    runtime: Runtime, settings: Settings, args: argparse.Namespace, pages: OpenPages, hub: GridHub
) -> None:
    """Serve every page and route until the process is stopped."""
    pn.serve(
        guard_pages(  # a page that cannot be built says so, never with a traceback
            page_access.checked_in_session(
                {
                    "/": lambda: HomePage(runtime, pages),
                    "/grid": lambda: GridPage(runtime, pages, hub),
                    "/record": lambda: RecordPage.from_request(runtime, pages, hub),
                    "/contacts": lambda: ContactsPage(runtime, pages),
                    "/activity": lambda: ActivityPage(runtime, pages),
                    "/admin": lambda: AdminPage(runtime, pages),
                    "/account": lambda: AccountPage(runtime, pages),
                    "/funds": lambda: FundsPage(runtime, pages),
                    "/requests": lambda: RequestsPage(runtime, pages),
                    "/email": lambda: EmailPage(runtime, pages),
                    "/search": lambda: SearchPage(runtime, pages),
                    "/ask": lambda: AskPage(runtime, pages),
                    "/pipeline": lambda: PipelinePage(runtime, pages, hub),
                    "/tasks": lambda: TasksPage(runtime, pages, hub),
                    "/automations": lambda: AutomationsPage(runtime, pages),
                },
                PAGE_ACTIONS,
            )
        ),
        port=args.port,
        address=args.host,
        allow_websocket_origin=websocket_origins(settings, args.host, args.port),
        show=False,
        title="Venture CRM",
        auth_provider=CRMAuthProvider(runtime),
        login_url=LOGIN_URL,
        cookie_secret=runtime.secret_key,
        xsrf_cookies=True,
        # tornado settings, passed through Bokeh: the _xsrf cookie's flags, the anti-framing
        # headers on every response, and the table apps.auth.page_access checks
        xsrf_cookie_kwargs=xsrf_cookie_kwargs(settings),
        transforms=[
            *([forwarded_client(settings)] if settings.behind_proxy else []),
            *TRANSFORMS,
            CacheStatic,
        ],
        crm_page_actions=PAGE_ACTIONS,
        websocket_max_message_size=WEBSOCKET_MAX_MESSAGE_BYTES,
        # Keep the session cookie out of the page: Bokeh would otherwise copy every cookie
        # into the session token it embeds in the HTML, readable by scripts despite HttpOnly.
        exclude_cookies=[SESSION_COOKIE],
        exclude_headers=["Cookie"],
        http_server_kwargs={
            "max_body_size": (settings.max_body_kb + 1024) * 1024,
        },
        extra_patterns=[
            *health.routes(runtime),
            *auth_handlers.routes(runtime),
            *api_server.routes(runtime),
        ],
    )


if __name__ == "__main__":
    raise SystemExit(main())
