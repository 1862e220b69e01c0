"""Stage-1 objective terms, one `penalise_<thing>` builder each, returning named terms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from ortools.sat.python import cp_model

from solver.params import Weights
from solver.problem import Clock, PreviousVisit, Problem
from solver.travel import day_route_terms
from solver.variables import Variables

Term = tuple[str, str, cp_model.LinearExprT]
"""(term_id, subject_id, expression)."""
Value = Callable[[cp_model.IntVar], int]
"""A variable's value in a solution or hint (`Variables.derive`)."""


def _none_of(lits: list[cp_model.IntVar]) -> Callable[[Value], int]:
    """Derivation of a literal that is 1 when none of `lits` is."""
    return lambda value: int(not any(value(x) for x in lits))


def _shortfall(lits: list[cp_model.IntVar], count: int) -> Callable[[Value], int]:
    """Derivation of how many of `count` visits `lits` fall short by."""
    return lambda value: max(0, count - sum(value(x) for x in lits))


def _peak(days: list[list[cp_model.IntVar]], cap: int) -> Callable[[Value], int]:
    """Derivation of the busiest day's visits (at most `cap`)."""
    return lambda value: min(cap, max(sum(value(x) for x in lits) for lits in days))


def _coverage(
    v: Variables, tasks: Iterable[int], unannounced: bool
) -> dict[int, list[cp_model.IntVar]]:
    """Day -> literals of visits that count, in task order."""
    index = v.unannounced_by_task() if unannounced else v.visit_by_task()
    out: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    for t in sorted(set(tasks)):
        for d, lit in index.get(t, ()):
            out[d].append(lit)
    return out


def _late_terms(
    model: cp_model.CpModel, problem: Problem, v: Variables, clock: Clock, weights: Weights
) -> list[Term]:
    """Days late, counted as uncovered days.

    Day e after the first deadline is covered when some visit on a day d < e has its next
    deadline on or after e (`next_due_day[d] >= e`, or no next deadline). Each uncovered day
    is one day late, so the count equals the total lateness of the visit sequence, and adding
    a visit never costs lateness (which keeps the search monotone).
    """
    cover = _coverage(v, clock.tasks, clock.unannounced)
    window = problem.window_days
    due = clock.first_due_day
    chain = clock.next_due_day
    terms: list[Term] = []
    # Day `window` (just past the end) is judged too, so a deadline on the last day counts.
    days = sorted(cover)
    for e in range(max(0, due - clock.buffer_days + 1), window + 1):
        if e <= due:
            # No retry buffer for a deadline past the horizon: the next plan has room to retry.
            if not weights.retry_buffer or due >= problem.horizon_days:
                continue
            lits = [lit for d in days if d < e for lit in cover[d]]
            term, cost = "retry_buffer", weights.retry_buffer
        else:
            lits = [
                lit for d in days if d < e and (chain is None or chain[d] >= e) for lit in cover[d]
            ]
            term, cost = "statutory_lateness", clock.weight_per_day
        uncovered = model.new_bool_var(f"uncovered_{clock.id}_d{e}")
        model.add_bool_or([uncovered, *lits])
        v.derive(uncovered, _none_of(lits))
        terms.append((term, clock.subject, cost * uncovered))
    return terms


def merged_clocks(problem: Problem) -> list[Clock]:
    """The clocks with identical ones (siblings: same homes, deadlines and chain) merged into
    one whose weight is their sum and whose subject joins theirs with "+", in first order."""
    merged: dict[tuple[Any, ...], Clock] = {}
    for clock in problem.clocks:
        key = (
            clock.tasks,
            clock.unannounced,
            clock.first_due_day,
            clock.next_due_day,
            clock.buffer_days,
        )
        same = merged.get(key)
        if same is None:
            merged[key] = clock
        else:
            merged[key] = same.model_copy(
                update={
                    "subject": f"{same.subject}+{clock.subject}",
                    "weight_per_day": same.weight_per_day + clock.weight_per_day,
                }
            )
    return list(merged.values())


