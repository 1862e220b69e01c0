"""The plan checker: one passing plan, and for each contract clause a plan that breaks only it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Any

import pytest

from policies.models import Pack
from scheduler.check import BreachKey, CheckReport, check_plan
from scheduler.domain import (
    Absence,
    Authority,
    Breach,
    BusyTime,
    Child,
    FamilyWindow,
    Plan,
    Scenario,
    Team,
    Visit,
    VisitRecord,
)
from scheduler.visiting import travel_min
from tests.builders import (
    BRISTOL,
    TEST_PACK_ID,
    at,
    make_child,
    make_household,
    make_pack,
    make_plan,
    make_record,
    make_scenario,
    make_visit,
    make_worker,
)

PACK: Pack = make_pack()
MON, TUE, WED, THU, FRI = (date(2026, 11, 30) + timedelta(days=i) for i in range(5))


def scenario(
    children: Sequence[Child] | None = None,
    records: Sequence[VisitRecord] | None = None,
    **changes: Any,
) -> Scenario:
    """One CP child aged 2 in h1, last seen Fri 27 Nov 2026 (next due Fri 11 Dec), test pack."""
    children = list(children) if children is not None else [make_child()]
    if records is None:
        records = [make_record(c.id, household_id=c.household_ids[0]) for c in children]
    return make_scenario(children=children, records=records, authority_id=TEST_PACK_ID, **changes)


def check(scn: Scenario, visits: Sequence[Visit], **plan_changes: Any) -> CheckReport:
    return check_plan(scn, make_plan(visits, **plan_changes), PACK)


def codes(report: CheckReport) -> set[str]:
    return {v.code for v in report.violations}


def test_check_accepts_valid_plan() -> None:
    """A visit on a working day, in hours, by an allowed worker of the team, breaks nothing."""
    report = check(scenario(), [make_visit()])
    assert report.violations == ()
    assert report.ok
    assert report.breaches_found == ()


def test_check_accepts_empty_plan_when_nothing_is_due() -> None:
    """A child next due after the horizon needs no visit in it."""
    assert check(scenario(), []).violations == ()


# Clause 1: working days, contracted days, absences, horizon.
def test_visit_on_bank_holiday_is_not_working_day() -> None:
    """Monday 28 December 2026 is the substitute Boxing Day bank holiday in England."""
    child = make_child(plan_start=date(2026, 11, 1))
    scn = scenario(children=[child], records=[make_record(on=date(2026, 12, 22))])
    plan_start = date(2026, 12, 28)
    report = check(scn, [make_visit(day=plan_start)], start=plan_start)
    assert codes(report) == {"not-working-day"}
    assert check(scn, [make_visit(day=date(2026, 12, 29))], start=plan_start).violations == ()


def test_visit_on_uncontracted_weekday_is_worker_unavailable() -> None:
    """A worker is only planned on their contracted weekdays."""
    scn = scenario(workers=[make_worker(days=(0, 1, 3, 4))])
    report = check(scn, [make_visit(day=WED)])
    assert codes(report) == {"worker-unavailable"}
    assert report.violations[0].worker_id == "w1"


def test_visit_during_absence_is_worker_absent() -> None:
    """A worker on leave is not planned."""
    absence = Absence(worker_id="w1", start=TUE, end=WED, reason="leave")
    report = check(scenario(absences=(absence,)), [make_visit(day=WED)])
    assert codes(report) == {"worker-absent"}
    assert check(scenario(absences=(absence,)), [make_visit(day=THU)]).violations == ()


def test_visit_after_plan_end_is_outside_horizon() -> None:
    """Visits lie between the plan's start and end inclusive."""
    report = check(scenario(), [make_visit(day=date(2026, 12, 7))])
    assert codes(report) == {"outside-horizon"}


# Clause 2: siblings and ids.
def test_visit_leaving_out_a_sibling_is_siblings_split() -> None:
    """A visit covers every open child living in the household."""
    baby = make_child("c2", category="early-help", plan_start=date(2026, 11, 20))
    scn = scenario(children=[make_child(), baby])
    report = check(scn, [make_visit(child_ids=("c1",))])
    assert codes(report) == {"siblings-split"}
    assert report.violations[0].child_id == "c2"
    assert check(scn, [make_visit(child_ids=("c1", "c2"))]).violations == ()


