"""Stage 1 as a manager pays for it: lead variables, the day-route travel term, no surplus
visits, the worker-by-worker search, and keeping the better of warm start and search."""

from __future__ import annotations

import importlib

import pytest
from ortools.sat.python import cp_model

from solver import Clock, Problem, Resource, Shift, SolveParams, Task, TaskDay, solve
from solver.constraints import add_cut_constraints
from solver.measures import measure
from solver.problem import Cut
from solver.search import Search, objective_of
from solver.sequence import SafetyNet
from solver.solve import _Stage1
from solver.travel import join_cost_min
from solver.variables import FALLBACKS, candidates, complete_hint
from solver.warm import greedy_hint
from tests.load import with_tight_safety_net

NINE, FIVE = 9 * 60, 17 * 60
PARAMS = SolveParams(seed=0)


def resource(rid: str, location: int, days: range = range(5)) -> Resource:
    shifts = tuple(Shift(day=d, start_min=NINE, end_min=FIVE) for d in days)
    return Resource(id=rid, location=location, shifts=shifts)


def task(
    tid: str,
    location: int,
    resources: tuple[int, ...],
    days: range = range(5),
    preferred: tuple[int, ...] = (),
) -> Task:
    options = tuple(
        TaskDay(day=d, duration_min=60, windows=((0, 23 * 60),), resources=resources) for d in days
    )
    return Task(id=tid, location=location, days=options, preferred_resources=preferred)


def line_travel(points: list[int]) -> tuple[tuple[int, ...], ...]:
    """Locations on a line: travel is the distance in minutes."""
    return tuple(tuple(abs(a - b) for b in points) for a in points)


def _colleagues(absent: tuple[int, ...] = ()) -> Problem:
    """Worker 0 allocated; colleagues 1.. on a line, each farther from the home at 0."""
    n = FALLBACKS + 3
    bases = list(range(n))
    return Problem(
        horizon_days=1,
        window_days=1,
        travel_min=line_travel([*bases, 0]),
        resources=tuple(
            resource(f"w{i}", i, range(0) if i in absent else range(1)) for i in range(n)
        ),
        tasks=(task("h1", n, tuple(range(n)), range(1), preferred=(0,)),),
        clocks=(Clock(id="c", subject="c", tasks=(0,), first_due_day=0, weight_per_day=1),),
    )


def test_leads_only_for_the_allocated_worker_and_the_nearest_fallbacks() -> None:
    """The allocated worker and the FALLBACKS nearest colleagues get lead variables; the
    farther colleagues do not."""
    problem = _colleagues()
    assert candidates(problem) == [tuple(range(1 + FALLBACKS))]
    stage = _Stage1(problem, PARAMS)
    assert sorted(r for (_t, _d, r) in stage.vars.main) == list(range(1 + FALLBACKS))


@pytest.mark.parametrize(
    ("absent", "leads"),
    [
        pytest.param((), list(range(1 + FALLBACKS)), id="candidates-working"),
        pytest.param(tuple(range(1 + FALLBACKS)), [1 + FALLBACKS], id="all-off-a-rescue"),
    ],
)
def test_a_day_no_candidate_can_make_gets_the_nearest_who_can(
    absent: tuple[int, ...], leads: list[int]
) -> None:
    """Edge pair: candidates off that day, the nearest colleague working leads instead."""
    stage = _Stage1(_colleagues(absent), PARAMS)
    assert sorted(r for (_t, _d, r) in stage.vars.main) == leads


def test_joining_a_nearby_round_trip_costs_the_detour() -> None:
    """Base 0, homes at 30 and 35: the second home adds 35 + 5 - 30 = 10 minutes."""
    problem = Problem(horizon_days=1, window_days=1, travel_min=line_travel([0, 30, 35]))
    assert join_cost_min(problem, 0, 1, 2) == 10


def _pair(day_a: range, day_b: range) -> Problem:
    """One worker at 0; two homes 2 minutes apart, 30 minutes out, each due by its last day."""
    return Problem(
        horizon_days=5,
        window_days=5,
        travel_min=line_travel([0, 30, 32]),
        resources=(resource("w1", 0),),
        tasks=(task("a", 1, (0,), day_a, (0,)), task("b", 2, (0,), day_b, (0,))),
        clocks=(
            Clock(id="a", subject="a", tasks=(0,), first_due_day=day_a[-1], weight_per_day=10**6),
            Clock(id="b", subject="b", tasks=(1,), first_due_day=day_b[-1], weight_per_day=10**6),
        ),
    )


