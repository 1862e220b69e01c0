"""Stage 2 for one resource's day: trying every order equals the CP-SAT sequencing model."""

from __future__ import annotations

import random

import pytest

from solver import Problem, Resource, Shift, SolveParams, Task, TaskDay
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
