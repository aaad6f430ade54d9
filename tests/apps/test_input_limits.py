"""Every text box a person types into carries the declared limit of what it takes
(crm_lib.limits), so the browser stops typing where the services would refuse; read-only boxes
(a link or token shown once) need none."""

from __future__ import annotations

import ast
from pathlib import Path

from crm_lib.limits import TEXT_LIMITS

ROOT = Path(__file__).resolve().parents[2]
TEXT_WIDGETS = {"TextInput", "TextAreaInput", "PasswordInput"}
#: Boxes without a limit of their own, and why.
EXEMPT = {
    # many options, one per line: each is checked against "option_name" when saved, and the box
    # keeps Panel's own 5,000-character bound
    ("apps/grid/fields_panel.py", "new_choices"),
    ("apps/grid/fields_panel.py", "options_box"),
}


def text_boxes() -> list[tuple[str, int, str, ast.Call]]:
    found = []
    for path in sorted((ROOT / "apps").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Assign | ast.AnnAssign):
                continue
            call = node.value
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                continue
            if call.func.attr not in TEXT_WIDGETS:
                continue
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            found.append((str(path.relative_to(ROOT)), node.lineno, name, call))
    return found


def test_every_editable_text_box_has_a_declared_max_length() -> None:
    missing, unknown = [], []
    for path, line, name, call in text_boxes():
        keywords = {k.arg: k.value for k in call.keywords}
        read_only = (
            isinstance(keywords.get("disabled"), ast.Constant) and keywords["disabled"].value
        )
        if read_only or (path, name) in EXEMPT:
            continue
        limit = keywords.get("max_length")
        if limit is None:
            missing.append(f"{path}:{line} {name}")
            continue
        # max_length=limits.max_length("kind"): the kind must be declared
        if isinstance(limit, ast.Call) and limit.args and isinstance(limit.args[0], ast.Constant):
            if limit.args[0].value not in TEXT_LIMITS:
                unknown.append(f"{path}:{line} {name}: {limit.args[0].value!r}")
        else:
            unknown.append(f"{path}:{line} {name}: not limits.max_length(<kind>)")
    assert missing == [] and unknown == []
    assert len(text_boxes()) > 20  # the walk finds the pages' boxes
