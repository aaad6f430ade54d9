"""API tokens end with the account change that should end them, over real HTTP: deactivation
(and the reactivation after it), a password change and a password reset each leave every token
of the user refused with 401."""

from __future__ import annotations

import requests

from tests.api.conftest import (
    PASSWORD,
    LiveServer,
    invited,
    post_login,
    session_for,
    set_password_through_link,
)

NEW_PASSWORD = "lantern quarry velvet"
NEWER_PASSWORD = "ember orchard compass"


def new_token(browser: requests.Session, live: LiveServer, name: str) -> str:
    made = browser.post(
        f"{live.base}/api/me/tokens",
        json={"name": name},
        headers={"X-XSRFToken": browser.cookies["_xsrf"]},
    )
    assert made.status_code == 201, made.text
    return made.json()["token"]


def status_with(live: LiveServer, token: str) -> int:
    return requests.get(
        f"{live.base}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).status_code


def test_tokens_die_with_deactivation_reactivation_password_change_and_reset(
    live: LiveServer,
) -> None:
    admin = session_for(live, "admin")
    erin, erin_id = invited(live, "erin@fund.example", "member", "Erin")

    # deactivation, then reactivation: the token stays dead
    token = new_token(erin, live, "before deactivation")
    assert status_with(live, token) == 200
    assert admin.patch(f"{live.base}/api/users/{erin_id}", json={"is_active": False}).ok
    assert status_with(live, token) == 401
    assert admin.patch(f"{live.base}/api/users/{erin_id}", json={"is_active": True}).ok
    assert status_with(live, token) == 401

    # a password change through the API
    erin = live.login("erin@fund.example")
    token = new_token(erin, live, "before the password change")
    changed = erin.post(
        f"{live.base}/api/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers={"X-XSRFToken": erin.cookies["_xsrf"]},
    )
    assert changed.status_code == 200, changed.text
    assert status_with(live, token) == 401
    assert erin.get(f"{live.base}/api/me").status_code == 200  # this session is kept

    # a password reset through an admin's link
    token = new_token(erin, live, "before the reset")
    reset = admin.post(f"{live.base}/api/users/{erin_id}/reset-link").json()
    set_password_through_link(reset["url"], NEWER_PASSWORD)
    assert status_with(live, token) == 401
    again = requests.Session()
    assert post_login(again, live.base, "erin@fund.example", NEWER_PASSWORD).status_code == 302
