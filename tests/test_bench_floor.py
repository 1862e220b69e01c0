"""The benchmark's dated travel floor: an exact split of a worker's visits into days, checked
against brute force on small cases (with and without the day's times), and on generated plans
(never above their travel)."""

from __future__ import annotations

import itertools
import random
import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from travel_floor import Timing, dated_floor, worker_floor

from solver.polish import shortest_round_trip

# Base 0; homes 1 and 2 are 20 minutes out and 5 minutes apart; home 3 is 30 minutes out.
MATRIX = [[0, 20, 20, 30], [20, 0, 5, 45], [20, 5, 0, 45], [30, 45, 45, 0]]
HOMES = ["h1", "h2", "h3"]


def timed_trip(travel: list[list[int]], visits: list[int], day: int, timing: Timing) -> int | None:
    """The cheapest order of `visits` that fits `day`, found by trying every start on the
    15-minute grain for each visit (None if no order fits)."""
    best = None
    for order in itertools.permutations(visits):
        clock, here = timing.hours[0], 0
        for i in order:
            ranges = timing.starts[i].get(day, [(0, 24 * 60)])
            grains = [
                g
                for g in range(0, 24 * 60, 15)
                if g >= clock + travel[here][i + 1] and any(lo <= g <= hi for lo, hi in ranges)
            ]
            if not grains:
                break
            clock, here = grains[0] + timing.durations[i], i + 1
        else:
            if clock + travel[here][0] <= timing.hours[1]:
                stops = [0, *(i + 1 for i in order), 0]
                cost = sum(travel[a][b] for a, b in itertools.pairwise(stops))
                best = cost if best is None else min(best, cost)
    return best


def brute_force(
    travel: list[list[int]],
    homes: list[str],
    allowed: list[list[int]],
    cap: int,
    timing: Timing | None = None,
) -> int | None:
    """Every way to give each visit one of its days: the cheapest valid one (None if none)."""
    best = None
    for days in itertools.product(*allowed):
        by_day: dict[int, list[int]] = {}
        for i, day in enumerate(days):
            by_day.setdefault(day, []).append(i)
        if any(len(v) > cap or len({homes[i] for i in v}) < len(v) for v in by_day.values()):
            continue
        if timing is None:
            trips = [shortest_round_trip(travel, 0, [i + 1 for i in v]) for v in by_day.values()]
        else:
            found = [timed_trip(travel, v, day, timing) for day, v in by_day.items()]
            if None in found:
                continue
            trips = [t for t in found if t is not None]
        cost = sum(trips)
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


def random_worker(
    rng: random.Random, days: int
) -> tuple[list[list[int]], list[str], list[list[int]]]:
    """2-5 visits on a 30 x 30 grid (Manhattan travel, base at location 0), some to the same
    household, each allowed on 1 to `days` of the first `days` days."""
    n = rng.randint(2, 5)
    points = [(rng.randint(0, 30), rng.randint(0, 30)) for _ in range(n + 1)]
    matrix = [[abs(a[0] - b[0]) + abs(a[1] - b[1]) for b in points] for a in points]
    homes = [f"h{rng.randint(0, n - 1)}" for _ in range(n)]
    allowed = [sorted(rng.sample(range(days), rng.randint(1, days))) for _ in range(n)]
    return matrix, homes, allowed


@pytest.mark.parametrize("seed", range(12))
def test_floor_equals_brute_force_on_random_small_cases(seed: int) -> None:
    rng = random.Random(seed)
    matrix, homes, allowed = random_worker(rng, 4)
    cap = rng.randint(1, 3)
    expected = brute_force(matrix, homes, allowed, cap)
    if expected is None:
        with pytest.raises(ValueError, match="no split"):
            worker_floor(matrix, homes, allowed, cap)
        return
    assert worker_floor(matrix, homes, allowed, cap) == expected


# After school: homes 1 and 2 (5 minutes apart) open for starts 15:30-17:00, hour-long visits;
# the worker's day ends at 18:00, 20 minutes back to base from either.
AFTER_SCHOOL = [(15 * 60 + 30, 17 * 60)]


def _after_school(end: int, days: int = 2) -> Timing:
    return Timing(
        hours=(9 * 60, end),
        durations=[60, 60, 60],
        starts=[dict.fromkeys(range(days), AFTER_SCHOOL)] * 2 + [{}],
    )


@pytest.mark.parametrize(
    ("end", "floor"),
    [
        # Just inside: 15:30-16:30 at home 1, 16:45-17:45 at home 2 (the next grain after
        # 16:35), back at base 18:05 when the day ends then: the neighbours share a day
        # (20 + 5 + 20) and home 3 goes alone (60).
        pytest.param(18 * 60 + 5, 45 + 60, id="two-after-school-visits-fit-just-inside"),
        # Just outside: a day ending 18:04 cannot hold both; the cheapest is home 3 in the
        # morning then home 1 (30 + 45 + 20) and home 2 on another day (40).
        pytest.param(18 * 60 + 4, 95 + 40, id="two-after-school-visits-just-outside"),
    ],
)
def test_a_day_holds_only_the_visits_its_times_allow(end: int, floor: int) -> None:
    allowed = [[0, 1], [0, 1], [0, 1]]
    timing = _after_school(end)
    assert worker_floor(MATRIX, HOMES, allowed, 2, timing) == floor
    assert brute_force(MATRIX, HOMES, allowed, 2, timing) == floor
    # Without times the neighbours always share a day: the floor that ignored the clock.
    assert worker_floor(MATRIX, HOMES, allowed, 2) == 45 + 60


def test_a_visit_alone_on_its_planned_day_is_always_allowed() -> None:
    """A window that leaves no start on the visit's planned day (the plan made it then)."""
    timing = Timing(hours=(9 * 60, 17 * 60), durations=[60], starts=[{0: [(20 * 60, 20 * 60)]}])
    with pytest.raises(ValueError, match="no day"):
        worker_floor(MATRIX[:2], ["h1"], [[0]], 4, timing)
    assert worker_floor(MATRIX[:2], ["h1"], [[0]], 4, timing, planned=[0]) == 40


@pytest.mark.parametrize("seed", range(12))
def test_timed_floor_equals_brute_force_on_random_small_cases(seed: int) -> None:
    rng = random.Random(seed)
    matrix, homes, allowed = random_worker(rng, 3)
    n = len(homes)
    starts: list[dict[int, list[tuple[int, int]]]] = []
    for days in allowed:
        windows: dict[int, list[tuple[int, int]]] = {}
        for d in days:
            lo = rng.choice([9 * 60, 13 * 60, 15 * 60 + 30])
            if rng.random() < 0.8:
                windows[d] = [(lo + rng.randint(0, 40), lo + rng.randint(60, 150))]
        starts.append(windows)
    timing = Timing(
        hours=(9 * 60, rng.choice([16 * 60 + 30, 17 * 60, 18 * 60])),
        durations=[rng.choice([30, 45, 60, 90]) for _ in range(n)],
        starts=starts,
    )
    cap = rng.randint(1, 3)
    expected = brute_force(matrix, homes, allowed, cap, timing)
    if expected is None:
        with pytest.raises(ValueError, match=r"no split|no day"):
            worker_floor(matrix, homes, allowed, cap, timing)
        return
    assert worker_floor(matrix, homes, allowed, cap, timing) == expected


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
