"""The greedy baseline planner: earliest deadline first, and always a plan the checker accepts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any

import pytest

from policies.models import Pack
from scheduler.baseline import plan_greedy
from scheduler.check import check_plan
from scheduler.domain import (
    Absence,
    BusyTime,
    Child,
    FamilyWindow,
    Plan,
    Scenario,
    VisitRecord,
)
from tests.builders import (
    LONDON,
    TEST_PACK_ID,
    at,
    make_child,
    make_household,
    make_pack,
    make_record,
    make_scenario,
    make_worker,
)

PACK: Pack = make_pack()
MON = date(2026, 11, 30)
SEEN_20_NOV = [make_record(on=date(2026, 11, 20))]
"""Seen Fri 20 Nov 2026: the CP visit is next due Fri 4 Dec 2026."""


def scenario(
    children: Sequence[Child] | None = None,
    records: Sequence[VisitRecord] = SEEN_20_NOV,
    **changes: Any,
) -> Scenario:
    """One CP child aged 2 in h1, due Fri 4 Dec 2026, one social worker, the test pack."""
    children = list(children) if children is not None else [make_child()]
    return make_scenario(children=children, records=records, authority_id=TEST_PACK_ID, **changes)


def plan(scn: Scenario, start: date = MON, weeks: int = 1) -> Plan:
    """The greedy plan, asserted valid by the checker."""
    result = plan_greedy(scn, start, weeks, pack=PACK)
    report = check_plan(scn, result, PACK)
    assert report.hard == (), report.hard
    return result


def test_greedy_visits_due_child_on_first_working_day() -> None:
    """A child due in the week is visited on its first working day, at the start of the day."""
    result = plan(scenario())
    assert [v.id for v in result.visits] == ["v-h1-20261130"]
    visit = result.visits[0]
    assert visit.start == at(MON, 9)
    assert visit.start.tzinfo == LONDON
    assert visit.duration_min == 60
    assert visit.child_ids == ("c1",)
    assert "cp_every_10_working_days" in visit.rule_ids
    assert visit.due == date(2026, 12, 4)
    assert result.breaches == ()


def test_greedy_leaves_child_not_due_in_horizon() -> None:
    """A child next due after the plan is not visited."""
    result = plan(scenario(records=[make_record(on=date(2026, 11, 27))]))
    assert result.visits == ()


def test_greedy_prefers_allocated_worker() -> None:
    """The child's allocated worker visits when they can (continuity)."""
    scn = scenario(
        children=[make_child(allocated_worker="w2")], workers=[make_worker(), make_worker("w2")]
    )
    assert plan(scn).visits[0].worker_id == "w2"


def test_greedy_covers_absent_allocated_worker_from_team() -> None:
    """When the allocated worker is away all week another team worker visits in time."""
    scn = scenario(
        children=[make_child(allocated_worker="w2")],
        workers=[make_worker(), make_worker("w2")],
        absences=(Absence(worker_id="w2", start=MON, end=date(2026, 12, 6)),),
    )
    result = plan(scn)
    assert result.visits[0].worker_id == "w1"
    assert result.breaches == ()


def test_greedy_plans_chained_visit_inside_horizon() -> None:
    """After a visit on 30 Nov the next is due 14 Dec; a three-week plan visits again in time."""
    result = plan(scenario(), weeks=3)
    days = [v.day for v in result.visits]
    assert days[0] == MON
    assert len(days) == 2
    assert days[1] <= date(2026, 12, 14)
    assert result.breaches == ()


def test_greedy_reports_child_overdue_at_start() -> None:
    """A child already overdue is visited first and the missed deadline is reported."""
    result = plan(scenario(records=[make_record(on=date(2026, 11, 2))]))
    assert result.visits[0].day == MON
    (breach,) = result.breaches
    assert breach.due == date(2026, 11, 16)
    assert breach.days_late == 14
    assert breach.reason == "already overdue when the plan starts"


def test_greedy_reports_capacity_breach() -> None:
    """Two children due Monday, one visit a day: the second is visited late and reported."""
    due_monday = date(2026, 11, 16)
    scn = scenario(
        children=[make_child("c1"), make_child("c2", household_ids=("h2",))],
        households=[make_household("h1"), make_household("h2")],
        workers=[make_worker(max_visits_per_day=1)],
        records=[make_record("c1", on=due_monday), make_record("c2", on=due_monday)],
    )
    result = plan(scn)
    assert [v.day for v in result.visits] == [MON, MON + timedelta(days=1)]
    (breach,) = result.breaches
    assert breach.due == MON
    assert breach.days_late == 1
    assert breach.reason.startswith("capacity")


