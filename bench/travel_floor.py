"""The dated travel floor: the least travel any plan could have with the same visits by the
same workers, each on a day it could be made no later than its due date.

Usage (from bench/plan.py): `dated_floor(plan, scenario)`.

For each worker, the visits they make in the plan (as lead or second) are split into
worker-days in the cheapest way, exactly: a set-partitioning model (CP-SAT, proved optimal,
its bound reported if not) over groups of at most the day's visit cap, no household twice a
day, on a day every member allows: a working day of the horizon on which the worker works
(contracted days, no absence), on or before the visit's due date (its planned day if it was
planned late; the horizon's end if no deadline needs it), where the family's window that
weekday (after school on school days) has a start the worker can reach from base and return
from within their hours. Each group is routed exactly on each such day, as stage 2 routes a
worker's day: the cheapest order in which every visit starts on the 15-minute grain inside
its family's start window that day, after the worker's day starts and the travel to it, and
the worker is back at base by the end of their day (`Timing`). Busy times, a first visit's
avoided hours and the chain of a household's later deadlines are ignored, so no plan with
these visits and workers travels less. (Until the fourth round of issue 12 the groups were
routed without times: a worker could be given four after-school visits on one afternoon, a
floor no plan can reach; that floor is still `dated_floor(..., timed=False)`.)
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from ortools.sat.python import cp_model

from policies import load_pack
from scheduler.domain import Household, Plan, Scenario, Visit, Worker
from scheduler.due import calendar_for
from scheduler.translate import Context, is_available, make_context, minutes_of, start_ranges
from scheduler.visiting import place_of, travel_between
from solver.polish import shortest_round_trip

GRAIN_MIN = 15
FLOOR_LIMIT_S = 30.0
"""Deterministic seconds per worker; far more than any generated worker needs to prove."""


@dataclass(frozen=True)
class Timing:
    """When a worker's visits can be made: the worker's hours, each visit's length, and each
    visit's allowed start minutes by day."""

    hours: tuple[int, int]
    """The worker's day: start and end, in minutes from midnight."""
    durations: Sequence[int]
    starts: Sequence[Mapping[int, Sequence[tuple[int, int]]]]
    """Visit i -> day -> inclusive ranges of start minutes, earliest first; a day not
    listed allows any start."""