def test_visit_by_unknown_worker_is_unknown_id() -> None:
    """Every id a visit names exists in the scenario."""
    report = check(scenario(), [make_visit(worker_id="w-ghost")])
    assert codes(report) == {"unknown-id"}


# Clause 3: duration.
def test_visit_too_short_is_duration() -> None:
    """A visit lasts the pack's base (60 min) plus 15 min per extra child seen alone."""
    report = check(scenario(), [make_visit(duration_min=45)])
    assert codes(report) == {"duration"}


def test_duration_adds_a_slot_per_extra_child_seen_alone() -> None:
    """Two children aged 4 or more are each seen alone: 60 + 15 minutes."""
    older = [
        make_child("c1", birth_date=date(2018, 1, 1)),
        make_child("c2", birth_date=date(2019, 1, 1)),
    ]
    scn = scenario(children=older)
    visit = make_visit(child_ids=("c1", "c2"), hour=16, duration_min=75)
    assert check(scn, [visit.model_copy(update={"start": at(WED, 15, 30)})]).violations == ()
    short = make_visit(child_ids=("c1", "c2"), hour=15, minute=30, duration_min=60)
    assert codes(check(scn, [short])) == {"duration"}


# Clause 4: who.
def test_cp_visit_by_family_support_worker_is_role_not_allowed() -> None:
    """Child-protection visits need a registered social worker."""
    scn = scenario(
        workers=[make_worker(role="family-support-worker")],
        records=[make_record(worker_id=None)],
    )
    report = check(scn, [make_visit()])
    assert codes(report) == {"role-not-allowed"}


def test_early_help_visit_by_family_support_worker_passes() -> None:
    """Early help may be visited by a family support worker."""
    child = make_child(category="early-help", plan_start=date(2026, 11, 20))
    scn = scenario(children=[child], workers=[make_worker(role="family-support-worker")])
    assert check(scn, [make_visit()]).violations == ()


def test_worker_of_another_team_is_wrong_team() -> None:
    """Without cross-team cover a worker visits only their own team's households."""
    teams = (Team(id="t1", name="One", neighbours=("t2",)), Team(id="t2", name="Two"))
    scn = scenario(teams=teams, workers=[make_worker(team_id="t2")])
    assert codes(check(scn, [make_visit()])) == {"wrong-team"}


def test_neighbouring_team_covers_with_cross_team_cover() -> None:
    """With cross-team cover a neighbouring team's worker may visit."""
    teams = (Team(id="t1", name="One", neighbours=("t2",)), Team(id="t2", name="Two"))
    authority = Authority(id=TEST_PACK_ID, cross_team_cover=True)
    scn = scenario(teams=teams, workers=[make_worker(team_id="t2")], authority=authority)
    assert check(scn, [make_visit()]).violations == ()


def test_joint_visit_household_without_second_worker_is_joint_visit() -> None:
    """A household flagged for joint visits needs two workers."""
    scn = scenario(
        households=[make_household(joint_visit=True)], workers=[make_worker(), make_worker("w2")]
    )
    assert codes(check(scn, [make_visit()])) == {"joint-visit"}
    assert check(scn, [make_visit(second_worker_id="w2")]).violations == ()


def test_student_as_second_worker_is_joint_visit() -> None:
    """A student cannot be the second worker of a joint visit."""
    scn = scenario(
        households=[make_household(joint_visit=True)],
        workers=[make_worker(), make_worker("w2", role="student")],
    )
    assert codes(check(scn, [make_visit(second_worker_id="w2")])) == {"joint-visit"}


def test_absent_second_worker_is_worker_absent() -> None:
    """The second worker of a joint visit must be available too."""
    scn = scenario(
        households=[make_household(joint_visit=True)],
        workers=[make_worker(), make_worker("w2")],
        absences=(Absence(worker_id="w2", start=WED, end=WED),),
    )
    report = check(scn, [make_visit(second_worker_id="w2")])
    assert codes(report) == {"worker-absent"}
    assert report.violations[0].worker_id == "w2"


