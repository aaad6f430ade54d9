"""Requests that must be refused with a 4xx JSON error naming the field, and write nothing: deeply
nested JSON, whole numbers beyond SQLite's 64 bits, 10**400 and NaN amounts, unpaired surrogates,
over-long text and bodies over the size limit (however they are sent)."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import pytest
import requests

from crm_lib.limits import MAX_JSON_DEPTH, max_length
from tests.api.conftest import LiveServer, session_for

BIG = 2**63  # one past SQLite's largest INTEGER
HUGE = "1" + "0" * 400  # 10**400 as a JSON number


def post_raw(live: LiveServer, path: str, body: str, role: str = "member") -> requests.Response:
    """POST a body exactly as written (json= would refuse NaN or re-encode the escapes)."""
    return requests.post(
        f"{live.base}/api{path}",
        data=body.encode(),
        headers={**live.bearer(role), "Content-Type": "application/json"},
        timeout=30,
    )


def investor_names(live: LiveServer) -> list[str]:
    rows = session_for(live).get(
        f"{live.base}/api/fundraising/investors", params={"page_size": 1000}
    )
    return [row["name"] for row in rows.json()["rows"]]


def assert_refused(response: requests.Response, status: int, field: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()
    assert error["field"] == field, error
    assert "Traceback" not in error["detail"]
    return error


def test_json_nested_far_deeper_than_python_can_parse_is_refused(live: LiveServer) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    error = assert_refused(post_raw(live, "/fundraising/investors", deep), 422, "body")
    assert f"nests deeper than {MAX_JSON_DEPTH} levels" in error["detail"]
    parsable = '{"fields": {"name": ' + "[" * 200 + "]" * 200 + "}}"
    assert_refused(post_raw(live, "/fundraising/investors", parsable), 422, "body")


def test_ids_and_owners_beyond_64_bits_are_refused_naming_the_field(live: LiveServer) -> None:
    api = session_for(live)
    before = investor_names(live)
    base = f"{live.base}/api/fundraising/investors"
    assert_refused(api.get(f"{base}/{BIG}"), 422, "investor_id")
    assert_refused(api.get(base, params={"owner_id": str(BIG)}), 422, "owner_id")
    assert_refused(api.get(base, params={"owner_id__has_any_of": str(BIG)}), 422, "owner_id")
    assert_refused(
        api.get(f"{live.base}/api/fundraising/commitments", params={"fund_id": str(BIG)}),
        422,
        "fund_id",
    )
    body = f'{{"fields": {{"name": "Big Owner LP", "owner_id": {BIG}}}}}'
    assert_refused(post_raw(live, "/fundraising/investors", body), 422, "fields.owner_id")
    as_text = {"fields": {"name": "Big Owner LP", "owner_id": str(BIG)}}
    assert_refused(api.post(base, json=as_text), 422, "owner_id")
    view = {
        "name": "Big owner",
        "filters": {"op": "and", "conditions": [{"field": "Owner", "operator": "eq"}]},
    }
    view["filters"]["conditions"][0]["value"] = str(BIG)
    assert_refused(api.post(f"{live.base}/api/fundraising/views", json=view), 422, "owner_id")
    assert investor_names(live) == before


def test_amounts_of_10_to_the_400_nan_and_infinity_are_refused(live: LiveServer) -> None:
    before = session_for(live).get(f"{live.base}/api/fundraising/commitments").json()["total"]
    for amount in (HUGE, "-" + HUGE, "1e400", "NaN", "Infinity", "-Infinity"):
        body = f'{{"investor_id": 1, "fund_id": 1, "amount": {amount}}}'
        assert_refused(post_raw(live, "/fundraising/commitments", body), 422, "amount")
    fund = f'{{"fields": {{"name": "Huge Fund", "target_size": {HUGE}}}}}'
    assert_refused(
        post_raw(live, "/fundraising/funds", fund, role="admin"), 422, "fields.target_size"
    )
    as_text = {"investor_id": 1, "fund_id": 1, "amount": HUGE}
    assert_refused(
        session_for(live).post(f"{live.base}/api/fundraising/commitments", json=as_text),
        422,
        "amount",
    )
    after = session_for(live).get(f"{live.base}/api/fundraising/commitments").json()["total"]
    assert after == before


def test_unpaired_surrogates_are_refused_anywhere_and_nothing_is_written(live: LiveServer) -> None:
    api = session_for(live)
    before = investor_names(live)
    named = '{"fields": {"name": "Lone \\ud800 Surrogate LP"}}'
    error = assert_refused(post_raw(live, "/fundraising/investors", named), 422, "fields.name")
    assert "unpaired surrogate" in error["detail"]
    keyed = '{"fields": {"name": "Key LP", "\\udc00": 1}}'
    assert_refused(post_raw(live, "/fundraising/investors", keyed), 422, "fields")
    view = '{"name": "View \\udfff"}'
    assert_refused(post_raw(live, "/fundraising/views", view), 422, "name")
    condition = '{"field": "Name", "operator": "contains", "value": "\\ud83d"}'
    filtered = '{"name": "Surrogate filter", "filters": {"op": "and", "conditions": [%s]}}'
    assert_refused(
        post_raw(live, "/fundraising/views", filtered % condition),
        422,
        "filters.conditions.0.value",
    )
    # the UTF-8 form of a surrogate (CESU-8) in a query string is not UTF-8 at all
    query = api.get(f"{live.base}/api/fundraising/investors?name=%ED%A0%80")
    assert_refused(query, 422, "name")
    assert investor_names(live) == before
    views = [v["name"] for v in api.get(f"{live.base}/api/fundraising/views").json()]
    assert not any(name.startswith(("View ", "Surrogate")) for name in views)


def test_query_keys_are_read_as_utf8_not_latin1(live: LiveServer) -> None:
    """A filter names its field by label ("Région"): the key must reach the field lookup as
    typed, so that the error (or the match) names it correctly."""
    response = session_for(live).get(f"{live.base}/api/fundraising/investors?R%C3%A9gion=Paris")
    error = assert_refused(response, 422, "Région")
    assert "Unknown field 'Région'" in error["detail"]


@pytest.mark.parametrize(
    ("path", "body", "field", "kind"),
    [
        ("/fundraising/investors", {"fields": {"name": "x"}}, "name", "investor_name"),
        ("/fundraising/investors", {"fields": {"name": "n", "notes": "x"}}, "notes", "long_text"),
        ("/fundraising/investors", {"fields": {"name": "n", "location": "x"}}, "location", "text"),
        ("/fundraising/views", {"name": "x"}, "name", "view_name"),
        ("/me/tokens", {"name": "x"}, "name", "token_name"),
        ("/feature-requests", {"title": "x"}, "title", "feature_title"),
    ],
)
def test_text_over_its_limit_is_refused_naming_field_and_limit(
    live: LiveServer, path: str, body: dict, field: str, kind: str
) -> None:
    limit = max_length(kind)
    long_body = json.loads(json.dumps(body))
    target = long_body.get("fields", long_body)
    target[field] = "x" * (limit + 1)
    response = session_for(live).post(f"{live.base}/api{path}", json=long_body)
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["field"] in (field, f"fields.{field}")
    assert f"{limit:,}" in error["detail"] or str(limit) in error["detail"]


def test_openapi_publishes_every_text_limit_as_max_length(live: LiveServer) -> None:
    schemas = requests.get(f"{live.base}/api/openapi.json").json()["components"]["schemas"]
    expected = {
        ("ViewBody", "name"): "view_name",
        ("TokenCreateBody", "name"): "token_name",
        ("FeatureRequestBody", "title"): "feature_title",
        ("FeatureRequestBody", "body"): "feature_body",
        ("LoginBody", "email"): "email",
        ("InviteBody", "email"): "email",
        ("LoginBody", "password"): "password",
        ("ImportBody", "profile"): "import_profile",
        ("ImportBody", "file_name"): "file_name",
    }
    published = {}
    for model, prop in expected:
        schema = schemas[model]["properties"][prop]
        options = schema.get("anyOf", [schema])
        published[(model, prop)] = next(o["maxLength"] for o in options if "maxLength" in o)
    assert published == {key: max_length(kind) for key, kind in expected.items()}
    fields_body = schemas["FieldsBody"]["properties"]["fields"]["description"]
    for kind in ("investor_name", "text", "long_text"):
        assert f"{max_length(kind):,}" in fields_body


def _raw_post(
    live: LiveServer, path: str, headers: dict[str, str], chunks: Iterable[bytes] = ()
) -> tuple[int, str, dict]:
    """Send a request by hand (a declared length need not be sent; chunks may be endless) and
    read the answer the server gives, even if it stops reading the body."""
    parts = urlsplit(live.base)
    with socket.create_connection((parts.hostname, parts.port), timeout=20) as sock:
        head = [f"POST /api{path} HTTP/1.1", f"Host: {parts.netloc}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        for chunk in chunks:
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed: read what it said
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read().decode()
        return response.status, response.getheader("Content-Type") or "", json.loads(body)


def test_bodies_over_the_limit_get_413_json_however_large_or_chunked(strict: LiveServer) -> None:
    """Tornado's own max_body_size answers a bare 400 before any handler runs; every over-limit
    body must get our 413 instead: declared far over the limit, or streamed in chunks."""
    headers = {**strict.bearer("member"), "Content-Type": "application/json"}
    for declared in (5 * 1024, 50 * 1024 * 1024, 10**12):
        status, media, error = _raw_post(
            strict, "/fundraising/investors", {**headers, "Content-Length": str(declared)}
        )
        assert (status, error["error"], error["field"]) == (413, "too_large", "body"), declared
        assert media.startswith("application/json") and "4 KiB" in error["detail"]
    chunk = b"x" * 1024
    endless = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4096))  # 4 MiB
    status, _, error = _raw_post(
        strict, "/fundraising/investors", {**headers, "Transfer-Encoding": "chunked"}, endless
    )
    assert (status, error["error"]) == (413, "too_large")
    small = b'{"fields": {"name": "Chunked LP"}}'
    chunks = [b"%x\r\n%s\r\n" % (len(small), small), b"0\r\n\r\n"]
    status, _, made = _raw_post(
        strict, "/fundraising/investors", {**headers, "Transfer-Encoding": "chunked"}, chunks
    )
    assert status == 201 and made["name"] == "Chunked LP"
