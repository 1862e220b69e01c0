"""A re-plan's horizon ends exactly where the published plan ends (days, not whole weeks),
with the look-ahead after it: nothing due after the plan is pulled into it.

Real CP-SAT plans of generated S authorities.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from scheduler.domain import Plan, Scenario, Visit
from scheduler.generate import generate
from scheduler.planning import plan_scenario
from scheduler.replan import cp_sat_planner, replan
from tests.scheduler.test_replan_planning import MONDAY, PARAMS, assert_checked

TUESDAY = MONDAY + timedelta(days=1)
SUNDAY_13 = MONDAY + timedelta(days=13)


@pytest.fixture(scope="module")
def fortnight() -> tuple[Scenario, Plan]:
    """A generated S authority and its two-week plan, Mon 30 Nov to Sun 13 Dec."""
    scenario = generate("S", seed=0, start=MONDAY)
    return scenario, plan_scenario(scenario, MONDAY, weeks=2, params=PARAMS)


def test_a_plan_of_days_ends_on_its_last_day() -> None:
    """`days=12` from a Tuesday plans Tue 1 to Sun 12 Dec: the plan ends there, its look-ahead
    starts the next day, and no visit lies after the end; 13 days reach the Sunday."""
    scenario = generate("S", seed=0, start=MONDAY)
    for days, end in ((12, SUNDAY_13 - timedelta(days=1)), (13, SUNDAY_13)):
        plan = plan_scenario(scenario, TUESDAY, weeks=2, days=days, params=PARAMS)
        assert plan.end == end
        assert plan.lookahead_end == end + timedelta(weeks=4)
        assert max(v.day for v in plan.visits) <= end
        assert not [b for b in plan.breaches if b.due > end]


def test_a_tuesday_replan_plans_to_the_published_end(fortnight: tuple[Scenario, Plan]) -> None:
    """Re-planning a Mon 30 Nov - Sun 13 Dec plan from Tuesday asks for 13 days, to Sun 13 Dec
    (not two weeks to Mon 14 Dec), and nothing new on Tuesday: Monday assumed made, the plan
    stands."""
    scenario, plan = fortnight
    asked: list[tuple[date, int, date]] = []
    inner = cp_sat_planner(PARAMS)

    def planner(
        s: Scenario, start: date, days: int, previous: Sequence[Visit], end: date, published: Plan
    ) -> Plan:
        asked.append((start, days, end))
        return inner(s, start, days, previous, end, published)

    report = replan(scenario, plan, TUESDAY, planner)
    assert asked == [(TUESDAY, 13, SUNDAY_13)]
    assert report.plan.end == SUNDAY_13
    assert_checked(scenario, report)
    surplus = [
        c
        for c in report.changes
        if c.kind == "added"
        and all(
            r.due > SUNDAY_13 for v in report.plan.visits if v.id == c.visit_id for r in v.reasons
        )
    ]
    assert surplus == [], "no visit is added for a deadline after the published end"
    assert report.changes == ()
