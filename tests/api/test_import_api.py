"""POST /api/fundraising/import over HTTP: dry run, commit, errors, and the import record."""

from __future__ import annotations

import base64

import requests

from tests.api.conftest import LiveServer
from tests.api.conftest import session_for as api
from tests.importers.conftest import csv_bytes

HEADER = ["Name", "Record ID", "Status", "Fund Z Commitment", "Contacts"]
ROWS = [
    ["Import API LP", "recAPIAPIAPIAPI01", "Meeting", "$1,000.00", "Ann Lee <ann@api.example>"],
    ["Import API Two", "recAPIAPIAPIAPI02", "Prospect", "", ""],
]


def body(rows: list[list[str]], **options: object) -> dict[str, object]:
    content = base64.b64encode(csv_bytes(rows, header=HEADER)).decode()
    return {"file_name": "Investors-Grid view.csv", "content_base64": content, **options}


def test_dry_run_then_commit_then_reimport_changes_nothing(live: LiveServer) -> None:
    admin = api(live, "admin")
    url = f"{live.base}/api/fundraising/import"
    dry = admin.post(url, json=body(ROWS))
    assert dry.status_code == 200
    report = dry.json()
    assert (report["dry_run"], report["committed"]) == (True, False)
    assert report["counts"]["created"] == 2 and report["preview"]["new_funds"] == ["Fund Z"]
    assert (
        admin.get(f"{live.base}/api/fundraising/investors", params={"q": "Import API"}).json()[
            "total"
        ]
        == 0
    )
    done = admin.post(url, json=body(ROWS, dry_run=False)).json()
    assert done["committed"] and done["import_id"] >= 1
    listed = admin.get(f"{live.base}/api/fundraising/investors", params={"q": "Import API"})
    assert listed.json()["total"] == 2
    again = admin.post(url, json=body(ROWS, dry_run=False)).json()
    assert (again["changes"], again["committed"], again["unchanged"]) == (0, False, True)
    imports = admin.get(f"{live.base}/api/fundraising/imports").json()
    assert [i["file_name"] for i in imports] == ["Investors-Grid view.csv"]
    assert imports[0]["created_by"] == live.admin_email


def test_bad_rows_come_back_with_line_column_value_and_reason(live: LiveServer) -> None:
    member = api(live, "member")
    rows = [["Bad API LP", "recAPIAPIAPIAPI03", "Meeting", "many", ""]]
    reply = member.post(
        f"{live.base}/api/fundraising/import",
        json=body(rows, dry_run=False, mapping={"Fund Z Commitment": "skip"}),
    )
    assert reply.status_code == 200
    report = reply.json()
    assert report["committed"] and report["counts"]["created"] == 1  # the column was skipped
    kept = member.post(
        f"{live.base}/api/fundraising/import",
        json=body(
            [["Worse LP", "recAPIAPIAPIAPI04", "Meeting", "many", ""]],
            dry_run=False,
            mapping={"Fund Z Commitment": "commitment:Fund Z"},  # the saved profile skips it
        ),
    ).json()
    assert kept["committed"] and kept["counts"]["created"] == 1  # the cell never costs the row
    problem = kept["issues"][0]
    assert (problem["line"], problem["column"], problem["value"], problem["severity"]) == (
        2,
        "Fund Z Commitment",
        "many",
        "warning",
    )
    assert (
        problem["reason"]
        == "'many' is not a number: kept as text in 'Fund Z Commitment (as imported)'"
    )
    failing = member.post(
        f"{live.base}/api/fundraising/import",
        json=body([["", "recAPIAPIAPIAPI05", "Meeting", "", ""]], dry_run=False),
    ).json()
    assert not failing["committed"] and failing["counts"]["skipped"] == 1
    assert [(i["line"], i["reason"]) for i in failing["issues"]] == [
        (2, "a new investor needs a Name")
    ]


def test_garbage_and_forged_requests_get_clear_errors(live: LiveServer) -> None:
    admin = api(live, "admin")
    url = f"{live.base}/api/fundraising/import"
    garbage = base64.b64encode(b"PK\x03\x04" + bytes(range(256))).decode()
    reply = admin.post(url, json={"file_name": "x.xlsx", "content_base64": garbage})
    assert reply.status_code == 422
    assert "Excel workbook" in reply.json()["detail"]
    not_base64 = admin.post(url, json={"file_name": "x.csv", "content_base64": "%%%"})
    assert not_base64.status_code == 422 and not_base64.json()["field"] == "content_base64"
    anonymous = requests.post(url, json=body(ROWS))
    assert anonymous.status_code == 401
    browser = live.login(live.member_email)
    no_csrf = browser.post(url, json=body(ROWS))
    assert no_csrf.status_code == 403 and no_csrf.json()["error"] == "csrf"
