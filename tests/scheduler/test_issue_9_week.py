"""Issue 9: a week that holds. A manager's Tuesday on a real SQLite store, real CP-SAT solves.

Monday's visits were planned; on Tuesday morning the busiest worker phones in sick until
Thursday, and Monday's outcomes are not recorded yet. The re-plan must move only what the
absence forces, and say what it assumed about Monday.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from scheduler import service
from scheduler.check import check_plan
from scheduler.domain import Absence, Plan, Scenario, SchoolTerm
from scheduler.errors import InputError, StaleError
from scheduler.generate import generate
from scheduler.outcomes import as_planned
from scheduler.planning import plan_scenario
from scheduler.replan import ReplanReport
from scheduler.store import Store
from solver import SolveParams

pytestmark = pytest.mark.slow  # a week of real solves on a shared store (~2 min)

MONDAY = date(2026, 11, 30)
TUESDAY = MONDAY + timedelta(days=1)
WEDNESDAY = MONDAY + timedelta(days=2)
THURSDAY = MONDAY + timedelta(days=3)
NOW = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
PARAMS = SolveParams(time_limit_s=2, seed=0, num_workers=1, deterministic=True)


@pytest.fixture(scope="module")
def published() -> tuple[Scenario, Plan]:
    """A generated S authority and its two-week plan from Monday.

    The fortnight is a school holiday (its term ended Fri 27 Nov), so the week has morning
    visits to retry in the afternoon and a full Monday to record: in term time school-age
    children are seen after school (issue 10), which tests/scheduler/test_rules_planned.py
    covers.
    """
    scenario = generate("S", seed=3, start=MONDAY)
    term = SchoolTerm(start=date(2026, 9, 3), end=date(2026, 11, 27))
    authority = scenario.authority.model_copy(update={"school_terms": (term,)})
    scenario = scenario.model_copy(update={"authority": authority})
    return scenario, plan_scenario(scenario, MONDAY, weeks=2, params=PARAMS)


@pytest.fixture
def store(tmp_path: Path, published: tuple[Scenario, Plan]) -> Store:
    """The published plan in a fresh SQLite store."""
    scenario, plan = published
    store = Store(f"sqlite:///{tmp_path / 'week.db'}")
    store.replace_caseload(scenario)
    store.save_plan(plan, NOW - timedelta(days=2), by="manager")
    return store


def sick_busiest(store: Store) -> tuple[str, int]:
    """The busiest worker of Tuesday to Thursday is off sick; (worker, their visits, as first
    or second worker)."""
    plan = store.current_plan()
    assert plan is not None
    days = [v for v in plan.visits if TUESDAY <= v.day <= THURSDAY]
    worker = Counter(v.worker_id for v in days).most_common(1)[0][0]
    count = sum(1 for v in days if worker in (v.worker_id, v.second_worker_id))
    store.add_absence(
        Absence(worker_id=worker, start=TUESDAY, end=THURSDAY, reason="sickness"), by="manager"
    )
    return worker, count


def propose(store: Store, **options: object) -> ReplanReport:
    return service.propose_replan(store, PARAMS, today=TUESDAY, **options)  # type: ignore[arg-type]


def assert_checked(store: Store, report: ReplanReport) -> None:
    """The independent checker accepts the proposal under its own assumptions."""
    verdict = check_plan(as_planned(store.read_scenario(), report.plan), report.plan)
    assert verdict.ok, [v.message for v in verdict.hard][:5]


def monday_visits(store: Store) -> list[str]:
    plan = store.current_plan()
    assert plan is not None
    return sorted(v.id for v in plan.visits if v.day == MONDAY)


def test_tuesday_with_monday_unrecorded_moves_only_what_the_absence_forces(store: Store) -> None:
    """Monday is assumed made and said so; the change count stays within 1.5 x affected + 5,
    no breach is added that the absence does not force, and the checker accepts it."""
    worker, count = sick_busiest(store)
    report = propose(store)
    assert report.from_date == TUESDAY  # later of today and the plan's start
    assert report.awaiting_visits == len(monday_visits(store))
    line = report.assumption_line()
    assert line is not None
    assert line.startswith(f"{report.awaiting_visits} visits before Tue 1 Dec have no recorded")
    assert "planned as if made" in line
    assert report.resting_on_assumption
    assert report.affected_visits == count
    assert len(report.changes) <= 1.5 * count + 5
    away = [
        c
        for c in report.changes
        if c.worker_after == worker
        and c.start_after is not None
        and TUESDAY <= datetime.fromisoformat(c.start_after).date() <= THURSDAY
    ]
    assert away == [], "nothing goes to the sick worker while they are away"
    assert report.at_risk == ()
    states = Counter(v.status for v in report.plan.visits if v.day == MONDAY)
    assert states == {"awaiting": report.awaiting_visits}
    assert "done" not in {v.status for v in report.plan.visits}
    assert_checked(store, report)


def test_recording_monday_gives_the_same_plan_as_assuming_it(store: Store) -> None:
    """Assuming Monday was made as planned and recording it so lead to the same visits."""
    sick_busiest(store)
    assumed = propose(store)
    done = service.record_day(store, MONDAY, today=TUESDAY, by="manager", now=NOW)
    assert len(done.recorded) == len(monday_visits(store))
    recorded = propose(store)
    assert recorded.awaiting_visits == 0
    assert recorded.assumption_line() is None

    def key(report: ReplanReport) -> list[tuple[str, str, str]]:
        planned = (v for v in report.plan.visits if v.status == "planned")
        return sorted((v.id, v.worker_id, v.start.isoformat()) for v in planned)

    assert key(recorded) == key(assumed)
    assert {v.status for v in recorded.plan.visits if v.day == MONDAY} == {"completed"}


def test_assume_missed_takes_the_opposite_view(store: Store) -> None:
    """With --assume-missed Monday's children are overdue again and the plan says so."""
    sick_busiest(store)
    made = propose(store)
    missed = propose(store, assume_missed=True)
    assert missed.plan.assume_missed
    assert missed.awaiting_visits == made.awaiting_visits
    line = missed.assumption_line()
    assert line is not None
    assert "planned as missed" in line
    assert missed.assumed_scenario_records == 0
    assert made.assumed_scenario_records > 0
    assert len(missed.changes) > len(made.changes)
    assert_checked(store, missed)


