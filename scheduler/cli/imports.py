"""`visitplan load`, `import` and `terms import`: bringing a caseload or term dates in."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, get_args

import typer
from typer.core import TyperGroup

from scheduler import render, service
from scheduler.cli.clock import now_local, today
from scheduler.cli.options import (
    DEFAULT_DB,
    AllowShrinkFlag,
    AsOfOption,
    AuthorityOption,
    ByOption,
    DbOption,
    JsonFlag,
    SkipCodesFlag,
    choice_of,
    who,
)
from scheduler.cli.output import handled, open_store, out, print_json
from scheduler.extracts.assemble import VisitPlace
from scheduler.postcodes import ATTRIBUTION
from scheduler.school_terms import read_terms

terms_app = typer.Typer(
    no_args_is_help=True, help="School term dates, which decide the after-school visiting days."
)


@terms_app.command("import")
def terms_import(
    file: Annotated[Path, typer.Argument(help="Term dates: a CSV (start,end[,name,kind]) or ICS.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Store the authority's school term dates (replacing any stored before).

    School years the file does not touch keep the nation's typical terms
    (docs/school-terms.md).
    """
    with handled():
        terms = read_terms(file)
        store = open_store(db)
        scenario = store.read_scenario()
        authority = scenario.authority.model_copy(update={"school_terms": terms})
        store.replace_caseload(scenario.model_copy(update={"authority": authority}))
    if as_json:
        print_json([t.model_dump(mode="json") for t in terms])
        return
    out.print(
        f"Stored {len(terms)} stretches of term time from {file.name}, "
        f"{terms[0].start:%d %b %Y} to {terms[-1].end:%d %b %Y}."
    )


def load(
    file: Annotated[Path, typer.Argument(help="Scenario JSON file (see `visitplan schema`).")],
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Replace a caseload already in the store (children the file lacks are "
            "closed; visit records are always kept).",
        ),
    ] = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Load a scenario file into an empty store: all or nothing.

    A store that already holds a caseload is refused unless --replace.
    """
    with handled():
        report = service.load_scenario_file(
            open_store(db, create=True), file, replace=replace, by=who(by), now=now_local()
        )
    if as_json:
        print_json(report)
        return
    out.print(render.render_merge(report, f"Loaded {file.name} into {db}"))


class _ImportGroup(TyperGroup):
    """`visitplan import`: the extract subcommands, and `import DIR` for the CSV exports."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """An unknown first word (a folder) falls through to the CSV import.

        `ctx` is typer's own click context (typer vendors click privately since 0.2x, so the
        type has no public name to write here).
        """
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["csv", *args]
        return super().parse_args(ctx, args)


ATTRIBUTION_HELP = "Postcodes are placed with the ONS Postcode Directory. " + ATTRIBUTION
VISIT_PLACES: tuple[VisitPlace, ...] = get_args(VisitPlace)
import_app = typer.Typer(
    cls=_ImportGroup,
    no_args_is_help=True,
    help=(
        "Import a caseload: `import DIR` (CSV exports, docs/import-format.md), "
        "`import annex-a WORKBOOK` or `import ssd DIR`.\n\n" + ATTRIBUTION_HELP
    ),
)


@import_app.command("csv", hidden=True)
def import_(
    directory: Annotated[
        Path, typer.Argument(help="Folder of CSV exports (docs/import-format.md).")
    ],
    authority: AuthorityOption,
    as_of: AsOfOption = None,
    allow_shrink: AllowShrinkFlag = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Merge case-system CSV exports into the store: adds, updates and closes, all or nothing.

    Children missing from the export are closed (their history is kept). An export that
    would close more than 10% of open children is refused unless --allow-shrink.
    """
    day = as_of or today()
    with handled():
        report = service.import_csv_dir(
            open_store(db, create=True),
            directory,
            authority,
            day,
            allow_shrink=allow_shrink,
            by=who(by),
            now=now_local(),
        )
    if as_json:
        print_json(report)
        return
    out.print(render.render_merge(report, f"Imported {directory} into {db}"))


@import_app.command(
    "annex-a", epilog=ATTRIBUTION_HELP, help="Import Ofsted Annex A lists 6-9 (an Excel "
    "workbook) with a side file of home postcodes: all or nothing. See docs/import-annex-a.md."
)  # fmt: skip
def import_annex_a(
    workbook: Annotated[Path, typer.Argument(help="The Annex A workbook (.xlsx).")],
    authority: AuthorityOption,
    homes: Annotated[
        Path | None,
        typer.Option(help="CSV of home postcodes: addr_person_id, addr_address_postcode."),
    ] = None,
    as_of: AsOfOption = None,
    skip_orphans: Annotated[
        bool, typer.Option("--skip-orphans", help="Skip homes of children not in the lists.")
    ] = False,
    skip_unknown_codes: SkipCodesFlag = False,
    allow_shrink: AllowShrinkFlag = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import Annex A lists 6-9."""
    day = as_of or today()
    with handled():
        report = service.import_extract(
            open_store(db, create=True), "annex-a", workbook, authority, day,
            now=now_local(), by=who(by),
            homes=homes, skip_orphans=skip_orphans, skip_unknown_codes=skip_unknown_codes,
            allow_shrink=allow_shrink,
        )  # fmt: skip
    _print_import(report, as_json)


@import_app.command(
    "ssd", epilog=ATTRIBUTION_HELP, help="Import a Standard Safeguarding Dataset extract (one "
    "CSV per ssd_* table): all or nothing. See docs/import-ssd.md."
)  # fmt: skip
def import_ssd(
    directory: Annotated[Path, typer.Argument(help="Folder of ssd_*.csv files.")],
    authority: AuthorityOption,
    as_of: AsOfOption = None,
    skip_orphans: Annotated[
        bool, typer.Option("--skip-orphans", help="Skip rows that refer to missing rows.")
    ] = False,
    skip_unknown_codes: SkipCodesFlag = False,
    visit_place: Annotated[
        VisitPlace,
        typer.Option(
            parser=choice_of(VISIT_PLACES),
            help="home: take visits as at home (the SSD does not say); or unknown.",
        ),
    ] = "home",
    allocated_role: Annotated[
        list[str] | None,
        typer.Option(help="Involvement role code of the allocated worker (repeatable)."),
    ] = None,
    allow_shrink: AllowShrinkFlag = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Import an SSD extract."""
    day = as_of or today()
    with handled():
        report = service.import_extract(
            open_store(db, create=True), "ssd", directory, authority, day,
            now=now_local(), by=who(by),
            skip_orphans=skip_orphans, skip_unknown_codes=skip_unknown_codes,
            visit_place=visit_place,
            allocated_roles=tuple(allocated_role or ()), allow_shrink=allow_shrink,
        )  # fmt: skip
    _print_import(report, as_json)


def _print_import(report: Any, as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    for line in render.render_import(report):
        out.print(line)
