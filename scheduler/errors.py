"""Errors raised by the scheduler package (store, loading, import, planning).

VisitplanError
 ├── InputError      bad input files: carries every InputProblem found (exit code 2)
 ├── StoreError      the store cannot do what was asked (empty, duplicate, database failure)
 │    └── StaleError the store changed since a proposal was computed (exit code 1)
 ├── NotFoundError   an unknown visit or worker id
 ├── OutputPathError a file or folder to write cannot be written there (exit code 2)
 └── PlanError       planning cannot proceed
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


class VisitplanError(Exception):
    """Base of every visitplan error."""


@dataclass(frozen=True)
class InputProblem:
    """One thing wrong with an input file, precise enough to fix it by hand.

    `row` is 1-based; for CSV files the header is row 1, so the first data row is row 2. For a
    scenario JSON file it is the 1-based position within the collection named in `field`, or
    the line number for a syntax error. `None` when the problem is not about one row.
    """

    file: str
    row: int | None
    field: str
    expected: str
    got: str

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        return f"{where}: {self.field}: expected {self.expected}, got {self.got}"


class InputError(VisitplanError):
    """Input files are invalid; every problem found is listed, one per line."""

    def __init__(self, problems: Iterable[InputProblem]) -> None:
        """Keep the problems; the message lists them one per line."""
        self.problems: tuple[InputProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class StoreError(VisitplanError):
    """The store is empty, refuses a write, or the database failed."""


class StaleError(StoreError):
    """The store changed after a proposal was computed: it is not applied.

    `changes` are the store's audit entries since (each has a `summary()`).
    """

    def __init__(self, changes: Iterable[Any]) -> None:
        """Keep the changes; the message counts them and lists the first few."""
        self.changes: tuple[Any, ...] = tuple(changes)
        lines = [f"  {c.summary()} (by {c.by})" for c in self.changes[:10]]
        if len(self.changes) > 10:
            lines.append(f"  ... and {len(self.changes) - 10} more")
        super().__init__(
            f"the store changed since this proposal was made ({len(self.changes)} change(s)); "
            "nothing was replaced. Make a fresh proposal and check it again:\n" + "\n".join(lines)
        )


class ChangedError(StoreError):
    """A visit changed in the store while a hand change to it was checked: nothing saved."""


class NotFoundError(VisitplanError):
    """An unknown visit or worker id."""


class OutputPathError(VisitplanError):
    """A file or folder a command was asked to write cannot be written there."""


class PlanError(VisitplanError):
    """Planning cannot proceed (for example, no caseload or an empty horizon)."""
