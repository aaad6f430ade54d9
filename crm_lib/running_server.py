"""Where the running server can be reached, recorded in the data folder for the ``crm`` commands.

The server knows its own address (``CRM_PUBLIC_URL``, else ``http://<host>:<port>`` from its
``--port``/``--host``), but a ``crm invite`` run in another shell does not: without this record it
would print links to the default port 5006 while the server listens elsewhere. So the server
writes ``<data dir>/server.json`` (its URL and process id) when it starts, and
:func:`link_base_url` prefers, in order: ``CRM_PUBLIC_URL``, the recorded URL of a server whose
process is still alive, then the default local address. A record left by a server that was
killed is ignored because its process id no longer exists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from crm_lib.config import Settings

#: The record's file name inside the data folder.
SERVER_FILE = "server.json"


def record_path(settings: Settings) -> Path:
    """``<data dir>/server.json``."""
    return settings.data_dir / SERVER_FILE


def record(settings: Settings, url: str, *, pid: int | None = None) -> Path:
    """Record that the server with ``pid`` (default: this process) is reachable at ``url``.

    Written to a temporary file and renamed over the old record, so a command reading it at the
    same moment sees the old record or the new one, never half of one.
    """
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"url": url.rstrip("/"), "pid": os.getpid() if pid is None else pid}
    temporary = path.with_name(f".{SERVER_FILE}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(document), encoding="utf-8")
    os.replace(temporary, path)
    return path


def forget(settings: Settings, *, pid: int | None = None) -> None:
    """Remove the record at a clean exit, unless another server (another pid) has replaced it."""
    path = record_path(settings)
    if _read(path).get("pid") == (os.getpid() if pid is None else pid):
        path.unlink(missing_ok=True)


def recorded_url(settings: Settings) -> str | None:
    """The URL of the server recorded in the data folder, if its process is still running."""
    document = _read(record_path(settings))
    url, pid = document.get("url"), document.get("pid")
    if isinstance(url, str) and url and isinstance(pid, int) and process_alive(pid):
        return url
    return None


def link_base_url(settings: Settings) -> str:
    """The address one-time links start with: ``CRM_PUBLIC_URL``, else the running server's,
    else the default local address (``http://127.0.0.1:5006``)."""
    if settings.public_url:
        return settings.public_url
    return recorded_url(settings) or settings.base_url


def _read(path: Path) -> dict[str, object]:
    """The record as a dict; empty when absent or unreadable (a missing record is normal)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def process_alive(pid: int) -> bool:
    """True if a process with this id exists (signal 0 checks without signalling)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, but belongs to another user
        return True
    except OSError:
        return False
    return True
