"""The pipeline: stages (admins configure them) and opportunities, each one investor's prospect
of coming into one fund, with its stage, expected amount, probability, owner, expected close
and next step.

At most one open opportunity per investor and fund; closing one (Committed: won; Lost, with a
reason) keeps it, and flagging the investor for the fund again reopens it rather than starting a
second record of the same relationship. The probability is the stage's unless set on the
opportunity. Every change is one transaction with a version check, audited: the stage history
of an opportunity is its audit log (:func:`stage_history`), and ``stage_entered_at`` says since
when it is where it is ("days in stage"). Nothing is deleted: stages and opportunities are
archived (soft delete), and every read leaves archived rows, investors and funds out.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from crm_lib.auth.permissions import require
from crm_lib.clock import timestamp
from crm_lib.context import Context
from crm_lib.errors import NotFound, ValidationError
from crm_lib.grid.field_types import FieldValueError, field_type
from crm_lib.limits import check_text
from crm_lib.storage.reads import LIVE, name_taken, query_dicts, query_value
from crm_lib.storage.writes import write

STAGES = "pipeline_stages"
OPPORTUNITIES = "opportunities"
STAGE_KINDS = ("open", "won", "lost")
#: Opportunity fields a caller may set, and how each parses (the grid's field types).
OPPORTUNITY_FIELDS = {
    "stage_id": "number",
    "expected_amount": "currency",
    "probability": "percent",
    "owner_id": "number",
    "expected_close": "date",
    "next_step": "text",
    "lost_reason": "text",
}
#: The opportunity as read: names beside ids, the probability in force, days in its stage.
_OPPORTUNITY = (
    "SELECT o.*, i.name AS investor_name, f.name AS fund_name, f.currency,"
    " s.name AS stage_name, s.kind AS stage_kind, s.position AS stage_position,"
    " coalesce(o.probability, s.probability) AS probability_used,"
    " coalesce(nullif(u.name, ''), u.email) AS owner_name,"
    " i.email_last_inbound_at AS last_inbound_at, i.email_last_outbound_at AS last_outbound_at"
    f" FROM {OPPORTUNITIES} o"
    " JOIN fundraising_investors i ON i.id = o.investor_id"
    " JOIN fundraising_funds f ON f.id = o.fund_id"
    f" JOIN {STAGES} s ON s.id = o.stage_id"
    " LEFT JOIN users u ON u.id = o.owner_id"
    " WHERE o.deleted_at IS NULL AND i.deleted_at IS NULL AND f.deleted_at IS NULL"
)


# -- stages -----------------------------------------------------------------------------------
def list_stages(ctx: Context) -> list[dict[str, Any]]:
    """Live stages in board order."""
    require(ctx, "use_grid")
    return query_dicts(ctx.db, f"SELECT * FROM {STAGES} WHERE {LIVE} ORDER BY position, id")


def _parse_stage(values: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    unknown = set(values) - {"name", "probability", "position", "kind"}
    if unknown:
        raise ValidationError(f"Unknown stage settings: {', '.join(sorted(unknown))}")
    stored: dict[str, Any] = {}
    if "name" in values or creating:
        name = " ".join(str(values.get("name") or "").split())
        if not name:
            raise ValidationError("A stage needs a name", field="name")
        stored["name"] = check_text(name, "stage_name", field="name", label="Stage name")
    if "probability" in values or creating:
        stored["probability"] = _probability(values.get("probability", 0))
        if stored["probability"] is None:
            raise ValidationError("A stage needs a probability (0% to 100%)", field="probability")
    if "kind" in values or creating:
        kind = values.get("kind", "open")
        if kind not in STAGE_KINDS:
            raise ValidationError(
                f"A stage is one of {', '.join(STAGE_KINDS)}, not {kind!r}", field="kind"
            )
        stored["kind"] = kind
    if values.get("position") is not None:
        position = values["position"]
        if not isinstance(position, int) or isinstance(position, bool) or position < 1:
            raise ValidationError("Position must be a whole number from 1", field="position")
        stored["position"] = position
    return stored


def _probability(value: Any) -> float | None:
    try:
        parsed = field_type("percent").parse(value, {})
    except FieldValueError as exc:
        raise ValidationError(f"Probability: {exc}", field="probability") from None
    if parsed is not None and not 0 <= parsed <= 1:
        raise ValidationError("Probability must be between 0% and 100%", field="probability")
    return parsed


def _unique_stage_name(ctx: Context, name: str, except_id: int | None = None) -> None:
    if name_taken(ctx.db, STAGES, name, except_id) is not None:
        raise ValidationError(f"A stage named {name!r} already exists", field="name")


def create_stage(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    """Add a stage (at the end unless ``position`` says where: the stages from there on move
    one place down)."""
    require(ctx, "manage_pipeline")
    stored = _parse_stage(values, creating=True)
    with write(ctx) as tx:
        _unique_stage_name(ctx, stored["name"])
        wanted = stored.pop("position", None)
        last = query_value(ctx.db, f"SELECT max(position) FROM {STAGES} WHERE {LIVE}")
        stored["position"] = int(last or 0) + 1
        stage_id = tx.insert(STAGES, stored)
        if wanted is not None:
            _place(ctx, tx, stage_id, wanted)
    return _stage(ctx, stage_id)


def _place(ctx: Context, tx: Any, stage_id: int, position: int) -> None:
    """Put a stage at ``position`` (1 = first; past the end: last) and number the live stages
    1, 2, 3 ... in their order, each renumbered stage audited like any change."""
    order = [
        row["id"]
        for row in query_dicts(
            ctx.db, f"SELECT id FROM {STAGES} WHERE {LIVE} ORDER BY position, id"
        )
        if row["id"] != stage_id
    ]
    order.insert(min(position, len(order) + 1) - 1, stage_id)
    current = {
        row["id"]: row["position"]
        for row in query_dicts(ctx.db, f"SELECT id, position FROM {STAGES} WHERE {LIVE}")
    }
    for number, row_id in enumerate(order, start=1):
        if current.get(row_id) != number:
            tx.update(STAGES, row_id, {"position": number}, expected_version=None)


def update_stage(
    ctx: Context, stage_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Rename a stage, change its default probability, position or kind."""
    require(ctx, "manage_pipeline")
    stored = _parse_stage(changes, creating=False)
    with write(ctx) as tx:
        current = _stage(ctx, stage_id)
        if "name" in stored:
            _unique_stage_name(ctx, stored["name"], except_id=stage_id)
        if stored.get("kind", current["kind"]) != current["kind"]:
            _keep_one_of_kind(ctx, current)
        wanted = stored.pop("position", None)
        tx.update(STAGES, stage_id, stored, expected_version=expected_version)
        if wanted is not None:
            _place(ctx, tx, stage_id, wanted)
    return _stage(ctx, stage_id)


