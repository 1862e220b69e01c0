"""Stage 2: order and time one day's visits per resource (start grain, windows, travel, busy).

Rule: exact on the small sets of a day (at most a handful of visits per resource); returns
None when no sequence exists, so stage 1 can cut that set.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.params import SolveParams, safety_net_s
from solver.problem import GRAIN_MIN, PreviousVisit, Problem, Shift
from solver.search import safety_net_stopped


@dataclass(frozen=True)
class DayVisit:
    """A visit fixed by stage 1: task, lead resource, optional second resource."""

    task: int
    resource: int
    second_resource: int | None = None

    def attendees(self) -> tuple[int, ...]:
        """The lead and, for a joint visit, the second resource."""
        if self.second_resource is None:
            return (self.resource,)
        return (self.resource, self.second_resource)


@dataclass
class SafetyNet:
    """Set when a solve was stopped by its wall-clock safety net instead of its deterministic
    limit or a proof: its result may then differ on a quieter machine."""

    tripped: bool = False


@dataclass(frozen=True)
class DaySequence:
    """Start minutes per task and the day's exact travel."""

    start_min: dict[int, int]
    travel_min: int


def _start_grains(
    problem: Problem,
    day: int,
    task: int,
    avoid: tuple[int, int] | None,
    kept: int | None = None,
) -> list[list[int]]:
    """Allowed starts of `task` on `day`, in grains, as sorted disjoint [lo, hi] intervals:
    inside its windows, clear of `avoid`, and not before `Problem.not_before` unless at
    `kept` (the grain of its published visit that day, with the same workers)."""
    option = problem.tasks[task].option(day)
    assert option is not None
    grains: set[int] = set()
    for lo, hi in option.windows:
        first = -(-lo // GRAIN_MIN)
        for g in range(first, hi // GRAIN_MIN + 1):
            start = g * GRAIN_MIN
            if avoid is not None and avoid[0] <= start < avoid[1]:
                continue
            if g != kept and not problem.placeable(day, start):
                continue
            grains.add(g)
    out: list[list[int]] = []
    for g in sorted(grains):
        if out and out[-1][1] == g - 1:
            out[-1][1] = g
        else:
            out.append([g, g])
    return out


def sequence_day(
    problem: Problem,
    day: int,
    visits: Sequence[DayVisit],
    first_tasks: Collection[int],
    params: SolveParams,
    only_resource: int | None = None,
    net: SafetyNet | None = None,
) -> DaySequence | None:
    """Start times for `visits` on `day`, minimising travel, or None if none fits.

    `first_tasks` are tasks whose visit is their first in the horizon (retry part of day).
    With `only_resource`, only that resource's visits and route are considered. `net` records
    a solve stopped by the wall-clock safety net.
    """
    if only_resource is not None:
        visits = [x for x in visits if only_resource in x.attendees()]
    if not visits:
        return DaySequence({}, 0)
    people = {r for x in visits for r in x.attendees()}
    alone = only_resource if only_resource is not None else next(iter(people))
    if (
        (only_resource is not None or len(people) == 1)
        and len(visits) <= MAX_ORDERS_STOPS
        and not any(p.day == day for p in problem.previous)
    ):
        return _sequence_alone(problem, day, alone, [x.task for x in visits], first_tasks)
    model = cp_model.CpModel()
    start: dict[int, cp_model.LinearExprT] = {}
    grain: dict[int, cp_model.IntVar] = {}
    duration: dict[int, int] = {}
    kept = _kept_grains(problem, day, visits)
    for x in visits:
        task = problem.tasks[x.task]
        avoid = task.first_avoid if x.task in first_tasks else None
        intervals = _start_grains(problem, day, x.task, avoid, kept.get(x.task))
        if not intervals:
            return None
        option = task.option(day)
        assert option is not None
        duration[x.task] = option.duration_min
        grain[x.task] = model.new_int_var_from_domain(
            cp_model.Domain.from_intervals(intervals), f"g_t{x.task}"
        )
        start[x.task] = GRAIN_MIN * grain[x.task]
    resources = sorted({r for x in visits for r in x.attendees()})
    if only_resource is not None:
        resources = [only_resource]
    travel_terms = []
    for r in resources:
        resource = problem.resources[r]
        shift = resource.shift(day)
        if shift is None:
            return None
        tasks = [x.task for x in visits if r in x.attendees()]
        base = resource.location
        loc = {t: problem.tasks[t].location for t in tasks}
        tt = problem.travel_min
        arcs = []
        for i, t in enumerate(tasks, start=1):
            out_lit = model.new_bool_var(f"r{r}_base_t{t}")
            back_lit = model.new_bool_var(f"r{r}_t{t}_base")
            arcs.append((0, i, out_lit))
            arcs.append((i, 0, back_lit))
            model.add(start[t] >= shift.start_min + tt[base][loc[t]]).only_enforce_if(out_lit)
            model.add(start[t] + duration[t] + tt[loc[t]][base] <= shift.end_min).only_enforce_if(
                back_lit
            )
            # Every visit lies inside the shift whatever the order.
            model.add(start[t] >= shift.start_min)
            model.add(start[t] + duration[t] <= shift.end_min)
            travel_terms.append(tt[base][loc[t]] * out_lit + tt[loc[t]][base] * back_lit)
            for j, u in enumerate(tasks, start=1):
                if i == j:
                    continue
                lit = model.new_bool_var(f"r{r}_t{t}_t{u}")
                arcs.append((i, j, lit))
                model.add(start[u] >= start[t] + duration[t] + tt[loc[t]][loc[u]]).only_enforce_if(
                    lit
                )
                travel_terms.append(tt[loc[t]][loc[u]] * lit)
        model.add_circuit(arcs)
        if shift.busy:
            spans = [
                model.new_fixed_size_interval_var(start[t], duration[t], f"iv_r{r}_t{t}")
                for t in tasks
            ]
            spans += [
                model.new_fixed_size_interval_var(s, e - s, f"busy_r{r}_{s}")
                for s, e in shift.busy
                if e > s
            ]
            model.add_no_overlap(spans)
    travel = cp_model.LinearExpr.sum(travel_terms)
    moved = _moved(model, problem, day, grain, kept)
    model.minimize(cp_model.LinearExpr.sum([1000 * travel, *grain.values(), moved]))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = params.seed
    solver.parameters.max_deterministic_time = params.sequence_time_limit_s
    solver.parameters.max_time_in_seconds = safety_net_s(params.sequence_time_limit_s)
    status = solver.solve(model)
    if net is not None and safety_net_stopped(solver, params.sequence_time_limit_s):
        net.tripped = True
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return DaySequence(
        start_min={t: GRAIN_MIN * solver.value(g) for t, g in sorted(grain.items())},
        travel_min=int(solver.value(travel)),
    )


def _kept_grains(problem: Problem, day: int, visits: Sequence[DayVisit]) -> dict[int, int]:
    """Task -> start grain of its published visit on `day`, where stage 1 kept its workers:
    the one start it may keep before `Problem.not_before` (a visit earlier today stays)."""
    crew = {x.task: (x.resource, x.second_resource) for x in visits}
    return {
        p.task: p.start_min // GRAIN_MIN
        for p in problem.previous
        if p.day == day
        and p.start_min % GRAIN_MIN == 0
        and crew.get(p.task) == (p.resource, p.second_resource)
    }


MAX_ORDERS_STOPS = 6
"""One resource's day with at most this many visits is sequenced by trying every order."""


def _sequence_alone(
    problem: Problem, day: int, r: int, tasks: list[int], first_tasks: Collection[int]
) -> DaySequence | None:
    """One resource's day, exactly, without a solver: every order of its visits, each visit
    at its earliest start (on the grain, in the family's window, clear of busy times) after
    the last; the order with least travel, then the earliest starts (CP-SAT's objective).

    For a given order the earliest starts are best for both (starting a visit later never
    lets a later one start sooner), so trying every order is exact.
    """
    shift = problem.resources[r].shift(day)
    if shift is None:
        return None
    base, tt = problem.resources[r].location, problem.travel_min
    ranges: dict[int, list[list[int]]] = {}
    duration: dict[int, int] = {}
    for t in tasks:
        task = problem.tasks[t]
        avoid = task.first_avoid if t in first_tasks else None
        ranges[t] = _start_grains(problem, day, t, avoid)
        option = task.option(day)
        if not ranges[t] or option is None:
            return None
        duration[t] = option.duration_min
    best: tuple[tuple[int, int], dict[int, int]] | None = None
    for order in itertools.permutations(sorted(tasks)):
        clock, here, starts = shift.start_min, base, {}
        for t in order:
            loc = problem.tasks[t].location
            at = _earliest(ranges[t], clock + tt[here][loc], duration[t], shift)
            if at is None:
                break
            starts[t], clock, here = at, at + duration[t], loc
        else:
            if clock + tt[here][base] > shift.end_min:
                continue
            stops = [base, *(problem.tasks[t].location for t in order), base]
            travel = sum(tt[a][b] for a, b in itertools.pairwise(stops))
            key = (travel, sum(s // GRAIN_MIN for s in starts.values()))
            if best is None or key < best[0]:
                best = (key, starts)
    if best is None:
        return None
    return DaySequence(start_min=dict(sorted(best[1].items())), travel_min=best[0][0])


def _earliest(ranges: list[list[int]], earliest: int, duration: int, shift: Shift) -> int | None:
    """The first grain start at or after `earliest` in `ranges` (grain intervals) that ends
    by the shift's end and overlaps no busy time."""
    earliest = max(earliest, shift.start_min)
    for lo, hi in ranges:
        g = max(lo, -(-earliest // GRAIN_MIN))
        while g <= hi:
            start = g * GRAIN_MIN
            if start + duration > shift.end_min:
                return None
            clash = [e for s, e in shift.busy if s < start + duration and start < e]
            if not clash:
                return start
            g = max(g + 1, -(-max(clash) // GRAIN_MIN))
    return None


MOVED_WEIGHT = 1_000_000
"""Per published visit (re-planning) not kept at its start time: above any travel saving."""


def _moved(
    model: cp_model.CpModel,
    problem: Problem,
    day: int,
    grain: dict[int, cp_model.IntVar],
    kept: dict[int, int],
) -> cp_model.LinearExprT:
    """Re-planning: published visits on `day` that start at another time than published.

    A pinned visit still led by its published workers (in `kept`, `_kept_grains`) keeps its
    start outright (when the start is still one its task may take that day); any other costs
    `MOVED_WEIGHT` to move.
    """
    moved = []
    for p in problem.previous:
        if p.day == day and p.task in grain and p.start_min % GRAIN_MIN == 0:
            g = p.start_min // GRAIN_MIN
            if p.pinned and p.task in kept and _pin_fits(problem, p, day, grain[p.task]):
                model.add(grain[p.task] == g)
                continue
            lit = model.new_bool_var(f"moved_t{p.task}")
            model.add(grain[p.task] == p.start_min // GRAIN_MIN).only_enforce_if(~lit)
            moved.append(lit)
    return MOVED_WEIGHT * sum(moved)


def _pin_fits(problem: Problem, p: PreviousVisit, day: int, grain: cp_model.IntVar) -> bool:
    """Whether a pinned visit's start is still one its task may take on `day` (a start in
    the grain's domain, inside each attendee's shift and clear of their busy times)."""
    g = p.start_min // GRAIN_MIN
    bounds = list(grain.proto.domain)
    if not any(lo <= g <= hi for lo, hi in zip(bounds[::2], bounds[1::2], strict=True)):
        return False
    end = p.start_min + p.duration_min
    for r in (p.resource, p.second_resource):
        shift = None if r is None else problem.resources[r].shift(day)
        if r is not None and (
            shift is None
            or not shift.start_min <= p.start_min < end <= shift.end_min
            or any(s < end and p.start_min < e for s, e in shift.busy)
        ):
            return False
    return True
