"""One way into the solver: stage-1 CP-SAT assignment, stage-2 sequencing, no-good cuts.

Rule: pure function of the problem and parameters; the clock is read only to time itself.
"""

from __future__ import annotations

import time
from collections import defaultdict

from ortools.sat.python import cp_model

from solver.constraints import (
    add_cuts,
    add_one_lead_per_visit,
    add_second_for_joint_visits,
    add_unannounced_only_on_visits,
    add_window_energy,
    add_worker_day_capacity,
)
from solver.objective import OBJECTIVE_TERMS, Term
from solver.params import SolveParams
from solver.polish import polish
from solver.problem import Cut, Problem
from solver.sequence import DaySequence, DayVisit, sequence_day
from solver.solution import Assignment, Penalty, Solution, SolveStatus
from solver.variables import Variables, complete_hint, make_variables
from solver.warm import greedy_hint

_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.MODEL_INVALID: SolveStatus.UNKNOWN,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
}


class _FirstSolution(cp_model.CpSolverSolutionCallback):
    """Records when the first solution arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def on_solution_callback(self) -> None:
        if self.at is None:
            self.at = time.perf_counter()


class _Stage1:
    """The stage-1 model, its variables and its named objective terms."""

    def __init__(self, problem: Problem, params: SolveParams) -> None:
        self.model = cp_model.CpModel()
        self.vars: Variables = make_variables(self.model, problem)
        for add in (
            add_one_lead_per_visit,
            add_second_for_joint_visits,
            add_unannounced_only_on_visits,
            add_worker_day_capacity,
            add_window_energy,
            add_cuts,
        ):
            add(self.model, problem, self.vars)
        self.terms: list[Term] = []
        for penalise in OBJECTIVE_TERMS:
            self.terms.extend(penalise(self.model, problem, self.vars, params.weights))
        self.terms.extend(_lookahead_travel(problem, self.vars, params))
        self.model.minimize(cp_model.LinearExpr.sum([expr for _term, _subject, expr in self.terms]))

    def all_literals(self) -> dict[tuple, cp_model.IntVar]:
        """Every decision literal under a stable key (for hints across rounds)."""
        out: dict[tuple, cp_model.IntVar] = {}
        for name, store in (
            ("visit", self.vars.visit),
            ("main", self.vars.main),
            ("second", self.vars.second),
            ("unannounced", self.vars.unannounced),
        ):
            for key, lit in store.items():
                out[(name, *key)] = lit
        return out


def _lookahead_travel(problem: Problem, v: Variables, params: SolveParams) -> list[Term]:
    """Look-ahead visits have no lead variable: charge the nearest eligible base's trip.

    Without it a visit would cost travel in the horizon and nothing a day past it, and the
    model would push visits out of the horizon to save travel.
    """
    terms: list[Term] = []
    for (t, d), lit in v.visit.items():
        if d < problem.horizon_days:
            continue
        leads, seconds = v.staff[t, d]
        loc = problem.tasks[t].location
        trip = min(problem.travel_min[problem.resources[r].location][loc] for r in leads)
        if seconds:
            trip += min(problem.travel_min[problem.resources[r].location][loc] for r in seconds)
        if trip:
            terms.append(("travel", problem.tasks[t].id, params.weights.travel * trip * lit))
    return terms


def _configure(solver: cp_model.CpSolver, params: SolveParams, limit_s: float) -> None:
    solver.parameters.random_seed = params.seed
    solver.parameters.num_workers = params.num_workers
    if params.deterministic:
        # Deterministic time keeps a seed's plan identical from run to run and machine to
        # machine; the wall limit is only a safety net (one worker under load runs ~4x).
        solver.parameters.max_deterministic_time = limit_s
        solver.parameters.max_time_in_seconds = 10 * limit_s
    else:
        solver.parameters.max_time_in_seconds = limit_s
    # Interleaved subsolvers (core, LNS, LP) even on one worker: measured on an M team, one
    # interleaved worker reached 0.05% of the optimum in 2.7 s; plain search stalled at 28%.
    solver.parameters.interleave_search = True
    # A light presolve: symmetry detection and probing cost ~0.3 s per team and never paid
    # off here; with them off the hint is the first solution within ~0.4 s (an M team).
    solver.parameters.symmetry_level = 0
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.absolute_gap_limit = params.absolute_gap_limit
    solver.parameters.log_search_progress = params.log


def _assignments(problem: Problem, stage: _Stage1, value: dict[tuple, int]) -> list[Assignment]:
    """The visits a set of literal values (keyed as `all_literals`) makes."""
    v = stage.vars
    lead: dict[tuple[int, int], int] = {}
    second: dict[tuple[int, int], int] = {}
    for t, d, r in sorted(v.main):
        if value.get(("main", t, d, r)):
            lead[t, d] = r
    for t, d, r in sorted(v.second):
        if value.get(("second", t, d, r)):
            second[t, d] = r
    out = []
    for t, d in sorted(v.visit):
        if not value.get(("visit", t, d)):
            continue
        unannounced = bool(value.get(("unannounced", t, d)))
        out.append(
            Assignment(
                task=t,
                day=d,
                # A look-ahead visit has no lead variable: any resource that could lead it.
                resource=lead.get((t, d), v.staff[t, d][0][0]),
                second_resource=second.get((t, d)),
                unannounced=unannounced,
            )
        )
    return out


def _day_visits(assignments: list[Assignment], day: int) -> list[DayVisit]:
    return [DayVisit(a.task, a.resource, a.second_resource) for a in assignments if a.day == day]


def _first_tasks(assignments: list[Assignment], horizon_days: int) -> dict[int, int]:
    """Task -> day of its first visit in the horizon."""
    first: dict[int, int] = {}
    for a in sorted(assignments, key=lambda a: a.day):
        if a.day < horizon_days:
            first.setdefault(a.task, a.day)
    return first


def _minimal_set(
    problem: Problem,
    day: int,
    visits: list[DayVisit],
    first: set[int],
    params: SolveParams,
    r: int,
) -> list[DayVisit]:
    """Shrinks one resource's unsequenceable visits to a minimal unsequenceable subset."""
    core = [x for x in visits if r in x.attendees()]
    for x in list(core):
        trial = [y for y in core if y != x]
        if trial and sequence_day(problem, day, trial, first, params, only_resource=r) is None:
            core = trial
    return core


