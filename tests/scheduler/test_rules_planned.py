"""Planner and checker agree on the facts of every week (issue 10 points 3, 6 and 7): school
terms, the part of the day a retry avoids, and both homes of a shared-care child.

Real CP-SAT solves on tiny scenarios with the shipped packs; each plan's verdict comes from
the independent checker, and hand-made plans show the checker telling the two sides of each
edge apart. England calendar: autumn term 2026 ends Fri 18 Dec (typical terms), 25 and
28 Dec are bank holidays.
"""

from __future__ import annotations

from datetime import date, time

import pytest

from scheduler.check import check_plan
from scheduler.domain import Plan, Scenario, SchoolTerm
from scheduler.planning import plan_scenario
from solver import SolveParams
from tests.builders import (
    make_child,
    make_household,
    make_plan,
    make_record,
    make_scenario,
    make_visit,
    make_worker,
)

PARAMS = SolveParams(time_limit_s=5, seed=0, num_workers=1)
NINE_YEAR_OLD = date(2017, 5, 1)
FRI_18_DEC, MON_21_DEC = date(2026, 12, 18), date(2026, 12, 21)
TERM_TO_THURSDAY = (SchoolTerm(start=date(2026, 9, 3), end=date(2026, 12, 17), name="Autumn"),)


def plan(scenario: Scenario, start: date) -> Plan:
    """A one-week plan from `start`, checked: the checker finds nothing hard."""
    made = plan_scenario(scenario, start, weeks=1, lookahead_weeks=1, params=PARAMS)
    report = check_plan(scenario, made)
    assert report.ok, [v.message for v in report.hard]
    return made


# --- School terms: last day of term vs first day of the holidays ----------------------------


def _school_child_scenario(terms: tuple[SchoolTerm, ...] = ()) -> Scenario:
    """A 9-year-old North Somerset CP child last seen Fri 4 Dec 2026, so due Fri 18 Dec (10
    working days); the only worker works 09:00-15:00, before school ends."""
    child = make_child(birth_date=NINE_YEAR_OLD)
    scenario = make_scenario(
        children=[child],
        workers=[make_worker(day_end=time(15, 0))],
        records=[make_record(on=date(2026, 12, 4))],
        as_of=date(2026, 12, 17),
    )
    authority = scenario.authority.model_copy(update={"school_terms": terms})
    return scenario.model_copy(update={"authority": authority})


@pytest.mark.parametrize(
    ("terms", "late"),
    [
        pytest.param((), True, id="outside-typical-term-ends-friday"),
        pytest.param(TERM_TO_THURSDAY, False, id="inside-imported-term-ends-thursday"),
    ],
)
def test_last_day_of_term_against_first_day_of_holidays(
    terms: tuple[SchoolTerm, ...], late: bool
) -> None:
    """Typical English terms: Fri 18 Dec 2026 is a school day, so a 09:00-15:00 worker cannot
    see the child before school ends and the visit is late (Mon 21 Dec, holidays). With term
    dates ending Thu 17 Dec, Fri 18 Dec is a holiday and the child is seen on time."""
    made = plan(_school_child_scenario(terms), FRI_18_DEC)
    days = sorted(v.day for v in made.visits)
    late_breaches = [b for b in made.breaches if b.rule_id == "ns_cp_seen_every_10_working_days"]
    if late:
        assert days[0] == MON_21_DEC
        assert [(b.due, b.days_late) for b in late_breaches] == [(FRI_18_DEC, 3)]
    else:
        assert days[0] == FRI_18_DEC
        assert not late_breaches


@pytest.mark.parametrize(
    ("day", "hard"),
    [
        pytest.param(FRI_18_DEC, True, id="outside-school-day-at-10"),
        pytest.param(MON_21_DEC, False, id="inside-holiday-at-10"),
    ],
)
def test_checker_judges_school_hours_by_term(day: date, hard: bool) -> None:
    """A 10:00 home visit to a school-age child breaks the school-hours clause on the last
    day of term, and not on the first day of the holidays."""
    scenario = make_scenario(
        children=[make_child(birth_date=NINE_YEAR_OLD)], records=[make_record(on=day)]
    )
    visit = make_visit(day=day, hour=10)
    report = check_plan(scenario, make_plan([visit], start=day, authority_id="north-somerset"))
    assert ("school-hours" in report.codes()) is hard


@pytest.mark.parametrize(
    ("flags", "hard"),
    [
        pytest.param((), True, id="outside-at-school"),
        pytest.param(("home-educated",), False, id="inside-home-educated"),
    ],
)
def test_checker_lets_home_educated_children_be_seen_in_the_day(
    flags: tuple[str, ...], hard: bool
) -> None:
    """A home-educated child is at home on a school day (DESIGN.md section 3)."""
    child = make_child(birth_date=NINE_YEAR_OLD, flags=flags)
    scenario = make_scenario(children=[child], records=[make_record(on=FRI_18_DEC)])
    visit = make_visit(day=FRI_18_DEC, hour=10)
    report = check_plan(
        scenario, make_plan([visit], start=FRI_18_DEC, authority_id="north-somerset")
    )
    assert ("school-hours" in report.codes()) is hard


# --- Retry at a different part of the day, for every category -------------------------------


