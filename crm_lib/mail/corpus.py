"""A deterministic email corpus between a fund's team and its investors' people: the demo's mail
and bench/bench_email.py's input.

Same seed, same messages, byte for byte. What a fundraising mailbox holds: introductions,
follow-ups, data-room access, scheduling and capital-call questions, most of them threads with
replies that quote what they answer; some from people the CRM does not know at an investor's
domain (proposals), some from strangers at public mail domains, some internal-only, and the
newsletters and notifications a real mailbox is full of (skipped as noise).

Messages are written as RFC 5322 text directly (no MIME library): generating 50,000 of them
takes seconds, not minutes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from crm_lib.mail.addresses import website_domain

TOPICS = (
    (
        "Introduction: {fund}",
        "It was good to meet you at the annual meeting. I'd love to tell you"
        " more about {fund} and how it fits your allocation this year.",
    ),
    (
        "{fund} data room access",
        "I've opened the data room for you: the LPA, the PPM and the"
        " track record are in the first folder. Let me know if anything is missing.",
    ),
    (
        "Follow-up on our call",
        "Thank you for the time today. As promised, here are the answers"
        " on fees, the GP commitment and the key-person clause.",
    ),
    (
        "Scheduling: meeting next week",
        "Would Tuesday at 10:00 or Thursday at 15:00 work for a"
        " meeting with the partners? We can also do a video call.",
    ),
    (
        "Capital call question",
        "Could you confirm the date and the amount of the first capital"
        " call, and whether the wire instructions are the same as last time?",
    ),
    (
        "Re-up into {fund}",
        "We are considering a re-up into {fund}. Could you share the latest"
        " quarterly report and the pipeline of the last two quarters?",
    ),
)
REPLIES = (
    "Thanks, this is helpful. I'll review it with our investment committee this week.",
    "Tuesday works for us. Please send an invitation to the whole team.",
    "We received it, thank you. One more question on the management fee step-down.",
    "Confirmed. Our operations team will be in touch about the wire.",
)
NEWSLETTER_SENDERS = ("news@privateequity-weekly.example", "digest@lpnews.example")
PUBLIC = ("gmail.com", "outlook.com", "yahoo.com")


@dataclass(frozen=True)
class Person:
    """Someone at an investor the corpus writes to and from."""

    name: str
    email: str
    website: str | None


def corpus(
    team: Sequence[str],
    people: Sequence[Person],
    count: int,
    *,
    seed: int = 7,
    start: datetime = datetime(2026, 1, 5, 9, tzinfo=UTC),
    days: int = 330,
    fund: str = "Fund III",
    anchor: Person | None = None,
    anchor_share: float = 0.0,
) -> Iterator[tuple[str, bytes]]:
    """``count`` (mailbox, message) pairs: the team member whose mailbox holds the message, and
    its bytes (a thread's messages count one each). ``anchor`` gets about ``anchor_share`` of
    the threads (the busy investor whose timeline is timed)."""
    rng = random.Random(seed)
    team_domain = team[0].rpartition("@")[2]
    made = 0
    number = 0
    while made < count:
        number += 1
        when = start + timedelta(minutes=rng.randrange(days * 24 * 60))
        kind = rng.random()
        member = rng.choice(team)
        if kind < 0.05:
            yield (
                member,
                _message(
                    number,
                    rng.choice(NEWSLETTER_SENDERS),
                    member,
                    "This week in private markets",
                    "The week's fundraising news.",
                    when,
                    team_domain,
                    extra="List-Unsubscribe: <mailto:unsubscribe@lpnews.example>\r\n",
                ),
            )
            made += 1
            continue
        if kind < 0.08:
            other = rng.choice([t for t in team if t != member] or [member])
            yield (
                member,
                _message(
                    number, member, other, "Pipeline notes", "Notes for Monday.", when, team_domain
                ),
            )
            made += 1
            continue
        if kind < 0.13:
            stranger = f"{_word(rng)}.{_word(rng)}@{rng.choice(PUBLIC)}"
            yield (
                member,
                _message(
                    number,
                    stranger,
                    member,
                    "Question about your fund",
                    "Are you raising a new fund this year?",
                    when,
                    team_domain,
                ),
            )
            made += 1
            continue
        if anchor is not None and rng.random() < anchor_share:
            person = anchor
        else:
            person = rng.choice(people)
        counterpart = person.email
        if kind < 0.23 and person.website:  # a colleague the CRM does not know: a proposal
            domain = website_domain(person.website) or person.email.rpartition("@")[2]
            counterpart = f"{_word(rng)}@{domain}"
        subject, body = rng.choice(TOPICS)
        subject, body = subject.format(fund=fund), body.format(fund=fund)
        root = f"<t{seed}.{number}@{team_domain}>"
        replies = rng.choice((0, 1, 1, 2, 3))
        yield (
            member,
            _message(
                number, member, counterpart, subject, body, when, team_domain, message_id=root
            ),
        )
        made += 1
        previous, quoted = root, body
        for reply in range(replies):
            if made >= count:
                break
            when += timedelta(hours=rng.randrange(1, 72))
            text = rng.choice(REPLIES)
            sender, to = (counterpart, member) if reply % 2 == 0 else (member, counterpart)
            own = f"<r{seed}.{number}.{reply}@{sender.rpartition('@')[2]}>"
            quote = "\n".join(f"> {line}" for line in quoted.splitlines())
            yield (
                member,
                _message(
                    number,
                    sender,
                    to,
                    f"Re: {subject}",
                    f"{text}\n\nOn {format_datetime(when)}, {to} wrote:\n{quote}",
                    when,
                    team_domain,
                    message_id=own,
                    in_reply_to=previous,
                    references=f"{root} {previous}".strip(),
                ),
            )
            made += 1
            previous, quoted = own, text


def _message(
    number: int,
    sender: str,
    to: str,
    subject: str,
    body: str,
    when: datetime,
    domain: str,
    *,
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    extra: str = "",
) -> bytes:
    headers = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Date: {format_datetime(when)}\r\n"
        f"Message-ID: {message_id or f'<m{number}.{when.timestamp():.0f}@{domain}>'}\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
    )
    if in_reply_to:
        headers += f"In-Reply-To: {in_reply_to}\r\nReferences: {references}\r\n"
    text = body.replace("\n", "\r\n")
    return (headers + extra + "\r\n" + text + "\r\n").encode("utf-8")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(4, 9)))
