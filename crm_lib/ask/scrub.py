"""The privacy boundary of plain-English questions: before a question may leave the box, every
known investor name, person name, email address, domain of a known investor, phone number and
amount in it is replaced by a typed placeholder (``INVESTOR_1``, ``PERSON_1``, ``EMAIL_1``,
``DOMAIN_1``, ``PHONE_1``, ``AMOUNT_1``). The values stay here: the SQL that comes back names the
placeholders as parameters (``$INVESTOR_1``) and they are bound locally.

Names are matched over the current data, case- and accent-folded, word by word, the longest
match first (so "Smith Family Office" is one investor, not a person "Smith" and some words); an
investor wins over a person of the same name. A one-word name that is a common word ("A",
"The") is not matched: it would eat every question. Email addresses and phone numbers are scrubbed
whatever they are, known or not; amounts when they carry a currency, a magnitude ("5m", "2
billion") or thousands separators. Why a word index rather than one regex of 400,000 names: a
lookup per word keeps a question under a few milliseconds at 100,000 investors and 300,000 people.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from crm_lib.mail.addresses import is_public_domain
from crm_lib.search.analyzer import STOP_WORDS, fold

KINDS = ("INVESTOR", "PERSON", "EMAIL", "DOMAIN", "PHONE", "AMOUNT")
_WORD = re.compile(r"\w+", re.UNICODE)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_DOMAIN = re.compile(r"(?<![\w@.-])(?:[\w-]+\.)+[a-z]{2,}(?![\w.-]*@)", re.UNICODE | re.IGNORECASE)
_MAGNITUDES = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mm": 10**6,
    "mn": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
}
_AMOUNT = re.compile(
    r"(?<![\w.])(?P<currency>[$€£¥]|USD|EUR|GBP|CHF)?\s?"
    r"(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<magnitude>k|mm|mn|m|bn|b|thousand|million|billion)\b)?"
    r"(?P<suffix>\s?(?:USD|EUR|GBP|CHF|dollars|euros|pounds)\b)?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d ().-]{5,}\d(?![\w])")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class Scrubbed:
    """A question with placeholders, and what each placeholder stands for (kept local)."""

    text: str
    values: dict[str, Any] = field(default_factory=dict)


class Matcher:
    """Known names as word tuples, indexed by their first word."""

    def __init__(
        self,
        investors: Iterable[str],
        people: Iterable[str],
        domains: Iterable[str],
    ) -> None:
        self.names: dict[tuple[str, ...], tuple[str, str]] = {}
        self.by_first: dict[str, set[int]] = {}
        for kind, names in (("PERSON", people), ("INVESTOR", investors)):  # investors win
            for name in names:
                words = tuple(_WORD.findall(fold(name or "")))
                if words and not (len(words) == 1 and _too_common(words[0])):
                    self.names[words] = (kind, name)
                    self.by_first.setdefault(words[0], set()).add(len(words))
        hosts = (_host(domain) for domain in domains if domain)
        self.domains = {host for host in hosts if host and not is_public_domain(host)}

    @classmethod
    def from_database(cls, conn: Any) -> Matcher:
        """The live investors and people, and the domains of investors' websites and of their
        people's addresses (public mail providers left out)."""
        investors = [
            r[0]
            for r in conn.execute("SELECT name FROM fundraising_investors WHERE deleted_at IS NULL")
        ]
        people = [
            r[0]
            for r in conn.execute(
                "SELECT full_name FROM fundraising_contacts WHERE deleted_at IS NULL"
            )
        ]
        domains = {
            host
            for (website,) in conn.execute(
                "SELECT website FROM fundraising_investors"
                " WHERE deleted_at IS NULL AND website IS NOT NULL AND website != ''"
            )
            if (host := _host(website))
        }
        domains.update(
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT lower(substr(email, instr(email, '@') + 1))"
                " FROM fundraising_contacts"
                " WHERE deleted_at IS NULL AND email LIKE '%_@_%'"
            )
        )
        return cls(investors, people, domains)

    def scrub(self, question: str) -> Scrubbed:
        """``question`` with every known name and every address, phone and amount replaced."""
        result = Scrubbed(question)
        placeholders: dict[tuple[str, str], str] = {}

        def placeholder(kind: str, key: str, value: Any) -> str:
            found = placeholders.get((kind, key))
            if found is None:
                count = sum(1 for k, _ in placeholders if k == kind) + 1
                found = placeholders[(kind, key)] = f"{kind}_{count}"
                result.values[found] = value
            return found

        text = _EMAIL.sub(lambda m: placeholder("EMAIL", m.group().casefold(), m.group()), question)
        text = _DOMAIN.sub(
            lambda m: (
                placeholder("DOMAIN", fold(m.group()), m.group().casefold())
                if _host(m.group()) in self.domains
                else m.group()
            ),
            text,
        )
        text = self._names(text, placeholder)
        text = _AMOUNT.sub(lambda m: _amount(m, placeholder), text)
        text = _PHONE.sub(lambda m: _phone(m, placeholder), text)
        result.text = text
        return result

    def _names(self, text: str, placeholder: Any) -> str:
        tokens = [(m.start(), m.end(), fold(m.group())) for m in _WORD.finditer(text)]
        words = [t[2] for t in tokens]
        matches = []
        for i, word in enumerate(words):
            for width in self.by_first.get(word, ()):
                key = tuple(words[i : i + width])
                if len(key) == width and key in self.names:
                    matches.append((width, i, key))
        matches.sort(key=lambda m: (-m[0], m[1]))
        taken: set[int] = set()
        chosen = []
        for width, i, key in matches:
            span = set(range(i, i + width))
            if not span & taken:
                taken |= span
                chosen.append((i, width, key))
        named = [
            (i, width, placeholder(*self._kind_key_name(key)))
            for i, width, key in sorted(chosen)  # numbered in reading order
        ]
        for i, width, name in reversed(named):  # replaced from the end: spans stay valid
            text = text[: tokens[i][0]] + name + text[tokens[i + width - 1][1] :]
        return text

    def _kind_key_name(self, key: tuple[str, ...]) -> tuple[str, str, str]:
        kind, name = self.names[key]
        return kind, " ".join(key), name


def _too_common(word: str) -> bool:
    """A one-word name that would eat ordinary words of every question ("A", "The")."""
    return len(word) < 2 or word in STOP_WORDS


def _host(value: str) -> str:
    value = value.strip()
    host = urlsplit(value if "//" in value else f"//{value}").hostname or ""
    host = fold(host)
    return host[4:] if host.startswith("www.") else host


def _amount(match: re.Match[str], placeholder: Any) -> str:
    number, magnitude = match.group("number"), (match.group("magnitude") or "").lower()
    has_money = bool(match.group("currency") or match.group("suffix") or magnitude)
    if not has_money and "," not in number:
        return match.group()  # "30 days", "Fund 3", "2026": not amounts
    try:
        value = Decimal(number.replace(",", "")) * _MAGNITUDES.get(magnitude, 1)
    except InvalidOperation:
        return match.group()
    if not has_money and value < 1_000:
        return match.group()
    amount = int(value) if value == value.to_integral_value() else float(value)
    lead = match.group()[: len(match.group()) - len(match.group().lstrip())]
    return lead + placeholder("AMOUNT", str(amount), amount)


def _phone(match: re.Match[str], placeholder: Any) -> str:
    text = match.group().strip()
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7 or _ISO_DATE.match(text) or re.fullmatch(r"[\d.]+", text):
        return match.group()  # a date, a plain number: not a phone
    return placeholder("PHONE", digits, text)
