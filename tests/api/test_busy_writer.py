"""A long change holding the database's write lock (a formula over every investor, an import, a
restore) never holds the server's event loop: reads are answered at once, a write waiting behind
it waits on a worker thread and, past the busy timeout, is refused with 503 ``busy`` and nothing
written, and housekeeping writes (a token's ``last_used_at``) are skipped rather than waited for.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from crm_lib.storage import writes
from tests.api.conftest import InProcessAPI

#: How long a write may wait for the lock in these tests (the server's default is 5 s).
WAIT_S = 1.5


@contextmanager
def long_change(api: InProcessAPI) -> Iterator[None]:
    """Another thread of the server inside a write transaction until the block ends."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with api.runtime.context("system:test") as ctx, writes.write(ctx):
            holding.set()
            done.wait(60)

    thread = threading.Thread(target=hold, name="long-change")
    thread.start()
    assert holding.wait(10)
    try:
        yield
    finally:
        done.set()
        thread.join(10)


def test_reads_go_on_and_a_write_is_refused_busy_while_a_long_change_holds_the_lock(
    in_process_api: InProcessAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writes, "BUSY_TIMEOUT_MS", int(WAIT_S * 1000))
    api = in_process_api
    headers = {"Authorization": f"Bearer {api.token}"}
    url = f"{api.base}/api/fundraising/investors"
    assert requests.get(url, headers=headers, timeout=10).status_code == 200
    before = requests.get(url, headers=headers, timeout=10).json()["total"]
    with long_change(api):
        answers: list[requests.Response] = []
        writer = threading.Thread(
            target=lambda: answers.append(
                requests.post(url, json={"fields": {"name": "Waiting LP"}}, headers=headers)
            )
        )
        started = time.monotonic()
        writer.start()
        waits = []
        while writer.is_alive() and time.monotonic() - started < 10:
            probe = time.perf_counter()
            assert requests.get(url, headers=headers, timeout=5).status_code == 200
            waits.append(time.perf_counter() - probe)
        writer.join(10)
        [refused] = answers
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"] == "busy" and "nothing was saved" in refused.json()["detail"]
        assert waits and max(waits) < 0.5, f"reads waited {max(waits):.2f} s behind the write"
    assert requests.get(url, headers=headers, timeout=10).json()["total"] == before
    saved = requests.post(url, json={"fields": {"name": "Waiting LP"}}, headers=headers)
    assert saved.status_code == 201
