"""CP-SAT planning in integers with units: problem in, solution out; imports nothing of ours."""

from solver.keep import why_not_kept
from solver.params import SolveParams, Weights
from solver.problem import (
    GRAIN_MIN,
    Clock,
    Cut,
    PreviousVisit,
    Problem,
    Quota,
    Resource,
    Shift,
    Task,
    TaskDay,
)
from solver.solution import Assignment, Penalty, Solution, SolveStatus
from solver.solve import solve

__all__ = [
    "GRAIN_MIN",
    "Assignment",
    "Clock",
    "Cut",
    "Penalty",
    "PreviousVisit",
    "Problem",
    "Quota",
    "Resource",
    "Shift",
    "Solution",
    "SolveParams",
    "SolveStatus",
    "Task",
    "TaskDay",
    "Weights",
    "solve",
    "why_not_kept",
]
