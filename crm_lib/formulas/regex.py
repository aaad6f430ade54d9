"""Regular expressions on RE2: linear-time matching, so no pattern can hang the server.

Airtable's REGEX functions use RE2 syntax; so do we, through google-re2. RE2 has no backtracking:
its matching time is linear in the text whatever the pattern, so ``(a+)+$`` against a long run of
``a`` costs what any other pattern costs. Patterns are capped in length and compiled once.

google-re2's Python ``search``/``sub`` wrappers decode offsets in Python on every call (several µs);
over a 100,000-record column that dominated a REGEX formula. :class:`LinearRegex` calls the compiled
program's ``Match`` directly on UTF-8 bytes and slices the bytes it returns, which is exact for any
text (offsets are byte offsets into the same bytes) and about ten times faster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import re2

from crm_lib.formulas.limits import active_limits
from crm_lib.formulas.values import EvalError

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a bad pattern is reported to the user, not to stderr
_UNANCHORED = re2._re2.RE2.Anchor.UNANCHORED
_NO_MATCH = (-1, -1)
_TEMPLATE_PART = re.compile(r"\$(\d+)|\$\{(\d+)\}|\$\$")


@dataclass(frozen=True, slots=True)
class _Template:
    """A replacement like ``"$2, $1"`` split into literal bytes and group numbers."""

    parts: tuple[bytes | int, ...]


class LinearRegex:
    """One compiled RE2 pattern with the three operations the REGEX functions need."""

    __slots__ = ("_groups", "_match", "pattern")

    def __init__(self, pattern: str) -> None:
        try:
            compiled = re2.compile(pattern, options=_OPTIONS)
        except re2.error as exc:
            reason = (
                exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            )
            raise EvalError(f"Invalid regular expression {pattern!r}: {reason}") from None
        self.pattern = pattern
        self._match = compiled._regexp.Match
        self._groups = compiled.groups

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in ``text``."""
        data = text.encode()
        return self._match(_UNANCHORED, data, 0, len(data))[0] != _NO_MATCH

    def extract(self, text: str) -> str | None:
        """The first match, or None."""
        data = text.encode()
        start, end = self._match(_UNANCHORED, data, 0, len(data))[0]
        return None if start < 0 else data[start:end].decode()

    def replace(self, text: str, template: str) -> str:
        """Every match replaced by ``template`` (``$1`` inserts group 1), like Airtable."""
        parts = self._template(template).parts
        data = text.encode()
        size = len(data)
        out: list[bytes] = []
        last = position = 0
        while position <= size:
            spans = self._match(_UNANCHORED, data, position, size)
            start, end = spans[0]
            if start < 0:
                break
            out.append(data[last:start])
            for part in parts:
                if type(part) is int:
                    group_start, group_end = spans[part]
                    if group_start >= 0:
                        out.append(data[group_start:group_end])
                else:
                    out.append(part)  # type: ignore[arg-type]
            if end > start:
                last = position = end
            else:
                # An empty match: keep the next character and look again after it.
                following = _next_character(data, start)
                out.append(data[start:following])
                last = position = following
        out.append(data[last:])
        return b"".join(out).decode()

    def _template(self, template: str) -> _Template:
        cached = _TEMPLATES.get((self.pattern, template))
        if cached is not None:
            return cached
        parts: list[bytes | int] = []
        last = 0
        for match in _TEMPLATE_PART.finditer(template):
            parts.append(template[last : match.start()].encode())
            if match.group(0) == "$$":
                parts.append(b"$")
            else:
                group = int(match.group(1) or match.group(2))
                if group > self._groups:
                    raise EvalError(
                        f"The replacement uses ${group} but the pattern has {self._groups} group(s)"
                    )
                parts.append(group)
            last = match.end()
        parts.append(template[last:].encode())
        compiled = _Template(tuple(part for part in parts if part != b""))
        if len(_TEMPLATES) > 512:
            _TEMPLATES.clear()
        _TEMPLATES[(self.pattern, template)] = compiled
        return compiled


def _next_character(data: bytes, index: int) -> int:
    """The byte offset just after the UTF-8 character at ``index`` (or past the end)."""
    index += 1
    while index < len(data) and (data[index] & 0xC0) == 0x80:
        index += 1
    return index


_PATTERNS: dict[str, LinearRegex] = {}
_TEMPLATES: dict[tuple[str, str], _Template] = {}


def compile_regex(pattern: str) -> LinearRegex:
    """The compiled pattern (cached); a bad or oversized pattern is a cell error naming the problem."""
    cached = _PATTERNS.get(pattern)
    if cached is not None:
        return cached
    limit = active_limits().max_regex_length
    if len(pattern) > limit:
        raise EvalError(
            f"Regular expression is {len(pattern):,} characters; the limit is {limit:,}"
        )
    compiled = LinearRegex(pattern)
    if len(_PATTERNS) > 512:
        _PATTERNS.clear()
    _PATTERNS[pattern] = compiled
    return compiled
