"""A view's remembered ordered ids (crm_lib/grid/ordered_ids.py) stay exactly what SQLite's own
ORDER BY gives, as random creates, edits, archives, restores and commitments land, from this
connection, another one, and another process; and they are read afresh when the change log
cannot tell what changed (a restore, a pruned log, a field's type change)."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import cmp_to_key
from pathlib import Path
from typing import Any

import pytest

import crm_lib
from crm_lib import services
from crm_lib.config import Settings
from crm_lib.context import Context
from crm_lib.errors import ValidationError
from crm_lib.grid.fields import load_fields
from crm_lib.grid.ordered_ids import REGISTRY, ScanNeeded, SortTerm, _comparer, without_scans
from crm_lib.services.investors import _InvestorQuery, _ordered_query
from tests.grid.writes import commit, investor_ids, restore

ROOT = Path(__file__).resolve().parents[2]
NAMES = ["acme", "Acme", "ACME Partners", "Zeta", "zeta", "Éclair", "eclair", "_under", "Ωmega"]
PLACES = [None, "", "New York", "new york", "Boston", "München", "NEW Haven", "berlin"]
STATUSES = [None, "Prospect", "Meeting", "Committed", "Passed"]
VIEW: dict[str, Any] = {
    "list_membership": "all",
    "filters": {
        "op": "and",
        "conditions": [
            {
                "op": "or",
                "conditions": [
                    {"field": "name", "operator": "contains", "value": "a"},
                    {"field": "location", "operator": "contains", "value": "new"},
                ],
            },
            {"field": "status", "operator": "has_any_of", "value": ["Prospect", "Meeting"]},
        ],
    },
    "sorts": [
        {"field": "owner_id", "direction": "asc"},
        {"field": "last_contacted_at", "direction": "desc"},
    ],
}
QUERIES: list[dict[str, Any]] = [
    {"sort": [("name", "asc")]},
    {"sort": [("location", "desc"), ("name", "asc")], "list_membership": "main"},
    {"sort": [("total_invested", "desc")], "conditions": [("total_invested", "gt", 0)]},
    {"sort": [("name", "asc")], "archived": True},
    {
        "sort": [("owner_id", "asc"), ("last_contacted_at", "desc")],
        "filter_tree": VIEW["filters"],
    },
]


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    REGISTRY.clear()
    yield
    REGISTRY.clear()


def reference(ctx: Context, **query: Any) -> list[int]:
    """The query's ids as SQLite orders them now: the same WHERE, a fresh ORDER BY."""
    fields = load_fields(ctx.db)
    built = _InvestorQuery.build(
        ctx,
        fields,
        query.get("list_membership", "all"),
        query.get("conditions", ()),
        None,
        query.get("filter_tree"),
        query.get("archived", False),
    )
    ordered = _ordered_query(
        fields,
        built,
        query["sort"],
        conditions=query.get("conditions", ()),
        search=None,
        filter_tree=query.get("filter_tree"),
    )
    sql = f"SELECT id FROM fundraising_investors WHERE {built.where} ORDER BY {ordered.order_sql()}"
    return [row[0] for row in ctx.db.execute(sql, built.params)]


def remembered(ctx: Context, **query: Any) -> tuple[list[int], int]:
    page = services.list_investors(ctx, page_size=1000, **query)
    return [row["id"] for row in page.rows], page.total


def assert_every_query_exact(ctx: Context) -> None:
    for query in QUERIES:
        expected = reference(ctx, **query)
        ids, total = remembered(ctx, **query)
        assert ids == expected, query
        assert total == len(expected)
    counted = dict(
        ctx.db.execute(
            "SELECT list_membership, count(*) FROM fundraising_investors"
            " WHERE deleted_at IS NULL GROUP BY 1"
        ).fetchall()
    )
    archived = ctx.db.execute(
        "SELECT count(*) FROM fundraising_investors WHERE deleted_at IS NOT NULL"
    ).fetchone()[0]
    expected_counts = {
        "all": sum(counted.values()),
        **{name: counted.get(name, 0) for name in ("main", "follow_up", "graveyard", "longshot")},
        "archived": archived,
    }
    assert services.count_by_list(ctx) == expected_counts


