"""People cells: who an export's contact columns name, however the team typed them.

Real exports hold more than Airtable's own ``Jane Doe <jane@lp.com>, Bob Roe <bob@lp.com>``:
several addresses in one cell separated by commas, semicolons, new lines or `` / ``; an address
followed by a remark (``jane@lp.com (needs to be verified)``, ``bob@lp.com - assistant``); a
"Contact Name" cell naming two people (``Jane Doe / Bob Roe``) next to an email cell holding their
two addresses. :func:`split_people` reads one cell into :class:`PersonText` items (name, address,
and the remark, which is kept, never dropped); :func:`pair_people` joins a row's name, email,
title and phone cells into people, position by position.

Addresses are found with :mod:`email.utils` for the ``Name <address>`` form and a plain address
pattern otherwise; a name is never guessed from a remark.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from crm_lib.importers.cells import CellError, name_from_email

#: One address, as people type them (what the grid's email type accepts is checked later).
_ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+"
)
_REMARK_EDGES = " \t,;:-\u2013\u2014()[]\"'"
#: A name: letters (any script), spaces, and the punctuation names carry.
_NAME = re.compile(r"^[^\W\d_][\w .'\u2019,-]*$", re.UNICODE)
MAX_NAME_WORDS = 6
#: Airtable's own form, 'Jane Doe <jane@lp.com>, Bob Roe <bob@lp.com>' (names without quotes,
#: commas or brackets): read by one regex, the common case of a large file.
_ONE_PERSON = r"\s*([^,;<>\"@()/]*?)\s*<([^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+)>\s*"
_AIRTABLE_LIST = re.compile(rf"^{_ONE_PERSON}(?:,{_ONE_PERSON})*$")
_AIRTABLE_PERSON = re.compile(_ONE_PERSON)


@dataclass(frozen=True)
class PersonText:
    """One person as a cell names them: any of name and address, and the remark typed with them."""

    full_name: str | None = None
    email: str | None = None
    note: str | None = None


def _split(text: str, *, commas: bool) -> list[str]:
    """Split at ';', line breaks, ' / ', ' | ' and (with ``commas``) ',', never inside double
    quotes or angle brackets ('"Roe, Bob; Jr" <b@x.com>' is one item)."""
    items: list[str] = []
    current: list[str] = []
    quoted, angle, position, size = False, 0, 0, len(text)
    while position < size:
        char = text[position]
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "<":
            angle += 1
        elif not quoted and char == ">" and angle:
            angle -= 1
        elif not quoted and not angle:
            if char in ";\r\n" or (char == "," and commas):
                items.append("".join(current))
                current = []
                position += 1
                continue
            if (
                char in "/|"
                and text[position - 1 : position] == " "
                and text[position + 1 : position + 2] == " "
            ):
                items.append("".join(current))
                current = []
                position += 2
                continue
        current.append(char)
        position += 1
    items.append("".join(current))
    return items


def _split_commas(text: str) -> list[str]:
    return _split(text, commas=True)


def split_items(text: str, *, commas: bool = True) -> list[str]:
    """A cell's items: split at ';', line breaks, ' / ', ' | ' and (unless ``commas`` is False)
    commas, outside quotes and angle brackets; blank items dropped."""
    return [item.strip() for item in _split(text, commas=commas) if item.strip()]


def _remark(text: str) -> str | None:
    stripped = text.strip(_REMARK_EDGES)
    return stripped or None


def looks_like_name(text: str) -> bool:
    """Short, mostly letters: 'Jane Doe', 'María-José O'Neil'; not 'needs to be verified...'."""
    words = text.split()
    return bool(words) and len(words) <= MAX_NAME_WORDS and bool(_NAME.match(text))


