"""Relationship signals from linked email, per investor: the grid's read-only email fields.

* **Last inbound / last outbound email**: the newest message from, and to, the investor's people.
* **Emails in 30 / 90 days**: messages either way in the window.
* **Last contacted**: the newest message of a *two-way* thread (both sides wrote), so a cold
  blast nobody answered is not contact. It only ever moves ``last_contacted_at`` forward: a date
  a person typed for a call or a meeting after the last email stays.
* **Relationship strength and strongest connection**, from metadata only: each team member's
  messages with the investor, each weighted by recency (halving every :data:`HALF_LIFE_DAYS`)
  and counted half again when its thread is two-way; the member with the highest score is the
  strongest connection, and the score's level (:data:`LEVELS`) is the strength.

Only mail on a read path counts: live messages, held by a mailbox, in threads nobody marked
private, linked to the investor. Values are written like formula values: no version bump and no
audit row (they are derived), but the change is announced so open grids show it.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from crm_lib.clock import timestamp
from crm_lib.events import Change
from crm_lib.storage.reads import rows_in
from crm_lib.storage.writes import WriteTransaction

HALF_LIFE_DAYS = 90
TWO_WAY_WEIGHT = 1.5
#: (lowest score, level): a few recent two-way emails make "Medium".
LEVELS = (
    (12.0, "Very strong"),
    (6.0, "Strong"),
    (3.0, "Medium"),
    (1.0, "Weak"),
    (0.0, "Very weak"),
)
FIELDS = (
    "email_last_inbound_at",
    "email_last_outbound_at",
    "email_touches_30d",
    "email_touches_90d",
    "email_strength",
    "email_connection_id",
)
_MAIL = (
    "SELECT l.investor_id, e.thread_id, e.direction, e.sent_at, e.team_member_id"
    " FROM email_investor_links l JOIN emails e ON e.id = l.email_id"
    " JOIN email_threads t ON t.id = e.thread_id"
    " WHERE l.deleted_at IS NULL AND e.deleted_at IS NULL AND t.deleted_at IS NULL"
    " AND +t.private_by IS NULL AND e.sent_at IS NOT NULL AND e.direction != 'internal'"
    " AND EXISTS (SELECT 1 FROM email_account_messages h WHERE h.email_id = e.id"
    " AND h.deleted_at IS NULL)"
)


def level(score: float) -> str:
    return next(name for floor, name in LEVELS if score >= floor)


def recompute(
    tx: WriteTransaction, now: datetime, investor_ids: Iterable[int] | None = None
) -> int:
    """Recompute the signals of ``investor_ids`` (default: every investor with linked mail, and
    every investor that had signals); returns how many investors' values changed."""
    conn = tx.conn
    if investor_ids is None:
        ids = {
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT investor_id FROM email_investor_links WHERE deleted_at IS NULL"
                " UNION SELECT id FROM fundraising_investors WHERE email_last_inbound_at IS NOT NULL"
                " OR email_last_outbound_at IS NOT NULL"
            ).fetchall()
        }
    else:
        ids = set(investor_ids)
    if not ids:
        return 0
    ordered = sorted(ids)
    rows = rows_in(conn, _MAIL + " AND l.investor_id IN ({marks})", ordered)
    by_investor: defaultdict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_investor[row[0]].append(row)
    since_30, since_90 = timestamp(now - timedelta(days=30)), timestamp(now - timedelta(days=90))
    changed = 0
    for investor_id in ordered:
        mail = by_investor.get(investor_id, [])
        values = _signals(mail, now, since_30, since_90)
        current = conn.execute(
            f"SELECT {', '.join(FIELDS)}, last_contacted_at, version FROM fundraising_investors"
            " WHERE id = ?",
            [investor_id],
        ).fetchone()
        if current is None:
            continue
        updates = {k: v for k, v in zip(FIELDS, current[: len(FIELDS)], strict=True)}
        wanted = {k: values[k] for k in FIELDS}
        contacted = values["last_contacted_at"]
        stored_contact = current[len(FIELDS)]
        if contacted and (not stored_contact or contacted > str(stored_contact)[:10]):
            wanted["last_contacted_at"] = contacted
            updates["last_contacted_at"] = stored_contact
        diff = {k: v for k, v in wanted.items() if updates.get(k) != v}
        if not diff:
            continue
        assignments = ", ".join(f"{k} = ?" for k in diff)
        conn.execute(
            f"UPDATE fundraising_investors SET {assignments} WHERE id = ?",
            [*diff.values(), investor_id],
        )
        tx.changes.append(
            Change(
                "fundraising_investors",
                investor_id,
                "update",
                tuple(diff),
                current[-1],
                tx.actor,
                tx.txn,
            )
        )
        changed += 1
    return changed


def _signals(mail: list[tuple], now: datetime, since_30: str, since_90: str) -> dict:
    inbound = [m[3] for m in mail if m[2] == "inbound"]
    outbound = [m[3] for m in mail if m[2] == "outbound"]
    directions: defaultdict[int, set[str]] = defaultdict(set)
    for _, thread_id, direction, _, _ in mail:
        directions[thread_id].add(direction)
    two_way = {thread for thread, seen in directions.items() if len(seen) == 2}
    conversed = [m[3] for m in mail if m[1] in two_way]
    scores: defaultdict[int, float] = defaultdict(float)
    for _, thread_id, _, sent_at, member in mail:
        if member is None:
            continue
        age = max(0.0, (now - datetime.fromisoformat(sent_at)).total_seconds() / 86_400)
        weight = math.pow(0.5, age / HALF_LIFE_DAYS)
        scores[member] += weight * (TWO_WAY_WEIGHT if thread_id in two_way else 1.0)
    top = max(scores.items(), key=lambda item: (item[1], -item[0]), default=None)
    return {
        "email_last_inbound_at": max(inbound, default=None),
        "email_last_outbound_at": max(outbound, default=None),
        "email_touches_30d": sum(m[3] >= since_30 for m in mail),
        "email_touches_90d": sum(m[3] >= since_90 for m in mail),
        "email_strength": level(top[1]) if top else None,
        "email_connection_id": top[0] if top else None,
        "last_contacted_at": max(conversed)[:10] if conversed else None,
    }


#: app_settings key: when every investor's signals were last recomputed (30- and 90-day counts
#: and strength decay with time, so the email_sync job refreshes them at least daily).
REFRESHED_SETTING = "email_signals_refreshed_at"
REFRESH_EVERY = timedelta(hours=24)


def refresh_all(tx: WriteTransaction, now: datetime) -> int:
    """Recompute every investor's signals and note when."""
    changed = recompute(tx, now)
    value = json.dumps(timestamp(now))
    row = tx.conn.execute(
        "SELECT id, version FROM app_settings WHERE key = ? AND deleted_at IS NULL",
        [REFRESHED_SETTING],
    ).fetchone()
    if row is None:
        tx.insert("app_settings", {"key": REFRESHED_SETTING, "value": value})
    else:
        tx.touch("app_settings", row[0], {"value": value})
    return changed


def due_for_refresh(conn: Any, now: datetime) -> bool:
    """Some mail is linked and the signals were not refreshed in the last 24 hours."""
    if conn.execute("SELECT 1 FROM email_investor_links LIMIT 1").fetchone() is None:
        return False
    row = conn.execute(
        "SELECT value FROM app_settings WHERE key = ? AND deleted_at IS NULL",
        [REFRESHED_SETTING],
    ).fetchone()
    return row is None or json.loads(row[0]) <= timestamp(now - REFRESH_EVERY)