def random_writes(ctx: Context, rng: random.Random, fund: dict, owners: list[int], n: int) -> None:
    for _ in range(n):
        live, gone = investor_ids(ctx)
        action = rng.random()
        if action < 0.2 or not live:
            services.create_investor(
                ctx,
                {
                    "name": f"{rng.choice(NAMES)} {rng.randrange(50)}",
                    "location": rng.choice(PLACES),
                    "status": rng.choice(STATUSES),
                    "list_membership": rng.choice(["main", "follow_up"]),
                },
            )
            continue
        investor = services.get_investor(ctx, rng.choice(live))["investor"]
        version = investor["version"]
        if action < 0.3:
            services.archive_investor(ctx, investor["id"], expected_version=version)
        elif action < 0.35 and gone:
            restore(ctx, rng.choice(gone))
        elif action < 0.45:
            commit(ctx, investor["id"], fund["id"], rng.choice([0, 500, 2500]))
        else:
            key, value = rng.choice(
                [
                    ("name", f"{rng.choice(NAMES)} {rng.randrange(50)}"),
                    ("location", rng.choice(PLACES)),
                    ("status", rng.choice(STATUSES)),
                    ("notes", f"note {rng.random()}"),  # read by none of the queries
                    ("owner_id", rng.choice([None, *owners])),
                    ("last_contacted_at", rng.choice([None, "2026-01-05", "2026-03-01"])),
                    ("list_membership", rng.choice(["main", "follow_up", "graveyard"])),
                ]
            )
            services.update_field(ctx, investor["id"], key, value, expected_version=version)


def test_random_writes_keep_every_remembered_list_exact_by_catching_up(
    ctx: Context, fund: dict
) -> None:
    rng = random.Random(24)
    owners = [services.create_user(ctx, f"o{n}@fund.example", f"Owner {n}")["id"] for n in (1, 2)]
    random_writes(ctx, rng, fund, owners, 40)
    assert_every_query_exact(ctx)
    reads = REGISTRY.counts["read"]
    for _round in range(12):
        random_writes(ctx, rng, fund, owners, 8)
        assert_every_query_exact(ctx)
    assert REGISTRY.counts["read"] == reads  # never read again: caught up every time
    assert REGISTRY.counts["caught up"] >= 12 * len(QUERIES) - 5  # (and the list counts)


