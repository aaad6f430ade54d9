"""The activity feed: one stream of what happened, newest first, for everyone on the team.

It reads the records each part already keeps — audit rows (edits, creates, archives, restores of
records), imports, backups, backup restores and job runs — so the feed can never disagree with
them. Filters: who, which investor (its people and commitments included), what kind, and when;
``before`` continues a feed from the last event shown ("load more").

Each event also says what happened as a sentence a person reads — "Alice changed Location of
Acme Capital from Boston to New York" — built here, where names, labels and field types are
known, so every front end (the activity page, the home page, the API, a notebook) tells it the
same way. ``parts`` holds the sentence as pieces with their roles (actor, investor, field, old
and new value...), so a page can link the investor and style the values without parsing text;
``sentence`` is the same pieces joined. Names are the current ones (a renamed field shows its new
label) and are read from archived rows too: history keeps naming what was archived.

An import is one event ("Alice imported Investors.csv: 1,204 created, 3 updated"): the record
changes it wrote are left out of the team's feed while imports are shown, and appear in the feed
of each investor (and in the record's history).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.field_types import TYPE_LABELS
from crm_lib.grid.filters import like_pattern
from crm_lib.limits import check_text
from crm_lib.services.funds import FUND_FIELDS
from crm_lib.services.people import PERSON_FIELDS
from crm_lib.services.summary import FUND_STATUS_LABELS, LIST_LABELS
from crm_lib.services.users import list_users
from crm_lib.storage.reads import query_dicts

KINDS = ("change", "import", "backup", "restore", "job", "email", "ask", "automation")
#: What the filter calls each kind.
KIND_LABELS = {
    "change": "Record changes",
    "import": "Imports",
    "backup": "Backups",
    "restore": "Restores",
    "job": "Job runs",
    "email": "Emails",
    "ask": "Questions asked",
    "automation": "Automation runs",
}
MAX_LIMIT = 500
#: Each kind as one SELECT with the feed's columns: at, kind, actor, entity, entity_id, action,
#: field, detail (JSON), txn, last_entity_id, seq (the source row's id: the order among events
#: of the same moment and kind, and the cursor's last part).
_SOURCES = {
    "change": (
        "SELECT at, 'change' AS kind, actor, entity, entity_id, action, field,"
        " json_array(old_value, new_value) AS detail, txn, last_entity_id, id AS seq"
        " FROM audit_log"
        " WHERE entity IN ('fundraising_investors', 'fundraising_contacts',"
        " 'fundraising_commitments', 'fundraising_funds', 'grid_fields', 'fundraising_views')"
    ),
    "import": (
        "SELECT finished_at AS at, 'import' AS kind, created_by AS actor, 'imports' AS entity,"
        " id AS entity_id, 'import' AS action, NULL AS field,"
        " json_object('file', file_name, 'counts', json(counts)) AS detail, txn,"
        " NULL AS last_entity_id, id AS seq FROM imports"
        " WHERE deleted_at IS NULL"
    ),
    "backup": (
        "SELECT created_at AS at, 'backup' AS kind, created_by AS actor, 'backups' AS entity,"
        " id AS entity_id, kind AS action, NULL AS field,"
        " json_object('file', file_name, 'size', size_bytes, 'verify', verify_status) AS detail,"
        " NULL AS txn, NULL AS last_entity_id, id AS seq FROM backups WHERE 1"
    ),
    "restore": (
        "SELECT at, 'restore' AS kind, actor, entity, entity_id, action, field,"
        " new_value AS detail, txn, NULL AS last_entity_id, id AS seq FROM audit_log"
        " WHERE entity = 'backups' AND action = 'restore'"
    ),
    "job": (
        "SELECT started_at AS at, 'job' AS kind, created_by AS actor, 'job_runs' AS entity,"
        " id AS entity_id, status AS action, job AS field,"
        " json_object('attempt', attempt, 'error', error) AS detail, NULL AS txn,"
        " NULL AS last_entity_id, id AS seq FROM job_runs"
        " WHERE deleted_at IS NULL"
    ),
    # One event per message and investor it is linked to, as the reader may see it (the two
    # "?" are the reader's user id: sharing levels and private threads, crm_lib.services.email)
    "email": (
        "SELECT sent_at AS at, 'email' AS kind, team_email AS actor, 'emails' AS entity,"
        " email_id AS entity_id, direction AS action, NULL AS field, detail, NULL AS txn,"
        " NULL AS last_entity_id, id AS seq FROM ("
        "SELECT l.id, l.investor_id, e.sent_at, e.id AS email_id, e.direction,"
        " COALESCE(u.email, 'system:email') AS team_email,"
        " json_object('thread_id', e.thread_id, 'direction', e.direction,"
        " 'from', e.from_address, 'to', json(e.to_addresses),"
        " 'subject', CASE WHEN lv.level >= 2 THEN e.subject ELSE '' END,"
        " 'snippet', CASE WHEN lv.level >= 3 THEN e.snippet ELSE '' END,"
        " 'visibility', CASE lv.level WHEN 3 THEN 'everything' WHEN 2 THEN 'subject'"
        " ELSE 'metadata' END, 'investor_id', l.investor_id, 'person_id', l.person_id,"
        " 'team_member_id', e.team_member_id) AS detail"
        " FROM email_investor_links l JOIN emails e ON e.id = l.email_id"
        " JOIN email_threads t ON t.id = e.thread_id"
        " JOIN fundraising_investors i ON i.id = l.investor_id"
        " LEFT JOIN users u ON u.id = e.team_member_id"
        " JOIN (SELECT h.email_id, min(3, max(CASE a.sharing WHEN 'everything' THEN 3"
        " WHEN 'subject' THEN 2 ELSE 1 END + CASE WHEN a.user_id = ? THEN 3 ELSE 0 END)) AS level"
        " FROM email_account_messages h JOIN email_accounts a ON a.id = h.account_id"
        " WHERE h.deleted_at IS NULL AND a.deleted_at IS NULL GROUP BY h.email_id) lv"
        " ON lv.email_id = e.id"
        " WHERE l.deleted_at IS NULL AND e.deleted_at IS NULL AND t.deleted_at IS NULL"
        " AND i.deleted_at IS NULL AND e.sent_at IS NOT NULL"
        " AND (+t.private_by IS NULL OR t.private_by = ?)) WHERE 1"
    ),
    # Questions asked on the Ask page, the API or the CLI: the asker's own, and everyone's for
    # an admin (the two "?" are the reader's user id and whether the reader is an admin).
    "ask": (
        "SELECT created_at AS at, 'ask' AS kind, created_by AS actor, 'ask_log' AS entity,"
        " id AS entity_id, status AS action, source AS field,"
        " json_object('question', question, 'rows', row_count, 'rule', rule,"
        " 'source', source, 'opens_investors', investor_ids IS NOT NULL) AS detail,"
        " NULL AS txn, NULL AS last_entity_id, id AS seq FROM ask_log"
        " WHERE deleted_at IS NULL AND (user_id = ? OR ?)"
    ),
    # Automation runs that changed something or could not (a quiet hourly evaluation is not
    # news), named by their rule; dry runs are not events.
    "automation": (
        "SELECT finished_at AS at, 'automation' AS kind, created_by AS actor,"
        " 'automation_runs' AS entity, id AS entity_id, status AS action, NULL AS field,"
        " json_object('rule', rule_name, 'rule_id', rule_id, 'changed', changed,"
        " 'matched', matched, 'message', message, 'event', trigger_event) AS detail,"
        " NULL AS txn, NULL AS last_entity_id, id AS seq FROM ("
        "SELECT r.*, a.name AS rule_name FROM automation_runs r"
        " JOIN automation_rules a ON a.id = r.rule_id)"
        " WHERE deleted_at IS NULL AND dry_run = 0 AND finished_at IS NOT NULL"
        " AND (changed > 0 OR status != 'done')"
    ),
}
#: How many "?" the email source itself takes (the reader's id, twice).
_EMAIL_PARAMS = 2
#: The source column each feed filter reads, per kind (the sources name them differently).
_AT = {
    "change": "at",
    "import": "finished_at",
    "backup": "created_at",
    "restore": "at",
    "job": "started_at",
    "email": "sent_at",
    "ask": "created_at",
    "automation": "finished_at",
}
_ACTOR = {
    "change": "actor",
    "import": "created_by",
    "backup": "created_by",
    "restore": "actor",
    "job": "created_by",
    "email": "team_email",
    "ask": "created_by",
    "automation": "created_by",
}
#: Events of the same moment come in this order (then newest row first): the cursor needs a
#: total order, and one transaction writes many audit rows with the same ``at``.
_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
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
#: Record changes an import wrote (its event tells them; each investor's feed shows them).
_NOT_IMPORTED = "txn NOT IN (SELECT txn FROM imports WHERE deleted_at IS NULL)"
#: Values the product computes (the rollup ``total_invested``, formula results) change with
#: the edit that caused them: the feed tells the edit (the record's history has both).
_NOT_DERIVED = (
    "(field IS NULL OR entity != 'fundraising_investors'"
    " OR field NOT IN (SELECT key FROM grid_fields WHERE is_editable = 0))"
)
#: A cursor: the last event's ``at``, kind rank and source row id.
_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2}T[0-9:.+\-]{8,40})\|([0-9])\|([0-9]{1,18})$")


def activity(
    ctx: Context,
    *,
    actor: str | None = None,
    investor_id: int | None = None,
    kinds: tuple[str, ...] = KINDS,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    before: str | None = None,
) -> list[dict[str, Any]]:
    """Events newest first: each with a one-line ``summary`` (ids, for scripts), the sentence a
    person reads (``sentence`` and its ``parts``, plus ``actor_name``, ``verb``,
    ``target_name``, ``field_label``, ``old_text``, ``new_text``, ``investor_id``,
    ``investor_name``) and a ``cursor``: pass the last event's as ``before`` for the next ones."""
    require(ctx, "use_grid")
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValidationError(
            f"Kinds are {', '.join(KINDS)}, not {unknown or 'none'}", field="kind"
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    cursor = _parse_cursor(before) if before else None
    fold_imports = "import" in kinds and investor_id is None
    if investor_id is not None:  # only record changes and emails name an investor
        kinds = tuple(k for k in kinds if k in ("change", "email"))
        if not kinds:
            return []
    branches, params = [], []
    for kind in kinds:  # each branch filtered, sorted and cut on its own: indexes do the work
        where, values = [], []
        at = _AT[kind]
        if actor:
            where.append(f"{_ACTOR[kind]} = ?")
            values.append(actor.strip())
        if since is not None:
            where.append(f"{at} >= ?")
            values.append(timestamp(since))
        if until is not None:
            where.append(f"{at} < ?")
            values.append(timestamp(until))
        if cursor is not None:
            sql, args = _after_cursor(kind, cursor)
            where.append(sql)
            values += args
        if investor_id is not None and kind == "email":
            where.append("investor_id = ?")
            values.append(investor_id)
        elif investor_id is not None:
            where.append(_FOR_INVESTOR)
            values += [investor_id] * _FOR_INVESTOR_PARAMS
        if kind == "email":
            values = [ctx.user_id, ctx.user_id, *values]
        if kind == "ask":
            values = [ctx.user_id, ctx.role != "member", *values]
        if kind == "change":
            where.append(_NOT_DERIVED)
            if fold_imports:
                where.append(_NOT_IMPORTED)
        extra = "".join(f" AND {w}" for w in where)
        source = _SOURCES[kind]
        if investor_id is None:  # newest first over the whole log: walk the index on `at`
            source = source.replace("WHERE entity IN", "WHERE +entity IN")
        branches.append(
            f"SELECT *, {_RANK[kind]} AS rank FROM ({source}{extra}"
            f" ORDER BY {at} DESC, id DESC LIMIT ?)"
        )
        params += [*values, limit]
    rows = query_dicts(
        ctx.db,
        " UNION ALL ".join(branches) + " ORDER BY at DESC, rank, seq DESC LIMIT ?",
        [*params, limit],
    )
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else None
        row["summary"] = _summary(row)
        row["cursor"] = f"{row['at']}|{row.pop('rank')}|{row.pop('seq')}"
    describe_events(ctx, rows)
    return rows


def _parse_cursor(text: str) -> tuple[str, int, int]:
    match = _CURSOR.match(text.strip())
    if match is None or int(match[2]) >= len(KINDS):
        raise ValidationError(
            "before must be the cursor of an event this feed returned", field="before"
        )
    return match[1], int(match[2]), int(match[3])


def _after_cursor(kind: str, cursor: tuple[str, int, int]) -> tuple[str, list[Any]]:
    """The events of ``kind`` that come after ``cursor`` in the feed's order (``at`` newest
    first, then kind rank, then source row newest first), as a range on ``at`` the indexes
    serve."""
    at, rank, seq = cursor
    column = _AT[kind]
    if _RANK[kind] > rank:
        return f"{column} <= ?", [at]
    if _RANK[kind] < rank:
        return f"{column} < ?", [at]
    return f"{column} <= ? AND NOT ({column} = ? AND id >= ?)", [at, at, seq]


# -- the filters' choices ---------------------------------------------------------------------
def activity_people(ctx: Context) -> list[dict[str, Any]]:
    """The team members the feed can be filtered by: ``{"actor", "name"}`` by name (``actor``
    is what :func:`activity` takes)."""
    require(ctx, "use_grid")
    return [
        {"actor": user["email"], "name": user.get("name") or user["email"]}
        for user in list_users(ctx)
    ]


def activity_investors(
    ctx: Context, text: str = "", *, investor_id: int | None = None, limit: int = 10
) -> list[dict[str, Any]]:
    """Investors whose name holds ``text`` (any case), live ones first, for the feed's investor
    picker: ``{"id", "name", "archived"}``; or the one with ``investor_id`` (a page opened on
    an investor's feed names it). Archived investors are offered too (marked): their history is
    still there to read."""
    require(ctx, "use_grid")
    if investor_id is not None:
        found = _by_id(
            ctx,
            "SELECT id, name, deleted_at IS NOT NULL AS archived FROM fundraising_investors",
            [investor_id],
        )
        return [{**row, "archived": bool(row["archived"])} for row in found.values()]
    text = (text or "").strip()
    if not text:
        return []
    check_text(text, "search", field="investor", label="Investor search")
    if not 1 <= limit <= 50:
        raise ValidationError("limit must be between 1 and 50", field="limit")
    rows = query_dicts(
        ctx.db,
        "SELECT id, name, deleted_at IS NOT NULL AS archived FROM fundraising_investors"
        " WHERE name LIKE ? ESCAPE '\\'"
        " ORDER BY deleted_at IS NOT NULL, name COLLATE NOCASE, id LIMIT ?",
        [like_pattern(text), limit],
    )
    for row in rows:
        row["archived"] = bool(row["archived"])
    return rows


# -- sentences --------------------------------------------------------------------------------
#: How system actors are named (``system:job:<name>`` is the scheduler too).
SYSTEM_ACTORS = {
    "system:demo": "Demo data",
    "system:jobs": "The scheduler",
    "system:cli": "The command line",
    "system:migrate": "An upgrade",
}
#: Labels and types of the fields of records that are not grid fields.
_PERSON_LABELS = {
    "full_name": "Name",
    "email": "Email",
    "title": "Title",
    "phone": "Phone",
    "is_primary": "Primary contact",
    "notes": "Notes",
}
_COMMITMENT_FIELDS = {
    "amount": ("Amount", "currency"),
    "status": ("Status", "commitment_status"),
    "committed_on": ("Date", "date"),
    "notes": ("Notes", "long_text"),
    "fund_id": ("Fund", "fund"),
}
_FUND_LABELS = {
    "name": "Name",
    "vintage_year": "Vintage",
    "target_size": "Target size",
    "currency": "Currency",
    "status": "Status",
    "first_close_on": "First close",
    "final_close_on": "Final close",
    "notes": "Notes",
}
#: Stored keys of choices the product defines -> the words people read.
CHOICE_LABELS = {
    "commitment_status": {
        "soft_circled": "Soft-circled",
        "committed": "Committed",
        "closed": "Closed",
    },
    "fund_status": dict(FUND_STATUS_LABELS),
    "list": dict(LIST_LABELS),
}
_FIELD_TYPE_LABELS = TYPE_LABELS
_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}
#: Values longer than this are cut (the record's history has them whole).
MAX_VALUE_CHARS = 80


