"""Plans a scenario: one solve per team, then visits with checklists, reasons and breaches.

Rule: orchestration only; the encoding lives in `translate`, the search in `solver`. Breaches
are found by simulating the plan through the policy engine, exactly as the checker does.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from policies import Contact, checklist, due_dates, load_pack, month_end
from scheduler.domain import (
    LATEST,
    Breach,
    Child,
    Plan,
    Scenario,
    TeamId,
    Visit,
    VisitReason,
)
from scheduler.due import calendar_for, contacts_for
from scheduler.errors import PlanError
from scheduler.fingerprint import as_made, group_key, plan_inputs, team_inputs
from scheduler.gc_pause import paused_gc
from scheduler.reasons import CAPACITY, Unmet, breach_reason, on_day, week_loads
from scheduler.translate import (
    Context,
    TeamProblem,
    attach_previous,
    households_by_group,
    make_context,
    not_before_index,
    rules_on,
    team_groups,
    to_problem,
)
from scheduler.visiting import visit_duration_min
from solver import PreviousVisit, Solution, SolveParams, SolveStatus, solve, why_not_kept

_T = TypeVar("_T")

_STATUS_ORDER = ("OPTIMAL", "FEASIBLE", "TIME_LIMIT", "UNKNOWN", "INFEASIBLE")


class Detail(str):
    """A progress message in the solver's terms (status, objective, cut rounds, clocks,
    passes): shown only on request (the CLI's `--verbose`). Other progress messages are
    plain words for a manager."""

    __slots__ = ()


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
    ctx: Context, drafts: list[_Draft], children: Collection[Child]
) -> tuple[tuple[Visit, ...], dict[str, list[Contact]]]:
    """Visits in time order with checklists and reasons, and each child's contacts.

    `children` must include every child the drafts visit.
    """
    pack = ctx.pack
    contacts: dict[str, list[Contact]] = {
        c.id: contacts_for(ctx.records[c.id], ctx.roles) for c in children
    }
    visits = []
    for draft in sorted(drafts, key=lambda d: (d.day, d.start_min, d.household_id)):
        kids = ctx.kids[draft.household_id]
        start = time(draft.start_min // 60, draft.start_min % 60)
        items: list[str] = []
        reasons: list[VisitReason] = []
        new_contacts = []
        for child in kids:
            facts = ctx.facts[child.id]
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


def _judgement_days(ctx: Context, child: Child, contact_days: set[date], end: date) -> list[date]:
    """The days of start .. end + 1 on which the child's deadlines must be judged.

    `due_dates(as_of=D)` depends only on the contacts before D and the rules applying on D, so
    judging the last day of each stretch with the same contacts and rules finds every
    deadline missed on any day of it (as the checker does; walking every day gives the same).
    """
    days = [ctx.start + timedelta(days=i) for i in range((end - ctx.start).days + 2)]
    rules = [tuple(r.id for r in rules_on(ctx, child, day)) for day in days]
    return [
        day
        for i, day in enumerate(days)
        if i == len(days) - 1 or day in contact_days or rules[i] != rules[i + 1]
    ]


def find_breaches(
    ctx: Context, child: Child, contacts: list[Contact], end: date
) -> list[tuple[str, date, date | None]]:
    """(rule_id, due, met_on) for every deadline up to `end` the contacts miss (contract 8)."""
    facts = ctx.facts[child.id]
    contacts = sorted(contacts, key=lambda c: c.on)
    on = [c.on for c in contacts]
    last_missed: dict[tuple[str, date], date] = {}
    for day in _judgement_days(ctx, child, set(on), end):
        before = contacts[: bisect_left(on, day)]
        for d in due_dates(ctx.pack, facts, before, ctx.calendar, day):
            if d.due < day:
                last_missed[d.rule_id, d.due] = day
    # Missed on `day` but not on the next judged day: a contact on `day` met it late.
    out: list[tuple[str, date, date | None]] = [
        (r, d, None if day > end else day) for (r, d), day in last_missed.items()
    ]
    month = ctx.start
    while month <= end:
        last = month_end(month)
        if last <= end:
            upto = contacts[: bisect_right(on, last)]
            for d in due_dates(ctx.pack, facts, upto, ctx.calendar, last):
                if d.kind == "monthly_count" and d.count:
                    out.append((d.rule_id, last, None))
        month = last + timedelta(days=1)
    return sorted(set(out), key=lambda x: (x[1], x[0]))


def _until(ctx: Context, previous_end: date | None) -> int | None:
    """Horizon days the published plan covered (its deadlines are judged up to there)."""
    return None if previous_end is None else (previous_end - ctx.start).days + 1


def _kept_drafts(tp: TeamProblem) -> list[_Draft]:
    """A team's published visits, kept verbatim (re-planning, nothing changed for them)."""
    out = []
    for p in tp.problem.previous:
        assert p.resource is not None
        out.append(
            _draft(tp, p.task, p.day, p.start_min, p.resource, p.second_resource, p.unannounced)
        )
    return out


def _keep_unchanged(
    ctx: Context, previous: tuple[Visit, ...], previous_end: date | None, teams: tuple[TeamId, ...]
) -> tuple[_TeamResult | None, list[str], TeamProblem]:
    """The group's published visits kept verbatim, or None and why they cannot be (and the
    horizon-only problem, for `_repair`).

    Judged on a horizon-only translation (no look-ahead: a fifth of the work), since only
    horizon deadlines up to `previous_end` decide; a group that must change is translated again
    in full for its solve.
    """
    short = replace(ctx, days=ctx.days[: ctx.horizon_days])
    tp, why = attach_previous(short, to_problem(short, teams), previous)
    accepted = _accepted_days(ctx)
    why = why or why_not_kept(tp.problem, _until(short, previous_end), accepted)
    if why:
        return None, why, tp
    message = f"team {'+'.join(teams)}: unchanged, {len(tp.problem.previous)} published visits kept"
    return _TeamResult(tp, [message], _kept_drafts(tp), outcome="kept"), [], tp


def accepted_breaches(breaches: Iterable[Breach]) -> dict[tuple[str, date], int | None]:
    """(child, due) -> days late of the published plan's breaches (None: never met; the
    latest of a child's rules due that day), which a kept or repaired plan may repeat."""
    out: dict[tuple[str, date], int | None] = {}
    for b in breaches:
        key = (b.child_id, b.due)
        if key in out and out[key] is None:
            continue
        out[key] = None if b.days_late is None else max(out.get(key) or 0, b.days_late)
    return out


def _accepted_days(ctx: Context) -> dict[tuple[str, int], int | None]:
    """`ctx.accepted` by horizon day index, as `solver.keep.why_not_kept` takes it."""
    return {(child, (due - ctx.start).days): late for (child, due), late in ctx.accepted.items()}


REPAIR_LIMIT_S = 1.0
"""Stage-1 seconds for the repair attempt of a re-plan (published visits fixed)."""


def _repair(
    ctx: Context, short: TeamProblem, params: SolveParams, previous_end: date | None, why: list[str]
) -> tuple[_TeamResult | None, bool, _TeamResult | None]:
    """Re-planning fast path on the horizon-only problem: keep every published visit its
    workers can still make and place only the rest (and any new need). Accepted only when
    that misses no deadline up to the published plan's end that the published plan met;
    otherwise None, and a full solve decides whether moving other visits avoids a breach.

    Also returns whether the repair's solve met its wall-clock safety net: a repair stopped
    early may be refused where a quieter machine would accept it (or the reverse), so the
    flag must reach the plan even when the repair is refused; and a refused repair that
    found a plan, as a fallback: the full solve's plan replaces it only if it misses fewer
    deadlines (`_better_of`), since with a short limit the full solve can stop at its
    starting point with the displaced visits still unplaced.
    """
    problem = short.problem.model_copy(update={"keep_previous": True})
    if not problem.clocks and not problem.quotas:
        return None, False, None
    limit = min(REPAIR_LIMIT_S, params.time_limit_s)
    solution = solve(problem, params.model_copy(update={"time_limit_s": limit}))
    if solution.status.value not in ("OPTIMAL", "FEASIBLE"):
        return None, solution.safety_net, None
    placed = []
    for a in solution.assignments:
        option = problem.tasks[a.task].option(a.day)
        if a.start_min is None or option is None:
            continue
        placed.append(
            PreviousVisit(
                task=a.task,
                day=a.day,
                resource=a.resource,
                second_resource=a.second_resource,
                start_min=a.start_min,
                duration_min=option.duration_min,
                unannounced=a.unannounced,
            )
        )
    accepted = _accepted_days(ctx)
    after = problem.model_copy(update={"previous": tuple(placed)})
    missed = why_not_kept(after, _until(ctx, previous_end), accepted)
    name = "+".join(short.teams)
    messages = [
        f"team {name}: re-planned: {why[0]}" + (f" (+{len(why) - 1})" if why[1:] else ""),
        f"team {name}: repaired in {solution.runtime_s:.1f} s, every other visit kept"
        + _shortfall(len(missed), len(solution.dropped)),
    ]
    result = _TeamResult(
        short, messages, _solution_drafts(short, solution), solution, outcome="repaired"
    )
    if missed or solution.dropped:
        return None, solution.safety_net, result
    return result, solution.safety_net, None


def _shortfall(missed: int, dropped: int) -> str:
    """What a refused repair fell short by, for its progress line ("" when nothing)."""
    parts = [f"{missed} deadline(s) missed"] if missed else []
    parts += [f"{dropped} visit(s) would not fit a route"] if dropped else []
    return f"; {' and '.join(parts)}, so a full solve is tried too" if parts else ""


def _better_of(
    ctx: Context, solved: _TeamResult, fallback: _TeamResult, previous: tuple[Visit, ...]
) -> _TeamResult:
    """The full solve's result or the refused repair's, whichever misses fewer deadlines up
    to the horizon's end (then is fewer days late, then changes fewer published visits; a
    tie keeps the repair, which moves least). Both must be finished (`_plan_team`)."""

    def cost(result: _TeamResult) -> tuple[int, int, int]:
        assert result.finished is not None
        visits, breaches, _children = result.finished
        horizon = len(ctx.days)
        late = sum(horizon if b.days_late is None else b.days_late for b in breaches)
        kept = {_pin_key(v) for v in visits}
        return len(breaches), late, sum(1 for v in previous if _pin_key(v) not in kept)

    return solved if cost(solved) < cost(fallback) else fallback


@dataclass
class _TeamResult:
    """One team group planned: its problem, progress lines, drafts and solution (if solved).

    `tp` is None for a group kept from the published plan without translating it (its inputs
    unchanged, `_kept_by_fingerprint`); `finished` then holds the published visits and breaches.
    A finished group's result as `plan_team_job` sends it back has no `tp` or drafts either.
    """

    tp: TeamProblem | None
    messages: list[str] = field(default_factory=list)
    """Progress in the solver's terms (sent as `Detail`)."""
    drafts: list[_Draft] = field(default_factory=list)
    solution: Solution | None = None
    finished: tuple[list[Visit], list[Breach], set[str]] | None = None
    """Visits, breaches and the ids of the children they are for, when the group's children
    live only in its households (so they could be simulated alone, in the group's process)."""
    outcome: str = "planned"
    """What happened, for the plain progress line: planned, repaired, kept, held (not one of
    the teams asked for, `_held`) or nothing due."""
    safety_net: bool = False
    """A solve of the group (any of them: a refused repair too) was stopped by its
    wall-clock safety net, so the group's plan may differ on a quieter machine."""
    fallback: _TeamResult | None = None
    """A refused repair's result, kept while the full solve runs (`_better_of`)."""


def _solution_drafts(tp: TeamProblem, solution: Solution) -> list[_Draft]:
    out = []
    for a in solution.assignments:
        if a.day >= tp.problem.horizon_days or a.start_min is None:
            continue
        out.append(
            _draft(tp, a.task, a.day, a.start_min, a.resource, a.second_resource, a.unannounced)
        )
    return out


def _draft(
    tp: TeamProblem,
    task: int,
    day: int,
    start_min: int,
    resource: int,
    second: int | None,
    unannounced: bool,
) -> _Draft:
    """A sequenced visit from the solver's integers (indices into the team problem)."""
    return _Draft(
        household_id=tp.households[task].id,
        day=tp.days[day],
        start_min=start_min,
        worker_id=tp.workers[resource].id,
        second_worker_id=None if second is None else tp.workers[second].id,
        announced=not unannounced,
    )


def _plan_team(
    ctx: Context,
    previous: tuple[Visit, ...],
    previous_end: date | None,
    teams: tuple[TeamId, ...],
    params: SolveParams,
) -> _TeamResult:
    """Plans one team group (`_solve_team`), then its visits and breaches if it can alone."""
    out = _solve_team(ctx, previous, previous_end, teams, params)
    assert out.tp is not None
    homes = {h.id for h in out.tp.households}
    children = {c for h in homes for c in ctx.kids.get(h, ())}
    if all(h in homes for c in children for h in c.household_ids):
        for result in (r for r in (out, out.fallback) if r is not None):
            assert result.tp is not None
            team_of_home = dict.fromkeys(homes, result.tp)
            visits, breaches = _visits_and_breaches(ctx, result.drafts, children, team_of_home)
            result.finished = (visits, breaches, {c.id for c in children})
        if out.fallback is not None:
            chosen = _better_of(ctx, out, out.fallback, previous)
            if chosen is out.fallback:
                name = "+".join(teams)
                chosen.messages = [
                    *chosen.messages,
                    *out.messages[1:],
                    f"team {name}: the full solve missed more deadlines; the repair is kept",
                ]
                chosen.safety_net = out.safety_net
            out = chosen
            out.fallback = None
    return out


def _solve_team(
    ctx: Context,
    previous: tuple[Visit, ...],
    previous_end: date | None,
    teams: tuple[TeamId, ...],
    params: SolveParams,
) -> _TeamResult:
    """Translates and solves one team group (or keeps its published visits)."""
    name = "+".join(teams)
    why: list[str] = []
    tripped = False
    fallback: _TeamResult | None = None
    if previous:
        kept, why, short = _keep_unchanged(ctx, previous, previous_end, teams)
        if kept is not None:
            return kept
        repaired, tripped, fallback = _repair(ctx, short, params, previous_end, why)
        if repaired is not None:
            repaired.safety_net = tripped
            return repaired
    tp = to_problem(ctx, teams)
    out = _TeamResult(tp, safety_net=tripped, fallback=fallback)
    if previous or ctx.not_before is not None:
        tp, _stale = attach_previous(ctx, tp, previous)  # and nothing placed before now
        out.tp = tp
    if previous:
        out.messages.append(
            f"team {name}: re-planned: {why[0]}" + (f" (+{len(why) - 1})" if why[1:] else "")
        )
    if not tp.problem.clocks and not tp.problem.quotas:
        out.messages.append(f"team {name}: nothing due")
        out.outcome = "nothing due"
        return out
    out.messages.append(
        f"team {name}: {len(tp.problem.tasks)} households, "
        f"{len(tp.problem.resources)} workers, {len(tp.problem.clocks)} clocks"
    )
    # With a repair to fall back on, the full solve only has to find a plan that moves
    # other visits to miss fewer deadlines: its stage-1 days are not re-cut (each round
    # re-solves the whole team, ~3 s on M), and whatever it cannot sequence is dropped and
    # counted against it by `_better_of`.
    quick = params if fallback is None else params.model_copy(update={"max_cut_rounds": 0})
    solution = solve(tp.problem, quick)
    out.solution = solution
    out.safety_net |= solution.safety_net
    out.messages.append(
        f"team {name}: {solution.status.value} in {solution.runtime_s:.1f} s, "
        f"{len(solution.assignments)} visits modelled, {solution.cut_rounds} cut rounds, "
        f"{len(solution.dropped)} dropped"
        + (
            "; search skipped (the check found nothing to improve)"
            if solution.search_skipped
            else ""
        )
        + ("; warm start kept (it measured better)" if solution.kept_warm_start else "")
    )
    out.drafts = _solution_drafts(tp, solution)
    return out


@dataclass(frozen=True)
class TeamJob:
    """One team group's planning, self-contained: what any executor (a process pool, a
    cluster) needs to run `plan_team_job` on it, and nothing of the other groups."""

    ctx: Context
    """The run's context cut down to the group's households, children, workers and history."""
    previous: tuple[Visit, ...]
    previous_end: date | None
    teams: tuple[TeamId, ...]
    params: SolveParams


def plan_team_job(job: TeamJob) -> _TeamResult:
    """Plans one team group (the function executors run), with the cycle collector held
    off: a team's model is tens of thousands of small objects, and the collector's passes
    over them took as long as building them (its garbage is freed when the job ends). A
    finished group's result comes back without its problem and drafts."""
    with paused_gc():
        result = _plan_team(job.ctx, job.previous, job.previous_end, job.teams, job.params)
    if result.finished is not None:
        # The caller needs only the finished visits, breaches and figures: the group's problem
        # was most of a result sent back (258 of 342 KB pickled on a 4 x L team), and the
        # parent kept all of them until the plan was assembled (~1 GB on 4 x L). A group is
        # finished only when no child outside it has a home in it, so no later breach reason
        # needs its problem (`plan_scenario`'s `team_of_home`).
        result.tp, result.drafts = None, []
    return result


@dataclass(frozen=True)
class Positions:
    """Where each household, worker, record, absence and busy time sits in a scenario, by
    the key a team group is cut on: built once a run, so cutting out each group costs its
    own size, not the authority's (286 groups of 4 x L scanned every record: 4.7 CPU-s)."""

    households: dict[str, list[int]]
    workers: dict[TeamId, list[int]]
    """Team -> its workers' positions."""
    records: dict[str, list[int]]
    """Child id -> its records' positions."""
    absences: dict[str, list[int]]
    busy: dict[str, list[int]]
    """Worker id -> positions of the worker's absences, and of their busy times."""

    @classmethod
    def of(cls, scenario: Scenario) -> Positions:
        """The positions of every item of `scenario`."""
        return cls(
            households=_positions(h.id for h in scenario.households),
            workers=_positions(w.team_id for w in scenario.workers),
            records=_positions(r.child_id for r in scenario.records),
            absences=_positions(a.worker_id for a in scenario.absences),
            busy=_positions(b.worker_id for b in scenario.busy),
        )


def _positions(keys: Iterable[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, key in enumerate(keys):
        out[key].append(i)
    return dict(out)


def _picked(items: tuple[_T, ...], by: dict[str, list[int]], keys: Iterable[str]) -> tuple[_T, ...]:
    """The items filed under `keys`, in their order in `items`."""
    return tuple(items[i] for i in sorted({i for key in keys for i in by.get(key, ())}))


def group_context(
    ctx: Context,
    teams: tuple[TeamId, ...],
    homes: Iterable[str],
    positions: Positions | None = None,
) -> Context:
    """The context cut down to one team group: its households (and the other homes of their
    children), those children and their records, the group's workers with their absences and
    busy times; the teams, the pack and the calendar as they are. Translating the group from
    it gives the same problem as from the whole context. Every item keeps its order in the
    scenario; pass `positions` (`Positions.of` the scenario) when cutting out many groups."""
    scenario = ctx.scenario
    at = positions or Positions.of(scenario)
    homes = set(homes)
    children = sorted(
        {c.id: c for h in homes for c in ctx.kids.get(h, ())}.values(), key=lambda c: c.id
    )
    homes |= {h for c in children for h in c.household_ids}
    workers = _picked(scenario.workers, at.workers, teams)
    ids = {w.id for w in workers}
    kids = {c.id for c in children}
    small = scenario.model_copy(
        update={
            "households": _picked(scenario.households, at.households, homes),
            "children": tuple(children),
            "workers": workers,
            "records": _picked(scenario.records, at.records, kids),
            "absences": _picked(scenario.absences, at.absences, ids),
            "busy": _picked(scenario.busy, at.busy, ids),
        }
    )
    return replace(
        ctx,
        scenario=small,
        records=defaultdict(list, {c: list(ctx.records.get(c, ())) for c in sorted(kids)}),
        kids={h: ctx.kids[h] for h in sorted(homes) if h in ctx.kids},
        facts={c: ctx.facts[c] for c in sorted(kids)},
        absences={w: list(ctx.absences.get(w, ())) for w in sorted(ids)},
        busy={w: list(ctx.busy.get(w, ())) for w in sorted(ids)},
        rule_cache={},
        scope_changes={},
        period_cache={},
        accepted={key: late for key, late in ctx.accepted.items() if key[0] in kids},
    )


class InProcess(Executor):
    """The executor for one process: runs each job when its result is asked for, in order."""

    def map(
        self,
        fn: Callable[..., _T],
        *iterables: Iterable[Any],
        timeout: float | None = None,
        chunksize: int = 1,
    ) -> Iterator[_T]:
        """`fn` over the jobs, lazily, in order."""
        return map(fn, *iterables)


def default_processes() -> int:
    """The machine's cores: the default of `visitplan plan --processes`."""
    return os.cpu_count() or 1


def process_pool(processes: int) -> Executor:
    """A pool of `processes` fresh processes (forkserver where there is one, else spawn):
    each starts small instead of copying the parent's memory, so the processes' memory adds
    up to what the jobs need, not to copies of the whole caseload."""
    _quiet_resource_tracker()
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if "forkserver" in methods:
        context.set_forkserver_preload(["scheduler.planning"])
    return ProcessPoolExecutor(
        max_workers=processes, mp_context=context, initializer=_leave_ctrl_c_to_the_parent
    )


_TRACKER_WARNINGS = "ignore:resource_tracker:UserWarning"
"""The `-W` option that keeps the resource tracker's developer warnings off the user's screen."""


def _quiet_resource_tracker() -> None:
    """The resource tracker (the process that unlinks the pool's semaphores if the command
    could not) starts with this interpreter's `-W` options; give it one that silences its
    "leaked semaphore" warnings. It still cleans up. Python 3.11 can unlink a queue's
    semaphore and be stopped by Ctrl-C before it tells the tracker, which then warns of a
    semaphore already gone (docs/decisions.md)."""
    if _TRACKER_WARNINGS not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_WARNINGS)


def _leave_ctrl_c_to_the_parent() -> None:
    """A planning process ignores Ctrl-C: the whole process group gets it, and the command
    (the parent) stops the pool itself; a process waiting for work would otherwise die
    printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: Executor) -> None:
    """Stop a process pool at once: pending jobs cancelled, its processes ended, and its
    thread left to finish before the command exits (a pool left to wait after Ctrl-C or a
    dead process could hang the command).

    Python 3.11's pool thread joins its queue's feeder thread, which can be stuck writing to
    a process that was ended, and the interpreter's exit wakes the pool thread through a
    pipe it may be closing that moment ("Bad file descriptor"). So the queue is told not to
    wait for its feeder, and the pool thread is waited for (bounded) here, while the
    processes end. Reads `ProcessPoolExecutor`'s own fields: the standard library gives no
    other way."""
    # Read before `shutdown`, which drops the pool's references to all three.
    processes = dict(getattr(pool, "_processes", None) or {})
    calls = getattr(pool, "_call_queue", None)
    thread = getattr(pool, "_executor_manager_thread", None)
    if calls is not None:
        calls.cancel_join_thread()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes.values():
        process.terminate()
    if thread is not None:
        thread.join(timeout=10)


def _team_limits(
    scenario: Scenario, groups: list[tuple[TeamId, ...]], params: SolveParams
) -> list[float]:
    """Each group's stage-1 time: `params.time_limit_s`, or with a `params.budget_s` its
    share of it by size, capped per team. Never depends on how many processes run, so any
    number of processes gives the same plan.
    """
    if params.budget_s is None:
        return [params.time_limit_s] * len(groups)
    homes: dict[str | None, int] = defaultdict(int)
    for h in scenario.households:
        homes[h.team_id] += 1
    staff: dict[str, int] = defaultdict(int)
    for w in scenario.workers:
        staff[w.team_id] += 1
    sizes = [
        max(1, sum(homes[t] for t in g) + (homes[None] if i == 0 else 0))
        * max(1, sum(staff[t] for t in g))
        for i, g in enumerate(groups)
    ]
    share = params.budget_s / sum(sizes)
    return [min(params.time_limit_s, share * size) for size in sizes]


def _kept_by_fingerprint(
    ctx: Context,
    groups: list[tuple[TeamId, ...]],
    inputs: dict[str, str],
    published: Plan | None,
    previous: tuple[Visit, ...],
    previous_end: date | None,
    lookahead_weeks: int,
) -> dict[tuple[TeamId, ...], _TeamResult]:
    """Groups kept from the published plan without translating them: their inputs are
    unchanged (`team_inputs`), so their published visits and breaches still stand.

    Only when the re-plan ends on the published plan's last day (`previous_end` too), and
    for a group whose children all live only in its households (shared care across groups
    depends on the other group's visits) and whose published visits are all still planned,
    led by its own workers and passed in `previous` exactly. A re-plan from a later day than
    the plan's first (a Tuesday) compares the fingerprints of the scenario as the plan was
    made from (`as_made`: the plan's own earlier visits made as planned taken out), and keeps
    no group with an earlier visit that was not made as planned. Anything else goes the long
    way (`_keep_unchanged`, `_repair`, a full solve).
    """
    end = ctx.days[ctx.horizon_days - 1]
    if (
        published is None
        or not published.team_inputs
        or not published.start <= ctx.start <= published.end
        or published.end != end
        or previous_end != published.end
    ):
        return {}
    unplayed: frozenset[str] = frozenset()
    late: set[str] = set()
    if published.start < ctx.start:
        inputs, unplayed, late = _as_made_inputs(ctx, published, lookahead_weeks)
    scenario = ctx.scenario
    published_at = _by_household(v for v in published.visits if v.day >= ctx.start)
    previous_at = _by_household(previous)
    breaches_of: dict[str, list[Breach]] = defaultdict(list)
    for breach in published.breaches:
        if breach.due <= end:
            breaches_of[breach.child_id].append(breach)
    households_of = households_by_group(scenario, groups)
    workers_of: dict[str, set[str]] = defaultdict(set)
    for w in scenario.workers:
        workers_of[w.team_id].add(w.id)
    kept: dict[tuple[TeamId, ...], _TeamResult] = {}
    for teams in groups:
        key = group_key(teams)
        if published.team_inputs.get(key) != inputs[key]:
            continue
        homes = {h.id for h in households_of[teams]}
        if homes & unplayed:
            continue
        children = _own_children(ctx, homes)
        if children is None or late.intersection(children):
            continue
        workers = {w for t in teams for w in workers_of[t]}
        visits = _of_homes(published_at, homes)
        passed = _of_homes(previous_at, homes)
        if visits != passed or any(
            v.status != "planned"
            or v.day > end
            or v.worker_id not in workers
            or (v.second_worker_id is not None and v.second_worker_id not in workers)
            for v in visits
        ):
            continue
        # From a later day, the kept children have no breach left to report (`late`).
        breaches = (
            [b for c in sorted(children) for b in breaches_of[c]]
            if published.start == ctx.start
            else []
        )
        message = f"team {key}: unchanged, {len(visits)} published visits kept (inputs unchanged)"
        kept[teams] = _TeamResult(
            None, [message], finished=(visits, breaches, set(children)), outcome="kept"
        )
    return kept


def _by_household(visits: Iterable[Visit]) -> dict[str, list[Visit]]:
    """Visits by household, in the order given."""
    out: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        out[visit.household_id].append(visit)
    return out


def _of_homes(by_home: Mapping[str, list[Visit]], homes: Iterable[str]) -> list[Visit]:
    """The visits of these households, by start (then id)."""
    return sorted((v for h in homes for v in by_home.get(h, ())), key=lambda v: (v.start, v.id))


def _own_children(ctx: Context, homes: set[str]) -> dict[str, Child] | None:
    """The children of these households by id, or None when one of them has a home outside
    them (their visits and breaches then depend on another group's)."""
    children = {c.id: c for h in homes for c in ctx.kids.get(h, ())}
    if any(h not in homes for c in children.values() for h in c.household_ids):
        return None
    return children


def _held(
    ctx: Context,
    groups: list[tuple[TeamId, ...]],
    only: set[TeamId],
    previous: tuple[Visit, ...],
    kept: dict[tuple[TeamId, ...], _TeamResult],
) -> dict[tuple[TeamId, ...], _TeamResult]:
    """Groups holding none of `only`, not planned: their `previous` visits as they are, no
    breaches (the caller holds them from the published plan, `replan._held_outside`). Only a
    group whose children live only in its households; another is planned as usual, and its
    result is discarded by the caller all the same."""
    households_of = households_by_group(ctx.scenario, groups)
    previous_at = _by_household(previous)
    out: dict[tuple[TeamId, ...], _TeamResult] = {}
    for teams in groups:
        if teams in kept or only.intersection(teams):
            continue
        homes = {h.id for h in households_of[teams]}
        children = _own_children(ctx, homes)
        if children is None:
            continue
        visits = _of_homes(previous_at, homes)
        message = f"team {group_key(teams)}: not asked for, {len(visits)} visits held"
        out[teams] = _TeamResult(
            None, [message], finished=(visits, [], set(children)), outcome="held"
        )
    return out


def _as_made_inputs(
    ctx: Context, published: Plan, lookahead_weeks: int
) -> tuple[dict[str, str], frozenset[str], set[str]]:
    """For a re-plan from a later day than `published`'s first: the fingerprints of the
    scenario as `published` was made from (`as_made`), the households whose earlier visits
    were not made as planned, and the children with a published breach still open from the
    re-plan's start (not met, or met on or after it).

    Such a child's breaches are judged again from the new start (the reasons count the days
    from there), so its group goes the long way; a kept group's children have none left: a
    breach the new start cannot see was met before it, and the same visits miss nothing new.
    """
    made, unplayed = as_made(ctx.scenario, published, ctx.start)
    inputs = plan_inputs(made, ctx.pack, published, lookahead_weeks)
    late = {
        b.child_id
        for b in published.breaches
        if b.days_late is None or b.due + timedelta(days=b.days_late) >= ctx.start
    }
    return inputs, unplayed, late


def _plan_teams(
    ctx: Context,
    previous: tuple[Visit, ...],
    previous_end: date | None,
    params: SolveParams,
    executor: Executor,
    kept: dict[tuple[TeamId, ...], _TeamResult],
) -> Iterator[_TeamResult]:
    """Every team group's result, in group order, each planned as a `TeamJob` by `executor`.

    Groups in `kept` are already decided (`_kept_by_fingerprint`) and are not translated.
    Each job carries only its group's part of the context, so it runs the same wherever it
    runs; results come back in job order, never in order of completion.
    """
    groups = team_groups(ctx.scenario)
    limits = _team_limits(ctx.scenario, groups, params)
    homes_of = households_by_group(ctx.scenario, groups)
    positions = Positions.of(ctx.scenario)
    published = _positions(v.household_id for v in previous)
    jobs = [
        TeamJob(
            group_context(ctx, g, (h.id for h in homes_of[g]), positions),
            _picked(previous, published, (h.id for h in homes_of[g])),
            previous_end,
            g,
            params.model_copy(update={"time_limit_s": limit, "penalties": False}),
        )
        for g, limit in zip(groups, limits, strict=True)
        if g not in kept
    ]
    yield from _in_group_order(groups, kept, _in_job_order(executor, jobs))


def _in_job_order(executor: Executor, jobs: list[TeamJob]) -> Iterator[_TeamResult]:
    """Each job's result in job order. Unlike `Executor.map`, stopping early (Ctrl-C) cancels
    nothing here: the pool's owner stops the pool (`_stop`). A future cancelled behind the
    pool's back made Python 3.11's pool thread fail (InvalidStateError) when the pool broke,
    printing its traceback and leaving the command hanging at exit."""
    if isinstance(executor, InProcess):
        yield from executor.map(plan_team_job, jobs)
        return
    futures = [executor.submit(plan_team_job, job) for job in jobs]
    for future in futures:
        yield future.result()


def _in_group_order(
    groups: list[tuple[TeamId, ...]],
    kept: dict[tuple[TeamId, ...], _TeamResult],
    solved: Iterator[_TeamResult],
) -> Iterator[_TeamResult]:
    """The kept groups' results merged with the others' (in the same order) by group."""
    for g in groups:
        yield kept[g] if g in kept else next(solved)


LOOKAHEAD_WEEKS = 4
"""Weeks modelled past a plan's horizon, so deadlines just after it are planned for."""


def calendar_window(start: date, end: date) -> tuple[date, date]:
    """The days whose commitments in workers' own calendars a plan from `start` to `end`
    reads: its days and look-ahead. A re-plan reads its plan's window, not one from today, so
    the same calendars give the same busy times whichever day it is made."""
    return start, end + timedelta(weeks=LOOKAHEAD_WEEKS)


def check_in_calendar(start: date, horizon_days: int, lookahead_weeks: int) -> None:
    """A plan's horizon and look-ahead end by the calendar's last day (31 Dec 2100).

    Raises:
        PlanError: they would end after it.
    """
    end = start + timedelta(days=horizon_days + 7 * lookahead_weeks - 1)
    if end > LATEST:
        latest = LATEST - timedelta(days=horizon_days + 7 * lookahead_weeks - 1)
        raise PlanError(
            f"the plan and its {lookahead_weeks}-week look-ahead must end by "
            f"{LATEST:%d %b %Y}, and this one would end on {end:%a %d %b %Y}: start on or "
            f"before {latest:%a %d %b %Y}, or plan fewer weeks"
        )


STORED_START_AHEAD_WEEKS = 8
"""How far ahead a plan stored as the current one may start (`check_stored_start`)."""


def check_stored_start(start: date, today: date) -> None:
    """A plan that will replace the current one starts this week or within
    `STORED_START_AHEAD_WEEKS` weeks: a start in a week gone or a year ahead is a typing slip,
    and storing it would take every visit off the calendars at the next publish.

    Raises:
        PlanError: the start is before this week's Monday or too far ahead.
    """
    monday = today - timedelta(days=today.weekday())
    latest = today + timedelta(weeks=STORED_START_AHEAD_WEEKS)
    if start < monday:
        raise PlanError(
            f"{start:%a %d %b %Y} is in a week that has passed: a new plan starts this week "
            f"(from {monday:%a %d %b %Y}) or later; to plan the rest of this week from the "
            "current plan, use `visitplan replan`"
        )
    if start > latest:
        raise PlanError(
            f"{start:%a %d %b %Y} is more than {STORED_START_AHEAD_WEEKS} weeks ahead: a new "
            f"plan starts by {latest:%a %d %b %Y} (to try a later start without storing it, "
            "add --scenario FILE)"
        )


def plan_scenario(
    scenario: Scenario,
    start: date,
    weeks: int = 1,
    lookahead_weeks: int = LOOKAHEAD_WEEKS,
    params: SolveParams | None = None,
    progress: Callable[[str], None] | None = None,
    processes: int | None = None,
    previous: tuple[Visit, ...] = (),
    previous_end: date | None = None,
    previous_breaches: tuple[Breach, ...] = (),
    published: Plan | None = None,
    executor: Executor | None = None,
    days: int | None = None,
    not_before: datetime | None = None,
    only: Collection[TeamId] | None = None,
) -> Plan:
    """A plan of visits for `weeks` from `start`, with the breaches it could not avoid.

    Teams share nobody unless cross-team cover joins them, so each team group is planned as
    its own `TeamJob` by `executor` (any `concurrent.futures.Executor`: a cluster's can be
    passed in), by default a pool of `processes` processes (default: the machine's cores;
    1: one after another in this process). Each team's stage-1 time is
    `params.time_limit_s` in deterministic seconds (or its share of `params.budget_s` by
    size), so the plan is the same byte for byte whatever the number of processes and
    however busy the machine; a solve stopped by its wall-clock safety net says so
    (`Plan.safety_net`, and a warning through `progress`). `lookahead_weeks` more are
    modelled so deadlines just past the horizon are planned for; only visits inside it are
    returned. Timing goes to `progress`, never into the plan. Progress comes as each team
    group is planned: a plain line per group ("team 3 of 17 (Patch 3) planned: 41 visits, 2
    deadlines at risk") and a final one, and the solver's own figures as `Detail` messages,
    which a caller shows only when asked (the CLI's `--verbose`). `days` sets the horizon in days
    instead (a re-plan ends exactly where the published plan ends); `weeks` is then ignored.

    Re-planning: `previous` are the published visits from `start`. Each is kept (same day,
    worker, second worker and time) unless moving it avoids a breach or its worker cannot make
    it (`penalise_changes`, stage 2's `_moved`); a team group whose published visits are all
    still valid and still meet every deadline up to `previous_end` is kept verbatim, unsolved
    (a deadline the published plan already reported in `previous_breaches` does not count).
    `published` is the plan `previous` comes from: a group whose input fingerprint
    (`team_inputs`, stored in `Plan.team_inputs`) is unchanged since it was made is kept from
    it without even being translated (`_kept_by_fingerprint`: same start and end only).
    A pinned visit in `previous` (`Visit.pinned`) is kept in every path whenever its workers
    can still make it (hard, not weighed), and stays pinned in the plan; the pins are part
    of the fingerprint. `not_before` (aware: a plan or re-plan made during the day) is the moment
    before which nothing is placed but a published visit kept as it was; it is not part of
    the fingerprint, since a group kept from `published` places nothing new. With `only` (a
    manager's re-plan of their teams), a group holding none of those teams is not planned:
    its `previous` visits come back as they are (`_held`), for the caller to hold.
    """
    params = params or SolveParams()
    say = progress or (lambda _message: None)
    horizon = 7 * weeks if days is None else days
    check_in_calendar(start, horizon, lookahead_weeks)
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), start, weeks, lookahead_weeks, horizon)
    ctx.accepted = accepted_breaches(previous_breaches)
    ctx.not_before = not_before_index(not_before, ctx.tz, ctx.days)
    end = start + timedelta(days=horizon - 1)
    pins = [v for v in previous if v.pinned]
    inputs = team_inputs(scenario, pack, start, weeks, lookahead_weeks, pins, horizon)
    groups = team_groups(scenario)
    kept = _kept_by_fingerprint(
        ctx, groups, inputs, published, previous, previous_end, lookahead_weeks
    )
    if only is not None:
        kept |= _held(ctx, groups, set(only), previous, kept)
    drafts: list[_Draft] = []
    statuses: list[str] = []
    objective = 0.0
    bounds: list[float | None] = []
    solved = 0
    """Team groups CP-SAT found a solution for (the objective sums only those)."""
    safety_net = False
    team_of_home: dict[str, TeamProblem] = {}
    visits: list[Visit] = []
    breaches: list[Breach] = []
    handled: set[str] = set()
    jobs = len(groups) - len(kept)
    workers = max(1, min(processes or default_processes(), jobs))
    own = executor is None and workers > 1
    pool = process_pool(workers) if own else (executor or InProcess())
    results: list[_TeamResult] = []
    names = {t.id: t.name for t in scenario.teams}
    try:
        # Live: each group's lines as soon as it (and every group before it) is planned.
        planned = _plan_teams(ctx, previous, previous_end, params, pool, kept)
        for k, (teams, result) in enumerate(zip(groups, planned, strict=True), start=1):
            results.append(result)
            for message in result.messages:
                say(Detail(message))
            say(_team_line(k, len(groups), " + ".join(names.get(t, t) for t in teams), result))
    except BaseException:
        if own:
            _stop(pool)  # Ctrl-C or a dead process: waiting for the pool could hang
        raise
    if own:
        pool.shutdown()
    for result in results:
        if result.tp is not None:
            for h in result.tp.households:
                team_of_home[h.id] = result.tp
        if result.finished is None:
            drafts.extend(result.drafts)
        else:
            visits += result.finished[0]
            breaches += result.finished[1]
            handled |= result.finished[2]
        safety_net |= result.safety_net
        solution = result.solution
        if solution is not None:
            statuses.append(solution.status.value)
            safety_net |= solution.safety_net
            if solution.objective is not None:
                solved += 1
                objective += solution.objective
                bounds.append(solution.bound)
    rest = [c for c in scenario.children if c.id not in handled]
    if drafts or rest:
        more_visits, more_breaches = _visits_and_breaches(ctx, drafts, rest, team_of_home)
        visits += more_visits
        breaches += more_breaches
    visits = _keep_pins(visits, previous)
    visits.sort(key=lambda v: (v.start, v.household_id))
    breaches.sort(key=lambda b: (b.child_id, b.due, b.rule_id))
    plural = "" if len(visits) == 1 else "s"
    say(f"plan ready: {len(visits)} visit{plural}, {_at_risk(len(breaches))}")
    if safety_net:
        say(
            "warning: the computer was too busy for every team to be planned in the usual "
            "way; this plan may differ from one made when it is quieter"
        )
        say(Detail("a solve was stopped by its wall-clock safety net"))
    status = max(statuses, key=_STATUS_ORDER.index) if statuses else SolveStatus.OPTIMAL.value
    return Plan(
        id=plan_id(scenario.authority.id, start, end, weeks, params.seed),
        authority=scenario.authority.id,
        start=start,
        end=end,
        lookahead_end=ctx.days[-1],
        seed=params.seed,
        visits=tuple(visits),
        breaches=tuple(breaches),
        status=status,
        objective=objective if solved else None,
        bound=sum(b for b in bounds if b is not None)
        if solved and all(b is not None for b in bounds)
        else None,
        team_inputs=inputs,
        safety_net=safety_net,
    )


def plan_id(authority: str, start: date, end: date, weeks: int, seed: int) -> str:
    """A plan's id: its authority, first day, whole weeks (or days, when it does not run whole
    weeks: a plan from a day gone, a re-plan's horizon) and seed."""
    days = (end - start).days + 1
    return (
        f"plan-{authority}-{start:%Y%m%d}-"
        + (f"{weeks}w" if days == 7 * weeks else f"{days}d")
        + f"-s{seed}"
    )


def _at_risk(count: int) -> str:
    """'no deadline at risk', '1 deadline at risk', '2 deadlines at risk'."""
    if count == 0:
        return "no deadline at risk"
    return f"{count} deadline{'s' if count != 1 else ''} at risk"


def _team_line(k: int, n: int, name: str, result: _TeamResult) -> str:
    """The plain progress line of one team group, e.g. 'team 3 of 17 (Patch 3) planned: 41
    visits, 2 deadlines at risk' (the deadlines only when the group's children are all its
    own; otherwise they are counted in the final line)."""
    head = f"team {k} of {n} ({name})"
    if result.outcome == "nothing due":
        return f"{head}: nothing due"
    if result.finished is not None:
        count = len(result.finished[0])
        risk = f", {_at_risk(len(result.finished[1]))}"
    else:
        count, risk = len(result.drafts), ""
    visits = f"{count} visit{'s' if count != 1 else ''}"
    if result.outcome == "held":
        return f"{head}: not one of the teams re-planned, {visits} left as published"
    if result.outcome == "kept":
        return f"{head} unchanged: {visits} kept as published{risk}"
    if result.outcome == "repaired":
        return f"{head} re-planned around the changes: {visits}{risk}"
    return f"{head} planned: {visits}{risk}"


def _pin_key(visit: Visit) -> tuple[str, datetime, str, str | None, bool]:
    return (
        visit.household_id,
        visit.start,
        visit.worker_id,
        visit.second_worker_id,
        visit.announced,
    )


def _keep_pins(visits: list[Visit], previous: tuple[Visit, ...]) -> list[Visit]:
    """The visits, those that are a pinned published visit unchanged (same home, start,
    workers and announced status) pinned again; a pin that could not hold is not carried."""
    pinned = {_pin_key(v) for v in previous if v.pinned}
    if not pinned:
        return visits
    return [
        v.model_copy(update={"pinned": True}) if not v.pinned and _pin_key(v) in pinned else v
        for v in visits
    ]


def _visits_and_breaches(
    ctx: Context,
    drafts: list[_Draft],
    children: Collection[Child],
    team_of_home: dict[str, TeamProblem],
) -> tuple[list[Visit], list[Breach]]:
    """The drafts as visits, and the breaches of `children` (who include all they visit)."""
    visits, contacts = _build_visits(ctx, drafts, children)
    end = ctx.days[ctx.horizon_days - 1]
    found = []
    for child in sorted(children, key=lambda c: c.id):
        tp = next((team_of_home[h] for h in child.household_ids if h in team_of_home), None)
        for rule_id, due, met_on in find_breaches(ctx, child, contacts[child.id], end):
            reason = breach_reason(ctx, tp, child, due, met_on)
            found.append(Unmet(tp, child, rule_id, due, met_on, reason))
    teams = {id(tp): tp for tp in team_of_home.values()}
    loads = week_loads(ctx, teams.values(), visits, found)
    breaches = []
    for m in found:
        reason = m.reason
        if CAPACITY in reason:
            reason = breach_reason(ctx, m.tp, m.child, m.due, m.met_on, loads)
        if m.met_on is not None:
            late = (m.met_on - m.due).days
            reason += f"; planned {late} day{'' if late == 1 else 's'} late on {on_day(m.met_on)}"
        breaches.append(
            Breach(
                child_id=m.child.id,
                rule_id=m.rule_id,
                due=m.due,
                days_late=None if m.met_on is None else (m.met_on - m.due).days,
                reason=reason,
                category=m.child.category,
                severity=ctx.pack.rule(m.rule_id).severity,
            )
        )
    return list(visits), breaches
