"""The activity feed: one stream of what happened, newest first, for everyone on the team.

It reads the records each part already keeps — audit rows (edits, creates, archives, restores of
records), imports, backups, backup restores and job runs — so the feed can never disagree with
them. Filters: who, which investor (its people and commitments included), what kind, and when.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.storage.reads import query_dicts

KINDS = ("change", "import", "backup", "restore", "job")
MAX_LIMIT = 500
#: Each kind as one SELECT with the feed's columns: at, kind, actor, entity, entity_id, action,
#: field, detail (JSON), txn.
_SOURCES = {
    "change": (
        "SELECT at, 'change' AS kind, actor, entity, entity_id, action, field,"
        " json_array(old_value, new_value) AS detail, txn FROM audit_log"
        " WHERE entity IN ('fundraising_investors', 'fundraising_contacts',"
        " 'fundraising_commitments', 'fundraising_funds', 'grid_fields', 'fundraising_views')"
    ),
    "import": (
        "SELECT finished_at AS at, 'import' AS kind, created_by AS actor, 'imports' AS entity,"
        " id AS entity_id, 'import' AS action, NULL AS field,"
        " json_object('file', file_name, 'counts', json(counts)) AS detail, txn FROM imports"
        " WHERE deleted_at IS NULL"
    ),
    "backup": (
        "SELECT created_at AS at, 'backup' AS kind, created_by AS actor, 'backups' AS entity,"
        " id AS entity_id, kind AS action, NULL AS field,"
        " json_object('file', file_name, 'size', size_bytes, 'verify', verify_status) AS detail,"
        " NULL AS txn FROM backups WHERE 1"
    ),
    "restore": (
        "SELECT at, 'restore' AS kind, actor, entity, entity_id, action, field,"
        " new_value AS detail, txn FROM audit_log WHERE entity = 'backups' AND action = 'restore'"
    ),
    "job": (
        "SELECT started_at AS at, 'job' AS kind, created_by AS actor, 'job_runs' AS entity,"
        " id AS entity_id, status AS action, job AS field,"
        " json_object('attempt', attempt, 'error', error) AS detail, NULL AS txn FROM job_runs"
        " WHERE deleted_at IS NULL"
    ),
}
#: The source column each feed filter reads, per kind (the sources name them differently).
_AT = {
    "change": "at",
    "import": "finished_at",
    "backup": "created_at",
    "restore": "at",
    "job": "started_at",
}
_ACTOR = {
    "change": "actor",
    "import": "created_by",
    "backup": "created_by",
    "restore": "actor",
    "job": "created_by",
}
_FOR_INVESTOR = (
    "((entity = 'fundraising_investors' AND entity_id = ?)"
    " OR (entity = 'fundraising_contacts' AND entity_id IN"
    "     (SELECT id FROM fundraising_contacts WHERE investor_id = ?))"
    " OR (entity = 'fundraising_commitments' AND entity_id IN"
    "     (SELECT id FROM fundraising_commitments WHERE investor_id = ?))"
    # the ranges a bulk write created that hold the investor, one of its people or commitments
    " OR (last_entity_id IS NOT NULL AND ("
    "     (entity = 'fundraising_investors' AND ? BETWEEN entity_id AND last_entity_id)"
    "     OR (entity IN ('fundraising_contacts', 'fundraising_commitments') AND EXISTS ("
    "         SELECT 1 FROM fundraising_contacts r WHERE entity = 'fundraising_contacts'"
    "         AND r.investor_id = ? AND r.id BETWEEN entity_id AND last_entity_id"
    "         UNION ALL SELECT 1 FROM fundraising_commitments r"
    "         WHERE entity = 'fundraising_commitments' AND r.investor_id = ?"
    "         AND r.id BETWEEN entity_id AND last_entity_id)))))"
)
#: How many times _FOR_INVESTOR takes the investor's id.
_FOR_INVESTOR_PARAMS = _FOR_INVESTOR.count("?")


def activity(
    ctx: Context,
    *,
    actor: str | None = None,
    investor_id: int | None = None,
    kinds: tuple[str, ...] = KINDS,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Events newest first (each with a one-line ``summary``)."""
    require(ctx, "use_grid")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValidationError(
            f"Kinds are {', '.join(KINDS)}, not {unknown or 'none'}", field="kind"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    if investor_id is not None:
        kinds = tuple(k for k in kinds if k == "change")  # only record changes name an investor
        if not kinds:
            return []
    branches, params = [], []
    for kind in kinds:  # each branch filtered, sorted and cut on its own: indexes do the work
        where, values = [], []
        if actor:
            where.append(f"{_ACTOR[kind]} = ?")
            values.append(actor.strip())
        if since is not None:
            where.append(f"{_AT[kind]} >= ?")
            values.append(timestamp(since))
        if until is not None:
            where.append(f"{_AT[kind]} < ?")
            values.append(timestamp(until))
        if investor_id is not None:
            where.append(_FOR_INVESTOR)
            values += [investor_id] * _FOR_INVESTOR_PARAMS
        extra = "".join(f" AND {w}" for w in where)
        source = _SOURCES[kind]
        if investor_id is None:  # newest first over the whole log: walk the index on `at`
            source = source.replace("WHERE entity IN", "WHERE +entity IN")
        branches.append(f"SELECT * FROM ({source}{extra} ORDER BY {_AT[kind]} DESC LIMIT ?)")
        params += [*values, limit]
    rows = query_dicts(
        ctx.db, " UNION ALL ".join(branches) + " ORDER BY at DESC LIMIT ?", [*params, limit]
    )
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        row["summary"] = _summary(row)
    return rows


_NAMES = {
    "fundraising_investors": "investor",
    "fundraising_contacts": "person",
    "fundraising_commitments": "commitment",
    "fundraising_funds": "fund",
    "grid_fields": "field",
    "fundraising_views": "view",
}


def _summary(row: dict[str, Any]) -> str:
    detail = row["detail"] or {}
    kind = row["kind"]
    if kind == "change":
        thing = f"{_NAMES.get(row['entity'], row['entity'])} {row['entity_id']}"
        if row["action"] == "update" and row["field"]:
            old, new = (json.loads(v) if isinstance(v, str) else v for v in detail)
            return f"{thing}: {row['field']} {_short(old)} → {_short(new)}"
        created = json.loads(detail[1]) if isinstance(detail[1], str) else None
        if row["action"] == "create" and isinstance(created, dict) and "rows" in created:
            thing = _NAMES.get(row["entity"], row["entity"])
            things = "people" if thing == "person" else f"{thing}s"
            return (  # a bulk write's range: "created 1,000 investors (ids 1 to 1,000)"
                f"created {created['rows']:,} {things}"
                f" (ids {created['first_id']:,} to {created['last_id']:,})"
            )
        return f"{row['action']}d {thing}"
    if kind == "import":
        counts = detail.get("counts", {})
        return (
            f"imported {detail.get('file')}: {counts.get('created', 0)} created,"
            f" {counts.get('updated', 0)} updated"
        )
    if kind == "backup":
        return f"{row['action']} backup {row['entity_id']} ({detail.get('verify') or 'unverified'})"
    if kind == "restore":
        return f"restored backup {detail.get('backup_id')} (before it: backup {detail.get('pre_restore')})"
    return f"job {row['field']} {row['action']}" + (
        f": {detail['error']}" if detail.get("error") else ""
    )


def _short(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
