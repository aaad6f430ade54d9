"""Ask in plain English at a large fund's scale: 100,000 investors (with their people, topped up
to 300,000 names for the matcher) and 50,000 emails. Times what a question costs:

- scrubbing a question (the privacy boundary) p50/p95, and building the matcher;
- validating SQL (the curated questions and hostile SQL) p50/p95;
- every curated question end to end through the service (validate, bind, run in the locked-down
  DuckDB, log), p50/p95 over the rounds, with the snapshot current; the first question (a
  snapshot to take) and a question right after a write (a new snapshot) apart;
- the free-form path against a Messages API stub on loopback that answers at once (scrub,
  schema, request, validate, run, log: everything but the model's own time).

    python bench/bench_ask.py [--investors 100000] [--emails 50000] [--rounds 5] [--keep DIR]

``--keep DIR`` builds the database once into DIR and reuses it on later runs. Target (issue 20):
curated questions p95 <= 300 ms; scrubbing p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import profiles  # noqa: E402
from benchstats import figures as _figures  # noqa: E402
from benchstats import percentile  # noqa: E402

import crm_lib  # noqa: E402
from crm_lib import services  # noqa: E402
from crm_lib.ask.claude import TOOL_NAME  # noqa: E402
from crm_lib.ask.curated import CURATED  # noqa: E402
from crm_lib.ask.scrub import Matcher  # noqa: E402
from crm_lib.ask.validate import QueryRefused, validate  # noqa: E402
from crm_lib.config import Settings  # noqa: E402
from crm_lib.demo import load_demo_data, load_demo_email  # noqa: E402
from crm_lib.services.ask import AskEngine  # noqa: E402

HOSTILE_SQL = (
    "DROP TABLE investors",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT email, password_hash FROM users",
    "ATTACH '/tmp/x.db' AS x",
    "SELECT 1; DELETE FROM investors",
    "WITH t AS (SELECT * FROM crm.users) SELECT * FROM t",
)
QUESTION_SHAPES = (
    "When did we last email {person} of {investor}?",
    "has {investor} committed more than $2,500,000 to fund iii",
    "who at {investor} did {email} introduce us to",
    "Show {person}'s phone +44 20 7946 0958 at {investor}",
    "Compare {investor} with {other} by total committed, 5m or more",
    "which investors like {investor} in the follow up list have not replied in 30 days",
)


def figures(values: list[float]) -> str:
    return _figures(values, 2)


def build_database(folder: Path, investors: int, emails: int) -> Settings:
    """The demo fund at this scale (kept in ``--keep``'s folder): mail is added until at least
    ``emails`` messages are stored (the corpus has noise that capture skips)."""
    settings = Settings(data_dir=folder, password_hashing=profiles.CHEAPEST)
    fresh = not settings.database_path.exists()
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    if fresh:
        load_demo_data(ctx, investors=investors, seed=3)
    seed = 3
    while (stored := ctx.db.execute("SELECT count(*) FROM emails").fetchone()[0]) < emails:
        load_demo_email(ctx, max(500, round((emails - stored) * 1.1)), seed=seed)
        seed += 1
    ctx.close()
    return settings


class InstantClaude(BaseHTTPRequestHandler):
    """A Messages API stub on loopback: every question gets the same tool call at once."""

    def do_POST(self) -> None:  # the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        call = {
            "sql": "SELECT i.id, i.name, i.total_invested FROM investors i"
            " WHERE lower(i.name) = lower($INVESTOR_1)",
            "explanation": "The investor named.",
        }
        body = json.dumps(
            {
                "id": "msg_bench",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-5",
                "content": [{"type": "tool_use", "id": "t", "name": TOOL_NAME, "input": call}],
                "stop_reason": "tool_use",
                "usage": {"input_tokens": 1, "output_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def questions(ctx: crm_lib.context.Context, count: int) -> list[str]:
    rng = random.Random(5)
    investors = [r[0] for r in ctx.db.execute("SELECT name FROM fundraising_investors")]
    people = ctx.db.execute(
        "SELECT full_name, email FROM fundraising_contacts WHERE email LIKE '%@%'"
    ).fetchall()
    made = []
    for n in range(count):
        person, email = rng.choice(people)
        investor, other = rng.sample(investors, 2)
        made.append(
            QUESTION_SHAPES[n % len(QUESTION_SHAPES)].format(
                person=person, email=email, investor=investor, other=other
            )
        )
    return made


def bench_scrub(ctx: crm_lib.context.Context, people_target: int) -> None:
    started = time.perf_counter()
    base = Matcher.from_database(ctx.db.conn)
    built = time.perf_counter() - started
    investors = [r[0] for r in ctx.db.execute("SELECT name FROM fundraising_investors")]
    people = [r[0] for r in ctx.db.execute("SELECT full_name FROM fundraising_contacts")]
    rng = random.Random(9)
    firsts = [p.split()[0] for p in people if " " in p]
    lasts = [p.split()[-1] for p in people if " " in p]
    extra = [
        f"{rng.choice(firsts)} {rng.choice(lasts)} {n}"
        for n in range(max(0, people_target - len(people)))
    ]
    started = time.perf_counter()
    matcher = Matcher(investors, people + extra, base.domains)
    topped = time.perf_counter() - started
    asked = questions(ctx, 500)
    times = []
    for question in asked:
        started = time.perf_counter()
        matcher.scrub(question)
        times.append((time.perf_counter() - started) * 1000)
    print(
        f"matcher: {len(investors):,} investors, {len(people) + len(extra):,} people"
        f" ({len(extra):,} added), {len(base.domains):,} domains; built from the database in"
        f" {built:.2f} s, with the added names in {topped:.2f} s"
    )
    print(f"scrub a question ({len(asked)} questions): {figures(times)}")
    verdict = "PASS" if percentile(times, 0.95) <= 20 else "FAIL"
    print(f"{verdict}  scrubbing p95 <= 20 ms ({percentile(times, 0.95):.2f} ms)")


def bench_validate(rounds: int) -> None:
    times = []
    for _ in range(rounds * 20):
        for sql in [*(q.sql for q in CURATED), *HOSTILE_SQL]:
            started = time.perf_counter()
            with contextlib.suppress(QueryRefused):
                validate(sql)
            times.append((time.perf_counter() - started) * 1000)
    print(
        f"validate ({len(CURATED)} curated + {len(HOSTILE_SQL)} hostile, x{rounds * 20}):"
        f" {figures(times)}"
    )


def bench_curated(ctx: crm_lib.context.Context, engine: AskEngine, rounds: int) -> float:
    started = time.perf_counter()
    services.ask(ctx, engine, "", key=CURATED[0].key)
    first = (time.perf_counter() - started) * 1000
    engine.wait_until_fast(120)
    copied = (time.perf_counter() - started) * 1000
    funds = [f["name"] for f in services.list_funds(ctx)]
    named = ctx.db.execute(
        "SELECT i.name FROM fundraising_investors i JOIN email_investor_links l"
        " ON l.investor_id = i.id GROUP BY i.id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    params = {"INVESTOR": named, "FUND": funds[-1], "FUND_A": funds[0], "FUND_B": funds[-1]}
    times: list[float] = []
    slowest: dict[str, float] = {}
    rows = 0
    for _ in range(rounds):
        for question in CURATED:
            given = {p.name: params[p.name] for p in question.parameters if p.name in params}
            started = time.perf_counter()
            answer = services.ask(ctx, engine, "", key=question.key, params=given)
            spent = (time.perf_counter() - started) * 1000
            times.append(spent)
            slowest[question.key] = max(slowest.get(question.key, 0), spent)
            rows += answer["row_count"]
    worst = sorted(slowest.items(), key=lambda kv: -kv[1])[:3]
    print(
        f"first question (takes the snapshot, answers over SQLite): {first:.0f} ms;"
        f" DuckDB's copy ready after {copied:.0f} ms"
    )
    print(
        f"curated questions end to end ({len(CURATED)} x {rounds} rounds, {rows:,} rows):"
        f" {figures(times)}; slowest: " + ", ".join(f"{k} {v:.0f} ms" for k, v in worst)
    )
    row = ctx.db.execute(
        "SELECT id, version FROM fundraising_investors ORDER BY id LIMIT 1"
    ).fetchone()
    moved = {"location": f"Bench City {time.time_ns()}"}  # a change on every run
    services.update_investor(ctx, row[0], moved, expected_version=row[1])
    started = time.perf_counter()
    services.ask(ctx, engine, "", key="fund_progress")
    after = (time.perf_counter() - started) * 1000
    engine.wait_until_fast(120)
    copied = (time.perf_counter() - started) * 1000
    print(
        f"a question right after a write (a new snapshot, over SQLite): {after:.0f} ms;"
        f" fast again after {copied:.0f} ms"
    )
    slow = AskEngine(ctx.settings, materialized=False)
    services.ask(ctx, slow, "", key=CURATED[0].key)
    before: list[float] = []
    for question in CURATED:
        given = {p.name: params[p.name] for p in question.parameters if p.name in params}
        started = time.perf_counter()
        services.ask(ctx, slow, "", key=question.key, params=given)
        before.append((time.perf_counter() - started) * 1000)
    slow.close()
    print(f"the same over the SQLite snapshot only (before the copy, 1 round): {figures(before)}")
    return percentile(times, 0.95)


def bench_model_path(ctx: crm_lib.context.Context, engine: AskEngine, rounds: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), InstantClaude)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stubbed = replace(
        ctx,
        settings=replace(
            ctx.settings,
            anthropic_api_key="bench-key",
            anthropic_base_url=f"http://127.0.0.1:{server.server_address[1]}",
        ),
    )
    asked = questions(ctx, rounds * 10)
    services.ask(stubbed, engine, asked[0])  # the matcher and the snapshot, once
    times = []
    for question in asked:
        started = time.perf_counter()
        services.ask(stubbed, engine, question)
        times.append((time.perf_counter() - started) * 1000)
    server.shutdown()
    body = services.ask(stubbed, engine, asked[0], dry_run=True)["request_body"]
    print(
        f"free-form path with a Messages API stub that answers at once ({len(asked)} questions):"
        f" {figures(times)}; request body {len(json.dumps(body)):,} bytes"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=100_000)
    parser.add_argument("--emails", type=int, default=50_000)
    parser.add_argument("--people", type=int, default=300_000, help="names in the matcher")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, default=None, help="build into / reuse this folder")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-ask-")) / "data"
    try:
        started = time.perf_counter()
        settings = build_database(folder, args.investors, args.emails)
        ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
        count = ctx.db.execute("SELECT count(*) FROM emails").fetchone()[0]
        size = settings.database_path.stat().st_size / 2**20
        print(
            f"{args.investors:,} investors, {count:,} emails, database {size:.0f} MB;"
            f" ready in {time.perf_counter() - started:.0f} s"
        )
        bench_scrub(ctx, args.people)
        bench_validate(args.rounds)
        engine = AskEngine(settings)
        p95 = bench_curated(ctx, engine, args.rounds)
        bench_model_path(ctx, engine, args.rounds)
        engine.close()
        ctx.close()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process (max RSS): {rss:.0f} MB")
        verdict = "PASS" if p95 <= 300 else "FAIL"
        print(f"{verdict}  curated questions p95 <= 300 ms ({p95:.0f} ms)")
    finally:
        if args.keep is None:
            shutil.rmtree(folder.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
