"""Documents and their chunks.

A *document* is one thing the team wrote that search can find: the new text of an email (with
its thread's subject), an investor's notes, a long-text field, a person's title. It is cut into
*chunks* at paragraph breaks, each at most :data:`CHUNK_CHARS` characters, and each chunk after
the first starts with the end of the one before (:data:`OVERLAP_CHARS`), so a sentence across a
break is found whole. The payload of every chunk carries the names the team's earlier tools used:
``lp_id``, ``lp_name``, ``person_id``, ``doc_type`` (email | note | field), ``date_ts``,
``team_member``, ``thread_id``, ``email_id``.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

CHUNK_CHARS = 800
OVERLAP_CHARS = 160
#: uuid5 namespace of chunk ids: a document's chunks keep their ids when it is indexed again.
NAMESPACE = uuid.UUID("6d1f3a52-2c0e-4a8e-9a57-4b3f0c3e9d21")
_PARAGRAPHS = re.compile(r"\n\s*\n")


@dataclass
class Document:
    key: str  # "email:12:3", "field:3:notes", "title:45": what a sync replaces
    doc_type: str  # email | note | field
    text: str
    lp_id: int
    lp_name: str
    title: str = ""  # the thread's subject, the field's label
    person_id: int | None = None
    date_ts: float | None = None  # seconds since the epoch (UTC)
    team_member: str | None = None
    thread_id: int | None = None
    email_id: int | None = None
    field_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        return {
            "doc_key": self.key,
            "doc_type": self.doc_type,
            "lp_id": self.lp_id,
            "lp_name": self.lp_name,
            "person_id": self.person_id,
            "date_ts": self.date_ts,
            "team_member": self.team_member,
            "thread_id": self.thread_id,
            "email_id": self.email_id,
            "field_key": self.field_key,
            "title": self.title,
        }


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str  # what is shown and highlighted
    embedded: str  # what is embedded and counted: the title, then the text
    number: int
    document: Document


def split(text: str) -> list[str]:
    """``text`` in pieces of at most :data:`CHUNK_CHARS`, cut at paragraph breaks where it can
    (else at a space), each after the first starting with the previous piece's last
    :data:`OVERLAP_CHARS` characters."""
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text.strip()) if p.strip()]
    pieces: list[str] = []
    current = ""
    for paragraph in paragraphs:
        while len(paragraph) > CHUNK_CHARS:  # one long paragraph: cut at a space
            cut = paragraph.rfind(" ", 0, CHUNK_CHARS)
            cut = cut if cut > CHUNK_CHARS // 2 else CHUNK_CHARS
            if current:
                pieces.append(current)
                current = ""
            pieces.append(paragraph[:cut].strip())
            paragraph = paragraph[cut:].strip()
        if current and len(current) + 2 + len(paragraph) > CHUNK_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        pieces.append(current)
    overlapped = pieces[:1]
    for before, piece in itertools.pairwise(pieces):
        tail = before[-OVERLAP_CHARS:]
        start = tail.find(" ")
        overlapped.append(f"…{tail[start + 1 :] if start >= 0 else tail}\n\n{piece}")
    return overlapped


def chunks_of(document: Document) -> list[Chunk]:
    """The document's chunks (a document with no text has a single chunk of its title)."""
    pieces = split(document.text) or ([document.title] if document.title else [])
    return [
        Chunk(
            id=str(uuid.uuid5(NAMESPACE, f"{document.key}#{n}")),
            text=piece,
            embedded=f"{document.title}\n{piece}" if document.title else piece,
            number=n,
            document=document,
        )
        for n, piece in enumerate(pieces)
    ]
