"""Storage benchmark: bulk insert, single-cell writes with audit, and page reads.

    python bench/bench_storage.py [--investors 100000] [--people 3] [--writes 1000] [--reads 200]

Prints rows/s for the bulk path, p50/p95 ms per single-cell write (through the normal service
write path: transaction, version check, audit row, state bump) and per 100-row page read sorted
by name, and peak memory. For scale it also times sqlite-utils' own ``insert_all`` of the same
investor rows (no validation, no people, no audit) as a floor to compare the bulk path against.
Targets (issue 2): bulk >= 50,000 investors/s; write p95 <= 5 ms; page read p95 <= 20 ms.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import crm_lib
from crm_lib import services
from crm_lib.storage.connect import connect

TYPES = ["Family office", "Endowment", "Pension", "Fund of funds", "Corporate", "Individual"]
STATUSES = ["Prospect", "Contacted", "Meeting", "Due diligence", "Committed", "Passed"]
LISTS = ["main", "follow_up", "graveyard", "longshot"]


def make_records(n: int, people: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        records.append(
            {
                "name": f"Investor {rng.randrange(10**9):09d} {i}",
                "type": rng.choice(TYPES),
                "status": rng.choice(STATUSES),
                "list_membership": rng.choice(LISTS),
                "location": rng.choice(["New York", "London", "Zurich", "Singapore"]),
                "website": f"https://investor{i}.example.com",
                "tags": ["warm"] if i % 3 == 0 else [],
                "last_contacted_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "people": [
                    {
                        "full_name": f"Person {i}-{j}",
                        "email": f"p{i}.{j}@investor{i}.example.com",
                        "title": "Partner",
                        "is_primary": j == 0,
                    }
                    for j in range(people)
                ],
            }
        )
    return records


def raw_insert_floor(data_dir: Path, records: list[dict]) -> float:
    """Seconds SQLite alone needs to store investors, people and directory rows (with indexes).

    The ceiling for any bulk path on this machine and schema: the service adds validation,
    audit rows and the rollup on top of exactly these inserts.
    """
    ctx = crm_lib.open_crm(data_dir)
    stamp = (
        1,
        "2026-01-01T00:00:00.000000+00:00",
        "bench",
        "2026-01-01T00:00:00.000000+00:00",
        "bench",
    )
    investors, people, contacts = [], [], []
    person_id = 0
    for investor_id, record in enumerate(records, start=1):
        investors.append(
            (investor_id, record["name"], record["type"], record["list_membership"], *stamp)
        )
        for person in record["people"]:
            person_id += 1
            people.append(
                (person_id, investor_id, person_id, person["full_name"], person["email"], *stamp)
            )
            contacts.append((person_id, person["full_name"], person["email"], person_id, *stamp))
    book = "version, created_at, created_by, updated_at, updated_by"
    conn = ctx.db.conn
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        f"INSERT INTO fundraising_investors (id, name, type, list_membership, {book})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        investors,
    )
    conn.executemany(
        f"INSERT INTO contacts (id, full_name, email, fundraising_contact_id, {book})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        contacts,
    )
    conn.executemany(
        f"INSERT INTO fundraising_contacts (id, investor_id, contact_id, full_name, email, {book})"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        people,
    )
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    ctx.close()
    return elapsed


def percentile(samples: list[float], q: float) -> float:
    return (
        statistics.quantiles(samples, n=100, method="inclusive")[q - 1]
        if len(samples) > 1
        else samples[0]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--investors", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=3)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ctx = crm_lib.open_crm(tmp, actor="bench@example.com")
        records = make_records(args.investors, args.people)

        start = time.perf_counter()
        result = services.bulk_create_investors(ctx, records)
        bulk_s = time.perf_counter() - start
        rows_written = result.investors + 2 * result.people
        print(
            f"SQLite {crm_lib.storage.connect.dbapi.sqlite_version}, {args.investors:,} investors x {args.people} people"
        )
        print(
            f"bulk insert      {result.investors:,} investors + {result.people:,} people "
            f"(+ directory + audit) in {bulk_s:.2f} s = {result.investors / bulk_s:,.0f} investors/s "
            f"({rows_written / bulk_s:,.0f} data rows/s)"
        )

        rng = random.Random(2)
        ids = list(range(result.first_investor_id, result.last_investor_id + 1))
        versions = {i: 1 for i in ids}
        write_ms = []
        for n in range(args.writes):
            investor_id = rng.choice(ids)
            field, value = ("location", f"City {n}") if n % 2 else ("status", rng.choice(STATUSES))
            start = time.perf_counter()
            row = services.update_field(
                ctx, investor_id, field, value, expected_version=versions[investor_id]
            )
            write_ms.append((time.perf_counter() - start) * 1000)
            versions[investor_id] = row["version"]
        print(
            f"single-cell write {args.writes} writes: p50 {percentile(write_ms, 50):.2f} ms, "
            f"p95 {percentile(write_ms, 95):.2f} ms, max {max(write_ms):.2f} ms"
        )

        pages = max(1, args.investors // 100)
        read_ms = []
        for _ in range(args.reads):
            page = rng.randint(1, pages)
            start = time.perf_counter()
            got = services.list_investors(ctx, sort=[("name", "asc")], page=page, page_size=100)
            read_ms.append((time.perf_counter() - start) * 1000)
            assert len(got.rows) == 100 or page == pages
        print(
            f"page read        {args.reads} random 100-row pages sorted by name: p50 "
            f"{percentile(read_ms, 50):.2f} ms, p95 {percentile(read_ms, 95):.2f} ms, "
            f"max {max(read_ms):.2f} ms"
        )
        ctx.close()

        floor_s = raw_insert_floor(Path(tmp) / "floor", records)
        print(
            f"floor: raw executemany of the same {rows_written:,} data rows into the migrated "
            f"schema (no validation, no audit) in {floor_s:.2f} s = "
            f"{len(records) / floor_s:,.0f} investors/s"
        )

        peer_db = connect(Path(tmp) / "peer.db")
        flat = [{k: v for k, v in r.items() if k != "people"} for r in records]
        start = time.perf_counter()
        peer_db["investors"].insert_all(flat, batch_size=5000)
        peer_s = time.perf_counter() - start
        print(
            f"peer: sqlite-utils insert_all of the bare investor rows (no validation, people or "
            f"audit): {len(flat) / peer_s:,.0f} rows/s"
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS) {peak_mib:,.0f} MiB")
    targets = [
        ("bulk >= 50,000 investors/s", result.investors / bulk_s >= 50_000),
        ("write p95 <= 5 ms", percentile(write_ms, 95) <= 5),
        ("page read p95 <= 20 ms", percentile(read_ms, 95) <= 20),
    ]
    print("targets: " + "; ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in targets))


if __name__ == "__main__":
    main()
