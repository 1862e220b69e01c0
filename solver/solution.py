"""The solver's output: status, assignments with start minutes, and named penalties."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, NonNegativeInt

from solver.measures import Measures
from solver.params import SolveParams
from solver.problem import SolverModel


class SolveStatus(StrEnum):
    """How the search ended (as PyJobShop names them)."""

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    TIME_LIMIT = "TIME_LIMIT"
    UNKNOWN = "UNKNOWN"


class Assignment(SolverModel):
    """One visit: a task done on a day by a resource (and a second one for joint tasks)."""

    task: NonNegativeInt
    day: NonNegativeInt
    resource: NonNegativeInt
    second_resource: NonNegativeInt | None = None
    start_min: NonNegativeInt | None = Field(
        default=None, description="Minutes after midnight; None beyond the sequenced horizon."
    )
    unannounced: bool = False


class Penalty(SolverModel):
    """One named objective term's cost for one subject."""

    term_id: str
    subject_id: str
    amount: int


class Solution(SolverModel):
    """The result of `solve`: infeasibility is a status here, never an exception."""

    status: SolveStatus
    objective: float | None = Field(default=None, description="Stage-1 objective, final round.")
    bound: float | None = Field(default=None, description="Best bound on the stage-1 objective.")
    runtime_s: float = 0.0
    first_solution_s: float | None = Field(default=None, description="Time to first solution.")
    params: SolveParams = Field(default_factory=SolveParams)
    assignments: tuple[Assignment, ...] = ()
    penalties: tuple[Penalty, ...] = ()
    cut_rounds: NonNegativeInt = Field(default=0, description="Stage-1 re-solves with cuts.")
    dropped: tuple[tuple[int, int], ...] = Field(
        default=(), description="(task, day) visits dropped because no sequence fitted."
    )
    travel_min: NonNegativeInt = Field(default=0, description="Sequenced travel minutes.")
    measures: Measures | None = Field(default=None, description="The plan's measures.")
    warm_measures: Measures | None = Field(
        default=None, description="The warm start's, routed and polished alone (if it differed)."
    )
    search_skipped: bool = Field(
        default=False, description="The cheap check proved the start good enough: no search."
    )
    kept_warm_start: bool = Field(
        default=False, description="The warm start measured better than the search and was kept."
    )
    safety_net: bool = Field(
        default=False,
        description="A solve was stopped by its wall-clock safety net: the result may differ "
        "from a run on a quieter machine.",
    )