def test_a_failure_recorded_on_wednesday_reopens_the_clock(store: Store) -> None:
    """Tuesday's re-plan assumed a Monday visit made; Wednesday the worker records it failed:
    the next re-plan plans a retry for that household at another part of the day."""
    sick_busiest(store)
    tuesday = propose(store)
    service.apply_replan(store, tuesday, by="manager", now=NOW)
    plan = store.current_plan()
    assert plan is not None
    scenario = store.read_scenario()
    protected = {c.id for c in scenario.children if c.category == "child-protection"}
    # A household not visited again on Tuesday: a Tuesday visit (assumed made) would see the
    # child and leave nothing to retry.
    again = {v.household_id for v in plan.visits if v.day == TUESDAY}
    failed = next(
        v
        for v in sorted(plan.visits, key=lambda v: (v.start, v.id))
        if v.day == MONDAY
        and v.start.hour < 12
        and protected & set(v.child_ids)
        and v.household_id not in again
    )
    service.record_outcome(
        store, failed.id, "failed", today=WEDNESDAY, by="worker", now=NOW + timedelta(days=1)
    )
    wednesday = service.propose_replan(store, PARAMS, today=WEDNESDAY)
    assert wednesday.from_date == WEDNESDAY
    assert wednesday.awaiting_visits == tuesday.awaiting_visits - 1 + sum(
        1 for v in plan.visits if v.day == TUESDAY
    )
    retries = [
        v
        for v in wednesday.plan.visits
        if v.household_id == failed.household_id and v.status == "planned"
    ]
    assert retries, "the failed visit is retried"
    first = min(retries, key=lambda v: v.start)
    assert any("retry" in r.rule_id for r in first.reasons)
    assert (first.start.hour < 12) != (failed.start.hour < 12)
    assert_checked(store, wednesday)


def test_record_day_with_exceptions_and_again(store: Store) -> None:
    """`record --day --completed --except V`: V stays awaiting; running it again adds nothing."""
    visits = monday_visits(store)
    kept = visits[:2]
    first = service.record_day(
        store, MONDAY, today=TUESDAY, except_visits=kept, by="manager", now=NOW
    )
    assert sorted(first.recorded) == visits[2:]
    assert first.left_awaiting == tuple(kept)
    view = service.plan_view(store, TUESDAY, day=MONDAY)
    states = {row.visit_id: row.state for row in view.visits}
    assert {states[v] for v in kept} == {"awaiting"}
    assert {states[v] for v in visits[2:]} == {"completed"}
    again = service.record_day(store, MONDAY, today=TUESDAY, by="manager", now=NOW)
    assert sorted(again.recorded) == kept
    assert sorted(again.already) == visits[2:]


def test_record_day_refuses_the_future_and_unknown_exceptions(store: Store) -> None:
    """A day after today, or an --except visit that is not that day's, writes nothing."""
    revision = store.revision()
    with pytest.raises(InputError, match="on or before today"):
        service.record_day(store, WEDNESDAY, today=TUESDAY, by="m", now=NOW)
    with pytest.raises(InputError, match="--except"):
        service.record_day(store, MONDAY, today=TUESDAY, except_visits=["v-nope"], by="m", now=NOW)
    assert store.revision() == revision


def test_apply_refuses_a_proposal_the_store_has_moved_past(store: Store) -> None:
    """A record written after the proposal was made stops Apply, naming the change."""
    sick_busiest(store)
    report = propose(store)
    service.record_outcome(store, monday_visits(store)[0], "completed", today=TUESDAY, by="jo")
    before = store.current_plan()
    with pytest.raises(StaleError) as caught:
        service.apply_replan(store, report, by="manager", now=NOW)
    assert "record added" in str(caught.value)
    assert "jo" in str(caught.value)
    assert store.current_plan() == before
    fresh = propose(store)
    service.apply_replan(store, fresh, by="manager", now=NOW)
    current = store.current_plan()
    assert current is not None
    assert current.id == fresh.plan.id


