"""Backup benchmark: back up and verify a 200 MB database while a writer keeps writing.

    python bench/bench_backup.py [--mb 200] [--data-dir D] [--before 2] [--after 1] [--pause-ms 0]

Generates a database of about ``--mb`` MB (investors with long notes and three people each,
bulk-created until ``crm.db`` plus its ``-wal`` reaches the size after a TRUNCATE checkpoint; a
``--data-dir`` that already holds one big enough is reused, so reruns start at once). Then, each
in a process of its own:

* a writer makes single-row writes through the library, back to back (or ``--pause-ms``
  apart): ``services.update_investor`` on a random investor at its current version. It records
  each write's start and end on the system-wide monotonic clock (see :func:`now`). It
  writes alone for ``--before`` seconds, through the whole backup and verify, and ``--after``
  seconds more;
* the backup: ``services.create_backup(ctx, "manual")``, then ``services.verify_backup``. Its
  wall time, max RSS (``os.wait4``) and where the time goes (the copy, SHA-256, integrity_check,
  each timed by wrapping ``crm_lib.backups.files``) are reported; the copy is deleted afterwards.

The write stall is the longest a writer waited while the backup ran: the longest single write
that overlapped ``create_backup()``, or the longest gap between two consecutive completed writes
that overlapped it, whichever is longer. The table of write latencies per window (writer alone,
during the backup, during verify, after) shows how much the backup slows writes.
Targets (the backups issue): backup <= 5 s, verify <= 5 s, longest write stall <= 250 ms.

The parent process never imports crm_lib (a lean parent keeps each child's max RSS its own).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MB = 2**20


def now() -> float:
    """Seconds on the system-wide monotonic clock: POSIX CLOCK_MONOTONIC has one origin for every
    process and never steps, so the writer's and the backup's times compare (``time.monotonic``
    promises neither; ``time.time`` can step)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


WORDS = (  # split by notes_pool
    "fund allocation commitment partner diligence quarterly reporting advisory committee "
    "co-invest side letter counsel ticket sizing close follow up intro warm meeting summit "
    "portfolio strategy vintage returns distribution capital call secondary mandate pacing "
    "endowment pension family office governance ESG climate fintech healthcare software "
    "growth seed series venture buyout credit infrastructure real assets emerging manager "
    "track record benchmark DPI TVPI IRR fees carry hurdle clawback waterfall GP LP"
)


# -- the children -----------------------------------------------------------------------------------
def notes_pool(rng: random.Random, count: int = 400) -> list[str]:
    """Paragraphs of plausible notes (about 1.5 KB each); records pick from them."""
    words = WORDS.split()
    return [" ".join(rng.choices(words, k=rng.randint(180, 260))) + "." for _ in range(count)]


def make_records(first: int, count: int, pool: list[str], rng: random.Random) -> list[dict]:
    return [
        {
            "name": f"Investor {n:07d}",
            "notes": f"#{n}: {rng.choice(pool)}",
            "location": rng.choice(["New York", "London", "Zurich", "Singapore"]),
            "people": [
                {"full_name": f"Person {n}-{j}", "email": f"p{n}.{j}@investor{n}.example.com"}
                for j in range(3)
            ],
        }
        for n in range(first, first + count)
    ]


