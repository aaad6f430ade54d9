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


def test_the_digest_lists_each_members_tasks_due_and_the_days_stage_moves(
    ctx: Context, crm: dict
) -> None:
    """Bob's overdue tasks and those due on the day the digest is sent (the window ends at
    midnight: the 26th), a done one and the 27th's left out, Alice (none) left out; and the
    day's stage moves: a new opportunity and a move, with who made them."""
    users = {u["email"]: u["id"] for u in services.list_users(ctx)}
    bob = users["bob@fund.example"]
    for title, due, status in (
        ("Chase the <b>side letter</b>", "2026-11-20", "open"),
        ("Call Jane", "2026-11-26", "open"),
        ("Tomorrow's", "2026-11-27", "open"),
        ("Done already", "2026-11-01", "done"),
    ):
        task = services.create_task(
            ctx, {"title": title, "due_on": due, "assignee_id": bob, "investor_id": crm["acme"]}
        )
        if status == "done":
            services.complete_task(ctx, task["id"], expected_version=task["version"])
    fund = services.create_fund(ctx, {"name": "Fund III"})
    stages = {s["name"]: s["id"] for s in services.list_stages(ctx)}
    made = services.create_opportunity(ctx, crm["acme"], fund["id"])
    services.move_opportunity(
        ctx.as_user(services.get_user(ctx, bob)),
        made["id"],
        stages["Meeting"],
        expected_version=made["version"],
    )
    digest = build_digest(ctx, SINCE, UNTIL, zone=UTC)
    [member] = digest.tasks
    assert member.name == "Bob"
    assert [t["title"] for t in member.overdue] == ["Chase the <b>side letter</b>"]
    assert [t["title"] for t in member.today] == ["Call Jane"]
    assert [(m["from_stage"], m["to_stage"], m["by"]) for m in digest.stage_moves] == [
        (None, "Prospect", "Alice"),
        ("Prospect", "Meeting", "Bob"),
    ]
    figures = digest.figures()
    assert (figures["tasks_overdue"], figures["tasks_due_today"], figures["stage_moves"]) == (
        1,
        1,
        2,
    )
    html, text = render_html(digest), render_text(digest)
    assert "Bob: 1 overdue, 1 due today" in html and "overdue since 2026-11-20" in html
    assert "&lt;b&gt;side letter&lt;/b&gt;" in html and "<b>side letter" not in html
    assert "Acme Capital, Fund III: Prospect -> Meeting, by Bob" in text
    assert "Tomorrow's" not in text and "Done already" not in text
