"""The record of imports and the saved mapping profiles they reuse.

:mod:`crm_lib.importers.airtable` does the importing; this module owns the two tables it writes
besides the grid (``imports``, ``import_profiles``) and the reads the front ends show.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import NotFound
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import write

IMPORTS = "imports"
PROFILES = "import_profiles"


def _decode_profile(row: dict[str, Any]) -> dict[str, Any]:
    row["columns"] = json.loads(row["columns"])
    row["options"] = json.loads(row["options"])
    return row


def find_profile(
    ctx: Context, *, name: str | None = None, header_signature: str | None = None
) -> dict[str, Any] | None:
    """The live profile with this name (any case), or the newest whose file had these headers."""
    if name is not None:
        rows = query_dicts(
            ctx.db, f"SELECT * FROM {PROFILES} WHERE lower(name) = lower(?) AND {LIVE}", [name]
        )
    elif header_signature is not None:
        rows = query_dicts(
            ctx.db,
            f"SELECT * FROM {PROFILES} WHERE header_signature = ? AND {LIVE}"
            " ORDER BY updated_at DESC, id DESC LIMIT 1",
            [header_signature],
        )
    else:
        return None
    return _decode_profile(rows[0]) if rows else None


def list_import_profiles(ctx: Context) -> list[dict[str, Any]]:
    """Saved mappings, most recently used first."""
    rows = query_dicts(ctx.db, f"SELECT * FROM {PROFILES} WHERE {LIVE} ORDER BY updated_at DESC")
    return [_decode_profile(r) for r in rows]


def save_profile(
    ctx: Context,
    name: str,
    *,
    columns: Mapping[str, str],
    key_column: str,
    options: Mapping[str, Any],
    header_signature: str,
) -> int:
    """Create or update the named profile (inside the import's transaction)."""
    values = {
        "name": name,
        "columns": json.dumps(dict(columns)),
        "key_column": key_column,
        "options": json.dumps(dict(options)),
        "header_signature": header_signature,
    }
    with write(ctx) as tx:
        existing = find_profile(ctx, name=name)
        if existing is None:
            return tx.insert(PROFILES, values)
        tx.update(PROFILES, existing["id"], values, expected_version=existing["version"])
        return int(existing["id"])


def record_import(
    ctx: Context,
    *,
    file: Any,
    profile: str,
    key_column: str,
    options: Mapping[str, Any],
    counts: Mapping[str, int],
    started_at: datetime,
) -> int:
    """Write the ``imports`` row of the import whose transaction is open; returns its id."""
    with write(ctx) as tx:
        return tx.insert(
            IMPORTS,
            {
                "source": "airtable",
                "file_name": file.name,
                "sha256": file.sha256,
                "size_bytes": file.size,
                "encoding": file.encoding,
                "profile": profile,
                "key_column": key_column,
                "options": json.dumps(dict(options)),
                "counts": json.dumps(dict(counts)),
                "txn": tx.txn,
                "started_at": timestamp(started_at),
                "finished_at": timestamp(ctx.clock.now()),
            },
        )


_IMPORT_COLUMNS = (
    "id, source, file_name, sha256, size_bytes, encoding, profile, key_column, options, counts,"
    " txn, started_at, finished_at, created_by"
)


def _decode_import(row: dict[str, Any]) -> dict[str, Any]:
    row["options"] = json.loads(row["options"])
    row["counts"] = json.loads(row["counts"])
    return row


def list_imports(ctx: Context, *, limit: int = 50) -> list[dict[str, Any]]:
    """Committed imports, newest first: who, when, file, hash and counts."""
    rows = query_dicts(
        ctx.db,
        f"SELECT {_IMPORT_COLUMNS} FROM {IMPORTS} WHERE {LIVE} ORDER BY id DESC LIMIT ?",
        [limit],
    )
    return [_decode_import(r) for r in rows]


def get_import(ctx: Context, import_id: int) -> dict[str, Any]:
    """One committed import."""
    rows = query_dicts(
        ctx.db, f"SELECT {_IMPORT_COLUMNS} FROM {IMPORTS} WHERE id = ? AND {LIVE}", [import_id]
    )
    if not rows:
        raise NotFound("import", import_id)
    return _decode_import(rows[0])
