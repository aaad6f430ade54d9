"""Health checks for ``crm doctor``: the install, the database, and the live setup around them.

Checks are registered in order with :func:`check`. Each takes the :class:`Setup` under
examination and yields :class:`Finding` values (``ok``, ``warn`` or ``fail``) whose message names
the problem and whose ``fix`` says what to do about it. A check that crashes is reported as a
failure of that check, never as a traceback; what it found before the crash is kept.

Levels: ``fail`` when something does not work or the fund's data is exposed (a weak production
key, files other local users can read in production, no backup for three days, mail that cannot
be handed to the SMTP server, a plain-HTTP public address); ``warn`` when it works for now but
will not for long, or degrades quietly (a backup older than a day, a local model that is down:
the digest then writes its narratives from the data).

The doctor only looks. It creates nothing in a data folder ``crm init`` has not set up, never
writes to the database, never sends mail (SMTP: EHLO, STARTTLS and login, then QUIT), never
calls Claude (the key's presence and form only) and never prints a secret. Every network check
gives up after :attr:`Setup.timeout_s` and reports "unreachable: <reason>" with the fix.

The modules: ``core`` (Finding, Setup, the registry, the read-only way into the CRM) and
``report`` (running the checks, the Report); one module per group of checks, in the report's
order: ``install`` (python, packages, sqlite, duckdb), ``storage`` (data folder, permissions,
disk), ``database``, ``backups``, ``secret_key``, ``time_zone``, ``proxy`` (with ``live_url``
for ``--url``), ``mail`` and ``models``; ``network`` and ``wording`` hold what several share.
"""

from crm_lib.doctor.core import CHECKS, Check, Finding, Setup, check
from crm_lib.doctor.live_url import url_problem
from crm_lib.doctor.report import Report, run_check, run_checks

# Importing a module registers its checks, so this order is the report's order.
# isort: off
from crm_lib.doctor import install  # noqa: F401 (python, packages, sqlite, duckdb)
from crm_lib.doctor import storage  # noqa: F401 (data folder, permissions, disk)
from crm_lib.doctor import database  # noqa: F401
from crm_lib.doctor import backups  # noqa: F401
from crm_lib.doctor import secret_key  # noqa: F401
from crm_lib.doctor import time_zone  # noqa: F401
from crm_lib.doctor import proxy  # noqa: F401
from crm_lib.doctor import mail  # noqa: F401
from crm_lib.doctor import models  # noqa: F401
# isort: on

__all__ = [
    "CHECKS",
    "Check",
    "Finding",
    "Report",
    "Setup",
    "check",
    "run_check",
    "run_checks",
    "url_problem",
]
