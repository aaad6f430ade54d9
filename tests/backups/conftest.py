"""A real S3-compatible server for the off-box tests: moto's, over HTTP on loopback.

Only loopback is ever contacted: every client gets an explicit ``http://127.0.0.1:<port>``
endpoint, the instance-metadata lookup is off, and the shell's AWS settings and files are
hidden behind fake credentials.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The endpoint of a moto S3 server on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials; nothing of the shell's AWS configuration, no metadata service."""
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "offbox-test-key-id")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "offbox-test-secret-value")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def bucket(s3_endpoint: str, aws_env: None) -> str:
    """A new, empty bucket of the test's own."""
    name = f"crm-test-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


@pytest.fixture
def dead_endpoint() -> Iterator[str]:
    """An address on loopback where nothing listens: a port held bound but never listening,
    so every connection is refused at once and no other process can take the port meanwhile."""
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    try:
        yield f"http://127.0.0.1:{held.getsockname()[1]}"
    finally:
        held.close()
