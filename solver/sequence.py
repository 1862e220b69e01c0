"""Stage 2: order and time one day's visits per resource (start grain, windows, travel, busy).

Rule: exact on the small sets of a day (at most a handful of visits per resource); returns
None when no sequence exists, so stage 1 can cut that set.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.params import SolveParams, safety_net_s
from solver.problem import GRAIN_MIN, Problem


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
    problem: Problem, day: int, task: int, avoid: tuple[int, int] | None
) -> list[list[int]]:
    """Allowed starts of `task` on `day`, in grains, as sorted disjoint [lo, hi] intervals."""
    option = problem.tasks[task].option(day)
    assert option is not None
    grains: set[int] = set()
    for lo, hi in option.windows:
        first = -(-lo // GRAIN_MIN)
        for g in range(first, hi // GRAIN_MIN + 1):
            start = g * GRAIN_MIN
            if avoid is not None and avoid[0] <= start < avoid[1]:
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
    model = cp_model.CpModel()
    start: dict[int, cp_model.LinearExprT] = {}
    grain: dict[int, cp_model.IntVar] = {}
    duration: dict[int, int] = {}
    for x in visits:
        task = problem.tasks[x.task]
        avoid = task.first_avoid if x.task in first_tasks else None
        intervals = _start_grains(problem, day, x.task, avoid)
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
            intervals = [
                model.new_fixed_size_interval_var(start[t], duration[t], f"iv_r{r}_t{t}")
                for t in tasks
            ]
            intervals += [
                model.new_fixed_size_interval_var(s, e - s, f"busy_r{r}_{s}")
                for s, e in shift.busy
                if e > s
            ]
            model.add_no_overlap(intervals)
    travel = sum(travel_terms)
    model.minimize(1000 * travel + sum(grain.values()) + _moved(model, problem, day, grain))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = params.seed
    solver.parameters.max_deterministic_time = params.sequence_time_limit_s
    solver.parameters.max_time_in_seconds = safety_net_s(params.sequence_time_limit_s)
    status = solver.solve(model)
    if (
        net is not None
        and status != cp_model.OPTIMAL
        and solver.wall_time >= 0.99 * safety_net_s(params.sequence_time_limit_s)
    ):
        net.tripped = True
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return DaySequence(
        start_min={t: GRAIN_MIN * solver.value(g) for t, g in sorted(grain.items())},
        travel_min=int(solver.value(travel)),
    )


MOVED_WEIGHT = 1_000_000
"""Per published visit (re-planning) not kept at its start time: above any travel saving."""


def _moved(
    model: cp_model.CpModel, problem: Problem, day: int, grain: dict
) -> cp_model.LinearExprT:
    """Re-planning: published visits on `day` that start at another time than published."""
    moved = []
    for p in problem.previous:
        if p.day == day and p.task in grain and p.start_min % GRAIN_MIN == 0:
            lit = model.new_bool_var(f"moved_t{p.task}")
            model.add(grain[p.task] == p.start_min // GRAIN_MIN).only_enforce_if(~lit)
            moved.append(lit)
    return MOVED_WEIGHT * sum(moved)
