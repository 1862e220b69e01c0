"""Stage 2 over a whole assignment: each horizon day split into groups of resources that
share no joint visit, each group sequenced once (cached), cuts for groups that do not fit.

Rule: the groups of a day are independent (nothing but a joint visit ties two resources'
routes), so sequencing them apart gives the day's exact travel; the cache lets two
candidate plans of a team (the warm start's and the search's) share the groups they agree on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from solver.params import SolveParams
from solver.problem import Cut, Problem
from solver.sequence import DaySequence, DayVisit, SafetyNet, sequence_day
from solver.solution import Assignment


def day_visits(assignments: Iterable[Assignment], day: int) -> list[DayVisit]:
    """The day's visits as stage 2 takes them."""
    return [DayVisit(a.task, a.resource, a.second_resource) for a in assignments if a.day == day]


def first_days(assignments: Iterable[Assignment], horizon_days: int) -> dict[int, int]:
    """Task -> day of its first visit in the horizon."""
    first: dict[int, int] = {}
    for a in sorted(assignments, key=lambda a: (a.day, a.task)):
        if a.day < horizon_days:
            first.setdefault(a.task, a.day)
    return first


def groups(visits: list[DayVisit]) -> list[list[DayVisit]]:
    """The visits split by resources linked through joint visits, in a fixed order."""
    parent: dict[int, int] = {}

    def find(r: int) -> int:
        while parent.setdefault(r, r) != r:
            r = parent[r]
        return r

    for x in visits:
        people = x.attendees()
        for r in people[1:]:
            a, b = sorted((find(people[0]), find(r)))
            parent[b] = a
    out: dict[int, list[DayVisit]] = defaultdict(list)
    for x in sorted(visits, key=lambda x: (x.task, x.resource)):
        out[find(x.resource)].append(x)
    return [out[k] for k in sorted(out)]


@dataclass
class Routed:
    """An assignment sequenced: starts, exact travel, and what did not fit."""

    assignments: list[Assignment]
    """Kept visits with their start minutes (look-ahead ones without)."""
    dropped: list[tuple[int, int]]
    travel_min: int
    failing: dict[int, list[list[DayVisit]]]
    """Day -> groups that could not be sequenced (before dropping)."""


@dataclass
class Sequencer:
    """Sequences assignments of one problem, remembering each group's result."""

    problem: Problem
    params: SolveParams
    net: SafetyNet = field(default_factory=SafetyNet)
    _cache: dict[tuple[Any, ...], DaySequence | None] = field(default_factory=dict)

    def group(self, day: int, visits: list[DayVisit], first: Collection[int]) -> DaySequence | None:
        """One group's sequence, or None if it does not fit."""
        first_here = frozenset(t for t in first if any(x.task == t for x in visits))
        key = (day, tuple(visits), first_here)
        if key not in self._cache:
            self._cache[key] = sequence_day(
                self.problem, day, visits, first_here, self.params, net=self.net
            )
        return self._cache[key]

    def route(self, assignments: list[Assignment], drop: bool = True) -> Routed:
        """Every horizon day sequenced; with `drop`, visits removed (latest listed first)
        from a group that does not fit until it does."""
        horizon = self.problem.horizon_days
        first = first_days(assignments, horizon)
        starts: dict[tuple[int, int], int] = {}
        dropped: list[tuple[int, int]] = []
        failing: dict[int, list[list[DayVisit]]] = defaultdict(list)
        travel = 0
        for day in range(horizon):
            today = {t for t, d in first.items() if d == day}
            for visits in groups(day_visits(assignments, day)):
                seq = self.group(day, visits, today)
                if seq is None:
                    failing[day].append(visits)
                    if not drop:
                        continue
                    kept, seq = self._drop_until_sequenced(day, visits, today)
                    dropped.extend((x.task, day) for x in visits if x not in kept)
                travel += seq.travel_min
                for t, s in seq.start_min.items():
                    starts[t, day] = s
        gone = set(dropped)
        kept_assignments = [
            a.model_copy(update={"start_min": starts.get((a.task, a.day))})
            for a in assignments
            if (a.task, a.day) not in gone
        ]
        return Routed(kept_assignments, sorted(dropped), travel, dict(failing))

    def _drop_until_sequenced(
        self, day: int, visits: list[DayVisit], first: Collection[int]
    ) -> tuple[list[DayVisit], DaySequence]:
        """Removes visits (latest-listed first) until the group can be sequenced."""
        kept = list(visits)
        while kept:
            seq = self.group(day, kept, first)
            if seq is not None:
                return kept, seq
            for x in reversed(kept):
                trial = [y for y in kept if y != x]
                if self.group(day, trial, first) is not None:
                    kept = trial
                    break
            else:
                kept = kept[:-1]
        return kept, DaySequence({}, 0)

    def cuts(self, day: int, visits: list[DayVisit], first: Collection[int]) -> list[Cut]:
        """Cuts for a group that cannot be sequenced: per resource when one alone fails."""
        out = []
        for r in sorted({r for x in visits for r in x.attendees()}):
            alone = [x for x in visits if r in x.attendees()]
            if self._alone(day, alone, first, r) is None:
                core = list(alone)
                for x in list(core):
                    trial = [y for y in core if y != x]
                    if trial and self._alone(day, trial, first, r) is None:
                        core = trial
                out.append(Cut(day=day, pairs=tuple(sorted((x.task, r) for x in core))))
        if not out:
            # Joint visits couple the resources: forbid this group's whole combination.
            pairs = sorted({(x.task, r) for x in visits for r in x.attendees()})
            out.append(Cut(day=day, pairs=tuple(pairs)))
        return out

    def _alone(
        self, day: int, visits: list[DayVisit], first: Collection[int], r: int
    ) -> DaySequence | None:
        return sequence_day(
            self.problem, day, visits, first, self.params, only_resource=r, net=self.net
        )
