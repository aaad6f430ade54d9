"""Start the one Venture CRM server process: Panel pages and REST handlers on one port.

    python -m apps.serve [--port 5006] [--host 127.0.0.1]

Usually started by ``./panel_serve.sh``, which also prepares the venv and the database.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys

import panel as pn

from apps.api import health
from apps.home.page import HomePage
from apps.runtime import Runtime
from crm_lib.config import load_settings
from crm_lib.database import init_database
from crm_lib.errors import CRMError

log = logging.getLogger("crm.serve")


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Serve Venture CRM")
    parser.add_argument("--port", type=int, default=5006)
    parser.add_argument("--host", default="127.0.0.1")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not is_loopback(args.host):
        print(
            f"Refusing to listen on {args.host}: user accounts and login are not set up yet, "
            "so the CRM only listens on loopback addresses (127.0.0.1, ::1, localhost).",
            file=sys.stderr,
        )
        return 2
    settings = load_settings()
    try:
        init_database(settings)
    except CRMError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    runtime = Runtime(settings)
    pn.extension("tabulator", notifications=True)
    origins = [f"{host}:{args.port}" for host in {args.host, "localhost", "127.0.0.1"}]
    print(
        f"Venture CRM serving {settings.database_path} at http://{args.host}:{args.port}",
        flush=True,
    )
    pn.serve(
        {"/": lambda: HomePage(runtime)},
        port=args.port,
        address=args.host,
        allow_websocket_origin=origins,
        show=False,
        title="Venture CRM",
        extra_patterns=health.routes(runtime),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
