"""Formula text → syntax tree, with every syntax error turned into a message and a position.

The grammar lives in ``grammar.lark``. Lark's LALR parser builds the tree bottom-up through an inline
transformer, so nesting never recurses in Python and the depth limit is checked as nodes are built.
Lark's "Unexpected token" exceptions are translated here into sentences a user can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from crm_lib.errors import FormulaError
from crm_lib.formulas.limits import DEFAULT_LIMITS, Limits, active_limits, using_limits

# --- the syntax tree -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Node:
    """Base of the syntax tree: every node knows where it starts and how deep it is."""

    position: int
    depth: int = field(default=1, kw_only=True)


@dataclass(frozen=True, slots=True)
class Literal(Node):
    value: object


@dataclass(frozen=True, slots=True)
class FieldRef(Node):
    name: str
    braced: bool


@dataclass(frozen=True, slots=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Negate(Node):
    operand: Node


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'"}
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_OPERAND_TOKENS = {"NUMBER", "STRING", "FIELD", "NAME", "LPAR", "ADDSUB"}
_VALUE_START_TOKENS = {"NUMBER", "STRING", "FIELD", "NAME", "LPAR"}


def _unescape(body: str) -> str:
    return _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


class _Builder(Transformer):
    """Builds :class:`Node` objects and enforces the depth limit while parsing.

    Stateless (the limits come from a context variable), so one parser serves every thread.
    """

    @staticmethod
    def _check_depth(depth: int, position: int) -> None:
        limit = active_limits().max_depth
        if depth > limit:
            raise FormulaError(
                f"The formula is nested {depth} levels deep at {position}; the limit is {limit}",
                position=position,
            )

    def _made(self, node: Node, *children: Node) -> Node:
        depth = 1 + max((child.depth for child in children), default=0)
        self._check_depth(depth, node.position)
        object.__setattr__(node, "depth", depth)
        return node

    def number(self, items: list[Token]) -> Node:
        token = items[0]
        text = str(token)
        value: object = float(text) if any(c in text for c in ".eE") else int(text)
        return self._made(Literal(token.start_pos, value))

    def string(self, items: list[Token]) -> Node:
        token = items[0]
        return self._made(Literal(token.start_pos, _unescape(str(token)[1:-1])))

    def field(self, items: list[Token]) -> Node:
        token = items[0]
        return self._made(FieldRef(token.start_pos, str(token)[1:-1], True))

    def bare_name(self, items: list[Token]) -> Node:
        token = items[0]
        upper = str(token).upper()
        if upper in ("TRUE", "FALSE"):
            return self._made(Literal(token.start_pos, upper == "TRUE"))
        return self._made(FieldRef(token.start_pos, str(token), False))

    def call(self, items: list) -> Node:
        name_token = items[0]
        arguments = items[2]
        args = tuple(arguments) if arguments is not None else ()
        return self._made(Call(name_token.start_pos, str(name_token).upper(), args), *args)

    def arguments(self, items: list) -> list[Node]:
        return [item for item in items if isinstance(item, Node)]

    def binary(self, items: list) -> Node:
        left, op, right = items
        symbol = "!=" if str(op) == "<>" else str(op)
        return self._made(Binary(op.start_pos, symbol, left, right), left, right)

    def signed(self, items: list) -> Node:
        sign, operand = items
        if str(sign) == "+":
            return operand
        if isinstance(operand, Literal) and type(operand.value) in (int, float):
            return self._made(Literal(sign.start_pos, -operand.value))  # type: ignore[operator]
        return self._made(Negate(sign.start_pos, operand), operand)

    def group(self, items: list) -> Node:
        inner = items[1]
        self._check_depth(inner.depth + 1, items[0].start_pos)
        object.__setattr__(inner, "depth", inner.depth + 1)
        return inner


_GRAMMAR = (Path(__file__).parent / "grammar.lark").read_text(encoding="utf-8")
_LEXER = Lark(_GRAMMAR, parser="lalr")
_PARSER = Lark(_GRAMMAR, parser="lalr", transformer=_Builder())


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Node:
    """The syntax tree of ``text``, or a :class:`FormulaError` naming the problem and its position."""
    if len(text) > limits.max_formula_length:
        raise FormulaError(
            f"The formula is {len(text):,} characters long; the limit is {limits.max_formula_length:,}",
            position=limits.max_formula_length,
        )
    if not text.strip():
        raise FormulaError("The formula is empty", position=0)
    with using_limits(limits):
        try:
            return _PARSER.parse(text)
        except UnexpectedInput as exc:
            raise _syntax_error(text, exc) from None


def _syntax_error(text: str, exc: UnexpectedInput) -> FormulaError:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = text[pos]
        if char in "\"'":
            message = f"Unclosed text starting at {pos}: add a closing {char}"
        elif char == "{":
            message = f"Unclosed field reference starting at {pos}: add a closing }}"
        else:
            message = f"Unexpected character {char!r} at {pos}"
        return FormulaError(message, position=pos)
    if isinstance(exc, UnexpectedToken):
        token = exc.token
        expected = set(exc.expected)
        if token.type == "$END":
            pos = len(text.rstrip())
            opened = _unclosed_parenthesis(text)
            if expected & _OPERAND_TOKENS:
                return FormulaError(
                    f"The formula ends too early at {pos}: a value is missing", position=pos
                )
            if opened is not None:
                return FormulaError(
                    f"Missing ')' at {pos} to close the '(' at {opened}", position=pos
                )
            return FormulaError(f"The formula ends too early at {pos}", position=pos)
        pos = token.start_pos if token.start_pos is not None else 0
        shown = str(token)
        if token.type in ("RPAR", "COMMA") and expected & _OPERAND_TOKENS:
            return FormulaError(f"Expected a value before {shown!r} at {pos}", position=pos)
        if token.type == "RPAR":
            return FormulaError(f"Unmatched ')' at {pos}", position=pos)
        if token.type == "COMMA":
            return FormulaError(
                f"Unexpected ',' at {pos}: commas separate a function's arguments", position=pos
            )
        before = re.search(r"([A-Za-z_][A-Za-z0-9_]*)\s+$", text[:pos])
        if token.type == "NAME" and before is not None:
            return FormulaError(
                f"Unexpected {shown!r} at {pos}: a field name with spaces needs braces, "
                f"like {{{before.group(1)} {shown}}}",
                position=pos,
            )
        if token.type in _VALUE_START_TOKENS and not (expected & _VALUE_START_TOKENS):
            return FormulaError(
                f"Missing operator before {shown!r} at {pos} (use & to join text)", position=pos
            )
        return FormulaError(f"Unexpected {shown!r} at {pos}", position=pos)
    return FormulaError(f"Syntax error at {exc.pos_in_stream}", position=exc.pos_in_stream)


def _unclosed_parenthesis(text: str) -> int | None:
    """Where the last '(' that is never closed starts (ignoring text and field names)."""
    stack: list[int] = []
    for token in _LEXER.lex(text, dont_ignore=False):
        if token.type == "LPAR":
            stack.append(token.start_pos)
        elif token.type == "RPAR" and stack:
            stack.pop()
    return stack[-1] if stack else None
