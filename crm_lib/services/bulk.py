"""The bulk path: many investors, with their people and commitments, in one transaction.

Used by imports and demo data. It keeps the guarantees of the single-row path — every value goes
through the same field-type validation, every created row is audited, the rollup is right from
the start, ``fundraising_state`` is bumped, and one bad row means nothing is written — but it
writes with ``executemany`` in batches, pre-assigning contiguous ids (we hold the write lock) so
the person ↔ directory links are written once, and audits each table's created rows as one range
(``WriteTransaction.audit_created_range``) instead of copying every row into the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.fields import load_fields, parse_values
from crm_lib.grid.records import recompute_formula_columns
from crm_lib.mail.addresses import canonical
from crm_lib.mail.relink import relink
from crm_lib.services.commitments import COMMITMENTS, parse_commitment
from crm_lib.services.people import CONTACTS, MIRRORED, PEOPLE, parse_person
from crm_lib.storage.connect import refresh_statistics
from crm_lib.storage.reads import LIVE
from crm_lib.storage.writes import WriteTransaction, insert_many, write

INVESTORS = "fundraising_investors"
PERSON_COLUMNS = (
    "id",
    "investor_id",
    "contact_id",
    "full_name",
    "email",
    "title",
    "phone",
    "is_primary",
    "notes",
)
CONTACT_COLUMNS = ("id", "full_name", "email", "title", "phone", "fundraising_contact_id")
COMMITMENT_COLUMNS = ("id", "investor_id", "fund_id", "amount", "status", "committed_on")


@dataclass(frozen=True)
class BulkResult:
    """What a bulk write created (ids are contiguous ranges)."""

    investors: int
    people: int
    commitments: int
    first_investor_id: int | None
    last_investor_id: int | None


def _batches(records: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def stored_columns(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The investor columns a bulk insert writes: every field but the derived built-in ones
    (the commitment total, the email signals), which keep their defaults until computed."""
    return tuple(k for k, spec in fields.items() if spec.is_editable or not spec.is_builtin)


