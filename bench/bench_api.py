"""REST API benchmark: latency under 8 concurrent clients on loopback, side by side with Datasette.

    python bench/bench_api.py [--investors 100000] [--requests 2000] [--clients 8] [--data-dir D]

Builds a demo fund with N investors (people and commitments included) in a temporary folder,
starts the CRM server (`python -m apps.serve`, rate limits off) and, afterwards, Datasette on the
same database file. Each scenario sends --requests requests from --clients threads, each with its
own keep-alive connection, and prints p50/p95/max ms and requests/s:

* GET one investor (with people, commitments and history),
* GET a 100-row page filtered (total_invested > X, X from the quarter of investors who invested
  most down to the top 1%) and sorted by name,
* PATCH one field (each client edits its own investors, naming the version it read),
* Datasette: the same filtered, sorted 100-row page as JSON (with its row count, as ours).

Targets (issue 4): PATCH p95 <= 25 ms, page p95 <= 50 ms, page p95 ratio ours/Datasette <= 1.0.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from argon2 import profiles

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.demo import load_demo_data

ROOT = Path(__file__).resolve().parents[1]
#: total_invested filters of varied selectivity: these quantiles of the investors who have
#: invested, so pages range from "a quarter of all investors" to "the top 1%".
QUANTILES = [0.0, 0.25, 0.5, 0.75, 0.9, 0.96]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early ({process.returncode})")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def build(data_dir: Path, investors: int) -> tuple[str, list[int], list[float]]:
    """The demo fund (built once per data folder) plus an admin with a fresh API token.

    Returns the token, the live investor ids and total_invested filter thresholds.
    """
    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    ctx = crm_lib.open_crm(settings=settings, actor="system:bench")
    existing = services.count_by_list(ctx)["all"]
    if existing == 0:
        started = time.perf_counter()
        load_demo_data(ctx, investors=investors, seed=3)
        print(f"built {investors:,} investors in {time.perf_counter() - started:.1f} s")
    else:
        print(f"reusing {existing:,} investors in {data_dir}")
    email = f"bench{time.time_ns()}@fund.example"
    link = services.invite_user(ctx, email, "admin")
    admin = services.accept_link(ctx, link.token, name="Bench", password="tangerine orbit mosaic")
    token = services.create_api_token(ctx.as_user(admin), "bench")["token"]
    ids = [
        r[0]
        for r in ctx.db.execute(
            "SELECT id FROM fundraising_investors WHERE deleted_at IS NULL"
        ).fetchall()
    ]
    invested = sorted(
        r[0]
        for r in ctx.db.execute(
            "SELECT total_invested FROM fundraising_investors"
            " WHERE total_invested > 0 AND deleted_at IS NULL"
        ).fetchall()
    )
    ctx.close()
    thresholds = [0.0] + [invested[int(q * (len(invested) - 1))] for q in QUANTILES[1:]]
    return token, ids, thresholds


class Client:
    """One keep-alive HTTP/1.1 connection (http.client: far less client-side CPU than requests,
    which matters when 8 clients and the server share 2 cores)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)
        self.headers = headers

    def call(
        self, method: str, path: str, params: dict[str, Any] | None = None, body: Any = None
    ) -> tuple[float, Any]:
        """(latency ms, decoded JSON); exits on an unexpected status."""
        url = path + ("?" + urlencode(params) if params else "")
        payload = None if body is None else json.dumps(body)
        headers = {**self.headers, **({"Content-Type": "application/json"} if payload else {})}
        started = time.perf_counter()
        self.connection.request(method, url, body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status >= 300:
            raise SystemExit(f"{method} {url} -> {response.status}: {data[:300]!r}")
        return elapsed, json.loads(data)

    def close(self) -> None:
        self.connection.close()


def run(
    name: str,
    total: int,
    clients: int,
    make_call: Callable[[int, Client], float],
    base: str,
    headers: dict[str, str],
) -> list[float]:
    """``make_call(client_number, client)`` sends one request and returns its latency in ms."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    per_client = total // clients

    def worker(client: int) -> None:
        connection = Client(base, headers)
        make_call(client, connection)  # warm the connection, not measured
        for _ in range(per_client):
            latencies[client].append(make_call(client, connection))
        connection.close()

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = sorted(x for lat in latencies for x in lat)
    print(
        f"{name:<46} {statistics.median(flat):8.1f} {p95(flat):8.1f} {flat[-1]:8.1f}"
        f" {len(flat) / elapsed:9.0f}"
    )
    return flat


def p95(values: list[float]) -> float:
    return values[int(len(values) * 0.95) - 1]


def serve(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--investors", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="keep the built database here and reuse it on the next run",
    )
    args = parser.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        token, ids, thresholds = build(data_dir, args.investors)
        auth = {"Authorization": f"Bearer {token}"}
        port = free_port()
        env = {**os.environ, "CRM_DATA_DIR": str(data_dir), "CRM_RATE_LIMITS": "off"}
        server = serve([sys.executable, "-m", "apps.serve", "--port", str(port)], env)
        base = f"http://127.0.0.1:{port}"
        print(
            f"\n{args.requests:,} requests per scenario from {args.clients} clients, "
            f"{args.investors:,} investors\n"
        )
        print(f"{'scenario':<46} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'req/s':>9}")

        def get_one(client: int, http: Client) -> float:
            return http.call("GET", f"/api/fundraising/investors/{rng.choice(ids)}")[0]

        def our_page(client: int, http: Client) -> float:
            params = {
                "total_invested__gt": rng.choice(thresholds),
                "sort": "name",
                "page_size": 100,
            }
            return http.call("GET", "/api/fundraising/investors", params=params)[0]

        own = {c: ids[c :: args.clients][:200] for c in range(args.clients)}
        versions: dict[int, int] = {}

        def patch(client: int, http: Client) -> float:
            investor_id = rng.choice(own[client])
            if investor_id not in versions:
                got = http.call("GET", f"/api/fundraising/investors/{investor_id}")[1]
                versions[investor_id] = got["investor"]["version"]
            elapsed, changed = http.call(
                "PATCH",
                f"/api/fundraising/investors/{investor_id}",
                body={
                    "fields": {"notes": f"bench {rng.random()}"},
                    "expected_version": versions[investor_id],
                },
            )
            versions[investor_id] = changed["version"]
            return elapsed

        try:
            wait_for(f"{base}/healthz", server)
            run("CRM       GET one investor", args.requests, args.clients, get_one, base, auth)
            ours = run(
                "CRM       GET 100-row page, filtered + sorted",
                args.requests,
                args.clients,
                our_page,
                base,
                auth,
            )
            patches = run(
                "CRM       PATCH one field", args.requests, args.clients, patch, base, auth
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

        def their_page(client: int, http: Client) -> float:
            params = {
                "total_invested__gt": rng.choice(thresholds),
                "deleted_at__isnull": 1,
                "_sort": "name",
                "_size": 100,
                "_shape": "objects",
            }
            return http.call("GET", "/crm/fundraising_investors.json", params=params)[0]

        port = free_port()
        datasette = serve(
            [
                sys.executable,
                "-m",
                "datasette",
                "serve",
                str(data_dir / "crm.db"),
                "--port",
                str(port),
                "--setting",
                "sql_time_limit_ms",
                "20000",
                "--setting",
                "suggest_facets",
                "off",
            ]
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/-/versions.json", datasette)
            theirs = run(
                "Datasette GET 100-row page, filtered + sorted",
                args.requests,
                args.clients,
                their_page,
                base,
                {},
            )
        finally:
            datasette.terminate()
            datasette.wait(timeout=30)

    ratio = p95(ours) / p95(theirs)
    print(
        f"\npage p95 ours / Datasette: {ratio:.2f} (target <= 1.0)"
        f"   p50 ratio: {statistics.median(ours) / statistics.median(theirs):.2f}"
    )
    print(
        f"PATCH p95 {p95(patches):.1f} ms (target <= 25)   page p95 {p95(ours):.1f} ms"
        " (target <= 50)"
    )
    print(
        f"peak memory of this client process: "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
