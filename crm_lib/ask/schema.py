"""The schema Claude is shown: the allowed views, their columns and types (read from the views
themselves, so a field added in the grid is known at once), a line on what each holds, and the
vocabularies a question names (lists, statuses, the choices of the grid's select fields).

Only names and types, never rows. A grid field's label and choices are typed by members, so
any of them that holds a known investor or person name, an address or a phone number (what the
matcher would scrub from a question) is left out rather than sent.
"""

from __future__ import annotations

import json
from typing import Any

import duckdb

from crm_lib.ask.scrub import Matcher
from crm_lib.ask.validate import VIEWS
from crm_lib.services.commitments import STATUSES as COMMITMENT_STATUSES
from crm_lib.services.funds import STATUSES as FUND_STATUSES
from crm_lib.services.investors import LISTS

VIEW_NOTES = {
    "investors": "One row per live investor (LP). Custom grid fields are columns too.",
    "people": "People who work at an investor (investor_id → investors.id).",
    "funds": "The firm's own funds that investors commit to.",
    "commitments": "One row per investor's commitment to one fund, with fund and investor names.",
    "emails": "Captured email with investors (no bodies). direction: inbound or outbound.",
    "email_links": "Which investor (and person) each email is about; status linked, proposed or"
    " rejected (count only 'linked' unless asked).",
    "opportunities": "The pipeline: one investor's prospect of coming into one fund, with its"
    " stage; status open, won (committed) or lost.",
    "pipeline_stages": "The pipeline's stages in board order, each with its default probability.",
    "tasks": "Follow-up for a team member (assignee, an email address), about an investor.",
}
COLUMN_NOTES = {
    ("investors", "list_membership"): f"the list: {', '.join(LISTS)}",
    ("investors", "owner_name"): "the team member who owns the relationship",
    ("investors", "total_invested"): "sum of live commitments, in the fund's currency",
    ("investors", "email_last_inbound_at"): "when the investor last wrote to the team",
    ("investors", "email_last_outbound_at"): "when the team last wrote to the investor",
    ("commitments", "status"): f"one of {', '.join(COMMITMENT_STATUSES)}",
    ("commitments", "amount"): "the committed amount",
    ("funds", "status"): f"one of {', '.join(FUND_STATUSES)}",
    ("funds", "target_size"): "the fund's target",
    ("opportunities", "probability_used"): "the opportunity's probability, else its stage's"
    " (0 to 1); weighted = expected_amount * probability_used",
    ("opportunities", "expected_close"): "ISO date text",
    ("tasks", "status"): "open, done or dismissed",
    ("tasks", "due_on"): "ISO date text",
    ("emails", "team_member"): "the team member's email address whose mailbox holds it",
    ("emails", "sent_at"): "when it was sent (timestamp with time zone)",
}
#: Bookkeeping columns nobody asks about: left out to keep the request short.
HIDDEN = frozenset({"version", "created_by", "updated_by", "deleted_at", "deleted_by"})


def describe_views(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """Each allowed view's columns and DuckDB types, in order."""
    described: dict[str, list[tuple[str, str]]] = {}
    for view in sorted(VIEWS):
        rows = con.execute(f"DESCRIBE {view}").fetchall()
        described[view] = [(r[0], r[1]) for r in rows if r[0] not in HIDDEN]
    return described


def grid_vocabulary(conn: Any, matcher: Matcher) -> dict[str, dict[str, Any]]:
    """The investors' columns that are grid fields: label, type and choices (see module doc)."""
    found: dict[str, dict[str, Any]] = {}
    for key, label, kind, options in conn.execute(
        "SELECT key, label, type, options FROM grid_fields WHERE deleted_at IS NULL ORDER BY position"
    ):
        entry: dict[str, Any] = {"type": kind}
        if _shareable(matcher, label):
            entry["label"] = label
        if kind in ("single_select", "multi_select"):
            choices = (json.loads(options or "{}") or {}).get("choices") or []
            entry["choices"] = [c for c in choices if isinstance(c, str) and _shareable(matcher, c)]
        found[key] = entry
    return found


def _shareable(matcher: Matcher, text: str) -> bool:
    """True when the matcher finds nothing to hide in ``text``."""
    return bool(text) and not matcher.scrub(text).values


def schema_text(views: dict[str, list[tuple[str, str]]], grid: dict[str, dict[str, Any]]) -> str:
    """The schema as compact text, one view per block."""
    lines: list[str] = []
    for view, columns in views.items():
        lines.append(f"VIEW {view} -- {VIEW_NOTES.get(view, '')}")
        for name, kind in columns:
            note = COLUMN_NOTES.get((view, name), "")
            field = grid.get(name) if view == "investors" else None
            if field:
                parts = [field.get("label", ""), field["type"]]
                if field.get("choices"):
                    parts.append("choices: " + ", ".join(field["choices"]))
                    if field["type"] == "multi_select":
                        parts.append("stored as a JSON array text")
                note = "; ".join(p for p in [note, *parts] if p)
            lines.append(f"  {name} {kind}" + (f" -- {note}" if note else ""))
    return "\n".join(lines)
