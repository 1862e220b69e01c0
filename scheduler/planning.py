"""Plans a scenario: one solve per team, then visits with checklists, reasons and breaches.

Rule: orchestration only; the encoding lives in `translate`, the search in `solver`. Breaches
are found by simulating the plan through the policy engine, exactly as the checker does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from policies import Contact, checklist, due_dates, load_pack
from policies.engine import month_end
from scheduler.domain import Breach, Child, Plan, Scenario, Visit, VisitReason
from scheduler.due import calendar_for, contacts_for
from scheduler.translate import (
    Context,
    TeamProblem,
    breach_reason,
    make_context,
    team_groups,
    to_problem,
)
from scheduler.visiting import children_of, visit_duration_min
from solver import Problem, Solution, SolveParams, SolveStatus, solve

_STATUS_ORDER = ("OPTIMAL", "FEASIBLE", "TIME_LIMIT", "UNKNOWN", "INFEASIBLE")


@dataclass(frozen=True)
class _Draft:
    """A sequenced visit before its checklist and reasons are known."""

    household_id: str
    day: date
    start_min: int
    worker_id: str
    second_worker_id: str | None
    announced: bool


def _planned_contact(
    ctx: Context, draft: _Draft, child: Child, items: tuple[str, ...], start: time
) -> Contact:
    return Contact(
        on=draft.day,
        outcome="completed",
        at_home=True,
        home_id=draft.household_id,
        announced=draft.announced,
        seen_alone="seen-alone" in items,
        bedroom_seen="bedroom" in items,
        seen_awake="seen-awake" in items,
        role=ctx.roles[draft.worker_id],
        start=start,
    )


def _serves(due_clock: str | None, home: str | None, draft: _Draft) -> bool:
    """Whether a planned visit meets a requirement's clock."""
    if due_clock == "unannounced":
        return not draft.announced
    if due_clock == "each_home":
        return home == draft.household_id
    return True


