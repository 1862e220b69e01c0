"""Solver edge pairs on tiny integer problems: deadlines, joint tasks, travel, cuts, symmetry."""

from __future__ import annotations

import pytest

from solver import (
    Clock,
    Problem,
    Resource,
    Shift,
    Solution,
    SolveParams,
    SolveStatus,
    Task,
    TaskDay,
    solve,
)

PARAMS = SolveParams(time_limit_s=5, seed=0, num_workers=1)
NINE, FIVE = 9 * 60, 17 * 60


def travel(n: int, minutes: int) -> tuple[tuple[int, ...], ...]:
    """n locations, each pair `minutes` apart."""
    return tuple(tuple(0 if i == j else minutes for j in range(n)) for i in range(n))


def resource(rid: str, location: int = 0, days: range = range(5), end_min: int = FIVE) -> Resource:
    shifts = tuple(Shift(day=d, start_min=NINE, end_min=end_min) for d in days)
    return Resource(id=rid, location=location, shifts=shifts)


def task(
    tid: str,
    location: int,
    days: range = range(5),
    resources: tuple[int, ...] = (0,),
    joint: bool = False,
    duration_min: int = 60,
) -> Task:
    options = tuple(
        TaskDay(
            day=d,
            duration_min=duration_min,
            windows=((0, 24 * 60 - duration_min),),
            resources=resources,
            second_resources=resources if joint else (),
        )
        for d in days
    )
    return Task(id=tid, location=location, joint=joint, days=options)


def clock(cid: str, tasks: tuple[int, ...], due: int, weight: int = 1_000_000) -> Clock:
    return Clock(id=cid, subject=cid, tasks=tasks, first_due_day=due, weight_per_day=weight)


def lateness(solution: Solution) -> int:
    return sum(p.amount for p in solution.penalties if p.term_id == "statutory_lateness")


@pytest.mark.parametrize(
    ("due", "late_days"),
    [pytest.param(3, 0, id="due-on-the-only-day"), pytest.param(2, 1, id="due-a-day-before")],
)
def test_deadline_edge(due: int, late_days: int) -> None:
    """The task can only be done on day 3: due day 3 is met, due day 2 is one day late."""
    problem = Problem(
        horizon_days=5,
        window_days=5,
        travel_min=travel(2, 10),
        resources=(resource("w1"),),
        tasks=(task("h1", 1, days=range(3, 4)),),
        clocks=(clock("c1", (0,), due),),
    )
    solution = solve(problem, PARAMS)
    assert solution.status == SolveStatus.OPTIMAL
    assert [(a.day, a.start_min) for a in solution.assignments] == [(3, NINE + 15)]
    assert lateness(solution) == 1_000_000 * late_days


def test_repeat_deadline_chains_from_each_visit() -> None:
    """Every 2 days from a visit on day 0: visits on days 0, 2 and 4 of a 6-day window."""
    problem = Problem(
        horizon_days=6,
        window_days=6,
        travel_min=travel(2, 10),
        resources=(resource("w1", days=range(6)),),
        tasks=(task("h1", 1, days=range(6)),),
        clocks=(
            Clock(
                id="c1",
                subject="c1",
                tasks=(0,),
                first_due_day=0,
                next_due_day=tuple(d + 2 for d in range(6)),
                weight_per_day=1_000_000,
            ),
        ),
    )
    solution = solve(problem, PARAMS)
    assert solution.status == SolveStatus.OPTIMAL
    assert [a.day for a in solution.assignments] == [0, 2, 4]
    assert lateness(solution) == 0


@pytest.mark.parametrize(
    ("n_resources", "visited"),
    [pytest.param(2, True, id="two-workers"), pytest.param(1, False, id="one-worker")],
)
def test_joint_task_needs_two_resources(n_resources: int, visited: bool) -> None:
    """A joint task is led by one resource with a different second at the same time."""
    resources = tuple(resource(f"w{i}", location=i) for i in range(n_resources))
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=travel(n_resources + 1, 10),
        resources=resources,
        tasks=(
            task("h1", n_resources, days=range(1), resources=tuple(range(n_resources)), joint=True),
        ),
        clocks=(clock("c1", (0,), 0),),
    )
    solution = solve(problem, PARAMS)
    assert solution.status == SolveStatus.OPTIMAL
    if visited:
        (a,) = solution.assignments
        assert a.second_resource is not None
        assert a.second_resource != a.resource
        assert a.start_min is not None
    else:
        assert solution.assignments == ()
        assert lateness(solution) == 1_000_000


def test_family_window_sets_the_start() -> None:
    """The only allowed start is 16:00: the visit starts then."""
    option = TaskDay(day=0, duration_min=60, windows=((16 * 60, 16 * 60),), resources=(0,))
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=travel(2, 10),
        resources=(resource("w1", end_min=18 * 60),),
        tasks=(Task(id="h1", location=1, days=(option,)),),
        clocks=(clock("c1", (0,), 0),),
    )
    (a,) = solve(problem, PARAMS).assignments
    assert a.start_min == 16 * 60


