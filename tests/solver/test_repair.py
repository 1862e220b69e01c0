"""The re-planning repair (`Problem.keep_previous`): a published visit is fixed only when all
its workers can still make it. Real CP-SAT solves on tiny problems, edge pairs."""

from __future__ import annotations

import pytest

from solver import Problem, Shift, SolveParams, solve
from solver.problem import PreviousVisit, Resource
from tests.solver.test_solve import FIVE, NINE, clock, lateness, task, travel

PARAMS = SolveParams(time_limit_s=5, seed=0, num_workers=1)
TWO = 14 * 60


def _worker(rid: str, away: int | None = None) -> Resource:
    """One visit a day, Monday to Friday (days 0-4), except the day `away`."""
    shifts = tuple(Shift(day=d, start_min=NINE, end_min=FIVE) for d in range(5) if d != away)
    return Resource(id=rid, location=0, shifts=shifts, max_visits_per_day=1)


def _problem(lead_away: bool, second_away: bool) -> Problem:
    """A joint visit to h1 (due day 3) published on day 1 led by r0 with r1, and r2's visit to
    h2 (due day 4) on day 1. With r2 full on day 1, a joint visit kept on day 1 with a
    stand-in for an absent worker has nobody to take the absent worker's place."""
    return Problem(
        horizon_days=5,
        window_days=5,
        travel_min=travel(3, 10),
        resources=(
            _worker("r0", away=1 if lead_away else None),
            _worker("r1", away=1 if second_away else None),
            _worker("r2"),
        ),
        tasks=(task("h1", 1, resources=(0, 1, 2), joint=True), task("h2", 2, resources=(2,))),
        clocks=(clock("c1", (0,), due=3), clock("c2", (1,), due=4)),
        previous=(
            PreviousVisit(
                task=0, day=1, resource=0, second_resource=1, start_min=TWO, duration_min=60
            ),
            PreviousVisit(task=1, day=1, resource=2, start_min=TWO, duration_min=60),
        ),
        keep_previous=True,
    )


def test_a_joint_visit_whose_workers_are_both_in_is_kept_as_published() -> None:
    """Both workers in on day 1: the joint visit stays on day 1 with r0 leading and r1."""
    solution = solve(_problem(lead_away=False, second_away=False), PARAMS)
    assert solution.status.value == "OPTIMAL"
    visits = {(a.task, a.day, a.resource, a.second_resource) for a in solution.assignments}
    assert visits == {(0, 1, 0, 1), (1, 1, 2, None)}


@pytest.mark.parametrize(("lead_away", "second_away"), [(True, False), (False, True)])
def test_a_joint_visit_with_a_worker_away_is_released_whole(
    lead_away: bool, second_away: bool
) -> None:
    """One of its two workers away on day 1: the joint visit is planned anew (another day, two
    workers who are in), not held on day 1 by the worker who is left, which left the repair
    with no plan at all (the L Tuesday case); r2's published visit stays as it was."""
    solution = solve(_problem(lead_away, second_away), PARAMS)
    assert solution.status.value == "OPTIMAL"
    assert solution.dropped == ()
    assert lateness(solution) == 0
    visits = {(a.task, a.day, a.resource, a.second_resource) for a in solution.assignments}
    assert (1, 1, 2, None) in visits
    [(day, lead, second)] = [(d, r, s) for t, d, r, s in visits if t == 0]
    assert day != 1
    assert day <= 3
    assert second is not None
    assert lead != second
