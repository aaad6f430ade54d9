"""Automations over REST on a live server: a template created by an admin (members may read,
not change), its dry run, toggle with the version read (a stale one is a 409), a run, the runs
listed, a refused rule naming the problem, archive."""

from __future__ import annotations

from tests.api.conftest import LiveServer
from tests.api.conftest import session_for as api


def test_rules_over_rest(live: LiveServer) -> None:
    admin, member = api(live, "admin"), api(live, "member")
    base = f"{live.base}/api/automations"
    refused = member.post(f"{base}/rules", json={"template": "follow_up_no_reply"})
    assert refused.status_code == 403
    made = admin.post(f"{base}/rules", json={"template": "follow_up_no_reply"})
    assert made.status_code == 201, made.text
    spec = member.get(f"{live.base}/api/openapi.json").json()  # the 201 is documented too
    assert "201" in spec["paths"]["/automations/rules"]["post"]["responses"]
    rule = made.json()
    assert rule["enabled"] is False and rule["sentence"].startswith("When our last email")
    listed = member.get(f"{base}/rules").json()
    assert [r["id"] for r in listed] == [rule["id"]]
    dry = admin.post(f"{base}/rules/{rule['id']}/dry-run")
    assert dry.status_code == 200 and dry.json()["dry_run"] in (True, 1)
    toggled = admin.post(f"{base}/rules/{rule['id']}/toggle", json={"expected_version": 1})
    assert toggled.status_code == 200 and toggled.json()["enabled"] is True
    stale = admin.post(f"{base}/rules/{rule['id']}/toggle", json={"expected_version": 1})
    assert stale.status_code == 409
    ran = admin.post(f"{base}/rules/{rule['id']}/run")
    assert ran.status_code == 200 and ran.json()["status"] == "done"
    runs = member.get(f"{base}/runs", params={"rule_id": rule["id"], "dry_run": "false"}).json()
    assert [r["trigger_event"] for r in runs] == ["manual"]
    bad = admin.post(
        f"{base}/rules",
        json={
            "name": "Bad",
            "trigger": {"kind": "no_reply", "days": 5},
            "actions": [{"kind": "move_to_list", "list": "heaven"}],
        },
    )
    assert bad.status_code == 422 and "Move to which list" in bad.json()["detail"]
    patched = admin.patch(
        f"{base}/rules/{rule['id']}", json={"name": "Chase replies", "expected_version": 2}
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Chase replies"
    gone = admin.post(f"{base}/rules/{rule['id']}/archive", json={"expected_version": 3})
    assert gone.status_code == 200
    assert member.get(f"{base}/rules/{rule['id']}").status_code == 404
