"""Airtable import benchmark: a 100,000-row, 25-column export, side by side with sqlite-utils.

    python bench/bench_import.py [--rows 100000] [--data-dir D] [--profile DIR]

Generates "Investors-Grid view.csv" as Airtable exports it (UTF-8 with a BOM, CRLF rows; seeded,
so every run reads the same bytes): currency, dates and date-times, single and multi-selects (some
options holding a comma), a collaborator column, people ("Jane Doe <jane@lp.com>, ..."), three
per-fund commitment columns, attachments, long text with line breaks and quotes, and a formula
column with a few #ERROR! / NaN cells. Then, each in a process of its own so that its peak memory
is its own (wall time and max RSS from ``os.wait4`` on the child), it runs:

* a dry run of ``crm_lib.importers.airtable.run`` on a fresh database (funds and team members
  created, nothing imported yet),
* the first import, then a re-import of the same file (which must change nothing),
* the peer: ``sqlite-utils insert --csv`` (type detection on) of the same file into a fresh
  database: one table of text and numbers, none of our conversion, matching, people,
  commitments, history or report.

Prints rows/s and peak memory per phase, the ratio ours / peer for the first import, and
PASS/FAIL per target (issue 6): first import <= 10 s and <= 3x the peer; re-import <= 5 s with 0
changes; peak memory <= 300 MB. Seconds are the whole process (interpreter start included, as a
user of ``crm import-airtable`` waits); "CPU s" is its user + system time (steadier than wall time
on a busy machine); "in run()" is the library's own wall time.

The parent process never imports crm_lib: on Linux a child spawned with vfork starts its max RSS
at the parent's, so a lean parent keeps each phase's figure its own. ``--profile DIR`` runs our
phases under cProfile and writes ``DIR/<phase>.prof`` (times and memory are then inflated).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sqlite3
import string
import subprocess
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FILE_NAME = "Investors-Grid view.csv"
FUNDS = ["Fund I", "Fund II", "Fund III"]
TEAM = [
    ("alice@fund.example", "Alice Partner"),
    ("ben@fund.example", "Ben Principal"),
    ("chloe@fund.example", "Chloé Associate"),
]
HEADERS = [
    "Name",
    "Record ID",
    "Type",
    "Status",
    "Owner",
    "Tags",
    "Location",
    "Website",
    "Last Contact",
    "Next Meeting",
    "Created",
    "Fund I Commitment",
    "Fund II Commitment",
    "Fund III Commitment",
    "Target Allocation",
    "Ownership",
    "AUM",
    "Check Size",
    "Active",
    "Contacts",
    "Deck",
    "Notes",
    "Score",
    "Region",
    "Priority",
]
#: The built-in Type choices, plus one the base has and we do not (the import adds it).
TYPES = ["Family office", "Endowment", "Foundation", "Pension", "Fund of funds", "Corporate"]
TYPES += ["Sovereign wealth", "Bank", "Individual", "Asset manager"]
STATUSES = ["Prospect", "Contacted", "Meeting", "Due diligence", "Committed", "Passed"]
TAGS = ["AI", "Climate", "Fintech", "Health, Bio", "Consumer", "SaaS", "Deep tech", "Web3, Crypto"]
CITIES = ["New York", "London", "Zurich", "Singapore", "San Francisco", "Paris", "Tokyo"]
CITIES += ["São Paulo", "Dubai", "Austin, TX", "Stockholm", "Hong Kong"]
REGIONS = ["North America", "Europe", "APAC", "LatAm", "Middle East & Africa"]
FIRST = ["Jane", "Bob", "Maria", "José", "Wei", "Aisha", "Liam", "Sofia", "Kenji", "Olga"]
FIRST += ["Noah", "Priya", "Lars", "Chloé", "Omar", "Emma", "Tomás", "Mei"]
LAST = ["Doe", "Roe", "García", "Chen", "Khan", "O'Brien", "Rossi", "Tanaka", "Ivanova"]
LAST += ["Smith", "Patel", "Nilsson", "Dubois", "Haddad", "Müller", "Nakamura"]
FIRM = ["Blue", "Granite", "Harbor", "Summit", "Cedar", "Northstar", "Silver", "Oak", "Atlas"]
FIRM += ["Meridian", "Beacon", "Pine", "Red Rock", "Crescent", "Iron", "Juniper", "Lakeside"]
KIND = ["Capital", "Partners", "Family Office", "Ventures", "Holdings", "Endowment", "Foundation"]
KIND += ["Pension Fund", "Trust", "Advisors", "Asset Management"]
NOTES = [
    "Met at the LP summit; wants quarterly reporting and a seat on the advisory committee.",
    'Said the fund is "a strong fit", but the IC meets only in March, June and September.',
    "Prefers co-invest rights, MFN clause; sends side letter comments through counsel.",
    "Intro via Jane (warm). Follow up after Q3 close, re: sizing of the commitment.",
    "Re-upped in Fund II; ticket could grow, depending on DPI, to $5M or more.",
]
CHECKED = "checked"
ALNUM = string.ascii_letters + string.digits


# -- the export -------------------------------------------------------------------------------------
def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def money(amount: float) -> str:
    return f"${amount:,.2f}"


def a_date(rng: random.Random) -> date:
    return date(2022, 1, 1) + timedelta(days=rng.randrange(1460))


def people_cell(rng: random.Random, domain: str) -> str:
    people = []
    for first in rng.sample(FIRST, rng.choice([0, 1, 1, 2, 2, 3])):
        last = rng.choice(LAST)
        people.append(f"{first} {last} <{slug(first)}.{slug(last)}@{domain}>")
    return ", ".join(people)


def tags_cell(rng: random.Random) -> str:
    chosen = rng.sample(TAGS, rng.choice([0, 1, 1, 2, 3]))
    return ",".join(f'"{t}"' if "," in t else t for t in chosen)


def deck_cell(rng: random.Random, name: str) -> str:
    files = [f"{name}-deck.pdf"] + ([f"{name}-memo.docx"] if rng.random() < 0.2 else [])
    links = []
    for file in files:
        token = "".join(rng.choices(ALNUM, k=24))
        links.append(f"{file} (https://dl.airtable.com/.attachments/{token}/{file})")
    return ", ".join(links)


def notes_cell(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return ""
    if roll < 0.8:
        return rng.choice(NOTES)
    paragraphs = rng.sample(NOTES, rng.randint(2, 4))
    return "\n".join(paragraphs) if rng.random() < 0.7 else "\n\n".join(paragraphs)


def score_cell(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.01:
        return "#ERROR!"
    if roll < 0.015:
        return "NaN"
    if roll < 0.1:
        return ""
    return str(rng.randint(10, 99)) if roll < 0.6 else f"{rng.randint(100, 999) / 10}"


def maybe(rng: random.Random, chance: float, text: str) -> str:
    return text if rng.random() < chance else ""


def export_row(rng: random.Random, n: int, record_id: str) -> list[str]:
    firm = f"{rng.choice(FIRM)} {rng.choice(KIND)}"
    name = f"{firm} {n + 1}"
    domain = f"{slug(firm)}{n + 1}.com"
    contact = a_date(rng)
    meeting = a_date(rng)
    created = datetime(2021, 6, 1) + timedelta(minutes=rng.randrange(2_000_000))
    return [
        name,
        record_id,
        rng.choice(TYPES),
        rng.choice(STATUSES),
        maybe(rng, 0.85, rng.choice(TEAM)[0]),
        tags_cell(rng),
        maybe(rng, 0.9, rng.choice(CITIES)),
        maybe(rng, 0.8, f"https://www.{domain}"),
        maybe(rng, 0.8, f"{contact.month}/{contact.day}/{contact.year}"),
        maybe(
            rng,
            0.5,
            f"{meeting.month}/{meeting.day}/{meeting.year} {rng.randint(1, 12)}:"
            f"{rng.choice([0, 15, 30, 45]):02d}{rng.choice(['am', 'pm'])}",
        ),
        f"{created:%Y-%m-%d %H:%M}",
        *(maybe(rng, 0.35, money(rng.randint(5, 400) * 50_000)) for _ in FUNDS),
        maybe(rng, 0.7, money(rng.randint(1, 200) * 100_000)),
        maybe(rng, 0.6, f"{rng.choice([0.5, 1, 2.5, 5, 7.5, 10, 12.5, 15, 20, 25])}%"),
        maybe(rng, 0.8, money(rng.randint(10, 50_000) * 1_000_000)),
        maybe(rng, 0.75, f"{rng.randint(1, 400) * 25_000:,}"),
        CHECKED if rng.random() < 0.6 else "",
        people_cell(rng, domain),
        deck_cell(rng, slug(firm)) if rng.random() < 0.3 else "",
        notes_cell(rng),
        score_cell(rng),
        rng.choice(REGIONS),
        maybe(rng, 0.9, rng.choice(["High", "Medium", "Low"])),
    ]


def generate(path: Path, rows: int, seed: int = 6) -> None:
    """Write the export: same seed and row count, same bytes."""
    rng = random.Random(seed)
    seen: set[str] = set()
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADERS)
        for n in range(rows):
            record_id = "rec" + "".join(rng.choices(ALNUM, k=14))
            while record_id in seen:
                record_id = "rec" + "".join(rng.choices(ALNUM, k=14))
            seen.add(record_id)
            writer.writerow(export_row(rng, n, record_id))


# -- one phase, in its own process ------------------------------------------------------------------
def run_phase(phase: str, data_dir: Path, file: Path, profile_dir: Path | None) -> None:
    """The child: open the CRM and do one thing; print what happened as JSON on the last line."""
    sys.path.insert(0, str(ROOT))
    import crm_lib
    from crm_lib import services
    from crm_lib.config import Settings
    from crm_lib.importers import airtable

    ctx = crm_lib.open_crm(settings=Settings(data_dir=data_dir), actor="system:bench")
    if phase == "setup":
        for name in FUNDS:
            services.create_fund(ctx, {"name": name})
        for email, name in TEAM:
            services.create_user(ctx, email, name=name)
        ctx.close()
        print(json.dumps({}))
        return
    profiler = None
    if profile_dir is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    report = airtable.run(file, ctx, dry_run=phase == "dry-run")
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile_dir / f"{phase}.prof")
    totals = {}
    if phase == "re-import":
        for label, table in (
            ("investors", "fundraising_investors"),
            ("people", "fundraising_contacts"),
            ("commitments", "fundraising_commitments"),
        ):
            sql = f"SELECT count(*) FROM {table} WHERE deleted_at IS NULL"
            totals[label] = ctx.db.execute(sql).fetchone()[0]
    ctx.close()
    result = {
        "seconds": report.seconds,
        "counts": dict(report.counts),
        "changes": report.changes,
        "committed": report.committed,
        "unchanged": report.unchanged,
        "summary": report.summary(),
        "errors": [issue.describe() for issue in report.errors[:5]],
        # What a re-import would change (it should be nothing): the first few rows, to debug.
        "diffs": [[d.line, d.key, d.action, d.changes[:4]] for d in report.diffs[:5]]
        if phase == "re-import"
        else [],
        "totals": totals,
    }
    print(json.dumps(result, default=str))


@dataclass
class Measured:
    """One child process: wall and CPU seconds, peak RSS, and its last line's JSON (if ours)."""

    seconds: float
    cpu: float
    peak_mb: float
    result: dict[str, Any] = field(default_factory=dict)


