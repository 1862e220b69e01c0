"""A team's next weeks: visit-hours due against hours available, and children coming due by day.

Rule: pure functions of the scenario and the plan (no store, no clock). Demand is the least
the rules allow: each household visited on the last day its earliest deadline allows, the
children's clocks restarted there, and again until the window ends.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field

from policies import Contact, Pack, due_dates, load_pack
from scheduler.domain import Child, DomainModel, Plan, Scenario, Worker
from scheduler.due import calendar_for, contacts_for
from scheduler.visiting import children_of, visit_duration_min

MAX_VISITS_PER_HOME = 60
"""A guard on the projection: no household needs more visits than this in the window."""


class WeekLoad(DomainModel):
    """One week of one team: what is due against what the team has."""

    week_start: date = Field(description="Monday of the week.")
    demand_min: int = Field(description="Visit minutes due that week (visits made on time).")
    capacity_min: int = Field(description="Working minutes after absences and busy times.")
    planned_min: int = Field(description="Minutes of visits the current plan has that week.")
    visits_due: int = Field(description="Household visits due that week.")
    overdue_visits: int = Field(default=0, description="Of those, already overdue at the start.")


class DayDue(DomainModel):
    """Children with a deadline on one working day."""

    day: date
    children: int


class Outlook(DomainModel):
    """A team's next weeks."""

    team_id: str
    start: date
    weeks: tuple[WeekLoad, ...]
    days: tuple[DayDue, ...]
    overdue_children: int = Field(description="Children already overdue at the start.")


def team_households(scenario: Scenario, team_id: str) -> list[str]:
    """Ids of the households in the team's patch."""
    return [h.id for h in scenario.households if h.team_id == team_id]


