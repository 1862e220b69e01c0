"""visitplan scheduler: domain, calendar, due engine, checker, store, service and CLI.

Other packages (the integrations) import the domain types and the error root from here, never
a module of ours deeper down: what is listed in `__all__` is what they may see.
"""

from scheduler.domain import (
    Authority,
    BusyTime,
    Child,
    Household,
    LedgerEntry,
    Outcome,
    Plan,
    Privacy,
    Scenario,
    Visit,
    VisitId,
    VisitReason,
    VisitRecord,
    Worker,
    WorkerId,
)
from scheduler.errors import OutputPathError, VisitplanError
from scheduler.outfile import check_output_folder, make_output_folder, write_output_files

__all__ = [
    "Authority",
    "BusyTime",
    "Child",
    "Household",
    "LedgerEntry",
    "Outcome",
    "OutputPathError",
    "Plan",
    "Privacy",
    "Scenario",
    "Visit",
    "VisitId",
    "VisitReason",
    "VisitRecord",
    "VisitplanError",
    "Worker",
    "WorkerId",
    "check_output_folder",
    "make_output_folder",
    "write_output_files",
]
