"""The manager's measures of a solved team, compared lexicographically to keep the better plan.

Rule: exact on the solver's integers, with stage 1's counting of lateness (solver.objective)
and stage 2's exact travel; the checker, not this, is the judge of a plan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import NonNegativeInt

from solver.problem import Clock, Problem, SolverModel

if TYPE_CHECKING:
    from solver.solution import Assignment


class Measures(SolverModel):
    """What a manager weighs, most important first; compare with `key`."""

    breaches: NonNegativeInt = 0
    """Deadlines missed inside the horizon, and monthly counts short in the window."""
    lateness: NonNegativeInt = 0
    """Weighted days late over the window (stage 1's statutory lateness and monthly counts)."""
    continuity: NonNegativeInt = 0
    """Horizon visits led by someone other than an allocated worker."""
    retry_buffer: NonNegativeInt = 0
    """Days of retry slack missing before deadlines inside the horizon."""
    travel_min: NonNegativeInt = 0
    """Exact sequenced travel in the horizon."""
    visits: NonNegativeInt = 0
    """Visits in the window."""

    def key(self) -> tuple[int, ...]:
        """The lexicographic order: breaches, lateness, continuity, retry buffer, travel."""
        return (
            self.breaches,
            self.lateness,
            self.continuity,
            self.retry_buffer,
            self.travel_min,
            self.visits,
        )


def uncovered_days(problem: Problem, clock: Clock, days: Iterable[int]) -> list[int]:
    """Days after the clock's first deadline (up to the day past the window) that no visit on
    an earlier day covers (`next_due_day[d] >= e`), as stage 1 counts lateness."""
    window, due = problem.window_days, clock.first_due_day
    out = []
    reach = due
    """Last day covered so far, scanning visits in day order."""
    visits = sorted(set(days))
    i = 0
    for e in range(max(0, due + 1), window + 1):
        while i < len(visits) and visits[i] < e:
            d = visits[i]
            reach = max(reach, window if clock.next_due_day is None else clock.next_due_day[d])
            i += 1
        if e > reach:
            out.append(e)
    return out


def measure(problem: Problem, assignments: Iterable[Assignment], travel_min: int) -> Measures:
    """The measures of a team's final assignment with its exact travel."""
    visits = list(assignments)
    days: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for a in visits:
        days[a.task].append((a.day, a.unannounced))
    horizon = problem.horizon_days
    breaches = lateness = buffer = 0
    for clock in problem.clocks:
        covered = [d for t in clock.tasks for d, u in days[t] if u or not clock.unannounced]
        late = uncovered_days(problem, clock, covered)
        lateness += clock.weight_per_day * len(late)
        breaches += sum(
            1 for i, e in enumerate(late) if e <= horizon and (i == 0 or late[i - 1] != e - 1)
        )
        if clock.buffer_days and 0 <= clock.first_due_day < horizon:
            first = min(covered, default=problem.window_days + 1)
            start = max(0, clock.first_due_day - clock.buffer_days + 1)
            buffer += max(0, min(clock.first_due_day, first) - start + 1)
    for quota in problem.quotas:
        made = sum(
            1
            for t in quota.tasks
            for d, u in days[t]
            if quota.first_day <= d <= quota.last_day and (u or not quota.unannounced)
        )
        short = max(0, quota.count - made)
        lateness += quota.weight * short
        breaches += int(short > 0)
    other = sum(
        1
        for a in visits
        if a.day < horizon
        and problem.tasks[a.task].preferred_resources
        and a.resource not in problem.tasks[a.task].preferred_resources
    )
    return Measures(
        breaches=breaches,
        lateness=lateness,
        continuity=other,
        retry_buffer=buffer,
        travel_min=travel_min,
        visits=len(visits),
    )
