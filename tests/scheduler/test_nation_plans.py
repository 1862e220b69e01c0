"""End to end for the Welsh and Scottish bases: a real CP-SAT solve of a one-child authority
and the independent checker's verdict, on the nation's bank holidays. Rule: no network."""

from __future__ import annotations

from datetime import date

import pytest

from policies import Period
from scheduler.check import check_plan
from scheduler.domain import Child, ChildEvents, PlanFrequency
from scheduler.planning import plan_scenario
from tests.scheduler.test_planning import (
    PARAMS,
    make_child,
    make_household,
    make_scenario,
    make_worker,
    seen_on,
)


def _plan(authority: str, child: Child, last_seen: date, start: date) -> tuple[set[date], set[str]]:
    """The visit days and breached rules of a two-week plan from `start`, after the checker
    found nothing wrong with it."""
    scenario = make_scenario(
        [child], [make_household()], [make_worker()], [seen_on(child, last_seen)], authority
    )
    scenario = scenario.model_copy(update={"as_of": start})
    plan = plan_scenario(scenario, start, weeks=2, lookahead_weeks=1, params=PARAMS)
    report = check_plan(scenario, plan)
    assert not report.hard, report.hard
    return {v.day for v in plan.visits}, {b.rule_id for b in plan.breaches}


@pytest.mark.parametrize(
    ("last_seen", "latest"),
    [
        pytest.param(date(2026, 12, 18), date(2027, 1, 6), id="christmas-due-wed-6-jan"),
        pytest.param(date(2027, 3, 18), date(2027, 4, 5), id="easter-due-mon-5-apr"),
    ],
)
def test_welsh_cp_child_planned_within_10_working_days(last_seen: date, latest: date) -> None:
    """A Welsh CP child is visited by the 10th working day, never on a Welsh bank holiday
    (two weeks from Mon 4 Jan 2027; from Mon 29 Mar 2027, Easter Monday)."""
    start = date(2027, 1, 4) if latest.month == 1 else date(2027, 3, 29)
    days, breached = _plan("wales", make_child(), last_seen, start)
    assert days
    assert min(days) <= latest
    assert date(2027, 3, 29) not in days
    assert "wls_cp_every_10_working_days" not in breached


def test_scottish_plan_frequency_skips_st_andrews_day() -> None:
    """A Scottish CP child whose conference set 10 working days, seen Mon 23 Nov 2026, is due
    Tue 8 Dec (St Andrew's Day skipped); the plan from Mon 30 Nov makes no visit that day."""
    child = make_child().model_copy(
        update={
            "events": ChildEvents(plan_start=date(2026, 9, 1)),
            "frequency": PlanFrequency(every=Period(amount=10, unit="working_days")),
        }
    )
    days, breached = _plan("scotland", child, date(2026, 11, 23), date(2026, 11, 30))
    assert days
    assert date(2026, 11, 30) not in days
    assert min(days) <= date(2026, 12, 8)
    assert not breached
