"""The kernel's table of POSIX advisory locks (``/proc/locks``), read to check that a process
still holds the locks SQLite took on a database file.

In WAL mode every open connection keeps a shared lock on the database file for as long as it
is open. Closing *any* descriptor on that file in the same process silently drops it; another
process then believes it is the last user and checkpoints and deletes the live WAL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Lock:
    pid: int
    mode: str  # READ or WRITE
    start: int
    end: str  # a number, or EOF


def posix_locks(path: Path, pid: int | None = None) -> list[Lock]:
    """The POSIX locks held on ``path``'s inode (by ``pid`` when given)."""
    stat = path.stat()
    device = f"{os.major(stat.st_dev):02x}:{os.minor(stat.st_dev):02x}:{stat.st_ino}"
    found = []
    with open("/proc/locks") as table:
        for line in table:
            fields = line.split()
            if fields[1] == "->" or fields[1] != "POSIX":  # waiting requests, flock() locks
                continue
            _, _, _, mode, owner, where, start, end = fields[:8]
            if where != device or (pid is not None and int(owner) != pid):
                continue
            found.append(Lock(int(owner), mode, int(start), end))
    return found
