"""One way into the solver: stage-1 CP-SAT assignment, stage-2 sequencing, no-good cuts.

Rule: pure function of the problem and parameters; the clock is read only to time itself.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model, cp_model_helper

from solver.constraints import (
    add_cut_constraints,
    add_cuts,
    add_one_lead_per_visit,
    add_second_for_joint_visits,
    add_unannounced_only_on_visits,
    add_window_energy,
    add_worker_day_capacity,
)
from solver.days import Routed, Sequencer, first_days
from solver.measures import Measures, measure
from solver.objective import OBJECTIVE_TERMS, Term
from solver.params import SolveParams, safety_net_s
from solver.polish import polish
from solver.problem import Problem
from solver.search import Search, objective_of, safety_net_stopped
from solver.sequence import SafetyNet
from solver.solution import Assignment, Penalty, Solution, SolveStatus
from solver.variables import Variables, add_hints, complete_hint, make_variables
from solver.warm import greedy_hint

REPAIR_ROUNDS = 4
"""Cut rounds repaired within neighbourhoods cost a few hundredths of a second each, and each
moves fewer visits than a whole-team re-solve, so they get this many times the rounds."""

_STATUS = {
    cp_model.OPTIMAL: SolveStatus.OPTIMAL,
    cp_model.FEASIBLE: SolveStatus.FEASIBLE,
    cp_model.INFEASIBLE: SolveStatus.INFEASIBLE,
    cp_model.MODEL_INVALID: SolveStatus.UNKNOWN,
    cp_model.UNKNOWN: SolveStatus.UNKNOWN,
}


class _Stage1:
    """The stage-1 model, its variables and its named objective terms."""

    def __init__(self, problem: Problem, params: SolveParams) -> None:
        self.model = cp_model.CpModel()
        self._literals: dict[tuple[Any, ...], cp_model.IntVar] | None = None
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
        _minimize(self.model, [expr for _term, _subject, expr in self.terms])

    def all_literals(self) -> dict[tuple[Any, ...], cp_model.IntVar]:
        """Every decision literal under a stable key (for hints across rounds), built once."""
        if self._literals is None:
            out: dict[tuple[Any, ...], cp_model.IntVar] = {}
            for name, store in (
                ("visit", self.vars.visit),
                ("main", self.vars.main),
                ("second", self.vars.second),
                ("unannounced", self.vars.unannounced),
            ):
                for key, lit in store.items():
                    out[(name, *key)] = lit
            self._literals = out
        return self._literals


def _minimize(model: cp_model.CpModel, exprs: list[cp_model.LinearExprT]) -> None:
    """`model.minimize` of the sum of integer expressions, for a model with no objective yet,
    written in one call per list (the solver's own method appends each variable in Python:
    3 x slower here)."""
    flat = cp_model_helper.FlatIntExpr(cp_model.LinearExpr.sum(exprs))
    objective = model.proto.objective
    objective.vars.extend([x.index for x in flat.vars])
    objective.coeffs.extend(flat.coeffs)
    objective.offset = flat.offset
    objective.scaling_factor = 1.0


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
        solver.parameters.max_time_in_seconds = safety_net_s(limit_s)
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


def _assignments(
    problem: Problem, stage: _Stage1, value: dict[tuple[Any, ...], int]
) -> list[Assignment]:
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


@dataclass
class _Candidate:
    """One way to finish a team: its stage-1 assignment routed, polished and measured."""

    assignments: list[Assignment]
    routed: Routed
    measures: Measures


def _finished(
    problem: Problem,
    params: SolveParams,
    stage: _Stage1,
    sequencer: Sequencer,
    assignments: list[Assignment],
) -> _Candidate:
    """The assignment routed (dropping what does not fit), polished when every day fits."""
    routed = sequencer.route(assignments)
    if params.polish and not routed.failing:
        first = first_days(assignments, problem.horizon_days)
        better = polish(problem, stage.vars, assignments, first, params, sequencer.net)
        if better != assignments:
            again = sequencer.route(better, drop=False)
            if not again.failing:
                assignments, routed = better, again
    return _Candidate(assignments, routed, measure(problem, routed.assignments, routed.travel_min))


def _decisions(stage: _Stage1, values: list[int]) -> dict[tuple[Any, ...], int]:
    return {key: values[lit.index] for key, lit in stage.all_literals().items()}


def _hinted(stage: _Stage1) -> list[int]:
    """The model's complete hint as a value per variable (0 where unhinted)."""
    hint = stage.model.proto.solution_hint
    values = [0] * len(stage.model.proto.variables)
    for i, x in zip(hint.vars, hint.values, strict=True):
        values[i] = x
    return values


