"""The baseline planner: greedy earliest-deadline-first, as a careful manager plans by hand.

Rule: no solver and no clock; every visit it places keeps the planning contract, so
`scheduler.check.check_plan` finds no hard violation in its plans.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from policies import (
    ChildFacts,
    Contact,
    Due,
    Pack,
    allowed_roles,
    checklist,
    due_dates,
    load_pack,
    school_start,
)
from scheduler.calendar import WorkingCalendar
from scheduler.check import GRAIN_MIN, BreachKey, find_breaches
from scheduler.domain import (
    Breach,
    Child,
    ChildId,
    Household,
    HouseholdId,
    Plan,
    Scenario,
    Visit,
    Worker,
    WorkerId,
)
from scheduler.school_terms import SchoolDays
from scheduler.timegrid import minutes_of, part_of_day, time_of
from scheduler.visiting import Place, children_of, place_of, travel_between, visit_duration_min

NOON_MIN = 12 * 60
EVENING_MIN = 17 * 60


@dataclass
class _Booking:
    """A visit already in a worker's day: when, and where they will be afterwards."""

    start_min: int
    end_min: int
    place: Place


@dataclass
class _Slot:
    """Where a household visit fits: the day, the start and the crew."""

    day: date
    start_min: int
    crew: tuple[Worker, ...]


@dataclass
class _State:
    """Everything the greedy planner knows and has decided so far."""

    scenario: Scenario
    pack: Pack
    calendar: WorkingCalendar
    tz: ZoneInfo
    start: date
    end: date
    facts: dict[ChildId, ChildFacts]
    residents: dict[HouseholdId, tuple[Child, ...]]
    contacts: dict[ChildId, list[Contact]]
    avoid: dict[ChildId, str]
    """Part of day a child's retry must avoid (from a failed visit before the plan)."""
    busy: dict[tuple[WorkerId, date], list[tuple[int, int]]]
    school: SchoolDays
    """School days: the authority's terms, else the nation's typical terms."""
    bookings: dict[tuple[WorkerId, date], list[_Booking]] = field(
        default_factory=lambda: defaultdict(list)
    )
    load: dict[WorkerId, int] = field(default_factory=lambda: defaultdict(int))
    visits: list[Visit] = field(default_factory=list)
    reasons: dict[BreachKey, str] = field(default_factory=dict)


