"""Domain to solver and back: builds one integer `Problem` per team and explains breaches.

Rule: the only module that knows both the domain (dates, workers, households) and the
solver's integers; the checker never imports it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from policies import (
    BothHomesRule,
    ChildFacts,
    Counting,
    Due,
    IntervalRule,
    Pack,
    Period,
    RetryRule,
    Role,
    Rule,
    add_period,
    age_years,
    allowed_roles,
    applicable_rules,
    due_dates,
    effective_period,
    interval_period,
    school_start,
    scope_changes,
)
from scheduler.calendar import WorkingCalendar
from scheduler.check import GRAIN_MIN
from scheduler.domain import (
    Absence,
    BusyTime,
    Child,
    Household,
    Scenario,
    TeamId,
    Visit,
    VisitRecord,
    Worker,
)
from scheduler.due import contacts_for
from scheduler.school_terms import SchoolDays
from scheduler.visiting import place_of, travel_between, visit_duration_min
from solver import Clock, PreviousVisit, Problem, Quota, Resource, Shift, Task, TaskDay

DAY_MIN = 24 * 60
PARTS_OF_DAY_MIN = {
    "morning": (0, 12 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "evening": (17 * 60, DAY_MIN),
}
"""Start-minute ranges of the parts of day the retry rule tells apart (policies.engine)."""

LATENESS_PER_DAY = {
    "child-protection": 1_000_000,
    "child-in-care": 700_000,
    "private-fostering": 600_000,
    "child-in-need": 400_000,
    "care-leaver": 200_000,
    "early-help": 100_000,
}
"""Cost of a statutory deadline missed by a day: child protection weighs most (DESIGN 4)."""
NON_STATUTORY_PER_DAY = 50_000
UNANNOUNCED_SHARE = 5
"""Unannounced clocks weigh a fifth of the child's lateness: the mix comes after breaches."""
NO_CHAIN = 10**6
ROLE_LABEL = {
    "social-worker": "registered social worker",
    "family-support-worker": "family support worker",
    "student": "student",
    "manager": "manager",
}


@dataclass
class TeamProblem:
    """One team's (or group of covering teams') problem and the tables to read it back."""

    teams: tuple[TeamId, ...]
    problem: Problem
    start: date
    days: tuple[date, ...]
    households: tuple[Household, ...]
    workers: tuple[Worker, ...]
    children: dict[str, tuple[Child, ...]] = field(default_factory=dict)
    """Household id -> its children."""
    eligible: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Household id -> ids of workers allowed to lead its visits on some day (team and role)."""


@dataclass
class Context:
    """What every team's translation shares: the pack, calendar, time zone and history."""

    scenario: Scenario
    pack: Pack
    calendar: WorkingCalendar
    tz: ZoneInfo
    start: date
    days: tuple[date, ...]
    horizon_days: int
    roles: dict[str, Role]
    records: dict[str, list[VisitRecord]]
    kids: dict[str, tuple[Child, ...]] = field(default_factory=dict)
    """Household id -> its children, sorted by id (`children_of`, indexed once)."""
    facts: dict[str, ChildFacts] = field(default_factory=dict)
    """Child id -> `child.facts()`, built once."""
    absences: dict[str, list[Absence]] = field(default_factory=dict)
    """Worker id -> the worker's absences."""
    busy: dict[str, list[BusyTime]] = field(default_factory=dict)
    """Worker id -> the worker's busy times."""
    rule_cache: dict[tuple[str, int], tuple[Rule, ...]] = field(default_factory=dict)
    """(child id, stretch index in `scope_changes`) -> the rules that apply (`rules_on`)."""
    scope_changes: dict[str, tuple[date, ...]] = field(default_factory=dict)
    """Child id -> days on which a rule's scope may change for the child."""
    period_cache: dict[tuple[date, str, int, str], date] = field(default_factory=dict)
    accepted: dict[tuple[str, date], int | None] = field(default_factory=dict)
    """Re-planning: (child id, due) -> days late (None: not met) of the breaches the published
    plan already reported (`planning.accepted_breaches`)."""
    school: SchoolDays = field(default_factory=SchoolDays)
    """School days: the authority's term dates, else its nation's typical terms."""
    not_before: tuple[int, int] | None = None
    """A plan or re-plan made during the day: (day index, minute after midnight, local)
    before which nothing new is placed (`Problem.not_before`); None: whole days."""


