"""What a save or a long action did, computed off the event loop and applied to widgets on it
(the grid page and its import panel both hand these around)."""

from __future__ import annotations

from typing import Any

from crm_lib.errors import CRMError


class Outcome:
    """The result of a service call, or its error; ``ended`` when the session has ended."""

    def __init__(
        self, result: Any = None, error: CRMError | None = None, ended: bool = False
    ) -> None:
        self.result, self.error, self.ended = result, error, ended
