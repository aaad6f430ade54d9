"""The write path when SQLite refuses: a full disk (a real SQLITE_FULL, from the engine's
``max_page_count``) rolls everything back and says so; values SQLite cannot bind (whole numbers
past 64 bits, unpaired surrogates) are refused as input errors, not crashes."""

from __future__ import annotations

import pytest

from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import DiskFull, ValidationError
from crm_lib.storage.reads import query_dicts, query_value
from crm_lib.storage.writes import bookkeeping, write

NOTES = "a note that needs pages of its own " * 2_000  # about 70 KB


def snapshot(ctx: Context) -> tuple:
    return (
        ctx.db.execute("SELECT count(*) FROM fundraising_investors").fetchone()[0],
        ctx.db.execute("SELECT count(*) FROM audit_log").fetchone()[0],
        ctx.db.execute("SELECT version FROM fundraising_state").fetchone()[0],
    )


def test_a_full_disk_raises_disk_full_and_rolls_the_whole_write_back(ctx: Context) -> None:
    investor = services.create_investor(ctx, {"name": "Acme Family Office"})
    before = snapshot(ctx)
    ctx.db.execute("PRAGMA max_page_count = 1")  # clamped to the file's current size
    with pytest.raises(DiskFull) as caught:
        services.create_investor(ctx, {"name": "Too Big LP", "notes": NOTES})
    assert caught.value.code == "disk_full" and caught.value.http_status == 503
    assert "nothing was saved" in caught.value.message
    with pytest.raises(DiskFull):
        services.update_investor(ctx, investor["id"], {"notes": NOTES}, expected_version=1)
    assert not ctx.db.conn.in_transaction
    assert snapshot(ctx) == before
    assert services.get_investor(ctx, investor["id"])["investor"]["notes"] is None

    ctx.db.execute("PRAGMA max_page_count = 1073741823")
    services.create_investor(ctx, {"name": "Too Big LP", "notes": NOTES})
    assert snapshot(ctx)[0] == before[0] + 1


def test_reads_refuse_ids_past_64_bits_as_invalid_input(ctx: Context) -> None:
    for sql_read in (query_dicts, query_value):
        with pytest.raises(ValidationError, match="64-bit"):
            sql_read(ctx.db, "SELECT 1 FROM fundraising_investors WHERE id = ?", [2**63])
    with pytest.raises(ValidationError):
        services.get_investor(ctx, 2**63)


def test_reads_refuse_unpaired_surrogates_as_invalid_input(ctx: Context) -> None:
    with pytest.raises(ValidationError, match="unpaired surrogate"):
        query_dicts(ctx.db, "SELECT 1 FROM fundraising_investors WHERE name = ?", ["a\ud800"])


def test_housekeeping_on_a_full_disk_is_skipped_not_failed(ctx: Context) -> None:
    """A session's last-seen time rides on reads: a full disk must not turn them into 503s."""
    before = snapshot(ctx)
    ctx.db.execute("PRAGMA max_page_count = 1")
    with bookkeeping(), write(ctx) as tx:
        tx.insert("fundraising_investors", {"name": "Housekeeping", "notes": NOTES})
    assert snapshot(ctx) == before and not ctx.db.conn.in_transaction
