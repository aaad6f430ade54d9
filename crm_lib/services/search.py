"""Search as the front ends see it: a query in one of three modes, filters, and hits grouped by
investor, each with a snippet whose matched words are marked.

The index finds candidates; **the database decides what the reader may see**, for every hit,
at query time, with the same rules as every other read of mail: the investor must be live (an
archived one's notes and mail are never returned, and come back on restore without a reindex);
a message must still be held by a mailbox, linked to that investor, outside any thread private
to someone else, and shared with the reader in full (a mailbox shared as subject only or
metadata only is not searchable by others); a person must be live, a field not archived. The
index is asked for more hits than shown so that hidden ones do not leave the page short.
"""

from __future__ import annotations

import html
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from difflib import SequenceMatcher
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.limits import check_text
from crm_lib.search import analyzer, glossary
from crm_lib.search.analyzer import STOP_WORDS
from crm_lib.search.embedders import embedder_from_settings
from crm_lib.search.index import (
    DOC_TYPES,
    MODES,
    Filters,
    Hit,
    IndexBusy,
    SearchIndex,
    open_index,
)
from crm_lib.search.sync import SyncReport, index_status, rebuild, sync
from crm_lib.services.email import _LEVEL_SQL, _VISIBLE_THREAD
from crm_lib.storage.reads import rows_in

log = logging.getLogger(__name__)
MAX_LIMIT = 100
#: The index is asked for this many times the hits shown (some may be hidden from the reader).
OVERFETCH = 3
SNIPPET_CHARS = 240


