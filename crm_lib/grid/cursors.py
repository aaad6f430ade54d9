"""Keyset cursors: "the rows after this one" for a sorted list of investors, as a short opaque
token an API client passes back (``after=``).

Why: a page number means "skip N rows", and while others add or archive investors ahead of
the page, N rows is no longer where the reader stopped: rows are seen twice or never. A cursor
holds the last row's sort keys and id, so the next page starts right after that row wherever
it now stands, and costs a binary search in the view's remembered order
(:mod:`crm_lib.grid.ordered_ids`), not an OFFSET walk.

The token is URL-safe base64 of JSON: the sort it belongs to (columns and directions), the
keys and the id. It is not a secret and is not signed: a forged one can only name a place in
a list the caller may read anyway; one that does not parse, or belongs to another sort, is
refused with a message that says so.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from crm_lib.errors import ValidationError
from crm_lib.grid.ordered_ids import SortTerm

#: A cursor's length at most: sort keys are names, dates, amounts, owners and statuses; a page
#: whose last row sorts on a longer value (a long text field) gives no cursor (page by number).
MAX_CURSOR = 1_000


def encode(terms: Sequence[SortTerm], keys: Sequence[Any], investor_id: int) -> str | None:
    """The cursor after the row with these sort ``keys`` and id (None if a key is a blob,
    which no field stores, or the keys make it longer than :data:`MAX_CURSOR`)."""
    if any(isinstance(key, bytes | bytearray | memoryview) for key in keys):
        return None
    body = {"sort": _signature(terms), "keys": list(keys), "id": int(investor_id)}
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    token = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    return token if len(token) <= MAX_CURSOR else None


def decode(token: str, terms: Sequence[SortTerm]) -> tuple[list[Any], int]:
    """The keys and id a cursor holds, checked against the sort it is used with."""
    if not isinstance(token, str) or not token or len(token) > MAX_CURSOR:
        raise ValidationError(
            f"The cursor must be the 'next' value of an earlier page (1 to {MAX_CURSOR:,}"
            " characters)",
            field="after",
        )
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        keys, investor_id, sort = body["keys"], body["id"], body["sort"]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise ValidationError(
            "The cursor is not one this server gave: pass the 'next' value of an earlier"
            " page unchanged, or start from the first page",
            field="after",
        ) from None
    valid = (
        isinstance(keys, list)
        and isinstance(investor_id, int)
        and len(keys) == len(terms)
        and all(key is None or isinstance(key, int | float | str) for key in keys)
    )
    if not valid or sort != _signature(terms):
        raise ValidationError(
            "The cursor belongs to another sort: start again from the first page",
            field="after",
        )
    return keys, investor_id


def _signature(terms: Sequence[SortTerm]) -> list[str]:
    return [f"{'-' if t.descending else ''}{t.column}" for t in terms]
