"""The digest holds real investors' names and email substance: it may only ever talk to the
local model and the mail transport. A guard records every outbound connection of a digest run;
another records every import, and no Anthropic (or other cloud model) client is ever built."""

from __future__ import annotations

import ast
import importlib.abc
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from crm_lib import services
from crm_lib.context import Context
from crm_lib.digest.local_model import LocalModel
from crm_lib.outbox.smtp import SMTPTransport
from tests.digest.conftest import ALICE, Inbox, day, deliver, mail

ROOT = Path(__file__).resolve().parents[2]
DIGEST_CODE = [
    *sorted((ROOT / "crm_lib" / "digest").glob("*.py")),
    *sorted((ROOT / "crm_lib" / "outbox").glob("*.py")),
    ROOT / "crm_lib" / "services" / "digest.py",
    ROOT / "crm_lib" / "private_network.py",
]
CLOUD_MODEL_PACKAGES = ("anthropic", "openai", "google.generativeai", "cohere", "mistralai")


class ImportWatch(importlib.abc.MetaPathFinder):
    """Records every module imported while it is installed (and imports nothing itself)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        self.names.append(name)
        return None


def test_a_digest_run_connects_to_the_local_model_and_the_mail_server_only(
    admin: Context,
    crm: dict,
    clock: Any,
    smtp: tuple[Inbox, SMTPTransport],
    httpserver: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, transport = smtp
    deliver(admin, ALICE, mail("Fund III", "Jane Doe <jane@acme.example>", ALICE, day(25, 10)))
    clock.advance(hours=9)
    httpserver.expect_request("/v1/chat/completions").respond_with_json(
        {"choices": [{"message": {"role": "assistant", "content": "Jane wrote about Fund III."}}]}
    )
    model = LocalModel(httpserver.url_for("/v1"), "local", 10)

    connections: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def recording_connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            connections.append((address[0], address[1]))
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    watch = ImportWatch()
    sys.meta_path.insert(0, watch)
    try:
        row = services.send_digest(admin, transports=[transport], model=model)
    finally:
        sys.meta_path.remove(watch)

    assert row["status"] == "sent" and row["narrative"] == "model"
    allowed = {httpserver.port, transport.port}
    assert connections, "the guard saw no connection at all"
    assert {port for _, port in connections} == allowed
    assert all(host in ("127.0.0.1", "::1") for host, _ in connections)
    assert len(inbox.messages) == 1
    cloud = [n for n in watch.names if n.split(".")[0] in CLOUD_MODEL_PACKAGES]
    assert cloud == []


def test_no_digest_module_imports_a_cloud_model_client() -> None:
    offences = []
    for path in DIGEST_CODE:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offences += [
                f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
                for name in names
                if any(name == p or name.startswith(p + ".") for p in CLOUD_MODEL_PACKAGES)
            ]
    assert offences == []


def test_building_a_digest_in_a_fresh_process_never_loads_anthropic(tmp_path: Path) -> None:
    """In a process of its own (nothing else imported first): preview the digest from the CLI's
    code path and list the modules loaded."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import crm_lib\n"
        "from crm_lib import services\n"
        "from crm_lib.config import Settings\n"
        f"ctx = crm_lib.open_crm(settings=Settings(data_dir=Path({str(tmp_path)!r})),"
        " actor='system:test')\n"
        "services.preview_digest(ctx)\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in"
        f" {CLOUD_MODEL_PACKAGES!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == ""
