"""Solver parameters: time limits, seed, workers and objective weights, with defaults."""

from __future__ import annotations

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt

from solver.problem import SolverModel


class Weights(SolverModel):
    """Objective weights below statutory lateness (which each clock carries), far apart."""

    allocated_worker: NonNegativeInt = Field(default=20_000, description="Per visit by another.")
    retry_buffer: NonNegativeInt = Field(default=2_000, description="Per day of missing slack.")
    travel: NonNegativeInt = Field(default=20, description="Per minute of estimated travel.")
    even_workload: NonNegativeInt = Field(default=300, description="Per visit of peak day load.")
    tie_break: NonNegativeInt = Field(default=1, description="Per day index and worker rank.")


class SolveParams(SolverModel):
    """How to solve: a time limit per stage-1 solve, within a budget for the whole plan.

    By default the limits are wall-clock seconds, so a run takes what it is given on any
    machine but may differ from run to run; `deterministic=True` makes them CP-SAT's
    deterministic time instead (about seconds on a quiet machine, 3-4 x more with one worker
    under load), and the same problem and seed then give the same solution every time.
    """

    time_limit_s: PositiveFloat = Field(
        default=0.3, description="Cap on one team's stage-1 solve (first round; cuts get half)."
    )
    budget_s: PositiveFloat | None = Field(
        default=12.0,
        description="Stage-1 time for the whole plan, shared out by team size (None: no cap).",
    )
    absolute_gap_limit: NonNegativeFloat = Field(
        default=2_000.0, description="Stop once within this of the bound (objective units)."
    )
    deterministic: bool = Field(
        default=False, description="Deterministic time limits: same input and seed, same plan."
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
