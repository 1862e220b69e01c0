"""Stage-1 travel estimate by zones: a worker-day pays one round trip per zone it visits.

Rule: an estimate for stage 1 only (stage 2 routes exactly). Charging each visit its own trip
from base made two visits next door cost twice one, so the model spread visits one a day and
travelled more than the greedy baseline; a zone-day charge makes batching nearby visits pay.
"""

from __future__ import annotations

from collections import defaultdict

from ortools.sat.python import cp_model

from solver.problem import Problem
from solver.variables import Variables

ZONE_RADIUS_MIN = 5
"""A zone is the households within this many minutes of its first (centre) household."""


def zones(problem: Problem) -> list[int]:
    """Zone of each task: leader clustering in task order (deterministic)."""
    tt = problem.travel_min
    centres: list[int] = []
    out = []
    for task in problem.tasks:
        loc = task.location
        zone = next((z for z, c in enumerate(centres) if tt[c][loc] <= ZONE_RADIUS_MIN), None)
        if zone is None:
            zone = len(centres)
            centres.append(loc)
        out.append(zone)
    return out


def zone_travel_terms(
    model: cp_model.CpModel, problem: Problem, v: Variables, per_min: int
) -> list[tuple[str, str, cp_model.LinearExprT]]:
    """("travel", resource id, cost) terms: zone round trips plus each visit's detour.

    `used[r, d, z]` is forced on by any visit of resource r on day d in zone z; it costs the
    round trip base -> centre -> base, and each visit the trip centre -> home -> centre.
    """
    if not per_min:
        return []
    zone_of = zones(problem)
    tt = problem.travel_min
    centre = {}
    for t, task in enumerate(problem.tasks):
        centre.setdefault(zone_of[t], task.location)
    visits: dict[tuple[int, int, int], list[cp_model.IntVar]] = defaultdict(list)
    terms: list[tuple[str, str, cp_model.LinearExprT]] = []
    for store in (v.main, v.second):
        for (t, d, r), lit in store.items():
            z = zone_of[t]
            visits[r, d, z].append(lit)
            loc = problem.tasks[t].location
            detour = tt[centre[z]][loc] + tt[loc][centre[z]]
            if detour:
                terms.append(("travel", problem.resources[r].id, per_min * detour * lit))
    for (r, d, z), lits in sorted(visits.items()):
        base = problem.resources[r].location
        trip = tt[base][centre[z]] + tt[centre[z]][base]
        if not trip:
            continue
        used = model.new_bool_var(f"zone_r{r}_d{d}_z{z}")
        for lit in lits:
            model.add_implication(lit, used)
        v.derive(used, lambda value, lits=lits: int(any(value(x) for x in lits)))
        terms.append(("travel", problem.resources[r].id, per_min * trip * used))
    return terms
