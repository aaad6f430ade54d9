"""The benchmark scripts run and print their figures (on tiny inputs: behaviour, not timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_script(command: list[str], timeout: int = 300) -> str:
    """Run a benchmark (or docs) script from the project root; its standard output (a failing
    run fails the test)."""
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=True
    ).stdout


def test_formula_benchmark_prints_every_figure_and_the_peer_ratio() -> None:
    out = run_script(
        [
            sys.executable,
            "bench/bench_formulas.py",
            "--records",
            "300",
            "--peer-records",
            "20",
            "--single",
            "20",
        ]
    )
    assert "10 formulas over 300 records" in out
    assert out.count("µs") >= 4 and "compile µs" in out and "1 record µs p50" in out
    assert "all 10 over 300 records:" in out
    assert "side by side with `formulas`" in out and "x faster" in out
    assert "peak memory" in out


def test_import_benchmark_prints_every_phase_and_reimport_changes_nothing(tmp_path: Path) -> None:
    out = run_script(
        [sys.executable, "bench/bench_import.py", "--rows", "300", "--data-dir", str(tmp_path)]
    )
    assert "300 rows x 25 columns" in out
    for phase in ("CRM dry run", "CRM first import", "CRM re-import", "peer: sqlite-utils"):
        assert phase in out
    assert "rows/s" in out and "peak MB" in out and "first import / peer:" in out
    assert "Did create 300, update 0" in out
    assert "leave 300 unchanged" in out and "re-import changes: 0 (target 0)" in out
    assert "PASS  re-import makes 0 changes (0)" in out
    assert "database after the imports: 300 investors" in out and "peer table: 300 rows" in out


def test_backup_benchmark_times_backup_and_verify_while_a_writer_keeps_writing(
    tmp_path: Path,
) -> None:
    command = [sys.executable, "bench/bench_backup.py", "--mb", "5", "--data-dir", str(tmp_path)]
    out = run_script([*command, "--before", "0.5", "--after", "0.5"])
    assert "generated database:" in out and "investors x 3 people" in out
    assert "integrity 'ok', verify_status 'ok' (ok)" in out
    for step in ("backup: copy", "backup: SHA-256", "backup: integrity_check", "backup: total"):
        assert step in out
    assert "verify: SHA-256" in out and "verify: total" in out and "MB/s" in out
    for window in ("writer alone (before)", "during create_backup()", "during verify_backup()"):
        assert window in out
    assert "p50 ms" in out and "p95 ms" in out and "longest gap between writes" in out
    assert "PASS  writes completed during the backup (" in out
    assert "PASS  writer wrote from before the backup until after verify" in out
    assert "PASS  no failed writes (0)" in out
    for target in ("backup <= 5 s", "verify <= 5 s", "longest write stall <= 250 ms"):
        assert f"  {target} (" in out
    assert "peak memory (max RSS) of the backup process" in out
    assert not list((tmp_path / "crm" / "backups").glob("*.db"))  # the copy is cleaned up


@pytest.mark.browser
def test_ui_benchmark_logs_in_switches_every_page_and_prints_the_targets(tmp_path: Path) -> None:
    out = run_script(
        [sys.executable, "bench/bench_ui.py", "--investors", "60", "--rounds", "1"], timeout=600
    )
    assert "demo fund: 60 investors" in out and "1 rounds, 1440 x 900" in out
    assert "login → grid rows visible" in out
    for path in ("/", "/contacts", "/activity", "/funds", "/requests", "/account", "/admin"):
        assert f"page switch → {path} " in out and f"layout shift after load: {path} " in out
    for target in ("grid after login <= 1.5 s median", "page switch <= 300 ms median"):
        assert f"  {target} (" in out
    assert "no layout shift after load (score < 0.01)" in out


def test_email_benchmark_imports_matches_syncs_and_times_the_timeline(tmp_path: Path) -> None:
    out = run_script(
        [
            sys.executable,
            "bench/bench_email.py",
            "--investors",
            "300",
            "--messages",
            "400",
            "--data-dir",
            str(tmp_path / "mail"),
        ],
        timeout=600,
    )
    assert "read 400 messages:" in out and "0 unreadable" in out
    assert "peak memory of the import (max RSS)" in out
    assert "incremental Gmail sync of 1,000 new messages (HttpMock)" in out
    for target in (
        "end to end >= 1,000 messages/s",
        "matching >= 50,000 messages/s",
        "peak memory <= 500 MB",
        "incremental sync of 1,000 messages <= 10 s",
        "timeline p95 <= 200 ms",
    ):
        assert f"  {target} (" in out


@pytest.mark.browser
def test_ui_floor_benchmark_times_bare_panel_pages() -> None:
    out = run_script([sys.executable, "bench/bench_ui_floor.py", "--rounds", "1"])
    lines = out.splitlines()
    for name in ("bare page switch (heading + link)", "bare Tabulator 50 x 22, new context"):
        line = next(line for line in lines if line.startswith(name))
        assert float(line.split()[-4]) > 0  # p50 seconds, then p95


@pytest.mark.browser
def test_the_screenshot_script_captures_every_main_page_of_the_demo(tmp_path: Path) -> None:
    out = run_script(
        [sys.executable, "docs/screenshots.py", "--out", str(tmp_path), "--investors", "40"],
        timeout=600,
    )
    names = (
        "home",
        "grid",
        "record",
        "activity",
        "contacts",
        "funds",
        "requests",
        "admin",
        "pipeline",
        "tasks",
        "automations",
    )
    for name in names:
        shot = tmp_path / f"{name}.png"
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
        assert str(shot) in out


def test_digest_benchmark_builds_a_day_and_prints_the_target() -> None:
    out = run_script(
        [sys.executable, "bench/bench_digest.py", "--investors", "300", "--emails", "150"],
        timeout=600,
    )
    assert "digest of the day:" in out and "HTML" in out
    assert "narratives from a local model stub that answers at once" in out
    assert "(narratives: model)" in out
    assert "peak memory of the process (max RSS)" in out
    assert "  one day's digest <= 2 s, model time excluded (" in out


def test_search_benchmark_scores_the_labelled_queries_in_each_mode_and_fts5() -> None:
    out = run_script(
        [sys.executable, "bench/bench_search.py", "--chunks", "1500", "--rounds", "1"], timeout=600
    )
    assert "55 labelled queries (tests/data/search_queries.json)" in out
    for name in ("hybrid", "semantic", "keyword", "FTS5 bm25 (peer)"):
        assert f"\n{name} " in out
    assert "chunks/s (wordllama, local mode)" in out and "peak memory (max RSS)" in out
    for target in (
        "hybrid >= each single mode",
        "hybrid recall@10 >= 0.85",
        "hybrid p95 <= 250 ms",
    ):
        assert f"  {target} (" in out


def test_ask_benchmark_prints_scrubbing_validation_curated_and_model_path_figures() -> None:
    out = run_script(
        [
            sys.executable,
            "bench/bench_ask.py",
            "--investors",
            "300",
            "--emails",
            "200",
            "--people",
            "1000",
            "--rounds",
            "1",
        ]
    )
    assert "300 investors" in out and "1,000 people" in out
    assert "scrub a question (500 questions): p50" in out
    assert "validate (17 curated + 6 hostile" in out
    assert "curated questions end to end (17 x 1 rounds" in out
    assert "a question right after a write (a new snapshot, over SQLite)" in out
    assert "the same over the SQLite snapshot only" in out
    assert "free-form path with a Messages API stub that answers at once (10 questions)" in out
    assert "peak memory" in out and "curated questions p95 <= 300 ms" in out


def test_pipeline_benchmark_prints_board_totals_and_my_tasks_figures() -> None:
    out = run_script(
        [
            sys.executable,
            "bench/bench_pipeline.py",
            "--investors",
            "600",
            "--tasks",
            "500",
            "--rounds",
            "2",
        ]
    )
    assert "600 investors, 150 opportunities, 500 tasks" in out
    assert "board data for one fund (2 rounds): p50" in out
    assert "weighted totals per stage (2 rounds): p50" in out and "my tasks (" in out
    assert "forecast by expected close month (2 rounds): p50" in out
    assert "funnel from the stage history (2 rounds): p50" in out
    assert "a grid page of 100 rows with the pipeline columns (2 rounds): p50" in out
    assert "peak memory" in out and out.count("p95 <=") == 5


def test_automations_benchmark_prints_the_templates_and_the_edit_overhead() -> None:
    out = run_script(
        [sys.executable, "bench/bench_automations.py", "--investors", "400", "--edits", "20"],
        timeout=600,
    )
    assert "400 investors" in out and "the three templates together:" in out
    assert "a grid edit, the three templates on (20 edits): p50" in out
    assert "added to an edit's p95 by the event rules:" in out
    assert out.count("<= 2,000 ms") + out.count("<= 5 ms") == 2