@pytest.mark.parametrize(
    ("day_a", "day_b", "travel"),
    [
        # Just inside: the two homes can share day 2; one round trip 30 + 2 + 32.
        pytest.param(range(0, 3), range(2, 5), 64, id="share-a-day"),
        # Just outside: no common day; two round trips.
        pytest.param(range(0, 2), range(2, 5), 60 + 64, id="no-common-day"),
    ],
)
def test_nearby_homes_are_visited_on_the_same_day(day_a: range, day_b: range, travel: int) -> None:
    solution = solve(_pair(day_a, day_b), PARAMS)
    assert solution.travel_min == travel
    assert solution.measures is not None
    assert solution.measures.lateness == 0


def test_no_surplus_visit_is_planned() -> None:
    """One deadline, one visit: no second visit even when it would be cheap (next door)."""
    problem = _pair(range(0, 5), range(0, 5))
    problem = problem.model_copy(update={"clocks": problem.clocks[:1]})
    solution = solve(problem, PARAMS)
    assert [a.task for a in solution.assignments] == [0]


def _team(n_homes: int = 6) -> Problem:
    """Two workers, homes spread on a line, staggered deadlines over a 10-day horizon."""
    points = [0, 40] + [5 * k + 3 for k in range(n_homes)]
    tasks = tuple(
        task(f"h{k}", 2 + k, (0, 1), range(10), preferred=(k % 2,)) for k in range(n_homes)
    )
    clocks = tuple(
        Clock(
            id=f"c{k}",
            subject=f"c{k}",
            tasks=(k,),
            first_due_day=2 + k,
            next_due_day=tuple(min(d + 7, 99) for d in range(12)),
            weight_per_day=10**6,
        )
        for k in range(n_homes)
    )
    return Problem(
        horizon_days=10,
        window_days=12,
        travel_min=line_travel(points),
        resources=(resource("w0", 0, range(12)), resource("w1", 1, range(12))),
        tasks=tasks,
        clocks=clocks,
    )


def test_search_never_measures_worse_than_the_warm_start() -> None:
    """The warm start, routed and polished alone, is kept if it measures better."""
    solution = solve(_team(), PARAMS)
    assert solution.measures is not None
    if solution.warm_measures is not None:
        assert solution.measures.key() <= solution.warm_measures.key()
    assert solution.measures == measure(_team(), solution.assignments, solution.travel_min)


def test_more_time_never_makes_the_plan_worse() -> None:
    """Breaches, lateness, continuity, travel (lexicographically) never worsen with time."""
    keys = []
    for limit in (0.01, 0.05, 0.2, 1.0, 4.0):
        solution = solve(_team(8), PARAMS.model_copy(update={"time_limit_s": limit}))
        assert solution.measures is not None
        keys.append(solution.measures.key())
    assert keys == sorted(keys, reverse=True)


def test_same_problem_same_solution_whatever_the_load() -> None:
    """Deterministic limits: solving twice gives the same assignments."""
    first, second = solve(_team(), PARAMS), solve(_team(), PARAMS)
    assert first.assignments == second.assignments
    assert first.safety_net is second.safety_net is False


def test_search_is_skipped_when_the_check_finds_nothing_to_improve() -> None:
    """One home, one day it may be visited: the warm start is optimal; the search stops at
    its check."""
    problem = _pair(range(4, 5), range(0, 5))
    problem = problem.model_copy(update={"clocks": problem.clocks[:1]})
    assert solve(problem, PARAMS).search_skipped


def test_measures_count_breaches_inside_the_horizon_only() -> None:
    """A deadline missed on day 3 is a breach; one missed past the horizon is not."""
    for due, breaches in ((3, 1), (7, 0)):
        problem = Problem(
            horizon_days=5,
            window_days=9,
            travel_min=line_travel([0, 10]),
            resources=(resource("w1", 0, range(0)),),
            tasks=(Task(id="h", location=1),),
            clocks=(Clock(id="c", subject="c", tasks=(0,), first_due_day=due, weight_per_day=1),),
        )
        assert measure(problem, [], 0).breaches == breaches