def test_writes_from_another_connection_and_another_process_are_caught_up(
    ctx: Context, bob: Context, settings: Settings
) -> None:
    for n in range(30):
        services.create_investor(ctx, {"name": f"LP {n:02d}", "location": PLACES[n % 8]})
    assert_every_query_exact(ctx)
    first = services.list_investors(ctx, page_size=1).rows[0]
    services.update_field(bob, first["id"], "name", "zz last", expected_version=first["version"])
    script = (
        "from pathlib import Path; import crm_lib; from crm_lib import services\n"
        "from crm_lib.config import Settings\n"
        f"ctx = crm_lib.open_crm(settings=Settings(data_dir=Path({str(settings.data_dir)!r})),"
        " actor='system:test')\n"
        "services.create_investor(ctx, {'name': 'AAA first', 'location': 'New York'})\n"
        "ctx.close()\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)
    reads = REGISTRY.counts["read"]
    assert_every_query_exact(ctx)
    assert REGISTRY.counts["read"] == reads
    names = [r["name"] for r in services.list_investors(ctx, page_size=1000).rows]
    assert names[0] == "AAA first" and names[-1] == "zz last"


def test_a_page_right_after_an_edit_shows_the_edit(ctx: Context) -> None:
    for n in range(20):
        services.create_investor(ctx, {"name": f"Alpha {n:02d}", "status": "Prospect"})
    view = {"list_membership": "all", "filters": VIEW["filters"], "sorts": VIEW["sorts"]}
    before = services.view_page(ctx, view, page_size=5)
    moved = before.rows[-1]
    services.update_field(ctx, moved["id"], "status", "Passed", expected_version=moved["version"])
    after = services.view_page(ctx, view, page_size=5)
    assert moved["id"] not in [r["id"] for r in after.rows] and after.total == before.total - 1
    row = after.rows[0]
    services.update_field(ctx, row["id"], "location", "Newport", expected_version=row["version"])
    again = services.view_page(ctx, view, page_size=5)
    assert again.rows[0]["location"] == "Newport"


def test_a_log_that_cannot_tell_means_reading_afresh(ctx: Context) -> None:
    for n in range(10):
        services.create_investor(ctx, {"name": f"LP {n:02d}"})
    assert_every_query_exact(ctx)
    ctx.db.execute("DELETE FROM grid_changes")  # pruned (or a restore's history)
    services.create_investor(ctx, {"name": "AAA"})
    reads = REGISTRY.counts["read"]
    assert_every_query_exact(ctx)
    assert REGISTRY.counts["read"] > reads
    services.add_field(ctx, "Ticket", "text")
    [row] = ctx.db.execute("SELECT investors FROM grid_changes ORDER BY version DESC LIMIT 1")
    assert row[0] == '"all"'  # a field change may reshape every row: read afresh
    reads = REGISTRY.counts["read"]
    assert_every_query_exact(ctx)
    assert REGISTRY.counts["read"] > reads


def test_a_restore_is_read_afresh(ctx: Context) -> None:
    for n in range(10):
        services.create_investor(ctx, {"name": f"LP {n:02d}"})
    backup = services.create_backup(ctx)
    services.create_investor(ctx, {"name": "AAA after the backup"})
    assert_every_query_exact(ctx)
    services.restore_backup(ctx, backup["id"])
    reopened = crm_lib.open_crm(settings=ctx.settings, actor="system:test")
    try:
        assert_every_query_exact(reopened)
        names = [r["name"] for r in services.list_investors(reopened, page_size=100).rows]
        assert "AAA after the backup" not in names and len(names) == 10
    finally:
        reopened.close()


@pytest.mark.parametrize("descending", [False, True])
def test_the_comparison_orders_as_sqlite_does(ctx: Context, descending: bool) -> None:
    """Mixed types, NULLs, ASCII and non-ASCII case, ties broken by id: the binary search's
    comparison must agree with ORDER BY ... COLLATE NOCASE ... NULLS LAST, id."""
    values: list[Any] = [None, 3, 2.5, -1, "b", "B", "a", "É", "é", "Z", "", "10", b"\x00", 3]
    conn = ctx.db.conn
    conn.execute("CREATE TEMP TABLE probe (id INTEGER PRIMARY KEY, v)")
    rng = random.Random(7)
    conn.executemany(
        "INSERT INTO probe VALUES (?, ?)", [(n, rng.choice(values)) for n in range(1, 200)]
    )
    rows = conn.execute("SELECT id, v FROM probe").fetchall()  # keys come back from SQLite
    direction = "DESC" if descending else "ASC"
    expected = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM probe ORDER BY v COLLATE NOCASE {direction} NULLS LAST, id"
        )
    ]
    compare = _comparer([SortTerm("v", descending, nocase=True)])
    ordered = sorted(rows, key=cmp_to_key(lambda a, b: compare((a[1],), a[0], (b[1],), b[0])))
    assert [r[0] for r in ordered] == expected


def test_keyset_paging_under_concurrent_writes_never_skips_or_repeats_a_row(
    ctx: Context, bob: Context
) -> None:
    """Page through a sorted list by cursor while another session creates investors ahead of
    and behind the reader, archives some and renames others: every row that stayed put is seen
    exactly once, and no row is seen twice unless it moved."""
    rng = random.Random(5)
    for n in range(120):
        services.create_investor(ctx, {"name": f"{rng.choice(NAMES)} {n:03d}"})
    query = {"sort": [("name", "asc")], "page_size": 7}
    before = set(reference(ctx, **query))
    seen: list[int] = []
    touched: set[int] = set()
    page = services.list_investors(ctx, **query)
    while True:
        seen += [row["id"] for row in page.rows]
        live = reference(bob, **query)
        for _ in range(3):  # another session writes between the reader's pages
            action = rng.random()
            if action < 0.4:
                created = services.create_investor(bob, {"name": f"{rng.choice(NAMES)} new"})
                touched.add(created["id"])
            else:
                victim = services.get_investor(bob, rng.choice(live))["investor"]
                touched.add(victim["id"])
                if action < 0.7:
                    services.archive_investor(bob, victim["id"], expected_version=victim["version"])
                    live.remove(victim["id"])
                else:
                    name = f"{rng.choice(NAMES)} moved"
                    services.update_field(
                        bob, victim["id"], "name", name, expected_version=victim["version"]
                    )
        if page.next_cursor is None:
            break
        page = services.list_investors(ctx, after=page.next_cursor, **query)
    untouched = before - touched
    assert all(seen.count(i) == 1 for i in untouched)  # nothing that stayed put is skipped...
    assert untouched <= set(seen)
    repeated = {i for i in seen if seen.count(i) > 1}
    assert repeated <= touched  # ...and only a row that moved can come round again