def test_greedy_reports_no_qualified_worker() -> None:
    """A CP child with only a family support worker in the team cannot be seen in time."""
    scn = scenario(
        workers=[make_worker(role="family-support-worker")],
        records=[make_record(on=date(2026, 11, 20), worker_id=None)],
    )
    result = plan(scn)
    assert result.visits == ()
    (breach,) = result.breaches
    assert breach.days_late is None
    assert breach.reason == "no qualified worker in the team"


def test_greedy_skips_bank_holiday() -> None:
    """Monday 28 December 2026 is a bank holiday: the first visit is on Tuesday 29th."""
    child = make_child(plan_start=date(2026, 11, 1))
    result = plan(
        scenario(children=[child], records=[make_record(on=date(2026, 12, 14))]),
        start=date(2026, 12, 28),
    )
    assert [v.day for v in result.visits] == [date(2026, 12, 29)]


def test_greedy_marks_visit_unannounced_when_due() -> None:
    """Plan started 1 Sep: the 3-monthly unannounced visit is due 1 Dec, so this one is."""
    result = plan(scenario(children=[make_child(plan_start=date(2026, 9, 1))]))
    assert result.visits[0].announced is False
    assert result.breaches == ()


def test_greedy_visit_is_announced_otherwise() -> None:
    """Without an unannounced deadline in the horizon visits are announced."""
    assert plan(scenario()).visits[0].announced is True


def test_greedy_joint_visit_gets_second_worker() -> None:
    """A joint-visit household is visited by two workers at once, never with a student."""
    scn = scenario(
        households=[make_household(joint_visit=True)],
        workers=[make_worker(), make_worker("w2", role="student"), make_worker("w3")],
    )
    visit = plan(scn).visits[0]
    assert {visit.worker_id, visit.second_worker_id} == {"w1", "w3"}


def test_greedy_visits_school_age_child_after_school() -> None:
    """A school-age child is visited from 15:30 on a school day, with a seen-alone checklist."""
    result = plan(scenario(children=[make_child(birth_date=date(2018, 5, 1))]))
    visit = result.visits[0]
    assert visit.start == at(MON, 15, 30)
    assert "seen-alone" in visit.checklist


def test_greedy_retries_at_a_different_time_of_day() -> None:
    """After a failed morning visit the retry is planned for the afternoon."""
    records = [
        *SEEN_20_NOV,
        make_record(on=date(2026, 11, 27), outcome="failed", start=time(10, 0), record_id="f1"),
    ]
    visit = plan(scenario(records=records)).visits[0]
    assert visit.start == at(MON, 12)


def test_greedy_fits_family_window() -> None:
    """A family that can only be seen on Thursday afternoons is seen then."""
    window = FamilyWindow(weekday=3, start=time(13, 0), end=time(15, 0))
    visit = plan(scenario(households=[make_household(windows=(window,))])).visits[0]
    assert visit.start == at(date(2026, 12, 3), 13)


def test_greedy_avoids_busy_time() -> None:
    """A visit starts after the worker's calendar commitment."""
    busy = BusyTime(worker_id="w1", start=at(MON, 9), end=at(MON, 10, 20))
    visit = plan(scenario(busy=(busy,))).visits[0]
    assert visit.start == at(MON, 10, 30)


def test_greedy_covers_siblings_in_one_visit() -> None:
    """One visit covers every child of the household, longer for each extra child seen alone."""
    older = [
        make_child("c1", birth_date=date(2019, 1, 1)),
        make_child("c2", birth_date=date(2020, 1, 1), category="early-help"),
    ]
    records = [make_record("c1", on=date(2026, 11, 20)), make_record("c2", on=date(2026, 11, 20))]
    visit = plan(scenario(children=older, records=records)).visits[0]
    assert visit.child_ids == ("c1", "c2")
    assert visit.duration_min == 75


@pytest.mark.parametrize("seed", [0, 1])
def test_greedy_plan_of_generated_authority_passes_checker(seed: int) -> None:
    """On a generated small authority the greedy plan breaks no rule and reports every breach."""
    generate = pytest.importorskip("scheduler.generate").generate
    scn = generate("S", seed=seed)
    result = plan_greedy(scn, MON, weeks=2)
    report = check_plan(scn, result)
    assert report.hard == ()
    assert report.warnings == ()
    assert result.visits
