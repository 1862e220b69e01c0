"""A re-plan made during the day names the visits it places earlier than now.

The planner knows days, not the time of day it runs at: a worker off sick from this
morning, re-planned at teatime, has their visits handed over at the times they had, which
have passed. The report says which (`before_now`), so the manager is told, not misled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler import service
from scheduler.domain import Absence
from scheduler.replan import VisitChange, placed_before
from scheduler.store import Store

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


@pytest.mark.parametrize("late", [False, True], ids=["just-after-midnight", "after-it-all"])
def test_a_sick_day_re_planned_names_what_it_places_before_now(planned: str, late: bool) -> None:
    """The Tuesday visit's worker is off sick on Tuesday; re-planned from Tuesday. With the
    clock just after Tuesday's midnight nothing is placed before now; with a clock after
    the plan's end, every visit the re-plan places is named (the plan is the same either
    way: the clock only reads it)."""
    store = Store(planned)
    plan = store.current_plan()
    assert plan is not None
    tuesday = next(v for v in plan.visits if v.day == TUESDAY)
    absent = Absence(worker_id=tuesday.worker_id, start=TUESDAY, end=TUESDAY, reason="sickness")
    service.add_absences(store, [absent], by="sam", now=datetime(2026, 12, 1, 8, tzinfo=UTC))
    now = (
        datetime.combine(plan.end, time(23, 59), tzinfo=LONDON)
        if late
        else datetime.combine(TUESDAY, time(0, 1), tzinfo=LONDON)
    )
    params = service.solve_params(2, 0)
    report = service.propose_replan(store, params, today=TUESDAY, now=now, processes=1)
    placed = {c.visit_id for c in report.changes if c.kind in ("added", "moved", "reassigned")}
    assert tuesday.id in placed, "the sick worker's visit is placed again"
    assert set(report.before_now) == (placed if late else set())
    without = service.propose_replan(store, params, today=TUESDAY, processes=1)
    assert without.before_now == ()
    assert without.plan == report.plan
