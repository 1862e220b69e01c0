"""The independent plan checker: every clause of the planning contract, in plain Python.

Rule: works on domain types and real dates and recomputes requirements from the packs; it never
imports `solver`, `scheduler.translate` or `scheduler.planning` (DESIGN.md section 2).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from policies import (
    ChildFacts,
    Contact,
    MonthlyCountRule,
    Pack,
    Role,
    RuleId,
    allowed_roles,
    applicable_rules,
    due_dates,
    load_pack,
    month_end,
    retry_part_of_day,
    retry_rule_id,
    school_start,
)
from scheduler.calendar import WorkingCalendar
from scheduler.domain import (
    Absence,
    BusyTime,
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
from scheduler.index import index_of
from scheduler.school_terms import SchoolDays
from scheduler.timegrid import clock, minutes_of, part_of_day
from scheduler.visiting import Place, place_of, travel_between, visit_duration_min

GRAIN_MIN = 15
"""Visits start on a quarter-hour: what teams book by hand and what the solver's grid uses."""


class BreachKey(NamedTuple):
    """What identifies a breach: the child, the rule and the deadline missed."""

    child_id: ChildId
    rule_id: RuleId
    due: date


class Violation(BaseModel):
    """One thing wrong with a plan: hard (the plan is invalid) or a warning."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(description="Stable code, e.g. 'overlap' or 'unreported-breach'.")
    hard: bool = Field(description="True when the plan breaks the contract.")
    message: str = Field(description="What is wrong, in words a manager can act on.")
    visit_id: str | None = Field(default=None, description="The visit concerned, if any.")
    child_id: ChildId | None = Field(default=None, description="The child concerned, if any.")
    worker_id: WorkerId | None = Field(default=None, description="The worker concerned, if any.")
    rule_id: RuleId | None = Field(default=None, description="The pack rule concerned, if any.")


class CheckReport(BaseModel):
    """The checker's verdict on a plan."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    violations: tuple[Violation, ...] = Field(default=(), description="Everything found.")
    breaches_found: tuple[BreachKey, ...] = Field(
        default=(), description="Every breach the checker finds, reported or not."
    )

    @property
    def hard(self) -> tuple[Violation, ...]:
        """Violations that make the plan invalid."""
        return tuple(v for v in self.violations if v.hard)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        """Violations worth a look that do not make the plan invalid."""
        return tuple(v for v in self.violations if not v.hard)

    @property
    def ok(self) -> bool:
        """True when there is no hard violation."""
        return not self.hard

    def codes(self) -> set[str]:
        """The distinct violation codes found."""
        return {v.code for v in self.violations}


class FoundBreach(NamedTuple):
    """A breach found by simulating the plan, with the day it was finally met (if it was)."""

    key: BreachKey
    met_on: date | None


@dataclass
class _Context:
    """Everything the clauses look up, built once per check."""

    scenario: Scenario
    plan: Plan
    pack: Pack
    calendar: WorkingCalendar
    tz: ZoneInfo
    workers: Mapping[WorkerId, Worker]
    households: Mapping[HouseholdId, Household]
    children: Mapping[ChildId, Child]
    residents: Mapping[HouseholdId, tuple[Child, ...]]
    visits: tuple[Visit, ...]
    """Planned (not cancelled) visits whose ids all resolve."""
    absences: Mapping[WorkerId, tuple[Absence, ...]]
    busy: Mapping[WorkerId, tuple[BusyTime, ...]]
    school: SchoolDays
    """The authority's school days (its term dates, else the nation's typical terms)."""

    def local(self, moment: datetime) -> datetime:
        """A moment as local wall-clock time of the authority."""
        return moment.astimezone(self.tz)

    def day_of(self, visit: Visit) -> date:
        """The visit's local date."""
        return self.local(visit.start).date()

    def start_time(self, visit: Visit) -> time:
        """The visit's local start time."""
        return self.local(visit.start).time()

    def start_min(self, visit: Visit) -> int:
        """Minutes after local midnight the visit starts."""
        start = self.local(visit.start)
        return minutes_of(start.time())

    def end_min(self, visit: Visit) -> int:
        """Minutes after local midnight the visit ends (wall clock; no DST change by day)."""
        return self.start_min(visit) + visit.duration_min

    def attendees(self, visit: Visit) -> tuple[Worker, ...]:
        """The first worker and, for a joint visit, the second."""
        ids = (visit.worker_id, visit.second_worker_id)
        return tuple(self.workers[i] for i in ids if i is not None and i in self.workers)

    def travel(self, a: Place, b: Place) -> int:
        """Travel minutes between two places at the authority's speed."""
        return travel_between(a, b, self.scenario.authority)


