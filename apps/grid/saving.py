"""How a grid cell's save is shown, and why it always ends in "Saved", a conflict or "Not saved".

A save runs off the event loop (:func:`apps.runtime.run_edit`). The page shows "Saving <field>…"
at once; if the answer takes longer than :data:`SLOW_S`, it says the server is busy rather than
sit silent; if the database's write lock was held past the busy timeout by someone else's long
change (:class:`~crm_lib.errors.DatabaseBusy`: nothing written), it retries once, saying so, and
then gives up with "Not saved" and the value put back. Every outcome, an unexpected error
included (the page maps those to a message), ends the "Saving…" state: it never stays on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from apps.markup import escape_text
from crm_lib.errors import DatabaseBusy

#: After this long without an answer, the save state says the server is busy.
SLOW_S = 2.0
#: Saves refused because the write lock stayed busy are tried again this many times.
BUSY_RETRIES = 1
#: Pause before that retry (the long change holding the lock may be ending).
RETRY_DELAY_S = 0.5

#: kind -> text; ``{field}`` is the column's title, ``{detail}`` what went wrong.
TEXTS = {
    "saving": "Saving {field}…",
    "slow": "Still saving {field}… the server is busy",
    "retrying": "The CRM was busy: saving {field} again…",
    "saved": "Saved {field}",
    "conflict": "Not saved: {field} was changed by {detail}",
    "failed": "Not saved: {field}. {detail}",
}


class SaveOutcome(Protocol):
    """What a save attempt came back with (``apps.grid.page.Outcome``)."""

    error: Any


OutcomeT = TypeVar("OutcomeT", bound=SaveOutcome)


def state_html(kind: str, field: str, detail: str = "") -> str:
    """The save state shown before the grid's counts: one of :data:`TEXTS`, with the field's
    title and the detail escaped (both are names people typed)."""
    text = TEXTS[kind].format(field=escape_text(field), detail=escape_text(detail))
    return f"<span class='crm-{kind}' role='status'>{text}</span> ·"


async def save_patiently(
    attempt: Callable[[], Awaitable[OutcomeT]],
    show: Callable[[str], None],
    field: str,
    *,
    slow_s: float | None = None,
    retries: int | None = None,
    delay_s: float | None = None,
) -> OutcomeT:
    """Run ``attempt`` (one save, returning its outcome, never raising) until it is not refused
    as busy or the retries are spent; ``show`` gets the save state's HTML whenever it changes.
    The caller shows the final state (saved, conflict, not saved) from the returned outcome.
    The timings default to this module's constants, read at each call."""
    slow_s = SLOW_S if slow_s is None else slow_s
    delay_s = RETRY_DELAY_S if delay_s is None else delay_s
    tries_left = BUSY_RETRIES if retries is None else retries
    while True:
        running = asyncio.ensure_future(attempt())
        try:
            outcome = await asyncio.wait_for(asyncio.shield(running), slow_s)
        except TimeoutError:
            show(state_html("slow", field))
            outcome = await running
        if not isinstance(outcome.error, DatabaseBusy) or tries_left <= 0:
            return outcome
        tries_left -= 1
        show(state_html("retrying", field))
        await asyncio.sleep(delay_s)