@pytest.mark.parametrize(
    ("minutes", "visits"),
    [pytest.param(0, 4, id="no-travel-four-fit"), pytest.param(10, 3, id="travel-fourth-out")],
)
def test_travel_makes_a_fourth_visit_infeasible(minutes: int, visits: int) -> None:
    """4 x 60 min in a 270-minute day fits without travel, not with 10 minutes between stops."""
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=travel(5, minutes),
        resources=(resource("w1", days=range(1), end_min=NINE + 270),),
        tasks=tuple(task(f"h{i}", i + 1, days=range(1)) for i in range(4)),
        clocks=tuple(clock(f"c{i}", (i,), 0) for i in range(4)),
    )
    solution = solve(problem, PARAMS)
    assert len(solution.assignments) == visits
    assert all(a.start_min is not None for a in solution.assignments)


def test_unsequenceable_day_is_cut_and_resolved() -> None:
    """Homes close together but far from base: stage 1 over-books, a cut repairs it."""
    rows = [[0, 30, 30, 30, 30]] + [[30, 0, 0, 0, 0] for _ in range(4)]
    rows = [[0 if i == j else v for j, v in enumerate(row)] for i, row in enumerate(rows)]
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=tuple(tuple(r) for r in rows),
        resources=(resource("w1", days=range(1), end_min=NINE + 270),),
        tasks=tuple(task(f"h{i}", i + 1, days=range(1)) for i in range(4)),
        clocks=tuple(clock(f"c{i}", (i,), 0) for i in range(4)),
    )
    solution = solve(problem, PARAMS)
    assert solution.cut_rounds >= 1
    assert len(solution.assignments) == 3
    assert solution.dropped == ()
    starts = sorted(a.start_min for a in solution.assignments if a.start_min is not None)
    assert starts[0] >= NINE + 30
    assert starts[-1] + 60 + 30 <= NINE + 270


def test_higher_weight_clock_wins_short_capacity() -> None:
    """One visit a day, two overdue clocks: the heavier (child protection) is met."""
    base = resource("w1", days=range(1))
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=travel(3, 10),
        resources=(base.model_copy(update={"max_visits_per_day": 1}),),
        tasks=(task("cin", 1, days=range(1)), task("cp", 2, days=range(1))),
        clocks=(clock("cin", (0,), 0, weight=400_000), clock("cp", (1,), 0)),
    )
    (a,) = solve(problem, PARAMS).assignments
    assert a.task == 1


def _symmetric_problem(order: list[int]) -> Problem:
    """Three resources at distinct bases, listed in `order`; tasks refer to them by index."""
    base = [resource(f"w{i}", location=i, days=range(2)) for i in range(3)]
    resources = tuple(base[i] for i in order)
    index = {i: order.index(i) for i in range(3)}
    rows = [[abs(i - j) * 7 for j in range(6)] for i in range(6)]
    tasks = tuple(
        task(f"h{k}", 3 + k, days=range(2), resources=tuple(sorted(index[i] for i in range(3))))
        for k in range(3)
    )
    return Problem(
        horizon_days=2,
        window_days=2,
        travel_min=tuple(tuple(r) for r in rows),
        resources=resources,
        tasks=tasks,
        clocks=tuple(clock(f"c{k}", (k,), k % 2) for k in range(3)),
    )


def test_permuting_resources_leaves_the_optimum_unchanged() -> None:
    """The optimal objective does not depend on the order resources are listed in."""
    objectives = set()
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        solution = solve(_symmetric_problem(order), PARAMS)
        assert solution.status == SolveStatus.OPTIMAL
        objectives.add(solution.objective)
    assert len(objectives) == 1


def test_same_seed_same_solution() -> None:
    """Determinism: identical problem and seed give identical assignments."""
    problem = _symmetric_problem([0, 1, 2])
    first, second = solve(problem, PARAMS), solve(problem, PARAMS)
    assert first.assignments == second.assignments
    assert first.penalties == second.penalties


def test_solution_reports_status_bound_and_params() -> None:
    """The solution carries its status, bound, runtime and the seed used."""
    solution = solve(_symmetric_problem([0, 1, 2]), PARAMS.model_copy(update={"seed": 5}))
    assert solution.params.seed == 5
    assert solution.bound is not None
    assert solution.objective is not None
    assert solution.bound <= solution.objective
    assert solution.runtime_s > 0
    assert solution.first_solution_s is not None


def test_a_solve_out_of_time_before_any_solution_keeps_the_warm_start() -> None:
    """No CP-SAT solution in time: the greedy hint stands in, sequenced, so the visit is made."""
    problem = Problem(
        horizon_days=5,
        window_days=5,
        travel_min=travel(2, 10),
        resources=(resource("w1"),),
        tasks=(task("h1", 1),),
        clocks=(Clock(id="c", subject="c", tasks=(0,), first_due_day=2, weight_per_day=1000),),
    )
    params = SolveParams(time_limit_s=1e-9, deterministic=True, num_workers=1)
    solution = solve(problem, params)
    assert [a.day for a in solution.assignments] in ([0], [1], [2])
    assert all(a.start_min is not None for a in solution.assignments)
