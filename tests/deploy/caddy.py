"""Debian's Caddy, run with ``deploy/Caddyfile`` in front of a server on loopback.

The Caddyfile is the operator's own file, not a copy: only its environment differs (a loopback
site on free ports, Caddy's state and log in a temporary folder), so a test through it tests what
an operator installs. The internal CA's root certificate is returned so clients can verify TLS
for real instead of switching verification off.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.apps.server import free_port

ROOT = Path(__file__).resolve().parents[2]
CADDYFILE = ROOT / "deploy" / "Caddyfile"
CADDY = shutil.which("caddy") or "/usr/bin/caddy"


@dataclass(frozen=True)
class Proxy:
    """A running Caddy: the HTTPS address users reach, its plain-HTTP port and its CA root."""

    base: str
    http_port: int
    root_certificate: Path
    log: Path


def caddy_environment(
    state: Path, https_port: int, http_port: int, upstream: str
) -> dict[str, str]:
    return {
        **os.environ,
        "CRM_SITE": f"https://127.0.0.1:{https_port}",
        "CRM_TLS": "internal",
        "CRM_UPSTREAM": upstream,
        "CRM_HTTPS_PORT": str(https_port),
        "CRM_HTTP_PORT": str(http_port),
        "CRM_CADDY_ADMIN": f"127.0.0.1:{free_port()}",
        "CRM_CADDY_LOG": str(state / "access.log"),
        "HOME": str(state),
        "XDG_DATA_HOME": str(state / "data"),
        "XDG_CONFIG_HOME": str(state / "config"),
    }


@contextmanager
def caddy_in_front(
    upstream: str, state: Path, https_port: int, timeout: float = 30
) -> Iterator[Proxy]:
    """Run Caddy on ``https_port`` proxying to ``upstream`` until it serves TLS; stop it after."""
    state.mkdir(parents=True, exist_ok=True)
    http_port = free_port()
    env = caddy_environment(state, https_port, http_port, upstream)
    output = (state / "caddy.out").open("ab")
    process = subprocess.Popen(
        [CADDY, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
        env=env,
        stdout=output,
        stderr=subprocess.STDOUT,
        cwd=state,
    )
    root = state / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
    try:
        deadline = time.monotonic() + timeout
        while not (root.exists() and _listening(https_port)):
            if process.poll() is not None:
                raise AssertionError(f"caddy exited: {(state / 'caddy.out').read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"caddy did not start: {(state / 'caddy.out').read_text()}")
            time.sleep(0.1)
        yield Proxy(f"https://127.0.0.1:{https_port}", http_port, root, state / "access.log")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
