"""Docs and packaging that cannot drift: README commands, CLI, settings, pins in both files."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from crm_lib.cli import main
from crm_lib.config import SETTINGS
from crm_lib.limits import TEXT_LIMITS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = re.match(r"^\s*-?\s*\"?([A-Za-z0-9_.\-]+)==([^\",\s]+)", line)
        if match:
            found[match[1].lower()] = match[2]
    return found


def test_readme_first_screen_has_both_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:40])
    assert "./panel_serve.sh" in first_screen
    assert "./run_tests.sh" in first_screen
    assert "http://127.0.0.1:5006" in first_screen


def test_ci_runs_the_readme_test_command() -> None:
    assert "./run_tests.sh" in (ROOT / ".ci" / "run").read_text()


def test_every_cli_command_and_setting_is_documented() -> None:
    for name in main.commands:
        assert f"crm {name}" in README, f"README does not document `crm {name}`"
    for setting in SETTINGS:
        assert setting.env_var in README, f"README does not document {setting.env_var}"


def test_environment_yml_mirrors_the_pins_in_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        declared += [d for d in extra if "==" in d]
    assert pins(declared) == pins((ROOT / "environment.yml").read_text().splitlines())
    assert all("==" in d for d in project["dependencies"]), "runtime dependencies must be pinned"


def test_formula_reference_is_generated_from_the_registry() -> None:
    from crm_lib.formulas.reference import render

    committed = (ROOT / "docs" / "formulas.md").read_text()
    assert committed == render(), (
        "docs/formulas.md is stale: python -m crm_lib.formulas.reference > docs/formulas.md"
    )


def test_readme_lists_every_text_limit_with_its_value() -> None:
    """The limits table in README is crm_lib.limits.TEXT_LIMITS, row for row."""
    rows = dict(re.findall(r"^\| `(\w+)` \| ([0-9,]+) \|", README, re.MULTILINE))
    assert {k: rows.get(k) for k in TEXT_LIMITS} == {
        k: f"{limit.max_length:,}" for k, limit in TEXT_LIMITS.items()
    }