def _violation(code: str, message: str, **ids: str | None) -> Violation:
    return Violation(code=code, hard=True, message=message, **ids)


# Clause 2 (and sanity): every id resolves.
def _check_ids(scenario: Scenario, plan: Plan) -> Iterator[Violation]:
    """Every visit the checker judges (a planned one) names a known household, children and
    workers, and visit ids are unique. A cancelled visit is not judged: it may name a child
    whose case is closed since (that is why it was cancelled)."""
    workers = {w.id for w in scenario.workers}
    households = {h.id for h in scenario.households}
    children = {c.id for c in scenario.children}
    seen: set[str] = set()
    if plan.authority != scenario.authority.id:
        yield _violation(
            "unknown-id",
            f"plan is for authority {plan.authority!r}, scenario for {scenario.authority.id!r}",
        )
    for visit in plan.visits:
        if visit.id in seen:
            yield _violation("unknown-id", f"visit id {visit.id} is used twice", visit_id=visit.id)
        seen.add(visit.id)
        if visit.status != "planned":
            continue
        if visit.household_id not in households:
            yield _violation(
                "unknown-id", f"unknown household {visit.household_id!r}", visit_id=visit.id
            )
        for worker_id in (visit.worker_id, visit.second_worker_id):
            if worker_id is not None and worker_id not in workers:
                yield _violation(
                    "unknown-id",
                    f"unknown worker {worker_id!r}",
                    visit_id=visit.id,
                    worker_id=worker_id,
                )
        for child_id in visit.child_ids:
            if child_id not in children:
                yield _violation(
                    "unknown-id",
                    f"unknown child {child_id!r}",
                    visit_id=visit.id,
                    child_id=child_id,
                )


def _resolves(visit: Visit, workers: set[str], households: set[str], children: set[str]) -> bool:
    return (
        visit.household_id in households
        and visit.worker_id in workers
        and (visit.second_worker_id is None or visit.second_worker_id in workers)
        and all(c in children for c in visit.child_ids)
    )


