"""The dated travel floor: the least travel any plan could have with the same visits by the
same workers, each on a day it could be made no later than its due date.

Usage (from bench/plan.py): `dated_floor(plan, scenario)`.

For each worker, the visits they make in the plan (as lead or second) are split into
worker-days in the cheapest way, exactly: a set-partitioning model (CP-SAT, proved optimal,
its bound reported if not) over groups of at most the day's visit cap, no household twice a
day, each group routed by trying every order (no time windows), on a day every member allows:
a working day of the horizon on which the worker works (contracted days, no absence), on or
before the visit's due date (its planned day if it was planned late; the horizon's end if no
deadline needs it), where the family's window that weekday (after school on school days)
has a start the worker can reach from base and return from within their hours. Busy times,
travel between visits and the chain of a household's later deadlines are ignored, so no plan
with these visits and workers travels less.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from ortools.sat.python import cp_model

from policies import load_pack
from scheduler.domain import Plan, Scenario, Visit, Worker
from scheduler.due import calendar_for
from scheduler.translate import Context, is_available, make_context, minutes_of, start_ranges
from scheduler.visiting import place_of, travel_between
from solver.polish import shortest_round_trip

GRAIN_MIN = 15
FLOOR_LIMIT_S = 30.0
"""Deterministic seconds per worker; far more than any generated worker needs to prove."""


def worker_floor(
    travel: Sequence[Sequence[int]],
    homes: Sequence[str],
    allowed: Sequence[Sequence[int]],
    cap: int,
) -> int:
    """Cheapest split of visits 1..n (location 0 is the base) into days, exactly.

    `homes[i]` is visit i's household (no household twice a day), `allowed[i]` the days
    visit i may be made on, `cap` the visits a day. Returns the least total of each day's
    shortest round trip (the solve's bound, rounded up, if it was not proved optimal).
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
            cost = shortest_round_trip(travel, 0, [i + 1 for i in group])
            for day in sorted(days):
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
    solver.parameters.max_deterministic_time = FLOOR_LIMIT_S
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        raise ValueError("no split of the visits into days fits the days they allow")
    if status == cp_model.OPTIMAL:
        return int(solver.objective_value)
    return math.ceil(solver.best_objective_bound)


def _allowed_days(ctx: Context, worker: Worker, visit: Visit, plan: Plan) -> list[int]:
    """Horizon day indices the visit may be made on by the worker (module docstring)."""
    scenario = ctx.scenario
    home = next(h for h in scenario.households if h.id == visit.household_id)
    kids = ctx.kids.get(home.id, ())
    latest = min(plan.end, max(visit.due or plan.end, visit.day))
    trip = travel_between(place_of(worker), place_of(home), scenario.authority)
    earliest, last_end = minutes_of(worker.day_start) + trip, minutes_of(worker.day_end) - trip
    out = []
    day = plan.start
    while day <= latest:
        if day == visit.day or (
            is_available(ctx, worker, day)
            and _window_fits(ctx, home, kids, day, visit.duration_min, earliest, last_end)
        ):
            out.append((day - plan.start).days)
        day += timedelta(days=1)
    return out


def _window_fits(
    ctx: Context,
    home: object,
    kids: Sequence[object],
    day: date,
    duration_min: int,
    earliest: int,
    last_end: int,
) -> bool:
    """A grain start in the family's window that day within the worker's reach."""
    for lo, hi in start_ranges(ctx, home, kids, day, duration_min):  # type: ignore[arg-type]
        start = -(-max(lo, earliest) // GRAIN_MIN) * GRAIN_MIN
        if start <= hi and start + duration_min <= last_end:
            return True
    return False


def dated_floor(plan: Plan, scenario: Scenario) -> int:
    """The dated floor (module docstring) in minutes, summed over the plan's workers."""
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
        allowed = [_allowed_days(ctx, worker, v, plan) for v in visits]
        total += worker_floor(matrix, [v.household_id for v in visits], allowed, cap)
    return total