class _Plan:
    """Validated rows of one batch, ready for executemany, plus the id counters."""

    def __init__(self, ctx: Context, tx: WriteTransaction) -> None:
        self.fields = load_fields(ctx.db)
        self.investor_columns = stored_columns(self.fields)
        self.users = {r[0] for r in ctx.db.execute(f"SELECT id FROM users WHERE {LIVE}").fetchall()}
        self.funds = {
            r[0]
            for r in ctx.db.execute(f"SELECT id FROM fundraising_funds WHERE {LIVE}").fetchall()
        }
        self.stamp = (1, tx.now, tx.actor, tx.now, tx.actor)
        self.next = {t: tx.next_id(t) for t in (INVESTORS, PEOPLE, CONTACTS, COMMITMENTS)}
        self.first = dict(self.next)

    def take(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value

    def rows_for(
        self, records: list[Mapping[str, Any]], first_row: int, *, parsed: bool = False
    ) -> dict[str, list[tuple]]:
        out: dict[str, list[tuple]] = {INVESTORS: [], PEOPLE: [], CONTACTS: [], COMMITMENTS: []}
        stamp = self.stamp
        for row_number, record in enumerate(records, start=first_row):
            values = dict(record)
            people = values.pop("people", None) or []
            commitments = values.pop("commitments", None) or []
            row_number = values.pop("row", row_number)
            stored = values if parsed else parse_values(self.fields, values, row=row_number)
            if not stored.get("name"):
                raise ValidationError(
                    f"Row {row_number}: Name cannot be empty", field="name", row=row_number
                )
            if stored.get("list_membership") is None:
                stored["list_membership"] = "main"
            owner = stored.get("owner_id")
            if owner is not None and owner not in self.users:
                raise ValidationError(
                    f"Row {row_number}, Owner: no active user with id {owner}",
                    field="owner_id",
                    row=row_number,
                )
            investor_id = self.take(INVESTORS)
            total = 0.0
            seen_funds: set[int] = set()
            for commitment in commitments:
                fund_id = commitment.get("fund_id")
                if fund_id not in self.funds:
                    raise ValidationError(
                        f"Row {row_number}: no fund with id {fund_id}",
                        field="fund_id",
                        row=row_number,
                    )
                if fund_id in seen_funds:
                    raise ValidationError(
                        f"Row {row_number}: two commitments to fund {fund_id}",
                        field="fund_id",
                        row=row_number,
                    )
                seen_funds.add(fund_id)
                commitment_values = (
                    commitment
                    if parsed
                    else parse_commitment(
                        commitment.get("amount"),
                        commitment.get("status", "committed"),
                        commitment.get("committed_on"),
                        row=row_number,
                    )
                )
                total += commitment_values["amount"]
                out[COMMITMENTS].append(
                    (
                        self.take(COMMITMENTS),
                        investor_id,
                        fund_id,
                        commitment_values["amount"],
                        commitment_values.get("status", "committed"),
                        commitment_values.get("committed_on"),
                        *stamp,
                    )
                )
            primaries = 0
            for person in people:
                p = person if parsed else parse_person(person, creating=True, row=row_number)
                primaries += bool(p.get("is_primary"))
                person_id, contact_id = self.take(PEOPLE), self.take(CONTACTS)
                out[PEOPLE].append(
                    (
                        person_id,
                        investor_id,
                        contact_id,
                        p["full_name"],
                        p.get("email"),
                        p.get("title"),
                        p.get("phone"),
                        p.get("is_primary", 0),
                        p.get("notes"),
                        *stamp,
                    )
                )
                out[CONTACTS].append(
                    (contact_id, *(p.get(col) for col, _ in MIRRORED), person_id, *stamp)
                )
            if primaries > 1:
                raise ValidationError(
                    f"Row {row_number}: {primaries} people are marked primary; mark one",
                    row=row_number,
                )
            out[INVESTORS].append(
                (
                    investor_id,
                    *map(stored.get, self.investor_columns),
                    round(total, 2),
                    *stamp,
                )
            )
        return out


class BulkCreator:
    """Creates investors batch by batch inside the caller's open transaction, then finishes
    them all at once (formulas, the audit of the created ranges, change events, statistics).

    :func:`bulk_create_investors` is the one-call form; an import uses this directly, because it
    creates rows while it also updates others in the same pass over a file.
    """

    def __init__(self, ctx: Context, tx: WriteTransaction) -> None:
        self.ctx, self.tx = ctx, tx
        self.plan = _Plan(ctx, tx)
        self.counted = 0

    def fields_changed(self) -> None:
        """A field was added inside the transaction (an import's companion field for cells that
        did not fit their column): the next batches insert its column too."""
        self.plan.fields = load_fields(self.ctx.db)
        self.plan.investor_columns = stored_columns(self.plan.fields)

    def add(self, records: list[Mapping[str, Any]], *, parsed: bool = False) -> None:
        """Validate (unless ``parsed``: values, people and commitments already validated into
        stored form by the caller, as an import's converters do) and insert one batch. A record may carry ``row`` (its line in a file) for error messages."""
        plan = self.plan
        rows = plan.rows_for(records, self.counted + 1, parsed=parsed)
        self.counted += len(records)
        tx = self.tx
        insert_many(
            tx, INVESTORS, ("id", *plan.investor_columns, "total_invested"), rows[INVESTORS]
        )
        insert_many(tx, CONTACTS, CONTACT_COLUMNS, rows[CONTACTS])
        insert_many(tx, PEOPLE, PERSON_COLUMNS, rows[PEOPLE])
        insert_many(tx, COMMITMENTS, COMMITMENT_COLUMNS, rows[COMMITMENTS])

    def finish(self) -> BulkResult:
        plan, tx = self.plan, self.tx
        created = {t: plan.next[t] - plan.first[t] for t in plan.next}
        if created[INVESTORS]:
            recompute_formula_columns(
                tx,
                plan.fields,
                list(plan.fields),
                first_id=plan.first[INVESTORS],
                last_id=plan.next[INVESTORS] - 1,
            )
        for table, count in created.items():
            if count:
                last = plan.next[table] - 1
                tx.audit_created_range(table, plan.first[table], last)
                tx.record_bulk(table, plan.first[table], last)
        if created[PEOPLE]:  # mail stored before these people were known links to them now
            addresses: dict[str, list[tuple[int, int]]] = {}
            for person_id, investor_id, email in tx.conn.execute(
                f"SELECT id, investor_id, email FROM {PEOPLE} WHERE id BETWEEN ? AND ?"
                " AND email IS NOT NULL",
                [plan.first[PEOPLE], plan.next[PEOPLE] - 1],
            ).fetchall():
                key = canonical(email)
                if key is not None:
                    addresses.setdefault(key, []).append((person_id, investor_id))
            relink(tx, addresses)
        investors = created[INVESTORS]
        return BulkResult(
            investors=investors,
            people=created[PEOPLE],
            commitments=created[COMMITMENTS],
            first_investor_id=plan.first[INVESTORS] if investors else None,
            last_investor_id=plan.next[INVESTORS] - 1 if investors else None,
        )


def bulk_create_investors(
    ctx: Context, records: Iterable[Mapping[str, Any]], *, batch_size: int = 5000
) -> BulkResult:
    """Create investors (each may carry ``people`` and ``commitments`` lists) in one transaction.

    Each record is the same mapping :func:`~crm_lib.services.investors.create_investor` takes,
    plus ``"people": [{"full_name": ..., "email": ...}]`` and
    ``"commitments": [{"fund_id": 1, "amount": 250000, "status": "committed"}]``.
    A validation error names the (1-based) row and field, and nothing is written.
    """
    with write(ctx) as tx:
        creator = BulkCreator(ctx, tx)
        for batch in _batches(records, batch_size):
            creator.add(batch)
        result = creator.finish()
    refresh_statistics(ctx.db.conn)  # the tables may have grown tenfold: plan with fresh stats
    return result
