"""The served app: one process, pages and probes on one port, loopback only until login exists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from crm_lib.storage.connect import connect
from crm_lib.storage.migrations import latest_version
from tests.apps.server import ROOT, free_port, get, running


def test_panel_serve_sh_sets_up_and_serves_home_and_probes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    with running(["./panel_serve.sh", "--port", str(port)], data_dir, port) as base:
        status, body = get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["schema"] == latest_version()
        status, page = get(f"{base}/")
        assert status == 200 and "<title>Venture CRM</title>" in page
        assert "cdn" not in page.lower() or "cdn.holoviz" not in page
    assert (data_dir / "crm.db").exists()


def test_serving_the_demo_database(demo_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    with running([sys.executable, "-m", "apps.serve", "--port", str(port)], demo_dir, port) as base:
        status, body = get(f"{base}/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert get(f"{base}/")[0] == 200
        status, body = get(f"{base}/api/nothing-here")
        assert status == 404


def test_non_loopback_addresses_are_refused_while_there_is_no_login(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "apps.serve", "--host", "0.0.0.0", "--port", str(free_port())],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"CRM_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 2
    assert "Refusing to listen on 0.0.0.0" in result.stderr
    assert not (tmp_path / "crm.db").exists()


def test_panel_serve_sh_rejects_bad_options() -> None:
    for args, message in (
        (["--port", "abc"], "--port must be a number"),
        (["--colour"], "Unknown option: --colour"),
    ):
        result = subprocess.run(
            ["./panel_serve.sh", *args], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 2
        assert message in result.stderr


def test_readyz_reports_a_database_it_cannot_serve_in_the_json_error_shape(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    with running([sys.executable, "-m", "apps.serve", "--port", str(port)], data_dir, port) as base:
        db = connect(data_dir / "crm.db", check_file=False)
        db.execute(
            "INSERT INTO schema_migrations VALUES (999, 'from_the_future', 'x', '2030-01-01')"
        )
        db.conn.close()
        status, body = get(f"{base}/readyz")
        assert status == 503
        assert json.loads(body) == {
            "error": "database",
            "detail": f"Database is at schema 999, this app expects {latest_version()}; run `crm init`",
        }
        assert get(f"{base}/healthz")[0] == 200
