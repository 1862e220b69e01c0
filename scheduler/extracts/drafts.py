"""What a reader makes of an extract before it becomes a Scenario: children, homes, staff, visits.

Rule: plain data, no I/O. Keys are stable across imports of the same authority, so a second
extract updates the same children, households, teams and workers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from policies import Category, PlacementType, Role
from scheduler.domain import ChildEvents
from scheduler.extracts.cells import Where
from scheduler.postcodes import normalise


@dataclass(frozen=True)
class TeamDraft:
    """A team as the extract names it."""

    id: str
    name: str


@dataclass(frozen=True)
class WorkerDraft:
    """A worker as the extract names them; `role` is None when the extract cannot say."""

    id: str
    name: str
    role: Role | None = None


@dataclass(frozen=True)
class HomeDraft:
    """Where a child lives: a postcode and what else the extract gives to tell homes apart.

    `fallback` groups homes with no UPRN and no house or street (a family id, or a child id
    to keep the home to itself); blank means one household per postcode.
    """

    where: Where
    field: str
    postcode: str = ""
    uprn: str = ""
    easting: float | None = None
    northing: float | None = None
    house: str = ""
    street: str = ""
    fallback: str = ""

    @property
    def key(self) -> str:
        """What makes two children's homes the same household."""
        code = normalise(self.postcode)
        if self.uprn:
            return f"uprn:{self.uprn}"
        if self.house or self.street:
            return f"address:{code}:{self.house.lower()}:{self.street.lower()}"
        if not code and self.easting is not None:
            return f"grid:{self.easting:.0f}:{self.northing:.0f}:{self.fallback}"
        if self.fallback:
            return f"group:{self.fallback}:{code}"
        return f"postcode:{code}"

    @property
    def household_id(self) -> str:
        """A stable id that does not reveal the address."""
        return "h-" + hashlib.sha256(self.key.encode()).hexdigest()[:12]


@dataclass
class ChildDraft:
    """An open child as the extract describes them."""

    id: str
    where: Where
    category: Category
    birth_date: date | None = None
    name: str | None = None
    placement_type: PlacementType | None = None
    events: ChildEvents = field(default_factory=ChildEvents)
    team: TeamDraft | None = None
    worker: WorkerDraft | None = None
    homes: list[HomeDraft] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RecordDraft:
    """A visit from the extract's history, for one child."""

    id: str
    child_id: str
    on: date
    seen: bool
    seen_alone: bool = False
    bedroom_seen: bool = False
    place_assumed: bool = True
    """The extract does not say where the visit happened; taken as at home unless told not to."""
