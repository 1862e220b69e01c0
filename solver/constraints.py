"""Stage-1 constraint families, one `add_<rule>` builder each."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ortools.sat.python import cp_model

from solver.problem import Cut, Problem
from solver.variables import Variables


def nearest_home_min(problem: Problem) -> list[int]:
    """For each task, travel minutes to the nearest other task's home (large if alone)."""
    out = []
    for i, task in enumerate(problem.tasks):
        row = problem.travel_min[task.location]
        others = [row[t.location] for j, t in enumerate(problem.tasks) if j != i]
        out.append(min(others, default=10_000))
    return out


def travel_estimate_min(problem: Problem, task: int, resource: int, nearest: list[int]) -> int:
    """Travel a visit adds to a day, estimated: from base or the nearest other home."""
    loc = problem.tasks[task].location
    base = problem.travel_min[problem.resources[resource].location][loc]
    return min(base, nearest[task])


def pool_capacity(problem: Problem, day: int) -> tuple[int, int]:
    """A look-ahead day's pooled cap: (visits, free minutes) of the resources working it."""
    shifts = [(r, s) for r in problem.resources if (s := r.shift(day)) is not None]
    return sum(r.max_visits_per_day for r, _s in shifts), sum(s.free_min for _r, s in shifts)


def pool_load(
    problem: Problem, v: Variables, task: int, day: int, nearest: list[int]
) -> tuple[int, int]:
    """What a look-ahead visit takes from its day's pool: (people, minutes with travel)."""
    option = problem.tasks[task].option(day)
    assert option is not None
    leads, seconds = v.staff[task, day]
    people = 2 if problem.tasks[task].joint else 1
    travel = min(travel_estimate_min(problem, task, r, nearest) for r in leads + seconds)
    return people, people * (option.duration_min + travel)


def add_one_lead_per_visit(model: cp_model.CpModel, problem: Problem, v: Variables) -> None:
    """Creates one lead resource for each visit made, none otherwise."""
    leads: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for (t, d, _r), lit in v.main.items():
        leads[t, d].append(lit)
    for key, visit in v.visit.items():
        if key[1] < problem.horizon_days:
            model.add(cp_model.LinearExpr.sum(leads[key]) == visit)


def add_second_for_joint_visits(model: cp_model.CpModel, problem: Problem, v: Variables) -> None:
    """Creates a second, different resource for each joint visit made."""
    seconds: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for (t, d, _r), lit in v.second.items():
        seconds[t, d].append(lit)
    for (t, d), visit in v.visit.items():
        if not problem.tasks[t].joint or d >= problem.horizon_days:
            continue
        model.add(cp_model.LinearExpr.sum(seconds[t, d]) == visit)
        for r in sorted({r for (tt, dd, r) in v.second if (tt, dd) == (t, d)}):
            if (t, d, r) in v.main:
                model.add(v.main[t, d, r] + v.second[t, d, r] <= 1)


def add_unannounced_only_on_visits(model: cp_model.CpModel, problem: Problem, v: Variables) -> None:
    """Creates the link: only a visit that happens can be unannounced."""
    for key, lit in v.unannounced.items():
        model.add_implication(lit, v.visit[key])


def add_worker_day_capacity(model: cp_model.CpModel, problem: Problem, v: Variables) -> None:
    """Creates each resource's daily cap on visits and on minutes (visits plus travel).

    On look-ahead days the cap is pooled: the team's visits (a joint one twice) and minutes
    within the sum of its working resources' caps and free minutes that day.
    """
    nearest = nearest_home_min(problem)
    pooled: dict[int, list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
    for (t, d), lit in v.visit.items():
        if d >= problem.horizon_days:
            pooled[d].append((*pool_load(problem, v, t, d, nearest), lit))
    for d, items in sorted(pooled.items()):
        visits, free = pool_capacity(problem, d)
        model.add(sum(n * lit for n, _c, lit in items) <= visits)
        model.add(sum(c * lit for _n, c, lit in items) <= free)
    load: dict[tuple[int, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for store in (v.main, v.second):
        for (t, d, r), lit in store.items():
            option = problem.tasks[t].option(d)
            assert option is not None
            cost = option.duration_min + travel_estimate_min(problem, t, r, nearest)
            load[r, d].append((cost, lit))
    for (r, d), booked in sorted(load.items()):
        resource = problem.resources[r]
        shift = resource.shift(d)
        assert shift is not None
        model.add(
            cp_model.LinearExpr.sum([lit for _c, lit in booked]) <= resource.max_visits_per_day
        )
        model.add(
            cp_model.LinearExpr.weighted_sum([lit for _c, lit in booked], [c for c, _l in booked])
            <= shift.free_min
        )


def add_cuts(model: cp_model.CpModel, problem: Problem, v: Variables) -> None:
    """Creates the no-good cuts: sets that stage 2 could not sequence on their day."""
    add_cut_constraints(model, v, problem.cuts)


def add_cut_constraints(model: cp_model.CpModel, v: Variables, cuts: Iterable[Cut]) -> None:
    """Adds cuts to a model already built (a cut round that keeps its model)."""
    for cut in cuts:
        lits = [lit for t, r in cut.pairs for lit in v.attends(t, cut.day, r)]
        model.add(sum(lits) <= len(cut.pairs) - 1)


def add_window_energy(model: cp_model.CpModel, problem: Problem, v: Variables) -> None:
    """Creates energy cuts per resource-day: visits that cannot start before S fit after S.

    Late family windows (after school) crowd the end of the day; stage 1 would otherwise
    book several of them on one day and leave stage 2 to find there is no sequence.
    """
    by_day: dict[tuple[int, int], list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
    for store in (v.main, v.second):
        for (t, d, r), lit in store.items():
            option = problem.tasks[t].option(d)
            assert option is not None
            earliest = min(lo for lo, _hi in option.windows)
            by_day[r, d].append((earliest, option.duration_min, lit))
    for (r, d), items in sorted(by_day.items()):
        shift = problem.resources[r].shift(d)
        assert shift is not None
        for threshold in sorted({e for e, _m, _l in items if e > shift.start_min}):
            late = [(m, lit) for e, m, lit in items if e >= threshold]
            room = shift.end_min - threshold
            if sum(m for m, _l in late) > room:
                model.add(sum(m * lit for m, lit in late) <= max(0, room))
