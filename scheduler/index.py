"""One index of a scenario, built once and shared: its items by id and its lists by owner.

Rule: the index is derived from the scenario alone and never changes it; `index_of` hands the
same index back for the same scenario object, so each reader (the checker, the due engine,
reports, outcomes, the calendars' wording) stops building its own dictionaries.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from scheduler.domain import (
    Absence,
    BusyTime,
    Child,
    ChildId,
    Household,
    HouseholdId,
    Scenario,
    VisitRecord,
    Worker,
    WorkerId,
)


@dataclass(frozen=True)
class ScenarioIndex:
    """A scenario's workers, households and children by id, and its lists by owner.

    Lists keep the scenario's order, except `children_by_household`, which is by child id
    (the order the checker has always read residents in).
    """

    scenario: Scenario
    workers: Mapping[WorkerId, Worker]
    households: Mapping[HouseholdId, Household]
    children: Mapping[ChildId, Child]
    records_by_child: Mapping[ChildId, tuple[VisitRecord, ...]]
    children_by_household: Mapping[HouseholdId, tuple[Child, ...]]
    absences_by_worker: Mapping[WorkerId, tuple[Absence, ...]]
    busy_by_worker: Mapping[WorkerId, tuple[BusyTime, ...]]

    @classmethod
    def build(cls, scenario: Scenario) -> ScenarioIndex:
        """Index one scenario (linear in its size)."""
        records: defaultdict[ChildId, list[VisitRecord]] = defaultdict(list)
        for record in scenario.records:
            records[record.child_id].append(record)
        residents: defaultdict[HouseholdId, list[Child]] = defaultdict(list)
        for child in sorted(scenario.children, key=lambda c: c.id):
            for household_id in child.household_ids:
                residents[household_id].append(child)
        absences: defaultdict[WorkerId, list[Absence]] = defaultdict(list)
        for absence in scenario.absences:
            absences[absence.worker_id].append(absence)
        busy: defaultdict[WorkerId, list[BusyTime]] = defaultdict(list)
        for busy_time in scenario.busy:
            busy[busy_time.worker_id].append(busy_time)
        return cls(
            scenario=scenario,
            workers={w.id: w for w in scenario.workers},
            households={h.id: h for h in scenario.households},
            children={c.id: c for c in scenario.children},
            records_by_child={k: tuple(v) for k, v in records.items()},
            children_by_household={k: tuple(v) for k, v in residents.items()},
            absences_by_worker={k: tuple(v) for k, v in absences.items()},
            busy_by_worker={k: tuple(v) for k, v in busy.items()},
        )

    def records_of(self, child_id: ChildId) -> tuple[VisitRecord, ...]:
        """A child's records in the scenario's order (none when it has none)."""
        return self.records_by_child.get(child_id, ())


_KEPT = 4
_recent: list[ScenarioIndex] = []
_lock = threading.Lock()


def index_of(scenario: Scenario) -> ScenarioIndex:
    """The index of `scenario`, built on first use and kept for the last few scenarios
    (matched by identity: a scenario is immutable, a changed one is a new object)."""
    with _lock:
        for found in _recent:
            if found.scenario is scenario:
                return found
    built = ScenarioIndex.build(scenario)
    with _lock:
        _recent.insert(0, built)
        del _recent[_KEPT:]
    return built
