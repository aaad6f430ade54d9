"""The whole grid as one document, and applying an edited copy of it back.

``grid_snapshot`` is what ``GET /api/fundraising/state`` and the JSON export return: fields, funds,
views and every live investor with its people and commitments, plus the grid's global version.
``apply_snapshot`` takes such a document, edited by a script, and applies the *differences*
through the ordinary services in one transaction, if the grid is still at the version the script
read; otherwise nothing is written and :class:`ConflictError` says who changed it and when.

Differences, per collection present in the document (a collection left out is left alone):
an item with an ``id`` that changed is updated; an item without ``id`` is created; a live record
whose ``id`` is missing from the list is archived (restorable, as everywhere). Fields and views
are read-only here: a document that changes them is refused, naming what differs, because they
are managed by the grid (adding a field runs a schema change and formula checks).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from crm_lib.context import Context
from crm_lib.errors import ConflictError, ValidationError
from crm_lib.grid.fields import load_fields
from crm_lib.services import commitments as commitment_service
from crm_lib.services import funds as fund_service
from crm_lib.services import investors as investor_service
from crm_lib.services import people as people_service
from crm_lib.services.investors import INVESTORS, decode_investors
from crm_lib.services.state import grid_state
from crm_lib.services.views import list_views
from crm_lib.storage.reads import LIVE, query_dicts
from crm_lib.storage.writes import BOOKKEEPING, write

#: Columns a script may not set: bookkeeping, links, and values the library derives.
READ_ONLY = frozenset(BOOKKEEPING) | {
    "total_invested",
    "investor_id",
    "contact_id",
    "fund_name",
    "owner_name",
    "people",
    "commitments",
}
PERSON_FIELDS = ("full_name", "email", "title", "phone", "is_primary", "notes")
COMMITMENT_FIELDS = ("fund_id", "amount", "status", "committed_on")
FUND_FIELDS = (
    "name",
    "vintage_year",
    "target_size",
    "currency",
    "status",
    "first_close_on",
    "final_close_on",
    "notes",
)


def _fields(ctx: Context) -> list[dict[str, Any]]:
    return [
        {
            "key": f.key,
            "label": f.label,
            "type": f.type,
            "options": dict(f.options),
            "formula": f.formula,
            "position": f.position,
            "is_builtin": f.is_builtin,
            "is_editable": f.is_editable,
        }
        for f in load_fields(ctx.db).values()
    ]


def grid_snapshot(ctx: Context) -> dict[str, Any]:
    """The whole live grid with its version (three queries, grouped in Python)."""
    fields = load_fields(ctx.db)
    people: dict[int, list[dict[str, Any]]] = {}
    for person in query_dicts(
        ctx.db,
        "SELECT p.* FROM fundraising_contacts p WHERE p.deleted_at IS NULL"
        " ORDER BY p.investor_id, p.is_primary DESC, lower(p.full_name), p.id",
    ):
        person["is_primary"] = bool(person["is_primary"])
        people.setdefault(person["investor_id"], []).append(person)
    commitments: dict[int, list[dict[str, Any]]] = {}
    for commitment in query_dicts(
        ctx.db,
        "SELECT c.*, f.name AS fund_name FROM fundraising_commitments c"
        " JOIN fundraising_funds f ON f.id = c.fund_id"
        " WHERE c.deleted_at IS NULL ORDER BY c.investor_id, f.vintage_year, f.id",
    ):
        commitments.setdefault(commitment["investor_id"], []).append(commitment)
    investors = decode_investors(
        fields, query_dicts(ctx.db, f"SELECT * FROM {INVESTORS} WHERE {LIVE} ORDER BY id")
    )
    for investor in investors:
        investor["people"] = people.get(investor["id"], [])
        investor["commitments"] = commitments.get(investor["id"], [])
    return {
        **grid_state(ctx),
        "fields": _fields(ctx),
        "funds": fund_service.list_funds(ctx),
        "views": list_views(ctx),
        "owners": query_dicts(
            ctx.db,
            "SELECT id, email, name FROM users WHERE id IN"
            f" (SELECT DISTINCT owner_id FROM {INVESTORS} WHERE {LIVE}) ORDER BY lower(email)",
        ),
        "investors": investors,
    }


def _editable(item: Mapping[str, Any], allowed: Sequence[str] | None = None) -> dict[str, Any]:
    return {
        k: v for k, v in item.items() if k not in READ_ONLY and (allowed is None or k in allowed)
    }


def _changed(current: Mapping[str, Any], wanted: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in wanted.items() if current.get(k) != v}


def _index(items: Sequence[Mapping[str, Any]], what: str) -> dict[int, Mapping[str, Any]]:
    indexed: dict[int, Mapping[str, Any]] = {}
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ValidationError(f"{what}[{position}] must be an object", field=what)
        item_id = item.get("id")
        if item_id is not None:
            if not isinstance(item_id, int) or isinstance(item_id, bool):
                raise ValidationError(f"{what}[{position}].id must be a whole number", field=what)
            if item_id in indexed:
                raise ValidationError(f"{what} lists id {item_id} twice", field=what)
            indexed[item_id] = item
    return indexed


def apply_snapshot(
    ctx: Context, document: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Apply the differences between ``document`` and the live grid; returns what changed.

    One transaction: any invalid item, unknown id or conflict writes nothing.
    """
    with write(ctx):
        state = grid_state(ctx)
        if state["version"] != expected_version:
            raise ConflictError(
                "Grid",
                1,
                expected_version=expected_version,
                current_version=state["version"],
                updated_at=state["updated_at"],
                updated_by=state["updated_by"],
            )
        current = grid_snapshot(ctx)
        for name in ("fields", "views"):
            if name in document and document[name] != current[name]:
                raise ValidationError(
                    f"{name} cannot be changed through the state document; "
                    f"leave '{name}' out or unchanged",
                    field=name,
                )
        counter: Counter[str] = Counter()
        if "funds" in document:
            _apply_funds(ctx, current["funds"], document["funds"], counter)
        if "investors" in document:
            _apply_investors(ctx, current["investors"], document["investors"], counter)
    return {"changes": dict(counter), "state": grid_state(ctx)}


