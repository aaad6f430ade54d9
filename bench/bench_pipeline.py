"""The pipeline at a large fund's scale: 100,000 investors with the demo's pipeline (about one
investor in twelve per fund: 25,000 opportunities over three funds) and 50,000 tasks across the
team. Times what the board and home pages ask for:

- a fund's board data (every stage with its cards, last email touch, going cold) p50/p95;
- a fund's weighted totals per stage against its target (the summary) p50/p95;
- "my tasks" (overdue, today, upcoming) for a team member p50/p95.

    python bench/bench_pipeline.py [--investors 100000] [--tasks 50000] [--rounds 20] [--keep DIR]

Targets (issue 21): board p95 <= 150 ms; weighted totals p95 <= 50 ms; my tasks p95 <= 50 ms.
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
from benchstats import figures as _figures  # noqa: E402
from benchstats import percentile  # noqa: E402

import crm_lib  # noqa: E402
from crm_lib import services  # noqa: E402
from crm_lib.clock import today  # noqa: E402
from crm_lib.config import Settings  # noqa: E402
from crm_lib.demo import TASK_TITLES, load_demo_data  # noqa: E402
from crm_lib.storage.writes import write  # noqa: E402


def figures(values: list[float]) -> str:
    return _figures(values, 1)


def build_database(folder: Path, investors: int, tasks: int) -> Settings:
    """The demo at this scale (kept in ``--keep``'s folder), its tasks topped up to ``tasks``."""
    settings = Settings(data_dir=folder, password_hashing=profiles.CHEAPEST)
    fresh = not settings.database_path.exists()
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    if fresh:
        load_demo_data(ctx, investors=investors, seed=5)
    have = ctx.db.execute("SELECT count(*) FROM tasks").fetchone()[0]
    if have < tasks:
        rng = random.Random(5)
        team = [r[0] for r in ctx.db.execute("SELECT id FROM users ORDER BY id")]
        ids = [r[0] for r in ctx.db.execute("SELECT id FROM fundraising_investors")]
        day = today(ctx.clock)
        with write(ctx) as tx:
            for _ in range(tasks - have):
                done = rng.random() < 0.5
                tx.insert(
                    "tasks",
                    {
                        "title": rng.choice(TASK_TITLES),
                        "investor_id": rng.choice(ids),
                        "assignee_id": rng.choice(team),
                        "due_on": (day + timedelta(days=rng.randint(-60, 90))).isoformat(),
                        "status": "done" if done else "open",
                    },
                )
    ctx.close()
    return settings


def timed(action, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    action()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--keep", type=Path, default=None, help="build into / reuse this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-pipeline-")) / "data"
    try:
        started = time.perf_counter()
        settings = build_database(folder, args.investors, args.tasks)
        ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
        count = lambda sql: ctx.db.execute(sql).fetchone()[0]  # noqa: E731
        print(
            f"{count('SELECT count(*) FROM fundraising_investors'):,} investors,"
            f" {count('SELECT count(*) FROM opportunities'):,} opportunities,"
            f" {count('SELECT count(*) FROM tasks'):,} tasks;"
            f" ready in {time.perf_counter() - started:.0f} s"
        )
        fund = next(f for f in services.list_funds(ctx) if f["status"] == "raising")
        member = ctx.db.execute(
            "SELECT id, email, role FROM users ORDER BY id LIMIT 1 OFFSET 1"
        ).fetchone()
        user = ctx.as_user({"id": member[0], "email": member[1], "role": member[2]})
        board = services.pipeline_board(user, fund["id"])
        cards = sum(len(c["cards"]) for c in board["columns"])
        print(
            f"{fund['name']}: {board['open_count']:,} open opportunities, {cards:,} cards on the"
            f" board, {sum(c['going_cold'] for col in board['columns'] for c in col['cards']):,}"
            " going cold"
        )
        board_times = timed(lambda: services.pipeline_board(user, fund["id"]), args.rounds)
        print(f"board data for one fund ({args.rounds} rounds): {figures(board_times)}")
        totals = timed(lambda: services.pipeline_summary(user, fund["id"]), args.rounds)
        print(f"weighted totals per stage ({args.rounds} rounds): {figures(totals)}")
        mine = services.my_tasks(user)
        tasks = timed(lambda: services.my_tasks(user), args.rounds)
        print(
            f"my tasks ({len(mine['overdue'])} overdue, {len(mine['today'])} today,"
            f" {len(mine['upcoming'])} upcoming; {args.rounds} rounds): {figures(tasks)}"
        )
        forecast = timed(lambda: services.pipeline_forecast(user, fund["id"]), args.rounds)
        print(f"forecast by expected close month ({args.rounds} rounds): {figures(forecast)}")
        funnel = timed(lambda: services.pipeline_funnel(user, fund["id"]), args.rounds)
        print(f"funnel from the stage history ({args.rounds} rounds): {figures(funnel)}")
        view = services.create_view(
            user,
            {
                "name": "Bench: family offices",
                "filters": {"field": "type", "operator": "eq", "value": "Family office"},
            },
        )

        def page_by_view() -> None:  # what /pipeline reads with a view chosen
            ids = services.view_investor_ids(user, view["id"])
            services.pipeline_board(user, fund["id"], investor_ids=ids)
            services.pipeline_summary(user, fund["id"])
            services.pipeline_forecast(user, fund["id"], investor_ids=ids)
            services.pipeline_funnel(user, fund["id"], investor_ids=ids)

        narrowed = timed(page_by_view, args.rounds)
        print(
            f"the pipeline page's reads, narrowed to a view of"
            f" {len(services.view_investor_ids(user, view['id'])):,} investors"
            f" ({args.rounds} rounds): {figures(narrowed)}"
        )
        cold = services.going_cold(user)
        cold_times = timed(lambda: services.going_cold(user), args.rounds)
        print(
            f"going cold for home ({cold['total']:,} investors; {args.rounds} rounds):"
            f" {figures(cold_times)}"
        )
        nav = timed(lambda: services.count_my_tasks(user), args.rounds)
        print(f"the navigation's task count ({args.rounds} rounds): {figures(nav)}")
        grid = timed(lambda: services.grid_page(user, {"list_membership": "all"}), args.rounds)
        print(
            f"a grid page of 100 rows with the pipeline columns ({args.rounds} rounds):"
            f" {figures(grid)}"
        )
        ctx.close()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process (max RSS): {rss:.0f} MB")
        for name, values, target in (
            ("board data", board_times, 150),
            ("weighted totals", totals, 50),
            ("my tasks", tasks, 50),
            ("the pipeline page narrowed to a view", narrowed, 150),
            ("going cold", cold_times, 150),
        ):
            p95 = percentile(values, 0.95)
            print(
                f"{'PASS' if p95 <= target else 'FAIL'}  {name} p95 <= {target} ms ({p95:.1f} ms)"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