def test_a_cursor_from_elsewhere_is_refused_with_a_reason(ctx: Context) -> None:
    for n in range(5):
        services.create_investor(ctx, {"name": f"LP {n}"})
    first = services.list_investors(ctx, page_size=2)
    assert first.next_cursor is not None
    second = services.list_investors(ctx, page_size=2, after=first.next_cursor)
    assert [r["name"] for r in second.rows] == ["LP 2", "LP 3"] and second.page == 2
    with pytest.raises(ValidationError, match="another sort"):
        services.list_investors(ctx, sort=[("location", "asc")], after=first.next_cursor)
    for forged in ("not base64 !", "e30", "x" * 5000):
        with pytest.raises(ValidationError, match="cursor"):
            services.list_investors(ctx, after=forged)
    last = services.list_investors(ctx, page_size=2, after=second.next_cursor)
    assert [r["name"] for r in last.rows] == ["LP 4"] and last.next_cursor is None


def test_a_page_ending_on_a_long_sort_value_pages_by_number(ctx: Context) -> None:
    for n in range(3):
        services.create_investor(ctx, {"name": f"LP {n}", "notes": f"{n} " + "word " * 400})
    first = services.list_investors(ctx, sort=[("notes", "asc")], page_size=1)
    assert first.next_cursor is None and first.total == 3  # too long to carry in a URL
    second = services.list_investors(ctx, sort=[("notes", "asc")], page_size=1, page=2)
    assert [r["name"] for r in second.rows] == ["LP 1"]


def test_readers_of_a_new_view_at_once_share_one_read_and_see_one_answer(
    ctx: Context, settings: Settings
) -> None:
    for n in range(200):
        services.create_investor(ctx, {"name": f"{NAMES[n % len(NAMES)]} {n}"})
    expected = reference(ctx, sort=[("name", "desc")])
    answers: list[list[int]] = []
    start = threading.Barrier(8)

    def reader() -> None:
        own = crm_lib.open_crm(settings=settings, actor="system:test")
        try:
            start.wait()
            page = services.list_investors(own, sort=[("name", "desc")], page_size=1000)
            answers.append([row["id"] for row in page.rows])
        finally:
            own.close()

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [expected] * 8
    assert REGISTRY.counts["read"] == 1  # one scan; the other seven waited for it


def test_without_scans_a_remembered_page_is_answered_and_a_new_one_is_handed_on(
    ctx: Context,
) -> None:
    for n in range(50):
        services.create_investor(ctx, {"name": f"LP {n:02d}", "location": PLACES[n % 8]})
    services.list_investors(ctx, page_size=5)  # remembered
    services.create_investor(ctx, {"name": "AAA"})  # a small catch-up is still quick
    with without_scans():
        page = services.list_investors(ctx, page_size=5)
        assert page.rows[0]["name"] == "AAA"
        with pytest.raises(ScanNeeded):  # a sort never read before: a scan of every investor
            services.list_investors(ctx, sort=[("location", "asc")], page_size=5)
    assert services.list_investors(ctx, sort=[("location", "asc")], page_size=5).total == 51


def test_without_scans_a_list_another_thread_is_bringing_up_to_date_is_handed_on(
    ctx: Context, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quick reader (the event loop) must not wait for another thread's catch-up or scan of
    the same list: it is handed on at once (ScanNeeded), and the other thread's answer is exact."""
    import crm_lib.grid.ordered_ids as ordered_ids

    for n in range(30):
        services.create_investor(ctx, {"name": f"LP {n:02d}"})
    services.list_investors(ctx, page_size=5)  # remembered
    services.create_investor(ctx, {"name": "AAA"})
    inside, release = threading.Event(), threading.Event()
    caught_up = ordered_ids._caught_up

    def paused(*args: Any) -> Any:
        inside.set()
        release.wait(timeout=30)
        return caught_up(*args)

    monkeypatch.setattr(ordered_ids, "_caught_up", paused)
    answers: list[str] = []

    def reader() -> None:
        own = crm_lib.open_crm(settings=settings, actor="system:test")
        try:
            answers.append(services.list_investors(own, page_size=5).rows[0]["name"])
        finally:
            own.close()

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        assert inside.wait(timeout=30)
        with without_scans(), pytest.raises(ScanNeeded):
            services.list_investors(ctx, page_size=5)
    finally:
        release.set()
        thread.join(timeout=30)
    assert answers == ["AAA"]