def test_a_hint_check_stopped_by_the_safety_net_is_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The warm start's check met its wall-clock net (a very busy machine): the hint is then
    repaired instead, which may give another plan, so the solution must say so."""
    module = importlib.import_module("solver.solve")  # `solver.solve` is the function
    check = with_tight_safety_net(monkeypatch, module._check_hint)
    monkeypatch.setattr(module, "_check_hint", check)
    stopped = solve(_team(), PARAMS)
    assert stopped.safety_net
    monkeypatch.undo()
    assert not solve(_team(), PARAMS).safety_net


def _checked(problem: Problem) -> tuple[_Stage1, list[int]]:
    """The stage-1 model of `problem` with its warm start, and the warm start's values."""
    module = importlib.import_module("solver.solve")
    stage = _Stage1(problem, PARAMS)
    literals = stage.all_literals()
    for key, value in sorted(greedy_hint(problem, stage.vars).items()):
        stage.model.add_hint(literals[key], value)
    complete_hint(stage.model, stage.vars)
    _code, values = module._check_hint(stage, PARAMS, SafetyNet())
    assert values is not None
    return stage, values


def _holds(stage: _Stage1, values: list[int]) -> bool:
    """Whether `values` meet every constraint of the stage's model (all fixed, no search)."""
    model = cp_model.CpModel()
    model.proto.copy_from(stage.model.proto)
    model.proto.solution_hint.copy_from(cp_model.CpModel().proto.solution_hint)
    model.proto.solution_hint.vars.extend(range(len(values)))
    model.proto.solution_hint.values.extend(values)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    return solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)


@pytest.mark.parametrize("violated", [True, False], ids=["cut-breaks-the-plan", "cut-already-met"])
def test_a_cut_round_is_repaired_in_the_model_it_has(violated: bool) -> None:
    """A cut added to the model (a cut round) is repaired by re-solving the cut visits'
    workers: the cut then holds, with every other rule; a cut the plan already meets leaves
    the objective no worse."""
    problem = _team()
    stage, values = _checked(problem)
    search = Search(stage.model, problem, stage.vars, PARAMS.seed)
    (t, d, r), _lit = next((k, x) for k, x in sorted(stage.vars.main.items()) if values[x.index])
    if not violated:  # a worker the plan does not send that day
        r = 1 - r
    assert (t, d, r) in stage.vars.main
    add_cut_constraints(stage.model, stage.vars, [Cut(day=d, pairs=((t, r),))])
    search.index.extend(stage.model)
    assert _holds(stage, values) is not violated
    before = objective_of(stage.model, values)
    repaired, stopped = search.repair(values, {t})
    assert repaired is not None
    assert not stopped
    assert repaired[stage.vars.main[t, d, r].index] == 0
    assert _holds(stage, repaired)
    if not violated:
        assert objective_of(stage.model, repaired) <= before


@pytest.mark.parametrize("search", [True, False], ids=["repaired-by-neighbourhood", "whole-team"])
def test_cut_rounds_end_with_every_day_sequenced_either_way(search: bool) -> None:
    """The cut-round repair within neighbourhoods (search on) and the whole-team re-solve
    (search off) both end with a plan stage 2 sequences, nothing dropped."""
    rows = [[0, 30, 30, 30, 30]] + [[30, 0, 0, 0, 0] for _ in range(4)]
    rows = [[0 if i == j else v for j, v in enumerate(row)] for i, row in enumerate(rows)]
    one_day = Resource(
        id="w1", location=0, shifts=(Shift(day=0, start_min=NINE, end_min=NINE + 270),)
    )
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=tuple(tuple(r) for r in rows),
        resources=(one_day,),
        tasks=tuple(task(f"h{i}", i + 1, (0,), range(1), (0,)) for i in range(4)),
        clocks=tuple(
            Clock(id=f"c{i}", subject=f"c{i}", tasks=(i,), first_due_day=0, weight_per_day=10**6)
            for i in range(4)
        ),
    )
    solution = solve(problem, PARAMS.model_copy(update={"search": search}))
    assert solution.cut_rounds >= 1
    assert len(solution.assignments) == 3
    assert solution.dropped == ()