def run_search(
    ctx: Context,
    index: SearchIndex,
    query: str,
    *,
    mode: str = "hybrid",
    investor_id: int | None = None,
    user_id: int | None = None,
    doc_type: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> dict[str, Any]:
    """Hits for ``query``, best first, as the reader may see them, and the same grouped by
    investor. ``user_id`` keeps the mail of one team member."""
    require(ctx, "read_email")
    query = check_text(query.strip(), "search", field="q", label="Search")
    if not query:
        raise ValidationError("Type something to search for", field="q")
    if mode not in MODES:
        raise ValidationError(f"Mode must be one of {', '.join(MODES)}, not {mode!r}", field="mode")
    if doc_type is not None and doc_type not in DOC_TYPES:
        raise ValidationError(
            f"Type must be one of {', '.join(DOC_TYPES)}, not {doc_type!r}", field="doc_type"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    member = _member_name(ctx, user_id) if user_id is not None else None
    filters = Filters(
        investor_id=investor_id,
        team_member=member,
        doc_type=doc_type,
        since_ts=since.timestamp() if since else None,
        until_ts=until.timestamp() if until else None,
    )
    with index.lock:
        candidates = index.search(query, mode, filters, limit * OVERFETCH)
    visible = _visible(ctx, candidates)[:limit]
    stems, near = marked_words(query, mode)
    hits = [_shown(hit, stems, near) for hit in visible]
    groups: dict[int, dict[str, Any]] = {}
    for hit in hits:
        group = groups.setdefault(
            hit["lp_id"], {"lp_id": hit["lp_id"], "lp_name": hit["lp_name"], "hits": []}
        )
        group["hits"].append(hit)
    return {
        "query": query,
        "mode": mode,
        # the glossary's names for what the query mentions, searched besides it
        "also_searched": [] if mode == "keyword" else glossary.expand(query).added_to(query),
        "hits": hits,
        "investors": list(groups.values()),
    }


def _member_name(ctx: Context, user_id: int) -> str:
    row = ctx.db.execute(
        "SELECT coalesce(nullif(name, ''), email) FROM users WHERE id = ?", [user_id]
    ).fetchone()
    if row is None:
        raise ValidationError(f"No team member {user_id}", field="user_id")
    return row[0]


def _visible(ctx: Context, hits: list[Hit]) -> list[Hit]:
    """The hits this reader may see, in order (see the module docstring)."""
    conn = ctx.db.conn
    live_investors = {
        r[0]
        for r in rows_in(
            conn,
            "SELECT id FROM fundraising_investors WHERE deleted_at IS NULL AND id IN ({marks})",
            {h.payload.get("lp_id") for h in hits if h.payload.get("lp_id") is not None},
        )
    }
    email_ids = {h.payload["email_id"] for h in hits if h.payload.get("email_id") is not None}
    readable = {
        (email_id, investor_id)
        for email_id, investor_id, level in rows_in(
            conn,
            f"SELECT e.id, l.investor_id, {_LEVEL_SQL} AS level FROM emails e"
            " JOIN email_threads t ON t.id = e.thread_id"
            " JOIN email_investor_links l ON l.email_id = e.id AND l.deleted_at IS NULL"
            f" WHERE e.deleted_at IS NULL AND t.deleted_at IS NULL AND {_VISIBLE_THREAD}"
            " AND e.id IN ({marks})",
            email_ids,
            before=[ctx.user_id, ctx.user_id],
        )
        if level is not None and level >= 3
    }
    people = {
        r[0]
        for r in rows_in(
            conn,
            "SELECT id FROM fundraising_contacts WHERE deleted_at IS NULL AND id IN ({marks})",
            {
                h.payload["person_id"]
                for h in hits
                if h.payload.get("doc_type") == "field" and h.payload.get("person_id") is not None
            },
        )
    }
    live_fields = {
        r[0] for r in conn.execute("SELECT key FROM grid_fields WHERE deleted_at IS NULL")
    } | {"title"}
    shown, seen = [], set()
    for hit in hits:
        p = hit.payload
        if p.get("lp_id") not in live_investors:
            continue
        if p.get("doc_type") == "email":
            if (p.get("email_id"), p.get("lp_id")) not in readable:
                continue
        elif p.get("field_key") == "title":
            if p.get("person_id") not in people:
                continue
        elif p.get("field_key") not in live_fields:
            continue
        key = (p.get("doc_key"), p.get("text"))
        if key in seen:
            continue
        seen.add(key)
        shown.append(hit)
    return shown


def marked_words(query: str, mode: str) -> tuple[set[str], list[str]]:
    """What a snippet marks: the stems of the query (and, beyond keyword mode, of the glossary's
    English names for what it mentions) and, in hybrid mode, the query's words to mark near
    spellings of (its trigrams found "captial" in "capital")."""
    stems = set(analyzer.terms(query))
    if mode != "keyword":
        for phrase in glossary.expand(query).english:
            stems.update(analyzer.terms(phrase))
    near = [w for w in analyzer.words(query) if len(w) >= NEAR_MIN and w not in STOP_WORDS]
    return stems, (near if mode == "hybrid" else [])


def _shown(hit: Hit, stems: set[str], near: list[str]) -> dict[str, Any]:
    p = hit.payload
    text = p.get("text") or ""
    snippet, marked = highlight(text, stems, near)
    when = p.get("date_ts")
    return {
        "lp_id": p.get("lp_id"),
        "lp_name": p.get("lp_name"),
        "doc_type": p.get("doc_type"),
        "title": p.get("title") or "",
        "person_id": p.get("person_id"),
        "email_id": p.get("email_id"),
        "thread_id": p.get("thread_id"),
        "team_member": p.get("team_member"),
        "field_key": p.get("field_key"),
        "date": datetime.fromtimestamp(when, UTC).isoformat() if when else None,
        "score": round(float(hit.score), 6),
        "snippet": snippet,
        "snippet_html": marked,
    }


_WORD = re.compile(r"\w+", re.UNICODE)
#: Words this long or longer are marked where spelt nearly alike (difflib ratio >= NEAR_RATIO).
NEAR_MIN = 4
NEAR_RATIO = 0.8


def _matches(word: str, stems: set[str], near: Sequence[str]) -> bool:
    folded = analyzer.fold(word)
    if analyzer.stem(folded) in stems:
        return True
    return len(folded) >= NEAR_MIN and any(
        SequenceMatcher(None, folded, wanted).ratio() >= NEAR_RATIO for wanted in near
    )


def highlight(text: str, stems: set[str], near: Sequence[str] = ()) -> tuple[str, str]:
    """A window of ``text`` around its first matched word (plain), and the same as HTML with
    every word whose stem is in ``stems``, or spelt nearly as a word of ``near``, in ``<mark>``
    (everything else escaped)."""
    flat = " ".join(text.split())
    spans = [m.span() for m in _WORD.finditer(flat) if _matches(m.group(), stems, near)]
    start = 0
    if spans and spans[0][0] > SNIPPET_CHARS // 3:
        start = flat.rfind(" ", 0, spans[0][0] - SNIPPET_CHARS // 3) + 1
    end = min(len(flat), start + SNIPPET_CHARS)
    if end < len(flat):
        end = max(flat.rfind(" ", start, end), start + SNIPPET_CHARS // 2)
    window = flat[start:end]
    prefix, suffix = ("…" if start > 0 else ""), ("…" if end < len(flat) else "")
    parts, last = [], start
    for a, b in spans:
        if a < start or b > end:
            continue
        parts.append(html.escape(flat[last:a]))
        parts.append(f"<mark>{html.escape(flat[a:b])}</mark>")
        last = b
    parts.append(html.escape(flat[last:end]))
    return f"{prefix}{window}{suffix}", f"{prefix}{''.join(parts)}{suffix}"


def open_search_index(settings: Settings, *, location: str | None = None) -> SearchIndex:
    """The index the settings name, with the configured embedder: ``QDRANT_URL``, else the
    local index under the data folder (:class:`IndexBusy` when another process holds it)."""
    return open_index(settings, embedder_from_settings(settings), location=location)


def search_status(ctx: Context, index: SearchIndex) -> dict[str, Any]:
    require(ctx, "read_email")
    with index.lock:
        return index_status(ctx, index)


def sync_search(ctx: Context, index: SearchIndex) -> SyncReport:
    """Bring the index up to date with the database (what the server does every few seconds)."""
    with index.lock:
        return sync(ctx, index)


def reindex_search(ctx: Context, index: SearchIndex) -> SyncReport:
    """Rebuild the whole index (admins; `crm search reindex`)."""
    require(ctx, "manage_email")
    with index.lock:
        return rebuild(ctx, index)


def start_search_sync(
    open_context: Callable[[], Context],
    open_search_index: Callable[[], SearchIndex],
    *,
    every_seconds: float = 5.0,
) -> threading.Event:
    """Keep the index in step in a daemon thread: open it (building it the first time), then
    sync every few seconds; set the returned event to stop. A failure is logged and tried
    again at the next turn; an index another process holds is reported once."""
    stop = threading.Event()

    def loop() -> None:
        ctx = open_context()
        try:
            while not stop.is_set():
                try:
                    sync_search(ctx, open_search_index())
                except IndexBusy as exc:
                    log.warning("search: %s", exc.message)
                    return
                except Exception:  # the next turn tries again; the failure is in the log
                    log.exception("search: sync failed")
                stop.wait(every_seconds)
        finally:
            ctx.close()

    threading.Thread(target=loop, name="crm-search-sync", daemon=True).start()
    return stop


def as_dict(report: SyncReport) -> Mapping[str, Any]:
    return {
        "rebuilt": report.rebuilt,
        "documents": report.documents,
        "chunks": report.chunks,
        "removed": report.removed,
    }
