"""The documents search indexes, read from the database.

* **email**: the new part of each message (else its text), with its thread's subject; one
  document per investor it is linked to (``lp_id`` is one investor). Mail among the team only
  is never indexed.
* **note**: an investor's Notes; **field**: each long-text field of an investor, and each
  person's title (with ``person_id``).

Archived investors, people and fields are indexed like live ones: the database decides at query
time what a reader may see (:mod:`crm_lib.search.visibility`), so archiving hides at once and a
restore needs no reindex. Deleted mail and archived fields are dropped from the index by sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from crm_lib.search.chunks import Document
from crm_lib.storage.reads import rows_in

BATCH = 500


def _ts(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() if text else None


def long_text_fields(conn: object) -> dict[str, str]:
    """Live long-text fields of the investor grid: key -> label."""
    return dict(
        conn.execute(  # type: ignore[attr-defined]
            "SELECT key, label FROM grid_fields WHERE type = 'long_text' AND deleted_at IS NULL"
            " ORDER BY position, id"
        ).fetchall()
    )


def email_documents(conn: object, email_ids: Iterable[int]) -> list[Document]:
    """Each message's documents (one per linked investor); messages with no live text, none."""
    rows = rows_in(
        conn,
        "SELECT e.id, e.thread_id, coalesce(nullif(t.subject, ''), e.subject), e.subject,"
        " e.reply_text, e.body_text, e.sent_at, u.name, u.email, l.investor_id, i.name,"
        " l.person_id"
        " FROM emails e JOIN email_threads t ON t.id = e.thread_id"
        " JOIN email_investor_links l ON l.email_id = e.id AND l.deleted_at IS NULL"
        " JOIN fundraising_investors i ON i.id = l.investor_id"
        " LEFT JOIN users u ON u.id = e.team_member_id"
        " WHERE e.deleted_at IS NULL AND e.direction != 'internal' AND e.id IN ({marks})",
        email_ids,
    )
    documents = []
    for (
        email_id,
        thread_id,
        thread_subject,
        subject,
        reply_text,
        body_text,
        sent_at,
        member_name,
        member_email,
        investor_id,
        investor_name,
        person_id,
    ) in rows:
        text = (reply_text or body_text or "").strip()
        documents.append(
            Document(
                key=f"email:{email_id}:{investor_id}",
                doc_type="email",
                text=text,
                lp_id=investor_id,
                lp_name=investor_name,
                title=subject or thread_subject or "",
                person_id=person_id,
                date_ts=_ts(sent_at),
                team_member=member_name or member_email,
                thread_id=thread_id,
                email_id=email_id,
            )
        )
    return documents


def investor_documents(conn: object, investor_ids: Iterable[int]) -> list[Document]:
    """Notes and long-text fields of these investors (empty ones: no document)."""
    fields = long_text_fields(conn)
    if not fields:
        return []
    columns = ", ".join(f'"{key}"' for key in fields)
    rows = rows_in(
        conn,
        f"SELECT id, name, updated_at, {columns} FROM fundraising_investors"
        " WHERE id IN ({marks})",
        investor_ids,
    )
    documents = []
    for investor_id, name, updated_at, *values in rows:
        for (key, label), value in zip(fields.items(), values, strict=True):
            if not isinstance(value, str) or not value.strip():
                continue
            documents.append(
                Document(
                    key=f"field:{investor_id}:{key}",
                    doc_type="note" if key == "notes" else "field",
                    text=value,
                    lp_id=investor_id,
                    lp_name=name,
                    title=label,
                    date_ts=_ts(updated_at),
                    field_key=key,
                )
            )
    return documents


def person_documents(conn: object, person_ids: Iterable[int]) -> list[Document]:
    """People's titles ("Head of Private Markets"), with their name as the title."""
    rows = rows_in(
        conn,
        "SELECT p.id, p.full_name, p.title, p.updated_at, i.id, i.name"
        " FROM fundraising_contacts p JOIN fundraising_investors i ON i.id = p.investor_id"
        " WHERE p.deleted_at IS NULL AND p.title IS NOT NULL AND trim(p.title) != ''"
        " AND p.id IN ({marks})",
        person_ids,
    )
    return [
        Document(
            key=f"title:{person_id}",
            doc_type="field",
            text=title,
            lp_id=investor_id,
            lp_name=investor_name,
            title=full_name,
            person_id=person_id,
            date_ts=_ts(updated_at),
            field_key="title",
        )
        for person_id, full_name, title, updated_at, investor_id, investor_name in rows
    ]


def all_documents(conn: object) -> Iterator[list[Document]]:
    """Every document, in batches (for a full reindex)."""
    for table, build in (
        ("emails", email_documents),
        ("fundraising_investors", investor_documents),
        ("fundraising_contacts", person_documents),
    ):
        last = 0
        while True:
            ids = [
                r[0]
                for r in conn.execute(  # type: ignore[attr-defined]
                    f"SELECT id FROM {table} WHERE id > ? ORDER BY id LIMIT ?", [last, BATCH]
                ).fetchall()
            ]
            if not ids:
                break
            last = ids[-1]
            yield build(conn, ids)
