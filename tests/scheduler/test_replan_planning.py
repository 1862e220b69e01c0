"""Re-planning end to end with the CP-SAT planner: absences, a failed visit, a new placement.

Each re-plan is checked by the independent checker, and the disruption is measured against
the published plan: only the visits that had to change change when the team has capacity.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta

import pytest

from scheduler.check import check_plan
from scheduler.domain import (
    Absence,
    Child,
    ChildEvents,
    Household,
    Plan,
    Scenario,
    SchoolTerm,
    Visit,
    VisitRecord,
)
from scheduler.generate import generate
from scheduler.outcomes import as_planned
from scheduler.planning import plan_scenario
from scheduler.replan import ReplanReport, cp_sat_planner, replan
from solver import SolveParams

MONDAY = date(2026, 11, 30)
PARAMS = SolveParams(time_limit_s=3, seed=0, num_workers=2, deterministic=True)


def replan_with_log(scenario: Scenario, plan: Plan, from_date: date) -> tuple[ReplanReport, str]:
    """The re-plan and the planner's progress messages."""
    log: list[str] = []

    planner = cp_sat_planner(PARAMS, log.append)

    return replan(scenario, plan, from_date, planner), "\n".join(log)


def with_absences(scenario: Scenario, *absences: Absence) -> Scenario:
    return scenario.model_copy(update={"absences": (*scenario.absences, *absences)})


def assert_checked(scenario: Scenario, report: ReplanReport) -> None:
    verdict = check_plan(as_planned(scenario, report.plan), report.plan)
    assert verdict.ok, [v.message for v in verdict.hard][:5]


def by_id(visits: Sequence[Visit]) -> dict[str, Visit]:
    return {v.id: v for v in visits if v.status == "planned"}


@pytest.fixture(scope="module")
def small() -> tuple[Scenario, Plan]:
    """A generated S authority (one team of 8) and its published one-week plan."""
    scenario = generate("S", seed=1, start=MONDAY)
    return scenario, plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS)


def busiest(plan: Plan, first: date, last: date) -> tuple[str, int]:
    load = Counter(v.worker_id for v in plan.visits if first <= v.day <= last)
    return load.most_common(1)[0]


def test_nothing_changed_keeps_the_plan_without_solving(small: tuple[Scenario, Plan]) -> None:
    """Re-planning with no new fact keeps every published visit verbatim and skips the solve."""
    scenario, plan = small
    report, log = replan_with_log(scenario, plan, MONDAY)
    assert report.changes == ()
    assert "published visits kept" in log
    assert "OPTIMAL" not in log
    assert "FEASIBLE" not in log
    assert_checked(scenario, report)


def test_three_day_absence_moves_only_the_absent_workers_visits(
    small: tuple[Scenario, Plan],
) -> None:
    """One worker off Tuesday to Thursday: colleagues take exactly those visits, nothing else."""
    scenario, plan = small
    first, last = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
    worker, count = busiest(plan, first, last)
    scenario = with_absences(
        scenario, Absence(worker_id=worker, start=first, end=last, reason="sickness")
    )
    report, log = replan_with_log(scenario, plan, MONDAY)
    assert_checked(scenario, report)
    assert "repaired in" in log  # the fast path: published visits fixed, the rest placed
    assert report.affected_visits == count
    assert report.forced_changes == count
    # Present workers' published visits stay with their worker on their day; other changes
    # can only be visits added, or a visit re-timed that day to make room for one taken over.
    others = [c for c in report.changes if not c.forced]
    assert all(c.kind in ("added", "moved") for c in others)
    assert all(
        c.start_before[:10] == c.start_after[:10]
        for c in others
        if c.kind == "moved" and c.start_before and c.start_after
    )
    assert len(others) <= count
    # Nothing lands on the absent worker while away (after it, their own visit may wait).
    assert not [
        c
        for c in report.changes
        if c.worker_after == worker
        and c.start_after
        and first <= date.fromisoformat(c.start_after[:10]) <= last
    ]
    after = by_id(report.plan.visits)
    for visit in plan.visits:
        if not (visit.worker_id == worker and first <= visit.day <= last):
            kept = after[visit.id]
            assert (kept.worker_id, kept.day) == (visit.worker_id, visit.day)
    assert not report.at_risk


def test_half_the_team_away_for_a_day(small: tuple[Scenario, Plan]) -> None:
    """Half the workers off on Wednesday: their visits are covered or moved, all checked."""
    scenario, plan = small
    wednesday = MONDAY + timedelta(days=2)
    workers = sorted(w.id for w in scenario.workers)[::2]
    scenario = with_absences(
        scenario,
        *(Absence(worker_id=w, start=wednesday, end=wednesday, reason="training") for w in workers),
    )
    report, _log = replan_with_log(scenario, plan, MONDAY)
    assert_checked(scenario, report)
    affected = sum(1 for v in plan.visits if v.worker_id in workers and v.day == wednesday)
    assert report.affected_visits == affected
    assert report.forced_changes == affected
    # Nobody absent on Wednesday keeps a Wednesday visit.
    assert not [v for v in report.plan.visits if v.worker_id in workers and v.day == wednesday]
    assert report.other_changes <= affected
    # Visits on other days than Wednesday stay where they were unless one had to make room.
    moved_elsewhere = [
        c
        for c in report.changes
        if not c.forced and c.start_before and c.start_before[:10] != str(wednesday)
    ]
    assert len(moved_elsewhere) <= affected


def completed(visit: Visit, child_id: str) -> VisitRecord:
    return VisitRecord(
        id=f"r-{visit.id}-{child_id}",
        child_id=child_id,
        household_id=visit.household_id,
        on=visit.day,
        start=visit.start.timetz().replace(tzinfo=None),
        worker_id=visit.worker_id,
        outcome="completed",
        at_home=True,
        announced=visit.announced,
        visit_id=visit.id,
    )