def rules_on(ctx: Context, child: Child, day: date) -> tuple[Rule, ...]:
    """`applicable_rules` for the child on `day`, memoised for the run per stretch of days
    on which no rule's scope changes for the child (`policies.scope_changes`)."""
    changes = ctx.scope_changes.get(child.id)
    if changes is None:
        changes = ctx.scope_changes[child.id] = scope_changes(ctx.pack, ctx.facts[child.id])
    key = (child.id, bisect_right(changes, day))
    rules = ctx.rule_cache.get(key)
    if rules is None:
        rules = ctx.rule_cache[key] = applicable_rules(ctx.pack, ctx.facts[child.id], day)
    return rules


def period_end(ctx: Context, day: date, period: Period, counting: Counting) -> date:
    """`add_period` on the plan's calendar, memoised for the run."""
    key = (day, period.unit, period.amount, counting)
    end = ctx.period_cache.get(key)
    if end is None:
        end = ctx.period_cache[key] = add_period(day, period, ctx.calendar, counting)
    return end


def make_context(
    scenario: Scenario,
    pack: Pack,
    calendar: WorkingCalendar,
    start: date,
    weeks: int,
    lookahead_weeks: int,
    horizon_days: int | None = None,
) -> Context:
    """The shared translation context for a plan from `start`: `horizon_days` (default
    `7 * weeks`) planned, then `lookahead_weeks` modelled."""
    horizon = 7 * weeks if horizon_days is None else horizon_days
    records: dict[str, list[VisitRecord]] = defaultdict(list)
    for record in sorted(scenario.records, key=lambda r: (r.on, r.id)):
        records[record.child_id].append(record)
    total = horizon + 7 * lookahead_weeks
    kids: dict[str, list[Child]] = defaultdict(list)
    for child in sorted(scenario.children, key=lambda c: c.id):
        for household in dict.fromkeys(child.household_ids):
            kids[household].append(child)
    absences: dict[str, list[Absence]] = defaultdict(list)
    for absence in scenario.absences:
        absences[absence.worker_id].append(absence)
    busy: dict[str, list[BusyTime]] = defaultdict(list)
    for item in scenario.busy:
        busy[item.worker_id].append(item)
    return Context(
        scenario=scenario,
        pack=pack,
        calendar=calendar,
        tz=ZoneInfo(scenario.authority.timezone),
        start=start,
        days=tuple(start + timedelta(days=i) for i in range(total)),
        horizon_days=horizon,
        roles={w.id: w.role for w in scenario.workers},
        records=records,
        kids={h: tuple(cs) for h, cs in kids.items()},
        facts={c.id: c.facts() for c in scenario.children},
        absences=absences,
        busy=busy,
        school=SchoolDays(pack.nation, scenario.authority.school_terms),
    )


def start_dues(ctx: Context, child: Child) -> tuple[Due, ...]:
    """The child's requirements as of the plan's first day: history up to and including it (a
    visit recorded on the first day, as a re-plan from today has, is history, not a need)."""
    contacts = contacts_for((r for r in ctx.records[child.id] if r.on <= ctx.start), ctx.roles)
    return due_dates(ctx.pack, ctx.facts[child.id], contacts, ctx.calendar, ctx.start)


COVER_GROUP_TEAMS = 2
"""Teams planned together under cross-team cover: a team and one neighbour (in id order), so
a group stays about twice a team's size however the neighbours connect the authority."""


def team_groups(scenario: Scenario) -> list[tuple[TeamId, ...]]:
    """Teams planned together: alone, or under cross-team cover in small groups of
    neighbouring teams (`COVER_GROUP_TEAMS`).

    Each team, in id order, not yet grouped joins its first neighbour (as `Team.neighbours`
    lists them, in id order) not yet grouped; cover then happens inside each group, so a
    visit is only ever made by a neighbouring team's worker. Households with no team can be
    visited by anyone, so their presence joins every team into one group.
    """
    ids = sorted(t.id for t in scenario.teams)
    if any(h.team_id is None for h in scenario.households):
        return [tuple(ids)] if ids else []
    if not scenario.authority.cross_team_cover:
        return [(t,) for t in ids]
    neighbours = {t.id: sorted(set(t.neighbours) & set(ids) - {t.id}) for t in scenario.teams}
    grouped: dict[str, tuple[TeamId, ...]] = {}
    for team in ids:
        if team in grouped:
            continue
        group = [team]
        for other in neighbours[team]:
            if len(group) >= COVER_GROUP_TEAMS:
                break
            if other not in grouped:
                group.append(other)
        for member in group:
            grouped[member] = tuple(sorted(group))
    return sorted(set(grouped.values()))


