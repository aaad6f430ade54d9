"""The proxy in front of the server: the forwarded-header settings, the address the running
server listens on, and (with ``--url``) the live address, checked by :mod:`.live_url`."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from crm_lib import running_server
from crm_lib.config import Settings
from crm_lib.doctor.core import Finding, Setup, check
from crm_lib.doctor.live_url import check_live_url
from crm_lib.doctor.network import is_loopback


def _server_bind(setup: Setup) -> tuple[int, str] | None:
    """(pid, listening host) of the running server recorded in ``<data dir>/server.json``, read
    from its command line (``--host``, default 127.0.0.1); None when no live server is recorded
    or its command line cannot be read (not Linux, another launcher)."""
    try:
        record = json.loads(running_server.record_path(setup.settings).read_text("utf-8"))
        pid = record["pid"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(pid, int) or not running_server.process_alive(pid):
        return None
    try:
        argv = (setup.proc / str(pid) / "cmdline").read_bytes().decode("utf-8", "replace")
    except OSError:
        return None
    args = argv.split("\0")
    if not any(a == "apps.serve" or a.endswith("apps/serve.py") for a in args):
        return None
    host = "127.0.0.1"
    for i, arg in enumerate(args):
        if arg == "--host" and i + 1 < len(args):
            host = args[i + 1]
        elif arg.startswith("--host="):
            host = arg.partition("=")[2]
    return pid, host


@check("proxy")
def check_proxy(setup: Setup) -> Iterable[Finding]:
    yield from _proxy_settings(setup.settings)
    yield from _listening(setup)
    if setup.url is None:
        where = setup.settings.public_url or "https://crm.example.com"
        yield Finding(
            "ok",
            f"Not checked live: `crm doctor --url {where}` requests /healthz through the proxy "
            "(HTTPS, security headers, the scheme the app sees)",
        )
    else:
        yield from check_live_url(setup, setup.url.rstrip("/"))


def _proxy_settings(settings: Settings) -> Iterable[Finding]:
    public = urlsplit(settings.public_url)
    https = public.scheme == "https"
    if settings.behind_proxy:
        trusted = settings.trusted_proxies
        anyone = [n for n in trusted if n.prefixlen == 0]
        public_nets = [n for n in trusted if n.is_global and n.num_addresses > 256]
        if not trusted:
            yield Finding(
                "warn",
                "CRM_BEHIND_PROXY=on but CRM_TRUSTED_PROXIES is empty: no forwarded header is "
                "believed, so every client looks like the proxy",
                "set CRM_TRUSTED_PROXIES to the proxy's address as the app sees it (127.0.0.1)",
            )
        elif anyone:
            yield Finding(
                "fail",
                f"CRM_TRUSTED_PROXIES includes {anyone[0]}: any client can claim any address "
                "(and escape the login back-off) by sending X-Forwarded-For",
                "list only the proxy's own address (127.0.0.1 when it runs on this machine)",
            )
        elif public_nets:
            yield Finding(
                "warn",
                f"CRM_TRUSTED_PROXIES trusts public network {public_nets[0]}: every machine in it "
                "can claim any client address",
                "list only the proxy's own address",
            )
        else:
            yield Finding(
                "ok",
                "Behind a proxy (CRM_BEHIND_PROXY=on); forwarded headers believed from "
                + ", ".join(map(str, trusted)),
            )
    elif https:
        yield Finding(
            "warn",
            f"CRM_PUBLIC_URL is {settings.public_url} but CRM_BEHIND_PROXY=off: the app takes "
            "every request for the proxy's (one client for the login back-off and rate limits)",
            "set CRM_BEHIND_PROXY=on (and CRM_TRUSTED_PROXIES to the proxy's address)",
        )
    else:
        yield Finding("ok", "Not behind a proxy (CRM_BEHIND_PROXY=off)")
    if settings.production and not settings.public_url:
        yield Finding(
            "warn",
            f"CRM_PUBLIC_URL is unset: invite links point at {settings.base_url}",
            "set CRM_PUBLIC_URL to the https:// address users type",
        )
    elif settings.production and not https and not is_loopback(public.hostname):
        yield Finding(
            "fail",
            f"CRM_PUBLIC_URL {settings.public_url} is plain HTTP: passwords and session cookies "
            "cross the network readable",
            "serve HTTPS through Caddy (deploy/Caddyfile) or `tailscale serve` and set the "
            "https:// address",
        )


def _listening(setup: Setup) -> Iterable[Finding]:
    settings = setup.settings
    found = _server_bind(setup)
    if found is None:
        return
    pid, host = found
    shown = host or "every network interface"
    if host in ("0.0.0.0", "::", ""):
        shown = f"{host or '*'} (every network interface)"
    if is_loopback(host):
        yield Finding("ok", f"The server (pid {pid}) listens on {host} only")
    elif not settings.behind_proxy:
        yield Finding(
            "warn",
            f"The server (pid {pid}) listens on {shown} without a proxy in front: whoever "
            "reaches it speaks plain HTTP, passwords included",
            "serve with --host 127.0.0.1 and put Caddy (deploy/Caddyfile) or `tailscale serve` "
            "in front for HTTPS",
        )
    elif all(n.is_loopback for n in settings.trusted_proxies):
        yield Finding(
            "warn",
            f"The server (pid {pid}) listens on {shown} although the proxy runs on this machine: "
            "clients can go around the proxy's HTTPS",
            "serve with --host 127.0.0.1",
        )
    else:
        yield Finding(
            "ok",
            f"The server (pid {pid}) listens on {shown} for a proxy elsewhere; let only the "
            "proxy reach its port (firewall)",
        )
