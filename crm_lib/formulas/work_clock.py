"""The clock of the per-record formula time budget: this thread's CPU time, less garbage collection.

A record must not turn into an error because of something other than its formula's own work. Wall
time counts descheduling and other jobs on the same cores (measured: 20-70 µs evaluations reported
as over 50 ms under load), so the budget reads the thread's CPU time. CPU time still counts a
garbage collection that happens to start during an evaluation: a full collection of a large process
(a test worker, a server holding many sessions) took more than the 50 ms budget and turned a
``ROUND({Amount} * 1.5, 1)`` into "took longer than 50 ms". The collector runs on the thread that
triggered it, so its time is measured by the same clock in ``gc.callbacks`` and subtracted.

Only while a formula is evaluated (:func:`measuring`): a busy process collects its youngest
generation thousands of times a second, and reading the thread's CPU clock at each one cost an
allocation-heavy loop 7 % (measured); outside an evaluation the callback returns at once.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class _CollectionTime(threading.local):
    """Per thread: whether an evaluation is measuring (how deep), CPU seconds spent in finished
    collections meanwhile, and the start of a running one."""

    def __init__(self) -> None:
        self.measuring = 0
        self.spent = 0.0
        self.started: float | None = None


_COLLECTIONS = _CollectionTime()


def _on_collection(phase: str, _info: dict[str, int]) -> None:
    collections = _COLLECTIONS
    if phase == "start":
        if collections.measuring:
            collections.started = time.thread_time()
    elif collections.started is not None:
        collections.spent += time.thread_time() - collections.started
        collections.started = None


@contextmanager
def measuring() -> Iterator[None]:
    """Within the block, this thread's collections are timed (and left out of
    :func:`work_seconds`)."""
    _COLLECTIONS.measuring += 1
    try:
        yield
    finally:
        _COLLECTIONS.measuring -= 1


if _on_collection not in gc.callbacks:
    gc.callbacks.append(_on_collection)


def work_seconds() -> float:
    """This thread's CPU seconds outside garbage collection (collections during
    :func:`measuring` blocks); only differences are meaningful."""
    return time.thread_time() - _COLLECTIONS.spent
