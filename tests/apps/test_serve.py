"""The served app: one process, pages, login and probes on one port."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from crm_lib.storage.connect import connect
from crm_lib.storage.migrations import latest_version
from tests.apps.server import ROOT, free_port, get, running, server_log


def test_panel_serve_sh_sets_up_and_serves_home_and_probes(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    with running(["./panel_serve.sh", "--port", str(port)], data_dir, port) as base:
        status, body = get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["schema"] == latest_version()
        status, page = get(f"{base}/")  # redirected to the login page
        assert status == 200 and "<title>Log in · Venture CRM</title>" in page
        assert "https://" not in page  # no CDN assets
        output = server_log(data_dir).read_text()
        assert "No admin account yet. Open this one-time link (valid 24 h)" in output
        link = re.search(rf"{base}/invite/[A-Za-z0-9_-]{{43}}", output)
        assert link is not None
        status, page = get(link.group(0))
        assert status == 200 and "Create the first admin account" in page
    assert (data_dir / "crm.db").exists()


def test_serving_the_demo_database(demo_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    with running([sys.executable, "-m", "apps.serve", "--port", str(port)], demo_dir, port) as base:
        status, body = get(f"{base}/healthz")
        assert (status, json.loads(body)) == (
            200,
            {"status": "ok", "scheme": "http", "client": "127.0.0.1"},
        )
        assert get(f"{base}/")[0] == 200
        status, body = get(f"{base}/api/nothing-here")
        assert status == 404


def test_production_without_a_strong_secret_key_refuses_to_start(tmp_path: Path) -> None:
    for key in ("", "short"):
        result = subprocess.run(
            [sys.executable, "-m", "apps.serve", "--port", str(free_port())],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={
                "CRM_DATA_DIR": str(tmp_path),
                "CRM_ENV": "production",
                "CRM_SECRET_KEY": key,
                "PATH": "/usr/bin:/bin",
            },
            timeout=60,
        )
        assert result.returncode == 2
        assert "CRM_ENV=production needs a strong random key" in result.stderr
        assert "secrets.token_urlsafe(48)" in result.stderr
        assert "Traceback" not in result.stderr


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