def database_bytes(ctx: Any) -> int:
    """``crm.db`` plus its ``-wal`` after a TRUNCATE checkpoint (the size a backup copies)."""
    ctx.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = ctx.settings.database_path
    wal = path.with_name(path.name + "-wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def investor_count(ctx: Any) -> int:
    sql = "SELECT count(*) FROM fundraising_investors WHERE deleted_at IS NULL"
    return int(ctx.db.execute(sql).fetchone()[0])


def run_generate(data_dir: Path, target_mb: float) -> None:
    """Grow the database to ``target_mb`` (or reuse it when it is that big already)."""
    import crm_lib
    from crm_lib import services

    started = time.perf_counter()
    ctx = crm_lib.open_crm(data_dir, actor="system:bench")
    target = int(target_mb * MB)
    size = database_bytes(ctx)
    reused = size >= target
    rng = random.Random(14)
    pool = notes_pool(rng)
    per_investor = 8000  # bytes, a first guess; measured after the first batch
    while size < target:
        first = investor_count(ctx) + 1
        batch = max(200, min(20_000, int((target - size) / per_investor) + 1))
        before = size
        services.bulk_create_investors(ctx, make_records(first, batch, pool, rng))
        size = database_bytes(ctx)
        per_investor = max(1, (size - before) // batch)
    result = {
        "reused": reused,
        "seconds": time.perf_counter() - started,
        "investors": investor_count(ctx),
        "bytes": size,
    }
    ctx.close()
    print(json.dumps(result))


def run_writer(data_dir: Path, stop: Path, pause_ms: float) -> None:
    """Single-row writes until ``stop`` exists; prints "ready" after a warm-up, then JSON."""
    import crm_lib
    from crm_lib import services
    from crm_lib.errors import CRMError
    from crm_lib.storage.connect import dbapi

    ctx = crm_lib.open_crm(data_dir, actor="system:bench-writer")
    sql = "SELECT id, version FROM fundraising_investors WHERE deleted_at IS NULL"
    versions = dict(ctx.db.execute(sql).fetchall())
    ids = list(versions)
    rng = random.Random(7)
    writes: list[tuple[float, float]] = []
    errors: list[tuple[float, float, str]] = []
    n = 0
    while not stop.exists():
        n += 1
        investor_id = rng.choice(ids)
        start = now()
        try:
            row = services.update_investor(
                ctx, investor_id, {"location": f"City {n}"}, expected_version=versions[investor_id]
            )
        except (CRMError, dbapi.OperationalError) as exc:
            errors.append((start, now(), str(exc)))
            continue
        end = now()
        versions[investor_id] = row["version"]
        if n > 20:  # warm-up (caches, prepared statements) is not measured
            writes.append((start, end))
        if n == 20:
            print("ready", flush=True)
        if pause_ms:
            time.sleep(pause_ms / 1000)
    ctx.close()
    print(json.dumps({"writes": writes, "errors": errors}))


def run_backup(data_dir: Path) -> None:
    """``create_backup`` then ``verify_backup``, with when each of ``crm_lib.backups.files``'
    steps ran (the copy, its fsync, SHA-256, integrity_check); the copy is deleted at the end."""
    import crm_lib
    from crm_lib import services
    from crm_lib.backups import files

    steps: list[tuple[str, float, float]] = []

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = now()
            try:
                return fn(*args, **kwargs)
            finally:
                steps.append((name, started, now()))

        return wrapper

    # take() and verify_backup() look these up in the module at call time
    for name in ("online_copy", "fsync", "file_sha256", "integrity", "schema_version"):
        setattr(files, name, timed(name, getattr(files, name)))

    ctx = crm_lib.open_crm(data_dir, actor="system:bench")
    result: dict[str, Any] = {}
    for step, call in (
        ("backup", lambda: services.create_backup(ctx, "manual")),
        ("verify", lambda: services.verify_backup(ctx, result["backup"]["row"]["id"])),
    ):
        steps.clear()
        start = now()
        row = call()
        result[step] = {"start": start, "end": now(), "steps": list(steps), "row": row}
    (ctx.settings.backup_dir / result["backup"]["row"]["file_name"]).unlink()
    ctx.close()
    print(json.dumps(result, default=str))


# -- the parent -------------------------------------------------------------------------------------
@dataclass
class Measured:
    """One child process: wall seconds, peak RSS, and its last line's JSON."""

    seconds: float
    peak_mb: float
    result: dict[str, Any] = field(default_factory=dict)


def child(phase: str, data_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, __file__, "--phase", phase, "--data-dir", str(data_dir), *extra]


def measure(command: list[str]) -> Measured:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(command)} exited with {code}:\n{stderr[-3000:]}")
    return Measured(seconds, usage.ru_maxrss / 1024, json.loads(stdout.strip().splitlines()[-1]))


def percentile(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


@dataclass
class Window:
    """What the writer saw between ``start`` and ``end`` (seconds on :func:`now`'s clock)."""

    label: str
    start: float
    end: float
    latencies: list[float]  # ms, writes that overlapped the window
    completed: int  # writes that ended inside it
    longest_gap: float  # ms, between consecutive completions, overlapping the window

    @classmethod
    def of(cls, label: str, start: float, end: float, writes: list[list[float]]) -> Window:
        latencies = [(e - s) * 1000 for s, e in writes if s < end and e > start]
        completed = sum(1 for _, e in writes if start <= e <= end)
        ends = [e for _, e in writes]
        gaps = [(b - a) * 1000 for a, b in itertools.pairwise(ends) if a < end and b > start]
        return cls(label, start, end, latencies, completed, max(gaps, default=float("nan")))

    @property
    def stall(self) -> float:
        return max(max(self.latencies, default=0.0), self.longest_gap)

    def line(self) -> str:
        lat = self.latencies
        return (
            f"{self.label:<26} {self.end - self.start:7.2f} {self.completed:7,}"
            f" {percentile(lat, 50):8.2f} {percentile(lat, 95):8.2f}"
            f" {max(lat, default=float('nan')):8.2f} {self.longest_gap:10.2f}"
        )


#: What each timed function of ``crm_lib.backups.files`` is called in the report.
STEP_NAMES = {
    "online_copy": "copy (backup API, SQLite's own sync)",
    "fsync": "fsync of the copy",
    "file_sha256": "SHA-256",
    "integrity": "integrity_check",
    "schema_version": "schema version",
}
WHOLE_FILE = {STEP_NAMES[name] for name in ("online_copy", "file_sha256", "integrity")}


def phases(done: dict[str, Any]) -> list[tuple[str, float, float]]:
    """One step's run split into consecutive phases: (name, start, end), covering it all.

    ``online_copy`` contains the fsyncs; it is split into the backup API part and the fsyncs.
    The time before the first phase and between phases is "other" (the backup's folder and
    name), and so is the time after the last one (the catalog row).
    """
    steps = sorted(done["steps"], key=lambda s: s[1])
    copy = [s for s in steps if s[0] == "online_copy"]
    flat = [s for s in steps if s[0] != "online_copy"]
    if copy:
        fsyncs = [s for s in flat if s[0] == "fsync" and copy[0][1] <= s[1] <= copy[0][2]]
        api_end = fsyncs[0][1] if fsyncs else copy[0][2]
        flat.append(("online_copy", copy[0][1], api_end))
        if fsyncs:  # the rename between the two fsyncs counts with them
            flat.append(("fsync", fsyncs[0][1], copy[0][2]))
            flat = [s for s in flat if s not in fsyncs]
    named = [
        (STEP_NAMES[name], start, end) for name, start, end in sorted(flat, key=lambda s: s[1])
    ]
    result, cursor = [], done["start"]
    for name, start, end in named:
        if start > cursor:
            result.append(("other", cursor, start))
        result.append((name, start, end))
        cursor = end
    result.append(("other", cursor, done["end"]))
    return result


def step_table(label: str, done: dict[str, Any], size: int) -> list[str]:
    """Seconds (and MB/s, for the steps that read or write the whole file) per phase of a step;
    phases of the same name are added up, and the short ones go into "other"."""
    seconds: dict[str, float] = {}
    for name, start, end in phases(done):
        key = name if name in STEP_NAMES.values() and end - start >= 0.005 else "other"
        seconds[key] = seconds.get(key, 0.0) + end - start
    seconds["other"] = seconds.pop("other", 0.0)  # last
    lines = []
    for name, spent in seconds.items():
        rate = f"{size / MB / spent:9.0f}" if name in WHOLE_FILE and spent else ""
        lines.append(f"{label + ': ' + name:<44} {spent:8.2f} {rate:>9}")
    total = done["end"] - done["start"]
    lines.append(f"{label + ': total':<44} {total:8.2f} {size / MB / total:9.0f}")
    return lines


def during(start: float, end: float, done: dict[str, Any]) -> str:
    """Which phases of a step the interval overlapped, and when it started within the step."""
    names = [n for n, s, e in phases(done) if s < end and e > start]
    return f"+{start - done['start']:.2f} s, {' + '.join(dict.fromkeys(names)) or 'outside'}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200, help="database size to generate (MB)")
    parser.add_argument(
        "--data-dir",
        "--keep",
        type=Path,
        default=None,
        help="keep the generated database here and reuse it next time (default: a temporary folder)",
    )
    parser.add_argument("--before", type=float, default=2.0, help="seconds the writer runs alone")
    parser.add_argument("--after", type=float, default=1.0, help="seconds it runs after verify")
    parser.add_argument("--pause-ms", type=float, default=0.0, help="pause between writes")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--stop", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        sys.path.insert(0, str(ROOT))
        if args.phase == "generate":
            run_generate(args.data_dir, args.mb)
        elif args.phase == "writer":
            run_writer(args.data_dir, args.stop, args.pause_ms)
        else:
            run_backup(args.data_dir)
        return

    folder = args.data_dir or Path(tempfile.mkdtemp(prefix="crm-bench-backup-"))
    crm_dir = folder / "crm"
    generated = measure(child("generate", crm_dir, "--mb", str(args.mb)))
    made = generated.result
    print(
        f"{'reused' if made['reused'] else 'generated'} database: {made['investors']:,} investors"
        f" x 3 people, {made['bytes'] / MB:.1f} MB (crm.db + -wal after a TRUNCATE checkpoint),"
        f" in {made['seconds']:.1f} s (process {generated.seconds:.1f} s)"
    )

    stop = folder / "stop-writer"
    stop.unlink(missing_ok=True)
    writer = subprocess.Popen(
        child("writer", crm_dir, "--stop", str(stop), "--pause-ms", str(args.pause_ms)),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    if writer.stdout.readline().strip() != "ready":
        raise SystemExit(f"the writer did not start (exit {writer.wait()})")
    try:
        alone_from = now()
        time.sleep(args.before)
        alone_to = now()
        backup = measure(child("backup", crm_dir))
        time.sleep(args.after)
    finally:  # the writer stops even when the backup failed
        stop.touch()
        out, _ = writer.communicate(timeout=60)
        stop.unlink(missing_ok=True)
    if writer.returncode != 0:
        raise SystemExit(f"the writer exited with {writer.returncode}")
    writes = json.loads(out.strip().splitlines()[-1])
    samples, errors = writes["writes"], writes["errors"]

    took, checked = backup.result["backup"], backup.result["verify"]
    row, verified = took["row"], checked["row"]
    size = row["size_bytes"]
    backup_s, verify_s = took["end"] - took["start"], checked["end"] - checked["start"]
    print(
        f"backup {row['file_name']}: {size / MB:.1f} MB, integrity {row['integrity']!r},"
        f" verify_status {verified['verify_status']!r} ({verified['verify_detail']});"
        f" duration_ms recorded (the copy alone): {row['duration_ms']:,}"
    )
    print(f"\n{'step':<44} {'seconds':>8} {'MB/s':>9}")
    for line in step_table("backup", took, size) + step_table("verify", checked, size):
        print(line)
    print(f"backup process (start-up, open, backup, verify): {backup.seconds:.2f} s")

    windows = [
        Window.of("writer alone (before)", alone_from, alone_to, samples),
        Window.of("during create_backup()", took["start"], took["end"], samples),
        Window.of("during verify_backup()", checked["start"], checked["end"], samples),
        Window.of("after", checked["end"], checked["end"] + args.after, samples),
    ]
    pause = f", {args.pause_ms:g} ms apart" if args.pause_ms else ", back to back"
    print(f"\nconcurrent writer: update_investor on a random investor{pause}")
    print(
        f"{'window':<26} {'seconds':>7} {'writes':>7} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'max ms':>8} {'max gap ms':>10}"
    )
    for window in windows:
        print(window.line())
    backing = windows[1]
    print(
        f"writes completed during the backup: {backing.completed:,};"
        f" longest write during it {max(backing.latencies, default=float('nan')):.1f} ms,"
        f" longest gap between writes {backing.longest_gap:.1f} ms"
    )
    slowest = sorted(
        (w for w in samples if w[0] < took["end"] and w[1] > took["start"]),
        key=lambda w: w[0] - w[1],
    )[:3]
    print(
        "slowest writes during the backup (ms, when, during what): "
        + "; ".join(f"{(e - s) * 1000:.0f} ({during(s, e, took)})" for s, e in slowest)
    )
    for start, end, message in errors[:5]:
        print(f"  write FAILED after {(end - start) * 1000:.0f} ms: {message}")
    if errors:
        print(f"failed writes: {len(errors)}")
    continuous = bool(samples) and samples[0][1] < took["start"] and samples[-1][1] > checked["end"]

    stall = backing.stall
    print(f"\npeak memory (max RSS) of the backup process: {backup.peak_mb:.0f} MB")
    good = row["integrity"] == "ok" and verified["verify_status"] == "ok"
    targets = [
        ("backup verified ok", good),
        (f"writes completed during the backup ({backing.completed:,})", backing.completed > 0),
        ("writer wrote from before the backup until after verify", continuous),
        (f"no failed writes ({len(errors)})", not errors),
        (f"backup <= 5 s ({backup_s:.2f} s)", backup_s <= 5),
        (f"verify <= 5 s ({verify_s:.2f} s)", verify_s <= 5),
        (f"longest write stall <= 250 ms ({stall:.1f} ms)", stall <= 250),
    ]
    for name, ok in targets:
        print(f"{verdict(ok)}  {name}")
    if args.data_dir is None:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        print(f"kept {crm_dir}")
    if not all(ok for _, ok in targets[:4]):
        sys.exit(1)  # a wrong result, not a slow one


if __name__ == "__main__":
    main()
