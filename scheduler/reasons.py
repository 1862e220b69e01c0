"""Why a deadline could not be met: breach reasons in words a manager can act on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from policies.models import Role
from scheduler.domain import Child, Household, Worker
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
"""How a capacity reason begins (`capacity_shortfall` adds up those reasons' visits)."""


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


def capacity_shortfall(ctx: Context, missed: Iterable[Unmet]) -> dict[tuple[str, date], int]:
    """(team, Monday) -> visit minutes the team lacked that week.

    Of the missed deadlines, those whose reason is capacity count, each household once a
    week, for the length of its visit (the visit itself, not the travel to it): the extra
    time the team would have needed.
    """
    out: dict[tuple[str, date], int] = defaultdict(int)
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
        out[team, monday] += visit_duration_min(ctx.pack, m.tp.children[home.id], last)
    return dict(out)


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
    booked_min: dict[tuple[str, date], int],
    met_on: date | None = None,
    short_by: dict[tuple[str, date], int] | None = None,
) -> str:
    """Why a deadline could not be met, in words a manager can act on.

    Checks in order: nobody in the team may lead the visit; no working day with a slot in the
    family's window; every eligible worker absent or off; otherwise the eligible workers'
    free time was taken by other visits (capacity), with the hours, and with `short_by`
    ((team, Monday) -> visit minutes missed, `capacity_shortfall`) by how much that week.
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
        return prefix + f"no {_label(roles)} in team {team} may make this visit"
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
    free = sum(
        minutes_of(by_id[w].day_end)
        - minutes_of(by_id[w].day_start)
        - sum(e - s for s, e in busy_on(ctx, by_id[w], d))
        for w, d in free_days
    )
    booked = sum(booked_min.get((w, d), 0) for w, d in free_days)
    monday = last - timedelta(days=last.weekday())
    missed = (short_by or {}).get((team, monday))
    head = f"{CAPACITY} in team {team}"
    if missed:
        head += (
            f" by {missed / 60:.1f} visit-hours in week {last.isocalendar().week} "
            f"({monday.day} {monday:%b} to {on_day(monday + timedelta(days=6))})"
        )
    return prefix + (
        f"{head}: {_eligible(len(eligible))} had {free / 60:.1f} h by {on_day(last)}, "
        f"{booked / 60:.1f} h of it booked with visits to other children (with travel and the "
        "family's window, nothing else fitted)"
    )
