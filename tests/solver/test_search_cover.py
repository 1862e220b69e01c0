"""The search swaps back crossed cover: two workers each attending the other's household on a
day full for both (issue 12, "same day" visits by a colleague)."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from solver import Clock, Problem, Resource, Shift, SolveParams, Task, TaskDay
from solver.search import Search, objective_of
from solver.sequence import SafetyNet
from solver.solve import _Stage1
from solver.variables import add_hints, complete_hint

NINE, FIVE = 9 * 60, 17 * 60
PARAMS = SolveParams(seed=0)


def _one_visit_a_day(rid: str, location: int) -> Resource:
    """A worker with one day whose cap is one visit (a full day once anything is on it)."""
    shift = Shift(day=0, start_min=NINE, end_min=FIVE)
    return Resource(id=rid, location=location, shifts=(shift,), max_visits_per_day=1)


def _household(tid: str, location: int, leads: tuple[int, ...], allocated: int) -> Task:
    option = TaskDay(day=0, duration_min=60, windows=((NINE, FIVE - 60),), resources=leads)
    return Task(id=tid, location=location, days=(option,), preferred_resources=(allocated,))


def _joint(tid: str, location: int, lead: int, seconds: tuple[int, ...]) -> Task:
    option = TaskDay(
        day=0,
        duration_min=60,
        windows=((NINE, FIVE - 60),),
        resources=(lead,),
        second_resources=seconds,
    )
    return Task(id=tid, location=location, joint=True, days=(option,), preferred_resources=(lead,))


def _due_today(n: int) -> tuple[Clock, ...]:
    return tuple(
        Clock(id=f"c{t}", subject=f"c{t}", tasks=(t,), first_due_day=0, weight_per_day=10**6)
        for t in range(n)
    )


def _problem(kind: str) -> tuple[Problem, dict[tuple[Any, ...], int]]:
    """The problem and its crossed assignment (every other literal 0).

    "lead": w0 leads w1's household h1 while w1 leads w0's household h0.
    "second": w0 is second worker on w2's joint visit h1 while w1 leads w0's household h0;
    w1 could be the second instead (w1 owns no household: no neighbourhood of its own).
    """
    travel = tuple(tuple(abs(a - b) for b in range(5)) for a in range(5))
    workers: tuple[Resource, ...]
    if kind == "lead":
        workers = (_one_visit_a_day("w0", 0), _one_visit_a_day("w1", 1))
        homes = (_household("h0", 3, (0, 1), 0), _household("h1", 4, (0, 1), 1))
        crossed = {("visit", 0, 0): 1, ("main", 0, 0, 1): 1}
        crossed |= {("visit", 1, 0): 1, ("main", 1, 0, 0): 1}
    else:
        workers = tuple(_one_visit_a_day(f"w{r}", r) for r in range(3))
        homes = (_household("h0", 3, (0, 1), 0), _joint("h1", 4, 2, (0, 1)))
        crossed = {("visit", 0, 0): 1, ("main", 0, 0, 1): 1}
        crossed |= {("visit", 1, 0): 1, ("main", 1, 0, 2): 1, ("second", 1, 0, 0): 1}
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=travel,
        resources=workers,
        tasks=homes,
        clocks=_due_today(2),
    )
    return problem, crossed


@pytest.mark.parametrize("kind", ["lead", "second"])
def test_the_search_hands_a_colleagues_visit_back_to_take_its_own(kind: str) -> None:
    """From the crossed assignment (feasible, one visit by another worker), one pass of the
    search ends with every household led by its allocated worker, the same visits made."""
    problem, crossed = _problem(kind)
    stage = _Stage1(problem, PARAMS)
    literals = stage.all_literals()
    assert set(crossed) <= set(literals)
    add_hints(stage.model, ((lit, crossed.get(key, 0)) for key, lit in sorted(literals.items())))
    complete_hint(stage.model, stage.vars)
    module = importlib.import_module("solver.solve")  # `solver.solve` is the function
    _code, values = module._check_hint(stage, PARAMS, SafetyNet())
    assert values is not None  # the crossed assignment keeps every rule

    search = Search(stage.model, problem, stage.vars, PARAMS.seed)
    result = search.improve(values, PARAMS.time_limit_s)

    main, second = stage.vars.main, stage.vars.second
    assert result.values[main[0, 0, 0].index] == 1  # w0 leads its own household
    if kind == "lead":  # and no longer attends the colleague's, now led by its own worker
        assert result.values[main[1, 0, 0].index] == 0
        assert result.values[main[1, 0, 1].index] == 1
    else:  # and no longer seconds the colleague's joint visit: w1 does
        assert result.values[second[1, 0, 0].index] == 0
        assert result.values[main[1, 0, 2].index] == 1
        assert result.values[second[1, 0, 1].index] == 1
    visits = stage.vars.visit
    assert all(result.values[visits[t, 0].index] == 1 for t in (0, 1))
    assert result.objective == objective_of(stage.model, result.values)
    assert result.objective <= objective_of(stage.model, values) - PARAMS.weights.allocated_worker


def test_a_full_day_of_the_workers_own_households_is_not_opened_up() -> None:
    """Edge: w0 attends a colleague's household on a day none of w0's own households is made
    by a colleague: nothing is handed over (the neighbourhood stays its usual size)."""
    problem, crossed = _problem("lead")
    stage = _Stage1(problem, PARAMS)
    search = Search(stage.model, problem, stage.vars, PARAMS.seed)
    literals = stage.all_literals()
    values = [0] * len(stage.model.proto.variables)
    for key, x in crossed.items():
        values[literals[key].index] = x
    module = importlib.import_module("solver.search")
    owned = dict(search.parts)[0]
    crossed_free = module._free(owned, 0, search.by_task, values, search.cover.get(0))
    assert stage.vars.main[1, 0, 1].index in crossed_free  # h1 may go back to w1
    values[literals["main", 0, 0, 1].index] = 0  # h0 no longer made by w1 ...
    values[literals["main", 0, 0, 0].index] = 1  # ... but by w0 itself
    own_free = module._free(owned, 0, search.by_task, values, search.cover.get(0))
    assert stage.vars.main[1, 0, 1].index not in own_free
