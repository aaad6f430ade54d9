"""What a search may be narrowed to: one investor, one team member's mail, one type, a date
range. Qdrant applies them as payload conditions; local mode's arrays as masks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qdrant_client import models


@dataclass(frozen=True)
class Filters:
    investor_id: int | None = None
    team_member: str | None = None
    doc_type: str | None = None
    since_ts: float | None = None
    until_ts: float | None = None

    def to_qdrant(self) -> models.Filter | None:
        must: list[Any] = []
        if self.investor_id is not None:
            must.append(
                models.FieldCondition(key="lp_id", match=models.MatchValue(value=self.investor_id))
            )
        if self.team_member:
            must.append(
                models.FieldCondition(
                    key="team_member", match=models.MatchValue(value=self.team_member)
                )
            )
        if self.doc_type:
            must.append(
                models.FieldCondition(key="doc_type", match=models.MatchValue(value=self.doc_type))
            )
        if self.since_ts is not None or self.until_ts is not None:
            must.append(
                models.FieldCondition(
                    key="date_ts", range=models.Range(gte=self.since_ts, lt=self.until_ts)
                )
            )
        return models.Filter(must=must) if must else None
