"""State of one record page: the investor shown, its people, commitments, history and activity,
the grid's column kinds (so every field edits as it does in the grid), and the investor's place
in the view it was opened from (for previous / next).

Every read goes through the services; nothing here writes. The page saves and then asks the
store to read again, so what is shown is always what was stored (recomputed formulas, the new
total, the new version).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import param

from apps.grid.place import GridPlace
from apps.grid.store import GridStore
from crm_lib import services
from crm_lib.context import Context
from crm_lib.errors import CRMError, NotFound
from crm_lib.services import Neighbours

#: How many activity events the page shows (the activity page has the rest).
ACTIVITY_LIMIT = 100
#: Team members who are not people: what the page calls them.
SYSTEM_ACTORS = {"system:import": "an import", "system:jobs": "a scheduled job"}


@dataclass(frozen=True)
class NeighboursRequest:
    """Whose neighbours, in which place, near which position (where it stood when last read)."""

    place: GridPlace
    investor_id: int
    near: int | None


@dataclass(frozen=True)
class NeighboursRead:
    """The neighbours read (None: refused, ``problem`` says why), the place's name and view."""

    neighbours: Neighbours | None
    name: str
    saved: dict[str, Any] | None
    problem: str = ""


def read_neighbours(ctx: Context, request: NeighboursRequest) -> NeighboursRead:
    """The previous and next investors of ``request``'s place. Touches no page state: safe on
    a read thread."""
    place = request.place
    saved = None
    name = "All investors"
    if place.view_id is not None:
        try:
            saved = services.get_view(ctx, place.view_id)
            name = saved["name"]
        except NotFound:
            name = "All investors (the link's view is gone, or not shared with you)"
    try:
        neighbours = services.view_neighbours(
            ctx,
            place.view_spec(saved),
            request.investor_id,
            sorts=place.header_sorts(),
            conditions=list(place.conditions),
            search=place.search or None,
            archived=place.archived,
            near=request.near,
        )
    except CRMError as exc:
        return NeighboursRead(None, name, saved, exc.message)
    return NeighboursRead(neighbours, name, saved)


