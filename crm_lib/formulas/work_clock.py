"""The clock of the per-record formula time budget: this thread's CPU time, less garbage collection.

A record must not turn into an error because of something other than its formula's own work. Wall
time counts descheduling and other jobs on the same cores (measured: 20-70 µs evaluations reported
as over 50 ms under load), so the budget reads the thread's CPU time. CPU time still counts a
garbage collection that happens to start during an evaluation: a full collection of a large process
(a test worker, a server holding many sessions) took more than the 50 ms budget and turned a
``ROUND({Amount} * 1.5, 1)`` into "took longer than 50 ms". The collector runs on the thread that
triggered it, so its time is measured by the same clock in ``gc.callbacks`` and subtracted.
"""

from __future__ import annotations

import gc
import threading
import time


class _CollectionTime(threading.local):
    """Per thread: CPU seconds spent in finished collections, and the start of a running one."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.started: float | None = None


_COLLECTIONS = _CollectionTime()


def _on_collection(phase: str, _info: dict[str, int]) -> None:
    if phase == "start":
        _COLLECTIONS.started = time.thread_time()
    elif _COLLECTIONS.started is not None:
        _COLLECTIONS.spent += time.thread_time() - _COLLECTIONS.started
        _COLLECTIONS.started = None


if _on_collection not in gc.callbacks:
    gc.callbacks.append(_on_collection)


def work_seconds() -> float:
    """This thread's CPU seconds outside garbage collection; only differences are meaningful."""
    return time.thread_time() - _COLLECTIONS.spent