class _Names:
    """The names an event page needs, read in one query per table for the whole page (archived
    rows included: history names what was archived)."""

    def __init__(self, ctx: Context, rows: list[dict[str, Any]]) -> None:
        single = [r for r in rows if r["kind"] == "change" and r.get("last_entity_id") is None]

        def ids(entity: str) -> list[int]:
            return sorted({int(r["entity_id"]) for r in single if r["entity"] == entity})

        self.ctx = ctx
        self.rule_names: dict[str, str] = {}
        users = query_dicts(ctx.db, "SELECT id, email, name FROM users")
        self.user_by_id = {u["id"]: u["name"] or u["email"] for u in users}
        self.user_by_email = {u["email"].lower(): u["name"] or u["email"] for u in users}
        self.people = _by_id(
            ctx, "SELECT id, full_name, investor_id FROM fundraising_contacts", ids(_PEOPLE)
        )
        self.commitments = _by_id(
            ctx,
            "SELECT id, investor_id, fund_id, amount FROM fundraising_commitments",
            ids(_COMMITMENTS),
        )
        mails = [r["detail"] or {} for r in rows if r["kind"] == "email"]
        self.email_people = _by_id(
            ctx,
            "SELECT id, full_name FROM fundraising_contacts",
            sorted({m["person_id"] for m in mails if m.get("person_id")}),
        )
        investors = set(ids(_INVESTORS)) | {m["investor_id"] for m in mails}
        investors |= {p["investor_id"] for p in self.people.values()}
        investors |= {c["investor_id"] for c in self.commitments.values()}
        self.investors = _by_id(
            ctx,
            "SELECT id, name, deleted_at IS NOT NULL AS archived FROM fundraising_investors",
            sorted(investors),
        )
        funds = set(ids(_FUNDS)) | {c["fund_id"] for c in self.commitments.values()}
        funds |= {
            v
            for r in single
            if r["entity"] == _COMMITMENTS and r["field"] == "fund_id"
            for v in _update_values(r)
            if isinstance(v, int)
        }
        self.funds = _by_id(ctx, "SELECT id, name, currency FROM fundraising_funds", sorted(funds))
        self.views = _by_id(ctx, "SELECT id, name FROM fundraising_views", ids(_VIEWS))
        fields = query_dicts(ctx.db, "SELECT id, key, label, type, options FROM grid_fields")
        self.fields_by_id = {f["id"]: f for f in fields}
        self.fields_by_key = {f["key"]: f for f in fields}

    def actor(self, actor: str | None) -> str:
        if not actor:
            return "Someone"
        if actor.startswith("system:"):
            if actor.startswith("system:job:"):
                return SYSTEM_ACTORS["system:jobs"]
            return SYSTEM_ACTORS.get(actor, "The system")
        if actor.startswith("automation:"):  # a rule's change: named by the rule
            rule_id = actor.removeprefix("automation:")
            if rule_id not in self.rule_names:
                found = query_dicts(
                    self.ctx.db,
                    "SELECT name FROM automation_rules WHERE id = ?",
                    [int(rule_id) if rule_id.isdigit() else -1],
                )
                self.rule_names[rule_id] = (
                    f"The automation “{found[0]['name']}”" if found else "An automation"
                )
            return self.rule_names[rule_id]
        return self.user_by_email.get(actor.lower(), actor)


