"""Automations at a large fund's scale: 100,000 investors (the demo) with email signals spread
over two years, and the three templates. Times what the rules cost:

- evaluating each template over every record as a dry run (select, plan), and the three together;
- a grid edit (``services.update_field``, what the grid's save calls) with no rule, and with the
  three templates on (the event rule is matched after every commit), p50/p95, and the difference.

    python bench/bench_automations.py [--investors 100000] [--edits 200] [--keep DIR]

Targets (issue 22): the three templates together <= 2 s; event rules add <= 5 ms p95 to an edit.
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import profiles  # noqa: E402
from benchstats import figures, percentile  # noqa: E402

import crm_lib  # noqa: E402
from crm_lib import services  # noqa: E402
from crm_lib.automations.templates import TEMPLATES  # noqa: E402
from crm_lib.config import Settings  # noqa: E402
from crm_lib.demo import load_demo_data  # noqa: E402


def build(folder: Path, investors: int) -> Settings:
    """The demo at this scale (kept in ``--keep``'s folder) with email signals: a third never
    emailed, the rest with a last inbound and outbound up to two years back."""
    settings = Settings(data_dir=folder, password_hashing=profiles.CHEAPEST)
    if settings.database_path.exists():
        return settings
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    load_demo_data(ctx, investors=investors, seed=5)
    rng = random.Random(9)
    now = ctx.clock.now()
    rows = []
    for (investor_id,) in ctx.db.execute("SELECT id FROM fundraising_investors").fetchall():
        if rng.random() < 1 / 3:
            continue
        inbound = now - timedelta(days=rng.randint(0, 730))
        outbound = now - timedelta(days=rng.randint(0, 730))
        rows.append((inbound.isoformat(), outbound.isoformat(), investor_id))
    ctx.db.conn.execute("BEGIN")
    ctx.db.conn.executemany(
        "UPDATE fundraising_investors SET email_last_inbound_at = ?, email_last_outbound_at = ?"
        " WHERE id = ?",
        rows,
    )
    ctx.db.conn.execute("COMMIT")
    ctx.close()
    return settings


def edits(ctx, ids: list[int], count: int, label: str) -> list[float]:  # type: ignore[no-untyped-def]
    """``count`` grid edits (Location, a new value each) of random investors, each timed end
    to end (after two untimed ones: the connection's statement cache warm)."""
    rng = random.Random(3)
    for investor_id in ids[:2]:
        version = ctx.db.execute(
            "SELECT version FROM fundraising_investors WHERE id = ?", [investor_id]
        ).fetchone()[0]
        services.update_field(
            ctx, investor_id, "location", f"{label} warm", expected_version=version
        )
    times = []
    for n in range(count):
        investor_id = rng.choice(ids)
        version = ctx.db.execute(
            "SELECT version FROM fundraising_investors WHERE id = ?", [investor_id]
        ).fetchone()[0]
        started = time.perf_counter()
        services.update_field(
            ctx, investor_id, "location", f"{label} {n}", expected_version=version
        )
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--keep", type=Path, default=None, help="build into / reuse this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-automations-")) / "data"
    try:
        started = time.perf_counter()
        settings = build(folder, args.investors)
        ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
        ids = [r[0] for r in ctx.db.execute("SELECT id FROM fundraising_investors")]
        print(f"{len(ids):,} investors; ready in {time.perf_counter() - started:.0f} s")
        for rule in services.list_rules(ctx):  # a kept folder: start from the templates again
            services.archive_rule(ctx, rule["id"], expected_version=rule["version"])
        edits(ctx, ids, args.edits, "Warm-up")  # untimed: caches and the file warm
        baseline = edits(ctx, ids, args.edits, "Before")
        print(f"a grid edit, no rules ({args.edits} edits): {figures(baseline)}")
        rules = [services.create_rule_from_template(ctx, name) for name in TEMPLATES]
        total = 0.0
        for rule in rules:
            begun = time.perf_counter()
            run = services.dry_run_rule(ctx, rule["id"])
            took = time.perf_counter() - begun
            total += took
            print(
                f"dry run of {rule['name']!r}: {took * 1000:.0f} ms ({run['matched']:,} matched,"
                f" {run['changed']:,} would change; {run['status']})"
            )
        print(f"the three templates together: {total * 1000:.0f} ms")
        for rule in rules:
            services.toggle_rule(ctx, rule["id"], expected_version=rule["version"])
        with_rules = edits(ctx, ids, args.edits, "After")
        print(f"a grid edit, the three templates on ({args.edits} edits): {figures(with_rules)}")
        added = percentile(with_rules, 0.95) - percentile(baseline, 0.95)
        print(f"added to an edit's p95 by the event rules: {added:.2f} ms")
        ctx.close()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process (max RSS): {rss:.0f} MB")
        for name, value, target in (
            ("the three templates together", total * 1000, 2000),
            ("added to an edit's p95", added, 5),
        ):
            verdict = "PASS" if value <= target else "FAIL"
            print(f"{verdict}  {name} <= {target:,} ms ({value:.1f} ms)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