def _one_item(item: str) -> list[PersonText]:
    addresses = _ADDRESS.findall(item)
    if not addresses and "@" in item:  # 'Jane <jane@lp>': keep the name, the broken address noted
        broken = next(
            word for word in item.replace("<", " ").replace(">", " ").split() if "@" in word
        )
        name = item.replace(broken, " ").replace("<", " ").replace(">", " ")
        name = " ".join(name.split()).strip("\"' ,:-")
        if not looks_like_name(name):
            raise CellError(f"{broken!r} is not an email address")
        return [PersonText(full_name=name, note=f"{broken} (not an email address)")]
    if not addresses:
        if "<" in item or ">" in item:  # 'Jane <jane at lp.com>': an address gone wrong
            raise CellError(f"{item!r} is not a person (like Jane Doe <jane@lp.com>)")
        name = item.strip().strip("\"'").strip()
        return [PersonText(full_name=name)] if name else []
    if len(addresses) > 1:  # 'a@x.com b@y.com': several addresses with spaces between them
        rest = item
        for address in addresses:
            rest = rest.replace(address, " ")
        note = _remark(rest.replace("<", " ").replace(">", " "))
        return [PersonText(email=a, note=note if i == 0 else None) for i, a in enumerate(addresses)]
    address = addresses[0]
    before, _, after = item.partition(address)
    if before.rstrip().endswith("<"):  # 'Jane Doe <jane@lp.com> (assistant)'
        name, parsed = parseaddr(f"{before}{address}>")
        name = name.strip() if parsed == address else before.rstrip()[:-1].strip()
        after = after.lstrip()[1:] if after.lstrip().startswith(">") else after
        if before.lstrip().startswith('"'):  # '"Dr. Who (Tardis)" <w@x.com>': as written
            return [PersonText(full_name=name or None, email=address, note=_remark(after))]
    elif before.rstrip().endswith(":"):  # 'see: jane@lp.com', 'cc: ...': words, not a name
        name, after = "", f"{before.rstrip()[:-1]} {after}"
    else:
        name = before
    name = name.strip().strip("\"'").strip(" ,:-")
    remark = _remark(after)
    if name and not looks_like_name(name):  # 'see: jane@lp.com': the words are a remark
        remark = " ".join(filter(None, (_remark(name), remark)))
        name = ""
    return [PersonText(full_name=name or None, email=address, note=remark)]


def split_people(text: str, *, commas: bool = True) -> list[PersonText]:
    """Every person a cell names, in order (see the module docstring for the forms read)."""
    people: list[PersonText] = []
    for item in split_items(text, commas=commas):
        people.extend(_one_item(item))
    return people


def split_names(text: str) -> list[str]:
    """A name column's people: 'Jane Doe / Bob Roe', 'Jane Doe; Bob Roe', 'Jane Doe, Bob Roe'.

    A comma separates people only when every part is a full name of two words or more, so
    'Doe, Jane' (last name first) stays one person."""
    items = split_items(text, commas=False)
    names: list[str] = []
    for item in items:
        parts = [p.strip() for p in _split_commas(item) if p.strip()]
        if len(parts) > 1 and all(len(p.split()) >= 2 for p in parts):
            names.extend(parts)
        else:
            names.append(item)
    return names


def pair_people(
    names: Sequence[str], emails: Sequence[PersonText], titles: Sequence[str], phones: Sequence[str]
) -> list[dict[str, str]]:
    """Join separate name / email / title / phone cells into people, position by position.

    The n-th name goes with the n-th address; an address without a name is named from the cell
    ('Jane Doe <jane@...>') or left for the caller to name from the address; titles and phones are
    shared out the same way when their count matches, else all go to the first person."""
    count = max(len(names), len(emails))
    people: list[dict[str, str]] = []
    for position in range(count):
        person: dict[str, str] = {}
        email = emails[position] if position < len(emails) else None
        name = names[position] if position < len(names) else (email.full_name if email else None)
        if name:
            person["full_name"] = name
        if email is not None and email.email:
            person["email"] = email.email
        if email is not None and email.note:
            person["notes"] = email.note
        people.append(person)
    for part, values in (("title", titles), ("phone", phones)):
        if not values or not people:
            continue
        if len(values) == len(people):
            for person, value in zip(people, values, strict=True):
                person[part] = value
        else:
            people[0][part] = " / ".join(values)
    return people


def people_cell(text: str) -> list[dict[str, Any]]:
    """A people column's cell → person values: 'Jane Doe <jane@lp.com>, bob@lp.com (assistant)'
    → Jane Doe with her address, and Bob (named from his address) with the remark in his notes."""
    if _AIRTABLE_LIST.match(text):
        return [
            {"full_name": name.strip() or name_from_email(address), "email": address}
            for name, address in _AIRTABLE_PERSON.findall(text)
        ]
    people: list[dict[str, Any]] = []
    for item in split_people(text):
        person: dict[str, Any] = {"full_name": item.full_name or name_from_email(item.email or "")}
        if item.email:
            person["email"] = item.email
        if item.note:
            person["notes"] = item.note
        people.append(person)
    return people


def looks_like_people(text: str) -> bool:
    """Whether a cell reads as people with addresses (how a column is proposed as People)."""
    if "@" not in text:
        return False
    try:
        found = split_people(text)
    except CellError:
        return False
    return bool(found) and all(p.email for p in found)
