"""One day's digest at a busy fund's scale: 5 team members and 2,000 emails with investors in
the day, in a database of 10,000 investors holding a year of earlier mail, plus the day's CRM
edits. Times what the evening job does before sending: collect by team member and by investor,
the CRM's changes, the narratives, and both renderings (HTML and text).

    python bench/bench_digest.py [--investors 10000] [--emails 2000] [--rounds 7]

Model time is excluded (the issue's target): narratives are written from the data. A second
figure runs the same build against a local model stub on loopback that answers at once, to show
what the model path itself costs besides the model. Target (issue 18): <= 2 s per digest; peak
memory printed.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import profiles  # noqa: E402

import crm_lib  # noqa: E402
from crm_lib import services  # noqa: E402
from crm_lib.clock import FixedClock  # noqa: E402
from crm_lib.config import Settings  # noqa: E402
from crm_lib.demo import load_demo_data  # noqa: E402
from crm_lib.digest.build import build_digest  # noqa: E402
from crm_lib.digest.local_model import LocalModel  # noqa: E402
from crm_lib.digest.render import render_html, render_text  # noqa: E402
from crm_lib.mail.corpus import Person, corpus  # noqa: E402
from crm_lib.mail.ingest import RawMessage, ingest  # noqa: E402

TEAM = (
    ("alice@fund.example", "Alice Park", "admin"),
    ("bob@fund.example", "Bob Stone", "member"),
    ("carol@fund.example", "Carol Diaz", "member"),
    ("dan@fund.example", "Dan Moss", "member"),
    ("erin@fund.example", "Erin Wolfe", "admin"),
)
DAY = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build_database(folder: Path, investors: int, emails: int) -> Settings:
    settings = Settings(data_dir=folder, password_hashing=profiles.CHEAPEST)
    clock = FixedClock(DAY - timedelta(days=400))
    ctx = crm_lib.open_crm(settings=settings, clock=clock, actor="system:bench")
    load_demo_data(ctx, investors=investors, as_of=DAY.date())
    users = [services.create_user(ctx, email, name, role) for email, name, role in TEAM]
    people = [
        Person(name, email, website)
        for name, email, website in ctx.db.execute(
            "SELECT p.full_name, p.email, i.website FROM fundraising_contacts p"
            " JOIN fundraising_investors i ON i.id = p.investor_id"
            " WHERE p.email IS NOT NULL ORDER BY p.id"
        ).fetchall()
    ]
    team = [email for email, _, _ in TEAM]
    accounts = {member: services.ensure_account(ctx, member) for member in team}
    earlier = corpus(team, people, emails * 5, seed=3, start=DAY - timedelta(days=330), days=329)
    _ingest(ctx, accounts, earlier)
    seed = 11
    while (linked := _linked_in_day(ctx)) < emails:  # the corpus has noise and cold mail too
        batch = max(50, round((emails - linked) * 2.2))
        _ingest(ctx, accounts, corpus(team, people, batch, seed=seed, start=DAY, days=1))
        seed += 1
    clock.advance(days=400)  # the day itself: a morning of edits by two team members
    rows = ctx.db.execute(
        "SELECT id, version FROM fundraising_investors ORDER BY id LIMIT 300"
    ).fetchall()
    for n, (investor_id, version) in enumerate(rows):
        user = ctx.as_user(users[n % 2])
        services.update_investor(
            user, investor_id, {"location": f"City {n}"}, expected_version=version
        )
    ctx.close()
    return settings


def _ingest(ctx, accounts, pairs) -> None:  # type: ignore[no-untyped-def]
    held: dict[str, list[RawMessage]] = {member: [] for member in accounts}
    for number, (member, raw) in enumerate(pairs):
        held[member].append(RawMessage(raw, f"bench #{number}"))
    for member, messages in held.items():
        ingest(ctx, accounts[member], messages)


def _linked_in_day(ctx) -> int:  # type: ignore[no-untyped-def]
    return ctx.db.execute(
        "SELECT count(DISTINCT e.id) FROM emails e JOIN email_investor_links l"
        " ON l.email_id = e.id WHERE e.sent_at >= ? AND e.sent_at < ?",
        [DAY.isoformat(), (DAY + timedelta(days=1)).isoformat()],
    ).fetchone()[0]


class InstantModel(BaseHTTPRequestHandler):
    """A local model stub on loopback that answers every chat completion at once."""

    def do_POST(self) -> None:  # the name http.server calls
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps(
            {"choices": [{"message": {"role": "assistant", "content": "A busy day."}}]}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def time_builds(settings: Settings, rounds: int, model: LocalModel | None) -> dict:
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    since, until = DAY, DAY + timedelta(days=1)
    times, sizes, digest = [], (0, 0), None
    for _ in range(rounds):
        started = time.perf_counter()
        digest = build_digest(ctx, since, until, zone=UTC, model=model)
        html, text = render_html(digest), render_text(digest)
        times.append(time.perf_counter() - started)
        sizes = (len(html.encode()), len(text.encode()))
    ctx.close()
    assert digest is not None
    return {"times": times, "sizes": sizes, "figures": digest.figures()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=10_000)
    parser.add_argument("--emails", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-digest-"))
    try:
        started = time.perf_counter()
        settings = build_database(folder / "data", args.investors, args.emails)
        print(
            f"{args.emails:,}+ emails with investors in the day (and {args.emails * 5:,} before),"
            f" {args.investors:,} investors, {len(TEAM)} team members, 300 edits;"
            f" built in {time.perf_counter() - started:.0f} s"
        )
        plain = time_builds(settings, args.rounds, None)
        tracemalloc.start()
        time_builds(settings, 1, None)  # memory measured apart: tracing slows the timed rounds
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures = plain["figures"]
        print(
            f"digest of the day: {figures['emails']:,} emails with {figures['investors']:,}"
            f" investors, {figures['members_active']} team members, {figures['edits']:,} edits;"
            f" HTML {plain['sizes'][0]:,} bytes, text {plain['sizes'][1]:,} bytes"
        )
        p50, p95 = percentile(plain["times"], 0.5), percentile(plain["times"], 0.95)
        print(
            f"build + render, narratives from the data ({args.rounds} rounds):"
            f" p50 {p50:.2f} s, p95 {p95:.2f} s"
        )
        server = ThreadingHTTPServer(("127.0.0.1", 0), InstantModel)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        model = LocalModel(f"http://127.0.0.1:{server.server_address[1]}/v1", "stub", 10)
        stubbed = time_builds(settings, max(1, args.rounds // 2), model)
        server.shutdown()
        print(
            "build + render, narratives from a local model stub that answers at once:"
            f" p50 {percentile(stubbed['times'], 0.5):.2f} s"
            f" (narratives: {stubbed['figures']['narrative']})"
        )
        print(f"peak Python memory while building (tracemalloc): {peak / 2**20:.0f} MB")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of the process (max RSS): {rss:.0f} MB")
        verdict = "PASS" if p95 <= 2.0 else "FAIL"
        print(f"{verdict}  one day's digest <= 2 s, model time excluded ({p95:.2f} s p95)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
