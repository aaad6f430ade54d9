"""Who a message is between: the team member, its direction, the investors and people it
concerns, and the investors it may concern (proposals), decided from addresses only.

:class:`Directory` is read once per run (:func:`load_directory`) and then matches each message
in memory, so matching costs dictionary lookups (bench_email.py times it alone):

* **team**: the team's own addresses and the fund's internal domains (``CRM_INTERNAL_DOMAINS``,
  the admin page's list, and the team's non-public domains). These are never counterparties;
  mail with no one else on it is internal and never linked or shown.
* **people**: every address of every live person of a live investor (their email and the
  aliases an admin added), folded by :func:`crm_lib.mail.addresses.canonical`. A match links
  the message to that person and investor at once.
* **domains**: an investor's website domain and its people's (non-public) email domains. A
  counterparty matching only that way becomes a proposal, never a link; public mail domains
  never match; a domain once rejected for an investor is not proposed for it again.
* **blocklist**: addresses and ``@domains`` whose mail is not captured at all.

A proposal may offer to add its sender as a new person only when the team wrote to that address
(the message is outbound, or the address was written to before): never for cold inbound mail.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from crm_lib.context import Context
from crm_lib.mail.addresses import canonical, domain_of, is_public_domain, is_role_address
from crm_lib.mail.addresses import website_domain as domain_of_website
from crm_lib.mail.parse import ParsedEmail
from crm_lib.storage.reads import LIVE

Direction = Literal["inbound", "outbound", "internal"]
#: How sure a domain-only match is: an investor's own website is stronger evidence than the
#: domain its people happen to write from. Shared between candidates when several investors
#: have the domain.
WEBSITE_CONFIDENCE = 0.8
PEOPLE_DOMAIN_CONFIDENCE = 0.6
#: app_settings key of the internal domains an admin set on the admin page.
INTERNAL_DOMAINS_SETTING = "email_internal_domains"


@dataclass(frozen=True)
class Link:
    """The message concerns this person (and so their investor)."""

    investor_id: int
    person_id: int
    address: str


@dataclass(frozen=True)
class Proposal:
    """The message may concern this investor: the evidence, for a person to decide."""

    investor_id: int
    address: str
    name: str
    evidence: str
    confidence: float
    may_add_person: bool


@dataclass(frozen=True)
class Match:
    """What one message is, for storage and for the counts a run reports."""

    direction: Direction
    team_member_id: int | None
    links: tuple[Link, ...] = ()
    proposals: tuple[Proposal, ...] = ()
    blocked: str | None = None  # why it is not captured at all


@dataclass
class Directory:
    """The addresses and domains a run matches against (see the module docstring)."""

    team: dict[str, int] = field(default_factory=dict)  # canonical address -> user id
    internal_domains: frozenset[str] = frozenset()
    people: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # -> (person, investor)
    domains: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # -> (investor, how)
    investor_names: dict[int, str] = field(default_factory=dict)
    rejected: set[tuple[int, str]] = field(default_factory=set)  # (investor id, domain)
    written_to: set[str] = field(default_factory=set)  # canonical addresses the team wrote to
    blocked_addresses: frozenset[str] = frozenset()
    blocked_domains: frozenset[str] = frozenset()

    def is_team(self, address: str) -> bool:
        key = canonical(address)
        return key is not None and (key in self.team or domain_of(key) in self.internal_domains)

    def match(self, message: ParsedEmail, owner_id: int | None = None) -> Match:
        """Match one message; ``owner_id`` is the team member whose mailbox it came from."""
        participants = [(message.from_name, message.from_address)]
        participants += [("", a) for a in (*message.to_addresses, *message.cc_addresses)]
        keyed = [(name, address, canonical(address)) for name, address in participants]
        for _, address, key in keyed:
            if key is None:
                continue
            if key in self.blocked_addresses:
                return Match("internal", owner_id, blocked=f"blocklisted address ({address})")
            if domain_of(key) in self.blocked_domains:
                return Match(
                    "internal", owner_id, blocked=f"blocklisted domain (@{domain_of(key)})"
                )
        sender_key = keyed[0][2]
        from_team = sender_key is not None and self.is_team(message.from_address)
        outsiders = [
            (name, address, key)
            for name, address, key in keyed
            if key is not None and not self.is_team(address)
        ]
        if not outsiders:
            return Match("internal", self._team_member(keyed, from_team, owner_id))
        direction: Direction = "outbound" if from_team else "inbound"
        team_member = self._team_member(keyed, from_team, owner_id)
        if direction == "outbound":
            self.written_to.update(key for _, _, key in outsiders)
        # one link per investor (the store holds one per message and investor): a message with
        # two people of the same investor is linked through the first of them (the sender, else
        # the first recipient), not refused with the rest of its mailbox
        links: dict[int, Link] = {}
        for _, address, key in outsiders:
            for person_id, investor_id in self.people.get(key, ()):
                links.setdefault(investor_id, Link(investor_id, person_id, address))
        linked_investors = {link.investor_id for link in links.values()}
        proposals: dict[int, Proposal] = {}
        for name, address, key in outsiders:
            if key in self.people or is_role_address(address):
                continue
            domain = domain_of(key)
            if is_public_domain(domain):
                continue
            candidates = [
                (investor_id, how)
                for investor_id, how in self.domains.get(domain, ())
                if investor_id not in linked_investors
                and (investor_id, domain) not in self.rejected
            ]
            for investor_id, how in candidates:
                if investor_id in proposals:
                    continue
                base = WEBSITE_CONFIDENCE if how == "website" else PEOPLE_DOMAIN_CONFIDENCE
                confidence = round(base / len(candidates), 2)
                investor = self.investor_names.get(investor_id, f"investor {investor_id}")
                where = "website" if how == "website" else "people's email"
                evidence = f"@{domain} is the domain of {investor}'s {where}"
                if len(candidates) > 1:
                    evidence += f" (one of {len(candidates)} investors with this domain)"
                proposals[investor_id] = Proposal(
                    investor_id,
                    address,
                    name or message.recipient_names.get(address, ""),
                    evidence,
                    confidence,
                    may_add_person=direction == "outbound" or key in self.written_to,
                )
        return Match(direction, team_member, tuple(links.values()), tuple(proposals.values()))

    def _team_member(
        self, keyed: list[tuple[str, str, str | None]], from_team: bool, owner_id: int | None
    ) -> int | None:
        """The sender when the team sent it; else the first team recipient with a login; else
        the mailbox's owner."""
        candidates = keyed[:1] if from_team else keyed[1:]
        for _, _, key in candidates:
            if key is not None and key in self.team:
                return self.team[key]
        return owner_id


