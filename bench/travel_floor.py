"""A floor under any plan's travel that keeps each visit with the same worker.

Usage (from bench/plan.py): `travel_floor(plan, scenario)`.

For each worker, the visits they make in the plan are split into worker-days of at most the
daily visit cap in the cheapest possible way (exact: dynamic programming over subsets, each
day routed by trying every order), ignoring every deadline, family window, working hour and
day of the week. No plan that gives each visit to the same worker can travel less, so it shows
how much travel is there to be saved at the continuity (allocated worker) a plan keeps.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from functools import cache

from scheduler.domain import Plan, Scenario
from scheduler.visiting import Place, place_of, travel_between
from solver.polish import shortest_round_trip


def _worker_floor(matrix: list[list[int]], cap: int) -> int:
    """Cheapest split of stops 1..n (0 is the base) into round trips of at most `cap` stops."""
    n = len(matrix) - 1

    @cache
    def route(mask: int) -> int:
        return shortest_round_trip(matrix, 0, [i + 1 for i in range(n) if mask >> i & 1])

    @cache
    def best(mask: int) -> int:
        if not mask:
            return 0
        low = mask & -mask
        rest = [1 << i for i in range(n) if (mask ^ low) >> i & 1]
        return min(
            route(low | sum(more)) + best(mask ^ (low | sum(more)))
            for k in range(cap)
            for more in itertools.combinations(rest, k)
        )

    return best((1 << n) - 1)


def travel_floor(plan: Plan, scenario: Scenario) -> int:
    """The floor (module docstring) in minutes, summed over the plan's workers."""
    workers = {w.id: w for w in scenario.workers}
    homes = {h.id: h for h in scenario.households}
    stops: dict[str, list[Place]] = defaultdict(list)
    for visit in plan.visits:
        home = place_of(homes[visit.household_id])
        for worker_id in filter(None, (visit.worker_id, visit.second_worker_id)):
            stops[worker_id].append(home)
    total = 0
    for worker_id, places in sorted(stops.items()):
        worker = workers[worker_id]
        points = [place_of(worker), *places]
        matrix = [[travel_between(a, b, scenario.authority) for b in points] for a in points]
        cap = worker.max_visits_per_day or scenario.authority.max_visits_per_day
        total += _worker_floor(matrix, cap)
    return total