# Clause 5: hours, grain, busy, overlap, visits per day, travel.
def test_visit_ending_at_day_end_passes() -> None:
    """A visit may end exactly when the worker's day ends (travel back 0 min)."""
    assert check(scenario(), [make_visit(hour=16)]).violations == ()


def test_visit_ending_after_day_end_is_outside_hours() -> None:
    """A visit ending 15 minutes after the worker's day is outside their hours."""
    assert codes(check(scenario(), [make_visit(hour=16, minute=15)])) == {"outside-hours"}


def test_visit_starting_before_day_start_is_outside_hours() -> None:
    """A visit starting before the worker's day is outside their hours."""
    assert codes(check(scenario(), [make_visit(hour=8, minute=45)])) == {"outside-hours"}


def test_visit_off_the_quarter_hour_is_off_grain() -> None:
    """Visits start on a 15-minute grain."""
    assert codes(check(scenario(), [make_visit(minute=5)])) == {"off-grain"}


def test_visit_during_busy_time_is_busy() -> None:
    """A visit avoids the worker's calendar commitments; one ending at the start is fine."""
    clash = BusyTime(worker_id="w1", start=at(WED, 10, 30), end=at(WED, 11, 0))
    before = BusyTime(worker_id="w1", start=at(WED, 9, 0), end=at(WED, 10, 0))
    assert codes(check(scenario(busy=(clash,)), [make_visit()])) == {"busy"}
    assert check(scenario(busy=(before,)), [make_visit()]).violations == ()


def two_households(**worker_changes: Any) -> Scenario:
    """Two CP children in two households at the same place, one worker."""
    return scenario(
        children=[make_child("c1"), make_child("c2", household_ids=("h2",))],
        households=[make_household("h1"), make_household("h2")],
        workers=[make_worker(**worker_changes)],
    )


def test_overlapping_visits_of_one_worker_is_overlap() -> None:
    """A worker is at one visit at a time."""
    visits = [make_visit(), make_visit("h2", child_ids=("c2",), minute=30)]
    assert codes(check(two_households(), visits)) == {"overlap"}


def test_visits_back_to_back_at_same_place_pass() -> None:
    """With no travel between them a visit may start when the previous one ends."""
    visits = [make_visit(), make_visit("h2", child_ids=("c2",), hour=11)]
    assert check(two_households(), visits).violations == ()


def test_more_visits_than_cap_is_too_many_visits() -> None:
    """At most max_visits_per_day visits per worker per day."""
    visits = [make_visit(), make_visit("h2", child_ids=("c2",), hour=11)]
    assert codes(check(two_households(max_visits_per_day=1), visits)) == {"too-many-visits"}


def travel_scenario(speed_kmh: float) -> Scenario:
    """h2 is about 4.4 km north of h1 and the base."""
    far = make_household("h2", lat=BRISTOL[0] + 0.04, lon=BRISTOL[1])
    return scenario(
        children=[make_child("c1"), make_child("c2", household_ids=("h2",))],
        households=[make_household("h1"), far],
        authority=Authority(id=TEST_PACK_ID, travel_speed_kmh=speed_kmh),
    )


def test_travel_gap_exactly_enough_passes() -> None:
    """Next start = previous end + travel time is on time."""
    assert travel_min(BRISTOL[0], BRISTOL[1], BRISTOL[0] + 0.04, BRISTOL[1], 24) == 15
    visits = [make_visit(), make_visit("h2", child_ids=("c2",), hour=11, minute=15)]
    assert check(travel_scenario(24), visits).violations == ()


def test_travel_gap_a_minute_short_is_travel() -> None:
    """With travel taking 16 minutes a 15-minute gap is a minute short."""
    assert travel_min(BRISTOL[0], BRISTOL[1], BRISTOL[0] + 0.04, BRISTOL[1], 22) == 16
    visits = [make_visit(), make_visit("h2", child_ids=("c2",), hour=11, minute=15)]
    report = check(travel_scenario(22), visits)
    assert codes(report) == {"travel"}
    assert report.violations[0].visit_id == "v-h2-20261202"


def test_first_visit_too_soon_after_day_start_is_travel() -> None:
    """The worker travels from base first: 09:00 + 15 min to h2, so 09:00 is too early."""
    visit = make_visit("h2", child_ids=("c2",), hour=9)
    assert codes(check(travel_scenario(24), [visit])) == {"travel"}
    later = make_visit("h2", child_ids=("c2",), hour=9, minute=15)
    assert check(travel_scenario(24), [later]).violations == ()