def penalise_late_visits(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Days each clock runs past its deadline, and a small cost for missing the retry buffer."""
    terms: list[Term] = []
    for clock in merged_clocks(problem):
        terms.extend(_late_terms(model, problem, v, clock, weights))
    return terms


def penalise_short_months(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Visits missing from a monthly count."""
    terms: list[Term] = []
    for quota in problem.quotas:
        cover = _coverage(v, quota.tasks, quota.unannounced)
        lits = [lit for d in range(quota.first_day, quota.last_day + 1) for lit in cover.get(d, [])]
        short = model.new_int_var(0, quota.count, f"short_{quota.id}")
        model.add(cp_model.LinearExpr.sum(lits) + short >= quota.count)
        v.derive(short, _shortfall(lits, quota.count))
        terms.append(("monthly_count", quota.subject, quota.weight * short))
    return terms


def penalise_other_worker(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Visits led by someone other than the children's allocated worker (continuity)."""
    terms: list[Term] = []
    for (t, _d, r), lit in v.main.items():
        preferred = problem.tasks[t].preferred_resources
        if preferred and r not in preferred:
            terms.append(("allocated_worker", problem.tasks[t].id, weights.allocated_worker * lit))
    return terms


def penalise_travel(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Estimated travel: each worker-day's round trips chaining nearby homes (solver.travel)."""
    return day_route_terms(model, problem, v, weights.travel)


def penalise_visits(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Every visit in the horizon, so none is made that no clock, count or retry buffer needs
    (above travel: a surplus visit costs more than the travel it could save).

    Look-ahead visits are not charged: they are never made from this plan (the next plan
    decides them), so a visit brought earlier in the horizon to share a nearby round trip is
    not held back by the extra look-ahead visit its earlier deadline may need.
    """
    if not weights.visit:
        return []
    return [
        ("visits", problem.tasks[t].id, weights.visit * lit)
        for (t, d), lit in v.visit.items()
        if d < problem.horizon_days
    ]


def penalise_uneven_workload(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Each resource's busiest day in the horizon, so visits spread over the week."""
    daily: dict[tuple[int, int], list[cp_model.IntVar]] = defaultdict(list)
    for store in (v.main, v.second):
        for (_t, d, r), lit in store.items():
            if d < problem.horizon_days:
                daily[r, d].append(lit)
    terms: list[Term] = []
    for r, resource in enumerate(problem.resources):
        days = [lits for (rr, _d), lits in sorted(daily.items()) if rr == r]
        if not days:
            continue
        peak = model.new_int_var(0, resource.max_visits_per_day, f"peak_r{r}")
        for lits in days:
            model.add(peak >= cp_model.LinearExpr.sum(lits))
        v.derive(peak, _peak(days, resource.max_visits_per_day))
        terms.append(("even_workload", resource.id, weights.even_workload * peak))
    return terms


def penalise_tie_break(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """A tiny cost on day index and on the resource's rank by id, so ties break the same way."""
    rank = {
        r: i
        for i, r in enumerate(
            sorted(range(len(problem.resources)), key=lambda r: problem.resources[r].id)
        )
    }
    terms: list[Term] = []
    for (t, d, r), lit in v.main.items():
        cost = weights.tie_break * (d + rank[r])
        if cost:
            terms.append(("tie_break", problem.tasks[t].id, cost * lit))
    return terms


CHANGE_WEIGHT = 50_000
"""Per published visit changed (another lead or second worker, another day, dropped) or added
in the horizon: far above the allocated-worker, travel and workload terms, far below a day of
statutory lateness (early help 100,000 a day, child protection 1,000,000)."""
CHANGE_DAY_WEIGHT = 30_000
"""Per published visit not kept on its day: a forced change goes to a colleague that day
rather than being dropped (above the allocated-worker term) or moved."""


def penalise_changes(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Re-planning: published visits not kept (same day, lead and second), and new visits.

    A published visit whose worker can no longer make it costs the same whatever happens, so
    only the day term steers it (a colleague the same day first); every other change, and
    every visit added in the horizon, costs `CHANGE_WEIGHT`.
    """
    if not problem.previous:
        return []
    terms: list[Term] = []
    published: set[tuple[int, int]] = set()
    for p in problem.previous:
        task_id = problem.tasks[p.task].id
        published.add((p.task, p.day))
        for store, r in ((v.main, p.resource), (v.second, p.second_resource)):
            lit = store.get((p.task, p.day, r)) if r is not None else None
            if lit is not None:
                terms.append(("changes", task_id, CHANGE_WEIGHT * (1 - lit)))
        day_lit = v.visit.get((p.task, p.day))
        if day_lit is not None:
            terms.append(("changes", task_id, CHANGE_DAY_WEIGHT * (1 - day_lit)))
        flip = v.unannounced.get((p.task, p.day))
        if flip is not None:
            # Announced or not is part of the published visit: changing it is a change.
            kept = (1 - flip) if p.unannounced else flip
            terms.append(("changes", task_id, CHANGE_WEIGHT * kept))
    for (t, d), lit in v.visit.items():
        if d < problem.horizon_days and (t, d) not in published:
            terms.append(("changes", problem.tasks[t].id, CHANGE_WEIGHT * lit))
    # Repair: every published visit its workers can still make stays as it is; a pinned
    # one does in every re-plan.
    for p in problem.previous:
        if problem.keep_previous or p.pinned:
            _fix(model, v, p)
    _hint_previous(model, problem, v)
    return terms


def _fix(model: cp_model.CpModel, v: Variables, p: PreviousVisit) -> None:
    """Keeps a published visit's lead, second worker and announced status when every one of
    its workers can still be chosen; a visit one of whose workers is away or no longer
    allowed (no variable) is released whole.

    Fixing only the worker who is left would force the visit to stay on that day with a
    stand-in for the other: a joint visit whose lead is off sick would pin its second worker
    to the published day, and the repair could find no plan at all where moving the visit
    (or giving it two other workers) meets every deadline.
    """
    if p.resource is None:  # the lead is no longer in the problem
        return
    crew = [(v.main, p.resource)]
    if p.second_resource is not None:
        crew.append((v.second, p.second_resource))
    if any((p.task, p.day, r) not in store for store, r in crew):
        return
    for store, r in crew:
        model.add(store[p.task, p.day, r] == 1)
    flip = v.unannounced.get((p.task, p.day))
    if flip is not None:
        model.add(flip == int(p.unannounced))


def _hint_previous(model: cp_model.CpModel, problem: Problem, v: Variables) -> None:
    """The first round's hint: the published visits still possible in the horizon, and the
    greedy warm start (`solver.warm`) on the look-ahead days, so CP-SAT starts from a
    complete solution close to the published plan.

    Only when the model has no hint yet and no cuts (later rounds hint their own solution).
    """
    from solver.warm import greedy_hint  # the warm start imports this module's siblings

    if problem.cuts or model.proto.solution_hint.vars:
        return
    later = {k: val for k, val in greedy_hint(problem, v).items() if k[2] >= problem.horizon_days}
    on: set[tuple[Any, ...]] = set()
    for p in problem.previous:
        joint_ok = (p.task, p.day, p.second_resource) in v.second
        if (p.task, p.day, p.resource) in v.main and (joint_ok or not problem.tasks[p.task].joint):
            on |= {("visit", p.task, p.day), ("main", p.task, p.day, p.resource)}
            if joint_ok:
                on.add(("second", p.task, p.day, p.second_resource))
            if p.unannounced and (p.task, p.day) in v.unannounced:
                on.add(("unannounced", p.task, p.day))
    for name, store in (
        ("visit", v.visit),
        ("main", v.main),
        ("second", v.second),
        ("unannounced", v.unannounced),
    ):
        for key, lit in store.items():
            if key[1] < problem.horizon_days:
                model.add_hint(lit, (name, *key) in on)
            elif (name, *key) in later:
                model.add_hint(lit, later[name, *key])


OBJECTIVE_TERMS = (
    penalise_late_visits,
    penalise_short_months,
    penalise_other_worker,
    penalise_travel,
    penalise_visits,
    penalise_uneven_workload,
    penalise_tie_break,
    penalise_changes,
)
