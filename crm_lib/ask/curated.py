"""Curated questions: the questions the team asks every week, each one reviewed SQL with typed
parameters. They work with no model at all, and they are the examples the free-form path shows
Claude. Each runs through the same validator and locked-down DuckDB as any other SQL.

``$TODAY`` is filled by the runner from the CRM's clock (so a question means the same in a test
as on the day), never by the person asking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from crm_lib.errors import ValidationError

PARAMETER_TYPES = ("text", "integer", "fund", "investor", "amount")


@dataclass(frozen=True)
class Parameter:
    name: str  # as in the SQL: $DAYS
    kind: str  # one of PARAMETER_TYPES
    label: str
    default: Any = None


@dataclass(frozen=True)
class CuratedQuestion:
    key: str
    question: str  # how the team would ask it
    sql: str
    parameters: tuple[Parameter, ...] = ()
    opens_investors: bool = False  # the rows are investors (an id column): "Open in grid"

    def values(self, given: dict[str, Any], today: date) -> dict[str, Any]:
        """The SQL's parameter values: ``given`` checked and typed, defaults, and ``TODAY``."""
        values: dict[str, Any] = {"TODAY": today}
        for parameter in self.parameters:
            raw = given.get(parameter.name, parameter.default)
            if raw is None or raw == "":
                raise ValidationError(f"{parameter.label} is required", field=parameter.name)
            values[parameter.name] = _typed(parameter, raw)
        return values


def _typed(parameter: Parameter, raw: Any) -> Any:
    if parameter.kind in ("integer", "amount"):
        try:
            value = int(raw) if parameter.kind == "integer" else float(raw)
        except (TypeError, ValueError):
            raise ValidationError(
                f"{parameter.label} must be a number, not {str(raw)[:40]!r}", field=parameter.name
            ) from None
        if value < 0 or value > 10**12:
            raise ValidationError(f"{parameter.label} is out of range", field=parameter.name)
        return value
    text = str(raw).strip()
    if not text or len(text) > 200:
        raise ValidationError(
            f"{parameter.label} must be 1 to 200 characters", field=parameter.name
        )
    return text


DAYS = Parameter("DAYS", "integer", "Days", 90)
FUND = Parameter("FUND", "fund", "Fund", "Fund III")

