"""GET /api/fundraising/export over HTTP, as a script would: JSON, CSV and XLSX of what the grid
shows (a list or a view), and the whole-grid snapshot as the default."""

from __future__ import annotations

import csv
import io

import openpyxl
import requests

from tests.api.conftest import LiveServer, session_for


def seed(api: requests.Session, live: LiveServer, name: str) -> dict:
    """An investor with a primary contact, a second person and a commitment to Fund I."""
    base = f"{live.base}/api/fundraising"
    investor = api.post(
        f"{base}/investors", json={"fields": {"name": name, "tags": ["AI"], "notes": "=1+1"}}
    ).json()
    for person in (
        {"full_name": "Jane Doe", "email": "jane@zeta.example", "is_primary": True},
        {"full_name": "Roe, Bob", "title": "CFO"},
    ):
        made = api.post(f"{base}/investors/{investor['id']}/people", json={"fields": person})
        assert made.status_code == 201, made.text
    fund = next(f for f in api.get(f"{base}/funds").json() if f["name"] == "Fund I")
    committed = api.post(
        f"{base}/commitments",
        json={"investor_id": investor["id"], "fund_id": fund["id"], "amount": 1_000_000},
    )
    assert committed.status_code == 201, committed.text
    return investor


def test_json_export_is_an_array_of_investors_with_people_and_commitments(
    live: LiveServer,
) -> None:
    api = session_for(live)
    investor = seed(api, live, "Export Zeta LP")
    url = f"{live.base}/api/fundraising/export"
    reply = api.get(url, params={"format": "json", "q": "Export Zeta"})
    assert reply.status_code == 200, reply.text
    assert reply.headers["Content-Type"].startswith("application/json")
    assert 'filename="venture-crm-investors.json"' in reply.headers["Content-Disposition"]
    [record] = reply.json()
    assert (record["id"], record["Name"], record["Tags"]) == (
        investor["id"],
        "Export Zeta LP",
        ["AI"],
    )
    assert record["Notes"] == "=1+1"  # JSON is not run by a spreadsheet: nothing to defuse
    assert record["People"] == [
        {
            "name": "Jane Doe",
            "email": "jane@zeta.example",
            "title": None,
            "phone": None,
            "is_primary": True,
        },
        {"name": "Roe, Bob", "email": None, "title": "CFO", "phone": None, "is_primary": False},
    ]
    assert (record["Fund I Commitment"], record["Total invested"]) == (1_000_000, 1_000_000)
    csv_reply = api.get(url, params={"format": "csv", "q": "Export Zeta"})
    header, row = list(csv.reader(io.StringIO(csv_reply.text)))
    assert header == list(record)  # the same columns, in the same order
    cells = dict(zip(header, row, strict=True))
    assert (cells["People"], cells["Fund I Commitment"], cells["Notes"]) == (
        'Jane Doe <jane@zeta.example>, "Roe, Bob"',
        "1000000",
        "'=1+1",
    )
    workbook = api.get(url, params={"format": "xlsx", "q": "Export Zeta"})
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    typed = {c.value: v for c, v in zip(sheet[1], sheet[2], strict=True)}
    assert (typed["Fund I Commitment"].value, typed["Fund I Commitment"].data_type) == (
        1_000_000,
        "n",
    )
    assert typed["Notes"].data_type == "s"  # never a formula


def test_a_views_export_follows_its_hidden_fields_column_order_and_sorts(
    live: LiveServer,
) -> None:
    api = session_for(live)
    for name in ("Ordered A LP", "Ordered B LP"):
        seed(api, live, name)
    view = api.post(
        f"{live.base}/api/fundraising/views",
        json={
            "name": "Ordered view",
            "filters": {
                "op": "and",
                "conditions": [{"field": "Name", "operator": "contains", "value": "Ordered"}],
            },
            "sorts": [{"field": "Name", "direction": "desc"}],
            "hidden_fields": ["Notes", "Tags"],
            "field_order": ["Total invested", "Name"],
        },
    ).json()
    reply = api.get(
        f"{live.base}/api/fundraising/export", params={"format": "json", "view": view["id"]}
    )
    assert 'filename="venture-crm-Ordered view.json"' in reply.headers["Content-Disposition"]
    records = reply.json()
    assert [r["Name"] for r in records] == ["Ordered B LP", "Ordered A LP"]
    assert list(records[0])[:3] == ["id", "Total invested", "Name"]
    assert "Notes" not in records[0] and "Tags" not in records[0]


def test_the_default_export_is_still_the_whole_grid_snapshot(live: LiveServer) -> None:
    api = session_for(live)
    url = f"{live.base}/api/fundraising/export"
    default, explicit = api.get(url).json(), api.get(url, params={"format": "snapshot"}).json()
    assert {"version", "fields", "funds", "investors"} <= set(default) == set(explicit)
    refused = api.get(url, params={"format": "pdf"})
    assert refused.status_code == 422 and refused.json()["field"] == "format"