def _first_start(ranges: Sequence[tuple[int, int]] | None, earliest: int) -> int | None:
    """The first start on the grain at or after `earliest` inside `ranges` (None: anywhere)."""
    if ranges is None:
        return -(-earliest // GRAIN_MIN) * GRAIN_MIN
    for lo, hi in ranges:
        start = -(-max(lo, earliest) // GRAIN_MIN) * GRAIN_MIN
        if start <= hi:
            return start
    return None


def route_fits(
    travel: Sequence[Sequence[int]], order: Sequence[int], day: int, timing: Timing
) -> bool:
    """Whether visits `order` (0-based; location i + 1) can be made in that order on `day`:
    each at its earliest start, back at base by the end of the day (earliest starts are best
    for every later visit, so this is exact for the order)."""
    clock, here = timing.hours[0], 0
    for i in order:
        start = _first_start(timing.starts[i].get(day), clock + travel[here][i + 1])
        if start is None:
            return False
        clock, here = start + timing.durations[i], i + 1
    return clock + travel[here][0] <= timing.hours[1]


def _day_costs(
    travel: Sequence[Sequence[int]], group: tuple[int, ...], days: set[int], timing: Timing
) -> dict[int, int]:
    """Per day the group may share, the travel of its cheapest order that fits the day."""
    trips = sorted(
        (sum(travel[a][b] for a, b in itertools.pairwise((0, *(i + 1 for i in p), 0))), p)
        for p in itertools.permutations(group)
    )
    out = {}
    for day in sorted(days):
        for cost, order in trips:
            if route_fits(travel, order, day, timing):
                out[day] = cost
                break
    return out


def worker_floor(
    travel: Sequence[Sequence[int]],
    homes: Sequence[str],
    allowed: Sequence[Sequence[int]],
    cap: int,
    timing: Timing | None = None,
    planned: Sequence[int] | None = None,
) -> int:
    """Cheapest split of visits 1..n (location 0 is the base) into days, exactly.

    `homes[i]` is visit i's household (no household twice a day), `allowed[i]` the days
    visit i may be made on, `cap` the visits a day. With `timing`, a group shares a day only
    in an order that fits the day (`route_fits`), at that order's travel; a visit alone on its
    `planned` day is always allowed (the plan made it then). Returns the least total of each
    day's round trip (the solve's bound, rounded up, if it was not proved optimal).
    """
    n = len(homes)
    if not n:
        return 0
    model = cp_model.CpModel()
    cover: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    on_day: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    costs: list[tuple[int, cp_model.IntVar]] = []
    for size in range(1, min(cap, n) + 1):
        for group in itertools.combinations(range(n), size):
            if len({homes[i] for i in group}) < size:
                continue
            days = set(allowed[group[0]]).intersection(*(allowed[i] for i in group[1:]))
            if not days:
                continue
            if timing is None:
                cost = shortest_round_trip(travel, 0, [i + 1 for i in group])
                by_day = dict.fromkeys(days, cost)
            else:
                by_day = _day_costs(travel, group, days, timing)
                if size == 1 and planned is not None and planned[group[0]] in days:
                    by_day.setdefault(
                        planned[group[0]], shortest_round_trip(travel, 0, [group[0] + 1])
                    )
            for day, cost in sorted(by_day.items()):
                x = model.new_bool_var(f"g{group}_d{day}")
                for i in group:
                    cover[i].append(x)
                on_day[day].append(x)
                costs.append((cost, x))
    for i in range(n):
        if not cover[i]:
            raise ValueError(f"visit {i} has no day it may be made on")
        model.add_exactly_one(cover[i])
    for xs in on_day.values():
        model.add_at_most_one(xs)
    model.minimize(cp_model.LinearExpr.weighted_sum([x for _c, x in costs], [c for c, _x in costs]))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    # The LP at its strongest proves these set partitions at the root: a generated L worker
    # with 12 visits took 0.8 s to prove, where the default level had not proved it in 30
    # deterministic seconds and its bound (-76) was below zero.
    solver.parameters.linearization_level = 2
    solver.parameters.max_deterministic_time = FLOOR_LIMIT_S
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise ValueError("no split of the visits into days fits the days they allow")
    if status == cp_model.OPTIMAL:
        return int(solver.objective_value)
    return max(0, math.ceil(solver.best_objective_bound))


def _visit_days(
    ctx: Context, worker: Worker, visit: Visit, home: Household, plan: Plan
) -> dict[int, tuple[tuple[int, int], ...]]:
    """Horizon day indices the visit may be made on by the worker (module docstring), each
    with the family's start windows that day (none left only on its planned day)."""
    kids = ctx.kids.get(home.id, ())
    latest = min(plan.end, max(visit.due or plan.end, visit.day))
    trip = travel_between(place_of(worker), place_of(home), ctx.scenario.authority)
    earliest, last_end = minutes_of(worker.day_start) + trip, minutes_of(worker.day_end) - trip
    out = {}
    day = plan.start
    while day <= latest:
        if day == visit.day or is_available(ctx, worker, day):
            ranges = start_ranges(ctx, home, kids, day, visit.duration_min)
            # A grain start in the family's window that day within the worker's reach.
            start = _first_start(ranges, earliest)
            reached = start is not None and start + visit.duration_min <= last_end
            if day == visit.day or reached:
                out[(day - plan.start).days] = ranges
        day += timedelta(days=1)
    return out


def dated_floor(plan: Plan, scenario: Scenario, timed: bool = True) -> int:
    """The dated floor (module docstring) in minutes, summed over the plan's workers; with
    `timed=False`, each day's group is routed without its times (the earlier, lower floor)."""
    pack = load_pack(scenario.authority.id)
    weeks = max(1, ((plan.end - plan.start).days + 1) // 7)
    ctx = make_context(scenario, pack, calendar_for(pack), plan.start, weeks, 0)
    workers = {w.id: w for w in scenario.workers}
    homes = {h.id: h for h in scenario.households}
    made: dict[str, list[Visit]] = defaultdict(list)
    for visit in plan.visits:
        if visit.status == "planned":
            for worker_id in filter(None, (visit.worker_id, visit.second_worker_id)):
                made[worker_id].append(visit)
    total = 0
    for worker_id, visits in sorted(made.items()):
        worker = workers[worker_id]
        visits = sorted(visits, key=lambda v: (v.start, v.id))
        points = [place_of(worker), *(place_of(homes[v.household_id]) for v in visits)]
        matrix = [[travel_between(a, b, scenario.authority) for b in points] for a in points]
        cap = worker.max_visits_per_day or scenario.authority.max_visits_per_day
        days = [_visit_days(ctx, worker, v, homes[v.household_id], plan) for v in visits]
        allowed = [list(by_day) for by_day in days]
        timing = None
        if timed:
            timing = Timing(
                hours=(minutes_of(worker.day_start), minutes_of(worker.day_end)),
                durations=[v.duration_min for v in visits],
                starts=[{d: r for d, r in by_day.items() if r} for by_day in days],
            )
        planned = [(v.day - plan.start).days for v in visits]
        homes_of = [v.household_id for v in visits]
        total += worker_floor(matrix, homes_of, allowed, cap, timing, planned)
    return total
