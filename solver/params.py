"""Solver parameters: time limits, seed, workers and objective weights, with defaults."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt

from solver.problem import SolverModel


class Weights(SolverModel):
    """Objective weights below statutory lateness (which each clock carries), far apart."""

    allocated_worker: NonNegativeInt = Field(default=20_000, description="Per visit by another.")
    retry_buffer: NonNegativeInt = Field(default=2_000, description="Per day of missing slack.")
    travel: NonNegativeInt = Field(default=20, description="Per minute of estimated travel.")
    even_workload: NonNegativeInt = Field(default=300, description="Per visit of peak day load.")
    tie_break: NonNegativeInt = Field(default=1, description="Per day index and worker rank.")


class SolveParams(SolverModel):
    """How to solve: limits are per stage-1 solve; the whole run is deterministic per seed."""

    time_limit_s: PositiveFloat = Field(
        default=10.0, description="Stage-1 deterministic time limit per round (about seconds)."
    )
    sequence_time_limit_s: PositiveFloat = Field(default=5.0, description="Per day sequenced.")
    seed: NonNegativeInt = Field(default=0, description="Random seed of CP-SAT.")
    num_workers: PositiveInt = Field(default=1, description="CP-SAT search workers.")
    max_cut_rounds: NonNegativeInt = Field(
        default=6, description="Stage-1 re-solves after unsequenceable days."
    )
    weights: Weights = Field(default_factory=Weights)
    log: bool = Field(default=False, description="Print CP-SAT's search log.")