def _check_hint(
    stage: _Stage1, params: SolveParams, net: SafetyNet
) -> tuple[cp_model.CpSolverStatus, list[int] | None]:
    """The complete hint checked against every constraint (every variable fixed to it, no
    presolve: ~0.05 s on an M team); its values if it holds. A check stopped by its
    wall-clock safety net trips `net` (the hint is then repaired instead: another plan)."""
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = params.seed
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.cp_model_presolve = False
    solver.parameters.max_deterministic_time = params.check_limit_s
    solver.parameters.max_time_in_seconds = safety_net_s(params.check_limit_s)
    code = solver.solve(stage.model)
    net.tripped |= safety_net_stopped(solver, params.check_limit_s)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return code, list(solver.response_proto.solution)
    return code, None


def solve(problem: Problem, params: SolveParams | None = None) -> Solution:
    """Plans the problem: who visits which task on which day, and when in the horizon.

    Stage 1 chooses days and resources within daily capacity: a greedy warm start, checked
    against the model (repaired by a whole-team CP-SAT solve if it breaks a rule), then
    improved worker by worker (solver.search; when its first pass finds nothing to improve,
    the rest of the search is skipped). Re-plans solve the whole team with CP-SAT from the
    published visits instead. Stage 2 sequences each horizon day
    exactly; an unsequenceable set becomes a no-good cut and stage 1 is re-solved
    (logic-based Benders), up to `params.max_cut_rounds`; what still does not fit is dropped
    and reported in `Solution.dropped`. The warm start, routed and polished on its own, is
    kept instead when it measures better (solver.measures): more search never makes the
    plan worse than the warm start.
    """
    params = params or SolveParams()
    began = time.perf_counter()
    current = problem
    stage = _Stage1(current, params)
    first_stage = stage
    """The model the warm start and the search's checkpoints are values of (cut rounds
    rebuild `stage`)."""
    replan = bool(stage.model.proto.solution_hint.vars)  # re-planning hints its own
    if not replan and params.warm_start:
        literals = stage.all_literals()
        add_hints(
            stage.model,
            (
                (literals[key], value)
                for key, value in sorted(greedy_hint(current, stage.vars).items())
            ),
        )
    complete_hint(stage.model, stage.vars)
    start_values = _hinted(stage) if (replan or params.warm_start) else None
    sequencer = Sequencer(current, params)
    net = sequencer.net
    skipped = False
    searched = None
    search: Search | None = None
    """The team's neighbourhoods: cut rounds repair within them when there is one."""
    objective = bound = None
    code: cp_model.CpSolverStatus = cp_model.UNKNOWN
    values: list[int] | None = None
    if start_values is not None and not replan:
        code, values = _check_hint(stage, params, net)
        code = cp_model.FEASIBLE if values is not None else code  # feasible, not proved
    if values is None:
        # A re-plan, or a warm start that breaks a rule of the model: one solve of the whole
        # team repairs it (CP-SAT starts from the hint and keeps what it can).
        limit = params.time_limit_s if replan or not params.search else params.check_limit_s
        solver = cp_model.CpSolver()
        _configure(solver, params, limit)
        code = solver.solve(stage.model)
        net.tripped |= params.deterministic and safety_net_stopped(solver, limit)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = list(solver.response_proto.solution)
            bound = solver.best_objective_bound
    status = _STATUS.get(code, SolveStatus.UNKNOWN)
    solved = values is not None
    first_solution_s = time.perf_counter() - began if solved else None
    checkpoints: list[list[int]] = []
    if values is not None:
        objective = float(objective_of(stage.model, values))
        if not replan and params.search:
            search = Search(stage.model, current, stage.vars, params.seed)
            searched = search.improve(values, params.time_limit_s, checkpoints.append)
            values = searched.values
            net.tripped |= searched.safety_net
            objective = float(searched.objective)
            skipped = searched.improved == 0
            status = SolveStatus.OPTIMAL if searched.proved else SolveStatus.FEASIBLE
            bound = objective if searched.proved else bound
        decisions = _decisions(stage, values)
    elif start_values is not None and code != cp_model.INFEASIBLE:
        # Out of time before a solution: the hint stands in; stage 2 drops whatever of it
        # cannot be sequenced, so every rule holds.
        status = SolveStatus.TIME_LIMIT
        values = start_values
        decisions = _decisions(stage, values)
    else:
        return Solution(
            status=SolveStatus.TIME_LIMIT if code == cp_model.UNKNOWN else status,
            runtime_s=time.perf_counter() - began,
            params=params,
        )
    assignments = _assignments(current, stage, decisions)
    rounds = 0
    while solved and rounds < params.max_cut_rounds * (REPAIR_ROUNDS if search else 1):
        routed = sequencer.route(assignments, drop=False)
        if not routed.failing:
            break
        first = first_days(assignments, current.horizon_days)
        cuts = [
            cut
            for day, failing in sorted(routed.failing.items())
            for visits in failing
            for cut in sequencer.cuts(day, visits, {t for t, d in first.items() if d == day})
        ]
        rounds += 1
        current = current.model_copy(update={"cuts": (*current.cuts, *cuts)})
        if search is not None and values is not None:
            # The cuts join the model it has; the workers owning the cut visits' households
            # are re-solved exactly with the rest fixed (a whole-team re-solve cost ~1.5 s
            # of CPU a round on M and moved visits to colleagues instead).
            add_cut_constraints(stage.model, stage.vars, cuts)
            search.index.extend(stage.model)
            repaired, stopped = search.repair(values, {t for cut in cuts for t, _r in cut.pairs})
            net.tripped |= stopped
            if repaired is not None:
                values = repaired
                objective, bound = float(objective_of(stage.model, values)), None
                status = SolveStatus.FEASIBLE
                decisions = _decisions(stage, values)
                assignments = _assignments(current, stage, decisions)
                continue
            search = None  # no repair found: the whole team is solved with every cut
        sequencer = Sequencer(current, params, net)
        stage = _Stage1(current, params)
        add_hints(
            stage.model,
            ((lit, decisions.get(key, 0)) for key, lit in sorted(stage.all_literals().items())),
        )
        complete_hint(stage.model, stage.vars)
        solver = cp_model.CpSolver()
        _configure(solver, params, params.time_limit_s / 2)
        code = solver.solve(stage.model)
        net.tripped |= params.deterministic and safety_net_stopped(solver, params.time_limit_s / 2)
        solved = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        if solved:
            status = _STATUS[code]
            objective, bound = solver.objective_value, solver.best_objective_bound
            values = list(solver.response_proto.solution)
            decisions = _decisions(stage, values)
            assignments = _assignments(current, stage, decisions)
    chosen = _finished(current, params, stage, sequencer, assignments)
    warm = None
    values_stage = stage
    if not replan and start_values is not None:
        # The warm start and every earlier pass's solution (checkpoints) are routed,
        # polished and measured too; the best stands, so a longer search (which repeats a
        # shorter one's passes) can never end worse on the manager's measures, and cut
        # rounds (which re-solve with half the time) never end worse than the warm start.
        seen = [assignments]
        for earlier in [start_values, *checkpoints]:
            other = _assignments(current, first_stage, _decisions(first_stage, earlier))
            if other in seen:
                continue
            seen.append(other)
            candidate = _finished(current, params, first_stage, sequencer, other)
            if earlier is start_values:
                warm = candidate
            if candidate.measures.key() < chosen.measures.key():
                chosen, values, values_stage = candidate, earlier, first_stage
    penalties = _penalties(values_stage, values) if params.penalties else ()
    return Solution(
        status=status,
        objective=objective,
        bound=bound,
        runtime_s=time.perf_counter() - began,
        first_solution_s=first_solution_s,
        params=params,
        assignments=tuple(chosen.routed.assignments),
        penalties=penalties,
        cut_rounds=rounds,
        dropped=tuple(chosen.routed.dropped),
        travel_min=chosen.routed.travel_min,
        measures=chosen.measures,
        warm_measures=None if warm is None else warm.measures,
        search_skipped=skipped,
        kept_warm_start=warm is not None and chosen is warm,
        safety_net=net.tripped,
    )


def _penalties(stage: _Stage1, values: list[int]) -> tuple[Penalty, ...]:
    """The named objective terms of the chosen stage-1 values, per subject."""
    amounts: dict[tuple[str, str], int] = defaultdict(int)
    for term, subject, expr in stage.terms:
        flat = cp_model_helper.FlatIntExpr(cp_model.LinearExpr.sum([expr]))
        amounts[term, subject] += flat.offset + sum(
            c * values[x.index] for x, c in zip(flat.vars, flat.coeffs, strict=True)
        )
    return tuple(
        Penalty(term_id=term, subject_id=subject, amount=amount)
        for (term, subject), amount in sorted(amounts.items())
        if amount
    )
