"""Re-plans keep pinned visits (moved or pinned by hand) unless their worker is away.

Real CP-SAT plans of a generated S authority; every re-plan is checked by the checker.
tests/solver/test_pins.py has the solver's edge pairs (a pin kept where an unpinned visit
would be moved, a pin released when its worker is away or busy).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from policies import load_pack
from scheduler.domain import Absence, Plan, Scenario, Visit
from scheduler.fingerprint import team_inputs
from scheduler.generate import generate
from scheduler.planning import plan_scenario
from tests.scheduler.test_replan_planning import (
    MONDAY,
    PARAMS,
    assert_checked,
    busiest,
    by_id,
    replan_with_log,
    with_absences,
)


@pytest.fixture(scope="module")
def small() -> tuple[Scenario, Plan]:
    """A generated S authority (one team of 8) and its published one-week plan."""
    scenario = generate("S", seed=1, start=MONDAY)
    return scenario, plan_scenario(scenario, MONDAY, weeks=1, params=PARAMS)


def pin(plan: Plan, *visits: Visit) -> Plan:
    """The plan with these visits pinned (as `visit pin` stores them)."""
    ids = {v.id for v in visits}
    return plan.model_copy(
        update={
            "visits": tuple(
                v.model_copy(update={"pinned": True}) if v.id in ids else v for v in plan.visits
            )
        }
    )


def test_pinned_visits_stay_pinned_and_in_place_through_a_repair(
    small: tuple[Scenario, Plan],
) -> None:
    """A worker off Tuesday to Thursday: every pinned visit of the others keeps its day,
    workers, start and announced status, and is still pinned in the re-plan."""
    scenario, plan = small
    first, last = MONDAY + timedelta(days=1), MONDAY + timedelta(days=3)
    worker, _count = busiest(plan, first, last)
    others = [v for v in plan.visits if worker not in (v.worker_id, v.second_worker_id)]
    pinned = pin(plan, *others[::2])
    scenario = with_absences(
        scenario, Absence(worker_id=worker, start=first, end=last, reason="sickness")
    )
    report, _log = replan_with_log(scenario, pinned, MONDAY)
    assert_checked(scenario, report)
    after = by_id(report.plan.visits)
    for visit in others[::2]:
        kept = after[visit.id]
        assert kept.pinned
        assert (kept.day, kept.worker_id, kept.second_worker_id, kept.start, kept.announced) == (
            visit.day,
            visit.worker_id,
            visit.second_worker_id,
            visit.start,
            visit.announced,
        )
    assert not [c for c in report.changes if c.visit_id in {v.id for v in others[::2]}]


def test_a_pin_on_an_absent_workers_day_is_released_and_said_so(
    small: tuple[Scenario, Plan],
) -> None:
    """The worker of a pinned visit (after Monday) is off that day: the visit changes (forced),
    the reason says the pin could not hold, and the new visit is not pinned."""
    scenario, plan = small
    visit = next(v for v in plan.visits if v.day > MONDAY and v.second_worker_id is None)
    day = visit.day
    pinned = pin(plan, visit)
    scenario = with_absences(
        scenario,
        Absence(worker_id=visit.worker_id, start=day, end=day, reason="training"),
    )
    report, _log = replan_with_log(scenario, pinned, MONDAY)
    assert_checked(scenario, report)
    [change] = [c for c in report.changes if c.visit_id == visit.id]
    assert change.forced
    assert "pin could not hold" in change.reason
    assert "training" in change.reason
    after = by_id(report.plan.visits).get(visit.id)
    assert (
        after is None
        or (not after.pinned and after.worker_id != visit.worker_id)
        or (not after.pinned and after.day != day)
    )


def test_an_unpinned_twin_of_the_released_visit_has_no_pin_reason(
    small: tuple[Scenario, Plan],
) -> None:
    """The same absence with the visit not pinned: forced, but no word about a pin."""
    scenario, plan = small
    visit = next(v for v in plan.visits if v.day > MONDAY and v.second_worker_id is None)
    day = visit.day
    scenario = with_absences(
        scenario,
        Absence(worker_id=visit.worker_id, start=day, end=day, reason="training"),
    )
    report, _log = replan_with_log(scenario, plan, MONDAY)
    [change] = [c for c in report.changes if c.visit_id == visit.id]
    assert change.forced
    assert "pin" not in change.reason


def test_fingerprints_include_pins_but_not_what_a_plan_rewrites(
    small: tuple[Scenario, Plan],
) -> None:
    """A pin changes the team's fingerprint (so a re-plan cannot keep the team untranslated
    from before the pin); the same pin under another id and checklist does not."""
    scenario, plan = small
    pack = load_pack(scenario.authority.id)
    visit = plan.visits[0].model_copy(update={"pinned": True})
    renamed = visit.model_copy(update={"id": "v-other", "checklist": ("something else",)})
    moved = visit.model_copy(update={"start": visit.start + timedelta(minutes=15)})
    none = team_inputs(scenario, pack, MONDAY, 1, 4)
    one = team_inputs(scenario, pack, MONDAY, 1, 4, [visit])
    assert one != none
    assert team_inputs(scenario, pack, MONDAY, 1, 4, [renamed]) == one
    assert team_inputs(scenario, pack, MONDAY, 1, 4, [moved]) != one