def archive_stage(ctx: Context, stage_id: int, *, expected_version: int) -> dict[str, Any]:
    """Archive a stage no open opportunity is in (move them first); the last won or lost stage
    stays (closing an opportunity needs one)."""
    require(ctx, "manage_pipeline")
    with write(ctx) as tx:
        current = _stage(ctx, stage_id)
        used = query_value(
            ctx.db,
            f"SELECT count(*) FROM {OPPORTUNITIES} WHERE stage_id = ? AND status = 'open'"
            f" AND {LIVE}",
            [stage_id],
        )
        if used:
            raise ValidationError(
                f"{used:,} open opportunities are in {current['name']}; move them first"
            )
        _keep_one_of_kind(ctx, current)
        return tx.archive(STAGES, stage_id, expected_version=expected_version)


def _keep_one_of_kind(ctx: Context, stage: Mapping[str, Any]) -> None:
    others = query_value(
        ctx.db,
        f"SELECT count(*) FROM {STAGES} WHERE kind = ? AND id != ? AND {LIVE}",
        [stage["kind"], stage["id"]],
    )
    if not others:
        raise ValidationError(
            f"{stage['name']} is the only {stage['kind']} stage; the pipeline needs one"
        )


def _stage(ctx: Context, stage_id: Any) -> dict[str, Any]:
    rows = query_dicts(ctx.db, f"SELECT * FROM {STAGES} WHERE id = ? AND {LIVE}", [stage_id])
    if not rows:
        raise NotFound("stage", stage_id)
    return rows[0]


