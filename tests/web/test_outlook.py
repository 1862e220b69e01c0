"""The next four weeks of a team (scheduler.outlook) and the SVG charts that draw them.

Rule: pure functions on hand-made scenarios; no store, no clock, no sockets. North Somerset:
a child on a protection plan is seen every 10 working days; 25 and 28 December 2026 are bank
holidays.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from scheduler.domain import (
    Absence,
    Authority,
    BusyTime,
    Child,
    ChildEvents,
    Household,
    Plan,
    Scenario,
    Team,
    VisitRecord,
    Worker,
)
from scheduler.outlook import outlook
from scheduler.web.svg import Series, bar_chart, column_chart
from tests.integrations.conftest import make_visit

LAT, LON = 51.43, -2.75
LONDON = ZoneInfo("Europe/London")
START = date(2026, 11, 30)


def team(
    last_seen: date = date(2026, 11, 23),
    absences: tuple[Absence, ...] = (),
    busy: tuple[BusyTime, ...] = (),
) -> Scenario:
    """One worker (Mon-Fri 09:00-17:00), one home, one child on a protection plan."""
    return Scenario(
        authority=Authority(id="north-somerset"),
        as_of=START,
        teams=(Team(id="t1", name="Team"),),
        workers=(
            Worker(
                id="w1", name="W", role="social-worker", team_id="t1", base_lat=LAT, base_lon=LON
            ),
        ),
        households=(Household(id="h1", area="A", lat=LAT, lon=LON, team_id="t1"),),
        children=(
            Child(
                id="c1",
                case_ref="CR-1",
                category="child-protection",
                household_ids=("h1",),
                birth_date=date(2015, 1, 1),
                allocated_worker="w1",
                events=ChildEvents(plan_start=date(2026, 9, 1)),
            ),
        ),
        absences=absences,
        busy=busy,
        records=(
            VisitRecord(
                id="r1",
                child_id="c1",
                household_id="h1",
                on=last_seen,
                start=time(10),
                worker_id="w1",
                outcome="completed",
                announced=False,
            ),
        ),
    )


def test_demand_follows_the_rules_from_the_last_visit() -> None:
    """Seen Mon 23 Nov: due Mon 7 Dec (10 working days), then Mon 21 Dec; one hour each."""
    found = outlook(team(), None, "t1", START)
    assert [w.demand_min for w in found.weeks] == [0, 60, 0, 60]
    assert [w.visits_due for w in found.weeks] == [0, 1, 0, 1]
    due_days = [(d.day, d.children) for d in found.days if d.children]
    assert due_days == [(date(2026, 12, 7), 1), (date(2026, 12, 21), 1)]
    assert found.overdue_children == 0


def test_an_overdue_child_counts_in_the_first_week_not_on_a_day() -> None:
    """Last seen 2 Nov: due 16 Nov, already overdue on 30 Nov."""
    found = outlook(team(last_seen=date(2026, 11, 2)), None, "t1", START)
    assert found.overdue_children == 1
    assert found.weeks[0].overdue_visits == 1
    assert found.weeks[0].demand_min == 60
    assert all(d.children == 0 for d in found.days if d.day < date(2026, 12, 7))


def test_capacity_is_contracted_hours_on_working_days() -> None:
    """8 h x 5 days; Christmas week has one bank holiday (25 Dec; 28 Dec is the next week)."""
    found = outlook(team(), None, "t1", START)
    assert [w.capacity_min for w in found.weeks] == [2400, 2400, 2400, 1920]


@pytest.mark.parametrize(
    ("absence", "expected"),
    [
        pytest.param(
            Absence(worker_id="w1", start=date(2026, 12, 2), end=date(2026, 12, 2)),
            1920,
            id="a working day away",
        ),
        pytest.param(
            Absence(worker_id="w1", start=date(2026, 12, 5), end=date(2026, 12, 6)),
            2400,
            id="a weekend away",
        ),
    ],
)
def test_capacity_edge_pair_for_absences(absence: Absence, expected: int) -> None:
    found = outlook(team(absences=(absence,)), None, "t1", START)
    assert found.weeks[0].capacity_min == expected


def test_capacity_takes_off_busy_times_inside_working_hours() -> None:
    """90 minutes busy on Thursday; an evening meeting after 17:00 takes nothing off."""
    busy = (
        BusyTime(
            worker_id="w1",
            start=datetime(2026, 12, 3, 10, 0, tzinfo=LONDON),
            end=datetime(2026, 12, 3, 11, 30, tzinfo=LONDON),
        ),
        BusyTime(
            worker_id="w1",
            start=datetime(2026, 12, 3, 17, 0, tzinfo=LONDON),
            end=datetime(2026, 12, 3, 19, 0, tzinfo=LONDON),
        ),
    )
    found = outlook(team(busy=busy), None, "t1", START)
    assert found.weeks[0].capacity_min == 2400 - 90


def test_planned_minutes_come_from_the_plan() -> None:
    visit = make_visit(household="h1", children=("c1",), worker="w1", day=date(2026, 12, 8))
    plan = Plan(
        id="p", authority="north-somerset", start=START, end=date(2026, 12, 27), visits=(visit,)
    )
    found = outlook(team(), plan, "t1", START)
    assert [w.planned_min for w in found.weeks] == [0, visit.duration_min, 0, 0]


def test_another_teams_homes_do_not_count() -> None:
    found = outlook(team(), None, "t2", START)
    assert all(w.demand_min == 0 for w in found.weeks)
    assert all(w.capacity_min == 0 for w in found.weeks)


# ------------------------------------------------------------------------------- SVG


def test_bar_chart_scales_bars_and_escapes_labels() -> None:
    svg = str(
        bar_chart(
            "Hours <due>", ["w/c 7 Dec", "<b>"], [Series("due", [10, 20], "#123456")], "hours", "c1"
        )
    )
    assert "<b>" not in svg.replace("&lt;b&gt;", "")
    assert "&lt;due&gt;" in svg
    heights = [
        float(h)
        for h in re.findall(
            r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([^"]+)" fill="#123456"><title>', svg
        )
    ]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert 'role="img"' in svg
    assert "style=" not in svg


def test_column_chart_writes_one_column_per_day() -> None:
    svg = str(column_chart("Due", ["Mon 7", "Tue 8", "Wed 9"], [1, 0, 3], "#a4000f", "c2"))
    assert svg.count("<rect ") == 3
    assert svg.count("<title") == 4
    assert "Wed 9: 3" in svg