def _capacity_min(scenario: Scenario, worker: Worker, day: date, tz: ZoneInfo) -> int:
    """A worker's minutes on `day`, after absences and busy times (0 when away or off)."""
    if day.weekday() not in worker.days:
        return 0
    if any(a.worker_id == worker.id and a.covers(day) for a in scenario.absences):
        return 0
    start = datetime.combine(day, worker.day_start, tz)
    end = datetime.combine(day, worker.day_end, tz)
    busy = 0
    for b in scenario.busy:
        if b.worker_id != worker.id:
            continue
        lo, hi = max(start, b.start), min(end, b.end)
        if hi > lo:
            busy += int((hi - lo).total_seconds() // 60)
    return max(0, int((end - start).total_seconds() // 60) - busy)


def _working_days(pack: Pack, start: date, days: int) -> list[date]:
    calendar = calendar_for(pack)
    return [
        d for d in (start + timedelta(days=i) for i in range(days)) if calendar.is_working_day(d)
    ]


def _last_working_day(day: date, working: Sequence[date]) -> date | None:
    """The last working day on or before `day` among `working` (sorted), or None."""
    earlier = [d for d in working if d <= day]
    return earlier[-1] if earlier else None


def outlook(
    scenario: Scenario, plan: Plan | None, team_id: str, start: date, weeks: int = 4
) -> Outlook:
    """The team's next `weeks` from `start` (a Monday): demand, capacity, coming due.

    Demand projects the visiting rules forward from the visit records as of `start`: each
    household is visited on its earliest deadline (an overdue one on the first day), which
    restarts its children's clocks, until the window ends. Capacity is the team's workers'
    contracted hours on working days, less absences and busy times. Planned minutes are the
    current plan's visits to the team's households in each week.
    """
    pack = load_pack(scenario.authority.id)
    calendar = calendar_for(pack)
    tz = ZoneInfo(scenario.authority.timezone)
    end = start + timedelta(days=7 * weeks - 1)
    mondays = [start + timedelta(days=7 * i) for i in range(weeks)]
    working = _working_days(pack, start, 7 * weeks)
    homes = team_households(scenario, team_id)
    residents = {h: children_of(scenario, h) for h in homes}
    roles = {w.id: w.role for w in scenario.workers}
    history: dict[str, list[Contact]] = defaultdict(list)
    for child_list in residents.values():
        for child in child_list:
            if child.id not in history:
                records = [r for r in scenario.records if r.child_id == child.id and r.on < start]
                history[child.id] = contacts_for(records, roles)
    role_of = {
        c.id: roles.get(c.allocated_worker or "", "social-worker")
        for kids in residents.values()
        for c in kids
    }

    def next_due(home: str) -> tuple[date, list[Child]] | None:
        """The household's earliest deadline and the children due on it."""
        best: date | None = None
        due_kids: list[Child] = []
        for child in residents[home]:
            for d in due_dates(pack, child.facts(), history[child.id], calendar, start):
                if d.home_id is not None and d.home_id != home:
                    continue
                if best is None or d.due < best:
                    best, due_kids = d.due, [child]
                elif d.due == best and child not in due_kids:
                    due_kids.append(child)
        return None if best is None else (best, due_kids)

    demand: dict[date, int] = defaultdict(int)
    visits_due: dict[date, int] = defaultdict(int)
    overdue_visits: dict[date, int] = defaultdict(int)
    due_per_day: dict[date, set[str]] = defaultdict(set)
    overdue_children: set[str] = set()
    queue: list[tuple[date, str]] = []
    made: dict[str, int] = defaultdict(int)
    made_on: dict[tuple[str, date], int] = defaultdict(int)
    for home in homes:
        found = next_due(home)
        if found is not None:
            heapq.heappush(queue, (found[0], home))
    while queue:
        due, home = heapq.heappop(queue)
        current = next_due(home)
        if current is None or current[0] != due:
            if current is not None and current[0] <= end:
                heapq.heappush(queue, (current[0], home))
            continue
        if due > end or made[home] >= MAX_VISITS_PER_HOME:
            continue
        made[home] += 1
        made_on[home, due] += 1
        overdue = due < start
        day = start if overdue else due
        on = _last_working_day(day, working) or (working[0] if working else day)
        monday = on - timedelta(days=on.weekday())
        demand[monday] += visit_duration_min(pack, residents[home], on)
        visits_due[monday] += 1
        for child in current[1]:
            if overdue:
                overdue_children.add(child.id)
            else:
                due_per_day[on].add(child.id)
        for child in residents[home]:
            history[child.id].append(
                Contact(
                    on=on,
                    at_home=True,
                    home_id=home,
                    announced=False,
                    seen_alone=True,
                    bedroom_seen=True,
                    seen_awake=True,
                    role=role_of.get(child.id),
                    start=time(15, 30),
                )
            )
        if overdue:
            overdue_visits[monday] += 1
        for neighbour in sorted({h for c in residents[home] for h in c.household_ids} & set(homes)):
            found = next_due(neighbour)
            # A deadline a plain visit cannot meet (a role the team lacks, say) would never
            # move: at most two visits a day to one home are counted.
            if found is not None and found[0] <= end and made_on[neighbour, found[0]] < 2:
                heapq.heappush(queue, (found[0], neighbour))
    team_workers = [w for w in scenario.workers if w.team_id == team_id]
    planned: dict[date, int] = defaultdict(int)
    team_homes = set(homes)
    for visit in plan.visits if plan else ():
        if (
            visit.household_id in team_homes
            and visit.status != "cancelled"
            and start <= visit.day <= end
        ):
            planned[visit.day - timedelta(days=visit.day.weekday())] += visit.duration_min
    loads = tuple(
        WeekLoad(
            week_start=monday,
            demand_min=demand[monday],
            capacity_min=sum(
                _capacity_min(scenario, w, d, tz)
                for w in team_workers
                for d in working
                if monday <= d < monday + timedelta(days=7)
            ),
            planned_min=planned[monday],
            visits_due=visits_due[monday],
            overdue_visits=overdue_visits[monday],
        )
        for monday in mondays
    )
    days = tuple(DayDue(day=d, children=len(due_per_day[d])) for d in working)
    return Outlook(
        team_id=team_id,
        start=start,
        weeks=loads,
        days=days,
        overdue_children=len(overdue_children),
    )