def test_amend_keeps_the_earlier_version(store: Store) -> None:
    """A corrected outcome is a new version; the history keeps both."""
    visit = monday_visits(store)[0]
    service.record_outcome(store, visit, "completed", today=TUESDAY, by="jo", now=NOW)
    with pytest.raises(InputError, match="--amend"):
        service.record_outcome(store, visit, "failed", today=TUESDAY, by="jo", now=NOW)
    service.record_outcome(store, visit, "failed", amend=True, today=TUESDAY, by="sam", now=NOW)
    plan = store.current_plan()
    assert plan is not None
    child = next(v for v in plan.visits if v.id == visit).child_ids[0]
    versions = [v for v in store.record_versions(child) if v.record.visit_id == visit]
    assert [(v.version, v.record.outcome) for v in versions] == [(1, "completed"), (2, "failed")]
    assert versions[0].superseded_by == "sam"
    history = service.child_history(store, child)
    assert [e.action for e in history.changes][-2:] == ["record added", "record amended"]


def test_a_visit_recorded_not_seen_on_the_replans_first_day_is_not_kept_as_to_make(
    store: Store,
) -> None:
    """Monday: a visit is recorded not seen, then Monday's re-plan runs. The visit is history
    (its record), not a visit still to make that would meet the children's clocks: the
    re-plan plans another visit for them, and `check` on the plan before it names the
    deadline the plan no longer meets."""
    plan = store.current_plan()
    assert plan is not None
    visit = next(
        v
        for v in sorted(plan.visits, key=lambda v: (v.start, v.id))
        if v.day == MONDAY
        and not any(w.household_id == v.household_id for w in plan.visits if w.day > MONDAY)
    )
    service.record_outcome(store, visit.id, "not-seen", today=MONDAY, by="worker", now=NOW)
    _scenario, verdict = service.check_current(store)
    assert any(
        v.code == "unreported-breach" and v.child_id in visit.child_ids for v in verdict.hard
    ), "the deadline the not-seen visit was to meet is named"
    monday = service.propose_replan(store, PARAMS, today=MONDAY)
    assert monday.from_date == MONDAY
    kept = next(v for v in monday.plan.visits if v.id == visit.id)
    assert kept.status == "not-seen"
    again = [
        v
        for v in monday.plan.visits
        if v.household_id == visit.household_id and v.status == "planned"
    ]
    assert again, "the children are planned another visit"
    assert len({v.id for v in monday.plan.visits}) == len(monday.plan.visits)
    assert_checked(store, monday)


def test_a_failed_visit_of_an_overdue_child_is_retried_not_kept_as_published(
    store: Store,
) -> None:
    """An overdue child's Monday visit fails. The published plan reported the child late (seen
    Monday); keeping it would leave the child unseen, which is worse than it reported, so
    Tuesday's re-plan plans a retry (it kept the team unchanged, with a reason about free
    time that did not apply)."""
    plan = store.current_plan()
    assert plan is not None
    late = {b.child_id: b for b in plan.breaches if b.due < MONDAY and b.days_late is not None}
    visit = next(
        v
        for v in sorted(plan.visits, key=lambda v: (v.start, v.id))
        if v.day == MONDAY
        and set(v.child_ids) & set(late)
        and not any(w.household_id == v.household_id for w in plan.visits if w.day > MONDAY)
    )
    service.record_outcome(store, visit.id, "failed", today=TUESDAY, by="worker", now=NOW)
    tuesday = propose(store)
    retries = [
        v
        for v in tuesday.plan.visits
        if v.household_id == visit.household_id and v.status == "planned"
    ]
    assert retries, "the overdue child's failed visit is retried"
    assert tuesday.changes
    assert_checked(store, tuesday)


def test_a_visit_recorded_completed_on_the_replans_first_day_is_not_planned_again(
    store: Store,
) -> None:
    """Tuesday: a visit made this morning is recorded completed, then Tuesday's re-plan runs.
    The children were seen today: no second visit is planned for them (one was added two
    days later, for a deadline today's visit had met), and the made visit stays in it."""
    sick_busiest(store)
    plan = store.current_plan()
    assert plan is not None
    # A visit that meets a deadline inside the plan, its household's only one in the plan.
    visit = next(
        v
        for v in sorted(plan.visits, key=lambda v: (v.start, v.id))
        if v.day == TUESDAY
        and any(r.due <= plan.end for r in v.reasons)
        and sum(1 for w in plan.visits if w.household_id == v.household_id) == 1
    )
    service.record_outcome(store, visit.id, "completed", today=TUESDAY, by="worker", now=NOW)
    tuesday = propose(store)
    made = next(v for v in tuesday.plan.visits if v.id == visit.id)
    assert made.status == "completed"
    again = [
        v
        for v in tuesday.plan.visits
        if v.household_id == visit.household_id and v.status == "planned"
    ]
    assert not again, [v.id for v in again]
    assert_checked(store, tuesday)
