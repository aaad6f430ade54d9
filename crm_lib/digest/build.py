"""One digest: the window's activity collected, a narrative per team member, figures, and the
subject line. :func:`build_digest` is what preview, send and the benchmark all call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from crm_lib.context import Context
from crm_lib.digest.collect import (
    CRMActivity,
    InvestorActivity,
    MemberActivity,
    collect_crm_activity,
    collect_investor_activity,
    collect_user_activity,
    window_emails,
)
from crm_lib.digest.follow_ups import MOVES_SHOWN, MemberTasks, notices, stage_moves, tasks_due
from crm_lib.digest.local_model import LocalModel
from crm_lib.digest.narrative import Narrative, write_narrative


@dataclass
class MemberSection:
    activity: MemberActivity
    narrative: Narrative


@dataclass
class Digest:
    """Everything the templates render."""

    since: datetime
    until: datetime
    zone: tzinfo
    base_url: str
    members: list[MemberSection] = field(default_factory=list)
    investors: list[InvestorActivity] = field(default_factory=list)
    crm: CRMActivity = field(default_factory=CRMActivity)
    #: opportunities put in a stage in the window, oldest first
    stage_moves: list[dict[str, Any]] = field(default_factory=list)
    #: each team member's open tasks overdue or due on the window's last day
    tasks: list[MemberTasks] = field(default_factory=list)
    #: what automation rules told the team in the window
    notices: list[dict[str, Any]] = field(default_factory=list)
    moves_shown: int = MOVES_SHOWN

    @property
    def active_members(self) -> list[MemberSection]:
        return [m for m in self.members if not m.activity.quiet]

    @property
    def quiet_members(self) -> list[str]:
        return [m.activity.name for m in self.members if m.activity.quiet]

    @property
    def no_activity(self) -> bool:
        return (
            not self.investors
            and self.crm.empty
            and not self.stage_moves
            and not self.tasks
            and not self.notices
        )

    @property
    def subject(self) -> str:
        local = self.until.astimezone(self.zone)
        day = f"{local:%a} {local.day} {local:%b %Y}"
        if not self.investors:
            return f"Venture CRM digest, {day}: no email with investors"
        emails = len({e.id for i in self.investors for e in i.emails})
        return (
            f"Venture CRM digest, {day}: {emails:,} email{'s' if emails != 1 else ''} with "
            f"{len(self.investors):,} investor{'s' if len(self.investors) != 1 else ''}"
        )

    @property
    def narrative_source(self) -> str:
        """``model`` if the model wrote every narrative it was asked for, else ``data``."""
        sources = {m.narrative.source for m in self.active_members}
        return "model" if sources == {"model"} else "data"

    def figures(self) -> dict[str, Any]:
        """The counts the admin page and the job history show."""
        emails = {e.id for i in self.investors for e in i.emails}
        return {
            "emails": len(emails),
            "inbound": sum(i.inbound for i in self.investors),
            "outbound": sum(i.outbound for i in self.investors),
            "investors": len(self.investors),
            "members_active": len(self.active_members),
            "edits": sum(p["changes"] for p in self.crm.edits),
            "new_investors": len(self.crm.new_investors),
            "commitments": len(self.crm.commitments),
            "imports": len(self.crm.imports),
            "stage_moves": len(self.stage_moves),
            "notices": len(self.notices),
            "tasks_overdue": sum(len(m.overdue) for m in self.tasks),
            "tasks_due_today": sum(len(m.today) for m in self.tasks),
            "narrative": self.narrative_source,
        }


def build_digest(
    ctx: Context,
    since: datetime,
    until: datetime,
    *,
    zone: tzinfo,
    model: LocalModel | None = None,
    without_model: str = "",
) -> Digest:
    """Collect ``[since, until)`` and write the narratives (``model`` None: from the data, with
    ``without_model`` as the reason when there is a better one than "not configured")."""
    emails = window_emails(ctx, since, until)
    members = collect_user_activity(ctx, since, until, emails=emails)
    digest = Digest(since, until, zone, ctx.settings.base_url)
    digest.members = [MemberSection(m, write_narrative(m, model, without_model)) for m in members]
    digest.investors = collect_investor_activity(ctx, since, until, emails=emails)
    digest.crm = collect_crm_activity(ctx, since, until)
    digest.stage_moves = stage_moves(ctx, since, until)
    digest.tasks = tasks_due(ctx, until, zone)
    digest.notices = notices(ctx, since, until)
    return digest
