"""People at an investor (``fundraising_contacts``), each mirrored into the ``contacts`` directory.

The two rows point at each other (``contact_id`` / ``fundraising_contact_id``) and are written in
the same transaction, so the directory always agrees with the investor's people.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.grid.field_types import FieldValueError, field_type
from crm_lib.grid.filters import like_pattern
from crm_lib.limits import check_text
from crm_lib.mail.addresses import canonical
from crm_lib.mail.relink import relink
from crm_lib.services.investors import require_live_investor
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import WriteTransaction, write

PEOPLE = "fundraising_contacts"
CONTACTS = "contacts"

#: Editable person fields and their types (the same type registry as grid fields).
PERSON_FIELDS = {
    "full_name": "text",
    "email": "email",
    "title": "text",
    "phone": "text",
    "is_primary": "checkbox",
    "notes": "long_text",
}
PERSON_PARSERS = {key: field_type(name).parse for key, name in PERSON_FIELDS.items()}
#: Fields copied to the directory row, as (person column, contact column).
MIRRORED = (("full_name", "full_name"), ("email", "email"), ("title", "title"), ("phone", "phone"))


def parse_person(
    values: Mapping[str, Any], *, creating: bool, row: int | None = None
) -> dict[str, Any]:
    """Validate person values; raises :class:`ValidationError` naming the field."""
    where = f"Row {row}, " if row is not None else ""
    stored: dict[str, Any] = {}
    for key, value in values.items():
        if key not in PERSON_FIELDS:
            known = ", ".join(PERSON_FIELDS)
            raise ValidationError(
                f"{where}Unknown person field {key!r}; known: {known}", field=key, row=row
            )
        try:
            stored[key] = PERSON_PARSERS[key](value, {})
        except FieldValueError as exc:
            raise ValidationError(f"{where}{key}: {exc}", field=key, row=row) from None
    if (creating or "full_name" in stored) and not stored.get("full_name"):
        raise ValidationError(f"{where}A person needs a name", field="full_name", row=row)
    if stored.get("full_name"):
        check_text(stored["full_name"], "person_name", field="full_name", label=f"{where}Name")
    return stored


def _clear_other_primary(tx: WriteTransaction, investor_id: int, keep_id: int) -> None:
    others = tx.conn.execute(
        f"SELECT id, version FROM {PEOPLE} WHERE investor_id = ? AND id != ? AND is_primary = 1"
        f" AND {LIVE}",
        (investor_id, keep_id),
    ).fetchall()
    for other_id, version in others:
        tx.update(PEOPLE, other_id, {"is_primary": 0}, expected_version=version)


def add_person(ctx: Context, investor_id: int, values: Mapping[str, Any]) -> dict[str, Any]:
    """Add a person to a live investor (and to the directory)."""
    stored = parse_person(values, creating=True)
    with write(ctx) as tx:
        require_live_investor(ctx, investor_id)
        person_id = tx.next_id(PEOPLE)
        contact_id = tx.insert(
            CONTACTS,
            {
                **{c: stored.get(p) for p, c in MIRRORED},
                "fundraising_contact_id": person_id,
            },
        )
        tx.insert(
            PEOPLE,
            {**stored, "investor_id": investor_id, "contact_id": contact_id},
            row_id=person_id,
        )
        if stored.get("is_primary"):
            _clear_other_primary(tx, investor_id, person_id)
        _link_mail(tx, person_id, investor_id, stored.get("email"))
    return get_person(ctx, person_id)


def update_person(
    ctx: Context, person_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Change a person; the directory row follows."""
    stored = parse_person(changes, creating=False)
    with write(ctx) as tx:
        row = tx.update(PEOPLE, person_id, stored, expected_version=expected_version)
        mirrored = {c: stored[p] for p, c in MIRRORED if p in stored}
        if mirrored and row["contact_id"] is not None:
            tx.update(CONTACTS, row["contact_id"], mirrored, expected_version=None)
        if stored.get("is_primary"):
            _clear_other_primary(tx, row["investor_id"], person_id)
        if stored.get("email"):
            _link_mail(tx, person_id, row["investor_id"], stored["email"])
    return get_person(ctx, person_id)


def _link_mail(tx: WriteTransaction, person_id: int, investor_id: int, email: Any) -> None:
    """Mail stored before the person had this address links to them now (same transaction)."""
    key = canonical(email) if isinstance(email, str) else None
    if key is not None:
        relink(tx, {key: [(person_id, investor_id)]})


def remove_person(ctx: Context, person_id: int, *, expected_version: int) -> dict[str, Any]:
    """Archive a person and their directory row (restorable; nothing is deleted)."""
    with write(ctx) as tx:
        row = tx.archive(PEOPLE, person_id, expected_version=expected_version)
        if row["contact_id"] is not None:
            tx.archive(CONTACTS, row["contact_id"], expected_version=None)
    return row


