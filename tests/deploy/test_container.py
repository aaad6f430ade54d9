"""The ``Dockerfile`` built and run with Podman, as an operator would with Docker: a non-root
process with a health check on a read-only root, its data in the mounted volume readable by it
alone, a graceful stop, data kept across a restart, and an old database upgraded at start.

``tests/deploy/prepare_container.sh`` (run by run_tests.sh) fetches the base image and the
wheels; the build here runs with ``--network none`` and the container is reached on 127.0.0.1.
Two settings are this test machine's, not the image's: runc instead of crun (the host's cgroups
are hybrid) and lower ulimits than Podman's defaults (the host caps them).
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.apps.server import ROOT, free_port

pytestmark = pytest.mark.container

PODMAN = ["podman", "--runtime", "runc"]
BASE_IMAGE = "localhost/venture-crm-base:bookworm"
WHEELS = ROOT / ".cache" / "container-wheels"
CRM_UID = 10001  # the image's "crm" user
SCHEMAS = ROOT / "tests" / "data" / "schemas"


def podman(
    *args: str, timeout: float = 120, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=check
    )


def ulimits() -> list[str]:
    files = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
    return ["--ulimit", f"nofile={files}:{files}", "--ulimit", "nproc=4096:4096"]


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The project's Dockerfile, built offline from the prepared wheels."""
    assert (WHEELS / "requirements.txt").is_file(), "run tests/deploy/prepare_container.sh"
    pip_conf = tmp_path_factory.mktemp("pip") / "pip.conf"
    pip_conf.write_text("[global]\nno-index = true\nfind-links = /wheels\n")
    tag = f"localhost/venture-crm:test-{uuid.uuid4().hex[:8]}"
    built = podman(
        "build",
        "--network",
        "none",
        "--format",
        "docker",  # the OCI format has no HEALTHCHECK
        *ulimits(),
        "--volume",
        f"{WHEELS}:/wheels:ro",
        "--volume",
        f"{pip_conf}:/etc/pip.conf:ro",
        "--build-arg",
        f"BASE_IMAGE={BASE_IMAGE}",
        "--tag",
        tag,
        str(ROOT),
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    yield tag
    podman("rmi", "--force", tag, check=False)


def data_folder(tmp_path: Path) -> Path:
    """A host folder for /data, owned by the image's user as a fresh volume would be."""
    folder = tmp_path / "data"
    folder.mkdir()
    os.chown(folder, CRM_UID, CRM_UID)
    folder.chmod(0o700)
    return folder


@contextmanager
def container(image: str, data: Path) -> Iterator[tuple[str, str]]:
    """Run ``image`` hardened as docker-compose.yml runs it; yield (name, base URL) once ready."""
    name = f"crm-test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    podman(
        "run",
        "--detach",
        "--name",
        name,
        *ulimits(),
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        "--publish",
        f"127.0.0.1:{port}:5006",
        "--env",
        f"CRM_SECRET_KEY={secrets.token_urlsafe(48)}",
        "--env",
        "CRM_JOBS=off",
        "--volume",
        f"{data}:/data",
        image,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            state = json.loads(podman("inspect", name).stdout)[0]["State"]
            assert state["Running"], podman("logs", name).stderr[-3000:]
            assert time.monotonic() < deadline, podman("logs", name).stderr[-3000:]
            time.sleep(0.5)
        yield name, base
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def test_the_image_runs_as_crm_with_a_health_check_and_a_data_volume(image: str) -> None:
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "crm"
    health = inspected.get("Healthcheck") or config["Healthcheck"]  # where Podman puts it
    assert "/readyz" in " ".join(health["Test"])
    assert "/data" in config["Volumes"]
    assert config["ExposedPorts"] == {"5006/tcp": {}}


def test_the_container_serves_stops_cleanly_and_keeps_its_data(image: str, tmp_path: Path) -> None:
    data = data_folder(tmp_path)
    with container(image, data) as (name, base):
        ready = httpx.get(f"{base}/readyz", timeout=5).json()
        assert ready["ready"] is True
        assert httpx.get(f"{base}/login", timeout=5).status_code == 200
        assert podman("healthcheck", "run", name, check=False).returncode == 0
        whoami = podman("exec", name, "id", "-u").stdout.strip()
        assert whoami == str(CRM_UID)
        writes_root = podman("exec", name, "touch", "/opt/venture-crm/x", check=False)
        assert writes_root.returncode != 0 and "Read-only file system" in writes_root.stderr
        demo = podman("exec", name, "crm", "demo-data", "--investors", "50", timeout=300)
        assert demo.returncode == 0
        logs = podman("logs", name).stdout
        # the first-admin link is one a browser can open, not http://0.0.0.0
        assert "http://127.0.0.1:5006/invite/" in logs and "0.0.0.0:5006/invite" not in logs
        started = time.monotonic()
        podman("stop", "--time", "20", name)
        assert time.monotonic() - started < 15, "SIGTERM did not stop the server"
        assert json.loads(podman("inspect", name).stdout)[0]["State"]["ExitCode"] in (0, 130)
    database = data / "crm.db"
    assert database.stat().st_uid == CRM_UID
    assert database.stat().st_mode & 0o077 == 0, oct(database.stat().st_mode)
    investors = _count(database, "fundraising_investors")
    assert investors >= 50
    with container(image, data) as (_, base):
        assert httpx.get(f"{base}/readyz", timeout=5).json()["ready"] is True
    assert _count(database, "fundraising_investors") == investors


def test_an_old_database_is_upgraded_with_a_backup_when_the_container_starts(
    image: str, tmp_path: Path
) -> None:
    data = data_folder(tmp_path)
    database = data / "crm.db"
    conn = sqlite3.connect(database)
    conn.executescript((SCHEMAS / "v10.sql").read_text(encoding="utf-8"))
    conn.close()
    os.chown(database, CRM_UID, CRM_UID)
    investors = _count(database, "fundraising_investors")
    with container(image, data) as (name, base):
        ready = httpx.get(f"{base}/readyz", timeout=5).json()
        logs = podman("logs", name).stdout
    assert ready["schema"] == ready["expected_schema"] > 10
    assert "Upgraded" in logs or "upgraded" in logs, logs[-2000:]
    assert _count(database, "fundraising_investors") == investors
    assert list((data / "backups").glob("*")), "no pre-upgrade backup"


def _count(database: Path, table: str) -> int:
    conn = sqlite3.connect(database)
    try:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL").fetchone()[0]
    finally:
        conn.close()
