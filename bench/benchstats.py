"""What the benchmark scripts print their timings with: percentiles, "p50 .. ms, p95 .. ms"."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(values: list[float], decimals: int = 2) -> str:
    """``values`` (milliseconds) as "p50 x ms, p95 y ms"."""
    return (
        f"p50 {percentile(values, 0.5):.{decimals}f} ms,"
        f" p95 {percentile(values, 0.95):.{decimals}f} ms"
    )
