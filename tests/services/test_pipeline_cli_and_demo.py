"""`crm pipeline` and `crm tasks` on the demo fund, whose pipeline (per fund, won exactly where
the grid holds a commitment) and tasks (a dozen per team member, some overdue) the demo loader
now makes."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from crm_lib.cli import main
from crm_lib.demo import TEAM


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("pipeline") / "data"
    assert run(data_dir, "init").exit_code == 0
    loaded = run(data_dir, "demo-data", "--investors", "240", "--as-of", "2026-11-25")
    assert loaded.exit_code == 0, loaded.output
    return data_dir


def run(data_dir: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args])


def test_the_pipeline_per_fund_and_stage(demo: Path) -> None:
    shown = run(demo, "pipeline", "--fund", "fund iii")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].startswith("Fund III: target 350,000,000, committed ")
    assert [line.split()[0] for line in lines[1:]] == [
        "Prospect",
        "Intro",
        "Meeting",
        "Diligence",
        "Soft",
        "Committed",
        "Lost",
    ]
    summary = json.loads(run(demo, "pipeline", "--fund", "Fund III", "--json").output)[0]
    stages = {s["name"]: s for s in summary["stages"]}
    assert (
        summary["open_count"]
        == sum(s["count"] for s in summary["stages"] if s["kind"] == "open")
        > 0
    )
    assert stages["Meeting"]["weighted"] == pytest.approx(stages["Meeting"]["expected"] * 0.3)
    assert run(demo, "pipeline", "--fund", "Fund IX").exit_code == 1


def test_tasks_list_mine_overdue_and_add(demo: Path) -> None:
    everyone = json.loads(run(demo, "tasks", "--json").output)
    assert len(everyone) > 20 and all(t["status"] == "open" for t in everyone)
    members = {t["assignee_name"] for t in everyone}
    assert len(members) >= 3
    refused = run(demo, "tasks", "--mine")
    assert refused.exit_code == 2 and "--mine needs --as EMAIL" in refused.output
    overdue = json.loads(run(demo, "tasks", "--overdue", "--json").output)
    assert overdue and all(t["due_on"] < date.today().isoformat() for t in overdue)
    email, name = TEAM[1][0], TEAM[1][1]
    mine = json.loads(run(demo, "tasks", "--mine", "--as", email, "--json").output)
    assert mine and {t["assignee_name"] for t in mine} == {name}
    added = run(
        demo,
        "tasks",
        "add",
        "Call about Fund III",
        "--due",
        "2026-12-01",
        "--investor",
        everyone[0]["investor_name"],
        "--priority",
        "high",
    )
    assert added.exit_code == 0 and added.output.startswith("Added task ")
    bad = run(demo, "tasks", "add", "x", "--investor", "Nobody At All LP")
    assert bad.exit_code == 1 and "No investor is named 'Nobody At All LP'" in bad.output


def test_automations_from_the_shell(demo: Path) -> None:
    added = run(demo, "automations", "add", "graveyard_after_silence")
    assert added.exit_code == 0 and added.output.startswith("Added (off): Graveyard after 180")
    listed = run(demo, "automations", "list")
    assert "[off] Graveyard after 180 days without a two-way touch: When" in listed.output
    dry = run(
        demo, "automations", "run", "graveyard after 180 days without a two-way touch", "--dry-run"
    )
    assert dry.exit_code == 0, dry.output
    assert dry.output.startswith("A real run would change")
    assert run(
        demo, "automations", "enable", "Graveyard after 180 days without a two-way touch"
    ).output.endswith("is on.\n")
    data = json.loads(run(demo, "automations", "list", "--json").output)
    assert data[0]["enabled"] is True and data[0]["time_based"] is True
    missing = run(demo, "automations", "run", "Nope")
    assert missing.exit_code == 1 and "No rule is named 'Nope'" in missing.output