CURATED: tuple[CuratedQuestion, ...] = (
    CuratedQuestion(
        "committed_per_fund",
        "How much is committed per fund (not counting the graveyard)?",
        "SELECT c.fund_name AS fund, count(DISTINCT c.investor_id) AS investors,"
        " sum(c.amount) AS committed FROM commitments c"
        " JOIN investors i ON i.id = c.investor_id"
        " WHERE coalesce(i.list_membership, '') != 'graveyard'"
        " GROUP BY c.fund_name ORDER BY c.fund_name",
    ),
    CuratedQuestion(
        "committed_to_a_not_b",
        "Who committed to one fund but not to another?",
        "SELECT i.id, i.name, sum(c.amount) AS committed_to_first FROM investors i"
        " JOIN commitments c ON c.investor_id = i.id AND c.fund_name = $FUND_A"
        " WHERE NOT EXISTS (SELECT 1 FROM commitments d"
        "   WHERE d.investor_id = i.id AND d.fund_name = $FUND_B)"
        " GROUP BY i.id, i.name ORDER BY committed_to_first DESC, i.name",
        (
            Parameter("FUND_A", "fund", "Committed to", "Fund II"),
            Parameter("FUND_B", "fund", "But not to", "Fund III"),
        ),
        opens_investors=True,
    ),
    CuratedQuestion(
        "committed_not_emailed",
        "Which committed investors have we not had a two-way email exchange with in N days?",
        "SELECT i.id, i.name, i.owner_name AS owner, i.total_invested,"
        " i.email_last_inbound_at AS last_inbound, i.email_last_outbound_at AS last_outbound"
        " FROM investors i"
        " WHERE EXISTS (SELECT 1 FROM commitments c WHERE c.investor_id = i.id)"
        " AND NOT (coalesce(CAST(i.email_last_inbound_at AS DATE), DATE '1900-01-01')"
        "   >= $TODAY - to_days(CAST($DAYS AS INTEGER))"
        "   AND coalesce(CAST(i.email_last_outbound_at AS DATE), DATE '1900-01-01')"
        "   >= $TODAY - to_days(CAST($DAYS AS INTEGER)))"
        " ORDER BY i.total_invested DESC NULLS LAST, i.name",
        (DAYS,),
        opens_investors=True,
    ),
    CuratedQuestion(
        "who_knows_investor",
        "Who on the team knows an investor best?",
        "SELECT e.team_member, count(*) AS emails,"
        " count(*) FILTER (WHERE e.direction = 'inbound') AS received,"
        " count(*) FILTER (WHERE e.direction = 'outbound') AS sent, max(e.sent_at) AS last_email"
        " FROM emails e JOIN email_links l ON l.email_id = e.id AND l.status = 'linked'"
        " JOIN investors i ON i.id = l.investor_id"
        " WHERE lower(i.name) = lower($INVESTOR) AND e.team_member IS NOT NULL"
        " GROUP BY e.team_member ORDER BY emails DESC, e.team_member",
        (Parameter("INVESTOR", "investor", "Investor"),),
    ),
    CuratedQuestion(
        "new_investors_this_month",
        "Which investors were added this month?",
        "SELECT id, name, type, owner_name AS owner, CAST(created_at AS DATE) AS added"
        " FROM investors WHERE CAST(created_at AS DATE) >= date_trunc('month', $TODAY)"
        " ORDER BY created_at DESC, name",
        opens_investors=True,
    ),
    CuratedQuestion(
        "commitments_changed_this_week",
        "Which commitments changed in the last 7 days?",
        "SELECT investor_id AS id, investor_name AS investor, fund_name AS fund, amount, status,"
        " CAST(updated_at AS DATE) AS changed FROM commitments"
        " WHERE CAST(updated_at AS DATE) > $TODAY - INTERVAL 7 DAY"
        " ORDER BY updated_at DESC, investor_name",
    ),
    CuratedQuestion(
        "top_investors",
        "Who are our largest investors across all funds?",
        "SELECT i.id, i.name, i.type, sum(c.amount) AS committed,"
        " count(DISTINCT c.fund_id) AS funds FROM investors i"
        " JOIN commitments c ON c.investor_id = i.id GROUP BY i.id, i.name, i.type"
        " ORDER BY committed DESC, i.name LIMIT $TOP",
        (Parameter("TOP", "integer", "How many", 20),),
        opens_investors=True,
    ),
    CuratedQuestion(
        "multi_fund_investors",
        "Which investors have committed to more than one of our funds?",
        "SELECT i.id, i.name, count(DISTINCT c.fund_id) AS funds, sum(c.amount) AS committed"
        " FROM investors i JOIN commitments c ON c.investor_id = i.id GROUP BY i.id, i.name"
        " HAVING count(DISTINCT c.fund_id) > 1 ORDER BY funds DESC, committed DESC, i.name",
        opens_investors=True,
    ),
    CuratedQuestion(
        "fund_progress",
        "How far is each fund from its target?",
        "SELECT f.name AS fund, f.status, f.target_size AS target,"
        " coalesce(sum(c.amount), 0) AS committed,"
        " round(100.0 * coalesce(sum(c.amount), 0) / nullif(f.target_size, 0), 1) AS percent"
        " FROM funds f LEFT JOIN commitments c ON c.fund_id = f.id"
        " GROUP BY f.name, f.status, f.target_size, f.vintage_year ORDER BY f.vintage_year, f.name",
    ),
    CuratedQuestion(
        "largest_in_fund",
        "Who are the largest investors in a fund?",
        "SELECT investor_id AS id, investor_name AS investor, investor_type AS type, amount"
        " FROM commitments WHERE fund_name = $FUND ORDER BY amount DESC, investor_name",
        (FUND,),
        opens_investors=True,
    ),
    CuratedQuestion(
        "investors_by_type",
        "How many investors of each type do we have, and how much have they committed?",
        "SELECT coalesce(i.type, '(none)') AS type, count(*) AS investors,"
        " coalesce(sum(t.committed), 0) AS committed FROM investors i"
        " LEFT JOIN (SELECT investor_id, sum(amount) AS committed FROM commitments"
        "   GROUP BY investor_id) t ON t.investor_id = i.id"
        " GROUP BY 1 ORDER BY investors DESC, type",
    ),
    CuratedQuestion(
        "investors_by_owner",
        "How many investors does each owner on the team cover?",
        "SELECT coalesce(owner_name, '(no owner)') AS owner, count(*) AS investors,"
        " count(*) FILTER (WHERE total_invested > 0) AS committed"
        " FROM investors GROUP BY 1 ORDER BY investors DESC, owner",
    ),
    CuratedQuestion(
        "investors_without_people",
        "Which investors have no people recorded?",
        "SELECT i.id, i.name, i.type, i.owner_name AS owner FROM investors i"
        " WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.investor_id = i.id)"
        " ORDER BY i.name",
        opens_investors=True,
    ),
    CuratedQuestion(
        "emailed_not_committed",
        "Whom have we emailed in the last N days who has not committed yet?",
        "SELECT i.id, i.name, i.list_membership AS list, count(DISTINCT e.id) AS emails,"
        " max(e.sent_at) AS last_email FROM investors i"
        " JOIN email_links l ON l.investor_id = i.id AND l.status = 'linked'"
        " JOIN emails e ON e.id = l.email_id"
        " WHERE CAST(e.sent_at AS DATE) >= $TODAY - to_days(CAST($DAYS AS INTEGER))"
        " AND NOT EXISTS (SELECT 1 FROM commitments c WHERE c.investor_id = i.id)"
        " GROUP BY i.id, i.name, i.list_membership ORDER BY emails DESC, i.name",
        (DAYS,),
        opens_investors=True,
    ),
    CuratedQuestion(
        "email_by_team_member",
        "How many emails did each team member exchange with investors in the last N days?",
        "SELECT e.team_member, count(*) FILTER (WHERE e.direction = 'outbound') AS sent,"
        " count(*) FILTER (WHERE e.direction = 'inbound') AS received,"
        " count(DISTINCT l.investor_id) AS investors FROM emails e"
        " JOIN email_links l ON l.email_id = e.id AND l.status = 'linked'"
        " WHERE CAST(e.sent_at AS DATE) >= $TODAY - to_days(CAST($DAYS AS INTEGER))"
        " GROUP BY e.team_member ORDER BY sent + received DESC, e.team_member",
        (DAYS,),
    ),
    CuratedQuestion(
        "pipeline_by_stage",
        "What is the pipeline of a fund by stage?",
        "SELECT s.name AS stage, count(o.id) AS opportunities,"
        " coalesce(sum(o.expected_amount), 0) AS expected,"
        " coalesce(sum(o.expected_amount * o.probability_used), 0) AS weighted"
        " FROM pipeline_stages s LEFT JOIN opportunities o ON o.stage_id = s.id"
        " AND o.fund_name = $FUND GROUP BY s.name, s.position ORDER BY s.position",
        (FUND,),
    ),
    CuratedQuestion(
        "waiting_for_reply",
        "Which investors wrote to us last and are waiting for a reply?",
        "SELECT id, name, owner_name AS owner, email_last_inbound_at AS last_inbound,"
        " email_last_outbound_at AS last_outbound FROM investors"
        " WHERE email_last_inbound_at IS NOT NULL AND (email_last_outbound_at IS NULL"
        "   OR email_last_outbound_at < email_last_inbound_at)"
        " ORDER BY email_last_inbound_at, name",
        opens_investors=True,
    ),
)
BY_KEY = {question.key: question for question in CURATED}