def households_by_group(
    scenario: Scenario, groups: list[tuple[TeamId, ...]]
) -> dict[tuple[TeamId, ...], list[Household]]:
    """Each team group's households (with or without children), in scenario order; those of
    no team belong to the first group."""
    group_of: dict[str | None, tuple[TeamId, ...]] = {t: g for g in groups for t in g}
    if groups:
        group_of[None] = groups[0]
    out: dict[tuple[TeamId, ...], list[Household]] = {g: [] for g in groups}
    for h in scenario.households:
        group = group_of.get(h.team_id)
        if group is not None:
            out[group].append(h)
    return out


def team_workers_for(scenario: Scenario, household: Household) -> set[str]:
    """Ids of workers whose team may visit the household (contract rule 4)."""
    if household.team_id is None:
        return {w.id for w in scenario.workers}
    teams = {household.team_id}
    if scenario.authority.cross_team_cover:
        team = next(t for t in scenario.teams if t.id == household.team_id)
        teams |= set(team.neighbours)
    return {w.id for w in scenario.workers if w.team_id in teams}


def is_available(ctx: Context, worker: Worker, day: date) -> bool:
    """Working day, contracted weekday, and not absent."""
    if not ctx.calendar.is_working_day(day) or day.weekday() not in worker.days:
        return False
    return not any(a.covers(day) for a in ctx.absences.get(worker.id, ()))


def minutes_of(t: time) -> int:
    """Minutes after midnight of a time of day."""
    return t.hour * 60 + t.minute


