"""Login, logout, invites, session revocation, CSRF, CORS, back-off and limits over real HTTP."""

from __future__ import annotations

import http.client
import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from tests.api.conftest import PASSWORD, LiveServer, post_login, start


def api(session: requests.Session, method: str, live: LiveServer, path: str, **kwargs):
    headers = {"X-XSRFToken": session.cookies.get("_xsrf", "")}
    return session.request(method, f"{live.base}/api{path}", headers=headers, timeout=30, **kwargs)


def test_login_sets_an_httponly_samesite_session_cookie(live: LiveServer) -> None:
    session = requests.Session()
    response = post_login(session, live.base, live.member_email, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("crm_session=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Secure" not in cookie  # development, plain http
    assert session.get(f"{live.base}/api/me").json()["user"]["email"] == live.member_email


def test_wrong_password_and_unknown_email_read_the_same(live: LiveServer) -> None:
    pages = []
    for email in (live.member_email, "nobody@fund.example"):
        response = post_login(requests.Session(), live.base, email, "not the password")
        assert response.status_code == 401
        assert "Email or password is incorrect" in response.text
        page = response.text.replace(email, "EMAIL")
        pages.append(re.sub(r'name="_xsrf" value="[^"]+"', "", page))
    assert pages[0] == pages[1]


def test_login_form_needs_its_xsrf_token(live: LiveServer) -> None:
    response = requests.post(
        f"{live.base}/login",
        data={"email": live.member_email, "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status_code == 403


def test_next_only_redirects_within_the_site(live: LiveServer) -> None:
    session = requests.Session()
    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        response = post_login(session, live.base, live.member_email, PASSWORD, next_path=target)
        assert response.headers["Location"] == "/"


def test_pages_need_a_login_and_admin_pages_need_an_admin(live: LiveServer) -> None:
    anonymous = requests.get(f"{live.base}/", allow_redirects=False)
    assert anonymous.status_code == 302 and "login?next=%2F" in anonymous.headers["Location"]
    member = live.login()
    assert member.get(f"{live.base}/").status_code == 200


def test_a_forged_or_tampered_cookie_is_refused(live: LiveServer) -> None:
    session = live.login()
    value = session.cookies["crm_session"]
    forged = requests.Session()
    forged.cookies.set("crm_session", value[:-4] + ("0000" if value[-4:] != "0000" else "1111"))
    assert forged.get(f"{live.base}/api/me").status_code == 401
    made_up = requests.Session()
    made_up.cookies.set("crm_session", "alice")
    assert made_up.get(f"{live.base}/api/me").status_code == 401


def test_logout_ends_only_that_session(live: LiveServer) -> None:
    first, second = live.login(), live.login()
    old_cookie = first.cookies["crm_session"]
    response = first.post(
        f"{live.base}/logout", data={"_xsrf": first.cookies["_xsrf"]}, allow_redirects=False
    )
    assert response.status_code == 302
    stolen = requests.Session()
    stolen.cookies.set("crm_session", old_cookie)
    assert stolen.get(f"{live.base}/api/me").status_code == 401  # a copied cookie dies too
    assert first.get(f"{live.base}/api/me").status_code == 401
    assert second.get(f"{live.base}/api/me").status_code == 200


def test_logout_page_needs_a_post(live: LiveServer) -> None:
    session = live.login()
    page = session.get(f"{live.base}/logout")
    assert page.status_code == 200 and "Log out of Venture CRM" in page.text
    assert session.get(f"{live.base}/api/me").status_code == 200


def test_cookie_writes_need_the_csrf_header_bearer_writes_do_not(live: LiveServer) -> None:
    session = live.login()
    body = {"fields": {"name": "CSRF Check LP"}}
    without = session.post(f"{live.base}/api/fundraising/investors", json=body)
    assert without.status_code == 403 and without.json()["error"] == "csrf"
    wrong = session.post(
        f"{live.base}/api/fundraising/investors", json=body, headers={"X-XSRFToken": "2|00|00|00"}
    )
    assert wrong.status_code == 403
    with_token = api(session, "POST", live, "/fundraising/investors", json=body)
    assert with_token.status_code == 201
    me = session.get(f"{live.base}/api/me").json()
    assert me["csrf_token"]
    bearer = requests.post(
        f"{live.base}/api/fundraising/investors", json=body, headers=live.bearer("member")
    )
    assert bearer.status_code == 201


def test_a_csrf_refusal_reads_the_body_and_keeps_the_connection(live: LiveServer) -> None:
    """The body streams in after tornado's own CSRF hook: refused there, the body would stay
    unread and the connection would be closed under a client that reuses it (a reset)."""
    session = live.login()
    cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    body = json.dumps({"fields": {"name": "Kept Alive LP", "notes": "x" * 60_000}})
    connection = http.client.HTTPConnection(urlsplit(live.base).netloc, timeout=10)
    connection.auto_open = 0  # reuse this one connection or fail: never reconnect silently
    connection.connect()
    try:
        for _ in range(5):
            connection.request(
                "POST",
                "/api/fundraising/investors",
                body=body,
                headers={"Content-Type": "application/json", "Cookie": cookies},
            )
            refused = connection.getresponse()
            assert refused.status == 403 and json.loads(refused.read())["error"] == "csrf"
            connection.request("GET", "/api/me", headers={"Cookie": cookies})
            me = connection.getresponse()
            assert me.status == 200 and json.loads(me.read())["user"]["email"] == live.member_email
    finally:
        connection.close()


def test_deactivation_ends_sessions_and_tokens_at_once(live: LiveServer) -> None:
    admin = requests.Session()
    admin.headers.update(live.bearer("admin"))
    link = admin.post(
        f"{live.base}/api/invites", json={"email": "carol@fund.example", "role": "member"}
    ).json()
    carol = requests.Session()
    page = carol.get(link["url"])
    assert page.status_code == 200 and "invited as a member" in page.text
    # the form holds what the service takes: the display name's and the password's limits
    assert re.search(r'name="name"[^>]* maxlength="100"', page.text)
    assert re.search(r'name="password"[^>]* maxlength="1024"', page.text)
    mismatch = carol.post(
        page.url,
        data={
            "_xsrf": carol.cookies["_xsrf"],
            "name": "Carol",
            "password": PASSWORD,
            "confirm": PASSWORD + "x",
        },
    )
    assert mismatch.status_code == 422 and "The two passwords differ" in mismatch.text
    accepted = carol.post(
        page.url,
        data={
            "_xsrf": carol.cookies["_xsrf"],
            "name": "Carol",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        allow_redirects=False,
    )
    assert accepted.status_code == 302  # logged in straight away
    reused = requests.get(page.url)
    assert reused.status_code == 410 and "already been used" in reused.text
    token = api(carol, "POST", live, "/me/tokens", json={"name": "sheet"}).json()["token"]
    carol_id = carol.get(f"{live.base}/api/me").json()["user"]["id"]

    response = admin.patch(f"{live.base}/api/users/{carol_id}", json={"is_active": False})
    assert response.status_code == 200 and response.json()["is_active"] == 0
    assert carol.get(f"{live.base}/api/me").status_code == 401
    assert (
        requests.get(
            f"{live.base}/api/me", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 401
    )


def test_links_are_kept_out_of_the_log(live: LiveServer) -> None:
    from tests.apps.server import server_log

    admin = requests.Session()
    admin.headers.update(live.bearer("admin"))
    url = admin.post(f"{live.base}/api/invites", json={"email": "dan@fund.example"}).json()["url"]
    assert requests.get(url).status_code == 200
    token = url.rsplit("/", 1)[1]
    deadline = time.monotonic() + 5
    # tornado writes the access line just after the response: wait for it to appear
    while "GET /invite/" not in (log := server_log(live.data_dir).read_text()):
        assert time.monotonic() < deadline, log
        time.sleep(0.05)
    assert "GET /invite/[redacted]" in log and token not in log


def test_failed_logins_back_off_with_retry_after(strict: LiveServer) -> None:
    session = requests.Session()
    session.get(f"{strict.base}/login")
    for _ in range(2):
        response = session.post(
            f"{strict.base}/api/auth/login",
            json={"email": strict.member_email, "password": "wrong password"},
            headers={"X-XSRFToken": session.cookies["_xsrf"]},
        )
        assert response.status_code == 401
    locked = session.post(
        f"{strict.base}/api/auth/login",
        json={"email": strict.member_email, "password": PASSWORD},
        headers={"X-XSRFToken": session.cookies["_xsrf"]},
    )
    assert locked.status_code == 429
    assert locked.headers["Retry-After"] == "30"
    assert locked.json() == {
        "error": "rate_limited",
        "detail": "Too many failed logins; try again in 30 s",
        "retry_after": 30,
    }


def test_writes_are_rate_limited_per_user(strict: LiveServer) -> None:
    statuses = []
    for n in range(8):
        response = requests.post(
            f"{strict.base}/api/fundraising/investors",
            json={"fields": {"name": f"Burst {n}"}},
            headers=strict.bearer("member"),
        )
        statuses.append(response.status_code)
    assert statuses[:6] == [201] * 6 and statuses[-1] == 429
    assert (
        requests.get(
            f"{strict.base}/api/fundraising/state", headers=strict.bearer("member")
        ).status_code
        == 200
    )
    other = requests.post(
        f"{strict.base}/api/fundraising/investors",
        json={"fields": {"name": "Admin's own budget"}},
        headers=strict.bearer("admin"),
    )
    assert other.status_code == 201


def test_oversized_bodies_are_refused_with_413(strict: LiveServer) -> None:
    response = requests.post(
        f"{strict.base}/api/fundraising/investors",
        json={"fields": {"name": "x" * 5000}},
        headers=strict.bearer("member"),
    )
    assert response.status_code == 413 and response.json()["error"] == "too_large"


def test_cors_allows_only_the_configured_origin(strict: LiveServer) -> None:
    url = f"{strict.base}/api/fundraising/investors"
    allowed = requests.options(
        url, headers={"Origin": "https://app.fund.example", "Access-Control-Request-Method": "POST"}
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.fund.example"
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    other = requests.get(url, headers={"Origin": "https://evil.example", **strict.bearer("member")})
    assert other.status_code == 200 and "Access-Control-Allow-Origin" not in other.headers
    same = requests.get(url, headers=strict.bearer("member"))
    assert "Access-Control-Allow-Origin" not in same.headers


def test_websockets_from_another_origin_are_refused(live: LiveServer) -> None:
    session = live.login()
    response = session.get(
        live.base.replace("http", "http") + "/ws",
        headers={
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Origin": "https://evil.example",
        },
    )
    assert response.status_code == 403


def test_production_cookies_are_secure(tmp_path: Path) -> None:
    for server in start(tmp_path, CRM_ENV="production", CRM_PUBLIC_URL="https://crm.fund.example"):
        # In production the _xsrf cookie is Secure too, so this plain-http client (the TLS proxy
        # is left out) hands it back itself, as a browser would over https.
        form = requests.get(f"{server.base}/login", timeout=30)
        xsrf = form.cookies["_xsrf"]
        response = requests.post(
            f"{server.base}/login",
            data={"email": server.member_email, "password": PASSWORD, "_xsrf": xsrf},
            headers={"Cookie": f"_xsrf={xsrf}"},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 302
        assert "Secure" in response.headers["Set-Cookie"]


def test_behind_a_proxy_the_forwarded_client_ip_is_used(tmp_path: Path) -> None:
    for server in start(tmp_path, CRM_BEHIND_PROXY="on"):
        listed = requests.Session()
        listed.headers["X-Forwarded-For"] = "198.51.100.1"
        assert post_login(listed, server.base, server.member_email, PASSWORD).status_code == 302
        sessions = listed.get(f"{server.base}/api/me/sessions").json()
        assert sessions[0]["ip"] == "198.51.100.1"


def test_bodies_must_be_json_so_html_forms_cannot_post_them(live: LiveServer) -> None:
    response = requests.post(
        f"{live.base}/api/auth/login",
        data='{"email": "bob@fund.example", "password": "tangerine orbit mosaic"}',
        headers={"Content-Type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
