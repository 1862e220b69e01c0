"""Why a deadline could not be met: breach reasons in words a manager can act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from policies import Role
from scheduler.domain import Child, Household, Visit, Worker
from scheduler.translate import (
    ROLE_LABEL,
    Context,
    TeamProblem,
    busy_on,
    is_available,
    lead_roles,
    minutes_of,
    start_ranges,
    team_workers_for,
)
from scheduler.visiting import visit_duration_min

CAPACITY = "team capacity short"
"""How a capacity reason begins (`week_loads` adds up those reasons' visits)."""


def team_phrase(ctx: Context, team_id: str | None) -> str:
    """A team as a manager names it: "Patch 3" -> "team Patch 3", "Assessment Team North"
    as it is; the id only when the scenario has no name for it."""
    if team_id is None:
        return "any team"
    name = next((t.name for t in ctx.scenario.teams if t.id == team_id), team_id)
    return name if "team" in name.lower() else f"team {name}"


def on_day(day: date) -> str:
    """A date as managers read it: "Thu 3 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def last_day(ctx: Context, due: date, met_on: date | None) -> date:
    """The last day a visit could have met the deadline inside this plan.

    A deadline already passed at the start could still be met as early as possible: the
    day before the late visit (or the horizon's end if there is none).
    """
    end = ctx.days[ctx.horizon_days - 1]
    if due >= ctx.start:
        return min(due, end)
    return end if met_on is None else met_on - timedelta(days=1)


@dataclass(frozen=True)
class Unmet:
    """A deadline the plan misses, with the first reason found for it."""

    tp: TeamProblem | None
    child: Child
    rule_id: str
    due: date
    met_on: date | None
    reason: str


@dataclass(frozen=True)
class WeekLoad:
    """One team's week in figures a manager can check: what was needed, what there was.

    `needed = planned + missed` (visits) and `needed_min = planned_min + missed_min`; the
    team is short by `needed - slots` visits or `needed_min - available_min` minutes,
    whichever is positive.
    """

    team: str
    monday: date
    label: str = ""
    """The team as `describe` names it (`team_phrase`); the id when empty."""
    workers: int = 0
    worker_days: int = 0
    slots: int = 0
    available_min: int = 0
    planned: int = 0
    planned_min: int = 0
    missed: int = 0
    missed_min: int = 0

    @property
    def needed(self) -> int:
        """Visits the team had to make that week."""
        return self.planned + self.missed

    @property
    def needed_min(self) -> int:
        """Visit minutes the team had to make that week."""
        return self.planned_min + self.missed_min

    def describe(self) -> str:
        """The week's arithmetic in one clause, naming the limit that binds."""
        team = self.label or f"team {self.team}"
        span = (
            f"week {self.monday.isocalendar().week} ({self.monday.day} {self.monday:%b} to "
            f"{on_day(self.monday + timedelta(days=6))})"
        )
        people = f"{self.workers} worker{'s' if self.workers != 1 else ''}"
        if self.needed > self.slots:
            return (
                f"{CAPACITY} in {team} in {span}: {self.needed} visits needed "
                f"({self.planned} planned + {self.missed} that did not fit); the team's "
                f"{people} could make at most {self.slots} ({self.worker_days} working "
                f"day{'s' if self.worker_days != 1 else ''} at their daily visit limits, "
                f"after absences): short by "
                f"{self.needed - self.slots} visit{'s' if self.needed - self.slots != 1 else ''}"
            )
        if self.needed_min > self.available_min:
            return (
                f"{CAPACITY} in {team} in {span}: {self.needed_min / 60:.1f} "
                f"visit-hours needed ({self.planned_min / 60:.1f} planned + "
                f"{self.missed_min / 60:.1f} that did not fit); the team's {people} had "
                f"{self.available_min / 60:.1f} h (their hours, after absences and calendar "
                f"commitments): short by {(self.needed_min - self.available_min) / 60:.1f} h"
            )
        return (
            f"no free time when the family could be seen in {team} in {span}: "
            f"the team's {people} had {self.available_min / 60:.1f} h and "
            f"{self.slots} visit places; {self.planned} visits ({self.planned_min / 60:.1f} h) "
            f"were planned, and what was left did not fall inside the family's window "
            f"(or after school) with travel between visits"
        )


def week_loads(
    ctx: Context,
    teams: Iterable[TeamProblem],
    visits: Iterable[Visit],
    missed: Iterable[Unmet],
) -> dict[tuple[str, date], WeekLoad]:
    """(team, Monday) -> the team's week: capacity, planned visits, and visits missed for
    capacity (each household once a week, the visit's own length)."""
    members: dict[str, dict[str, Worker]] = defaultdict(dict)
    for tp in teams:
        for worker in tp.workers:
            members[worker.team_id][worker.id] = worker
    horizon = ctx.days[: ctx.horizon_days]
    cap_default = ctx.scenario.authority.max_visits_per_day
    figures: dict[tuple[str, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for team, workers in members.items():
        for day in horizon:
            monday = day - timedelta(days=day.weekday())
            week = figures[team, monday]
            for worker in workers.values():
                if not ctx.calendar.is_working_day(day) or not is_available(ctx, worker, day):
                    continue
                week["worker_days"] += 1
                week["slots"] += worker.max_visits_per_day or cap_default
                week["available_min"] += (
                    minutes_of(worker.day_end)
                    - minutes_of(worker.day_start)
                    - sum(e - s for s, e in busy_on(ctx, worker, day))
                )
    team_of = {w: team for team, workers in members.items() for w in workers}
    for visit in visits:
        visit_team = team_of.get(visit.worker_id)
        if visit_team is None or visit.day not in horizon:
            continue
        week = figures[visit_team, visit.day - timedelta(days=visit.day.weekday())]
        week["planned"] += 1
        week["planned_min"] += visit.duration_min
    seen: set[tuple[str, date]] = set()
    for m in missed:
        if m.tp is None or CAPACITY not in m.reason:
            continue
        home = next((h for h in m.tp.households if h.id in m.child.household_ids), None)
        if home is None:
            continue
        last = last_day(ctx, m.due, m.met_on)
        monday = last - timedelta(days=last.weekday())
        if (home.id, monday) in seen:
            continue
        seen.add((home.id, monday))
        team = home.team_id or "any team"
        figures[team, monday]["missed"] += 1
        figures[team, monday]["missed_min"] += visit_duration_min(
            ctx.pack, m.tp.children[home.id], last
        )
    return {
        (team, monday): WeekLoad(
            team=team,
            monday=monday,
            label=team_phrase(ctx, None if team == "any team" else team),
            workers=len(members.get(team, {})),
            **dict(values),
        )
        for (team, monday), values in figures.items()
    }


def _eligible(n: int) -> str:
    return "the one eligible worker" if n == 1 else f"the {n} eligible workers"


def _label(roles: set[Role] | None) -> str:
    if not roles:
        return "worker"
    return " or ".join(ROLE_LABEL[r] for r in sorted(roles))


def _fits(ctx: Context, household: Household, kids: Sequence[Child], day: date, w: Worker) -> bool:
    """Whether a visit could start inside both the family's window and the worker's hours."""
    duration = visit_duration_min(ctx.pack, kids, day)
    lo_w, hi_w = minutes_of(w.day_start), minutes_of(w.day_end) - duration
    return any(
        max(lo, lo_w) <= min(hi, hi_w)
        for lo, hi in start_ranges(ctx, household, kids, day, duration)
    )


def breach_reason(
    ctx: Context,
    tp: TeamProblem | None,
    child: Child,
    due: date,
    met_on: date | None = None,
    loads: dict[tuple[str, date], WeekLoad] | None = None,
) -> str:
    """Why a deadline could not be met, in words a manager can act on.

    Checks in order: nobody in the team may lead the visit; no working day with a slot in the
    family's window; every eligible worker absent or off; otherwise the eligible workers'
    free time was taken by other visits (capacity). With `loads` (`week_loads`) a capacity
    reason gives the team-week's arithmetic: needed, available, planned and the shortfall.
    """
    last = last_day(ctx, due, met_on)
    if last < ctx.start:
        return (
            f"already overdue when the plan starts (due {on_day(due)}); "
            "visit planned on the plan's first day"
        )
    prefix = (
        f"already overdue when the plan starts (due {on_day(due)}); " if due < ctx.start else ""
    )
    if tp is None:
        return prefix + "no team covers the child's household"
    homes = [h for h in tp.households if h.id in child.household_ids]
    if not homes:
        return prefix + "the child's household is not in a planned team"
    days = [d for d in ctx.days[: ctx.horizon_days] if d <= last]
    working = [d for d in days if ctx.calendar.is_working_day(d)]
    by_id = {w.id: w for w in tp.workers}
    eligible = sorted({w for h in homes for w in tp.eligible.get(h.id, ())})
    roles = lead_roles(ctx, tp.children[homes[0].id], ctx.start)
    team = homes[0].team_id or "any team"
    if not eligible:
        return (
            prefix
            + f"no {_label(roles)} in {team_phrase(ctx, homes[0].team_id)} may make this visit"
        )
    if not working:
        if met_on is not None and due < ctx.start:
            return prefix + "visit planned on the first working day of the plan"
        return prefix + f"no working day by {on_day(last)}"
    available = [(w, d) for w in eligible for d in working if is_available(ctx, by_id[w], d)]
    if not available:
        away = []
        for w in eligible:
            absences = [
                a
                for a in ctx.scenario.absences
                if a.worker_id == w and any(a.covers(d) for d in working)
            ]
            what = (
                ", ".join(
                    f"{a.reason} {a.start.isoformat()} to {a.end.isoformat()}" for a in absences
                )
                or "not contracted on those days"
            )
            away.append(f"{by_id[w].name} ({w}): {what}")
        return prefix + (f"no {_label(roles)} available by {on_day(last)}: " + "; ".join(away))
    free_days = [
        (w, d)
        for w, d in available
        if any(_fits(ctx, h, tp.children[h.id], d, by_id[w]) for h in homes)
    ]
    if not free_days:
        return prefix + (
            f"no slot in the family's window (or after school) within the eligible workers' "
            f"hours by {on_day(last)}"
        )
    if all(h.joint_visit for h in homes):
        pairs = [
            d
            for d in working
            if sum(
                1
                for w in tp.workers
                if w.role != "student"
                and w.id in team_workers_for(ctx.scenario, homes[0])
                and is_available(ctx, w, d)
            )
            >= 2
        ]
        if not pairs:
            return prefix + (
                f"a joint visit needs two workers (not students) free on the same day by "
                f"{on_day(last)}; there were none"
            )
    monday = last - timedelta(days=last.weekday())
    load = (loads or {}).get((team, monday))
    if load is None:
        return prefix + f"{CAPACITY} in {team_phrase(ctx, homes[0].team_id)}"
    return prefix + load.describe()