def test_last_visit_too_late_to_return_to_base_is_travel() -> None:
    """The worker travels back to base before the day ends: 16:00-17:00 at h2 is too late."""
    visit = make_visit("h2", child_ids=("c2",), hour=16)
    assert codes(check(travel_scenario(24), [visit])) == {"travel"}


# Clause 6: family windows and school hours.
def test_visit_inside_family_window_passes_and_outside_is_family_window() -> None:
    """With windows given, the visit lies entirely inside one for that weekday."""
    window = FamilyWindow(weekday=2, start=time(13, 0), end=time(15, 0))
    scn = scenario(households=[make_household(windows=(window,))])
    assert check(scn, [make_visit(hour=14)]).violations == ()
    assert codes(check(scn, [make_visit(hour=14, minute=15)])) == {"family-window"}
    assert codes(check(scn, [make_visit(day=THU, hour=14)])) == {"family-window"}


def test_school_age_child_visited_in_school_hours_is_school_hours() -> None:
    """A child aged 5-15 is not visited before 15:30 on a school day."""
    scn = scenario(children=[make_child(birth_date=date(2018, 5, 1))])
    assert check(scn, [make_visit(hour=15, minute=30)]).violations == ()
    report = check(scn, [make_visit(hour=15, minute=15)])
    assert codes(report) == {"school-hours"}


def test_household_school_day_start_overrides_pack_time() -> None:
    """A household's own school_day_start replaces the pack's 15:30."""
    scn = scenario(
        children=[make_child(birth_date=date(2018, 5, 1))],
        households=[make_household(school_day_start=time(15, 0))],
    )
    assert check(scn, [make_visit(hour=15)]).violations == ()


# Clause 7: retry at a different time of day.
def test_retry_at_same_part_of_day_is_retry_time_of_day() -> None:
    """After a failed morning visit the retry is in the afternoon or evening."""
    records = [
        make_record(on=date(2026, 11, 20)),
        make_record(on=date(2026, 11, 27), outcome="failed", start=time(10, 0)),
    ]
    scn = scenario(records=records)
    report = check(scn, [make_visit(day=TUE)])
    assert codes(report) == {"retry-time-of-day"}
    assert report.violations[0].rule_id == "retry_3_working_days"
    assert check(scn, [make_visit(day=TUE, hour=14)]).violations == ()


def test_retry_after_a_failure_recorded_on_a_replans_first_day_avoids_that_ones_part() -> None:
    """A re-plan from Tuesday, with a failed Monday morning visit and a not-seen Tuesday
    afternoon one recorded before it: the retry avoids the afternoon, as the planner reads
    the first day's records (it was judged against Monday's morning, so `check` refused the
    re-plan just stored)."""
    records = [
        make_record(on=date(2026, 11, 20)),
        make_record(on=MON, outcome="failed", start=time(10, 0)),
        make_record(on=TUE, outcome="not-seen", start=time(14, 0)),
    ]
    scn = scenario(records=records)
    assert check(scn, [make_visit(day=WED, hour=10)], start=TUE).violations == ()
    report = check(scn, [make_visit(day=WED, hour=14)], start=TUE)
    assert codes(report) == {"retry-time-of-day"}


# Clauses 8 and 9: requirements and breaches.
CP_DUE_FRI = [make_record(on=date(2026, 11, 20))]
"""Seen Fri 20 Nov 2026: next due by the 10th working day after, Fri 4 Dec 2026."""
CP_KEY = BreachKey("c1", "cp_every_10_working_days", FRI)


def test_cp_deadline_met_on_due_day_passes() -> None:
    """A child-protection visit on the 10th working day is on time."""
    assert check(scenario(records=CP_DUE_FRI), [make_visit(day=FRI)], weeks=2).violations == ()


def test_cp_deadline_missed_by_a_day_is_unreported_breach() -> None:
    """A visit the working day after the deadline is a breach the plan must report."""
    report = check(scenario(records=CP_DUE_FRI), [make_visit(day=date(2026, 12, 7))], weeks=2)
    assert codes(report) == {"unreported-breach"}
    assert report.breaches_found == (CP_KEY,)
    assert report.violations[0].rule_id == "cp_every_10_working_days"