def _diagnose(
    problem: Problem, day: int, visits: list[DayVisit], first: set[int], params: SolveParams
) -> list[Cut]:
    """Cuts for a day that cannot be sequenced: per resource when one alone fails."""
    cuts = []
    for r in sorted({r for x in visits for r in x.attendees()}):
        if sequence_day(problem, day, visits, first, params, only_resource=r) is None:
            core = _minimal_set(problem, day, visits, first, params, r)
            cuts.append(Cut(day=day, pairs=tuple(sorted((x.task, r) for x in core))))
    if not cuts:
        # Joint visits couple the resources: forbid this day's whole combination.
        pairs = sorted({(x.task, r) for x in visits for r in x.attendees()})
        cuts.append(Cut(day=day, pairs=tuple(pairs)))
    return cuts


def _drop_until_sequenced(
    problem: Problem, day: int, visits: list[DayVisit], first: set[int], params: SolveParams
) -> tuple[list[DayVisit], DaySequence]:
    """Removes visits (latest-listed first) until the day can be sequenced."""
    kept = list(visits)
    while kept:
        seq = sequence_day(problem, day, kept, first, params)
        if seq is not None:
            return kept, seq
        for x in reversed(kept):
            trial = [y for y in kept if y != x]
            if sequence_day(problem, day, trial, first, params) is not None:
                kept = trial
                break
        else:
            kept = kept[:-1]
    return kept, DaySequence({}, 0)


def solve(problem: Problem, params: SolveParams | None = None) -> Solution:
    """Plans the problem: who visits which task on which day, and when in the horizon.

    Stage 1 (CP-SAT) chooses days and resources within daily capacity; stage 2 sequences each
    horizon day exactly; an unsequenceable set becomes a no-good cut and stage 1 is re-solved
    (logic-based Benders), up to `params.max_cut_rounds`; what still does not fit is dropped
    and reported in `Solution.dropped`.
    """
    params = params or SolveParams()
    began = time.perf_counter()
    limit = params.time_limit_s
    current = problem
    hint: dict[tuple, int] = {}
    first_solution_at: float | None = None
    rounds = 0
    while True:
        stage = _Stage1(current, params)
        literals = stage.all_literals()
        has_hint = bool(stage.model.proto.solution_hint.vars)  # re-planning hints its own
        if not hint and has_hint:
            # Keep the model's own hint (the published visits) as the stand-in below.
            given = dict(
                zip(
                    stage.model.proto.solution_hint.vars,
                    stage.model.proto.solution_hint.values,
                    strict=True,
                )
            )
            hint = {key: given.get(lit.index, 0) for key, lit in literals.items()}
        if not hint and not has_hint and params.warm_start:
            hint = greedy_hint(current, stage.vars)
        for key, value in sorted(hint.items()):
            if key in literals and not has_hint:
                stage.model.add_hint(literals[key], value)
        complete_hint(stage.model, stage.vars)
        solver = cp_model.CpSolver()
        _configure(solver, params, limit if rounds == 0 else limit / 2)
        callback = _FirstSolution()
        code = solver.solve(stage.model, callback)
        if first_solution_at is None and callback.at is not None:
            first_solution_at = callback.at
        status = _STATUS.get(code, SolveStatus.UNKNOWN)
        solved = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if not solved:
            if code == cp_model.UNKNOWN:
                status = SolveStatus.TIME_LIMIT
            if not hint or code == cp_model.INFEASIBLE:
                return Solution(
                    status=status,
                    runtime_s=time.perf_counter() - began,
                    params=params,
                    cut_rounds=rounds,
                )
            # Out of time before a solution: the hint (greedy or last round's) stands in;
            # stage 2 below drops whatever of it cannot be sequenced, so every rule holds.
        else:
            hint = {key: solver.value(lit) for key, lit in literals.items()}
        assignments = _assignments(current, stage, hint)
        first = _first_tasks(assignments, current.horizon_days)
        new_cuts: list[Cut] = []
        failing: list[int] = []
        sequences: dict[int, DaySequence] = {}
        for day in range(current.horizon_days):
            visits = _day_visits(assignments, day)
            first_today = {t for t, d in first.items() if d == day}
            if not visits:
                continue
            seq = sequence_day(current, day, visits, first_today, params)
            if seq is None:
                failing.append(day)
                new_cuts.extend(_diagnose(current, day, visits, first_today, params))
            else:
                sequences[day] = seq
        if not failing or not solved or rounds >= params.max_cut_rounds:
            break
        rounds += 1
        current = current.model_copy(update={"cuts": (*current.cuts, *new_cuts)})
    if params.polish and not failing:
        assignments, first, sequences = _polished(
            current, params, stage, assignments, first, sequences
        )
    return _finish(
        current,
        params,
        stage,
        solver if solved else None,
        assignments,
        first,
        sequences,
        status,
        began,
        first_solution_at,
        rounds,
    )