def part_of_day(hour: int) -> str:
    return "morning" if hour < 12 else "afternoon" if hour < 17 else "evening"


@pytest.mark.slow
def test_failed_child_protection_visit_is_retried_at_another_time(
    small: tuple[Scenario, Plan],
) -> None:
    """A failed morning CP visit: retried inside the 48-hour window, in the afternoon.

    The week is made a school holiday (term ended Fri 27 Nov): in term time school-age
    children are seen after school (issue 10), so this week's CP visits would all be in the
    afternoon, and a retry could move to the evening only where a worker's day reaches it
    (tests/scheduler/test_rules_planned.py covers that).
    """
    scenario, _term_plan = small
    term = SchoolTerm(start=date(2026, 9, 3), end=date(2026, 11, 27))
    authority = scenario.authority.model_copy(update={"school_terms": (term,)})
    scenario = scenario.model_copy(update={"authority": authority})
    plan = plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS)
    categories = {c.id: c.category for c in scenario.children}
    failed = next(
        v
        for v in sorted(plan.visits, key=lambda v: v.start)
        if v.day < MONDAY + timedelta(days=4)
        and v.start.hour < 12  # a morning visit: the afternoon is open for the retry
        and v.due is not None
        and v.due > v.day  # not on its deadline: a retry the next day can still be in time
        and any(categories[c] == "child-protection" for c in v.child_ids)
    )
    records = [completed(v, c) for v in plan.visits if v.day <= failed.day for c in v.child_ids]
    records = [r for r in records if r.visit_id != failed.id]
    records += [
        r.model_copy(update={"id": f"{r.id}-f", "outcome": "failed"})
        for r in (completed(failed, c) for c in failed.child_ids)
    ]
    scenario = scenario.model_copy(update={"records": (*scenario.records, *records)})
    next_day = failed.day + timedelta(days=1)
    report, _log = replan_with_log(scenario, plan, next_day)
    assert_checked(scenario, report)
    retry = [
        v
        for v in report.plan.visits
        if v.household_id == failed.household_id and v.status == "planned"
    ]
    assert retry, "the failed visit is retried"
    first = min(retry, key=lambda v: v.start)
    # North Somerset: a failed CP visit is retried within 48 hours.
    assert first.day <= failed.day + timedelta(days=2)
    assert part_of_day(first.start.hour) != part_of_day(failed.start.hour)
    assert not [b for b in report.at_risk if b.child_id in failed.child_ids]


def test_new_placement_is_planned_by_its_first_visit_deadline(
    small: tuple[Scenario, Plan],
) -> None:
    """A child placed last Thursday (seen within a week: by this Thursday) gets a first visit
    in time; the rest of the plan barely moves."""
    scenario, plan = small
    home = scenario.households[0]
    household = Household(
        id="h-new", area=home.area, lat=home.lat, lon=home.lon, team_id=home.team_id
    )
    child = Child(
        id="c-new",
        case_ref="CR-NEW",
        birth_date=date(2019, 5, 1),
        category="child-in-care",
        placement_type="foster",
        events=ChildEvents(placement_start=MONDAY - timedelta(days=4)),
        household_ids=("h-new",),
    )
    scenario = scenario.model_copy(
        update={
            "households": (*scenario.households, household),
            "children": (*scenario.children, child),
        }
    )
    report, _log = replan_with_log(scenario, plan, MONDAY)
    assert_checked(scenario, report)
    visits = [v for v in report.plan.visits if v.household_id == "h-new"]
    assert visits
    assert min(v.day for v in visits) <= MONDAY + timedelta(days=3)
    assert not [b for b in report.plan.breaches if b.child_id == "c-new"]
    added = [c for c in report.changes if c.household_id == "h-new"]
    assert [c.kind for c in added][:1] == ["added"]
    assert report.other_changes - len(added) <= 2


@pytest.mark.slow
def test_three_day_absence_in_an_m_authority_resolves_one_team() -> None:
    """M (17 teams): one worker off 3 days; only their team is re-solved, others kept."""
    scenario = generate("M", seed=0, start=MONDAY)
    quick = SolveParams(time_limit_s=1, seed=0, num_workers=2)
    plan = plan_scenario(scenario, MONDAY, weeks=1, params=quick)
    first, last = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
    worker, count = busiest(plan, first, last)
    scenario = with_absences(
        scenario, Absence(worker_id=worker, start=first, end=last, reason="sickness")
    )
    report, log = replan_with_log(scenario, plan, MONDAY)
    assert_checked(scenario, report)
    assert log.count("re-planned: ") == 1, "only the absent worker's team is re-solved"
    assert log.count("re-planned around the changes") == 1
    assert report.forced_changes == count
    assert report.forced_changes + report.other_changes <= 1.5 * count + 5


def test_absence_unrelated_to_published_visits_changes_nothing(
    small: tuple[Scenario, Plan],
) -> None:
    """An absence on a day the worker has no visit leaves the plan as it is."""
    scenario, plan = small
    busy = {(v.worker_id, v.day) for v in plan.visits}
    worker = next(w.id for w in scenario.workers if (w.id, MONDAY + timedelta(days=4)) not in busy)
    friday = MONDAY + timedelta(days=4)
    scenario = with_absences(
        scenario, Absence(worker_id=worker, start=friday, end=friday, reason="court")
    )
    report, _log = replan_with_log(scenario, plan, MONDAY)
    assert_checked(scenario, report)
    assert report.forced_changes == 0
    assert report.other_changes == 0