def measure(command: list[str]) -> Measured:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} exited with {process.returncode}:\n{stderr[-3000:]}{stdout[-2000:]}"
        )
    lines = stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    cpu = usage.ru_utime + usage.ru_stime
    return Measured(seconds, cpu, usage.ru_maxrss / 1024, result)  # ru_maxrss: KiB on Linux


def ours(phase: str, data_dir: Path, file: Path, profile_dir: Path | None) -> Measured:
    command = [sys.executable, __file__, "--phase", phase, "--data-dir", str(data_dir)]
    command += ["--file", str(file)]
    if profile_dir is not None:
        command += ["--profile", str(profile_dir)]
    return measure(command)


def peer(db: Path, file: Path) -> tuple[Measured, str]:
    """``sqlite-utils insert --csv`` with type detection: a flag before 4.0, the default since."""
    tool = str(Path(sys.executable).with_name("sqlite-utils"))
    help_text = subprocess.run(
        [tool, "insert", "--help"], capture_output=True, text=True, check=True
    ).stdout
    flags = ["--csv", "--detect-types"] if "--detect-types" in help_text else ["--csv"]
    version = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.strip()
    measured = measure([tool, "insert", str(db), "investors", str(file), *flags])
    with sqlite3.connect(db) as conn:
        measured.result["rows"] = conn.execute("SELECT count(*) FROM investors").fetchone()[0]
    conn.close()
    return measured, f"{version.rsplit(' ', 1)[-1]}: insert {' '.join(flags)}"


