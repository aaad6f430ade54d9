"""Rewriting formula text when a field it names is renamed.

Airtable keeps formulas working across a field rename; so do we. The formula is parsed, so only
real field references change: a string literal that happens to contain "{Old name}" is left alone,
as are fields with other names. References are matched as the compiler matches them: exactly,
spaces included, or differing only in case when no other field has that name ignoring case.
"""

from __future__ import annotations

from crm_lib.formulas.parser import Binary, Call, FieldRef, Negate, Node, parse


def _references(node: Node) -> list[FieldRef]:
    """Every field reference in the tree, walked with an explicit stack (no recursion limit)."""
    found: list[FieldRef] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, FieldRef):
            found.append(item)
        elif isinstance(item, Call):
            stack.extend(item.args)
        elif isinstance(item, Binary):
            stack.extend((item.left, item.right))
        elif isinstance(item, Negate):
            stack.append(item.operand)
    return found


def rename_references(text: str, old: str, new: str) -> str:
    """``text`` with every reference to field ``old`` pointing at ``new`` instead (braced)."""
    refs = [
        r for r in _references(parse(text)) if r.name == old or r.name.casefold() == old.casefold()
    ]
    out = text
    for ref in sorted(refs, key=lambda r: r.position, reverse=True):
        end = out.index("}", ref.position) + 1 if ref.braced else ref.position + len(ref.name)
        out = out[: ref.position] + "{" + new + "}" + out[end:]
    return out
