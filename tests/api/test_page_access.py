"""Who gets a page's document, over real HTTP and websockets.

Bokeh builds a page's document (runs the page's code) from three routes per page: the page
itself (``/admin``), its autoload script (``/admin/autoload.js``) and its websocket
(``/admin/ws``), which builds a session for any token it is handed. A member, and a user whose
account was deactivated, must get no document from any of them for a page they may not open.
"""

from __future__ import annotations

import requests

from apps.auth import page_access
from tests.api.conftest import LiveServer, invited, session_for
from tests.apps.documents import Pulled
from tests.apps.documents import pull as pull_document


def pull(live: LiveServer, page: str, browser: requests.Session) -> Pulled:
    return pull_document(live.base, page, browser)


def autoload(live: LiveServer, page: str, browser: requests.Session) -> requests.Response:
    return browser.get(
        f"{live.base}{page.rstrip('/')}/autoload.js",
        params={"bokeh-autoload-element": "x", "bokeh-absolute-url": f"{live.base}{page}"},
        allow_redirects=False,
        timeout=60,
    )


def test_a_member_gets_no_admin_document_from_the_page_or_its_autoload_script(
    live: LiveServer,
) -> None:
    member = live.login()
    for page in ("/admin", "/funds"):
        refused = member.get(f"{live.base}{page}", allow_redirects=False)
        assert refused.status_code == 403 and "Not allowed" in refused.text
        script = autoload(live, page, member)
        assert script.status_code == 403, page
        assert '"roots"' not in script.text and "docs_json" not in script.text
    # the same client gets its own pages: the refusals above are about the role
    assert autoload(live, "/grid", member).status_code == 200


def test_a_member_gets_no_admin_document_over_the_websocket(live: LiveServer) -> None:
    member = live.login()
    assert pull(live, "/admin", member) == Pulled(refused_with=403)
    assert pull(live, "/funds", member) == Pulled(refused_with=403)
    allowed = pull(live, "/grid", member)
    assert allowed.document is not None and allowed.document["roots"]


def test_an_admin_gets_the_admin_document(live: LiveServer) -> None:
    admin = live.login(live.admin_email)
    assert autoload(live, "/admin", admin).status_code == 200
    pulled = pull(live, "/admin", admin)
    assert pulled.document is not None and pulled.document["roots"]


def test_a_deactivated_user_gets_no_document_anywhere(live: LiveServer) -> None:
    admin = session_for(live, "admin")
    gina, gina_id = invited(live, "gina@fund.example", "admin", "Gina")
    assert pull(live, "/grid", gina).document is not None
    assert admin.patch(f"{live.base}/api/users/{gina_id}", json={"is_active": False}).ok
    for page in ("/", "/grid", "/admin"):
        script = autoload(live, page, gina)
        assert script.status_code in (302, 401, 403), (page, script.status_code)
        assert '"roots"' not in script.text and "docs_json" not in script.text
        assert pull(live, page, gina).document is None, page


def test_a_page_factory_builds_nothing_for_a_session_without_access() -> None:
    """The second line of defence: a session created by any route the handlers do not guard
    (here: none at all) still runs none of the page's code."""
    built: list[str] = []
    pages = page_access.checked_in_session(
        {"/admin": lambda: built.append("admin"), "/grid": lambda: built.append("grid")},
        {"/admin": "manage_users"},
    )
    for page in ("/admin", "/grid"):  # no session user: not even the grid
        assert "Not allowed" in pages[page]().object
    assert built == []