_INVESTORS = "fundraising_investors"
_PEOPLE = "fundraising_contacts"
_COMMITMENTS = "fundraising_commitments"
_FUNDS = "fundraising_funds"
_FIELDS = "grid_fields"
_VIEWS = "fundraising_views"
#: Nouns for bulk creations: (one, many).
_NOUNS = {
    _INVESTORS: ("investor", "investors"),
    _PEOPLE: ("person", "people"),
    _COMMITMENTS: ("commitment", "commitments"),
    _FUNDS: ("fund", "funds"),
    _FIELDS: ("field", "fields"),
    _VIEWS: ("view", "views"),
}


def _by_id(ctx: Context, select: str, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    return {r["id"]: r for r in query_dicts(ctx.db, f"{select} WHERE id IN ({marks})", ids)}


def _update_values(row: Mapping[str, Any]) -> tuple[Any, Any]:
    """The old and new stored values of an update row (its detail holds them as JSON text)."""
    detail = row["detail"] or [None, None]
    old, new = (json.loads(v) if isinstance(v, str) else v for v in detail[:2])
    return old, new


def describe_events(ctx: Context, rows: list[dict[str, Any]]) -> None:
    """Add the sentence of each event (``parts``, ``sentence`` and the named pieces) in place.
    The names of the whole page are read once (see :class:`_Names`)."""
    if not rows:
        return
    names = _Names(ctx, rows)
    for row in rows:
        sentence = _Sentence(names.actor(row["actor"]))
        _DESCRIBE[row["kind"]](sentence, row, names)
        row.update(sentence.pieces())


class _Sentence:
    """A sentence being built: its parts (text with a role) and the named pieces."""

    def __init__(self, actor_name: str) -> None:
        self.parts: list[dict[str, Any]] = [{"text": actor_name, "role": "actor"}]
        self.named: dict[str, Any] = {
            "actor_name": actor_name,
            "verb": "",
            "target_name": None,
            "target_kind": None,
            "field_label": None,
            "old_text": None,
            "new_text": None,
            "investor_id": None,
            "investor_name": None,
            "investor_archived": False,
        }

    def say(self, text: str, role: str = "text", **extra: Any) -> _Sentence:
        if text:
            self.parts.append({"text": text, "role": role, **extra})
        return self

    def verb(self, verb: str) -> _Sentence:
        self.named["verb"] = verb
        return self.say(f" {verb}")

    def target(self, kind: str, name: str) -> None:
        self.named.update(target_kind=kind, target_name=name)

    def investor(self, names: _Names, investor_id: int | None) -> _Sentence:
        """The investor, linked by the page (an unknown id still reads as "investor 12")."""
        if investor_id is None:  # a person or commitment row that no longer exists
            return self.say("an investor")
        found = names.investors.get(investor_id)
        name = found["name"] if found else f"investor {investor_id}"
        archived = bool(found and found["archived"])
        self.named.update(investor_id=investor_id, investor_name=name, investor_archived=archived)
        return self.say(name, "investor", investor_id=investor_id, archived=archived)

    def change(self, label: str, old: str, new: str, subject: Callable[[], Any]) -> None:
        """ "changed <label> of <subject> from <old> to <new>" ("set" when it was blank,
        "cleared" when it is now); ``subject()`` says the subject's parts."""
        self.named.update(field_label=label, old_text=old, new_text=new)
        verb = "set" if not old else "cleared" if not new else "changed"
        self.verb(verb).say(" ").say(label, "field").say(" of ")
        subject()
        if old and new:
            self.say(" from ").say(old, "old").say(" to ").say(new, "new")
        elif new:
            self.say(" to ").say(new, "new")
        elif old:
            self.say(" (was ").say(old, "old").say(")")

    def pieces(self) -> dict[str, Any]:
        sentence = "".join(p["text"] for p in self.parts)
        return {**self.named, "parts": self.parts, "sentence": sentence}


def _value_text(
    value: Any, kind: str, names: _Names, *, options: Mapping[str, Any], currency: str = "USD"
) -> str:
    """A stored value as a person reads it: labels for choices, names for people and funds,
    amounts with their currency, dates spelled out; blank is ""."""
    if value is None or value == "" or value == []:
        return ""
    if kind in CHOICE_LABELS:
        return CHOICE_LABELS[kind].get(str(value), str(value))
    if kind == "multi_select":
        items = json.loads(value) if isinstance(value, str) and value.startswith("[") else value
        items = items if isinstance(items, list) else [items]
        return _cut(", ".join(str(item) for item in items))
    if kind == "user":
        return names.user_by_id.get(value, f"user {value}")
    if kind == "fund":
        found = names.funds.get(value)
        return found["name"] if found else f"fund {value}"
    if kind == "checkbox":
        return "yes" if value else "no"
    if kind in ("currency", "number", "percent") and isinstance(value, int | float):
        return _number_text(float(value), kind, options.get("currency") or currency)
    if kind == "date" and isinstance(value, str):
        return _date_text(value)
    if kind == "datetime" and isinstance(value, str):
        return _datetime_text(value)
    if isinstance(value, dict | list):
        return _cut(json.dumps(value, ensure_ascii=False))
    return _cut(" ".join(str(value).split()))


def _number_text(number: float, kind: str, currency: str) -> str:
    if kind == "percent":
        return f"{number * 100:,.1f}".removesuffix(".0") + "%"
    whole = round(number, 2).is_integer()
    digits = f"{abs(number):,.0f}" if whole else f"{abs(number):,.2f}"
    if kind == "number" and not whole:
        digits = f"{abs(number):,.6f}".rstrip("0").rstrip(".")
    sign = "-" if number < 0 else ""
    if kind != "currency":
        return sign + digits
    code = (currency or "USD").upper()
    symbol = _CURRENCY_SYMBOLS.get(code)
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{digits} {code}"


def _date_text(value: str) -> str:
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return _cut(value)
    return f"{day:%b} {day.day}, {day.year}"


def _datetime_text(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return _cut(value)
    return f"{_date_text(value[:10])} {moment:%H:%M} UTC"


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _investor_field(names: _Names, key: str) -> tuple[str, str, Mapping[str, Any]]:
    """(label, kind, options) of an investor column, from the grid's fields (current label)."""
    spec = names.fields_by_key.get(key)
    if spec is None:
        return key.replace("_", " ").capitalize(), "text", {}
    kind = "list" if key == "list_membership" else spec["type"]
    try:
        options = json.loads(spec["options"] or "{}")
    except ValueError:
        options = {}
    return spec["label"], kind, options


def _describe_change(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    entity = row["entity"]
    if row.get("last_entity_id") is not None:
        _describe_range(s, row)
        return
    _ENTITY_SENTENCES.get(entity, _describe_other)(s, row, names)


def _describe_range(s: _Sentence, row: dict[str, Any]) -> None:
    """A bulk write's range: "created 100,000 investors (ids 1 to 100,000)"."""
    first, last = int(row["entity_id"]), int(row["last_entity_id"])
    one, many = _NOUNS.get(row["entity"], ("record", "records"))
    count = last - first + 1
    s.verb("created").say(f" {count:,} {one if count == 1 else many}", "count")
    s.say(f" (id {first:,})" if count == 1 else f" (ids {first:,} to {last:,})")
    s.target(one, f"{count:,} {one if count == 1 else many}")


def _created_image(row: dict[str, Any]) -> dict[str, Any]:
    """The row image a single create, archive or restore recorded ({} if none)."""
    _, image = _update_values(row)
    return image if isinstance(image, dict) else {}


def _describe_investor(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    investor_id, action = int(row["entity_id"]), row["action"]
    if action == "update":
        label, kind, options = _investor_field(names, row["field"] or "")
        old, new = (_value_text(v, kind, names, options=options) for v in _update_values(row))
        s.change(label, old, new, lambda: s.investor(names, investor_id))
    else:
        s.verb(
            {"create": "added", "archive": "archived", "restore": "restored"}.get(action, action)
        )
        s.say(" ").investor(names, investor_id)
        listed = _created_image(row).get("list_membership") if action == "create" else None
        if listed in LIST_LABELS:
            s.say(" to ").say(LIST_LABELS[listed], "list")
    s.target("investor", s.named["investor_name"])


def _describe_person(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    person = names.people.get(int(row["entity_id"]))
    name = person["full_name"] if person else f"person {row['entity_id']}"
    investor_id = person["investor_id"] if person else None
    action = row["action"]
    if action == "update":
        key = row["field"] or ""
        kind = PERSON_FIELDS.get(key, "text")
        label = _PERSON_LABELS.get(key, key)
        old, new = (_value_text(v, kind, names, options={}) for v in _update_values(row))
        s.change(
            label, old, new, lambda: s.say(name, "person").say(" at ").investor(names, investor_id)
        )
    elif action == "create":
        s.verb("added").say(" ").say(name, "person").say(" to ").investor(names, investor_id)
    elif action == "archive":
        s.verb("removed").say(" ").say(name, "person").say(" from ").investor(names, investor_id)
    else:
        s.verb("restored").say(" ").say(name, "person").say(" at ").investor(names, investor_id)
    s.target("person", name)


def _describe_commitment(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    commitment = names.commitments.get(int(row["entity_id"]))
    investor_id = commitment["investor_id"] if commitment else None
    fund = names.funds.get(commitment["fund_id"]) if commitment else None
    fund_name = fund["name"] if fund else "a fund"
    currency = fund["currency"] if fund else "USD"
    action = row["action"]

    def whose() -> None:  # "Acme Capital's commitment to Fund III"
        s.investor(names, investor_id).say("'s commitment to ").say(fund_name, "fund")

    if action == "update":
        key = row["field"] or ""
        label, kind = _COMMITMENT_FIELDS.get(key, (key, "text"))
        old, new = (
            _value_text(v, kind, names, options={}, currency=currency) for v in _update_values(row)
        )
        s.change(label, old, new, whose)
    elif action == "create":
        image = _created_image(row)
        amount = image.get("amount", commitment["amount"] if commitment else None)
        shown = _value_text(amount, "currency", names, options={}, currency=currency)
        s.verb("recorded").say(" a commitment")
        if shown:
            s.say(" of ").say(shown, "new")
        s.say(" from ")
        s.investor(names, investor_id).say(" to ").say(fund_name, "fund")
        s.named["new_text"] = shown
    else:
        s.verb("removed" if action == "archive" else "restored").say(" ")
        whose()
    whose_name = s.named["investor_name"] or "an investor"
    s.target("commitment", f"{whose_name}'s commitment to {fund_name}")


def _describe_fund(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    fund = names.funds.get(int(row["entity_id"]))
    name = fund["name"] if fund else f"fund {row['entity_id']}"
    action = row["action"]
    if action == "update":
        key = row["field"] or ""
        kind = "fund_status" if key == "status" else FUND_FIELDS.get(key, "text")
        currency = fund["currency"] if fund else "USD"
        old, new = (
            _value_text(v, kind, names, options={}, currency=currency) for v in _update_values(row)
        )
        s.change(_FUND_LABELS.get(key, key), old, new, lambda: s.say(name, "fund"))
    else:
        verb = {"create": "added", "archive": "archived", "restore": "restored"}.get(action, action)
        s.verb(verb).say(" the fund ").say(name, "fund")
    s.target("fund", name)


def _describe_field(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    spec = names.fields_by_id.get(int(row["entity_id"]))
    label = spec["label"] if spec else f"field {row['entity_id']}"
    action, key = row["action"], row["field"] or ""
    if action == "update" and key == "label":
        old, new = (_value_text(v, "text", names, options={}) for v in _update_values(row))
        s.named.update(field_label="Name", old_text=old, new_text=new)
        s.verb("renamed").say(" the field ").say(old, "old").say(" to ").say(new, "new")
    elif action == "update" and key == "type":
        old, new = (_FIELD_TYPE_LABELS.get(v, str(v)) for v in _update_values(row))
        s.named.update(field_label="Type", old_text=old, new_text=new)
        s.verb("changed").say(" the type of the field ").say(label, "field")
        s.say(" from ").say(old, "old").say(" to ").say(new, "new")
    elif action == "update":
        what = {"options": "the choices", "formula": "the formula", "position": "the place"}
        s.verb("changed").say(f" {what.get(key, key.replace('_', ' '))} of the field ")
        s.say(label, "field")
        s.named["field_label"] = key
    else:
        verb = {"create": "added", "archive": "deleted", "restore": "restored"}.get(action, action)
        s.verb(verb).say(" the field ").say(label, "field")
    s.target("field", label)


def _describe_view(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    view = names.views.get(int(row["entity_id"]))
    name = view["name"] if view else f"view {row['entity_id']}"
    action, key = row["action"], row["field"] or ""
    if action == "update" and key == "name":
        old, new = (_value_text(v, "text", names, options={}) for v in _update_values(row))
        s.named.update(field_label="Name", old_text=old, new_text=new)
        s.verb("renamed").say(" the view ").say(old, "old").say(" to ").say(new, "new")
    elif action == "update":
        s.verb("changed").say(f" the {key.replace('_', ' ')} of the view ").say(name, "view")
        s.named["field_label"] = key
    else:
        verb = {"create": "created", "archive": "deleted", "restore": "restored"}.get(
            action, action
        )
        s.verb(verb).say(" the view ").say(name, "view")
    s.target("view", name)


def _describe_other(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    s.verb(f"{row['action']}d").say(f" {row['entity']} {row['entity_id']}")


_ENTITY_SENTENCES = {
    _INVESTORS: _describe_investor,
    _PEOPLE: _describe_person,
    _COMMITMENTS: _describe_commitment,
    _FUNDS: _describe_fund,
    _FIELDS: _describe_field,
    _VIEWS: _describe_view,
}


def _describe_import(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    detail = row["detail"] or {}
    counts = detail.get("counts") or {}
    file_name = str(detail.get("file") or "a file")
    told = [f"{counts.get('created', 0):,} created", f"{counts.get('updated', 0):,} updated"]
    told += [f"{counts[k]:,} {k}" for k in ("restored", "archived", "skipped") if counts.get(k)]
    s.verb("imported").say(" ").say(file_name, "file").say(": " + ", ".join(told))
    s.target("import", file_name)


_BACKUP_VERBS = {
    "nightly": "took the nightly backup",
    "manual": "took a backup",
    "pre-restore": "saved a backup before a restore",
    "pre-migration": "saved a backup before an upgrade",
}


def _describe_backup(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    detail = row["detail"] or {}
    verify = {"ok": "verified", "failed": "verification failed"}.get(
        detail.get("verify") or "", "not verified yet"
    )
    s.verb(_BACKUP_VERBS.get(row["action"], f"took a {row['action']} backup"))
    s.say(f" (backup {row['entity_id']}, {_size_text(detail.get('size'))}, ")
    s.say(verify, "failed" if verify == "verification failed" else "text").say(")")
    s.target("backup", f"backup {row['entity_id']}")


def _size_text(size: Any) -> str:
    if not isinstance(size, int | float):
        return "size unknown"
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"  # pragma: no cover - the loop returns


def _describe_restore(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    detail = row["detail"] or {}
    s.verb("restored").say(f" backup {detail.get('backup_id', row['entity_id'])}")
    if detail.get("pre_restore") is not None:
        s.say(f"; the data before it is backup {detail['pre_restore']}")
    s.target("backup", f"backup {detail.get('backup_id', row['entity_id'])}")


def _describe_job(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    detail = row["detail"] or {}
    job = str(row["field"] or "job").replace("_", " ")
    s.verb("ran").say(" the ").say(job, "job").say(" job: ")
    if row["action"] == "failed":
        error = " ".join(str(detail.get("error") or "").split())
        s.say("failed" + (f" ({_cut(error)})" if error else ""), "failed")
    else:
        s.say({"ok": "succeeded", "running": "still running"}.get(row["action"], row["action"]))
    if (detail.get("attempt") or 1) > 1:
        s.say(f" (attempt {detail['attempt']})")
    s.target("job", job)


def _describe_email(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    """ "Alice emailed Jane Doe of Acme Capital: Fund III data room" / "Alice received an
    email from Jane Doe of Acme Capital: Re: ..." (the subject as its mailbox shares it)."""
    detail = row["detail"] or {}
    person = names.email_people.get(detail.get("person_id"))
    counterpart = (
        person["full_name"]
        if person
        else (
            detail.get("from") if row["action"] == "inbound" else ", ".join(detail.get("to") or [])
        )
    )
    if row["action"] == "inbound":
        s.verb("received").say(" an email from ").say(counterpart, "person").say(" of ")
    else:
        s.verb("emailed").say(" ").say(counterpart, "person").say(" of ")
    s.investor(names, detail.get("investor_id"))
    subject = detail.get("subject") or ""
    if subject:
        s.say(": ").say(subject, "subject", thread_id=detail.get("thread_id"))
    s.target("email", subject)


def _describe_ask(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    """ "Alice asked “Which investors …?” (12 rows)" / "… (refused: views_only)"."""
    detail = row["detail"] or {}
    asked = " ".join(str(detail.get("question") or "").split())
    question = _cut(asked)
    s.verb("asked").say(" ").say(f"“{question}”", "question", question=asked)
    if row["action"] == "answered":
        count = detail.get("rows") or 0
        s.say(f" ({count:,} row{'s' if count != 1 else ''})")
    elif row["action"] == "refused":
        s.say(f" (refused: {detail.get('rule') or 'not allowed'})", "failed")
    elif row["action"] == "failed":
        s.say(" (failed)", "failed")
    else:
        s.say(" (a dry run: nothing sent)")
    s.target("question", question)


def _describe_automation(s: _Sentence, row: dict[str, Any], names: _Names) -> None:
    """ "The automation “Graveyard after …” changed 12 investors (schedule)"."""
    detail = row["detail"] or {}
    rule = str(detail.get("rule") or "")
    changed = detail.get("changed") or 0
    if row["action"] == "refused":
        s.verb("stopped").say(" over its cap, changing nothing", "failed")
    elif row["action"] == "failed":
        s.verb("failed").say("", "failed")
    else:
        s.verb("changed").say(f" {changed:,} investor{'s' if changed != 1 else ''}")
    event = " ".join(str(detail.get("event") or "").split())
    if event:
        s.say(f" ({_cut(event)})")
    s.target("rule", rule)


_DESCRIBE = {
    "automation": _describe_automation,
    "change": _describe_change,
    "import": _describe_import,
    "backup": _describe_backup,
    "restore": _describe_restore,
    "job": _describe_job,
    "email": _describe_email,
    "ask": _describe_ask,
}


_NAMES = {
    "fundraising_investors": "investor",
    "fundraising_contacts": "person",
    "fundraising_commitments": "commitment",
    "fundraising_funds": "fund",
    "grid_fields": "field",
    "fundraising_views": "view",
}


def _summary(row: dict[str, Any]) -> str:
    """The event in ids, as scripts have read it since the feed began (kept as it was:
    ``sentence`` is the one people read)."""
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
    if kind == "email":
        return (
            f"{row['action']} email {row['entity_id']} (investor {detail.get('investor_id')},"
            f" thread {detail.get('thread_id')})"
        )
    if kind == "ask":
        return f"asked question {row['entity_id']} ({row['field']}): {row['action']}"
    if kind == "automation":
        return (
            f"automation rule {detail.get('rule_id')} run {row['entity_id']}: {row['action']},"
            f" {detail.get('changed', 0)} changed"
        )
    return f"job {row['field']} {row['action']}" + (
        f": {detail['error']}" if detail.get("error") else ""
    )


def _short(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
