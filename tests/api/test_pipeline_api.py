"""The pipeline and tasks over REST on a live server: stages (admins), an opportunity opened,
changed with the version read (a stale one is a 409), moved, closed as lost and its history;
a fund's summary; tasks created, listed, completed, and "my tasks"."""

from __future__ import annotations

from tests.api.conftest import LiveServer
from tests.api.conftest import session_for as api


def test_stages_are_the_admins_to_configure(live: LiveServer) -> None:
    admin, member = api(live, "admin"), api(live, "member")
    stages = member.get(f"{live.base}/api/pipeline/stages").json()
    assert [s["name"] for s in stages][:3] == ["Prospect", "Intro", "Meeting"]
    refused = member.post(
        f"{live.base}/api/pipeline/stages", json={"name": "Term sheet", "probability": 0.6}
    )
    assert refused.status_code == 403
    made = admin.post(
        f"{live.base}/api/pipeline/stages", json={"name": "Term sheet", "probability": 0.6}
    )
    assert made.status_code == 200, made.text
    assert made.json()["probability"] == 0.6
    bad = admin.post(f"{live.base}/api/pipeline/stages", json={"name": "X", "probability": 2})
    assert bad.status_code == 422


def test_an_opportunity_through_its_life(live: LiveServer) -> None:
    member = api(live, "member")
    fund = (
        api(live, "admin")
        .post(f"{live.base}/api/fundraising/funds", json={"fields": {"name": "Fund API"}})
        .json()
    )
    investor = member.post(
        f"{live.base}/api/fundraising/investors", json={"fields": {"Name": "Pipeline LP"}}
    ).json()
    made = member.post(
        f"{live.base}/api/opportunities",
        json={"investor_id": investor["id"], "fund_id": fund["id"], "expected_amount": 2_000_000},
    )
    assert made.status_code == 201, made.text
    opportunity = made.json()
    assert (opportunity["stage_name"], opportunity["weighted_amount"]) == ("Prospect", 200_000)
    again = member.post(
        f"{live.base}/api/opportunities",
        json={"investor_id": investor["id"], "fund_id": fund["id"]},
    )
    assert again.status_code == 422 and "already open" in again.json()["detail"]
    url = f"{live.base}/api/opportunities/{opportunity['id']}"
    changed = member.patch(url, json={"next_step": "Send the deck", "expected_version": 1})
    assert changed.status_code == 200 and changed.json()["next_step"] == "Send the deck"
    stale = member.patch(url, json={"expected_amount": 1, "expected_version": 1})
    assert stale.status_code == 409
    stages = {s["name"]: s["id"] for s in member.get(f"{live.base}/api/pipeline/stages").json()}
    moved = member.post(
        f"{url}/move", json={"stage_id": stages["Diligence"], "expected_version": 2}
    )
    assert moved.status_code == 200 and moved.json()["stage_name"] == "Diligence"
    summary = member.get(f"{live.base}/api/pipeline/summary", params={"fund_id": fund["id"]})
    diligence = next(s for s in summary.json()["stages"] if s["name"] == "Diligence")
    assert (diligence["count"], diligence["weighted"]) == (1, 1_000_000)
    board = member.get(f"{live.base}/api/pipeline/board", params={"fund_id": fund["id"]}).json()
    column = next(c for c in board["columns"] if c["name"] == "Diligence")
    assert [c["id"] for c in column["cards"]] == [opportunity["id"]]
    assert column["cards"][0]["going_cold"] is True  # no email with this investor at all
    closed = member.post(f"{url}/close", json={"reason": "Not now", "expected_version": 3})
    assert closed.json()["status"] == "lost"
    history = member.get(f"{url}/history").json()
    assert [h["to_stage"] for h in history] == ["Prospect", "Diligence", "Lost"]
    listed = member.get(
        f"{live.base}/api/opportunities", params={"fund_id": fund["id"], "status": "all"}
    )
    assert [o["id"] for o in listed.json()] == [opportunity["id"]]


def test_tasks_created_listed_completed_and_mine(live: LiveServer) -> None:
    member = api(live, "member")
    made = member.post(
        f"{live.base}/api/tasks",
        json={"title": "Call back", "due_on": "2020-01-01", "priority": "high"},
    )
    assert made.status_code == 201, made.text
    task = made.json()
    mine = member.get(f"{live.base}/api/me/tasks").json()
    assert task["id"] in [t["id"] for t in mine["overdue"]]
    bad = member.post(f"{live.base}/api/tasks", json={"title": "x", "due_on": "tomorrow"})
    assert bad.status_code == 422
    done = member.post(f"{live.base}/api/tasks/{task['id']}/complete", json={"expected_version": 1})
    assert done.status_code == 200 and done.json()["status"] == "done"
    open_ids = [t["id"] for t in member.get(f"{live.base}/api/tasks").json()]
    assert task["id"] not in open_ids
    everything = member.get(f"{live.base}/api/tasks", params={"status": "all"}).json()
    assert task["id"] in [t["id"] for t in everything]


def test_forecast_funnel_and_going_cold(live: LiveServer) -> None:
    member = api(live, "member")
    fund = (
        api(live, "admin")
        .post(f"{live.base}/api/fundraising/funds", json={"fields": {"name": "Fund Forecast"}})
        .json()
    )
    investor = member.post(
        f"{live.base}/api/fundraising/investors", json={"fields": {"Name": "Forecast LP"}}
    ).json()
    made = member.post(
        f"{live.base}/api/opportunities",
        json={
            "investor_id": investor["id"],
            "fund_id": fund["id"],
            "expected_amount": 4_000_000,
            "expected_close": "2027-05-20",
        },
    )
    assert made.status_code == 201, made.text
    forecast = member.get(f"{live.base}/api/pipeline/forecast", params={"fund_id": fund["id"]})
    assert forecast.json() == [
        {"month": "2027-05", "count": 1, "expected": 4_000_000, "weighted": 400_000}
    ]
    funnel = member.get(f"{live.base}/api/pipeline/funnel", params={"fund_id": fund["id"]}).json()
    assert [(f["name"], f["reached"]) for f in funnel][:2] == [("Prospect", 1), ("Intro", 0)]
    assert member.get(f"{live.base}/api/pipeline/funnel").status_code == 422  # which fund?
    cold = member.get(f"{live.base}/api/pipeline/going-cold", params={"days": 30}).json()
    # the live server is shared by the session's API tests: other tests' investors may be cold too
    assert [(r["name"], r["reason"]) for r in cold["rows"] if r["id"] == investor["id"]] == [
        ("Forecast LP", "Fund Forecast · Prospect")
    ]
    assert member.get(f"{live.base}/api/pipeline/going-cold", params={"days": 0}).status_code == 422
    view = member.post(
        f"{live.base}/api/fundraising/views",
        json={"name": "Nobody", "filters": {"field": "name", "operator": "eq", "value": "Nobody"}},
    ).json()
    board = member.get(
        f"{live.base}/api/pipeline/board", params={"fund_id": fund["id"], "view_id": view["id"]}
    ).json()
    assert all(not c["cards"] for c in board["columns"])