def _round_up(minutes: int) -> int:
    return -(-minutes // GRAIN_MIN) * GRAIN_MIN


def _travel(state: _State, a: Place, b: Place) -> int:
    return travel_between(a, b, state.scenario.authority)


def _busy_by_day(
    scenario: Scenario, tz: ZoneInfo
) -> dict[tuple[WorkerId, date], list[tuple[int, int]]]:
    """Each worker's busy times as local minutes, split by day."""
    out: dict[tuple[WorkerId, date], list[tuple[int, int]]] = defaultdict(list)
    for busy in scenario.busy:
        start, end = busy.start.astimezone(tz), busy.end.astimezone(tz)
        day = start.date()
        while day <= end.date():
            first = minutes_of(start.time()) if day == start.date() else 0
            last = minutes_of(end.time()) if day == end.date() else 24 * 60
            out[busy.worker_id, day].append((first, last))
            day += timedelta(days=1)
    return out


def _is_available(state: _State, worker: Worker, day: date) -> bool:
    """The worker works that weekday, is not absent and has room for another visit."""
    if day.weekday() not in worker.days:
        return False
    if any(a.worker_id == worker.id and a.covers(day) for a in state.scenario.absences):
        return False
    cap = worker.max_visits_per_day or state.scenario.authority.max_visits_per_day
    return len(state.bookings[worker.id, day]) < cap


def _team_workers(state: _State, household: Household) -> list[Worker]:
    """Workers of the household's team, or of a neighbouring team with cross-team cover."""
    if household.team_id is None:
        return list(state.scenario.workers)
    teams = {household.team_id}
    if state.scenario.authority.cross_team_cover:
        for team in state.scenario.teams:
            if team.id == household.team_id:
                teams.update(team.neighbours)
    return [w for w in state.scenario.workers if w.team_id in teams]


def _role_counts(state: _State, worker: Worker, children: tuple[Child, ...], day: date) -> bool:
    """The worker's visit counts for every child (a registered social worker for CP ...)."""
    for child in children:
        roles = allowed_roles(state.pack, state.facts[child.id], day)
        if roles is not None and worker.role not in roles:
            return False
    return True


def _earliest_start(
    state: _State, household: Household, day: date, duration: int, crew: tuple[Worker, ...]
) -> int | None:
    """The earliest start, after everything already in the crew's day, that keeps every rule.

    Returns None when the visit does not fit at the end of that day.
    """
    place = place_of(household)
    children = state.residents[household.id]
    lower = 0
    for worker in crew:
        booked = state.bookings[worker.id, day]
        if booked:
            ready = booked[-1].end_min + _travel(state, booked[-1].place, place)
        else:
            ready = minutes_of(worker.day_start) + _travel(state, place_of(worker), place)
        lower = max(lower, ready)
    school_day = state.school.is_school_day(day)
    for child in children:
        not_before = school_start(state.pack, state.facts[child.id], day, school_day=school_day)
        if not_before is not None:
            lower = max(lower, minutes_of(household.school_day_start or not_before))
    avoid = {state.avoid[c.id] for c in children if c.id in state.avoid}
    windows = sorted(
        (minutes_of(w.start), minutes_of(w.end))
        for w in household.windows
        if w.weekday == day.weekday()
    )
    if household.windows and not windows:
        return None
    start = _round_up(lower)
    while start < 24 * 60:
        moved = _next_allowed(state, start, duration, crew, day, windows, avoid)
        if moved is None:
            return None
        moved = _round_up(moved)
        if moved == start:
            break
        start = moved
    else:
        return None
    for worker in crew:
        back = _travel(state, place, place_of(worker))
        if start + duration + back > minutes_of(worker.day_end):
            return None
    return start


def _next_allowed(
    state: _State,
    start: int,
    duration: int,
    crew: tuple[Worker, ...],
    day: date,
    windows: list[tuple[int, int]],
    avoid: set[str],
) -> int | None:
    """`start` if it breaks no window, retry or busy rule, else the next start worth trying."""
    if windows and not any(a <= start and start + duration <= b for a, b in windows):
        later = [a for a, b in windows if a > start and a + duration <= b]
        return min(later) if later else None
    part = part_of_day(time_of(start))
    if part in avoid:
        if part == "evening":
            return None
        return NOON_MIN if part == "morning" else EVENING_MIN
    for worker in crew:
        for busy_start, busy_end in state.busy.get((worker.id, day), ()):
            if busy_start < start + duration and start < busy_end:
                return busy_end
    return start


def _household_dues(
    state: _State, household_id: HouseholdId, as_of: date
) -> list[tuple[Child, Due]]:
    """The deadlines within the horizon that a visit to this household serves.

    A deadline tied to a home belongs to that home; any other belongs to the child's first home.
    """
    out: list[tuple[Child, Due]] = []
    for child in state.residents[household_id]:
        for due in due_dates(
            state.pack, state.facts[child.id], state.contacts[child.id], state.calendar, as_of
        ):
            home = due.home_id or child.household_ids[0]
            if due.due <= state.end and home == household_id:
                out.append((child, due))
    return out


def _unannounced_due(state: _State, children: tuple[Child, ...], as_of: date) -> bool:
    """Some child has an unannounced-visit deadline within the horizon."""
    return any(
        due.clock == "unannounced" and due.due <= state.end
        for child in children
        for due in due_dates(
            state.pack, state.facts[child.id], state.contacts[child.id], state.calendar, as_of
        )
    )


def _candidate_workers(
    state: _State, household: Household, dues: list[tuple[Child, Due]]
) -> list[Worker]:
    """The allocated worker of the most urgent child first, then the team by lightest load."""
    team = _team_workers(state, household)
    allocated = [
        child.allocated_worker
        for child, _ in sorted(dues, key=lambda pair: pair[1].due)
        if child.allocated_worker
    ]
    first = next((w for w in team if allocated and w.id == allocated[0]), None)
    others = sorted((w for w in team if w is not first), key=lambda w: (state.load[w.id], w.id))
    return [first, *others] if first is not None else others


def _find_slot(
    state: _State, household: Household, workers: list[Worker], days: list[date]
) -> _Slot | None:
    """The first worker, in order, with a day on which the visit fits at the end of their day."""
    children = state.residents[household.id]
    for worker in workers:
        for day in days:
            if not _is_available(state, worker, day):
                continue
            if not _role_counts(state, worker, children, day):
                continue
            duration = visit_duration_min(state.pack, children, day)
            seconds: list[Worker | None] = [None]
            if household.joint_visit:
                seconds = [
                    w
                    for w in _team_workers(state, household)
                    if w.id != worker.id and w.role != "student" and _is_available(state, w, day)
                ]
            for second in sorted(seconds, key=lambda w: (state.load[w.id], w.id) if w else (0, "")):
                crew = (worker,) if second is None else (worker, second)
                start = _earliest_start(state, household, day, duration, crew)
                if start is not None:
                    return _Slot(day, start, crew)
    return None


def _book(state: _State, household: Household, slot: _Slot, dues: list[tuple[Child, Due]]) -> None:
    """Add the visit to the plan, the crew's days and the children's contacts."""
    children = state.residents[household.id]
    duration = visit_duration_min(state.pack, children, slot.day)
    announced = not _unannounced_due(state, children, slot.day)
    items: list[str] = []
    for child in children:
        for item in checklist(
            state.pack, state.facts[child.id], state.contacts[child.id], slot.day
        ):
            if item not in items:
                items.append(item)
    first = slot.crew[0]
    start = datetime.combine(
        slot.day, time(slot.start_min // 60, slot.start_min % 60), tzinfo=state.tz
    )
    state.visits.append(
        Visit(
            id=f"v-{household.id}-{slot.day:%Y%m%d}",
            household_id=household.id,
            child_ids=tuple(c.id for c in children),
            worker_id=first.id,
            second_worker_id=slot.crew[1].id if len(slot.crew) > 1 else None,
            start=start,
            duration_min=duration,
            announced=announced,
            checklist=tuple(items),
            rule_ids=tuple(sorted({due.rule_id for _, due in dues})),
            due=min(due.due for _, due in dues),
        )
    )
    for worker in slot.crew:
        state.bookings[worker.id, slot.day].append(
            _Booking(slot.start_min, slot.start_min + duration, place_of(household))
        )
        state.load[worker.id] += 1
    contact = Contact(
        on=slot.day,
        announced=announced,
        home_id=household.id,
        seen_alone="seen-alone" in items,
        bedroom_seen="bedroom" in items,
        seen_awake="seen-awake" in items,
        role=first.role,
        start=time(slot.start_min // 60, slot.start_min % 60),
    )
    for child in children:
        state.contacts[child.id].append(contact)
        state.contacts[child.id].sort(key=lambda c: (c.on, c.start or time(0)))


def _why_late(
    state: _State, household: Household, workers: list[Worker], days: list[date], due: date
) -> str:
    """A simple reason a deadline could not be met."""
    if due < state.start:
        return "already overdue when the plan starts"
    if not days:
        return "capacity: no working day left before the deadline"
    children = state.residents[household.id]
    if not any(_role_counts(state, w, children, day) for w in workers for day in days):
        return "no qualified worker in the team"
    if household.windows and not any(
        w.weekday == day.weekday() for w in household.windows for day in days
    ):
        return "no family slot before the deadline"
    return "capacity: no qualified worker free before the deadline"


def _note_late(
    state: _State, dues: list[tuple[Child, Due]], met_on: date | None, reason: str
) -> None:
    for child, due in dues:
        if met_on is None or due.due < met_on:
            state.reasons.setdefault(BreachKey(child.id, due.rule_id, due.due), reason)


def _settle_day(after: date, deadline: date, start: date) -> date:
    """The day from which a household's next visit is preferred.

    The first visit in the plan goes as early as possible (room to retry if it fails); a
    further one is preferred from halfway between the previous visit and the new deadline,
    rather than the day after the previous visit.
    """
    if after == start or deadline < after:
        return after
    previous = after - timedelta(days=1)
    return previous + timedelta(days=(deadline - previous).days // 2)


def _new_state(scenario: Scenario, start: date, end: date, pack: Pack) -> _State:
    tz = ZoneInfo(scenario.authority.timezone)
    roles = {w.id: w.role for w in scenario.workers}
    contacts: dict[ChildId, list[Contact]] = {c.id: [] for c in scenario.children}
    for record in scenario.records:
        contacts[record.child_id].append(
            record.contact(roles.get(record.worker_id) if record.worker_id else None)
        )
    for history in contacts.values():
        history.sort(key=lambda c: (c.on, c.start or time(0)))
    calendar = WorkingCalendar(pack.nation, pack.closure_days)
    facts = {c.id: c.facts() for c in scenario.children}
    avoid: dict[ChildId, str] = {}
    for child in scenario.children:
        before = [c for c in contacts[child.id] if c.on < start]
        for due in due_dates(pack, facts[child.id], before, calendar, start):
            if due.avoid_part_of_day is not None:
                avoid[child.id] = due.avoid_part_of_day
    return _State(
        scenario=scenario,
        pack=pack,
        calendar=calendar,
        tz=tz,
        start=start,
        end=end,
        facts=facts,
        residents={h.id: children_of(scenario, h.id) for h in scenario.households},
        contacts=contacts,
        avoid=avoid,
        busy=_busy_by_day(scenario, tz),
        school=SchoolDays(pack.nation, scenario.authority.school_terms),
    )


def plan_greedy(scenario: Scenario, start: date, weeks: int = 1, pack: Pack | None = None) -> Plan:
    """A plan made earliest deadline first, appending each visit to the end of a worker's day.

    Repeatedly takes the household with the earliest outstanding deadline, tries its allocated
    worker and then the team on the earliest working day that meets it, and visits late (or
    not at all) when nobody can; every deadline it cannot meet is reported as a breach.
    `pack` defaults to the scenario authority's pack.
    """
    pack = pack or load_pack(scenario.authority.id)
    end = start + timedelta(days=7 * weeks - 1)
    state = _new_state(scenario, start, end, pack)
    households = {h.id: h for h in scenario.households}
    working = state.calendar.working_days(start, end)
    after = dict.fromkeys(households, start)
    queue: list[tuple[date, HouseholdId]] = []
    for household_id in households:
        dues = _household_dues(state, household_id, start)
        if dues:
            heapq.heappush(queue, (min(d.due for _, d in dues), household_id))
    while queue:
        deadline, household_id = heapq.heappop(queue)
        dues = _household_dues(state, household_id, after[household_id])
        if not dues:
            continue
        if min(d.due for _, d in dues) != deadline:
            heapq.heappush(queue, (min(d.due for _, d in dues), household_id))
            continue
        household = households[household_id]
        workers = _candidate_workers(state, household, dues)
        days = [d for d in working if d >= after[household_id]]
        settle = _settle_day(after[household_id], deadline, start)
        # Days from the settling day first, then earlier ones, latest first.
        in_time = [d for d in days if settle <= d <= deadline]
        in_time += [d for d in reversed(days) if d < settle]
        slot = _find_slot(state, household, workers, in_time)
        if slot is None:
            reason = _why_late(state, household, workers, in_time, deadline)
            slot = _find_slot(state, household, workers, [d for d in days if d > deadline])
            _note_late(state, dues, slot.day if slot else None, reason)
        if slot is None:
            continue
        _book(state, household, slot, dues)
        after[household_id] = slot.day + timedelta(days=1)
        touched = {h for c in state.residents[household_id] for h in c.household_ids}
        for other in sorted(touched):
            dues = _household_dues(state, other, after[other])
            if dues:
                heapq.heappush(queue, (min(d.due for _, d in dues), other))
    plan = Plan(
        id=f"greedy-{start:%Y%m%d}",
        authority=scenario.authority.id,
        start=start,
        end=end,
        visits=tuple(sorted(state.visits, key=lambda v: (v.start, v.id))),
        status="FEASIBLE",
    )
    return plan.model_copy(update={"breaches": _breaches(state, plan)})


def _breaches(state: _State, plan: Plan) -> tuple[Breach, ...]:
    """Every breach of the finished plan, with the reason noted when it was planned.

    The list itself comes from the checker's simulation, so that deadlines the greedy pass
    never saw (a second visit in the month, a deadline chained after a late visit) are
    reported too.
    """
    categories = {c.id: c.category for c in state.scenario.children}
    out: list[Breach] = []
    for found in find_breaches(state.scenario, plan, state.pack):
        key = found.key
        reason = state.reasons.get(key)
        if reason is None:
            reason = (
                "already overdue when the plan starts"
                if key.due < state.start
                else "capacity: not met within the plan"
            )
        out.append(
            Breach(
                child_id=key.child_id,
                rule_id=key.rule_id,
                due=key.due,
                days_late=(found.met_on - key.due).days if found.met_on else None,
                reason=reason,
                category=categories.get(key.child_id),
                severity=state.pack.rule(key.rule_id).severity,
            )
        )
    return tuple(out)