def load_directory(ctx: Context, internal_domains: tuple[str, ...] = ()) -> Directory:
    """Read what matching needs from the database (live rows only)."""
    db = ctx.db
    directory = Directory()
    team_domains: set[str] = set()
    for user_id, address in db.execute(f"SELECT id, email FROM users WHERE {LIVE}").fetchall():
        key = canonical(address or "")
        if key is not None:
            directory.team[key] = user_id
            if not is_public_domain(domain_of(key)):
                team_domains.add(domain_of(key))
    for user_id, address in db.execute(
        f"SELECT user_id, email FROM email_accounts WHERE {LIVE}"
    ).fetchall():
        key = canonical(address or "")
        if key is not None and user_id is not None:
            directory.team.setdefault(key, user_id)
    directory.internal_domains = frozenset(
        team_domains
        | {d.casefold().lstrip("@") for d in internal_domains if d.strip()}
        | set(stored_internal_domains(ctx))
    )
    directory.investor_names = dict(
        db.execute(f"SELECT id, name FROM fundraising_investors WHERE {LIVE}").fetchall()
    )
    people: defaultdict[str, list[tuple[int, int]]] = defaultdict(list)
    domains: defaultdict[str, list[tuple[int, str]]] = defaultdict(list)
    # People of archived investors link too (read paths hide them; a restore shows them again);
    # only live investors are proposed by domain.
    rows = db.execute(
        "SELECT p.id, p.investor_id, p.email, i.deleted_at IS NULL FROM fundraising_contacts p"
        " JOIN fundraising_investors i ON i.id = p.investor_id"
        " WHERE p.deleted_at IS NULL AND p.email IS NOT NULL"
        " UNION ALL SELECT p.id, p.investor_id, a.address, i.deleted_at IS NULL"
        " FROM email_aliases a JOIN fundraising_contacts p ON p.id = a.person_id"
        " JOIN fundraising_investors i ON i.id = p.investor_id"
        " WHERE a.deleted_at IS NULL AND p.deleted_at IS NULL"
    ).fetchall()
    for person_id, investor_id, address, live in rows:
        key = canonical(address)
        if key is None or directory.is_team(key):
            continue
        if (person_id, investor_id) not in people[key]:
            people[key].append((person_id, investor_id))
        domain = domain_of(key)
        if live and not is_public_domain(domain) and (investor_id, "people") not in domains[domain]:
            domains[domain].append((investor_id, "people"))
    for investor_id, website in db.execute(
        f"SELECT id, website FROM fundraising_investors WHERE {LIVE} AND website IS NOT NULL"
    ).fetchall():
        domain = domain_of_website(website)
        if domain and domain not in directory.internal_domains:
            found = domains[domain]
            found[:] = [(i, how) for i, how in found if i != investor_id]
            found.append((investor_id, "website"))
    directory.people = dict(people)
    directory.domains = {
        domain: found
        for domain, found in domains.items()
        if domain not in directory.internal_domains
    }
    directory.rejected = {
        (investor_id, domain)
        for investor_id, domain in db.execute(
            f"SELECT investor_id, domain FROM email_domain_decisions WHERE {LIVE}"
        ).fetchall()
    }
    directory.written_to = {
        key
        for (value,) in db.execute(
            "SELECT value FROM emails, json_each(emails.to_addresses)"
            " WHERE emails.direction = 'outbound' AND emails.deleted_at IS NULL"
            " UNION SELECT value FROM emails, json_each(emails.cc_addresses)"
            " WHERE emails.direction = 'outbound' AND emails.deleted_at IS NULL"
        ).fetchall()
        if (key := canonical(value)) is not None
    }
    patterns = [
        p.strip().casefold()
        for (p,) in db.execute(f"SELECT pattern FROM email_blocklist WHERE {LIVE}").fetchall()
    ]
    directory.blocked_domains = frozenset(p.lstrip("@") for p in patterns if p.startswith("@"))
    directory.blocked_addresses = frozenset(
        key for p in patterns if not p.startswith("@") and (key := canonical(p)) is not None
    )
    return directory


def stored_internal_domains(ctx: Context) -> list[str]:
    """The internal domains an admin set (app_settings), lower case."""
    row = ctx.db.execute(
        f"SELECT value FROM app_settings WHERE key = ? AND {LIVE}", [INTERNAL_DOMAINS_SETTING]
    ).fetchone()
    return [str(d).casefold() for d in json.loads(row[0])] if row else []
