"""Mail fixtures: a team (Alice admin, Bob member) and investors with people, one archived."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crm_lib import services
from crm_lib.context import Context

PASSWORD = "tangerine orbit mosaic"
ALICE, BOB = "alice@fund.example", "bob@fund.example"


def day(n: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, n, hour, tzinfo=UTC)


@pytest.fixture
def crm(ctx: Context) -> dict:
    """A team (Alice admin, Bob member), investors with people, one archived."""
    users = {}
    for email, role in ((ALICE, "admin"), (BOB, "member")):
        link = services.invite_user(ctx, email, role)
        users[email] = services.accept_link(
            ctx, link.token, name=email.split("@")[0].title(), password=PASSWORD
        )
    acme = services.create_investor(
        ctx, {"name": "Acme Capital", "website": "https://www.acme.example/"}
    )
    bloom = services.create_investor(ctx, {"name": "Bloom Pension", "website": "bloom.example"})
    gone = services.create_investor(ctx, {"name": "Gone LP"})
    jane = services.add_person(
        ctx, acme["id"], {"full_name": "Jane Doe", "email": "Jane@Acme.example"}
    )
    tom = services.add_person(
        ctx, bloom["id"], {"full_name": "Tom Smith", "email": "tomsmith@gmail.com"}
    )
    zed = services.add_person(ctx, gone["id"], {"full_name": "Zed", "email": "zed@gone.example"})
    services.archive_investor(
        ctx,
        gone["id"],
        expected_version=services.get_investor(ctx, gone["id"])["investor"]["version"],
    )
    return {
        "acme": acme["id"],
        "bloom": bloom["id"],
        "gone": gone["id"],
        "jane": jane["id"],
        "tom": tom["id"],
        "zed": zed["id"],
        "alice": users[ALICE],
        "bob": users[BOB],
    }


def write_mbox(path: Path, items: list) -> Path:
    box = mailbox.mbox(path)
    for item in items:
        box.add(item if isinstance(item, bytes) else item.as_bytes())
    box.flush()
    box.close()
    return path
