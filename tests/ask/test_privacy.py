"""The privacy boundary, tested as an outsider would: every request that reaches the (stubbed)
Messages API while the demo's questions run is captured, and none holds any investor name,
person name or email address of the database, whatever the question named, in whatever case."""

from __future__ import annotations

import json
import random

from pytest_httpserver import HTTPServer

from crm_lib import services
from crm_lib.ask.engine import AskEngine
from crm_lib.context import Context
from tests.ask.messages_api import tool_answer

SHAPES = (
    "When did we last email {person} of {investor}?",
    "has {investor} committed more than $2,500,000 to fund iii",
    "who at {investor_lower} did {email} introduce us to",
    "Show {person}'s phone +44 20 7946 0958 and anything from {domain}",
    "Compare {investor} with {other} by total committed, 5m or more",
    "what did {person_upper} say about the re-up",
    "List investors like {investor} that we have not emailed since 2026-01-01",
)


def demo_questions(ctx: Context, count: int = 60) -> list[str]:
    investors = [r[0] for r in ctx.db.execute("SELECT name FROM fundraising_investors")]
    people = [
        (r[0], r[1])
        for r in ctx.db.execute(
            "SELECT full_name, email FROM fundraising_contacts WHERE email LIKE '%@%'"
        )
    ]
    rng = random.Random(7)
    questions = []
    for n in range(count):
        person, email = rng.choice(people)
        investor, other = rng.sample(investors, 2)
        questions.append(
            SHAPES[n % len(SHAPES)].format(
                person=person,
                person_upper=person.upper(),
                investor=investor,
                investor_lower=investor.lower(),
                other=other,
                email=email,
                domain=email.split("@")[1],
            )
        )
    return questions


def test_no_name_or_address_of_the_database_reaches_the_api(
    alice: Context, engine: AskEngine, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json(
        tool_answer("SELECT count(*) AS investors FROM investors")
    )
    questions = demo_questions(alice)
    for question in questions:
        services.ask(alice, engine, question)
    bodies = [request.get_data(as_text=True) for request, _ in httpserver.log]
    assert len(bodies) == len(questions)
    # compared as the text a reader would find: JSON escapes undone, case folded
    sent = "\n".join(json.dumps(json.loads(b), ensure_ascii=False) for b in bodies).casefold()
    investors = [r[0] for r in alice.db.execute("SELECT name FROM fundraising_investors")]
    people = [r[0] for r in alice.db.execute("SELECT full_name FROM fundraising_contacts")]
    addresses = [
        r[0]
        for r in alice.db.execute(
            "SELECT email FROM fundraising_contacts WHERE email LIKE '%@%'"
            " UNION SELECT from_address FROM emails"
        )
    ]
    leaked = [
        value for value in [*investors, *people, *addresses] if value and value.casefold() in sent
    ]
    assert leaked == []
    # and the questions did reach it, as placeholders
    assert "investor_1" in sent and "person_1" in sent and "email_1" in sent
    assert "amount_1" in sent and "phone_1" in sent and "domain_1" in sent
