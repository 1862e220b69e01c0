"""Stage 2 for one resource's day: trying every order equals the CP-SAT sequencing model."""

from __future__ import annotations

import random

import pytest

from solver import PreviousVisit, Problem, Resource, Shift, SolveParams, Task, TaskDay
from solver import sequence as stage2
from solver.sequence import DayVisit, sequence_day

PARAMS = SolveParams(seed=0)


def _day(seed: int) -> tuple[Problem, list[DayVisit], set[int]]:
    """One worker, 1-4 visits with random windows, durations, travel and busy times."""
    rng = random.Random(seed)
    n = rng.randint(1, 4)
    points = [(rng.randint(0, 20), rng.randint(0, 20)) for _ in range(n + 1)]
    travel = tuple(tuple(abs(a[0] - b[0]) + abs(a[1] - b[1]) for b in points) for a in points)
    busy: tuple[tuple[int, int], ...] = ()
    if rng.random() < 0.5:
        busy = ((rng.choice([10, 11, 13]) * 60, rng.choice([12, 14]) * 60),)
    shift = Shift(day=0, start_min=9 * 60, end_min=rng.choice([15, 17, 18]) * 60, busy=busy)
    tasks = []
    for k in range(n):
        lo = rng.choice([0, 9 * 60, 13 * 60, 15 * 60 + 30])
        duration = rng.choice([45, 60, 75])
        window = (lo, min(23 * 60, lo + rng.choice([60, 180, 600])))
        option = TaskDay(day=0, duration_min=duration, windows=(window,), resources=(0,))
        avoid = (0, 12 * 60) if rng.random() < 0.3 else None
        tasks.append(Task(id=f"h{k}", location=k + 1, days=(option,), first_avoid=avoid))
    problem = Problem(
        horizon_days=1,
        window_days=1,
        travel_min=travel,
        resources=(Resource(id="w", location=0, shifts=(shift,)),),
        tasks=tuple(tasks),
    )
    first = {k for k in range(n) if rng.random() < 0.5}
    return problem, [DayVisit(k, 0) for k in range(n)], first


@pytest.mark.parametrize("seed", range(40))
def test_every_order_equals_the_model(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    problem, visits, first = _day(seed)
    fast = sequence_day(problem, 0, visits, first, PARAMS)
    monkeypatch.setattr(stage2, "MAX_ORDERS_STOPS", 0)
    exact = sequence_day(problem, 0, visits, first, PARAMS)
    assert (fast is None) == (exact is None)
    if fast is not None and exact is not None:
        assert fast.travel_min == exact.travel_min
        assert sum(fast.start_min.values()) == sum(exact.start_min.values())


@pytest.mark.parametrize("seed", range(40))
def test_nothing_starts_before_now_and_both_ways_agree(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-plan made during the day (`Problem.not_before`): every start is at or after it,
    by every order and by the model alike."""
    problem, visits, first = _day(seed)
    minute = random.Random(seed).choice([9 * 60, 11 * 60, 13 * 60 + 15, 16 * 60])
    problem = problem.model_copy(update={"not_before": (0, minute)})
    fast = sequence_day(problem, 0, visits, first, PARAMS)
    monkeypatch.setattr(stage2, "MAX_ORDERS_STOPS", 0)
    exact = sequence_day(problem, 0, visits, first, PARAMS)
    assert (fast is None) == (exact is None)
    for found in (fast, exact):
        assert found is None or min(found.start_min.values()) >= minute
    if fast is not None and exact is not None:
        assert fast.travel_min == exact.travel_min


def _published_at_ten(crew: int) -> Problem:
    """Two workers; one household published for 10:00 with worker 0 today, its window all
    day; re-planned at 12:00."""
    shift = Shift(day=0, start_min=9 * 60, end_min=17 * 60)
    option = TaskDay(day=0, duration_min=60, windows=((9 * 60, 16 * 60),), resources=(0, 1))
    published = PreviousVisit(task=0, day=0, resource=crew, start_min=10 * 60, duration_min=60)
    return Problem(
        horizon_days=1,
        window_days=1,
        travel_min=((0, 10, 10), (10, 0, 10), (10, 10, 0)),
        resources=(
            Resource(id="w0", location=0, shifts=(shift,)),
            Resource(id="w1", location=1, shifts=(shift,)),
        ),
        tasks=(Task(id="h", location=2, days=(option,)),),
        previous=(published,),
        not_before=(0, 12 * 60),
    )


@pytest.mark.parametrize(("published_with", "start"), [(0, 10 * 60), (1, 12 * 60)])
def test_a_published_visit_keeps_its_time_before_now_only_with_its_workers(
    published_with: int, start: int
) -> None:
    """The edge pair: made by its published worker, the visit at 10:00 stays (it is today's,
    already under way or made); handed to another worker, it starts at 12:00 at the earliest."""
    problem = _published_at_ten(published_with)
    found = sequence_day(problem, 0, [DayVisit(0, 0)], set(), PARAMS)
    assert found is not None
    assert found.start_min == {0: start}
