"""The travel polish: moves and drops that save travel, and the requirements that stop them."""

from __future__ import annotations

from ortools.sat.python import cp_model

from solver import Clock, Problem, Resource, Shift, SolveParams, Task, TaskDay
from solver.polish import polish
from solver.solution import Assignment
from solver.variables import make_variables

PARAMS = SolveParams(seed=0, num_workers=1)
NINE, FIVE = 9 * 60, 17 * 60
# Base 0; homes 1 and 2 are 20 minutes from base and 5 minutes from each other.
TRAVEL = ((0, 20, 20), (20, 0, 5), (20, 5, 0))


def _resource(rid: str) -> Resource:
    return Resource(
        id=rid,
        location=0,
        shifts=tuple(Shift(day=d, start_min=NINE, end_min=FIVE) for d in range(5)),
    )


def _task(
    tid: str, location: int, days: range, preferred: tuple[int, ...] = (), staff: int = 1
) -> Task:
    return Task(
        id=tid,
        location=location,
        preferred_resources=preferred,
        days=tuple(
            TaskDay(
                day=d, duration_min=60, windows=((NINE, FIVE - 60),), resources=tuple(range(staff))
            )
            for d in days
        ),
    )


def _clock(cid: str, task: int, due: int, every: int | None = None) -> Clock:
    chain = None if every is None else tuple(d + every for d in range(5))
    return Clock(
        id=cid, subject=cid, tasks=(task,), first_due_day=due, next_due_day=chain, weight_per_day=1
    )


def _polish(problem: Problem, visits: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(task, day, resource) after polishing the given (task, day, resource) visits."""
    v = make_variables(cp_model.CpModel(), problem)
    assignments = [Assignment(task=t, day=d, resource=r) for t, d, r in visits]
    first: dict[int, int] = {}
    for t, d, _r in sorted(visits, key=lambda x: x[1]):
        first.setdefault(t, d)
    out = polish(problem, v, assignments, first, PARAMS)
    return sorted((a.task, a.day, a.resource) for a in out)


def _problem(tasks: tuple[Task, ...], clocks: tuple[Clock, ...], resources: int = 1) -> Problem:
    return Problem(
        horizon_days=5,
        window_days=5,
        travel_min=TRAVEL,
        resources=tuple(_resource(f"w{i}") for i in range(resources)),
        tasks=tasks,
        clocks=clocks,
    )


def test_neighbours_on_two_days_are_joined_on_one() -> None:
    """Just inside: both deadlines allow day 0, so one round trip (45 min) replaces two (80)."""
    problem = _problem(
        (_task("h1", 1, range(5)), _task("h2", 2, range(5))),
        (_clock("c1", 0, due=4), _clock("c2", 1, due=4)),
    )
    after = _polish(problem, [(0, 0, 0), (1, 3, 0)])
    assert len({d for _t, d, _r in after}) == 1
    assert [t for t, _d, _r in after] == [0, 1]


def test_a_move_that_would_make_a_clock_late_is_not_made() -> None:
    """Just outside: h1 is due on day 0 and h2's next visit (every 3 days) would fall due on
    day 3 if it moved from day 3 to day 0 -- both moves make a clock later, so none is made."""
    problem = _problem(
        (_task("h1", 1, range(5)), _task("h2", 2, range(5))),
        (_clock("c1", 0, due=0), _clock("c2", 1, due=3, every=3)),
    )
    assert _polish(problem, [(0, 0, 0), (1, 3, 0)]) == [(0, 0, 0), (1, 3, 0)]


def test_a_surplus_visit_is_dropped_and_a_needed_one_kept() -> None:
    """h1's deadline (day 4, no repeat) needs one of its two visits; h2 repeats every 2 days
    from day 1, so both of its visits (days 1 and 3) are needed."""
    problem = _problem(
        (_task("h1", 1, range(5)), _task("h2", 2, range(5))),
        (_clock("c1", 0, due=4), _clock("c2", 1, due=1, every=2)),
    )
    after = _polish(problem, [(0, 1, 0), (0, 3, 0), (1, 1, 0), (1, 3, 0)])
    assert [t for t, _d, _r in after] == [0, 1, 1]
    assert [d for t, d, _r in after if t == 1] == [1, 3]


def test_the_allocated_worker_keeps_the_visit() -> None:
    """h2 is allocated to w0; joining w1's day at the house next door would save travel, but
    continuity outranks travel, so h2 stays with w0 (it may move to another of w0's days)."""
    problem = _problem(
        (_task("h1", 1, range(1), staff=2), _task("h2", 2, range(5), preferred=(0,), staff=2)),
        (_clock("c1", 0, due=0), _clock("c2", 1, due=4)),
        resources=2,
    )
    after = _polish(problem, [(0, 0, 1), (1, 3, 0)])
    assert (0, 0, 1) in after
    assert [r for t, _d, r in after if t == 1] == [0]


def test_re_plans_are_not_polished() -> None:
    """A re-plan keeps published visits where they are: the polish changes nothing."""
    from solver.problem import PreviousVisit

    problem = _problem(
        (_task("h1", 1, range(5)), _task("h2", 2, range(5))),
        (_clock("c1", 0, due=4), _clock("c2", 1, due=4)),
    ).model_copy(
        update={
            "previous": (
                PreviousVisit(task=0, day=0, resource=0, start_min=NINE + 30, duration_min=60),
            )
        }
    )
    assert _polish(problem, [(0, 0, 0), (1, 3, 0)]) == [(0, 0, 0), (1, 3, 0)]