def test_reported_breach_is_accepted() -> None:
    """A breach listed in the plan with the same child, rule and due date is accepted."""
    breach = Breach(child_id="c1", rule_id=CP_KEY.rule_id, due=FRI, days_late=3, reason="capacity")
    report = check(
        scenario(records=CP_DUE_FRI),
        [make_visit(day=date(2026, 12, 7))],
        weeks=2,
        breaches=(breach,),
    )
    assert report.violations == ()
    assert report.breaches_found == (CP_KEY,)


def test_no_visit_before_deadline_is_unreported_breach() -> None:
    """Without any visit the deadline inside the horizon is missed."""
    report = check(scenario(records=CP_DUE_FRI), [])
    assert codes(report) == {"unreported-breach"}


def test_deadline_before_plan_start_is_a_breach() -> None:
    """A deadline already past when the plan starts counts as a breach too."""
    report = check(scenario(records=[make_record(on=date(2026, 11, 2))]), [make_visit(day=MON)])
    assert report.breaches_found == (
        BreachKey("c1", "cp_every_10_working_days", date(2026, 11, 16)),
    )


def test_deadline_after_plan_end_is_not_judged() -> None:
    """Deadlines after the horizon are left to the next plan."""
    report = check(scenario(records=CP_DUE_FRI), [], start=date(2026, 11, 23))
    assert report.violations == ()


def test_reported_breach_not_found_is_a_warning() -> None:
    """Reporting a breach that does not happen is a warning, not a hard violation."""
    breach = Breach(child_id="c1", rule_id=CP_KEY.rule_id, due=FRI, reason="capacity")
    report = check(scenario(), [make_visit()], breaches=(breach,))
    assert codes(report) == {"reported-breach-not-found"}
    assert report.ok
    assert report.warnings
    assert not report.hard


def test_visit_by_disallowed_role_does_not_meet_the_deadline() -> None:
    """A visit by a role the child's rules do not allow resets no clock."""
    scn = scenario(records=CP_DUE_FRI, workers=[make_worker(role="family-support-worker")])
    report = check(scn, [make_visit(day=TUE)])
    assert codes(report) == {"role-not-allowed", "unreported-breach"}


def test_monthly_count_short_at_month_end_is_unreported_breach() -> None:
    """Care proceedings: seen twice a month; one November visit leaves 30 November short."""
    child = make_child(category="child-in-care", placement_type="care-proceedings")
    scn = scenario(children=[child], records=[make_record(on=date(2026, 11, 10))])
    report = check(scn, [])
    assert report.breaches_found == (
        BreachKey("c1", "care_proceedings_twice_monthly", date(2026, 11, 30)),
    )
    assert codes(report) == {"unreported-breach"}
    assert check(scn, [make_visit(day=MON)]).violations == ()


def test_cancelled_visit_is_ignored() -> None:
    """A cancelled visit neither breaks rules nor meets deadlines."""
    cancelled = make_visit(day=date(2026, 12, 5), status="cancelled")
    assert check(scenario(), [cancelled]).violations == ()


@pytest.mark.parametrize(
    "plan_weeks",
    [pytest.param(1, id="one-week"), pytest.param(2, id="two-weeks")],
)
def test_plan_end_is_inclusive(plan_weeks: int) -> None:
    """A visit on the plan's last working day is inside the horizon."""
    last_friday = date(2026, 12, 4) + timedelta(days=7 * (plan_weeks - 1))
    plan: Plan = make_plan([make_visit(day=last_friday)], weeks=plan_weeks)
    assert check_plan(scenario(), plan, PACK).ok


def test_checklist_items_are_read_per_child() -> None:
    """On a visit to several children, 'CR-1: seen-alone' ticks CR-1 only; plain items tick all."""
    from scheduler.check import checklist_of

    items = ("CR-1: seen-alone", "CR-2: bedroom", "seen-awake")
    assert checklist_of(items, "CR-1") == {"seen-alone", "seen-awake"}
    assert checklist_of(items, "CR-2") == {"bedroom", "seen-awake"}
    assert checklist_of(items, "CR-3") == {"seen-awake"}
