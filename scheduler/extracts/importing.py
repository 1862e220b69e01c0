"""Importing an Annex A workbook or an SSD extract into the store: read, place, check, write.

Rule: nothing is written unless every problem is fixed or skipped. All writes go through
`write_extract`, the one place that touches the store's caseload.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from scheduler.domain import DomainModel, Scenario
from scheduler.errors import InputError, InputProblem
from scheduler.extracts.annex_a import read_annex_a
from scheduler.extracts.assemble import VisitPlace, assemble, clocks_resting_on_home
from scheduler.extracts.cells import Problems
from scheduler.extracts.ssd import read_ssd
from scheduler.postcodes import PostcodeDirectory
from scheduler.scenario_io import authority_problems
from scheduler.store import Store

Kind = Literal["annex-a", "ssd"]


class ImportReport(DomainModel):
    """What an import did (`visitplan import annex-a|ssd --json`)."""

    source: str = Field(description="annex-a or ssd, and the file or folder name.")
    as_of: date
    added: tuple[str, ...] = Field(default=(), description="Children new to the store.")
    changed: tuple[str, ...] = Field(default=(), description="Children whose details changed.")
    closed: tuple[str, ...] = Field(default=(), description="Children missing from the extract.")
    counts: dict[str, int] = Field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    skipped_orphans: int = Field(default=0, description="Orphan rows skipped (--skip-orphans).")
    visits_assumed_at_home: int = Field(
        default=0, description="Visits whose place the extract does not give, taken as home."
    )
    clocks_on_home_assumption: int = Field(
        default=0, description="At-home clocks whose last restart is such a visit."
    )


def import_extract(
    store: Store,
    kind: Kind,
    path: Path,
    authority: str,
    as_of: date,
    *,
    now: datetime,
    homes: Path | None = None,
    skip_orphans: bool = False,
    visit_place: VisitPlace = "home",
    allocated_roles: Collection[str] = (),
    allow_shrink: bool = False,
    by: str = "import",
    directory: PostcodeDirectory | None = None,
) -> ImportReport:
    """Read an extract, place its homes and merge it into the store, all or nothing.

    Raises:
        InputError: every problem in the extract; nothing is written.
        InputError: also when the import would close too many children without `allow_shrink`.
    """
    problems = Problems(skip_orphans=skip_orphans)
    problems.items.extend(authority_problems(authority, path.name, None, "--authority"))
    if kind == "annex-a":
        drafts, records = read_annex_a(path, as_of, homes, problems)
    else:
        drafts, records = read_ssd(path, as_of, problems, frozenset(allocated_roles))
    # Homes are placed even when the reader found problems, so every problem is listed at once.
    base = store.read_scenario() if store.has_caseload() else None
    try:
        assembled = assemble(
            authority,
            as_of,
            drafts,
            records,
            base=base,
            directory=directory or PostcodeDirectory(),
            visit_place=visit_place,
            problems=problems,
        )
    except ValidationError as exc:
        raise InputError(
            InputProblem(path.name, None, "(caseload)", "a consistent caseload", str(e["msg"]))
            for e in exc.errors()
        ) from None
    if assembled is None or problems.items:
        raise InputError(problems.items)
    source = f"{kind}:{path.name}"
    added, changed, closed = write_extract(
        store, assembled.scenario, source=source, allow_shrink=allow_shrink, by=by, now=now
    )
    return ImportReport(
        source=source,
        as_of=as_of,
        added=added,
        changed=changed,
        closed=closed,
        counts={
            name: len(getattr(assembled.scenario, name))
            for name in ("teams", "workers", "households", "children", "records")
        },
        warnings=assembled.warnings,
        skipped_orphans=problems.skipped,
        visits_assumed_at_home=len(assembled.assumed_home),
        clocks_on_home_assumption=clocks_resting_on_home(
            assembled.scenario, assembled.assumed_home
        ),
    )


def write_extract(
    store: Store,
    scenario: Scenario,
    *,
    source: str,
    allow_shrink: bool,
    by: str,
    now: datetime,
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Merge the imported caseload into the store; returns the children added, changed, closed.

    Children missing from the extract are closed on its as-of date, not deleted; closing more
    than the store's shrink limit needs `allow_shrink`.

    Raises:
        InputError: the merge would close too many children.
    """
    report = store.merge_caseload(
        scenario, source=source, allow_shrink=allow_shrink, by=by, now=now
    )
    return report.added, report.changed, report.closed
