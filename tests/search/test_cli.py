"""`crm search`: a query from the shell (text or JSON), and, while another process holds the
local index (the server), a message naming the fix instead of a second index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from crm_lib import services
from crm_lib.cli import main
from crm_lib.context import Context
from crm_lib.services.search import open_search_index

ROOT = Path(__file__).resolve().parents[2]


def run(data_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])


def test_search_from_the_shell_and_as_json(ctx: Context, crm: dict) -> None:
    investor = services.get_investor(ctx, crm["acme"])["investor"]
    services.update_investor(
        ctx, crm["acme"], {"notes": "Copper mining in Chile."}, expected_version=investor["version"]
    )
    data_dir = ctx.settings.data_dir
    text = run(data_dir, "search", "copper", "mining", "--mode", "keyword")
    assert text.exit_code == 0, text.output
    assert "Acme Capital  [note]" in text.output and "Copper mining in Chile." in text.output
    as_json = run(data_dir, "search", "copper", "--json", "--limit", "1")
    [hit] = json.loads(as_json.output)
    assert (hit["lp_id"], hit["lp_name"], hit["doc_type"]) == (crm["acme"], "Acme Capital", "note")
    assert set(hit) == {
        "lp_id",
        "lp_name",
        "doc_type",
        "email_id",
        "thread_id",
        "date",
        "score",
        "snippet",
    }
    status = run(data_dir, "search", "status")
    assert "chunks, current" in status.output


def test_a_held_index_is_named_with_the_fix(ctx: Context, crm: dict) -> None:
    held = open_search_index(ctx.settings)  # as the server holds it
    try:
        done = subprocess.run(
            [
                str(Path(sys.executable).parent / "crm"),
                "--data-dir",
                str(ctx.settings.data_dir),
                "search",
                "copper",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        held.client.close()
    assert done.returncode == 1
    assert "held by the running server" in done.stderr and "CRM_API_TOKEN" in done.stderr