# Clause 1: horizon and working days.
def _check_horizon(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """Visits lie within plan.start .. plan.end inclusive."""
    day = ctx.day_of(visit)
    if not ctx.plan.start <= day <= ctx.plan.end:
        yield _violation(
            "outside-horizon",
            f"visit on {day} is outside the plan, which runs from {ctx.plan.start} to "
            f"{ctx.plan.end}",
            visit_id=visit.id,
        )


def _check_working_day(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """Visits fall on working days (no weekends, bank holidays or closure days)."""
    day = ctx.day_of(visit)
    if not ctx.calendar.is_working_day(day):
        yield _violation(
            "not-working-day", f"{day:%a %d %b %Y} is not a working day", visit_id=visit.id
        )


def _check_worker_available(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """Every attending worker is contracted that weekday and not absent."""
    day = ctx.day_of(visit)
    for worker in ctx.attendees(visit):
        if day.weekday() not in worker.days:
            yield _violation(
                "worker-unavailable",
                f"{worker.id} does not work on {day:%A}s",
                visit_id=visit.id,
                worker_id=worker.id,
            )
        for absence in ctx.absences.get(worker.id, ()):
            if absence.covers(day):
                yield _violation(
                    "worker-absent",
                    f"{worker.id} is away on {day} ({absence.reason})",
                    visit_id=visit.id,
                    worker_id=worker.id,
                )


# Clause 2: siblings.
def _check_siblings(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """A visit covers exactly the children living in the household, and there is one."""
    residents = {c.id for c in ctx.residents.get(visit.household_id, ())}
    listed = set(visit.child_ids)
    if not residents:
        yield _violation(
            "siblings-split",
            f"household {visit.household_id} has no open child to visit",
            visit_id=visit.id,
        )
        return
    for child_id in sorted(residents - listed):
        yield _violation(
            "siblings-split",
            f"{child_id} lives in {visit.household_id} but the visit leaves them out",
            visit_id=visit.id,
            child_id=child_id,
        )
    for child_id in sorted(listed - residents):
        yield _violation(
            "siblings-split",
            f"{child_id} does not live in {visit.household_id}",
            visit_id=visit.id,
            child_id=child_id,
        )


# Clause 3: duration.
def _check_duration(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """The visit lasts the pack's base plus a slot per extra child seen alone."""
    children = ctx.residents.get(visit.household_id, ())
    if not children:
        return
    expected = visit_duration_min(ctx.pack, children, ctx.day_of(visit))
    if visit.duration_min != expected:
        yield _violation(
            "duration",
            f"visit lasts {visit.duration_min} min; {expected} min needed for these children",
            visit_id=visit.id,
        )


# Clause 4: who.
def _check_roles(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """The visiting worker's role counts for every child the visit covers."""
    worker = ctx.workers[visit.worker_id]
    day = ctx.day_of(visit)
    for child_id in visit.child_ids:
        roles = allowed_roles(ctx.pack, ctx.children[child_id].facts(), day)
        if roles is not None and worker.role not in roles:
            yield _violation(
                "role-not-allowed",
                f"{worker.id} is a {worker.role}; {child_id} needs {', '.join(roles)}",
                visit_id=visit.id,
                child_id=child_id,
                worker_id=worker.id,
            )


def _check_team(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """The worker belongs to the household's team (or a neighbour, with cross-team cover)."""
    team_id = ctx.households[visit.household_id].team_id
    if team_id is None:
        return
    allowed = {team_id}
    if ctx.scenario.authority.cross_team_cover:
        for team in ctx.scenario.teams:
            if team.id == team_id:
                allowed.update(team.neighbours)
    worker = ctx.workers[visit.worker_id]
    if worker.team_id not in allowed:
        yield _violation(
            "wrong-team",
            f"{worker.id} is in team {worker.team_id}; {visit.household_id} belongs to {team_id}",
            visit_id=visit.id,
            worker_id=worker.id,
        )


def _check_joint_visit(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """A joint-visit household gets a second, different worker who is not a student."""
    if not ctx.households[visit.household_id].joint_visit:
        return
    second = visit.second_worker_id
    if second is None:
        yield _violation(
            "joint-visit", f"{visit.household_id} needs two workers; one planned", visit_id=visit.id
        )
    elif second == visit.worker_id:
        yield _violation("joint-visit", "the second worker is the first worker", visit_id=visit.id)
    elif ctx.workers[second].role == "student":
        yield _violation(
            "joint-visit",
            f"{second} is a student and cannot be the second worker",
            visit_id=visit.id,
            worker_id=second,
        )


# Clause 5: time of day, busy times.
def _check_grain(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """Visits start on a quarter-hour."""
    start = ctx.local(visit.start)
    if start.minute % GRAIN_MIN or start.second or start.microsecond:
        yield _violation(
            "off-grain",
            f"visit starts at {start:%H:%M:%S}, not on a {GRAIN_MIN}-minute step",
            visit_id=visit.id,
        )


def _check_hours(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """Every attending worker's day contains the whole visit."""
    start, end = ctx.start_min(visit), ctx.end_min(visit)
    for worker in ctx.attendees(visit):
        if start < minutes_of(worker.day_start) or end > minutes_of(worker.day_end):
            yield _violation(
                "outside-hours",
                f"visit {clock(start)}-{clock(end)} is outside {worker.id}'s hours "
                f"{worker.day_start:%H:%M}-{worker.day_end:%H:%M}",
                visit_id=visit.id,
                worker_id=worker.id,
            )


def _check_busy(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """No attending worker has a calendar commitment during the visit."""
    for worker in ctx.attendees(visit):
        for busy in ctx.busy.get(worker.id, ()):
            if busy.start < visit.end and visit.start < busy.end:
                yield _violation(
                    "busy",
                    f"{worker.id} is busy {ctx.local(busy.start):%H:%M}-"
                    f"{ctx.local(busy.end):%H:%M}",
                    visit_id=visit.id,
                    worker_id=worker.id,
                )


def _worker_days(ctx: _Context) -> dict[tuple[WorkerId, date], list[Visit]]:
    """Each worker's visits (as first or second worker) per day, in start order."""
    days: dict[tuple[WorkerId, date], list[Visit]] = defaultdict(list)
    for visit in ctx.visits:
        for worker in ctx.attendees(visit):
            days[worker.id, ctx.day_of(visit)].append(visit)
    for visits in days.values():
        visits.sort(key=lambda v: (v.start, v.id))
    return days


def _check_overlap(ctx: _Context, worker: Worker, visits: list[Visit]) -> Iterator[Violation]:
    """A worker is at one visit at a time."""
    for i, earlier in enumerate(visits):
        for later in visits[i + 1 :]:
            if later.start < earlier.end:
                yield _violation(
                    "overlap",
                    f"{worker.id} is at {earlier.id} and {later.id} at once",
                    visit_id=later.id,
                    worker_id=worker.id,
                )


def _check_visits_per_day(
    ctx: _Context, worker: Worker, visits: list[Visit]
) -> Iterator[Violation]:
    """A worker makes at most max_visits_per_day visits (as first or second worker) a day."""
    cap = worker.max_visits_per_day or ctx.scenario.authority.max_visits_per_day
    if len(visits) > cap:
        yield _violation(
            "too-many-visits",
            f"{worker.id} has {len(visits)} visits on {ctx.day_of(visits[0])}; at most {cap}",
            visit_id=visits[cap].id,
            worker_id=worker.id,
        )


def _check_travel(ctx: _Context, worker: Worker, visits: list[Visit]) -> Iterator[Violation]:
    """There is time to travel from base, between consecutive visits and back to base."""
    base = place_of(worker)

    def place(visit: Visit) -> Place:
        return place_of(ctx.households[visit.household_id])

    first, last = visits[0], visits[-1]
    need = ctx.travel(base, place(first))
    # A visit outside the worker's hours is an hours violation already, not a travel one.
    if minutes_of(worker.day_start) <= ctx.start_min(first) < minutes_of(worker.day_start) + need:
        yield _violation(
            "travel",
            f"{worker.id} cannot get from base to {first.household_id} by "
            f"{clock(ctx.start_min(first))} ({need} min from {worker.day_start:%H:%M})",
            visit_id=first.id,
            worker_id=worker.id,
        )
    for earlier, later in pairwise(visits):
        if later.start < earlier.end:
            continue  # already an overlap
        need = ctx.travel(place(earlier), place(later))
        gap = int((later.start - earlier.end).total_seconds() // 60)
        if gap < need:
            yield _violation(
                "travel",
                f"{worker.id} has {gap} min from {earlier.id} to {later.id}; travel takes "
                f"{need} min",
                visit_id=later.id,
                worker_id=worker.id,
            )
    need = ctx.travel(place(last), base)
    if ctx.end_min(last) <= minutes_of(worker.day_end) < ctx.end_min(last) + need:
        yield _violation(
            "travel",
            f"{worker.id} cannot get back to base from {last.household_id} by "
            f"{worker.day_end:%H:%M} ({need} min after {clock(ctx.end_min(last))})",
            visit_id=last.id,
            worker_id=worker.id,
        )


# Clause 6: family windows and school hours.
def _check_family_window(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """Where a family gives windows, the visit lies entirely inside one for that weekday."""
    household = ctx.households[visit.household_id]
    if not household.windows:
        return
    day = ctx.day_of(visit)
    start, end = ctx.start_min(visit), ctx.end_min(visit)
    fits = any(
        w.weekday == day.weekday() and minutes_of(w.start) <= start and end <= minutes_of(w.end)
        for w in household.windows
    )
    if not fits:
        yield _violation(
            "family-window",
            f"visit {clock(start)}-{clock(end)} on {day:%A} is outside the family's windows",
            visit_id=visit.id,
        )


def _check_school_hours(ctx: _Context, visit: Visit) -> Iterator[Violation]:
    """On school days in term time a school-age child is not visited before school ends."""
    day = ctx.day_of(visit)
    household = ctx.households[visit.household_id]
    school_day = ctx.school.is_school_day(day)
    for child_id in visit.child_ids:
        facts = ctx.children[child_id].facts()
        not_before = school_start(ctx.pack, facts, day, school_day=school_day)
        if not_before is None:
            continue
        earliest = household.school_day_start or not_before
        if ctx.start_time(visit) < earliest:
            yield _violation(
                "school-hours",
                f"{child_id} is at school until {earliest:%H:%M}; visit starts "
                f"{ctx.start_time(visit):%H:%M}",
                visit_id=visit.id,
                child_id=child_id,
            )


# Clause 7: retry at a different time of day.
PARTS = {"morning": (0, 12 * 60), "afternoon": (12 * 60, 17 * 60), "evening": (17 * 60, 24 * 60)}


def _leads(ctx: _Context, household: Household, day: date) -> Iterator[Worker]:
    """Workers who could lead a visit to the household on `day`: team, role, contract, leave."""
    children = ctx.residents.get(household.id, ())
    teams = {household.team_id}
    if household.team_id and ctx.scenario.authority.cross_team_cover:
        teams |= {n for t in ctx.scenario.teams if t.id == household.team_id for n in t.neighbours}
    for worker in ctx.scenario.workers:
        if household.team_id is not None and worker.team_id not in teams:
            continue
        if day.weekday() not in worker.days:
            continue
        if any(a.covers(day) for a in ctx.absences.get(worker.id, ())):
            continue
        roles = [allowed_roles(ctx.pack, c.facts(), day) for c in children]
        if all(r is None or worker.role in r for r in roles):
            yield worker


def _other_part_possible(ctx: _Context, household: Household, avoid: str) -> bool:
    """True when, on some working day of the plan, a visit to the household could start
    outside `avoid`'s part of the day: inside the family's windows, after school, by a worker
    who may lead it, within their hours with travel from and back to base."""
    lo, hi = PARTS[avoid]
    children = ctx.residents.get(household.id, ())
    place = place_of(household)
    for day in _horizon_days(ctx.plan.start, ctx.plan.end):
        if not ctx.calendar.is_working_day(day):
            continue
        duration = visit_duration_min(ctx.pack, children, day)
        school_day = ctx.school.is_school_day(day)
        school = [
            t
            for c in children
            if (t := school_start(ctx.pack, c.facts(), day, school_day=school_day)) is not None
        ]
        after = minutes_of(household.school_day_start or max(school)) if school else 0
        windows = [
            (minutes_of(w.start), minutes_of(w.end))
            for w in household.windows
            if w.weekday == day.weekday()
        ]
        if not household.windows:
            windows = [(0, 24 * 60)]
        for worker in _leads(ctx, household, day):
            base = place_of(worker)
            earliest = minutes_of(worker.day_start) + ctx.travel(base, place)
            latest = minutes_of(worker.day_end) - duration - ctx.travel(place, base)
            for first, last in windows:
                start = -(-max(first, after, earliest) // GRAIN_MIN) * GRAIN_MIN
                end = min(last - duration, latest) // GRAIN_MIN * GRAIN_MIN
                if start <= end and (start < lo or end >= hi):
                    return True
    return False


def _check_retry_time_of_day(
    ctx: _Context, records: dict[ChildId, list[Contact]]
) -> Iterator[Violation]:
    """A retry after a failed visit starts in a different part of the day from the failure.

    The failure is the latest in `records` (each child's recorded visits) up to and
    including the plan's first day, as the planner reads them (`translate.start_dues`): a
    visit recorded not seen this morning, before a re-plan from today, is the one to avoid.
    """
    first_visit: dict[ChildId, Visit] = {}
    for visit in sorted(ctx.visits, key=lambda v: (v.start, v.id)):
        if not ctx.plan.start <= ctx.day_of(visit) <= ctx.plan.end:
            continue
        for child_id in visit.child_ids:
            first_visit.setdefault(child_id, visit)
    for child_id, visit in sorted(first_visit.items()):
        history = [c for c in records[child_id] if c.on <= ctx.plan.start]
        facts = ctx.children[child_id].facts()
        avoid = retry_part_of_day(ctx.pack, facts, history)
        household = ctx.households[visit.household_id]
        if avoid is None or not _other_part_possible(ctx, household, avoid):
            continue
        if part_of_day(ctx.start_time(visit)) == avoid:
            yield _violation(
                "retry-time-of-day",
                f"the failed visit to {child_id} was in the {avoid}; the next visit "
                f"{visit.id} is too",
                visit_id=visit.id,
                child_id=child_id,
                rule_id=retry_rule_id(ctx.pack, facts, history),
            )


# Clause 8: requirements, by simulating the history with the plan's visits.
def checklist_of(items: Sequence[str], case_ref: str) -> set[str]:
    """One child's checklist items: unprefixed ones, and those prefixed '<case ref>: '."""
    mine: set[str] = set()
    for item in items:
        ref, sep, rest = item.partition(": ")
        if not sep:
            mine.add(item)
        elif ref == case_ref:
            mine.add(rest)
    return mine


def _record_contacts(ctx: _Context) -> dict[ChildId, list[Contact]]:
    """Each child's history (its records) as contacts, in record order."""
    roles: dict[WorkerId, Role] = {w.id: w.role for w in ctx.scenario.workers}
    out: dict[ChildId, list[Contact]] = {c.id: [] for c in ctx.scenario.children}
    for record in ctx.scenario.records:
        role = roles.get(record.worker_id) if record.worker_id else None
        out[record.child_id].append(record.contact(role))
    return out


def _contacts(
    ctx: _Context, records: dict[ChildId, list[Contact]] | None = None
) -> dict[ChildId, list[Contact]]:
    """Each child's history (`records`, if already read) plus the plan's visits as completed
    contacts, sorted by date."""
    roles: dict[WorkerId, Role] = {w.id: w.role for w in ctx.scenario.workers}
    read = _record_contacts(ctx) if records is None else records
    out = {child_id: list(contacts) for child_id, contacts in read.items()}
    case_refs = {c.id: c.case_ref for c in ctx.scenario.children}
    for visit in ctx.visits:
        for child_id in visit.child_ids:
            items = checklist_of(visit.checklist, case_refs.get(child_id, child_id))
            out[child_id].append(
                Contact(
                    on=ctx.day_of(visit),
                    outcome="completed",
                    at_home=True,
                    home_id=visit.household_id,
                    announced=visit.announced,
                    seen_alone="seen-alone" in items,
                    bedroom_seen="bedroom" in items,
                    seen_awake="seen-awake" in items,
                    role=roles[visit.worker_id],
                    start=ctx.start_time(visit),
                )
            )
    for contacts in out.values():
        contacts.sort(key=lambda c: (c.on, c.start or time(0)))
    return out


def _horizon_days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def _judgement_days(
    pack: Pack, facts: ChildFacts, contact_days: set[date], start: date, end: date
) -> list[date]:
    """The days of start .. end + 1 on which one child's deadlines must be judged.

    What `due_dates(as_of=D)` returns depends only on the contacts before D and on which rules
    apply on D. So within a stretch of days with the same contacts and the same rules the
    answer is the same, and judging the stretch's last day finds every deadline missed on
    any day of it: that day is the last before a new contact, the last before the rules
    change, or the day after the horizon.
    """
    days = _horizon_days(start, end + timedelta(days=1))
    rules = [tuple(r.id for r in applicable_rules(pack, facts, day)) for day in days]
    return [
        day
        for i, day in enumerate(days)
        if i == len(days) - 1 or day in contact_days or rules[i] != rules[i + 1]
    ]


def _child_breaches(
    pack: Pack,
    calendar: WorkingCalendar,
    child: Child,
    contacts: list[Contact],
    start: date,
    end: date,
) -> Iterator[FoundBreach]:
    """One child's breaches: deadlines missed by each day, and monthly counts not reached."""
    facts = child.facts()
    days = [c.on for c in contacts]
    last_missed: dict[BreachKey, date] = {}
    for today in _judgement_days(pack, facts, set(days), start, end):
        before = contacts[: bisect.bisect_left(days, today)]
        for due in due_dates(pack, facts, before, calendar, as_of=today):
            if due.due < today:
                last_missed[BreachKey(child.id, due.rule_id, due.due)] = today
    for key, day in last_missed.items():
        # Missed on `day` but not the day after: a contact on `day` met it late. Still missed
        # on the day after the horizon: not met within it.
        yield FoundBreach(key, None if day > end else day)
    monthly = {r.id for r in pack.rules if isinstance(r, MonthlyCountRule)}
    if not monthly:
        return
    for last_day in sorted({month_end(d) for d in _horizon_days(start, end)}):
        if last_day > end:
            continue
        upto = contacts[: bisect.bisect_right(days, last_day)]
        for due in due_dates(pack, facts, upto, calendar, as_of=last_day):
            if due.rule_id in monthly and due.count:
                yield FoundBreach(BreachKey(child.id, due.rule_id, last_day), None)


def find_breaches(
    scenario: Scenario, plan: Plan, pack: Pack | None = None
) -> tuple[FoundBreach, ...]:
    """Every requirement the plan leaves unmet in its horizon, sorted by due date.

    A deadline already past at the start counts; deadlines after `plan.end` are not judged.
    """
    ctx = _context(scenario, plan, pack)
    return _find_breaches(ctx, _contacts(ctx))


def _find_breaches(
    ctx: _Context, contacts: dict[ChildId, list[Contact]]
) -> tuple[FoundBreach, ...]:
    found: dict[BreachKey, FoundBreach] = {}
    for child in ctx.scenario.children:
        for breach in _child_breaches(
            ctx.pack, ctx.calendar, child, contacts[child.id], ctx.plan.start, ctx.plan.end
        ):
            found.setdefault(breach.key, breach)
    return tuple(sorted(found.values(), key=lambda b: (b.key.due, b.key.child_id, b.key.rule_id)))


# Clause 9: every breach reported.
def _check_breaches_reported(plan: Plan, found: Iterable[FoundBreach]) -> Iterator[Violation]:
    """Every breach found is in plan.breaches, and one the plan reports as met late is met;
    a reported one not found is only a warning."""
    found = list(found)
    found_keys = {b.key for b in found}
    reported = {BreachKey(b.child_id, b.rule_id, b.due) for b in plan.breaches}
    for key in sorted(found_keys - reported, key=lambda k: (k.due, k.child_id, k.rule_id)):
        yield _violation(
            "unreported-breach",
            f"{key.child_id}: {key.rule_id} due {key.due} is not met and not reported",
            child_id=key.child_id,
            rule_id=key.rule_id,
        )
    met_late = {
        BreachKey(b.child_id, b.rule_id, b.due): b.days_late
        for b in plan.breaches
        if b.days_late is not None
    }
    for b in sorted(found, key=lambda b: (b.key.due, b.key.child_id, b.key.rule_id)):
        if b.met_on is None and b.key in met_late:
            # Reported as met late, now not met at all (its visit failed or was not made).
            yield _violation(
                "unreported-breach",
                f"{b.key.child_id}: {b.key.rule_id} due {b.key.due} is reported met "
                f"{met_late[b.key]} day(s) late but is not met",
                child_id=b.key.child_id,
                rule_id=b.key.rule_id,
            )
    for key in sorted(reported - found_keys, key=lambda k: (k.due, k.child_id, k.rule_id)):
        yield Violation(
            code="reported-breach-not-found",
            hard=False,
            message=f"{key.child_id}: {key.rule_id} due {key.due} is reported but met",
            child_id=key.child_id,
            rule_id=key.rule_id,
        )


def _context(scenario: Scenario, plan: Plan, pack: Pack | None) -> _Context:
    pack = pack or load_pack(scenario.authority.id)
    index = index_of(scenario)
    workers, households, children = index.workers, index.households, index.children
    known = set(children)
    return _Context(
        scenario=scenario,
        plan=plan,
        pack=pack,
        calendar=WorkingCalendar(pack.nation, pack.closure_days),
        tz=ZoneInfo(scenario.authority.timezone),
        workers=workers,
        households=households,
        children=children,
        residents=index.children_by_household,
        visits=tuple(
            v
            for v in plan.visits
            if v.status == "planned" and _resolves(v, set(workers), set(households), known)
        ),
        absences=index.absences_by_worker,
        busy=index.busy_by_worker,
        school=SchoolDays(pack.nation, scenario.authority.school_terms),
    )


VISIT_CLAUSES = (
    _check_horizon,
    _check_working_day,
    _check_worker_available,
    _check_siblings,
    _check_duration,
    _check_roles,
    _check_team,
    _check_joint_visit,
    _check_grain,
    _check_hours,
    _check_busy,
    _check_family_window,
    _check_school_hours,
)
WORKER_DAY_CLAUSES = (_check_overlap, _check_visits_per_day, _check_travel)


def check_plan(scenario: Scenario, plan: Plan, pack: Pack | None = None) -> CheckReport:
    """Check a plan against every clause of the planning contract (docs/planning-contract.md).

    Only planned visits are judged: cancelled ones are gone, and visits marked done (kept in a
    re-plan for the calendars) are history, which the visit records carry. `pack` defaults to
    the scenario authority's pack; tests pass a hand-made one.
    """
    ctx = _context(scenario, plan, pack)
    violations: list[Violation] = list(_check_ids(scenario, plan))
    for visit in ctx.visits:
        for clause in VISIT_CLAUSES:
            violations.extend(clause(ctx, visit))
    for (worker_id, _day), visits in sorted(_worker_days(ctx).items()):
        for day_clause in WORKER_DAY_CLAUSES:
            violations.extend(day_clause(ctx, ctx.workers[worker_id], visits))
    records = _record_contacts(ctx)
    violations.extend(_check_retry_time_of_day(ctx, records))
    found = _find_breaches(ctx, _contacts(ctx, records))
    violations.extend(_check_breaches_reported(plan, found))
    return CheckReport(violations=tuple(violations), breaches_found=tuple(b.key for b in found))