def _first_stage(ctx: Context, kind: str) -> dict[str, Any]:
    rows = query_dicts(
        ctx.db,
        f"SELECT * FROM {STAGES} WHERE kind = ? AND {LIVE} ORDER BY position, id LIMIT 1",
        [kind],
    )
    if not rows:
        raise ValidationError(f"The pipeline has no {kind} stage; an admin adds one")
    return rows[0]


# -- opportunities ----------------------------------------------------------------------------
def _parse_opportunity(ctx: Context, values: Mapping[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for key, value in values.items():
        if key not in OPPORTUNITY_FIELDS:
            raise ValidationError(
                f"Unknown opportunity field {key!r}; known: {', '.join(OPPORTUNITY_FIELDS)}",
                field=key,
            )
        if key == "probability":
            stored[key] = _probability(value)
            continue
        try:
            stored[key] = field_type(OPPORTUNITY_FIELDS[key]).parse(value, {})
        except FieldValueError as exc:
            raise ValidationError(f"{key}: {exc}", field=key) from None
    for key in ("next_step", "lost_reason"):
        if key in stored:
            stored[key] = check_text(stored[key] or "", "text", field=key)
    if (stored.get("expected_amount") or 0) < 0:
        raise ValidationError("The expected amount cannot be negative", field="expected_amount")
    if stored.get("stage_id") is not None:
        _stage(ctx, stored["stage_id"])
    elif "stage_id" in stored:
        raise ValidationError("An opportunity is always in a stage", field="stage_id")
    if stored.get("owner_id") is not None:
        active = query_value(
            ctx.db,
            f"SELECT count(*) FROM users WHERE id = ? AND is_active = 1 AND {LIVE}",
            [stored["owner_id"]],
        )
        if not active:
            raise ValidationError(f"No active team member {stored['owner_id']}", field="owner_id")
    return stored


def _live(ctx: Context, table: str, row_id: Any, what: str) -> None:
    if query_value(ctx.db, f"SELECT count(*) FROM {table} WHERE id = ? AND {LIVE}", [row_id]) != 1:
        raise NotFound(what, row_id)


def _open_one(ctx: Context, investor_id: int, fund_id: int) -> int | None:
    return query_value(
        ctx.db,
        f"SELECT id FROM {OPPORTUNITIES} WHERE investor_id = ? AND fund_id = ?"
        f" AND status = 'open' AND {LIVE}",
        [investor_id, fund_id],
    )


def create_opportunity(
    ctx: Context, investor_id: int, fund_id: int, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A new open opportunity for the investor and fund (the first open stage unless
    ``values`` names one; the owner defaults to the investor's). One open per investor and
    fund: a second is refused, naming the first."""
    require(ctx, "use_grid")
    stored = _parse_opportunity(ctx, values or {})
    with write(ctx) as tx:
        _live(ctx, "fundraising_investors", investor_id, "investor")
        _live(ctx, "fundraising_funds", fund_id, "fund")
        existing = _open_one(ctx, investor_id, fund_id)
        if existing is not None:
            raise ValidationError(
                f"Opportunity {existing} is already open for this investor and fund",
                field="fund_id",
            )
        stage = _stage(ctx, stored["stage_id"]) if "stage_id" in stored else None
        stage = stage or _first_stage(ctx, "open")
        if "owner_id" not in stored:
            stored["owner_id"] = query_value(
                ctx.db, "SELECT owner_id FROM fundraising_investors WHERE id = ?", [investor_id]
            )
        new_id = tx.insert(
            OPPORTUNITIES,
            {
                **stored,
                "investor_id": investor_id,
                "fund_id": fund_id,
                "stage_id": stage["id"],
                **_stage_state(stage, tx.now),
            },
        )
    return get_opportunity(ctx, new_id)


def flag_investor(
    ctx: Context, investor_id: int, fund_id: int, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The grid's flag: the investor's open opportunity for the fund, else its last closed one
    reopened (in the first open stage unless ``values`` says), else a new one."""
    require(ctx, "use_grid")
    open_id = _open_one(ctx, investor_id, fund_id)
    if open_id is not None:
        return get_opportunity(ctx, open_id)
    closed = query_dicts(
        ctx.db,
        f"SELECT id, version FROM {OPPORTUNITIES} WHERE investor_id = ? AND fund_id = ?"
        f" AND {LIVE} ORDER BY closed_at DESC, id DESC LIMIT 1",
        [investor_id, fund_id],
    )
    if not closed:
        return create_opportunity(ctx, investor_id, fund_id, values)
    changes = {"stage_id": _first_stage(ctx, "open")["id"], "lost_reason": "", **(values or {})}
    return update_opportunity(ctx, closed[0]["id"], changes, expected_version=closed[0]["version"])


def update_opportunity(
    ctx: Context, opportunity_id: int, changes: Mapping[str, Any], *, expected_version: int
) -> dict[str, Any]:
    """Change an opportunity (the version read must still be current). A new stage restarts
    its days in stage, and closes it (won, lost) or reopens it, as the stage's kind says."""
    require(ctx, "use_grid")
    stored = _parse_opportunity(ctx, changes)
    with write(ctx) as tx:
        current = get_opportunity(ctx, opportunity_id)
        stage_id = stored.get("stage_id", current["stage_id"])
        if stage_id != current["stage_id"]:
            stage = _stage(ctx, stage_id)
            if stage["kind"] == "open" and current["status"] != "open":
                clash = _open_one(ctx, current["investor_id"], current["fund_id"])
                if clash is not None:
                    raise ValidationError(
                        f"Opportunity {clash} is already open for this investor and fund",
                        field="stage_id",
                    )
            if stage["kind"] == "lost" and not stored.get("lost_reason", current["lost_reason"]):
                raise ValidationError("Say why it was lost", field="lost_reason")
            stored.update(_stage_state(stage, tx.now))
            if stage["kind"] == "open":
                stored.setdefault("lost_reason", "")
        tx.update(OPPORTUNITIES, opportunity_id, stored, expected_version=expected_version)
    shown = get_opportunity(ctx, opportunity_id)
    if shown["status"] == "won" and current["status"] != "won":
        shown["proposed_commitment"] = _proposed_commitment(ctx, shown)
    return shown


def _proposed_commitment(ctx: Context, won: Mapping[str, Any]) -> dict[str, Any] | None:
    """What reaching a won stage proposes for the grid (the caller confirms it, then calls
    ``set_commitment``; nothing is written silently): the commitment at the expected amount,
    when the grid holds none or another amount. None when the grid already agrees."""
    held = query_dicts(
        ctx.db,
        "SELECT id, amount, version FROM fundraising_commitments WHERE investor_id = ?"
        f" AND fund_id = ? AND {LIVE}",
        [won["investor_id"], won["fund_id"]],
    )
    current = held[0] if held else None
    if current is not None and current["amount"] == won["expected_amount"]:
        return None
    return {
        "investor_id": won["investor_id"],
        "fund_id": won["fund_id"],
        "amount": won["expected_amount"],
        "current_amount": current["amount"] if current else None,
        "expected_version": current["version"] if current else None,
    }


def move_opportunity(
    ctx: Context, opportunity_id: int, stage_id: int, *, expected_version: int
) -> dict[str, Any]:
    """Move an opportunity to another stage (the board's drag, or its keyboard move)."""
    return update_opportunity(
        ctx, opportunity_id, {"stage_id": stage_id}, expected_version=expected_version
    )


def close_opportunity(
    ctx: Context, opportunity_id: int, reason: str, *, expected_version: int
) -> dict[str, Any]:
    """Close an opportunity as lost, with the reason (removing the grid's flag does this);
    it is kept, and flagging the investor for the fund again reopens it."""
    require(ctx, "use_grid")
    lost = _first_stage(ctx, "lost")
    return update_opportunity(
        ctx,
        opportunity_id,
        {"stage_id": lost["id"], "lost_reason": reason},
        expected_version=expected_version,
    )


def archive_opportunity(
    ctx: Context, opportunity_id: int, *, expected_version: int
) -> dict[str, Any]:
    """Archive an opportunity made by mistake (soft delete; history keeps it)."""
    require(ctx, "use_grid")
    with write(ctx) as tx:
        return tx.archive(OPPORTUNITIES, opportunity_id, expected_version=expected_version)


def win_on_commitment(
    ctx: Context, investor_id: int, fund_id: int, amount: float | None, status: str
) -> int | None:
    """A commitment entered in the grid (or imported) wins the investor's open opportunity for
    the fund, in the same transaction: it moves to the first won stage, with the committed
    amount as its expected amount. A soft-circled commitment moves nothing. Returns the
    opportunity's id, or None when there was none open."""
    if status not in ("committed", "closed"):
        return None
    open_id = _open_one(ctx, investor_id, fund_id)
    if open_id is None:
        return None
    won = query_dicts(
        ctx.db,
        f"SELECT * FROM {STAGES} WHERE kind = 'won' AND {LIVE} ORDER BY position, id LIMIT 1",
    )
    if not won:
        return None
    version = query_value(ctx.db, f"SELECT version FROM {OPPORTUNITIES} WHERE id = ?", [open_id])
    with write(ctx) as tx:  # the caller's transaction
        changes = {"stage_id": won[0]["id"], **_stage_state(won[0], tx.now)}
        if amount is not None:
            changes["expected_amount"] = amount
        tx.update(OPPORTUNITIES, open_id, changes, expected_version=version)
    return open_id


def _stage_state(stage: Mapping[str, Any], now: str) -> dict[str, Any]:
    closing = stage["kind"] != "open"
    return {
        "status": stage["kind"],
        "stage_entered_at": now,
        "closed_at": now if closing else None,
    }


def get_opportunity(ctx: Context, opportunity_id: int) -> dict[str, Any]:
    """A live opportunity with its investor's, fund's, stage's and owner's names, the
    probability in force and its days in stage."""
    rows = query_dicts(ctx.db, _OPPORTUNITY + " AND o.id = ?", [opportunity_id])
    if not rows:
        raise NotFound("opportunity", opportunity_id)
    return _shown(ctx, rows)[0]


def list_opportunities(
    ctx: Context,
    *,
    fund_id: int | None = None,
    owner_id: int | None = None,
    investor_id: int | None = None,
    stage_id: int | None = None,
    status: str | None = "open",
    limit: int = 500,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Opportunities (open ones by default; ``status=None``: all), in board order: by stage,
    then largest expected amount first."""
    require(ctx, "use_grid")
    if status is not None and status not in STAGE_KINDS:
        raise ValidationError(f"Status is one of {', '.join(STAGE_KINDS)}", field="status")
    if not 1 <= limit <= 5000 or offset < 0:
        raise ValidationError("limit must be 1 to 5,000 and offset 0 or more", field="limit")
    where, values = [], []
    for column, value in (
        ("o.fund_id", fund_id),
        ("o.owner_id", owner_id),
        ("o.investor_id", investor_id),
        ("o.stage_id", stage_id),
        ("o.status", status),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            values.append(value)
    sql = _OPPORTUNITY + "".join(f" AND {w}" for w in where)
    sql += " ORDER BY s.position, o.expected_amount DESC NULLS LAST, i.name, o.id LIMIT ? OFFSET ?"
    return _shown(ctx, query_dicts(ctx.db, sql, [*values, limit, offset]))


def _shown(ctx: Context, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = ctx.clock.now()
    for row in rows:
        entered = datetime.fromisoformat(row["stage_entered_at"])
        row["days_in_stage"] = max(0, (now - entered).days)
        amount = row["expected_amount"]
        row["weighted_amount"] = None if amount is None else amount * row["probability_used"]
    return rows


def stage_history(ctx: Context, opportunity_id: int) -> list[dict[str, Any]]:
    """Where an opportunity has been, oldest first: its audit log's stage changes (``at``,
    ``actor``, ``from_stage``, ``to_stage``), its creation first."""
    current = get_opportunity(ctx, opportunity_id)
    names = {s["id"]: s["name"] for s in query_dicts(ctx.db, f"SELECT id, name FROM {STAGES}")}
    moves = []
    for row in query_dicts(
        ctx.db,
        "SELECT at, actor, action, old_value, new_value FROM audit_log"
        " WHERE entity = ? AND entity_id = ? AND (action = 'create' OR field = 'stage_id')"
        " ORDER BY id",
        [OPPORTUNITIES, opportunity_id],
    ):
        if row["action"] == "create":
            created = json.loads(row["new_value"] or "{}")
            before, after = None, created.get("stage_id", current["stage_id"])
        else:
            before, after = json.loads(row["old_value"]), json.loads(row["new_value"])
        moves.append(
            {
                "at": row["at"],
                "actor": row["actor"],
                "from_stage": names.get(before) if before is not None else None,
                "to_stage": names.get(after, str(after)),
            }
        )
    return moves


def narrowed(owner_id: int | None, investor_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    """SQL (``AND ...`` on ``o``) and values narrowing opportunities to an owner's and to a
    view's investors (their ids as one JSON parameter, however many)."""
    sql, values = "", []
    if owner_id is not None:
        sql += " AND o.owner_id = ?"
        values.append(owner_id)
    if investor_ids is not None:
        sql += " AND o.investor_id IN (SELECT value FROM json_each(?))"
        values.append(json.dumps(list(investor_ids)))
    return sql, values


def pipeline_summary(
    ctx: Context,
    fund_id: int,
    *,
    owner_id: int | None = None,
    investor_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """A fund's pipeline per stage (open ones, and the won and lost): count, expected and
    weighted totals; the fund's target and committed total beside them. ``owner_id`` and
    ``investor_ids`` (a view's) narrow the stages' figures; the fund's stay whole."""
    require(ctx, "use_grid")
    narrow, narrow_values = narrowed(owner_id, investor_ids)
    fund = query_dicts(
        ctx.db,
        "SELECT f.id, f.name, f.currency, f.target_size, coalesce(("
        " SELECT sum(c.amount) FROM fundraising_commitments c INDEXED BY commitments_fund_amount"
        " WHERE c.fund_id = f.id AND c.deleted_at IS NULL AND c.investor_id NOT IN"
        "   (SELECT id FROM fundraising_investors WHERE deleted_at IS NOT NULL)), 0)"
        " AS committed FROM fundraising_funds f WHERE f.id = ? AND f.deleted_at IS NULL",
        [fund_id],
    )
    if not fund:
        raise NotFound("fund", fund_id)
    # per stage first (an index-only walk of the fund's opportunities; archived investors left
    # out by one probe of their small partial index, not a lookup of every row's investor)
    stages = query_dicts(
        ctx.db,
        "SELECT s.id, s.name, s.kind, s.probability, s.position, coalesce(a.count, 0) AS count,"
        " coalesce(a.expected, 0) AS expected,"
        " coalesce(a.expected_at_own, 0) + coalesce(a.expected_at_stage, 0) * s.probability"
        " AS weighted"
        f" FROM {STAGES} s LEFT JOIN (SELECT o.stage_id, count(*) AS count,"
        " sum(o.expected_amount) AS expected,"
        " sum(o.expected_amount * o.probability) AS expected_at_own,"
        " sum(CASE WHEN o.probability IS NULL THEN o.expected_amount END) AS expected_at_stage"
        f" FROM {OPPORTUNITIES} o INDEXED BY opportunities_board"
        " WHERE o.fund_id = ? AND o.deleted_at IS NULL AND o.investor_id NOT IN"
        f"   (SELECT id FROM fundraising_investors WHERE deleted_at IS NOT NULL){narrow}"
        " GROUP BY o.stage_id) a ON a.stage_id = s.id"
        " WHERE s.deleted_at IS NULL ORDER BY s.position, s.id",
        [fund_id, *narrow_values],
    )
    open_stages = [s for s in stages if s["kind"] == "open"]
    return {
        **fund[0],
        "stages": stages,
        "open_expected": sum(s["expected"] for s in open_stages),
        "open_weighted": sum(s["weighted"] for s in open_stages),
        "open_count": sum(s["count"] for s in open_stages),
    }


#: Cards per column on a board, largest expected amount first (the column's count and totals
#: cover them all; the owner filter narrows them): a column of thousands of cards is read by
#: its totals, not scrolled.
CARDS = 100
#: Days without a two-way email touch after which an opportunity is "going cold" (the
#: default of the ``CRM_GOING_COLD_DAYS`` setting).
COLD_DAYS = 30


def check_cold_days(days: int) -> None:
    if not 1 <= days <= 3650:
        raise ValidationError("cold_days must be between 1 and 3,650", field="cold_days")


def pipeline_board(
    ctx: Context,
    fund_id: int,
    *,
    owner_id: int | None = None,
    investor_ids: Sequence[int] | None = None,
    cold_days: int = COLD_DAYS,
) -> dict[str, Any]:
    """What a fund's board shows: its summary (counts, expected and weighted per stage, the
    target) and, per stage, the cards: investor, amount, probability, owner, next step, days in
    stage, the last email touch and whether it is going cold (no two-way email touch in
    ``cold_days``). Each column holds its :data:`CARDS` largest. ``owner_id`` and
    ``investor_ids`` (a view's) narrow the cards and the columns' totals."""
    check_cold_days(cold_days)
    summary = pipeline_summary(ctx, fund_id, owner_id=owner_id, investor_ids=investor_ids)
    cutoff = timestamp(ctx.clock.now() - timedelta(days=cold_days))
    narrow, narrow_values = narrowed(owner_id, investor_ids)
    rows: list[dict[str, Any]] = []
    if investor_ids is None:
        for stage in summary["stages"]:  # each column walks the board index in amount order
            rows += query_dicts(
                ctx.db,
                f"{_OPPORTUNITY} AND o.fund_id = ? AND o.stage_id = ?{narrow}"
                " ORDER BY o.expected_amount DESC, o.id LIMIT ?",
                [fund_id, stage["id"], *narrow_values, CARDS],
            )
    else:  # a view's investors: every column's largest ranked in one pass over the index
        rows = query_dicts(
            ctx.db,
            "WITH ranked AS (SELECT o.id, row_number() OVER (PARTITION BY o.stage_id"
            " ORDER BY o.expected_amount DESC, o.id) AS rank"
            f" FROM {OPPORTUNITIES} o INDEXED BY opportunities_board"
            " WHERE o.fund_id = ? AND o.deleted_at IS NULL AND o.investor_id NOT IN"
            f" (SELECT id FROM fundraising_investors WHERE deleted_at IS NOT NULL){narrow})"
            f" {_OPPORTUNITY} AND o.id IN (SELECT id FROM ranked WHERE rank <= ?)"
            " ORDER BY o.expected_amount DESC, o.id",
            [fund_id, *narrow_values, CARDS],
        )
    cards: dict[int, list[dict[str, Any]]] = {stage["id"]: [] for stage in summary["stages"]}
    for card in _shown(ctx, rows):
        touch = max(filter(None, (card["last_inbound_at"], card["last_outbound_at"])), default=None)
        card["last_touch_at"] = touch
        card["going_cold"] = card["status"] != "lost" and not (
            (card["last_inbound_at"] or "") >= cutoff and (card["last_outbound_at"] or "") >= cutoff
        )
        cards.setdefault(card["stage_id"], []).append(card)
    return {
        **summary,
        "cold_days": cold_days,
        "columns": [{**stage, "cards": cards.get(stage["id"], [])} for stage in summary["stages"]],
    }