def _polished(
    problem: Problem,
    params: SolveParams,
    stage: _Stage1,
    assignments: list[Assignment],
    first: dict[int, int],
    sequences: dict[int, DaySequence],
) -> tuple[list[Assignment], dict[int, int], dict[int, DaySequence]]:
    """The travel polish (solver.polish) applied, with its days sequenced again; the stage-1
    assignment unchanged if any polished day fails to sequence as a whole."""
    better = polish(problem, stage.vars, assignments, first, params)
    before = {(a.task, a.day, a.resource, a.second_resource) for a in assignments}
    after = {(a.task, a.day, a.resource, a.second_resource) for a in better}
    changed = {key[1] for key in before ^ after if key[1] < problem.horizon_days}
    out = dict(sequences)
    new_first = _first_tasks(better, problem.horizon_days)
    for day in sorted(changed):
        visits = _day_visits(better, day)
        out.pop(day, None)
        if not visits:
            continue
        first_today = {t for t, d in new_first.items() if d == day}
        seq = sequence_day(problem, day, visits, first_today, params)
        if seq is None:
            return assignments, first, sequences
        out[day] = seq
    return better, new_first, out


def _finish(
    problem: Problem,
    params: SolveParams,
    stage: _Stage1,
    solver: cp_model.CpSolver | None,
    assignments: list[Assignment],
    first: dict[int, int],
    sequences: dict[int, DaySequence],
    status: SolveStatus,
    began: float,
    first_solution_at: float | None,
    rounds: int,
) -> Solution:
    """Sequences the final assignment, dropping what does not fit, and reports penalties."""
    starts: dict[tuple[int, int], int] = {}
    dropped: list[tuple[int, int]] = []
    travel = 0
    for day in range(problem.horizon_days):
        visits = _day_visits(assignments, day)
        if not visits:
            continue
        first_today = {t for t, d in first.items() if d == day}
        if day in sequences:
            kept, seq = visits, sequences[day]
        else:
            kept, seq = _drop_until_sequenced(problem, day, visits, first_today, params)
        dropped.extend((x.task, day) for x in visits if x not in kept)
        travel += seq.travel_min
        for t, s in seq.start_min.items():
            starts[t, day] = s
    final = [
        a.model_copy(update={"start_min": starts.get((a.task, a.day))})
        for a in assignments
        if (a.task, a.day) not in set(dropped)
    ]
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for term, subject, expr in stage.terms:
        grouped[term, subject].append(expr)
    penalties = []
    for (term, subject), exprs in sorted(grouped.items()):
        amount = 0 if solver is None else int(solver.value(cp_model.LinearExpr.sum(exprs)))
        if amount:
            penalties.append(Penalty(term_id=term, subject_id=subject, amount=amount))
    return Solution(
        status=status,
        objective=None if solver is None else solver.objective_value,
        bound=None if solver is None else solver.best_objective_bound,
        runtime_s=time.perf_counter() - began,
        first_solution_s=None if first_solution_at is None else first_solution_at - began,
        params=params,
        assignments=tuple(final),
        penalties=tuple(penalties),
        cut_rounds=rounds,
        dropped=tuple(sorted(dropped)),
        travel_min=travel,
    )
