"""Stage-1 objective terms, one `penalise_<thing>` builder each, returning named terms."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from ortools.sat.python import cp_model

from solver.params import Weights
from solver.problem import Clock, Problem
from solver.variables import Variables

Term = tuple[str, str, cp_model.LinearExprT]
"""(term_id, subject_id, expression)."""


def _coverage(v: Variables, tasks: Iterable[int], unannounced: bool) -> dict[int, list]:
    """Day -> literals of visits that count, in task order."""
    store = v.unannounced if unannounced else v.visit
    wanted = set(tasks)
    out: dict[int, list] = defaultdict(list)
    for (t, d), lit in sorted(store.items()):
        if t in wanted:
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
    for e in range(max(0, due - clock.buffer_days + 1), window + 1):
        if e <= due:
            if not weights.retry_buffer:
                continue
            lits = [lit for d in range(e) for lit in cover.get(d, [])]
            term, cost = "retry_buffer", weights.retry_buffer
        else:
            lits = [
                lit for d in range(e) if chain is None or chain[d] >= e for lit in cover.get(d, [])
            ]
            term, cost = "statutory_lateness", clock.weight_per_day
        uncovered = model.new_bool_var(f"uncovered_{clock.id}_d{e}")
        model.add(uncovered + sum(lits) >= 1)
        terms.append((term, clock.subject, cost * uncovered))
    return terms


def penalise_late_visits(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Days each clock runs past its deadline, and a small cost for missing the retry buffer."""
    terms: list[Term] = []
    for clock in problem.clocks:
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
        model.add(sum(lits) + short >= quota.count)
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
    """Estimated travel: each visit costs the trip from the resource's base (a zone proxy)."""
    terms: list[Term] = []
    for store in (v.main, v.second):
        for (t, _d, r), lit in store.items():
            minutes = problem.travel_min[problem.resources[r].location][problem.tasks[t].location]
            if minutes:
                terms.append(("travel", problem.resources[r].id, weights.travel * minutes * lit))
    return terms


def penalise_uneven_workload(
    model: cp_model.CpModel, problem: Problem, v: Variables, weights: Weights
) -> list[Term]:
    """Each resource's busiest day in the horizon, so visits spread over the week."""
    daily: dict[tuple[int, int], list] = defaultdict(list)
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
            model.add(peak >= sum(lits))
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


OBJECTIVE_TERMS = (
    penalise_late_visits,
    penalise_short_months,
    penalise_other_worker,
    penalise_travel,
    penalise_uneven_workload,
    penalise_tie_break,
)
