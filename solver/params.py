"""Solver parameters: time limits, seed, workers and objective weights, with defaults."""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from solver.problem import SolverModel

SAFETY_NET_MIN_S = 300.0
"""The least wall-clock seconds any deterministic limit's safety net allows: a solve under
heavy load runs many times slower than its deterministic time (measured: a re-plan's repair
with a 1 s deterministic limit took 12.9 s of wall clock on 2 shared cores, load 7), and
presolve is not counted in it; only a solve that is truly stuck should meet the net. At 30 s
(+10x) the net was met under a busy test run and changed the re-plan (docs/decisions.md)."""
SAFETY_NET_FACTOR = 100
"""The safety net also allows this many times the deterministic limit, in seconds."""


def safety_net_s(limit_s: float) -> float:
    """Wall-clock seconds after which a solve with a deterministic limit is stopped anyway."""
    return SAFETY_NET_MIN_S + SAFETY_NET_FACTOR * limit_s


class Weights(SolverModel):
    """Objective weights below statutory lateness (which each clock carries), far apart."""

    allocated_worker: NonNegativeInt = Field(default=20_000, description="Per visit by another.")
    retry_buffer: NonNegativeInt = Field(default=2_000, description="Per day of missing slack.")
    visit: NonNegativeInt = Field(
        default=1_500, description="Per visit made (a surplus visit costs more than travel)."
    )
    travel: NonNegativeInt = Field(default=20, description="Per minute of estimated travel.")
    even_workload: NonNegativeInt = Field(
        default=20, description="Per visit of peak day load (below travel: clustering pays)."
    )
    tie_break: NonNegativeInt = Field(default=1, description="Per day index and worker rank.")


class SolveParams(SolverModel):
    """How to solve: time limits per team, seed, workers and weights.

    By default the limits are CP-SAT's deterministic time, so the same problem and seed give
    the same solution on any machine, busy or idle (a wall-clock safety net of several times
    each limit may stop a solve, and the solution then says so); `deterministic=False` makes
    them wall-clock seconds instead (faster to reason about, but runs may differ).
    """

    time_limit_s: PositiveFloat = Field(
        default=0.4,
        description="One team's stage-1 search: whole passes over its workers' neighbourhoods "
        "(solver.search) while they fit; a re-plan's or a cut round's whole-team solve.",
    )
    check_limit_s: PositiveFloat = Field(
        default=0.1,
        description="The whole-team solve that repairs the warm start and bounds it (the cheap "
        "check that may skip the search).",
    )
    search: bool = Field(
        default=True, description="Improve worker by worker after the check (solver.search)."
    )
    budget_s: PositiveFloat | None = Field(
        default=None,
        description="Stage-1 time for the whole plan, shared out by team size (None: no cap); "
        "each team's share depends only on the scenario, never on how many processes run.",
    )
    absolute_gap_limit: NonNegativeFloat = Field(
        default=2_000.0, description="Stop once within this of the bound (objective units)."
    )
    deterministic: bool = Field(
        default=True, description="Deterministic time limits: same input and seed, same plan."
    )
    warm_start: bool = Field(
        default=True, description="Hint CP-SAT with a greedy assignment (solver.warm)."
    )
    polish: bool = Field(
        default=True, description="Improve travel after stage 1 (solver.polish); not re-plans."
    )
    sequence_time_limit_s: PositiveFloat = Field(default=5.0, description="Per day sequenced.")
    seed: NonNegativeInt = Field(default=0, description="Random seed of CP-SAT.")
    num_workers: PositiveInt = Field(default=1, description="CP-SAT search workers.")
    max_cut_rounds: NonNegativeInt = Field(
        default=6, description="Stage-1 re-solves after unsequenceable days."
    )
    weights: Weights = Field(default_factory=Weights)
    log: bool = Field(default=False, description="Print CP-SAT's search log.")
    penalties: bool = Field(
        default=True, description="Report each objective term per subject (`Solution.penalties`)."
    )
