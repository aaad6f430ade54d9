"""Backup routes over HTTP: admins back up, verify, set the policy, preview and restore;
members cannot; a restore needs its typed confirmation."""

from __future__ import annotations

import requests

from tests.api.conftest import LiveServer
from tests.api.conftest import session_for as api


def test_backup_verify_policy_preview_and_restore(live: LiveServer) -> None:
    admin = api(live, "admin")
    base = f"{live.base}/api/fundraising"
    made = admin.post(f"{base}/backup", json={})
    assert made.status_code == 201 and made.json()["integrity"] == "ok"
    backup_id = made.json()["id"]
    assert backup_id in [b["id"] for b in admin.get(f"{base}/backups").json()]
    assert (
        admin.post(f"{base}/backups/verify", json={"backup_id": backup_id}).json()["verify_status"]
        == "ok"
    )
    policy = admin.get(f"{base}/backup-policy").json()
    changed = admin.patch(
        f"{base}/backup-policy", json={"daily": 30, "expected_version": policy["version"]}
    )
    assert changed.status_code == 200 and changed.json()["daily"] == 30
    stale = admin.patch(f"{base}/backup-policy", json={"daily": 3, "expected_version": 0})
    assert stale.status_code in (404, 409)
    admin.post(f"{base}/investors", json={"fields": {"Name": "After The Backup LP"}})
    preview = admin.post(f"{base}/restore-preview", json={"backup_id": backup_id}).json()
    assert preview["restorable"] and preview["investors_gone"]["examples"] == [
        "After The Backup LP"
    ]
    unconfirmed = admin.post(f"{base}/restore", json={"backup_id": backup_id, "confirm": "yes"})
    assert unconfirmed.status_code == 422 and unconfirmed.json()["field"] == "confirm"
    done = admin.post(f"{base}/restore", json={"backup_id": backup_id, "confirm": str(backup_id)})
    assert done.status_code == 200 and done.json()["restored"] == backup_id
    found = admin.get(f"{base}/investors", params={"q": "After The Backup"}).json()
    assert found["total"] == 0


def test_members_cannot_reach_backups(live: LiveServer) -> None:
    member = api(live, "member")
    base = f"{live.base}/api/fundraising"
    assert member.get(f"{base}/backups").status_code == 403
    assert member.post(f"{base}/backup", json={}).status_code == 403
    assert member.post(f"{base}/restore", json={"backup_id": 1, "confirm": "1"}).status_code == 403
    assert requests.get(f"{base}/backups").status_code == 401


def test_activity_feed_and_job_runs_over_http(live: LiveServer) -> None:
    admin = api(live, "admin")
    member = api(live, "member")
    made = member.post(
        f"{live.base}/api/fundraising/investors", json={"fields": {"Name": "Feed Me LP"}}
    ).json()
    events = member.get(f"{live.base}/api/activity", params={"investor": made["id"]}).json()
    assert [e["summary"] for e in events] == [f"created investor {made['id']}"]
    assert events[0]["actor"] == live.member_email
    mine = member.get(
        f"{live.base}/api/activity", params={"user": live.member_email, "kind": "change"}
    ).json()
    assert mine and all(e["actor"] == live.member_email for e in mine)
    bad = member.get(f"{live.base}/api/activity", params={"kind": "gossip"})
    assert bad.status_code == 422 and bad.json()["field"] == "kind"
    bad_date = member.get(f"{live.base}/api/activity", params={"since": "yesterday"})
    assert bad_date.status_code == 422 and bad_date.json()["field"] == "since"
    assert admin.get(f"{live.base}/api/jobs/runs").json() == []
    assert admin.get(f"{live.base}/api/jobs/runs/1/notebook").status_code == 404
    assert member.get(f"{live.base}/api/jobs/runs").status_code == 403
    alerts = admin.get(f"{live.base}/api/alerts")
    assert alerts.status_code == 200 and all(a["kind"] != "job_failed" for a in alerts.json())


def test_activity_events_carry_their_sentence_and_page_by_cursor(live: LiveServer) -> None:
    member = api(live, "member")
    feed = f"{live.base}/api/activity"
    made = member.post(
        f"{live.base}/api/fundraising/investors",
        json={"fields": {"Name": "Sentence LP", "Location": "Boston"}},
    ).json()
    member.patch(
        f"{live.base}/api/fundraising/investors/{made['id']}",
        json={"fields": {"Location": "New York"}, "expected_version": made["version"]},
    )
    [changed, created] = member.get(feed, params={"investor": made["id"]}).json()
    assert changed["sentence"] == "Bob changed Location of Sentence LP from Boston to New York"
    assert (changed["actor_name"], changed["field_label"]) == ("Bob", "Location")
    assert (changed["old_text"], changed["new_text"]) == ("Boston", "New York")
    assert {"text": "Sentence LP", "role": "investor", "investor_id": made["id"]}.items() <= (
        next(p for p in changed["parts"] if p["role"] == "investor").items()
    )
    assert created["sentence"] == "Bob added Sentence LP to Main"
    everything = member.get(feed, params={"limit": 500}).json()
    first = member.get(feed, params={"limit": 1}).json()
    rest = member.get(feed, params={"limit": 500, "before": first[0]["cursor"]}).json()
    assert [e["cursor"] for e in first + rest] == [e["cursor"] for e in everything]
    bad = member.get(feed, params={"before": "not a cursor"})
    assert bad.status_code == 422 and bad.json()["field"] == "before"


def test_activity_accepts_user_id_and_investor_id_as_the_team_scripts_send_them(
    live: LiveServer,
) -> None:
    member = api(live, "member")
    feed = f"{live.base}/api/activity"
    made = member.post(
        f"{live.base}/api/fundraising/investors", json={"fields": {"Name": "Scripted LP"}}
    ).json()
    by_old = member.get(feed, params={"investor": made["id"]}).json()
    by_new = member.get(feed, params={"investor_id": made["id"]})
    assert by_new.status_code == 200 and by_new.json() == by_old
    assert [e["summary"] for e in by_new.json()] == [f"created investor {made['id']}"]
    mine = member.get(feed, params={"user_id": live.member_email, "kind": "change"}).json()
    assert mine and all(e["actor"] == live.member_email for e in mine)
    assert member.get(feed, params={"user_id": "nobody@fund.example"}).json() == []
    same = member.get(feed, params={"investor": made["id"], "investor_id": made["id"]})
    assert same.status_code == 200 and same.json() == by_old
    clash = member.get(feed, params={"investor": made["id"], "investor_id": made["id"] + 1})
    assert clash.status_code == 422 and clash.json()["field"] == "investor_id"
    assert "investor" in clash.json()["detail"] and "investor_id" in clash.json()["detail"]
    bad = member.get(feed, params={"investor_id": "abc"})
    assert bad.status_code == 422 and bad.json()["field"] == "investor_id"
    clash_user = member.get(feed, params={"user": "a@fund.example", "user_id": "b@fund.example"})
    assert clash_user.status_code == 422 and clash_user.json()["field"] == "user_id"
    spec = member.get(f"{live.base}/api/openapi.json").json()
    params = {p["name"]: p["schema"] for p in spec["paths"]["/activity"]["get"]["parameters"]}
    assert params["user_id"] == params["user"] and params["investor_id"] == params["investor"]
