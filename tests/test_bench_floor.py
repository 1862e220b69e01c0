"""The benchmark's dated travel floor: an exact split of a worker's visits into days, checked
against brute force on small cases, and on a generated plan (never above its travel)."""

from __future__ import annotations

import itertools
import random
import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from travel_floor import dated_floor, worker_floor

from solver.polish import shortest_round_trip

# Base 0; homes 1 and 2 are 20 minutes out and 5 minutes apart; home 3 is 30 minutes out.
MATRIX = [[0, 20, 20, 30], [20, 0, 5, 45], [20, 5, 0, 45], [30, 45, 45, 0]]
HOMES = ["h1", "h2", "h3"]


def brute_force(
    travel: list[list[int]], homes: list[str], allowed: list[list[int]], cap: int
) -> int | None:
    """Every way to give each visit one of its days: the cheapest valid one (None if none)."""
    best = None
    for days in itertools.product(*allowed):
        by_day: dict[int, list[int]] = {}
        for i, day in enumerate(days):
            by_day.setdefault(day, []).append(i)
        if any(len(v) > cap or len({homes[i] for i in v}) < len(v) for v in by_day.values()):
            continue
        cost = sum(shortest_round_trip(travel, 0, [i + 1 for i in v]) for v in by_day.values())
        best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize(
    ("allowed", "cap", "floor"),
    [
        # Any day, two a day: the neighbours share a day (20 + 5 + 20), home 3 alone (60).
        pytest.param([[0, 1], [0, 1], [0, 1]], 2, 105, id="neighbours-share-a-day"),
        # Just inside: home 2 is due on day 0, home 1 may still join it that day.
        pytest.param([[0, 1], [0], [1]], 2, 105, id="due-together-just-inside"),
        # Just outside: home 1 only on day 0, home 2 only on day 1: three round trips.
        pytest.param([[0], [1], [2]], 2, 40 + 40 + 60, id="due-apart-just-outside"),
        # A cap of one a day forces three round trips whatever the days.
        pytest.param([[0, 1, 2], [0, 1, 2], [0, 1, 2]], 1, 140, id="one-a-day"),
    ],
)
def test_floor_edge_pairs(allowed: list[list[int]], cap: int, floor: int) -> None:
    assert worker_floor(MATRIX, HOMES, allowed, cap) == floor
    assert brute_force(MATRIX, HOMES, allowed, cap) == floor


def test_same_household_twice_never_shares_a_day() -> None:
    """Two visits to one home need two days (one visit per household per day)."""
    matrix = [[0, 10, 10], [10, 0, 0], [10, 0, 0]]
    assert worker_floor(matrix, ["h1", "h1"], [[0, 1], [0, 1]], 4) == 40


@pytest.mark.parametrize("seed", range(12))
def test_floor_equals_brute_force_on_random_small_cases(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.randint(2, 5)
    points = [(rng.randint(0, 30), rng.randint(0, 30)) for _ in range(n + 1)]
    matrix = [[abs(a[0] - b[0]) + abs(a[1] - b[1]) for b in points] for a in points]
    homes = [f"h{rng.randint(0, n - 1)}" for _ in range(n)]
    allowed = [sorted(rng.sample(range(4), rng.randint(1, 4))) for _ in range(n)]
    cap = rng.randint(1, 3)
    expected = brute_force(matrix, homes, allowed, cap)
    if expected is None:
        with pytest.raises(ValueError, match="no split"):
            worker_floor(matrix, homes, allowed, cap)
        return
    assert worker_floor(matrix, homes, allowed, cap) == expected


def test_dated_floor_is_never_above_the_plans_travel() -> None:
    """On a generated plan the floor is a lower bound of the plan's own travel."""
    from scheduler.baseline import plan_greedy
    from scheduler.generate import generate
    from scheduler.render import plan_statistics

    start = date(2026, 11, 30)
    scenario = generate("S", seed=2, start=start, children=30)
    plan = plan_greedy(scenario, start, weeks=1)
    floor = dated_floor(plan, scenario)
    assert 0 < floor <= int(plan_statistics(plan, scenario)["travel_min"])
