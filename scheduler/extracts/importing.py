"""Importing an Annex A workbook or an SSD extract into the store: read, place, check, write.

Rule: nothing is written unless every problem is fixed or skipped. All writes go through
`write_extract`, the one place that touches the store's caseload.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Collection
from datetime import date, datetime
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar

from pydantic import Field, ValidationError

from scheduler.domain import DomainModel, Scenario
from scheduler.errors import InputError, InputProblem
from scheduler.extracts.annex_a import read_annex_a
from scheduler.extracts.assemble import VisitPlace, assemble, clocks_resting_on_home
from scheduler.extracts.cells import Problems
from scheduler.extracts.ssd import read_ssd
from scheduler.postcodes import PostcodeDirectory
from scheduler.scenario_io import authority_problems
from scheduler.store import MergeReport, Store

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
    skipped_unknown_codes: tuple[str, ...] = Field(
        default=(),
        description="Children left out for a code that cannot be read (--skip-unknown-codes): "
        "id, file, row, field and code.",
    )
    visits_assumed_at_home: int = Field(
        default=0, description="Visits whose place the extract does not give, taken as home."
    )
    clocks_on_home_assumption: int = Field(
        default=0, description="At-home clocks whose last restart is such a visit."
    )


P = ParamSpec("P")
R = TypeVar("R")


def collector_paused(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` with Python's cyclic garbage collector paused (reference counting still frees).

    An L-size extract makes ~400,000 rows and as many records, all alive until the merge; each
    full collection walks them all, which took a third of the import's time. The import makes
    no reference cycles worth collecting, and the collector is restored however it ends.
    """

    @functools.wraps(func)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        if not gc.isenabled():
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            gc.enable()

    return paused


@collector_paused
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
    skip_unknown_codes: bool = False,
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
    problems = Problems(skip_orphans=skip_orphans, skip_unknown_codes=skip_unknown_codes)
    problems.items.extend(authority_problems(authority, path.name, None, "--authority"))
    if kind == "annex-a":
        drafts, records = read_annex_a(path, as_of, homes, problems)
    else:
        drafts, records = read_ssd(path, as_of, problems, frozenset(allocated_roles))
    # Homes are placed even when the reader found problems, so every problem is listed at once.
    base = store.read_scenario() if store.has_caseload() else None
    if base is not None:
        # Stored records the extract gives again are merged from the extract: drop them now,
        # so a re-run never holds the whole history twice.
        again = {r.id for r in records}
        base = base.model_copy(
            update={"records": tuple(r for r in base.records if r.id not in again)}
        )
        del again
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
    merged = write_extract(
        store, assembled.scenario, source=source, allow_shrink=allow_shrink, by=by, now=now
    )
    back = () if (note := merged.back_note()) is None else (note,)
    return ImportReport(
        source=source,
        as_of=as_of,
        added=merged.added,
        changed=merged.changed,
        closed=merged.closed,
        counts={
            name: len(getattr(assembled.scenario, name))
            for name in ("teams", "workers", "households", "children", "records")
        },
        warnings=(*_readings(problems), *assembled.warnings, *back),
        skipped_orphans=problems.skipped,
        skipped_unknown_codes=tuple(problems.skipped_codes),
        visits_assumed_at_home=len(assembled.assumed_home),
        clocks_on_home_assumption=clocks_resting_on_home(
            assembled.scenario, assembled.assumed_home
        ),
    )


def _readings(problems: Problems) -> list[str]:
    """One warning per placement code read as another placement type, with its count."""
    return [
        f"{count} child(ren) in care: placement code {reading} (docs/import-ssd.md); "
        "check their plans say how often to visit."
        for reading, count in sorted(problems.readings.items())
    ]


def write_extract(
    store: Store,
    scenario: Scenario,
    *,
    source: str,
    allow_shrink: bool,
    by: str,
    now: datetime,
) -> MergeReport:
    """Merge the imported caseload into the store: what it added, changed and closed.

    Children missing from the extract are closed on its as-of date, not deleted; closing more
    than the store's shrink limit needs `allow_shrink`.

    Raises:
        InputError: the merge would close too many children.
    """
    return store.merge_caseload(scenario, source=source, allow_shrink=allow_shrink, by=by, now=now)
