"""The one identifier-quoting helper: every table or column name put into SQL text goes through it.

Values never go into SQL text; they are always bound parameters.
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote(identifier: str) -> str:
    """Quote a table/column name, refusing anything that is not a plain identifier."""
    if not _IDENTIFIER.match(identifier):
        raise ValueError(f"Not a valid SQL identifier: {identifier!r}")
    return f'"{identifier}"'
