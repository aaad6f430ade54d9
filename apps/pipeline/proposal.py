"""Reaching a won stage (on the board, in its details, or in the grid's stage column) proposes
the commitment; nothing is written until the user confirms it in the page's dialog."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from apps.chrome import UserPage
from apps.formatting import money
from crm_lib import services


def propose_commitment(
    page: UserPage, won: Mapping[str, Any], after: Callable[[], None] | None = None
) -> None:
    """Ask ``page``'s user to record the commitment ``won`` proposes (its
    ``proposed_commitment``); ``after`` runs once it is recorded."""
    proposal = won.get("proposed_commitment")
    if not proposal:
        return
    currency = won.get("currency") or "USD"
    if proposal["amount"] is None:
        page._report(
            f"{won['investor_name']} is committed: enter the amount in the grid's"
            f" {won['fund_name']} column (the opportunity has no expected amount).",
            failed=False,
        )
        return
    amount = money(proposal["amount"], currency)
    detail = (
        f"The grid holds {money(proposal['current_amount'], currency)}; it becomes {amount}."
        if proposal["current_amount"] is not None
        else "The grid holds no commitment to this fund yet."
    )

    def record() -> None:
        recorded = page.act(
            lambda ctx: services.set_commitment(
                ctx,
                proposal["investor_id"],
                proposal["fund_id"],
                proposal["amount"],
                expected_version=proposal["expected_version"],
            ),
            success=f"Recorded {won['investor_name']}'s commitment to {won['fund_name']}.",
        )
        if recorded is not None and after is not None:
            after()

    page.confirm(
        f"Record {won['investor_name']}'s commitment of {amount} to {won['fund_name']}?",
        "Record commitment",
        record,
        detail,
    )
