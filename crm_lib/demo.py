"""A realistic, deterministic demo fund, so every screen has something real to show.

Three funds (Fund I to III), a team of four, and by default 2,000 investors of every kind (family
offices, endowments, foundations, pensions, funds of funds, corporates, individuals) with about
5,000 people, commitments sized by investor type and scaled so the closed funds reach their
targets, list membership, owners, tags and contact dates.

Everything is drawn from ``random.Random(seed)`` and a seeded Faker, and dates are laid out
relative to ``as_of``: the same ``(seed, as_of, investors)`` always gives the same database.
Writes go through the services (the bulk path for investors), so demo data is audited like any.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from faker import Faker

from crm_lib import services
from crm_lib.clock import today
from crm_lib.context import Context
from crm_lib.errors import ValidationError

TEAM = (
    ("maya.chen@northwind-ventures.example", "Maya Chen", "admin"),
    ("daniel.okafor@northwind-ventures.example", "Daniel Okafor", "member"),
    ("sofia.rossi@northwind-ventures.example", "Sofia Rossi", "member"),
    ("james.whitfield@northwind-ventures.example", "James Whitfield", "member"),
)

#: (name, vintage offset in years before as_of, target, status, share of target committed)
FUNDS = (
    ("Fund I", 9, 75_000_000, "closed", 1.0),
    ("Fund II", 5, 180_000_000, "closed", 1.04),
    ("Fund III", 1, 350_000_000, "raising", 0.46),
)

#: investor type → (weight, typical commitment range in USD, people range)
TYPES: dict[str, tuple[float, tuple[int, int], tuple[int, int]]] = {
    "Family office": (0.24, (500_000, 5_000_000), (1, 5)),
    "Endowment": (0.06, (2_000_000, 15_000_000), (2, 5)),
    "Foundation": (0.06, (1_000_000, 8_000_000), (2, 4)),
    "Pension": (0.05, (10_000_000, 40_000_000), (2, 5)),
    "Fund of funds": (0.09, (3_000_000, 20_000_000), (2, 5)),
    "Corporate": (0.08, (1_000_000, 10_000_000), (2, 4)),
    "Individual": (0.42, (100_000, 1_000_000), (1, 2)),
}


#: investor type → how its names look (Faker, the seeded Random, a surname)
NAMERS: dict[str, Callable[[Faker, random.Random, str], str]] = {
    "Family office": lambda fake, rng, last: rng.choice(
        [f"{last} Family Office", f"{last} Capital", f"{last} & Sons Holdings"]
    ),
    "Endowment": lambda fake, rng, last: rng.choice(
        [f"{fake.city()} University Endowment", f"{last} College Endowment"]
    ),
    "Foundation": lambda fake, rng, last: (
        f"{last} {rng.choice(['Foundation', 'Charitable Trust'])}"
    ),
    "Pension": lambda fake, rng, last: (
        f"{fake.state()} {rng.choice(['Teachers', 'Public Employees', 'Municipal', 'Firefighters'])}"
        " Retirement System"
    ),
    "Fund of funds": lambda fake, rng, last: (
        f"{last} {rng.choice(['Partners', 'Private Markets', 'Fund Investors'])}"
    ),
    "Corporate": lambda fake, rng, last: f"{fake.company()} Ventures",
    "Individual": lambda fake, rng, last: fake.name(),
}

TITLES = {
    "Individual": ["Wealth advisor", "Family office manager", "Accountant"],
    "default": [
        "Chief Investment Officer",
        "Managing Director",
        "Head of Private Markets",
        "Director of Private Equity",
        "Investment Director",
        "Principal",
        "Portfolio Manager",
        "Senior Associate",
        "Analyst",
    ],
}
TAGS = [
    "warm intro",
    "re-up",
    "ESG mandate",
    "emerging managers",
    "co-invest",
    "conference",
    "board referral",
    "first-time LP",
    "tech focus",
]
HUBS = [
    "London, UK",
    "Zurich, Switzerland",
    "Geneva, Switzerland",
    "Singapore",
    "Hong Kong",
    "Tokyo, Japan",
    "Dubai, UAE",
    "Toronto, Canada",
    "Sydney, Australia",
    "Oslo, Norway",
    "Munich, Germany",
    "Paris, France",
]
NOTES = [
    "Prefers quarterly updates by email.",
    "Asked for the data room after the last AGM.",
    "Allocation decisions at the Q1 investment committee.",
    "Intro came through a portfolio founder.",
    "Interested in co-investment rights.",
    "Wants to see Fund II DPI before committing.",
    "Met at the annual LP summit.",
    "Sensitive to fee terms; send the side-letter draft.",
]


@dataclass(frozen=True)
class DemoSummary:
    """What the demo loader created."""

    users: int
    funds: int
    investors: int
    people: int
    commitments: int


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())[:24] or "investor"


class _Generator:
    def __init__(self, seed: int, as_of: date) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.as_of = as_of
        self.names: set[str] = set()

    def investor_name(self, kind: str) -> str:
        for _ in range(20):
            name = NAMERS[kind](self.fake, self.rng, self.fake.last_name())
            if name not in self.names:
                break
        else:
            name = f"{name} ({len(self.names)})"
        self.names.add(name)
        return name

    def person(self, kind: str, org_domain: str, primary: bool, name: str | None) -> dict[str, Any]:
        fake, rng = self.fake, self.rng
        if name:  # an individual investor is their own primary contact
            first, _, last = name.partition(" ")
            title = "Private investor"
        else:
            first, last = fake.first_name(), fake.last_name()
            title = rng.choice(TITLES.get(kind, TITLES["default"]))
        handle = f"{_slug(first)}.{_slug(last)}" if last else _slug(first)
        return {
            "full_name": f"{first} {last}".strip(),
            "email": f"{handle}@{org_domain}",
            "title": title,
            "phone": fake.phone_number() if rng.random() < 0.7 else None,
            "is_primary": primary,
        }

    def day_within(self, days: int, before: date | None = None) -> str:
        end = before or self.as_of
        return (end - timedelta(days=self.rng.randint(0, days))).isoformat()


def load_demo_data(
    ctx: Context, *, investors: int = 2000, seed: int = 7, as_of: date | None = None
) -> DemoSummary:
    """Fill an empty database with the demo fund (refuses one that already has investors)."""
    existing = services.count_by_list(ctx)["all"]
    if existing:
        raise ValidationError(
            f"The database already holds {existing} investors; demo data goes into a new "
            "database only (point CRM_DATA_DIR at an empty folder)"
        )
    gen = _Generator(seed, as_of or today(ctx.clock))
    rng = gen.rng
    team = [services.create_user(ctx, email, name, role)["id"] for email, name, role in TEAM]
    funds = []
    for name, years_back, target, status, _ in FUNDS:
        vintage = gen.as_of.year - years_back
        funds.append(
            services.create_fund(
                ctx,
                {
                    "name": name,
                    "vintage_year": vintage,
                    "target_size": target,
                    "status": status,
                    "first_close_on": date(vintage, 3, 1).isoformat(),
                    "final_close_on": date(vintage + 1, 2, 15).isoformat()
                    if status == "closed"
                    else None,
                },
            )
        )

    kinds = list(TYPES)
    weights = [TYPES[k][0] for k in kinds]
    records: list[dict[str, Any]] = []
    for _ in range(investors):
        kind = rng.choices(kinds, weights)[0]
        name = gen.investor_name(kind)
        domain = "example.com" if kind == "Individual" else f"{_slug(name)}.example.com"
        low, high = TYPES[kind][2]
        count = rng.randint(low, high)
        people = [
            gen.person(kind, domain, i == 0, name if kind == "Individual" and i == 0 else None)
            for i in range(count)
        ]
        records.append(
            {
                "name": name,
                "type": kind,
                "owner_id": rng.choice(team),
                "location": rng.choice(HUBS)
                if rng.random() < 0.25
                else f"{gen.fake.city()}, {gen.fake.state_abbr()}",
                "website": None if kind == "Individual" else f"https://www.{domain}",
                "tags": rng.sample(TAGS, rng.choice([0, 0, 1, 1, 2, 3])),
                "notes": rng.choice(NOTES) if rng.random() < 0.3 else None,
                "people": people,
                "commitments": [],
            }
        )
    _add_commitments(gen, records, funds)
    _add_pipeline_state(gen, records)
    result = services.bulk_create_investors(ctx, records)
    _add_opportunities_and_tasks(ctx, random.Random(seed + 1), gen.as_of, funds, team)
    return DemoSummary(
        users=len(team),
        funds=len(funds),
        investors=result.investors,
        people=result.people,
        commitments=result.commitments,
    )


NEXT_STEPS = (
    "Send the deck",
    "Book a call with the CIO",
    "Share the data room",
    "Answer the DDQ",
    "Intro to the investment committee",
    "Follow up on the side letter",
    "Send the LPA draft",
)
TASK_TITLES = (
    "Send quarterly update",
    "Follow up after the meeting",
    "Schedule the annual meeting",
    "Chase the signed subscription docs",
    "Reply about the fee terms",
    "Share the track record",
    "Check in before year end",
    "Introduce to the new partner",
)
LOST_REASONS = ("Allocation full for the year", "Not our strategy", "Too early in the cycle")
#: The share of a fund's opportunities in each stage, by the fund's status.
STAGE_MIX = {
    "raising": {
        "Prospect": 4,
        "Intro": 3,
        "Meeting": 3,
        "Diligence": 2,
        "Soft circle": 1,
        "Committed": 1,
        "Lost": 1,
    },
    "planned": {"Prospect": 5, "Intro": 3, "Meeting": 1, "Lost": 1},
    "closed": {"Committed": 3, "Lost": 2},
}


def _add_opportunities_and_tasks(
    ctx: Context, rng: random.Random, as_of: date, funds: list[dict[str, Any]], team: list[int]
) -> None:
    """A pipeline per fund (about one investor in twelve, in stages that suit the fund: a
    raising fund's funnel, a planned fund's early talks, a closed fund's won and lost) and a
    dozen tasks per team member, some overdue. Its own random stream: the rest of the demo is
    what it was."""
    from crm_lib.grid.rollups import refresh_next_task_due
    from crm_lib.storage.writes import write

    stages = {stage["name"]: stage for stage in services.list_stages(ctx)}
    investors = ctx.db.execute(
        "SELECT id, owner_id FROM fundraising_investors WHERE deleted_at IS NULL ORDER BY id"
    ).fetchall()
    if not investors:
        return
    noon = datetime.combine(as_of, time(12, 0), UTC)
    with write(ctx) as tx:
        for fund in funds:
            mix = STAGE_MIX.get(fund["status"], STAGE_MIX["raising"])
            names, weights = list(mix), list(mix.values())
            committed = {
                row[0]
                for row in ctx.db.execute(
                    "SELECT investor_id FROM fundraising_commitments WHERE fund_id = ?"
                    " AND deleted_at IS NULL",
                    [fund["id"]],
                )
            }
            for investor_id, owner_id in rng.sample(investors, max(5, len(investors) // 12)):
                stage = stages[rng.choices(names, weights)[0]]
                # won exactly where the grid holds a commitment to the fund, and only there
                if investor_id in committed:
                    stage = stages["Committed"]
                elif stage["kind"] == "won":
                    stage = stages["Soft circle" if fund["status"] != "closed" else "Lost"]
                entered = noon - timedelta(days=rng.randint(0, 75), hours=rng.randint(0, 8))
                closing = stage["kind"] != "open"
                tx.insert(
                    "opportunities",
                    {
                        "investor_id": investor_id,
                        "fund_id": fund["id"],
                        "stage_id": stage["id"],
                        "status": stage["kind"],
                        "expected_amount": rng.randint(4, 100) * 250_000,
                        "owner_id": owner_id,
                        "expected_close": (
                            as_of + timedelta(days=rng.randint(15, 270))
                        ).isoformat(),
                        "next_step": "" if closing else rng.choice(NEXT_STEPS),
                        "lost_reason": rng.choice(LOST_REASONS) if stage["kind"] == "lost" else "",
                        "stage_entered_at": entered.isoformat(),
                        "closed_at": entered.isoformat() if closing else None,
                    },
                )
        tasked: list[int] = []
        for member in team:
            for _ in range(12):
                investor_id, _owner = rng.choice(investors)
                tasked.append(investor_id)
                due = as_of + timedelta(days=rng.randint(-14, 30))
                done = rng.random() < 0.2
                tx.insert(
                    "tasks",
                    {
                        "title": rng.choice(TASK_TITLES),
                        "investor_id": investor_id,
                        "assignee_id": member,
                        "due_on": due.isoformat(),
                        "priority": rng.choice(("low", "normal", "normal", "high")),
                        "status": "done" if done else "open",
                        "completed_at": noon.isoformat() if done else None,
                    },
                )
        refresh_next_task_due(tx, tasked)  # the grid's "Next task due"


def load_demo_email(ctx: Context, count: int, *, seed: int = 7, as_of: date | None = None) -> int:
    """Give the demo team a year of mail with the demo's investors (see
    :mod:`crm_lib.mail.corpus`), imported into each team member's mailbox the way a mailbox file
    is: linked, proposed and skipped as real mail would be. Returns the messages stored."""
    from collections import defaultdict

    from crm_lib.mail.corpus import Person, corpus
    from crm_lib.mail.ingest import RawMessage, ingest

    end = as_of or today(ctx.clock)
    start = datetime.combine(end - timedelta(days=330), time(9, 0), UTC)
    people = [
        Person(name, email, website)
        for name, email, website in ctx.db.execute(
            "SELECT p.full_name, p.email, i.website FROM fundraising_contacts p"
            " JOIN fundraising_investors i ON i.id = p.investor_id"
            " WHERE p.email IS NOT NULL AND p.deleted_at IS NULL AND i.deleted_at IS NULL"
            " ORDER BY p.id"
        ).fetchall()
    ]
    if not people or count <= 0:
        return 0
    held: defaultdict[str, list[RawMessage]] = defaultdict(list)
    team = [email for email, _, _ in TEAM]
    for number, (member, raw) in enumerate(
        corpus(team, people, count, seed=seed, start=start, days=330), start=1
    ):
        held[member].append(RawMessage(raw, f"demo #{number}"))
    stored = 0
    for member, messages in held.items():
        account = services.ensure_account(ctx, member)
        stored += ingest(ctx, account, messages).stored
    return stored


def _add_commitments(gen: _Generator, records: list[dict[str, Any]], funds: list[dict]) -> None:
    """Give each fund a realistic LP base, scaled so the total matches its target share."""
    rng = gen.rng
    previous: list[int] = []
    for fund, (_, _, target, status, share) in zip(funds, FUNDS, strict=True):
        # LPs re-up: most of the previous fund's investors come back, plus new ones.
        returning = [i for i in previous if rng.random() < 0.7]
        newcomers = rng.sample(range(len(records)), k=max(1, len(records) // 12))
        lps = sorted(set(returning) | set(newcomers))
        amounts = {i: rng.uniform(*TYPES[records[i]["type"]][1]) for i in lps}
        scale = target * share / sum(amounts.values())
        vintage = fund["vintage_year"]
        for i in lps:
            amount = max(25_000, round(amounts[i] * scale / 25_000) * 25_000)
            day = date(vintage, 3, 1) + timedelta(days=rng.randint(0, 330))
            records[i]["commitments"].append(
                {
                    "fund_id": fund["id"],
                    "amount": amount,
                    "status": "closed"
                    if status == "closed"
                    else rng.choice(["committed", "committed", "soft_circled"]),
                    "committed_on": min(day, gen.as_of).isoformat(),
                }
            )
        previous = lps


def _add_pipeline_state(gen: _Generator, records: list[dict[str, Any]]) -> None:
    """Status, list membership and last contact, consistent with the commitments."""
    rng = gen.rng
    for record in records:
        if record["commitments"]:
            record["status"] = "Committed"
            record["list_membership"] = rng.choices(["main", "follow_up"], [0.8, 0.2])[0]
            record["last_contacted_at"] = gen.day_within(120)
            continue
        status = rng.choices(
            ["Prospect", "Contacted", "Meeting", "Due diligence", "Passed"],
            [0.35, 0.25, 0.15, 0.07, 0.18],
        )[0]
        record["status"] = status
        if status == "Passed":
            record["list_membership"] = "graveyard"
        elif status in ("Meeting", "Due diligence"):
            record["list_membership"] = rng.choices(["follow_up", "main"], [0.7, 0.3])[0]
        else:
            record["list_membership"] = rng.choices(["main", "longshot"], [0.7, 0.3])[0]
        record["last_contacted_at"] = (
            None if status == "Prospect" and rng.random() < 0.6 else gen.day_within(540)
        )
