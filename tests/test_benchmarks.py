"""The benchmark scripts run and print their figures (on tiny inputs: behaviour, not timing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_formula_benchmark_prints_every_figure_and_the_peer_ratio() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "bench/bench_formulas.py",
            "--records",
            "300",
            "--peer-records",
            "20",
            "--single",
            "20",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    out = result.stdout
    assert "10 formulas over 300 records" in out
    assert out.count("µs") >= 4 and "compile µs" in out and "1 record µs p50" in out
    assert "all 10 over 300 records:" in out
    assert "side by side with `formulas`" in out and "x faster" in out
    assert "peak memory" in out