def _list(document_value: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(document_value, list):
        raise ValidationError(f"{what} must be a list", field=what)
    return document_value


def _apply_funds(
    ctx: Context, current: list[dict[str, Any]], wanted: Any, counter: Counter[str]
) -> None:
    items = _list(wanted, "funds")
    by_id = {f["id"]: f for f in current}
    given = _index(items, "funds")
    for fund_id in given.keys() - by_id.keys():
        raise ValidationError(f"funds: no live fund with id {fund_id}", field="funds")
    for item in items:
        values = _editable(item, FUND_FIELDS)
        if item.get("id") is None:
            fund_service.create_fund(ctx, values)
            counter["funds_created"] += 1
        elif changes := _changed(by_id[item["id"]], values):
            fund = by_id[item["id"]]
            fund_service.update_fund(ctx, fund["id"], changes, expected_version=fund["version"])
            counter["funds_updated"] += 1
    for fund_id in by_id.keys() - given.keys():
        fund_service.archive_fund(ctx, fund_id, expected_version=by_id[fund_id]["version"])
        counter["funds_archived"] += 1


def _apply_investors(
    ctx: Context, current: list[dict[str, Any]], wanted: Any, counter: Counter[str]
) -> None:
    items = _list(wanted, "investors")
    by_id = {i["id"]: i for i in current}
    given = _index(items, "investors")
    for investor_id in given.keys() - by_id.keys():
        raise ValidationError(
            f"investors: no live investor with id {investor_id}", field="investors"
        )
    for item in items:
        values = _editable(item)
        if item.get("id") is None:
            investor = investor_service.create_investor(ctx, values)
            counter["investors_created"] += 1
            existing: dict[str, Any] = {"id": investor["id"], "people": [], "commitments": []}
        else:
            existing = by_id[item["id"]]
            if changes := _changed(existing, values):
                investor_service.update_investor(
                    ctx, existing["id"], changes, expected_version=existing["version"]
                )
                counter["investors_updated"] += 1
        if "people" in item:
            _apply_people(ctx, existing, item["people"], counter)
        if "commitments" in item:
            _apply_commitments(ctx, existing, item["commitments"], counter)
    for investor_id in by_id.keys() - given.keys():
        investor_service.archive_investor(
            ctx, investor_id, expected_version=by_id[investor_id]["version"]
        )
        counter["investors_archived"] += 1


def _apply_people(
    ctx: Context, investor: dict[str, Any], wanted: Any, counter: Counter[str]
) -> None:
    items = _list(wanted, f"investors[{investor['id']}].people")
    by_id = {p["id"]: p for p in investor["people"]}
    given = _index(items, "people")
    for person_id in given.keys() - by_id.keys():
        raise ValidationError(
            f"people: investor {investor['id']} has no live person with id {person_id}",
            field="people",
        )
    for item in items:
        values = _editable(item, PERSON_FIELDS)
        if item.get("id") is None:
            people_service.add_person(ctx, investor["id"], values)
            counter["people_created"] += 1
        elif changes := _changed(by_id[item["id"]], values):
            person = by_id[item["id"]]
            people_service.update_person(
                ctx, person["id"], changes, expected_version=person["version"]
            )
            counter["people_updated"] += 1
    for person_id in by_id.keys() - given.keys():
        people_service.remove_person(ctx, person_id, expected_version=by_id[person_id]["version"])
        counter["people_archived"] += 1


def _apply_commitments(
    ctx: Context, investor: dict[str, Any], wanted: Any, counter: Counter[str]
) -> None:
    items = _list(wanted, f"investors[{investor['id']}].commitments")
    by_id = {c["id"]: c for c in investor["commitments"]}
    given = _index(items, "commitments")
    for commitment_id in given.keys() - by_id.keys():
        raise ValidationError(
            f"commitments: investor {investor['id']} has no live commitment with id {commitment_id}",
            field="commitments",
        )
    for commitment_id in by_id.keys() - given.keys():
        commitment_service.remove_commitment(
            ctx, commitment_id, expected_version=by_id[commitment_id]["version"]
        )
        counter["commitments_archived"] += 1
    for item in items:
        values = _editable(item, COMMITMENT_FIELDS)
        existing = by_id.get(item["id"]) if item.get("id") is not None else None
        if existing is not None:
            if not _changed(existing, values):
                continue
            if values.get("fund_id", existing["fund_id"]) != existing["fund_id"]:
                raise ValidationError(
                    f"commitments: commitment {existing['id']} cannot move to another fund;"
                    " remove it and add a new one",
                    field="commitments",
                )
        merged = {**(existing or {}), **values}
        if "fund_id" not in merged or "amount" not in merged:
            raise ValidationError(
                "commitments: a new commitment needs fund_id and amount", field="commitments"
            )
        commitment_service.set_commitment(
            ctx,
            investor["id"],
            merged["fund_id"],
            merged["amount"],
            status=merged.get("status", "committed"),
            committed_on=merged.get("committed_on"),
            expected_version=existing["version"] if existing else None,
        )
        counter["commitments_updated" if existing else "commitments_created"] += 1


def load_snapshot(ctx: Context, document: Mapping[str, Any]) -> dict[str, int]:
    """Load a JSON export (:func:`grid_snapshot`) into an *empty* database: its user-defined
    fields (with formulas), funds, saved views, and every investor with its people and
    commitments, in one transaction. Owners are matched to this database's team by email.

    Ids are new (the export's archived rows left gaps); everything else comes back as exported,
    so exporting again gives the same document up to ids, versions and timestamps.
    """
    from crm_lib.services import fields as field_service
    from crm_lib.services import views as view_service
    from crm_lib.services.bulk import bulk_create_investors

    counts: Counter[str] = Counter()
    with write(ctx):
        if query_dicts(ctx.db, f"SELECT id FROM {INVESTORS} LIMIT 1") or fund_service.list_funds(
            ctx
        ):
            raise ValidationError(
                "load_snapshot fills an empty database; this one has investors or funds"
                " (use apply_snapshot to change a live grid)"
            )
        present = load_fields(ctx.db)
        wanted = sorted(_list(document.get("fields", []), "fields"), key=lambda f: f["position"])
        for spec in wanted:  # formulas after the fields they read: positions keep that order
            if spec["is_builtin"] or spec["key"] in present:
                continue
            made = field_service.add_field(
                ctx,
                spec["label"],
                spec["type"],
                {k: v for k, v in spec["options"].items() if k != "result_type"},
                formula=spec.get("formula"),
            )
            if made.key != spec["key"]:
                raise ValidationError(f"Field {spec['label']!r} came back as {made.key!r}")
            counts["fields"] += 1
        fund_ids: dict[int, int] = {}
        for fund in _list(document.get("funds", []), "funds"):
            made_fund = fund_service.create_fund(ctx, _editable(fund, FUND_FIELDS))
            fund_ids[fund["id"]] = made_fund["id"]
            counts["funds"] += 1
        team = {
            row["email"].strip().casefold(): row["id"]
            for row in query_dicts(ctx.db, f"SELECT id, email FROM users WHERE {LIVE}")
        }
        exported_owners = {o["id"]: o for o in document.get("owners", [])}
        fields = load_fields(ctx.db)
        editable = {k for k, f in fields.items() if f.is_editable}
        records = []
        for investor in _list(document.get("investors", []), "investors"):
            values = {k: v for k, v in investor.items() if k in editable}
            if investor.get("owner_id") is not None:
                owner = exported_owners.get(investor["owner_id"], {})
                email = (owner.get("email") or "").strip().casefold()
                if email not in team:
                    raise ValidationError(
                        f"Investor {investor.get('name')!r}: its owner"
                        f" {owner.get('email') or investor['owner_id']!r} is not a member of this"
                        " team; invite them first",
                        field="owner_id",
                    )
                values["owner_id"] = team[email]
            values["people"] = [
                {k: p[k] for k in PERSON_FIELDS if p.get(k) is not None}
                for p in investor.get("people", [])
            ]
            values["commitments"] = [
                {
                    "fund_id": fund_ids[c["fund_id"]],
                    "amount": c["amount"],
                    "status": c["status"],
                    "committed_on": c.get("committed_on"),
                }
                for c in investor.get("commitments", [])
            ]
            records.append(values)
        result = bulk_create_investors(ctx, records)
        counts.update(
            investors=result.investors, people=result.people, commitments=result.commitments
        )
        for view in _list(document.get("views", []), "views"):
            settings = {k: view[k] for k in view_service.EDITABLE if k in view}
            settings["shared"] = view.get("owner_id") is None or ctx.user_id is None
            view_service.create_view(ctx, settings)
            counts["views"] += 1
    return dict(counts)