class RecordStore(param.Parameterized):
    """One record page's data, read through the services."""

    investor_id = param.Integer(default=None, allow_None=True)
    found = param.Boolean(default=False, doc="False: no investor with this id (or none given)")
    investor = param.Dict(default={})
    people = param.List(default=[])
    commitments = param.List(default=[])
    history = param.List(default=[])
    activity = param.List(default=[])
    neighbours = param.ClassSelector(class_=Neighbours, default=None, allow_None=True)
    view_name = param.String(default="All investors")
    place_problem = param.String(default="", doc="Why previous / next are not available")

    def __init__(self, place: GridPlace | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.place = place or GridPlace()
        #: The grid's own columns: field specs, editors and value conversions, owners, funds.
        self.grid = GridStore()
        #: actor (a user's email) -> display name, for history, activity and conflicts
        self.names: dict[str, str] = {}
        #: the saved view of the place, as read (None: all investors)
        self.saved_view: dict[str, Any] | None = None

    # -- reading ---------------------------------------------------------------------------------
    def load(self, ctx: Context) -> None:
        """Everything the page shows but the neighbours (columns, team names, the record)."""
        self.grid.load_columns(ctx)
        self.names = display_names(services.list_users(ctx))
        self.load_record(ctx)

    def load_record(self, ctx: Context) -> None:
        """The investor (archived ones too), people, commitments, history and activity."""
        if self.investor_id is None:
            self._not_found()
            return
        try:
            loaded = services.get_investor(ctx, self.investor_id, include_archived=True)
        except NotFound:
            self._not_found()
            return
        events = services.activity(ctx, investor_id=self.investor_id, limit=ACTIVITY_LIMIT)
        self.param.update(
            found=True,
            investor=loaded["investor"],
            people=loaded["people"],
            commitments=loaded["commitments"],
            history=loaded["history"],
            activity=events,
        )

    def _not_found(self) -> None:
        self.param.update(
            found=False, investor={}, people=[], commitments=[], history=[], activity=[]
        )

    def load_neighbours(self, ctx: Context) -> None:
        """The previous and next investors of the view the page was opened from (all investors
        by name when it was opened from elsewhere). A place the services refuse (a filter on a
        field deleted since, a view no longer shared) leaves previous / next off, saying why."""
        self.show_neighbours(read_neighbours(ctx, self.neighbours_request()))

    def neighbours_request(self) -> NeighboursRequest:
        """What :func:`read_neighbours` needs, taken now: it may run on a read thread."""
        near = self.neighbours.position if self.neighbours is not None else None
        return NeighboursRequest(
            self.place, self.investor_id, self.place.position if near is None else near
        )

    def show_neighbours(self, read: NeighboursRead) -> None:
        if read.neighbours is None:
            self.param.update(neighbours=None, view_name=read.name, place_problem=read.problem)
            return
        self.saved_view = read.saved
        self.param.update(neighbours=read.neighbours, view_name=read.name, place_problem="")

    def place_depends_on(self, key: str) -> bool:
        """Whether a change of field ``key`` can move this investor in its view, or out of it
        (its list, a sort key, a filtered or searched field). Only then are the neighbours read
        again: that is one ordered read of the view's ids, a scan of every matching investor."""
        if self.neighbours is None:
            return False  # no previous / next to keep right
        place, view = self.place, self.saved_view or {}
        used = {"list_membership", *(field for field, _ in place.sorts)}
        if not place.sorts:
            used |= {s.get("field", "") for s in view.get("sorts") or []} or {"name"}
        used |= {condition[0] for condition in place.conditions}
        used |= set(_fields_named(view.get("filters")))
        if place.search:
            used |= {"name", "location", "notes"}
        spec = self.grid.fields.get(key)
        names = {key.lower(), spec.label.lower() if spec else key.lower()}
        return bool(names & {str(name).lower() for name in used})

    # -- derived -----------------------------------------------------------------------------------
    @property
    def archived(self) -> bool:
        return bool(self.investor.get("deleted_at"))

    @property
    def version(self) -> int:
        return int(self.investor["version"])

    @property
    def labels(self) -> dict[str, str]:
        return {key: spec.label for key, spec in self.grid.fields.items()}

    def who(self, actor: str | None) -> str:
        """A person's display name for an actor label (their email), as people know them."""
        if not actor:
            return "someone"
        if actor in self.names:
            return self.names[actor]
        if actor in SYSTEM_ACTORS:
            return SYSTEM_ACTORS[actor]
        if actor.startswith("system:"):
            return "the system"
        return actor

    def place_at(self, position: int | None) -> GridPlace:
        return self.place.at(position)

    def neighbour_url(self, step: int) -> str:
        """The record page of the previous (-1) or next (+1) investor, '' when there is none."""
        neighbours = self.neighbours
        if neighbours is None:
            return ""
        investor_id = neighbours.previous_id if step < 0 else neighbours.next_id
        position = neighbours.previous_position if step < 0 else neighbours.next_position
        if investor_id is None:
            return ""
        return self.place.at(position).record_url(investor_id)

    def back_url(self) -> str:
        """The grid as the person left it, at this record's row."""
        neighbours = self.neighbours
        position = neighbours.position if neighbours is not None else None
        return self.place.at(position if position is not None else self.place.position).grid_url()


def _fields_named(tree: Any) -> list[str]:
    """Every field a view's filter tree names (conditions nest in groups)."""
    if isinstance(tree, Mapping):
        own = [str(tree["field"])] if "field" in tree else []
        return own + [f for value in tree.values() for f in _fields_named(value)]
    if isinstance(tree, list):
        return [f for item in tree for f in _fields_named(item)]
    return []


def display_names(users: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Email -> the name a team member goes by (their email if they gave none)."""
    return {u["email"]: (u.get("name") or "").strip() or u["email"] for u in users}