# -- the report -------------------------------------------------------------------------------------
def row(label: str, rows: int, measured: Measured, inside: float | None = None) -> str:
    library = f"{inside:9.2f}" if inside is not None else f"{'':>9}"
    return (
        f"{label:<44} {measured.seconds:8.2f} {measured.cpu:8.2f} {library}"
        f" {rows / measured.seconds:10,.0f} {measured.peak_mb:8.0f}"
    )


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument(
        "--data-dir",
        "--keep",
        type=Path,
        default=None,
        help="write the export and both databases here and keep them (default: a temporary folder)",
    )
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats here")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        run_phase(args.phase, args.data_dir, args.file, args.profile)
        return

    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="crm-bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
    export = folder / FILE_NAME
    started = time.perf_counter()
    generate(export, args.rows)
    generated = time.perf_counter() - started
    print(
        f"generated {export.name}: {args.rows:,} rows x {len(HEADERS)} columns,"
        f" {export.stat().st_size / 2**20:.1f} MB, in {generated:.1f} s"
    )
    crm_dir, peer_db = folder / "crm", folder / "peer.db"
    shutil.rmtree(crm_dir, ignore_errors=True)
    peer_db.unlink(missing_ok=True)
    ours("setup", crm_dir, export, None)
    print(f"fresh database: funds {', '.join(FUNDS)}; {len(TEAM)} team members")

    dry = ours("dry-run", crm_dir, export, args.profile)
    first = ours("import", crm_dir, export, args.profile)
    again = ours("re-import", crm_dir, export, args.profile)
    theirs, peer_label = peer(peer_db, export)

    for label, measured in (("dry run", dry), ("first import", first), ("re-import", again)):
        print(f"\n{label}:")
        for text in measured.result["summary"]:
            print(f"  {text}")
        for text in measured.result["errors"]:
            print(f"  ERROR {text}")
    for line, key, action, changes in again.result["diffs"]:
        print(f"  re-import would {action} line {line} ({key}): {changes}")
    totals = again.result["totals"]
    print(
        f"\ndatabase after the imports: {totals['investors']:,} investors, {totals['people']:,}"
        f" people, {totals['commitments']:,} commitments;"
        f" peer table: {theirs.result['rows']:,} rows"
    )

    rows = args.rows
    print(
        f"\n{'phase':<44} {'seconds':>8} {'CPU s':>8} {'in run()':>9} {'rows/s':>10} {'peak MB':>8}"
    )
    print(row("CRM dry run (fresh database)", rows, dry, dry.result["seconds"]))
    print(row("CRM first import", rows, first, first.result["seconds"]))
    print(row("CRM re-import (same file)", rows, again, again.result["seconds"]))
    print(row(f"peer: sqlite-utils {peer_label}", rows, theirs))
    if args.profile is not None:
        print(f"(profiled: times and memory inflated; stats in {args.profile}/<phase>.prof)")

    ratio = first.seconds / theirs.seconds
    changes = again.result["changes"]
    print(f"\nfirst import / peer: {ratio:.2f}x (target <= 3)")
    print(f"re-import changes: {changes:,} (target 0)")
    peak = max(dry.peak_mb, first.peak_mb, again.peak_mb)
    imported = first.result["committed"] and not first.result["errors"]
    targets = [
        (f"first import committed {rows:,} rows without errors", imported),
        (f"first import <= 10 s ({first.seconds:.1f} s)", first.seconds <= 10),
        (f"first import <= 3x the peer ({ratio:.2f}x)", ratio <= 3),
        (f"re-import <= 5 s ({again.seconds:.1f} s)", again.seconds <= 5),
        (f"re-import makes 0 changes ({changes:,})", changes == 0),
        (f"peak memory <= 300 MB ({peak:.0f} MB)", peak <= 300),
    ]
    for name, ok in targets:
        print(f"{verdict(ok)}  {name}")
    if args.data_dir is None:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {folder}")
    if not (imported and changes == 0):
        sys.exit(1)  # a wrong result, not a slow one


if __name__ == "__main__":
    main()