def busy_on(ctx: Context, worker: Worker, day: date) -> tuple[tuple[int, int], ...]:
    """The worker's busy times on `day` as local minutes after midnight, clipped to the day."""
    midnight = datetime.combine(day, time(0), tzinfo=ctx.tz)
    out = []
    for busy in ctx.busy.get(worker.id, ()):
        s = (busy.start.astimezone(ctx.tz) - midnight).total_seconds() // 60
        e = -(-(busy.end.astimezone(ctx.tz) - midnight).total_seconds() // 60)
        s, e = max(0, int(s)), min(DAY_MIN, int(e))
        if s < e:
            out.append((s, e))
    return tuple(sorted(out))


def _facts(ctx: Context, child: Child) -> ChildFacts:
    """The child's facts, built once per run (`Context.facts`)."""
    facts = ctx.facts.get(child.id)
    return child.facts() if facts is None else facts


def start_ranges(
    ctx: Context, household: Household, children: Sequence[Child], day: date, duration_min: int
) -> tuple[tuple[int, int], ...]:
    """Allowed start minutes on `day`: family windows, after school (contract rule 6)."""
    term = ctx.school.is_school_day(day)
    school = [
        s
        for c in children
        if (s := school_start(ctx.pack, _facts(ctx, c), day, school_day=term)) is not None
    ]
    earliest = 0
    if school:
        earliest = minutes_of(household.school_day_start or max(school))
    if household.windows:
        windows = [
            (minutes_of(w.start), minutes_of(w.end))
            for w in household.windows
            if w.weekday == day.weekday()
        ]
    else:
        windows = [(0, DAY_MIN)]
    out = []
    for lo, hi in sorted(windows):
        lo, hi = max(lo, earliest), hi - duration_min
        if lo <= hi:
            out.append((lo, hi))
    return tuple(out)


def other_part_possible(
    options: Sequence[TaskDay],
    resources: Sequence[Resource],
    travel: Sequence[Sequence[int]],
    location: int,
    avoid: str,
    horizon_days: int,
) -> bool:
    """Whether a visit could start outside the part of the day `avoid` on some day of the
    horizon: within the family's windows and after school, by an eligible worker inside their
    hours with travel from and back to base (busy times and other visits aside). Where none
    can, the retry keeps the times the family and the workers have (docs/decisions.md)."""
    lo, hi = PARTS_OF_DAY_MIN[avoid]
    for option in options:
        if option.day >= horizon_days:
            continue
        for r in option.resources:
            resource = resources[r]
            shift = next((x for x in resource.shifts if x.day == option.day), None)
            if shift is None:
                continue
            earliest = shift.start_min + travel[resource.location][location]
            latest = shift.end_min - option.duration_min - travel[location][resource.location]
            for first, last in option.windows:
                start = -(-max(first, earliest) // GRAIN_MIN) * GRAIN_MIN
                end = min(last, latest) // GRAIN_MIN * GRAIN_MIN
                if start <= end and (start < lo or end >= hi):
                    return True
    return False


def lead_roles(ctx: Context, children: Sequence[Child], day: date) -> set[Role] | None:
    """Roles allowed to lead a visit covering all `children` on `day` (None: any)."""
    allowed: set[Role] | None = None
    for child in children:
        roles = allowed_roles(ctx.pack, _facts(ctx, child), day)
        if roles is not None:
            allowed = set(roles) if allowed is None else allowed & set(roles)
    return allowed


def _weight(child: Child, due: Due) -> int:
    if not due.statutory:
        return NON_STATUTORY_PER_DAY
    return LATENESS_PER_DAY.get(child.category, NON_STATUTORY_PER_DAY)


def _chain(ctx: Context, child: Child, clocks: set[str]) -> tuple[int, ...] | None:
    """Per window day: the latest day of the next visit after one that day (interval rules)."""
    facts = ctx.facts[child.id]
    rules = [
        (r.id, period, r.counting)
        for r in ctx.pack.rules
        if isinstance(r, IntervalRule)
        and r.clock in clocks
        and (period := interval_period(r, facts)) is not None
    ]
    if not rules:
        return None
    table = []
    for day in ctx.days:
        applying = {r.id for r in rules_on(ctx, child, day)}
        dues = [
            period_end(ctx, day, period, counting)
            for rule_id, period, counting in rules
            if rule_id in applying
        ]
        table.append((min(dues) - ctx.start).days if dues else NO_CHAIN)
    return tuple(table) if any(x != NO_CHAIN for x in table) else None


def _both_homes_chain(ctx: Context, child: Child, dues: Sequence[Due]) -> tuple[int, ...] | None:
    """Per window day: next due at one home under the both-homes rule (stretched interval)."""
    facts = child.facts()
    rules = [
        r for r in applicable_rules(ctx.pack, facts, ctx.start) if isinstance(r, BothHomesRule)
    ]
    base = min(
        (d for d in dues if d.kind == "interval" and d.clock == "home"),
        default=None,
        key=lambda d: d.due,
    ) or min(
        (d for d in dues if d.kind == "interval" and d.clock == "seen"),
        default=None,
        key=lambda d: d.due,
    )
    if not rules or base is None:
        return None
    base_rule = ctx.pack.rule(base.rule_id)
    assert isinstance(base_rule, IntervalRule)
    period = effective_period(base_rule, facts)
    stretched = period.model_copy(update={"amount": period.amount * rules[0].factor})
    return tuple(
        (period_end(ctx, day, stretched, base_rule.counting) - ctx.start).days for day in ctx.days
    )


def _retry_buffer_days(ctx: Context, child: Child) -> int:
    """Calendar days a retry would need: slack wanted before a deadline."""
    rules = [
        r
        for r in applicable_rules(ctx.pack, child.facts(), ctx.start)
        if isinstance(r, RetryRule) and r.within is not None
    ]
    if not rules:
        return 0
    return min(
        (add_period(ctx.start, r.within, ctx.calendar) - ctx.start).days  # type: ignore[arg-type]
        for r in rules
    )


def _month_quotas(
    ctx: Context, child: Child, dues: Sequence[Due], tasks: tuple[int, ...], weight: int
) -> list[Quota]:
    """Monthly counts: the rest of this month, then each later month ending in the window."""
    out = []
    last = len(ctx.days) - 1
    for due in dues:
        if due.kind != "monthly_count" or not due.count:
            continue
        end = (due.due - ctx.start).days
        out.append(
            Quota(
                id=f"{child.id}:{due.rule_id}:{due.due.isoformat()}",
                subject=child.id,
                tasks=tasks,
                first_day=0,
                last_day=min(end, last),
                count=due.count,
                unannounced=due.clock == "unannounced",
                weight=7 * weight,
            )
        )
    for i, day in enumerate(ctx.days):
        if day.day != 1 or i == 0:
            continue
        month_end = day.replace(day=28) + timedelta(days=4)
        month_end -= timedelta(days=month_end.day)
        if (month_end - ctx.start).days > last:
            continue
        for rule in rules_on(ctx, child, day):
            if rule.kind != "monthly_count":
                continue
            out.append(
                Quota(
                    id=f"{child.id}:{rule.id}:{month_end.isoformat()}",
                    subject=child.id,
                    tasks=tasks,
                    first_day=i,
                    last_day=(month_end - ctx.start).days,
                    count=rule.count,
                    unannounced=rule.clock == "unannounced",
                    weight=7 * weight,
                )
            )
    return out


def _child_clocks(
    ctx: Context, child: Child, task_of: dict[str, int]
) -> tuple[list[Clock], list[Quota], str | None]:
    """The child's clocks and monthly quotas, and the part of day its retry avoids."""
    dues = start_dues(ctx, child)
    tasks = tuple(sorted(task_of[h] for h in child.household_ids if h in task_of))
    if not tasks:
        return [], [], None
    weight = max((_weight(child, d) for d in dues), default=NON_STATUTORY_PER_DAY)
    clocks: list[Clock] = []
    seen = [
        d
        for d in dues
        if d.clock in ("seen", "home") and d.kind != "monthly_count" and d.kind != "both_homes"
    ]
    seen_chain = _chain(ctx, child, {"seen", "home"})
    if seen or seen_chain:
        first = min((d.due for d in seen), default=ctx.days[-1] + timedelta(days=NO_CHAIN))
        clocks.append(
            Clock(
                id=f"{child.id}:seen",
                subject=child.id,
                tasks=tasks,
                first_due_day=min((first - ctx.start).days, NO_CHAIN),
                next_due_day=seen_chain,
                weight_per_day=weight,
                buffer_days=_retry_buffer_days(ctx, child),
            )
        )
    unannounced = [d for d in dues if d.clock == "unannounced" and d.kind != "monthly_count"]
    if unannounced:
        first = min(d.due for d in unannounced)
        clocks.append(
            Clock(
                id=f"{child.id}:unannounced",
                subject=child.id,
                tasks=tasks,
                unannounced=True,
                first_due_day=(first - ctx.start).days,
                next_due_day=_chain(ctx, child, {"unannounced"}),
                # A practice mix (no period in the document) weighs as practice, not statutory.
                weight_per_day=max(
                    1, max(_weight(child, d) for d in unannounced) // UNANNOUNCED_SHARE
                ),
            )
        )
    homes = [d for d in dues if d.clock == "each_home" and d.home_id in task_of]
    for home in sorted({d.home_id for d in homes if d.home_id}):
        mine = [d for d in homes if d.home_id == home]
        chain = (
            _both_homes_chain(ctx, child, dues)
            if any(d.kind == "both_homes" for d in mine)
            else _chain(ctx, child, {"each_home"})
        )
        clocks.append(
            Clock(
                id=f"{child.id}:home:{home}",
                subject=child.id,
                tasks=(task_of[home],),
                first_due_day=(min(d.due for d in mine) - ctx.start).days,
                next_due_day=chain,
                weight_per_day=weight,
            )
        )
    quotas = _month_quotas(ctx, child, dues, tasks, weight)
    avoid = next((d.avoid_part_of_day for d in dues if d.avoid_part_of_day), None)
    return clocks, quotas, avoid


def to_problem(ctx: Context, teams: tuple[TeamId, ...]) -> TeamProblem:
    """The integer problem of one team group."""
    scenario = ctx.scenario
    households = tuple(
        h
        for h in sorted(
            households_by_group(scenario, team_groups(scenario))[teams], key=lambda h: h.id
        )
        if ctx.kids.get(h.id)
    )
    workers = tuple(sorted((w for w in scenario.workers if w.team_id in teams), key=lambda w: w.id))
    resource_of = {w.id: i for i, w in enumerate(workers)}
    points = [place_of(w) for w in workers] + [place_of(h) for h in households]
    authority = scenario.authority
    matrix = tuple(tuple(travel_between(a, b, authority) for b in points) for a in points)
    resources = []
    for w in workers:
        shifts = tuple(
            Shift(
                day=i,
                start_min=minutes_of(w.day_start),
                end_min=minutes_of(w.day_end),
                busy=busy_on(ctx, w, day),
            )
            for i, day in enumerate(ctx.days)
            if is_available(ctx, w, day)
        )
        resources.append(
            Resource(
                id=w.id,
                location=resource_of[w.id],
                shifts=shifts,
                max_visits_per_day=w.max_visits_per_day or scenario.authority.max_visits_per_day,
            )
        )
    task_of = {h.id: i for i, h in enumerate(households)}
    clocks: list[Clock] = []
    quotas: list[Quota] = []
    avoid_of: dict[str, str] = {}
    children_by_home = {h.id: ctx.kids[h.id] for h in households}
    for child in sorted({c for cs in children_by_home.values() for c in cs}, key=lambda c: c.id):
        c_clocks, c_quotas, avoid = _child_clocks(ctx, child, task_of)
        clocks.extend(c_clocks)
        quotas.extend(c_quotas)
        if avoid:
            for home in child.household_ids:
                avoid_of.setdefault(home, avoid)
    tasks = []
    eligible: dict[str, tuple[str, ...]] = {}
    working = {r: {s.day for s in resource.shifts} for r, resource in enumerate(resources)}
    for h in households:
        kids = children_by_home[h.id]
        in_team = team_workers_for(scenario, h)
        options = []
        leads_any: set[str] = set()
        same: dict[tuple[Any, ...], tuple[int, tuple[tuple[int, int], ...], set[Role] | None]] = {}
        ruled: dict[tuple[Any, ...], tuple[int, set[Role] | None]] = {}
        for i, day in enumerate(ctx.days):
            if not ctx.calendar.is_working_day(day):
                continue
            # Duration and roles depend on the day only through the children's ages and the
            # rules that apply, start ranges through the weekday and school day as well:
            # compute each once per combination.
            rules = tuple(
                (age_years(c.birth_date, day), tuple(r.id for r in rules_on(ctx, c, day)))
                for c in kids
            )
            key = (day.weekday(), ctx.school.is_school_day(day), *rules)
            if key not in same:
                if rules not in ruled:
                    ruled[rules] = (
                        visit_duration_min(ctx.pack, kids, day),
                        lead_roles(ctx, kids, day),
                    )
                duration, roles = ruled[rules]
                same[key] = (duration, start_ranges(ctx, h, kids, day, duration), roles)
            duration, ranges, roles = same[key]
            leads = tuple(
                resource_of[w.id]
                for w in workers
                if w.id in in_team
                and (roles is None or w.role in roles)
                and i in working[resource_of[w.id]]
            )
            leads_any |= {
                w.id for w in workers if w.id in in_team and (roles is None or w.role in roles)
            }
            seconds = (
                tuple(
                    resource_of[w.id]
                    for w in workers
                    if w.id in in_team and w.role != "student" and i in working[resource_of[w.id]]
                )
                if h.joint_visit
                else ()
            )
            if ranges and leads:
                options.append(
                    TaskDay(
                        day=i,
                        duration_min=duration,
                        windows=ranges,
                        resources=leads,
                        second_resources=seconds,
                    )
                )
        eligible[h.id] = tuple(sorted(leads_any))
        preferred = tuple(
            sorted(
                {resource_of[c.allocated_worker] for c in kids if c.allocated_worker in resource_of}
            )
        )
        avoid = avoid_of.get(h.id)
        location = len(workers) + task_of[h.id]
        if avoid and not other_part_possible(
            options, resources, matrix, location, avoid, ctx.horizon_days
        ):
            avoid = None  # no family window and worker's day leaves another part of the day
        tasks.append(
            Task(
                id=h.id,
                location=location,
                joint=h.joint_visit,
                days=tuple(options),
                preferred_resources=preferred,
                first_avoid=PARTS_OF_DAY_MIN[avoid] if avoid else None,
            )
        )
    problem = Problem(
        horizon_days=ctx.horizon_days,
        window_days=len(ctx.days),
        travel_min=matrix,
        resources=tuple(resources),
        tasks=tuple(tasks),
        clocks=tuple(clocks),
        quotas=tuple(quotas),
    )
    return TeamProblem(
        teams=teams,
        problem=problem,
        start=ctx.start,
        days=ctx.days,
        households=households,
        workers=workers,
        children=children_by_home,
        eligible=eligible,
    )


def attach_previous(
    ctx: Context, tp: TeamProblem, visits: Sequence[Visit]
) -> tuple[TeamProblem, list[str]]:
    """The team problem with its published horizon visits (re-planning), and stale ones.

    Visits to the group's households inside the horizon become `PreviousVisit`s; a visit whose
    children no longer match the household's (a new child, a child gone) is named as stale.
    The times before `ctx.not_before` are then taken away (`from_now`), which needs the
    published visits; a plan made during the day with none calls it with `visits` empty.
    """
    task_of = {h.id: i for i, h in enumerate(tp.households)}
    resource_of = {w.id: i for i, w in enumerate(tp.workers)}
    day_of = {d: i for i, d in enumerate(tp.days[: ctx.horizon_days])}
    kept: list[PreviousVisit] = []
    stale: list[str] = []
    for visit in sorted(visits, key=lambda v: (v.start, v.household_id)):
        local = visit.start.astimezone(ctx.tz)
        if visit.status != "planned" or visit.household_id not in task_of:
            continue
        if local.date() not in day_of:
            continue
        kids = tuple(c.id for c in tp.children[visit.household_id])
        if tuple(sorted(visit.child_ids)) != kids:
            stale.append(f"{visit.id}: the children in {visit.household_id} changed")
        second = visit.second_worker_id
        kept.append(
            PreviousVisit(
                task=task_of[visit.household_id],
                day=day_of[local.date()],
                resource=resource_of.get(visit.worker_id),
                second_resource=None if second is None else resource_of.get(second),
                start_min=local.hour * 60 + local.minute,
                duration_min=visit.duration_min,
                unannounced=not visit.announced,
                pinned=visit.pinned,
            )
        )
    problem = tp.problem.model_copy(update={"previous": tuple(kept)})
    return replace(tp, problem=from_now(problem, ctx.not_before)), stale


def not_before_index(
    now: datetime | None, tz: ZoneInfo, days: Sequence[date]
) -> tuple[int, int] | None:
    """`now` (aware) as (day index in `days`, minute after midnight in `tz`): what a plan or
    re-plan made at that moment may not place a visit before. None without `now`, or when `now` is
    before the first day (the whole plan is ahead)."""
    if now is None:
        return None
    local = now.astimezone(tz)
    first = days[0]
    if local.date() < first:
        return None
    index = (local.date() - first).days
    if index >= len(days):
        return len(days), 0
    minute = local.hour * 60 + local.minute
    return index, -(-minute // GRAIN_MIN) * GRAIN_MIN  # the next start on the grain


def from_now(problem: Problem, not_before: tuple[int, int] | None) -> Problem:
    """The problem with `not_before` set, and each task's days and start ranges before it
    taken away. A published visit before it whose workers can still make it keeps its one
    start as a range of its own, so stage 1 may leave it where it is; its task may still
    move after the moment (stage 2 holds a start before it to the published workers,
    `solver.sequence`). Stage 1 then books no visit in time gone by that stage 2 would have
    to cut (a sick worker's 15:30 visit, re-planned at 16:30)."""
    if not_before is None:
        return problem
    first_day, minute = not_before
    published = {(p.task, p.day): p for p in problem.previous}
    tasks = []
    for t, task in enumerate(problem.tasks):
        options = []
        for option in task.days:
            if option.day > first_day:
                options.append(option)
                continue
            cutoff = minute if option.day == first_day else 24 * 60
            windows = [(max(lo, cutoff), hi) for lo, hi in option.windows if hi >= cutoff]
            kept = published.get((t, option.day))
            if kept is not None and kept.start_min < cutoff and _can_stay(kept, option):
                windows.insert(0, (kept.start_min, kept.start_min))
            if windows == list(option.windows):
                options.append(option)
            elif windows:
                options.append(option.model_copy(update={"windows": tuple(windows)}))
        same = options == list(task.days)
        tasks.append(task if same else task.model_copy(update={"days": tuple(options)}))
    return problem.model_copy(update={"tasks": tuple(tasks), "not_before": not_before})


def _can_stay(visit: PreviousVisit, option: TaskDay) -> bool:
    """Whether a published visit's workers may still make it that day at its start."""
    return (
        visit.resource in option.resources
        and (visit.second_resource is None or visit.second_resource in option.second_resources)
        and any(lo <= visit.start_min <= hi for lo, hi in option.windows)
    )
