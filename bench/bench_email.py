"""Email capture at a fund's scale: an mbox of 50,000 messages imported against 100,000
investors and 300,000 people, as an operator runs it (`crm email import-mbox`, its own process),
then matching alone, and the record timeline of the investor with the most mail.

    python bench/bench_email.py [--investors 100000] [--messages 50000] [--data-dir DIR]

The data folder is built once (investors, people, the mbox) and reused while its sizes match;
each run imports into a copy of the database made before any mail, so runs compare.
Targets (issue 17): end to end >= 1,000 messages/s, matching >= 50,000 messages/s, peak memory
of the import <= 500 MB, the timeline of an investor with 2,000 emails <= 200 ms.
"""

from __future__ import annotations

import argparse
import json
import mailbox
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from argon2 import profiles  # noqa: E402

import crm_lib  # noqa: E402
from crm_lib import services  # noqa: E402
from crm_lib.config import Settings  # noqa: E402
from crm_lib.mail.corpus import Person, corpus  # noqa: E402
from crm_lib.mail.matching import load_directory  # noqa: E402
from crm_lib.mail.parse import parse_message  # noqa: E402
from crm_lib.storage.migrations import available_migrations  # noqa: E402

TEAM = ("alice@fund.example", "bob@fund.example", "carol@fund.example", "dan@fund.example")
PASSWORD = "tangerine orbit mosaic"
ANCHOR = "Anchor Pension Fund"
TIMELINE_EMAILS = 2_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def build(folder: Path, investors: int, messages: int) -> tuple[Path, Path]:
    """The database without mail and the mbox, built once per size."""
    marker = folder / "sizes.json"
    base, mbox = folder / "base" / "crm.db", folder / "mail.mbox"
    # rebuilt whenever the schema changes (a base made by other migrations is not this code's)
    schema = [m.checksum for m in available_migrations()]
    wanted = {"investors": investors, "messages": messages, "schema": schema}
    if marker.exists() and json.loads(marker.read_text()) == wanted and base.exists():
        return base, mbox
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "base").mkdir(parents=True)
    started = time.perf_counter()
    settings = Settings(data_dir=folder / "base", password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    for email in TEAM:
        link = services.invite_user(ctx, email, "admin")
        services.accept_link(ctx, link.token, name=email.split("@")[0].title(), password=PASSWORD)
    records = []
    people: list[Person] = []
    for n in range(investors):
        name = ANCHOR if n == 0 else f"Investor {n:06d}"
        website = f"https://www.inv{n}.example"
        staff = [
            {"full_name": f"Person {n}-{k}", "email": f"p{k}.{n}@inv{n}.example"} for k in range(3)
        ]
        records.append({"name": name, "website": website, "people": staff})
        people.extend(Person(p["full_name"], p["email"], website) for p in staff)
    services.bulk_create_investors(ctx, records)
    ctx.close()
    print(
        f"built {investors:,} investors, {len(people):,} people in"
        f" {time.perf_counter() - started:.1f} s"
    )
    started = time.perf_counter()
    box = mailbox.mbox(mbox)
    box.lock()
    share = TIMELINE_EMAILS / messages * 1.25
    for _, raw in corpus(TEAM, people, messages, anchor=people[0], anchor_share=share):
        box.add(raw)
    box.flush()
    box.unlock()
    box.close()
    print(
        f"wrote {messages:,} messages ({mbox.stat().st_size / 1e6:.0f} MB) in"
        f" {time.perf_counter() - started:.1f} s"
    )
    marker.write_text(json.dumps(wanted))
    return base, mbox


def import_run(base: Path, mbox: Path, work: Path) -> tuple[float, float, str]:
    """`crm email import-mbox` in its own process: seconds, peak RSS (MB), its summary line."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(base, work / "crm.db")
    command = [
        sys.executable,
        "-c",
        "from crm_lib.cli import main; main()",
        "--data-dir",
        str(work),
        "email",
        "import-mbox",
        str(mbox),
        "--account",
        TEAM[0],
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode not in (0, 1) or not done.stdout.strip():
        raise SystemExit(f"import failed ({done.returncode}): {done.stderr or done.stdout}")
    return elapsed, max(peak, before) / 1024, done.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "benchmail")
    args = parser.parse_args()
    base, mbox = build(args.data_dir, args.investors, args.messages)

    elapsed, peak_mb, summary = import_run(base, mbox, args.data_dir / "run")
    rate = args.messages / elapsed

    settings = Settings(data_dir=args.data_dir / "run", password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench", create=False)
    started = time.perf_counter()
    directory = load_directory(ctx)
    load_s = time.perf_counter() - started
    parsed = [parse_message(raw) for raw in _first(mbox, 5_000)]
    started = time.perf_counter()
    for message in parsed:
        directory.match(message)
    match_rate = len(parsed) / (time.perf_counter() - started)
    started = time.perf_counter()
    for raw in _first(mbox, 2_000):
        parse_message(raw)
    parse_rate = 2_000 / (time.perf_counter() - started)

    sync_s, sync_result = incremental_sync(ctx, base_people(ctx), 1_000)

    anchor = ctx.db.execute(
        "SELECT id FROM fundraising_investors WHERE name = ?", [ANCHOR]
    ).fetchone()[0]
    timings = []
    for _ in range(20):
        started = time.perf_counter()
        timeline = services.investor_emails(ctx, anchor)
        timings.append((time.perf_counter() - started) * 1000)
    ctx.close()

    print(
        f"\n{args.messages:,} messages, {args.investors:,} investors,"
        f" {args.investors * 3:,} people, 2 cores\n"
    )
    print(
        f"import (crm email import-mbox, own process)  {elapsed:8.1f} s   {rate:9,.0f} messages/s"
    )
    print(f"  {summary}")
    print(f"peak memory of the import (max RSS)          {peak_mb:8.0f} MB")
    print(f"parse alone                                           {parse_rate:9,.0f} messages/s")
    print(
        f"matching alone (directory loaded in {load_s:.1f} s)          {match_rate:9,.0f} messages/s"
    )
    print(
        f"incremental Gmail sync of 1,000 new messages (HttpMock)   {sync_s:6.1f} s"
        f"   ({sync_result['stored']:,} stored, {sync_result['linked']:,} linked)"
    )
    print(
        f"timeline of {ANCHOR} ({timeline['emails']:,} emails, {timeline['threads_total']:,}"
        f" threads): p50 {percentile(timings, 0.5):.0f} ms, p95 {percentile(timings, 0.95):.0f} ms"
    )
    print()
    for name, ok, shown in (
        ("end to end >= 1,000 messages/s", rate >= 1_000, f"{rate:,.0f}"),
        ("matching >= 50,000 messages/s", match_rate >= 50_000, f"{match_rate:,.0f}"),
        ("peak memory <= 500 MB", peak_mb <= 500, f"{peak_mb:.0f} MB"),
        ("incremental sync of 1,000 messages <= 10 s", sync_s <= 10, f"{sync_s:.1f} s"),
        (
            "timeline p95 <= 200 ms",
            percentile(timings, 0.95) <= 200,
            f"{percentile(timings, 0.95):.0f} ms",
        ),
    ):
        print(f"{'PASS' if ok else 'FAIL'}  {name} ({shown})")


def base_people(ctx: object) -> list[Person]:
    rows = ctx.db.execute(  # type: ignore[attr-defined]
        "SELECT p.full_name, p.email, i.website FROM fundraising_contacts p"
        " JOIN fundraising_investors i ON i.id = p.investor_id LIMIT 30000"
    ).fetchall()
    return [Person(*row) for row in rows]


def incremental_sync(ctx: object, people: list[Person], count: int) -> tuple[float, dict]:
    """Alice's Gmail, already synced to a history id, receives ``count`` new messages: the
    sync reads history, fetches them in batches of 50 and stores them. Gmail is
    googleapiclient's HttpMockSequence replaying the API's JSON; the time is the CRM's."""
    import base64

    from googleapiclient.http import HttpMockSequence

    from crm_lib.mail.gmail import gmail_service
    from crm_lib.services.email_sync import set_synced_mailboxes, sync_email

    set_synced_mailboxes(ctx, [TEAM[0]])
    ctx.db.execute("UPDATE email_accounts SET history_id = '1000' WHERE email = ?", [TEAM[0]])
    ctx.db.conn.commit()
    raws = [
        raw
        for _, raw in corpus(TEAM, people, count, seed=99, start=datetime(2026, 12, 1, tzinfo=UTC))
    ]
    ids = [f"n{k}" for k in range(len(raws))]
    history = {
        "history": [
            {"id": str(2000 + k), "messagesAdded": [{"message": {"id": i}}]}
            for k, i in enumerate(ids)
        ],
        "historyId": "3000",
    }
    responses = [
        ({"status": "200"}, json.dumps({"messagesTotal": 60_000, "historyId": "3000"})),
        ({"status": "200"}, json.dumps(history)),
    ]
    for start in range(0, len(ids), 50):
        body = ""
        for gmail_id, raw in zip(ids[start : start + 50], raws[start : start + 50], strict=True):
            payload = {
                "id": gmail_id,
                "threadId": gmail_id,
                "labelIds": ["INBOX"],
                "raw": base64.urlsafe_b64encode(raw).decode(),
            }
            body += (
                "--b\r\nContent-Type: application/http\r\n"
                f"Content-ID: <response-x + {gmail_id}>\r\n\r\nHTTP/1.1 200 OK\r\n"
                f"Content-Type: application/json\r\n\r\n{json.dumps(payload)}\r\n"
            )
        body += "--b--\r\n"
        responses.append(({"status": "200", "content-type": "multipart/mixed; boundary=b"}, body))
    http = HttpMockSequence(responses)
    started = time.perf_counter()
    (result,) = sync_email(ctx, factory=lambda address: gmail_service(None, address, http=http))
    return time.perf_counter() - started, result


def _first(mbox: Path, count: int) -> list[bytes]:
    box = mailbox.mbox(mbox)
    out = []
    for key in box.iterkeys():
        if len(out) >= count:
            break
        out.append(box.get_bytes(key))
    box.close()
    return out


if __name__ == "__main__":
    main()