def restore_person(ctx: Context, person_id: int, *, expected_version: int) -> dict[str, Any]:
    """Bring an archived person (and their directory row) back; the investor must be live."""
    with write(ctx) as tx:
        row = tx.fetch(PEOPLE, person_id)
        require_live_investor(ctx, row["investor_id"])
        row = tx.restore(PEOPLE, person_id, expected_version=expected_version)
        contact = tx.fetch(CONTACTS, row["contact_id"]) if row["contact_id"] else None
        if contact is not None and contact["deleted_at"] is not None:
            tx.restore(CONTACTS, contact["id"], expected_version=None)
    return get_person(ctx, person_id)


def get_person(ctx: Context, person_id: int) -> dict[str, Any]:
    """A live person of a live investor."""
    rows = query_dicts(
        ctx.db,
        f"SELECT p.* FROM {PEOPLE} p JOIN fundraising_investors i ON i.id = p.investor_id"
        " WHERE p.id = ? AND p.deleted_at IS NULL AND i.deleted_at IS NULL",
        [person_id],
    )
    if not rows:
        raise NotFound("person", person_id)
    rows[0]["is_primary"] = bool(rows[0]["is_primary"])
    return rows[0]


def list_people(ctx: Context, investor_id: int) -> list[dict[str, Any]]:
    """The live people of a live investor, primary first, then by name."""
    require_live_investor(ctx, investor_id)
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {PEOPLE} WHERE investor_id = ? AND {LIVE}"
        " ORDER BY is_primary DESC, lower(full_name), id",
        [investor_id],
    )
    for row in rows:
        row["is_primary"] = bool(row["is_primary"])
    return rows


def find_people_by_email(ctx: Context, email: str) -> list[dict[str, Any]]:
    """Live people (of live investors) with this email, ignoring case, via the directory index."""
    return query_dicts(
        ctx.db,
        f"SELECT p.*, i.name AS investor_name FROM {CONTACTS} c"
        f" JOIN {PEOPLE} p ON p.id = c.fundraising_contact_id"
        " JOIN fundraising_investors i ON i.id = p.investor_id"
        " WHERE lower(c.email) = lower(?) AND c.deleted_at IS NULL"
        " AND p.deleted_at IS NULL AND i.deleted_at IS NULL",
        [email.strip()],
    )


def list_contacts(
    ctx: Context,
    *,
    limit: int = 100,
    offset: int = 0,
    search: str | None = None,
    investor_id: int | None = None,
    contact_id: int | None = None,
) -> list[dict[str, Any]]:
    """The directory: live contacts whose person (if any) belongs to a live investor, by name.

    A linked contact's organization is its investor's current name (never a stale copy);
    ``organization`` is stored only for people not yet linked to an investor. ``search`` matches
    name, email, title or organization (case-insensitive); ``investor_id`` keeps that investor's;
    ``contact_id`` keeps that one contact (a link from a record's people opens it).
    """
    where, params = _contact_filter(search, investor_id, contact_id)
    return query_dicts(
        ctx.db,
        "SELECT c.*, COALESCE(i.name, c.organization) AS organization,"
        f" i.id AS investor_id {_CONTACT_FROM} WHERE {where}"
        " ORDER BY lower(c.full_name), c.id LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )


def count_contacts(
    ctx: Context,
    *,
    search: str | None = None,
    investor_id: int | None = None,
    contact_id: int | None = None,
) -> int:
    """How many contacts :func:`list_contacts` would list without a limit."""
    where, params = _contact_filter(search, investor_id, contact_id)
    return int(
        ctx.db.execute(f"SELECT count(*) {_CONTACT_FROM} WHERE {where}", params).fetchone()[0]
    )


_CONTACT_FROM = (
    f"FROM {CONTACTS} c"
    f" LEFT JOIN {PEOPLE} p ON p.id = c.fundraising_contact_id"
    " LEFT JOIN fundraising_investors i ON i.id = p.investor_id"
)


def _contact_filter(
    search: str | None, investor_id: int | None, contact_id: int | None = None
) -> tuple[str, list[Any]]:
    clauses = [
        "c.deleted_at IS NULL AND (c.fundraising_contact_id IS NULL"
        " OR (p.deleted_at IS NULL AND i.deleted_at IS NULL))"
    ]
    params: list[Any] = []
    if search and search.strip():
        check_text(search, "search", field="search", label="Search")
        columns = ("c.full_name", "c.email", "c.title", "COALESCE(i.name, c.organization)")
        clauses.append("(" + " OR ".join(f"{c} LIKE ? ESCAPE '\\'" for c in columns) + ")")
        params.extend([like_pattern(search.strip())] * len(columns))
    if investor_id is not None:
        clauses.append("i.id = ?")
        params.append(investor_id)
    if contact_id is not None:
        clauses.append("c.id = ?")
        params.append(contact_id)
    return " AND ".join(clauses), params
