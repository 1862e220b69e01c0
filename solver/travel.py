"""Stage-1 travel estimate: a worker's day of visits priced as round trips that chain
nearby homes (a same-day-neighbour term).

Rule: an estimate for stage 1 only (stage 2 routes exactly). Each visit of a worker-day is
either the first stop of a round trip from base (base -> home -> base) or joins a round trip
at a nearby visit of the same worker-day that is no further from base: joining u costs the
insertion tt(u, t) + tt(t, base) - tt(u, base). Each visit takes at most one joiner, so the
priced trips are real routes (homes in order of distance from base): the estimate is never
below the day's shortest route and equals it for homes strung out along one road. Charging
each visit its own trip made two visits next door cost twice one; the zone estimate before
this (one trip per 5-minute zone) did not reward homes a few zones apart on one day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from ortools.sat.python import cp_model

from solver.problem import Problem
from solver.variables import Variables

JOIN_CHOICES = 3
"""Nearest same-day visits (closer to base) each visit may join; more barely changed plans."""


def join_cost_min(problem: Problem, base: int, joined: int, task: int) -> int:
    """Minutes that visiting `task` adds to a round trip that ends at `joined` (locations)."""
    tt = problem.travel_min
    return max(0, tt[joined][task] + tt[task][base] - tt[joined][base])


def day_route_terms(
    model: cp_model.CpModel, problem: Problem, v: Variables, per_min: int
) -> list[tuple[str, str, cp_model.LinearExprT]]:
    """("travel", resource id, cost) terms: a round trip per visit less what joining saves.

    `join[t, u, d, r]` (t joins u's trip) needs both visits on r's day; each visit joins at
    most one and is joined by at most one. Only households allocated to r join or are joined
    on r's days: a colleague covering a visit is rare (it costs continuity) and is charged
    the full round trip, which keeps the model to a worker's own caseload per day.
    """
    if not per_min:
        return []
    tt = problem.travel_min
    attend: dict[tuple[int, int], dict[int, list[cp_model.IntVar]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for store in (v.main, v.second):
        for (t, d, r), lit in store.items():
            attend[r, d][t].append(lit)
    terms: list[tuple[str, str, cp_model.LinearExprT]] = []
    for (r, d), tasks in sorted(attend.items()):
        resource = problem.resources[r]
        base = resource.location
        home = {t: problem.tasks[t].location for t in tasks}
        order = sorted(tasks, key=lambda t: (tt[base][home[t]], t))
        own = [t for t in order if r in problem.tasks[t].preferred_resources]
        lits = {t: cp_model.LinearExpr.sum(tasks[t]) for t in order}
        joins_of: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        joined_by: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        weights: list[int] = []
        variables: list[cp_model.IntVar] = []
        for t in order:
            trip = tt[base][home[t]] + tt[home[t]][base]
            if trip:
                weights.extend(trip for _ in tasks[t])
                variables.extend(tasks[t])
            if r not in problem.tasks[t].preferred_resources:
                continue
            savings = sorted(
                (trip - join_cost_min(problem, base, home[u], home[t]), u)
                for u in own
                if (tt[base][home[u]], u) < (tt[base][home[t]], t)
            )
            best = [(x, u) for x, u in savings[::-1] if x > 0][:JOIN_CHOICES]
            for saving, u in sorted(best, key=lambda item: item[1]):
                join = model.new_bool_var(f"join_t{t}_t{u}_d{d}_r{r}")
                v.join[t, u, d, r] = join
                joins_of[t].append((u, join))
                joined_by[u].append(join)
                weights.append(-saving)
                variables.append(join)
        for t, options in joins_of.items():
            model.add(cp_model.LinearExpr.sum([j for _u, j in options]) <= lits[t])
        for u, joins in joined_by.items():
            model.add(cp_model.LinearExpr.sum(joins) <= lits[u])
        if joins_of:
            _derive_joins(v, order, tasks, joins_of, problem, base, home)
        if variables:
            terms.append(
                (
                    "travel",
                    resource.id,
                    per_min * cp_model.LinearExpr.weighted_sum(variables, weights),
                )
            )
    return terms


def _derive_joins(
    v: Variables,
    order: list[int],
    tasks: dict[int, list[cp_model.IntVar]],
    joins_of: dict[int, list[tuple[int, cp_model.IntVar]]],
    problem: Problem,
    base: int,
    home: dict[int, int],
) -> None:
    """Hints the joins from the hinted visits: each visit, nearest to base first, joins the
    cheapest hinted visit still free to take it."""
    keyed = [(t, u, j) for t in order for u, j in joins_of.get(t, ())]

    def values(value: Callable[[cp_model.IntVar], int]) -> tuple[int, ...]:
        present = {t for t in order if any(value(x) for x in tasks[t])}
        taken: set[int] = set()
        pick: dict[int, int] = {}
        for t in order:
            if t not in present:
                continue
            free = [
                (join_cost_min(problem, base, home[u], home[t]), u)
                for u, _j in joins_of.get(t, ())
                if u in present and u not in taken
            ]
            if free:
                _cost, u = min(free)
                taken.add(u)
                pick[t] = u
        return tuple(int(pick.get(t) == u) for t, u, _j in keyed)

    v.derive_all(tuple(j for _t, _u, j in keyed), values)
