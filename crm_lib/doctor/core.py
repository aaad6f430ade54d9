"""What a doctor check is written against: the :class:`Setup` it examines, the :class:`Finding`
values it yields, the registry it joins with :func:`check`, and :func:`open_crm`, the read-only
way into the CRM for checks that read it.

The registry is a plain list: checks run, and are reported, in the order their modules register
them (``crm_lib/doctor/__init__.py`` imports those modules in the report's order).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from crm_lib.clock import Clock, SystemClock
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.errors import CRMError
from crm_lib.storage.connect import check_database_file, connect
from crm_lib.storage.migrations import current_version, latest_version

#: Every network check gives up after this long (connect, and each read).
NETWORK_TIMEOUT_S = 3.0
#: Where deploy/venture-crm.service reads the settings (and so the secrets) from.
SERVICE_ENV_FILE = Path("/etc/venture-crm/venture-crm.env")
LEVELS = ("ok", "warn", "fail")


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report: what was found and, unless ``ok``, what to do."""

    level: str  # "ok" | "warn" | "fail"
    message: str
    fix: str = ""


@dataclass(frozen=True)
class Setup:
    """What the checks examine, and the outside world they may touch (injected for tests)."""

    settings: Settings
    #: ``--url``: the public address users type; its ``/healthz`` is requested through the proxy
    url: str | None = None
    clock: Clock = field(default_factory=SystemClock)
    timeout_s: float = NETWORK_TIMEOUT_S
    #: the CAs to trust for HTTPS and SMTP TLS (default: the system's); tests pass their own
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False)
    #: replaces httpx's network transport (tests); None: the real network
    transport: httpx.BaseTransport | None = field(default=None, repr=False)
    localtime: Path = Path("/etc/localtime")
    env_files: tuple[Path, ...] = (SERVICE_ENV_FILE,)
    #: where the running server's command line is read (its ``--host``)
    proc: Path = Path("/proc")


Check = Callable[[Setup], Iterable[Finding]]
CHECKS: list[tuple[str, Check]] = []


def check(name: str) -> Callable[[Check], Check]:
    """Register a check under ``name`` (run in registration order)."""

    def decorator(fn: Check) -> Check:
        CHECKS.append((name, fn))
        return fn

    return decorator


@contextmanager
def open_crm(setup: Setup) -> Iterator[Context | Finding]:
    """A read-only caller's Context on the database, or the finding that says why a check that
    needs one is skipped (no database yet, unreadable, not migrated: the database check says more).
    Nothing is migrated or created here."""
    path = setup.settings.database_path
    if not path.is_file():
        yield Finding("ok", f"not checked: no database at {path} yet")
        return
    try:
        check_database_file(path)
    except CRMError:
        yield Finding(
            "warn",
            "not checked: the database cannot be read",
            "mend the database first (see database above)",
        )
        return
    db = connect(path, check_file=False)
    try:
        current, latest = current_version(db), latest_version()
        if current != latest:
            yield Finding(
                "warn",
                f"not checked: the database is at schema {current} of {latest}",
                "run `crm init`",
            )
        else:
            yield Context(db=db, actor="system:doctor", settings=setup.settings, clock=setup.clock)
    finally:
        db.conn.close()
