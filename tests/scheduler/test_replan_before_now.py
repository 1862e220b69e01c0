"""A re-plan made during the day places nothing new before now.

A worker off sick from this morning, re-planned at lunchtime: their visits are handed over
or moved to times still ahead, while colleagues' visits earlier today stay as published.
The report would still name any visit placed before now (`before_now`), so a manager is
never misled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler import service
from scheduler.domain import Absence
from scheduler.generate import generate
from scheduler.planning import plan_scenario
from scheduler.replan import ReplanReport, VisitChange, placed_before
from scheduler.store import Store
from scheduler.translate import from_now, not_before_index
from solver import PreviousVisit, Problem, Resource, Shift, Task, TaskDay

LONDON = ZoneInfo("Europe/London")
TUESDAY = date(2026, 12, 1)


def _change(kind: str, start: str | None) -> VisitChange:
    return VisitChange(
        kind=kind,  # type: ignore[arg-type]
        visit_id=f"v-{kind}",
        household_id="h",
        child_ids=("c",),
        start_after=start,
        forced=False,
        reason="",
    )


@pytest.mark.parametrize(
    ("kind", "start", "named"),
    [
        ("reassigned", "2026-12-01T09:59:59+00:00", True),
        ("reassigned", "2026-12-01T10:00:00+00:00", False),
        ("added", "2026-12-01T09:00:00+00:00", True),
        ("moved", "2026-12-01T09:00:00+00:00", True),
        ("removed", "2026-12-01T09:00:00+00:00", False),
        ("changed", "2026-12-01T09:00:00+00:00", False),
        ("moved", "2026-12-02T09:00:00+00:00", False),
    ],
)
def test_placed_before_names_new_places_earlier_than_now(
    kind: str, start: str, named: bool
) -> None:
    """Only visits the re-plan places (added, moved, reassigned) before now, to the second."""
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert placed_before([_change(kind, start)], now) == ((f"v-{kind}",) if named else ())


@pytest.fixture(scope="module")
def sick_tuesday(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A generated S authority planned for two weeks from Mon 30 Nov 2026, the worker of
    Tuesday's earliest visit then off sick all Tuesday: the store's URL and that visit's id
    (the tests only propose re-plans, so they share it)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sick') / 'visitplan.db'}"
    monday = date(2026, 11, 30)
    with Store(url) as store:
        scenario = generate("S", seed=0, start=monday)
        store.replace_caseload(scenario)
        plan = plan_scenario(
            scenario, monday, weeks=2, params=service.solve_params(0.5, 0), processes=1
        )
        store.save_plan(plan, datetime(2026, 11, 27, 16, tzinfo=UTC))
        tuesday = min((v for v in plan.visits if v.day == TUESDAY), key=lambda v: v.start)
        absent = Absence(worker_id=tuesday.worker_id, start=TUESDAY, end=TUESDAY, reason="sickness")
        service.add_absences(store, [absent], by="sam", now=datetime(2026, 12, 1, 8, tzinfo=UTC))
    return url, tuesday.id


def _placed(report: ReplanReport) -> dict[str, datetime]:
    """Start of every visit the re-plan adds, moves or reassigns."""
    starts = {v.id: v.start for v in report.plan.visits}
    return {
        c.visit_id: starts[c.visit_id]
        for c in report.changes
        if c.kind in ("added", "moved", "reassigned") and c.visit_id in starts
    }


def test_a_re_plan_at_teatime_places_nothing_before_now(sick_tuesday: tuple[str, str]) -> None:
    """Re-planned from Tuesday at 16:00 (London), after the after-school visits began: every
    visit placed starts at 16:00 or later (the sick worker's visit is not handed over at its
    15:30 start: its child is seen in the other home on Wednesday instead), and the
    colleagues' visits published for earlier on Tuesday are kept as they were; the same
    re-plan with no clock (whole days) does place visits before 16:00 on Tuesday, so the
    limit is what keeps them out."""
    url, sick = sick_tuesday
    store = Store(url)
    published = store.current_plan()
    assert published is not None
    teatime = datetime.combine(TUESDAY, time(16, 0), tzinfo=LONDON)
    params = service.solve_params(0.5, 0)
    report = service.propose_replan(store, params, today=TUESDAY, now=teatime, processes=1)
    placed = _placed(report)
    assert placed
    assert all(start >= teatime for start in placed.values()), placed
    assert sick not in {v.id for v in report.plan.visits if v.start < teatime}
    assert report.before_now == ()
    kept_morning = {
        v.id: (v.start, v.worker_id)
        for v in published.visits
        if v.day == TUESDAY and v.start < teatime and v.id not in (*placed, sick)
    }
    after = {v.id: (v.start, v.worker_id) for v in report.plan.visits}
    assert kept_morning
    assert all(after.get(k) == was for k, was in kept_morning.items())
    whole_days = service.propose_replan(store, params, today=TUESDAY, processes=1)
    assert _placed(whole_days)[sick] < teatime, "handed over at its published time"


def test_a_re_plan_just_after_midnight_is_the_whole_day_re_plan(
    sick_tuesday: tuple[str, str],
) -> None:
    """The edge: at 00:01 on Tuesday the whole working day is ahead, so the re-plan is the
    same as one that plans whole days."""
    store = Store(sick_tuesday[0])
    params = service.solve_params(0.5, 0)
    just_after = datetime.combine(TUESDAY, time(0, 1), tzinfo=LONDON)
    report = service.propose_replan(store, params, today=TUESDAY, now=just_after, processes=1)
    whole_days = service.propose_replan(store, params, today=TUESDAY, processes=1)
    assert report.before_now == ()
    assert report.plan == whole_days.plan


@pytest.mark.parametrize(
    ("first", "now", "expected"),
    [
        (TUESDAY, datetime(2026, 11, 30, 23, 59, tzinfo=UTC), None),  # the day before
        (TUESDAY, datetime(2026, 12, 1, 14, 0, tzinfo=UTC), (0, 14 * 60)),
        (TUESDAY, datetime(2026, 12, 1, 14, 1, tzinfo=UTC), (0, 14 * 60 + 15)),  # next start
        (TUESDAY, datetime(2026, 12, 2, 9, 0, tzinfo=UTC), (1, 9 * 60)),  # from a past day
        (date(2027, 4, 1), datetime(2027, 4, 1, 13, 0, tzinfo=UTC), (0, 14 * 60)),  # BST
        (TUESDAY, None, None),
    ],
)
def test_now_is_the_next_start_on_the_grain_in_uk_time(
    first: date, now: datetime | None, expected: tuple[int, int] | None
) -> None:
    """The moment of a re-plan as (day, minute) of the plan's days, in the authority's time."""
    days = [first + timedelta(days=i) for i in range(14)]
    assert not_before_index(now, LONDON, days) == expected


def _problem(previous: tuple[PreviousVisit, ...]) -> Problem:
    """Two workers; one household that may be seen 09:00-20:00 on days 0-2 by either."""
    shifts = tuple(Shift(day=d, start_min=9 * 60, end_min=21 * 60) for d in range(3))
    option = {
        d: TaskDay(day=d, duration_min=60, windows=((540, 1200),), resources=(0, 1))
        for d in range(3)
    }
    return Problem(
        horizon_days=3,
        window_days=3,
        travel_min=((0, 10, 10), (10, 0, 10), (10, 10, 0)),
        resources=(
            Resource(id="w0", location=0, shifts=shifts),
            Resource(id="w1", location=1, shifts=shifts[1:]),  # away on day 0
        ),
        tasks=(Task(id="h", location=2, days=tuple(option.values())),),
        previous=previous,
    )


def _published(day: int, worker: int) -> PreviousVisit:
    return PreviousVisit(task=0, day=day, resource=worker, start_min=570, duration_min=60)


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        # Nothing published: the ranges start at noon on day 1; day 0 is gone.
        ((), {1: ((720, 1200),), 2: ((540, 1200),)}),
        # Published 09:30 on day 1 with a worker who can make it: that start stays possible.
        ((_published(1, 0),), {1: ((570, 570), (720, 1200)), 2: ((540, 1200),)}),
        # Published 09:30 on day 0, a day gone, and its worker can make it: only that start.
        ((_published(0, 0),), {0: ((570, 570),), 1: ((720, 1200),), 2: ((540, 1200),)}),
    ],
    ids=["nothing-published", "published-today", "published-a-day-gone"],
)
def test_the_days_and_times_gone_are_taken_from_stage_1(
    previous: tuple[PreviousVisit, ...], expected: dict[int, tuple[tuple[int, int], ...]]
) -> None:
    """Re-planned on day 1 at noon: stage 1 sees only the times ahead, and a published visit's
    own start where its worker can still make it, so it books nothing stage 2 must cut."""
    problem = from_now(_problem(previous), (1, 720))
    assert {o.day: o.windows for o in problem.tasks[0].days} == expected
    assert problem.not_before == (1, 720)


def test_a_published_visit_whose_worker_is_away_keeps_no_time_gone_by() -> None:
    """The edge: published 09:30 on day 1 with the worker away that day (not among the day's
    leads): the visit cannot stay, so only the times after noon remain."""
    base = _problem((_published(1, 1),))
    day1 = base.tasks[0].days[1].model_copy(update={"resources": (0,)})
    days = (base.tasks[0].days[0], day1, base.tasks[0].days[2])
    problem = base.model_copy(update={"tasks": (base.tasks[0].model_copy(update={"days": days}),)})
    windows = {o.day: o.windows for o in from_now(problem, (1, 720)).tasks[0].days}
    assert windows[1] == ((720, 1200),)
