"""A team database where a member has planted markup in every name another user's browser shows.

Shared by the page tests (tests/apps/test_hostile_names.py) and the browser test
(tests/browser/test_hostile_names.py): field labels (added directly and by an import's column
header), select option names, a display name (accepted invite), fund names, a view name, a
feature request, an investor and a person. Each payload sets ``window.__xss`` if it ever runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from argon2 import profiles

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.importers import airtable

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = '"><script>window.__xss=2</script>'
SVG = "<svg onload=window.__xss=3>"
#: Panel compiles any configuration string wrapped in this marker into a function and calls it
#: (``transformJsPlaceholders``): a name shaped like this must never reach the configuration raw.
JS_MARK = "--x_x--0_0--(window.__xss=4)--x_x--0_0--"
#: The import's column header, which becomes a new field's label.
IMPORT_HEADER = '<img src=y onerror="window.__xss=5">'
PAYLOADS = (IMG, SCRIPT, SVG, JS_MARK, IMPORT_HEADER)
IMPORT_FILE = f"{SVG}.csv"

ADMIN_EMAIL = "alice@fund.example"
MEMBER_EMAIL = "mallory@fund.example"
PASSWORD = "tangerine orbit mosaic"
INVESTOR = f"Acme {IMG}"


@dataclass(frozen=True)
class Planted:
    """Keys and ids of what :func:`plant` created (for the tests to find on the pages)."""

    text_key: str  # a text field labelled IMG
    single_key: str  # a single select labelled SCRIPT, options = every payload
    multi_key: str  # a multiple select labelled SVG, options = every payload
    import_key: str  # the field the import created from its IMPORT_HEADER column
    formula_key: str  # a formula field repeating the notes (SCRIPT)
    investor_id: int
    fund_ids: tuple[int, ...]
    view_id: int


def plant(data_dir: Path) -> Planted:
    """Alice (admin, a plain name) and Mallory (member, display name SVG), then Mallory's names
    everywhere she can put them, and fund names an admin typed in (pasted from an email)."""
    settings = Settings(data_dir=data_dir, password_hashing=profiles.CHEAPEST)
    system = crm_lib.open_crm(settings=settings, actor="system:test")
    try:
        for email, role, name in ((ADMIN_EMAIL, "admin", "Alice"), (MEMBER_EMAIL, "member", SVG)):
            link = services.invite_user(system, email, role)
            services.accept_link(system, link.token, name=name, password=PASSWORD)
        mallory = system.as_user(
            services.login(system, MEMBER_EMAIL, PASSWORD, ip="127.0.0.1").user
        )
        text = services.add_field(mallory, IMG, "text", {})
        single = services.add_field(
            mallory, SCRIPT, "single_select", {"choices": [*PAYLOADS, "Plain"]}
        )
        multi = services.add_field(
            mallory, SVG, "multi_select", {"choices": [*PAYLOADS, "Plain"], "allow_new": False}
        )
        echo = services.add_field(mallory, "Echo", "formula", {}, formula="{Notes}")
        csv = data_dir.parent / "hostile-import.csv"
        csv.write_text(f'Name,"{IMPORT_HEADER.replace(chr(34), chr(34) * 2)}"\n{SVG} LP,{IMG}\n')
        report = airtable.run(
            csv,
            mallory,
            mapping={"Name": "field:name", IMPORT_HEADER: "new:text"},
            file_name=IMPORT_FILE,  # the activity feed names it
        )
        assert report.committed, report.summary()
        import_key = next(
            s.key for s in services.grid_columns(mallory).fields if s.label == IMPORT_HEADER
        )
        investor = services.create_investor(
            mallory,
            {
                "name": INVESTOR,
                "list_membership": "main",
                "notes": SCRIPT,
                text.key: IMG,
                single.key: IMG,
                multi.key: [SVG, JS_MARK],
            },
        )
        services.add_person(
            mallory, investor["id"], {"full_name": SVG, "email": "m@acme.example", "title": IMG}
        )
        view = services.create_view(mallory, {"name": SCRIPT, "shared": True})
        services.create_feature_request(mallory, IMG, SVG)
        fund_ids = []
        for name in (SVG, JS_MARK, "Fund 2.5"):  # a dot: Tabulator reads "a.b" as a nested field
            fund = services.create_fund(system, {"name": name})
            services.set_commitment(system, investor["id"], fund["id"], 1_000_000)
            fund_ids.append(fund["id"])
    finally:
        system.close()
    return Planted(
        text_key=text.key,
        single_key=single.key,
        multi_key=multi.key,
        import_key=import_key,
        formula_key=echo.key,
        investor_id=investor["id"],
        fund_ids=tuple(fund_ids),
        view_id=view["id"],
    )
