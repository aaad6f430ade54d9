"""Keeping the index in step with the database.

The state (``app_settings`` key ``search_index``) holds the stamp of what built the index and
three cursors: the last audit row, message and email link seen. :func:`sync` reads what came
after them and re-indexes exactly the documents it touches:

* an investor created, edited (its notes, a long-text field or its name), archived or restored:
  its note and field documents again (its name also on its mail's chunks);
* a person created or edited: their title document;
* a long-text field archived: its chunks dropped; created or restored: it is indexed;
* new messages and new links (an approved proposal): those messages' documents;
* a message archived (deleted from every mailbox, blocklisted): its chunks dropped.

A different stamp (another embedder or analyzer), or no collection at all, rebuilds everything.
What a reader may see is decided again at query time by the database, so a change is hidden
the moment it is written, before any sync.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crm_lib.context import Context
from crm_lib.search.documents import (
    all_documents,
    email_documents,
    investor_documents,
    long_text_fields,
    person_documents,
)
from crm_lib.search.index import SearchIndex
from crm_lib.storage.writes import write

STATE_KEY = "search_index"
AUDIT_BATCH = 5_000


@dataclass
class SyncReport:
    rebuilt: bool = False
    documents: int = 0
    chunks: int = 0
    removed: list[str] = field(default_factory=list)


def _state(ctx: Context) -> tuple[dict[str, Any], int | None, int | None]:
    row = ctx.db.execute(
        "SELECT id, version, value FROM app_settings WHERE key = ? AND deleted_at IS NULL",
        [STATE_KEY],
    ).fetchone()
    if row is None:
        return {}, None, None
    return json.loads(row[2]), row[0], row[1]


def _save(ctx: Context, state: dict[str, Any]) -> None:
    _, row_id, _ = _state(ctx)
    with write(ctx.as_actor("system:search")) as tx:
        if row_id is None:
            tx.insert("app_settings", {"key": STATE_KEY, "value": json.dumps(state)})
        else:
            tx.touch("app_settings", row_id, {"value": json.dumps(state)})


def _max_ids(ctx: Context) -> dict[str, int]:
    one = ctx.db.execute
    return {
        "audit_id": one("SELECT coalesce(max(id), 0) FROM audit_log").fetchone()[0],
        "email_id": one("SELECT coalesce(max(id), 0) FROM emails").fetchone()[0],
        "link_id": one("SELECT coalesce(max(id), 0) FROM email_investor_links").fetchone()[0],
    }


def index_status(ctx: Context, index: SearchIndex) -> dict[str, Any]:
    """The stamp, whether the index matches it, the cursors and the chunk count."""
    state, _, _ = _state(ctx)
    current = index.exists() and state.get("stamp") == index.stamp
    return {
        "stamp": index.stamp,
        "current": current,
        "chunks": index.count() if index.exists() else 0,
        **{k: state.get(k) for k in ("audit_id", "email_id", "link_id", "rebuilt_at")},
    }


def rebuild(ctx: Context, index: SearchIndex) -> SyncReport:
    """Index everything again from the database, into a fresh collection."""
    cursors = _max_ids(ctx)  # taken first: anything written meanwhile is synced after
    index.reset()
    report = SyncReport(rebuilt=True)
    for batch in all_documents(ctx.db.conn):
        report.documents += len(batch)
        report.chunks += index.upsert(batch, fresh=True)
    _save(ctx, {"stamp": index.stamp, **cursors, "rebuilt_at": ctx.clock.now().isoformat()})
    return report


def sync(ctx: Context, index: SearchIndex) -> SyncReport:
    """Bring the index up to date (rebuilding it when its stamp changed)."""
    state, _, _ = _state(ctx)
    if not index.exists() or state.get("stamp") != index.stamp:
        return rebuild(ctx, index)
    report = SyncReport()
    cursors = _max_ids(ctx)
    investors: set[int] = set()
    renamed: set[int] = set()
    people: set[int] = set()
    archived_emails: set[int] = set()
    fields_changed = False
    for entity, first, last, action, key in ctx.db.execute(
        "SELECT entity, entity_id, coalesce(last_entity_id, entity_id), action, field"
        " FROM audit_log WHERE id > ? AND id <= ? AND entity IN"
        " ('fundraising_investors', 'fundraising_contacts', 'grid_fields', 'emails')",
        [state.get("audit_id", 0), cursors["audit_id"]],
    ).fetchall():
        ids = range(first, last + 1)
        if entity == "fundraising_investors":
            investors.update(ids)
            if key == "name":
                renamed.update(ids)
        elif entity == "fundraising_contacts":
            people.update(ids)
        elif entity == "grid_fields":
            fields_changed = True
        elif entity == "emails" and action == "archive":
            archived_emails.update(ids)
    conn = ctx.db.conn
    if fields_changed:  # a long-text field came or went: every investor's field documents
        live = long_text_fields(conn)
        for (key,) in conn.execute(
            "SELECT key FROM grid_fields WHERE type = 'long_text' AND deleted_at IS NOT NULL"
        ).fetchall():
            if key not in live:
                index.delete_where("field_key", key)
                report.removed.append(f"field {key}")
        investors.update(r[0] for r in conn.execute("SELECT id FROM fundraising_investors"))
    if investors:
        keys = [f"field:{i}:{k}" for i in investors for k in _all_field_keys(ctx)]
        index.delete_documents(keys)
        documents = investor_documents(conn, investors)
        report.documents += len(documents)
        report.chunks += index.upsert(documents)
    for investor_id in renamed:
        row = conn.execute(
            "SELECT name FROM fundraising_investors WHERE id = ?", [investor_id]
        ).fetchone()
        if row:
            index.set_lp_name(investor_id, row[0])
    if people:
        index.delete_documents([f"title:{p}" for p in people])
        documents = person_documents(conn, people)
        report.documents += len(documents)
        report.chunks += index.upsert(documents)
    emails = {
        r[0]
        for r in conn.execute(
            "SELECT id FROM emails WHERE id > ? AND id <= ?",
            [state.get("email_id", 0), cursors["email_id"]],
        )
    }
    emails.update(
        r[0]
        for r in conn.execute(
            "SELECT email_id FROM email_investor_links WHERE id > ? AND id <= ?",
            [state.get("link_id", 0), cursors["link_id"]],
        )
    )
    if emails - archived_emails:
        documents = email_documents(conn, emails - archived_emails)
        report.documents += len(documents)
        report.chunks += index.upsert(documents)
    for email_id in archived_emails:
        index.delete_where("email_id", email_id)
    if cursors != {k: state.get(k) for k in cursors}:
        _save(ctx, {**state, **cursors})
    return report


def _all_field_keys(ctx: Context) -> list[str]:
    return [
        r[0]
        for r in ctx.db.execute("SELECT key FROM grid_fields WHERE type = 'long_text'").fetchall()
    ]
