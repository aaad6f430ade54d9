"""The digest's HTML and text: hostile names and subjects stay text (escaped in HTML, one line
in text), links point at CRM_PUBLIC_URL, and the busiest day stays a readable size."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC

from crm_lib import services
from crm_lib.context import Context
from crm_lib.digest.build import build_digest
from crm_lib.digest.render import INVESTOR_CAP, LIST_CAP, render_html, render_text
from tests.digest.conftest import ALICE, day, deliver, mail

SINCE, UNTIL = day(25, 0), day(26, 0)
HOSTILE = '<script>alert("x")</script>\nFORGED LINE'


def test_hostile_names_and_subjects_stay_text(ctx: Context, crm: dict) -> None:
    investor = services.create_investor(ctx, {"name": HOSTILE.replace("\n", " ")})
    services.add_person(
        ctx, investor["id"], {"full_name": "<b>Eve</b>", "email": "eve@hostile.example"}
    )
    deliver(
        ctx,
        ALICE,
        mail('<img src=x onerror=alert(1)> "quoted"', "eve@hostile.example", ALICE, day(25, 9)),
    )
    digest = build_digest(ctx, SINCE, UNTIL, zone=UTC)
    html, text = render_html(digest), render_text(digest)
    assert "<script>" not in html and "<img src=x" not in html and "<b>Eve</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in html
    assert '<script>alert("x")</script> FORGED LINE' in text  # text: as typed, on one line
    assert not any(line.startswith("FORGED LINE") for line in text.splitlines())


def test_links_use_the_public_address(ctx: Context, crm: dict) -> None:
    deliver(ctx, ALICE, mail("Fund III", "jane@acme.example", ALICE, day(25, 9)))
    public = replace(ctx, settings=replace(ctx.settings, public_url="https://crm.fund.example"))
    digest = build_digest(public, SINCE, UNTIL, zone=UTC)
    html, text = render_html(digest), render_text(digest)
    record = f"https://crm.fund.example/record?id={crm['acme']}"
    assert f'href="{record}"' in html and record in text
    thread = digest.investors[0].emails[0].thread_id
    assert f"https://crm.fund.example/email?thread={thread}" in text
    assert "http://127.0.0.1" not in html


def test_the_busiest_day_lists_the_most_and_says_how_many_more(ctx: Context, crm: dict) -> None:
    for n in range(LIST_CAP + 5):
        deliver(ctx, ALICE, mail(f"Note {n}", "jane@acme.example", ALICE, day(25, 1 + n % 20)))
    digest = build_digest(ctx, SINCE, UNTIL, zone=UTC)
    html, text = render_html(digest), render_text(digest)
    assert html.count("/email?thread=") == LIST_CAP  # one link per listed message
    assert "and 5 more" in html and "and 5 more:" in text
    assert INVESTOR_CAP == 100
