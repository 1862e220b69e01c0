"""The travel polish: moves and drops that save travel, and the requirements that stop them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.sat.python import cp_model

from solver import Clock, Problem, Resource, Shift, SolveParams, Task, TaskDay
from solver.polish import _clock_cost, polish
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


# Base 0; homes 1 and 2 are neighbours to the north, homes 3 and 4 to the south.
NORTH_SOUTH = (
    (0, 20, 20, 20, 20),
    (20, 0, 5, 40, 40),
    (20, 5, 0, 40, 40),
    (20, 40, 40, 0, 5),
    (20, 40, 40, 5, 0),
)


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        # Just inside: h1 and h3 may wait, so h3 trades days with h2 (or h1 with h4): each day
        # then visits one pair of neighbours, 45 + 45 minutes instead of 80 + 80.
        pytest.param((4, 4, 4, 4), 90, id="two-full-days-trade-visits"),
        # Just outside: h1 and h3 are due on day 0 and h2 and h4 cannot join them (two visits
        # a day), so no trade is made and no visit moves later.
        pytest.param((0, 4, 0, 4), 160, id="due-on-their-day-no-trade"),
    ],
)
def test_two_full_days_trade_visits_to_join_neighbours(due: tuple[int, ...], expected: int) -> None:
    """Two visits a day: day 0 has h1 (north) and h3 (south), day 1 h2 (north) and h4
    (south). No single move fits (both days are full); a trade does."""
    from solver.polish import shortest_round_trip

    homes = ("h1", "h2", "h3", "h4")
    problem = Problem(
        horizon_days=5,
        window_days=5,
        travel_min=NORTH_SOUTH,
        resources=(_resource("w0").model_copy(update={"max_visits_per_day": 2}),),
        tasks=tuple(_task(h, i + 1, range(5)) for i, h in enumerate(homes)),
        clocks=tuple(_clock(f"c{i}", i, due=d) for i, d in enumerate(due)),
    )
    after = _polish(problem, [(0, 0, 0), (2, 0, 0), (1, 1, 0), (3, 1, 0)])
    by_day: dict[int, list[int]] = {}
    for t, d, _r in after:
        by_day.setdefault(d, []).append(t + 1)
    assert all(len(stops) <= 2 for stops in by_day.values())
    for t, d, _r in after:
        assert d <= due[t]
    assert sum(shortest_round_trip(NORTH_SOUTH, 0, s) for s in by_day.values()) == expected


@pytest.mark.parametrize(
    ("window", "moved"),
    [
        # Just inside: h2 may start any time, so it joins w0's day 0 after the joint visit
        # next door (45 minutes instead of 40 + 40), and w1's side of that day still fits.
        pytest.param((NINE, FIVE - 60), True, id="joins-a-day-with-a-joint-visit"),
        # Just outside: h2 may only start 10:00-10:45, when w0 is at the joint visit (fixed
        # at 10:00 by its own window), so it stays on day 3.
        pytest.param((10 * 60, 10 * 60 + 45), False, id="clashes-with-the-joint-visit"),
    ],
)
def test_a_visit_joins_a_day_with_a_joint_visit_when_both_workers_still_fit(
    window: tuple[int, int], moved: bool
) -> None:
    """w0 and w1 make the joint visit to h1 on day 0 at 10:00; h2 (w0's, next door) is on
    day 3. The day with the joint visit is sequenced with w1's side of it too."""
    joint = Task(
        id="h1",
        location=1,
        joint=True,
        preferred_resources=(0,),
        days=(
            TaskDay(
                day=0,
                duration_min=60,
                windows=((10 * 60, 10 * 60),),
                resources=(0,),
                second_resources=(1,),
            ),
        ),
    )
    h2 = Task(
        id="h2",
        location=2,
        preferred_resources=(0,),
        days=tuple(
            TaskDay(day=d, duration_min=60, windows=(window,), resources=(0,)) for d in range(5)
        ),
    )
    problem = _problem((joint, h2), (_clock("c1", 0, due=0), _clock("c2", 1, due=4)), 2)
    v = make_variables(cp_model.CpModel(), problem)
    visits = [
        Assignment(task=0, day=0, resource=0, second_resource=1),
        Assignment(task=1, day=3, resource=0),
    ]
    out = polish(problem, v, visits, {0: 0, 1: 3}, PARAMS)
    days = {a.task: a.day for a in out}
    assert days == ({0: 0, 1: 0} if moved else {0: 0, 1: 3})


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


def _reference_cost(problem: Problem, clock: Clock, days: set[int], retry_buffer: int) -> int:
    """Stage 1's count, day by day, as `solver.objective._late_terms` builds it."""
    cost = 0
    chain = clock.next_due_day
    due = clock.first_due_day
    for e in range(max(0, due - clock.buffer_days + 1), problem.window_days + 1):
        if e <= due:
            if retry_buffer and due < problem.horizon_days and not any(d < e for d in days):
                cost += retry_buffer
        elif not any(d < e and (chain is None or chain[d] >= e) for d in days):
            cost += clock.weight_per_day
    return cost


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    window=st.integers(min_value=1, max_value=30),
    data=st.data(),
)
def test_clock_cost_counts_as_stage_1_does(window: int, data: st.DataObject) -> None:
    """The polish's interval count equals stage 1's day-by-day count for any visits."""
    horizon = data.draw(st.integers(min_value=1, max_value=window))
    due = data.draw(st.integers(min_value=-5, max_value=window + 3))
    chained = data.draw(st.booleans())
    chain = (
        tuple(d + data.draw(st.integers(min_value=0, max_value=12)) for d in range(window))
        if chained
        else None
    )
    clock = Clock(
        id="c",
        subject="c",
        tasks=(0,),
        first_due_day=due,
        next_due_day=chain,
        weight_per_day=7,
        buffer_days=data.draw(st.integers(min_value=0, max_value=3)),
    )
    problem = Problem(horizon_days=horizon, window_days=window, travel_min=((0,),))
    days = data.draw(st.sets(st.integers(min_value=0, max_value=window - 1), max_size=6))
    retry = data.draw(st.sampled_from([0, 3]))
    assert _clock_cost(problem, clock, days, retry) == _reference_cost(problem, clock, days, retry)