def _build_visits(
    ctx: Context, drafts: list[_Draft]
) -> tuple[tuple[Visit, ...], dict[str, list[Contact]]]:
    """Visits in time order with checklists and reasons, and each child's contacts."""
    scenario, pack = ctx.scenario, ctx.pack
    contacts: dict[str, list[Contact]] = {
        c.id: contacts_for(ctx.records[c.id], ctx.roles) for c in scenario.children
    }
    visits = []
    for draft in sorted(drafts, key=lambda d: (d.day, d.start_min, d.household_id)):
        kids = children_of(scenario, draft.household_id)
        start = time(draft.start_min // 60, draft.start_min % 60)
        items: list[str] = []
        reasons: list[VisitReason] = []
        new_contacts = []
        for child in kids:
            facts = child.facts()
            before = [c for c in contacts[child.id] if c.on < draft.day]
            mine = checklist(pack, facts, before, draft.day)
            prefix = f"{child.case_ref}: " if len(kids) > 1 else ""
            items.extend(prefix + item for item in mine)
            for due in due_dates(pack, facts, before, ctx.calendar, draft.day):
                if _serves(due.clock, due.home_id, draft):
                    reasons.append(
                        VisitReason(
                            child_id=child.id,
                            rule_id=due.rule_id,
                            due=due.due,
                            slack_days=(due.due - draft.day).days,
                        )
                    )
            new_contacts.append((child.id, _planned_contact(ctx, draft, child, mine, start)))
        for child_id, contact in new_contacts:
            contacts[child_id].append(contact)
        visits.append(
            Visit(
                id=f"v-{draft.household_id}-{draft.day:%Y%m%d}",
                household_id=draft.household_id,
                child_ids=tuple(c.id for c in kids),
                worker_id=draft.worker_id,
                second_worker_id=draft.second_worker_id,
                start=datetime.combine(draft.day, start, tzinfo=ctx.tz),
                duration_min=_duration(ctx, draft, kids),
                announced=draft.announced,
                checklist=tuple(items),
                rule_ids=tuple(sorted({r.rule_id for r in reasons})),
                due=min((r.due for r in reasons), default=None),
                reasons=tuple(sorted(reasons, key=lambda r: (r.due, r.child_id, r.rule_id))),
            )
        )
    return tuple(visits), contacts


def _duration(ctx: Context, draft: _Draft, kids: tuple[Child, ...]) -> int:
    return visit_duration_min(ctx.pack, kids, draft.day)


def find_breaches(
    ctx: Context, child: Child, contacts: list[Contact], end: date
) -> list[tuple[str, date, date | None]]:
    """(rule_id, due, met_on) for every deadline up to `end` the contacts miss (contract 8)."""
    open_keys: dict[tuple[str, date], date | None] = {}
    day = ctx.start
    while day <= end + timedelta(days=1):
        before = [c for c in contacts if c.on < day]
        missed = {
            (d.rule_id, d.due)
            for d in due_dates(ctx.pack, child.facts(), before, ctx.calendar, day)
            if d.due < day
        }
        for key in open_keys:
            if key not in missed and open_keys[key] is None:
                open_keys[key] = day - timedelta(days=1)
        for key in missed:
            open_keys.setdefault(key, None)
        day += timedelta(days=1)
    out: list[tuple[str, date, date | None]] = [(r, d, met) for (r, d), met in open_keys.items()]
    month = ctx.start
    while month <= end:
        last = month_end(month)
        if last <= end:
            upto = [c for c in contacts if c.on <= last]
            for d in due_dates(ctx.pack, child.facts(), upto, ctx.calendar, last):
                if d.kind == "monthly_count" and d.count:
                    out.append((d.rule_id, last, None))
        month = last + timedelta(days=1)
    return sorted(set(out), key=lambda x: (x[1], x[0]))


def _solve_all(problems: list[Problem], params: SolveParams, processes: int) -> Iterator[Solution]:
    """Solutions in problem order; each solve is deterministic, so the pool changes nothing."""
    if processes <= 1 or len(problems) <= 1:
        yield from (solve(p, params) for p in problems)
        return
    with ProcessPoolExecutor(max_workers=min(processes, len(problems))) as pool:
        yield from pool.map(solve, problems, [params] * len(problems))


def plan_scenario(
    scenario: Scenario,
    start: date,
    weeks: int = 1,
    lookahead_weeks: int = 4,
    params: SolveParams | None = None,
    progress: Callable[[str], None] | None = None,
    team_processes: int = 1,
) -> Plan:
    """A plan of visits for `weeks` from `start`, with the breaches it could not avoid.

    Teams share nobody unless cross-team cover joins them, so they are solved independently,
    in `team_processes` processes (1, the default: one after another, each CP-SAT solve
    using `params.num_workers`, 2 unless given). `lookahead_weeks` more are modelled
    so deadlines just past the horizon are planned for; only visits inside it are returned.
    """
    params = params or SolveParams(num_workers=2)
    say = progress or (lambda _message: None)
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), start, weeks, lookahead_weeks)
    end = start + timedelta(days=7 * weeks - 1)
    drafts: list[_Draft] = []
    statuses: list[str] = []
    objective = bound = runtime = 0.0
    team_of_home: dict[str, TeamProblem] = {}
    groups = []
    for teams in team_groups(scenario):
        tp = to_problem(ctx, teams)
        for h in tp.households:
            team_of_home[h.id] = tp
        name = "+".join(teams)
        if not tp.problem.clocks and not tp.problem.quotas:
            say(f"team {name}: nothing due")
            continue
        say(
            f"team {name}: {len(tp.problem.tasks)} households, "
            f"{len(tp.problem.resources)} workers, {len(tp.problem.clocks)} clocks"
        )
        groups.append((name, tp))
    for (name, tp), solution in zip(
        groups, _solve_all([tp.problem for _n, tp in groups], params, team_processes), strict=True
    ):
        problem = tp.problem
        statuses.append(solution.status.value)
        objective += solution.objective or 0.0
        bound += solution.bound or 0.0
        runtime += solution.runtime_s
        say(
            f"team {name}: {solution.status.value} in {solution.runtime_s:.1f} s, "
            f"{len(solution.assignments)} visits modelled, {solution.cut_rounds} cut rounds, "
            f"{len(solution.dropped)} dropped"
        )
        for a in solution.assignments:
            if a.day >= problem.horizon_days or a.start_min is None:
                continue
            second = a.second_resource
            drafts.append(
                _Draft(
                    household_id=tp.households[a.task].id,
                    day=tp.days[a.day],
                    start_min=a.start_min,
                    worker_id=tp.workers[a.resource].id,
                    second_worker_id=None if second is None else tp.workers[second].id,
                    announced=not a.unannounced,
                )
            )
    visits, contacts = _build_visits(ctx, drafts)
    booked: dict[tuple[str, date], int] = defaultdict(int)
    for visit in visits:
        for worker in (visit.worker_id, visit.second_worker_id):
            if worker:
                booked[worker, visit.day] += visit.duration_min
    breaches = []
    for child in sorted(scenario.children, key=lambda c: c.id):
        tp = next((team_of_home[h] for h in child.household_ids if h in team_of_home), None)
        for rule_id, due, met_on in find_breaches(ctx, child, contacts[child.id], end):
            reason = breach_reason(ctx, tp, child, due, booked, met_on)
            if met_on is not None:
                reason += f"; planned {(met_on - due).days} days late on {met_on.isoformat()}"
            breaches.append(
                Breach(
                    child_id=child.id,
                    rule_id=rule_id,
                    due=due,
                    days_late=None if met_on is None else (met_on - due).days,
                    reason=reason,
                    category=child.category,
                )
            )
    say(f"plan: {len(visits)} visits, {len(breaches)} breaches")
    status = max(statuses, key=_STATUS_ORDER.index) if statuses else SolveStatus.OPTIMAL.value
    return Plan(
        id=f"plan-{scenario.authority.id}-{start:%Y%m%d}-{weeks}w-s{params.seed}",
        authority=scenario.authority.id,
        start=start,
        end=end,
        lookahead_end=ctx.days[-1],
        seed=params.seed,
        visits=visits,
        breaches=tuple(breaches),
        status=status,
        objective=objective if statuses else None,
        bound=bound if statuses else None,
        runtime_s=runtime,
    )
