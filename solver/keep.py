"""Re-planning: whether a problem's published visits can be kept verbatim, without a solve.

Rule: pure integer checks on the `Problem`, the same hard rules stage 1 and stage 2 enforce
(options, roles, shifts, windows, busy times, travel, daily caps, the retry part of day), then
whether the published visits still meet every clock and monthly count they could meet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from solver.problem import GRAIN_MIN, Clock, PreviousVisit, Problem

_FAR = 10**9


def _visit_problems(problem: Problem, p: PreviousVisit, first: bool) -> list[str]:
    task = problem.tasks[p.task]
    option = task.option(p.day)
    if p.resource is None:
        return ["its worker is not in this team group"]
    if option is None or p.resource not in option.resources:
        return ["its worker may no longer make it that day (absence, role, team or closure)"]
    out = []
    if option.duration_min != p.duration_min:
        out.append("its length changed (children in the household)")
    if p.start_min % GRAIN_MIN or not any(lo <= p.start_min <= hi for lo, hi in option.windows):
        out.append("its time is outside the family's window or after-school start")
    if task.joint != (p.second_resource is not None):
        out.append("joint-visit need changed")
    if p.second_resource is not None and (
        p.second_resource == p.resource or p.second_resource not in option.second_resources
    ):
        out.append("its second worker may no longer make it")
    if first and task.first_avoid is not None:
        lo, hi = task.first_avoid
        if lo <= p.start_min < hi:
            out.append("a retry must be at another time of day")
    return out


def _route_problems(problem: Problem) -> list[str]:
    """Hours, busy times, travel and daily caps of each resource's published day."""
    days: dict[tuple[int, int], list[PreviousVisit]] = defaultdict(list)
    for p in problem.previous:
        for r in (p.resource, p.second_resource):
            if r is not None:
                days[r, p.day].append(p)
    out = []
    tt = problem.travel_min
    for (r, day), visits in sorted(days.items()):
        resource = problem.resources[r]
        shift = resource.shift(day)
        if shift is None:
            out.append(f"{resource.id} does not work day {day}")
            continue
        if len(visits) > resource.max_visits_per_day:
            out.append(f"{resource.id} has too many visits on day {day}")
        here, clock = resource.location, shift.start_min
        for p in sorted(visits, key=lambda p: p.start_min):
            loc = problem.tasks[p.task].location
            end = p.start_min + p.duration_min
            if p.start_min < clock + tt[here][loc]:
                out.append(f"{resource.id} cannot reach {problem.tasks[p.task].id} on day {day}")
            if any(s < end and p.start_min < e for s, e in shift.busy):
                out.append(f"{resource.id} is busy at {problem.tasks[p.task].id} on day {day}")
            here, clock = loc, end
        if clock + tt[here][resource.location] > shift.end_min:
            out.append(f"{resource.id} cannot get back to base on day {day}")
    return out


def _could_visit(problem: Problem, tasks: tuple[int, ...], first: int, last: int) -> bool:
    """Whether any of `tasks` has a visit option between two horizon days."""
    last = min(last, problem.horizon_days - 1)
    return any(first <= o.day <= last and o.resources for t in tasks for o in problem.tasks[t].days)


Accepted = Mapping[tuple[str, int], int | None]
"""(subject, due day) -> days late in the published plan (None: not met in it): the breaches
the published plan already reported, which a kept plan may repeat but not make worse."""


def _accepted(accepted: Accepted, subject: str, due: int, late: int | None) -> bool:
    """Whether missing (`subject`, `due`) by `late` days (None: not met) is no worse than the
    published plan reported: a child it saw late must not now be seen later, or not at all
    (a failed or missed visit of an overdue child)."""
    if (subject, due) not in accepted:
        return False
    before = accepted[subject, due]
    return before is None or (late is not None and late <= before)


def _clock_problem(
    problem: Problem, clock: Clock, days: list[int], until: int, accepted: Accepted
) -> str | None:
    """A deadline inside the horizon the published visits miss although a visit could fit, or
    one the published plan missed that they now miss by more."""
    due, since = clock.first_due_day, 0
    for d in days:
        if (
            due < d
            and (due >= 0 or (clock.subject, due) in accepted)
            and not _accepted(accepted, clock.subject, due, d - due)
            and _could_visit(problem, clock.tasks, since, due if due >= 0 else d - 1)
        ):
            return f"{clock.id}: deadline day {due} missed by the published visits"
        due = clock.next_due_day[d] if clock.next_due_day is not None else _FAR
        since = d + 1
    if (
        0 <= due < until
        and not _accepted(accepted, clock.subject, due, None)
        and _could_visit(problem, clock.tasks, since, due)
    ):
        return f"{clock.id}: deadline day {due} not met by the published visits"
    if (
        due < 0
        and not days
        and not _accepted(accepted, clock.subject, due, None)
        and _could_visit(problem, clock.tasks, 0, problem.horizon_days)
    ):
        return f"{clock.id}: overdue and no published visit"
    return None


def why_not_kept(
    problem: Problem, until: int | None = None, accepted: Accepted | None = None
) -> list[str]:
    """Why the published visits cannot stand as they are (empty: keep them, no solve needed).

    Deadlines are judged on days before `until` (the published plan's end; default the
    horizon), so a re-plan horizon reaching past the published plan does not count against it.
    A (subject, due day) in `accepted` is a breach the published plan already reported, with
    its days late: the kept visits may miss it by as much, not more.
    """
    accepted = accepted or {}
    until = problem.horizon_days if until is None else min(until, problem.horizon_days)
    first_day: dict[int, int] = {}
    for p in problem.previous:
        first_day[p.task] = min(first_day.get(p.task, _FAR), p.day)
    out: list[str] = []
    seen: set[tuple[int, int]] = set()
    for p in problem.previous:
        if (p.task, p.day) in seen:
            out.append(f"{problem.tasks[p.task].id}: two visits on day {p.day}")
        seen.add((p.task, p.day))
        for why in _visit_problems(problem, p, first_day[p.task] == p.day):
            out.append(f"{problem.tasks[p.task].id} day {p.day}: {why}")
    if out:
        return out
    out.extend(_route_problems(problem))
    visits: dict[int, list[PreviousVisit]] = defaultdict(list)
    for p in problem.previous:
        visits[p.task].append(p)
    for clock in problem.clocks:
        days = sorted(
            p.day
            for t in clock.tasks
            for p in visits.get(t, ())
            if p.unannounced or not clock.unannounced
        )
        missed = _clock_problem(problem, clock, days, until, accepted)
        if missed:
            out.append(missed)
    for quota in problem.quotas:
        if quota.last_day >= until:
            continue
        count = sum(
            1
            for t in quota.tasks
            for p in visits.get(t, ())
            if quota.first_day <= p.day <= quota.last_day
            and (p.unannounced or not quota.unannounced)
        )
        if (
            count < quota.count
            and (quota.subject, quota.last_day) not in accepted
            and _could_visit(problem, quota.tasks, 0, quota.last_day)
        ):
            out.append(f"{quota.id}: {count} of {quota.count} visits")
    return out