def _failed_cin(failed_at: time) -> Scenario:
    """A North Somerset child in need (no retry deadline in 000), last seen Mon 16 Nov 2026,
    so due Mon 14 Dec (20 working days); a visit on Fri 11 Dec failed at `failed_at`."""
    child = make_child(category="child-in-need")
    records = [
        make_record(on=date(2026, 11, 16)),
        make_record(on=date(2026, 12, 11), start=failed_at, outcome="failed", record_id="r-f"),
    ]
    return make_scenario(children=[child], records=records, as_of=date(2026, 12, 11))


@pytest.mark.parametrize(
    ("hour", "minute", "hard"),
    [
        pytest.param(9, 15, True, id="outside-0915-next-working-day"),
        pytest.param(12, 0, False, id="inside-1200"),
    ],
)
def test_checker_refuses_a_retry_in_the_same_part_of_day(
    hour: int, minute: int, hard: bool
) -> None:
    """Issue 10: a failed child-in-need visit at 08:45 must not be re-planned at 09:15 the
    next day, although North Somerset gives children in need no retry deadline."""
    scenario = _failed_cin(time(8, 45))
    monday = date(2026, 12, 14)
    visit = make_visit(day=monday, hour=hour, minute=minute)
    report = check_plan(scenario, make_plan([visit], start=monday, authority_id="north-somerset"))
    assert ("retry-time-of-day" in report.codes()) is hard
    if hard:
        [violation] = [v for v in report.hard if v.code == "retry-time-of-day"]
        assert violation.rule_id == "eng_retry_at_different_time"


def test_planner_retries_a_morning_failure_after_noon() -> None:
    """The planner honours the same rule: after the 08:45 failure the child's first visit of
    the plan starts at noon or later, and the checker agrees."""
    made = plan(_failed_cin(time(8, 45)), date(2026, 12, 14))
    first = min(made.visits, key=lambda v: v.start)
    assert first.day == date(2026, 12, 14)
    assert first.start.hour >= 12


# --- Both homes, every authority and category ----------------------------------------------


def _shared_care(authority: str = "camden") -> Scenario:
    """A Camden CP child (aged 2) living between h1 and h2: seen at h1 on Mon 7 Dec 2026 and
    at h2 on Fri 27 Nov, so h2 is due by Thu 17 Dec (each home every 2 x 10 days)."""
    child = make_child(household_ids=("h1", "h2"))
    records = [
        make_record(on=date(2026, 11, 27), household_id="h2"),
        make_record(on=date(2026, 12, 7), household_id="h1"),
    ]
    return make_scenario(
        children=[child],
        households=[make_household("h1"), make_household("h2")],
        records=records,
        as_of=date(2026, 12, 11),
        authority_id=authority,
    )


def test_planner_sees_the_other_home_in_time() -> None:
    """The plan visits h2 by its own deadline (Thu 17 Dec) and reports no both-homes breach."""
    made = plan(_shared_care(), date(2026, 12, 14))
    h2 = [v.day for v in made.visits if v.household_id == "h2"]
    assert h2
    assert min(h2) <= date(2026, 12, 17)
    assert not [b for b in made.breaches if b.rule_id == "eng_both_homes"]


@pytest.mark.parametrize(
    ("home", "breach"),
    [
        pytest.param("h2", False, id="inside-other-home-seen"),
        pytest.param("h1", True, id="outside-same-home-twice"),
    ],
)
def test_checker_breaches_a_home_not_seen(home: str, breach: bool) -> None:
    """Visits only to h1 meet the 10-day home clock but leave h2 unseen past Thu 17 Dec: the
    checker finds the both-homes breach, which a plan must report."""
    scenario = _shared_care()
    monday = date(2026, 12, 14)
    visit = make_visit(household_id=home, day=date(2026, 12, 16), hour=10)
    report = check_plan(scenario, make_plan([visit], start=monday, authority_id="camden"))
    found = {(k.rule_id, k.due) for k in report.breaches_found}
    assert (("eng_both_homes", date(2026, 12, 17)) in found) is breach
    assert ("unreported-breach" in report.codes()) is breach


@pytest.mark.parametrize(
    ("window_end", "hard"),
    [
        pytest.param(time(17, 45), False, id="inside-window-leaves-only-the-afternoon"),
        pytest.param(time(18, 0), True, id="outside-window-reaches-the-evening"),
    ],
)
def test_retry_keeps_the_familys_time_when_their_windows_leave_no_other(
    window_end: time, hard: bool
) -> None:
    """A visit failed at 15:30 in a family whose only window is Monday 15:30-17:45: a
    60-minute visit can start at 16:45 at the latest, still the afternoon, so the retry may
    be in the afternoon again; with the window to 18:00 an evening start (17:00) is possible,
    and an afternoon retry breaks the rule."""
    window = {"weekday": 0, "start": time(15, 30), "end": window_end}
    child = make_child(category="child-in-need")
    records = [
        make_record(on=date(2026, 11, 16), start=time(15, 30)),
        make_record(on=date(2026, 12, 7), start=time(15, 30), outcome="failed", record_id="r-f"),
    ]
    scenario = make_scenario(
        children=[child],
        households=[make_household(windows=(window,))],
        workers=[make_worker(day_end=time(19, 0))],
        records=records,
        as_of=date(2026, 12, 11),
    )
    monday = date(2026, 12, 14)
    visit = make_visit(day=monday, hour=15, minute=30)
    report = check_plan(scenario, make_plan([visit], start=monday, authority_id="north-somerset"))
    assert ("retry-time-of-day" in report.codes()) is hard
    made = plan(scenario, monday)
    first = min(made.visits, key=lambda v: v.start)
    assert (first.start.hour >= 17) is hard
