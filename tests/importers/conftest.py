"""Builders for Airtable-style export files and a database ready to import into."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

import crm_lib
from crm_lib import services
from crm_lib.clock import FixedClock
from crm_lib.context import Context
from tests.conftest import START

HEADER = [
    "Name",
    "Record ID",
    "Type",
    "Status",
    "Owner",
    "Tags",
    "Fund I Commitment",
    "Fund II Commitment",
    "Ownership",
    "Last Contact",
    "Next Meeting",
    "Contacts",
    "Active",
    "Deck",
    "Notes",
    "Score",
]
ROWS = [
    [
        "Acme Capital",
        "recAAAAAAAAAAAAAA",
        "Family office",
        "Meeting",
        "alice@fund.example",
        'AI,"Health, Bio"',
        "$1,500,000.00",
        "",
        "12.5%",
        "1/15/2024",
        "1/15/2024 2:30pm",
        "Jane Doe <jane@acme.com>, Bob Roe <bob@acme.com>",
        "checked",
        "deck.pdf (https://dl.airtable.com/.attachments/a1/deck.pdf)",
        'Met at "SuperReturn", Berlin.\nFollow up in Q3',
        "#ERROR!",
    ],
    [
        "Beta Partners",
        "recBBBBBBBBBBBBBB",
        "Endowment",
        "Prospect",
        "Bob Builder",
        "Fintech",
        "",
        "$250,000.00",
        "25%",
        "2024-01-15",
        "2024-01-15 11:28",
        "",
        "",
        "",
        '=HYPERLINK("http://evil.example","click")',
        "7",
    ],
    [
        "Gamma LP",
        "recCCCCCCCCCCCCCC",
        "Pension",
        "Intro call",
        "",
        "",
        "-$0.00",
        "€75,000.00",
        "",
        "",
        "",
        "carol@gamma.org",
        "",
        "",
        "",
        "NaN",
    ],
]


def csv_bytes(
    rows: Sequence[Sequence[str]],
    *,
    header: Sequence[str] = HEADER,
    encoding: str = "utf-8-sig",
    newline: str = "\r\n",
) -> bytes:
    """A file the way Airtable writes it: quoted where needed, CRLF, UTF-8 with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def write_export(
    folder: Path, rows: Sequence[Sequence[str]] = ROWS, name: str = "Investors-Grid view.csv", **kw
) -> Path:
    path = folder / name
    path.write_bytes(csv_bytes(rows, **kw))
    return path


@pytest.fixture
def team(ctx: Context) -> dict[str, int]:
    """Two team members (collaborator cells name them) and Fund I (Fund II is new)."""
    alice = services.create_user(ctx, "alice@fund.example", name="Alice Adams")
    bob = services.create_user(ctx, "bob@fund.example", name="Bob Builder")
    fund = services.create_fund(ctx, {"name": "Fund I"})
    return {"alice": alice["id"], "bob": bob["id"], "fund_i": fund["id"]}


def content(ctx: Context) -> list[tuple]:
    """The schema and every row of every table: equal lists mean equal database content."""
    tables = ctx.db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).fetchall()
    dump: list[tuple] = [tuple(t) for t in tables]
    for name, _ in tables:
        dump += [(name, *row) for row in ctx.db.execute(f'SELECT * FROM "{name}" ORDER BY rowid')]
    return dump


@pytest.fixture
def demo_ctx(demo_dir: Path, tmp_path: Path) -> Iterator[Context]:
    """A private copy of the 300-investor demo fund (with people, commitments, owners)."""
    data_dir = tmp_path / "demo"
    shutil.copytree(demo_dir, data_dir, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    context = crm_lib.open_crm(data_dir, actor="system:test", clock=FixedClock(START))
    yield context
    context.close()
