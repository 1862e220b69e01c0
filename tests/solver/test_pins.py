"""Pinned published visits (re-planning): kept whatever it costs while their workers can make
them, released when they cannot. Real CP-SAT solves on tiny problems, edge pairs."""

from __future__ import annotations

from solver import Problem, Shift, Solution, SolveParams, solve
from solver.problem import PreviousVisit, Resource
from tests.solver.test_solve import NINE, clock, resource, task, travel

PARAMS = SolveParams(time_limit_s=5, seed=0, num_workers=1)
TWO = 14 * 60


def _problem(*previous: PreviousVisit, resources: tuple[Resource, ...] = ()) -> Problem:
    """Households h1 (due by day 4, any day) and h2 (due on day 3, only then), one visit a day
    for the one worker r0: h2 can be seen only if h1 is not on day 3."""
    return Problem(
        horizon_days=5,
        window_days=5,
        travel_min=travel(3, 10),
        resources=resources or (resource("r0").model_copy(update={"max_visits_per_day": 1}),),
        tasks=(task("h1", 1), task("h2", 2, days=range(3, 4))),
        clocks=(clock("c1", (0,), due=4), clock("c2", (1,), due=3)),
        previous=previous,
    )


def _on_day_3(pinned: bool) -> PreviousVisit:
    """h1's published visit on day 3 at 14:00, by r0."""
    return PreviousVisit(task=0, day=3, resource=0, start_min=TWO, duration_min=60, pinned=pinned)


def _visits(solution: Solution) -> list[tuple[int, int, int, int | None]]:
    return [(a.task, a.day, a.resource, a.start_min) for a in solution.assignments]


def test_an_unpinned_visit_is_moved_to_make_room_for_a_deadline() -> None:
    """Without a pin the re-plan moves h1's visit off day 3 so that h2 is seen in time."""
    visits = _visits(solve(_problem(_on_day_3(pinned=False)), PARAMS))
    assert (0, 3, 0, TWO) not in visits
    assert [(t, d) for t, d, _, _ in visits if t == 1] == [(1, 3)]


def test_a_pinned_visit_stays_on_its_day_worker_and_time() -> None:
    """The same visit pinned keeps its day, worker and start, though h2 then misses its day."""
    visits = _visits(solve(_problem(_on_day_3(pinned=True)), PARAMS))
    assert visits == [(0, 3, 0, TWO)]


def test_a_pin_on_a_day_its_worker_is_away_is_released() -> None:
    """A pinned visit whose worker no longer works that day is planned anew, not dropped."""
    away = resource("r0", days=range(3)).model_copy(update={"max_visits_per_day": 1})
    solution = solve(_problem(_on_day_3(pinned=True), resources=(away,)), PARAMS)
    assert solution.dropped == ()
    assert [(t, d) for t, d, _, _ in _visits(solution) if t == 0] in ([(0, 0)], [(0, 1)], [(0, 2)])


def test_a_pinned_start_inside_a_new_busy_time_moves_the_start_only() -> None:
    """A pinned visit whose worker is now busy at its time keeps its day and worker and takes
    another start (the pin's time cannot hold); one minute clear of the busy time, it holds."""
    for busy_end, kept in ((TWO + 1, False), (TWO, True)):
        shifts = tuple(
            Shift(
                day=d,
                start_min=NINE,
                end_min=17 * 60,
                busy=((TWO - 60, busy_end),) if d == 3 else (),
            )
            for d in range(5)
        )
        busy = Resource(id="r0", location=0, shifts=shifts)
        busy = busy.model_copy(update={"max_visits_per_day": 1})
        solution = solve(_problem(_on_day_3(pinned=True), resources=(busy,)), PARAMS)
        assert solution.dropped == ()
        [(task_, day, worker, start)] = _visits(solution)
        assert (task_, day, worker) == (0, 3, 0)
        assert (start == TWO) is kept