def test_a_surplus_visit_goes_when_a_look_ahead_visit_can_come_earlier() -> None:
    """Every 5 days from day 0: visits on days 0 and 2 and (look-ahead) 7. Without day 2 the
    day-7 visit comes 2 days late, so the plain drop is refused; bringing the look-ahead
    visit to day 5 makes the day-2 visit surplus. When day 5 is not possible, day 2 stays."""

    def problem(day5_free: bool) -> Problem:
        shifts = tuple(
            Shift(day=d, start_min=NINE, end_min=FIVE) for d in range(10) if day5_free or d != 5
        )
        tasks = (
            Task(
                id="h1",
                location=1,
                days=tuple(
                    TaskDay(day=d, duration_min=60, windows=((NINE, FIVE - 60),), resources=(0,))
                    for d in range(10)
                    if day5_free or d != 5
                ),
            ),
        )
        clock = Clock(
            id="c1",
            subject="c1",
            tasks=(0,),
            first_due_day=1,
            next_due_day=tuple(d + 5 for d in range(10)),
            weight_per_day=1,
        )
        return Problem(
            horizon_days=5,
            window_days=10,
            travel_min=TRAVEL,
            resources=(Resource(id="w0", location=0, shifts=shifts),),
            tasks=tasks,
            clocks=(clock,),
        )

    assert _polish(problem(True), [(0, 0, 0), (0, 2, 0), (0, 7, 0)]) == [(0, 0, 0), (0, 5, 0)]
    assert _polish(problem(False), [(0, 0, 0), (0, 2, 0), (0, 7, 0)]) == [
        (0, 0, 0),
        (0, 2, 0),
        (0, 7, 0),
    ]
