"""Start real server processes on a free loopback port for tests (and stop them)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def server_log(data_dir: Path) -> Path:
    """Where :func:`running` writes the server's output (beside the data folder)."""
    return data_dir.parent / f"{data_dir.name}-server.log"


@dataclass(frozen=True)
class Served:
    """A server process started by :func:`serving`, and where it answers."""

    base: str
    process: subprocess.Popen[bytes]

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def serving(
    command: Sequence[str],
    data_dir: Path,
    port: int,
    timeout: float = 90,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """Run ``command`` until /healthz answers; yield it; stop the whole process group (a test
    may already have killed it)."""
    # jobs off unless a test asks: a nightly job caught up at start-up would run in every server
    env = {**os.environ, "CRM_DATA_DIR": str(data_dir), "CRM_JOBS": "off", **(extra_env or {})}
    log_path = server_log(data_dir)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("ab")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited early: {log_path.read_text()}")
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("server did not answer /healthz in time")
            time.sleep(0.2)
        yield Served(base, process)
    finally:
        _stop_group(process)
        log.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:  # killed by the test, with all its children
        process.wait()
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def running(
    command: Sequence[str],
    data_dir: Path,
    port: int,
    timeout: float = 90,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    """:func:`serving`, for tests that only need the base URL."""
    with serving(command, data_dir, port, timeout, extra_env) as served:
        yield served.base
