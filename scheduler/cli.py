"""The `visitplan` command line: the composition root (clock, environment, store, wiring)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, get_args, overload
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel, TypeAdapter
from rich.console import Console
from typer.core import TyperGroup

if TYPE_CHECKING:
    from scheduler.domain import Scenario
    from solver.params import SolveParams

from policies import PackNotFoundError, PolicyError, load_pack
from policies.models import (
    CATEGORIES,
    FLAGS,
    PLACEMENT_TYPES,
    Category,
    Event,
    Flag,
    Period,
    PlacementType,
)
from scheduler import render, service
from scheduler.domain import Outcome, PlanFrequency
from scheduler.errors import InputError, StaleError, VisitplanError
from scheduler.postcodes import ATTRIBUTION
from scheduler.scenario_io import read_scenario
from scheduler.school_terms import read_terms
from scheduler.store import Store

app = typer.Typer(
    name="visitplan",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help=(
        "Plan statutory home visits to children within each authority's visiting standards.\n\n"
        "Start with `visitplan demo`, or load a caseload with `visitplan load FILE` and ask "
        "`visitplan due`."
    ),
)
policies_app = typer.Typer(no_args_is_help=True, help="Authority policy packs and their rules.")
app.add_typer(policies_app, name="policies")
child_app = typer.Typer(no_args_is_help=True, help="Children on the caseload.")
app.add_typer(child_app, name="child")
absence_app = typer.Typer(no_args_is_help=True, help="Worker absences (leave, sickness, court).")
app.add_typer(absence_app, name="absence")
terms_app = typer.Typer(
    no_args_is_help=True, help="School term dates, which decide the after-school visiting days."
)
app.add_typer(terms_app, name="terms")

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)
LONDON = ZoneInfo("Europe/London")
T = TypeVar("T")
C = TypeVar("C", bound=str)

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="VISITPLAN_DB",
        help="Store URL (any SQLAlchemy URL, e.g. postgresql://...); env VISITPLAN_DB.",
    ),
]
BREACHES_SHOWN = 20
"""Breaches `plan` and `replan` list before saying how many more there are."""
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
ByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        envvar="VISITPLAN_USER",
        help="Who is making the change, for the history (default: your login name).",
    ),
]
DEFAULT_DB = "sqlite:///visitplan.db"


def today() -> date:
    """The clock is read here and nowhere else: today in the UK.

    `VISITPLAN_TODAY=YYYY-MM-DD` fixes it (rehearsing a week, tests, replaying a day).
    """
    import os

    fixed = os.environ.get("VISITPLAN_TODAY")
    if fixed:
        try:
            return checked_date(date.fromisoformat(fixed), "VISITPLAN_TODAY")
        except ValueError:
            fail(f"VISITPLAN_TODAY: expected a date YYYY-MM-DD, got {fixed!r}", 2)
    return datetime.now(LONDON).date()


def parse_time(value: str | None, option: str) -> time | None:
    """A local time HH:MM from the command line, or a usage error naming the option."""
    if value is None:
        return None
    try:
        if len(value) != 5 or value[2] != ":":
            raise ValueError(value)
        return time.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a time HH:MM, got {value!r}", param_hint=option
        ) from None


def parse_period(value: str, option: str) -> Period:
    """A period such as '10 working days' from the command line, or a usage error."""
    try:
        return Period.parse(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def now_local() -> datetime:
    """The clock for audit rows: now in the UK (on `VISITPLAN_TODAY` when that is set)."""
    import os

    moment = datetime.now(LONDON)
    if os.environ.get("VISITPLAN_TODAY"):
        return datetime.combine(today(), moment.timetz())
    return moment


def who(by: str | None) -> str:
    """Who is making a change: `--by`, else the login name."""
    import getpass

    if by:
        return by
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def checked_date(day: date, option: str) -> date:
    """A date inside any real caseload (1900 to 2100), or a usage error naming the option."""
    if not EARLIEST <= day <= LATEST:
        raise typer.BadParameter(
            f"expected a date between {EARLIEST} and {LATEST}, got {day}", param_hint=option
        )
    return day


def parse_date(value: str | None, option: str) -> date | None:
    """An ISO date from the command line, or a usage error naming the option."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date YYYY-MM-DD, got {value!r}", param_hint=option
        ) from None
    return checked_date(day, option)


def fail(message: str, code: int) -> NoReturn:
    """Print an error to stderr and exit with `code`."""
    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


@contextmanager
def handled() -> Iterator[None]:
    """Turn our errors into clear messages and exit codes (2 for input, 1 for a bad result)."""
    try:
        yield
    except InputError as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        fail(f"{len(exc.problems)} problem(s) in the input; nothing was written:\n{lines}", 2)
    except (PackNotFoundError, PolicyError) as exc:
        fail(str(exc), 2)
    except StaleError as exc:
        fail(str(exc), 1)
    except VisitplanError as exc:
        fail(str(exc), 2)


def print_json(model: BaseModel | Any) -> None:
    """Machine output on stdout."""
    if isinstance(model, BaseModel):
        sys.stdout.write(model.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(model, indent=2, default=str) + "\n")


def open_store(db: str) -> Store:
    """The store at `db` (created on first use)."""
    return Store(db)


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


@policies_app.command("list")
def policies_list(as_json: JsonFlag = False) -> None:
    """List the policy packs shipped with visitplan."""
    with handled():
        packs = service.list_packs()
    if as_json:
        print_json(
            [
                {
                    "id": p.id,
                    "name": p.name,
                    "nation": p.nation,
                    "extends": p.extends,
                    "rules": len(p.rules),
                }
                for p in packs
            ]
        )
        return
    out.print(render.render_packs(packs))


@policies_app.command("show")
def policies_show(
    pack_id: Annotated[str, typer.Argument(metavar="ID", help="Pack id, e.g. camden.")],
    as_json: JsonFlag = False,
) -> None:
    """Show every rule of a pack (its own and inherited) with the line it comes from."""
    with handled():
        pack = load_pack(pack_id)
    if as_json:
        print_json(pack)
        return
    out.print(render.render_pack(pack))


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario file (the input of one planning run)."""
    from scheduler.domain import Scenario

    print_json(Scenario.model_json_schema())


@app.command()
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
            open_store(db), file, replace=replace, by=who(by), now=now_local()
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
import_app = typer.Typer(
    cls=_ImportGroup,
    no_args_is_help=True,
    help=(
        "Import a caseload: `import DIR` (CSV exports, docs/import-format.md), "
        "`import annex-a WORKBOOK` or `import ssd DIR`.\n\n" + ATTRIBUTION_HELP
    ),
)
app.add_typer(import_app, name="import")
AsOfOption = Annotated[
    str | None,
    typer.Option(metavar="DATE", help="Date the export is correct to (default today)."),
]
AuthorityOption = Annotated[str, typer.Option(help="Policy pack id of the authority.")]
AllowShrinkFlag = Annotated[
    bool,
    typer.Option("--allow-shrink", help="Allow closing more than 10% of the stored children."),
]
SkipCodesFlag = Annotated[
    bool,
    typer.Option(
        "--skip-unknown-codes",
        help="Leave out (and list) children whose placement code cannot be read.",
    ),
]


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
    day = parse_date(as_of, "--as-of") or today()
    with handled():
        report = service.import_csv_dir(
            open_store(db),
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
    day = parse_date(as_of, "--as-of") or today()
    with handled():
        report = service.import_extract(
            open_store(db), "annex-a", workbook, authority, day, now=now_local(), by=who(by),
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
        str,
        typer.Option(help="home: take visits as at home (the SSD does not say); or unknown."),
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
    place = _choice(visit_place, ("home", "unknown"), "--visit-place")
    day = parse_date(as_of, "--as-of") or today()
    with handled():
        report = service.import_extract(
            open_store(db), "ssd", directory, authority, day, now=now_local(), by=who(by),
            skip_orphans=skip_orphans, skip_unknown_codes=skip_unknown_codes,
            visit_place=place,
            allocated_roles=tuple(allocated_role or ()), allow_shrink=allow_shrink,
        )  # fmt: skip
    _print_import(report, as_json)


def _print_import(report: Any, as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    for line in render.render_import(report):
        out.print(line)


@app.command()
def due(
    as_of: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date to judge from (default today).")
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's children.")] = None,
    worker: Annotated[
        str | None, typer.Option(help="Only children allocated to this worker.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    state: Annotated[
        str | None,
        typer.Option(help="Only children in this state: overdue, awaiting, soon or on-track."),
    ] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only overdue children.")] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="Every matching child, not the first screenful.")
    ] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Every child's state and next requirement: overdue first, then awaiting an outcome,
    then due within a week.

    A child is 'awaiting outcome' when a planned visit has passed with nothing recorded:
    record it with `visitplan record`. Filters combine; --json prints every matching child.
    """
    from scheduler.reports import CHILD_STATES

    day = parse_date(as_of, "--as-of") or today()
    _choice(category, CATEGORIES, "--category")
    states = {
        "overdue": "overdue",
        "awaiting": "awaiting outcome",
        "soon": "due soon",
        "on-track": "on track",
    }
    if state is not None and state not in states:
        raise typer.BadParameter(f"expected one of {', '.join(states)}", param_hint="--state")
    wanted = "overdue" if overdue else (states[state] if state else None)
    with handled():
        store = open_store(db)
        report = service.due_report(
            store, day, team=team, worker=worker, category=category, state=wanted
        )
    if as_json:
        print_json(report)
        return
    assert set(report.counts) == set(CHILD_STATES)
    out.print(render.render_due_summary(report))
    limit = None if show_all else DUE_SCREEN_ROWS
    out.print(render.render_due(report.children[:limit], day))
    hidden = len(report.children) - (limit or len(report.children))
    if hidden > 0:
        out.print(
            f"... and {hidden} more. Use --all for every child, or --team, --worker, "
            "--category, --state to narrow the list."
        )


DUE_SCREEN_ROWS = 40
"""How many children `due` prints without --all: a screen or two."""


@overload
def _choice(value: str, allowed: tuple[C, ...], option: str) -> C: ...
@overload
def _choice(value: str | None, allowed: tuple[C, ...], option: str) -> C | None: ...
def _choice(value: str | None, allowed: tuple[C, ...], option: str) -> C | None:
    """`value` as one of `allowed` (typed as such), or a bad-parameter error naming `option`."""
    if value is None:
        return None
    for choice in allowed:
        if value == choice:
            return choice
    raise typer.BadParameter(f"expected one of {', '.join(allowed)}", param_hint=option)


@app.command("due-date")
def due_date(
    authority: Annotated[str, typer.Option(help="Policy pack id, e.g. north-somerset.")],
    category: Annotated[str, typer.Option(help="One of: " + ", ".join(CATEGORIES))],
    last_visit: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date the child was last seen.")
    ] = None,
    last_home_visit: Annotated[
        str | None, typer.Option(metavar="DATE", help="Last seen at home, if different.")
    ] = None,
    last_unannounced: Annotated[
        str | None, typer.Option(metavar="DATE", help="Last unannounced visit.")
    ] = None,
    second_home_last_visit: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Shared care: last seen at the second home (the last visit was at the first).",
        ),
    ] = None,
    shared_care: Annotated[
        bool, typer.Option("--shared-care", help="The child lives in two homes.")
    ] = False,
    failed_on: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date of a failed visit since.")
    ] = None,
    failed_at: Annotated[
        str | None,
        typer.Option(
            metavar="HH:MM",
            help="Start of the failed visit: the retry avoids that part of the day.",
        ),
    ] = None,
    placement_type: Annotated[
        str | None, typer.Option(help="Child in care: placement type.")
    ] = None,
    placement_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Child in care: start of placement.")
    ] = None,
    care_order: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date of the care order.")
    ] = None,
    adoption_order: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Adoption order: ends the post-placement visits."),
    ] = None,
    notification: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Private fostering: date the authority was notified."),
    ] = None,
    referral: Annotated[str | None, typer.Option(metavar="DATE", help="Date of referral.")] = None,
    plan_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Start of the current plan.")
    ] = None,
    conference: Annotated[
        str | None, typer.Option(metavar="DATE", help="Latest child protection conference.")
    ] = None,
    every: Annotated[
        str | None,
        typer.Option(
            metavar="PERIOD",
            help="Frequency set by the plan or conference, e.g. '10 working days' (only tightens).",
        ),
    ] = None,
    every_source: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Who set --every, e.g. 'CP conference 3 Dec'."),
    ] = None,
    birth_date: Annotated[
        str | None, typer.Option(metavar="DATE", help="Child's date of birth.")
    ] = None,
    flag: Annotated[list[str] | None, typer.Option(help="Child flag (repeatable).")] = None,
    as_of: Annotated[
        str | None, typer.Option(metavar="DATE", help="Judge from this date (default today).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Work out when a child is next due a visit, rule by rule, at your desk.

    Example: visitplan due-date --authority camden --category child-protection
    --last-visit 2026-12-14 --second-home-last-visit 2026-12-07 --every "5 working days"
    --every-source "CP conference 3 Dec"
    """
    _choice(category, CATEGORIES, "--category")
    _choice(placement_type, PLACEMENT_TYPES, "--placement-type")
    for value in flag or []:
        _choice(value, FLAGS, "--flag")
    if every_source is not None and every is None:
        raise typer.BadParameter(
            "needs --every (the frequency it sets)", param_hint="--every-source"
        )
    if failed_at is not None and failed_on is None:
        raise typer.BadParameter(
            "needs --failed-on (the day of the failed visit)", param_hint="--failed-at"
        )
    events: dict[Event, date | None] = {
        "placement-start": parse_date(placement_start, "--placement-start"),
        "care-order": parse_date(care_order, "--care-order"),
        "adoption-order": parse_date(adoption_order, "--adoption-order"),
        "notification": parse_date(notification, "--notification"),
        "referral": parse_date(referral, "--referral"),
        "plan-start": parse_date(plan_start, "--plan-start"),
        "conference": parse_date(conference, "--conference"),
    }
    child = service.DeskChild(
        category=TypeAdapter(Category).validate_python(category),
        placement_type=TypeAdapter(PlacementType | None).validate_python(placement_type),
        birth_date=parse_date(birth_date, "--birth-date"),
        flags=TypeAdapter(tuple[Flag, ...]).validate_python(tuple(flag or ())),
        events={k: v for k, v in events.items() if v is not None},
        last_visit=parse_date(last_visit, "--last-visit"),
        last_home_visit=parse_date(last_home_visit, "--last-home-visit"),
        last_unannounced=parse_date(last_unannounced, "--last-unannounced"),
        second_home_last_visit=parse_date(second_home_last_visit, "--second-home-last-visit"),
        shared_care=shared_care,
        failed_on=parse_date(failed_on, "--failed-on"),
        failed_at=parse_time(failed_at, "--failed-at"),
        frequency=None
        if every is None
        else PlanFrequency(every=parse_period(every, "--every"), source=every_source),
    )
    with handled():
        answer = service.calculate_due_dates(
            authority, child, parse_date(as_of, "--as-of") or today()
        )
    if as_json:
        print_json(answer)
        return
    out.print(render.render_due_dates(answer.requirements))
    if answer.next_due:
        out.print(f"Next visit due by {answer.next_due:%A %d %B %Y}.")
    else:
        out.print("No visiting requirement applies with these facts.")
    avoid = next((r.avoid_part_of_day for r in answer.requirements if r.avoid_part_of_day), None)
    if avoid:
        out.print(f"After the failed visit, plan the next one outside the {avoid}.")
    elif failed_on is not None and failed_at is None:
        out.print("Give --failed-at HH:MM to see which part of the day the retry must avoid.")


@app.command()
def record(
    visit: Annotated[
        str | None, typer.Argument(help="Visit id (see `visitplan plan show`).")
    ] = None,
    outcome: Annotated[
        str | None, typer.Option(help="completed, failed or not-seen (one visit).")
    ] = None,
    seen_alone: Annotated[bool, typer.Option("--seen-alone", help="Children seen alone.")] = False,
    bedroom_seen: Annotated[bool, typer.Option("--bedroom-seen", help="Bedroom seen.")] = False,
    seen_awake: Annotated[bool, typer.Option("--seen-awake", help="Baby seen awake.")] = False,
    child: Annotated[list[str] | None, typer.Option(help="Only these children were seen.")] = None,
    on: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date, if not the planned date.")
    ] = None,
    amend: Annotated[
        bool,
        typer.Option(
            "--amend", help="Correct the visit's recorded outcome (the earlier one is kept)."
        ),
    ] = False,
    day: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Record a whole day: every awaiting visit of DATE."),
    ] = None,
    completed: Annotated[
        bool, typer.Option("--completed", help="With --day: the visits were made as planned.")
    ] = False,
    team: Annotated[str | None, typer.Option(help="With --day: only this team.")] = None,
    worker: Annotated[str | None, typer.Option(help="With --day: only this worker.")] = None,
    except_: Annotated[
        list[str] | None,
        typer.Option("--except", metavar="VISIT", help="With --day: leave this visit awaiting."),
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="Outcomes from a case-system export (docs/import-format.md)."),
    ] = None,
    replan_now: Annotated[
        bool,
        typer.Option(
            "--replan",
            help="After a failed or not-seen visit, propose the re-plan at once (not stored).",
        ),
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option(min=0.1, max=60, help="With --replan: solver seconds per team and round."),
    ] = 0.5,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record what happened at planned visits: one visit, a whole day, or an export.

    One visit:  visitplan record VISIT --outcome failed
    A whole day, as planned, except two:
                visitplan record --day 2026-12-07 --completed --team t1 --except V1 --except V2
    An export:  visitplan record --csv outcomes.csv

    Each visit's records (one per child) are written together or not at all, and running the
    same command again changes nothing. After a failed or not-seen visit, prints the retry
    deadline and any escalation; `visitplan replan` then plans the retry.
    """
    modes = sum(x is not None for x in (visit, day, csv_file))
    if modes != 1:
        raise typer.BadParameter(
            "give one of VISIT --outcome O, --day DATE --completed, --csv FILE"
        )
    if day is not None:
        if not completed:
            raise typer.BadParameter(
                "--day records visits as made as planned: add --completed (record failures "
                "one by one with VISIT --outcome failed, and leave them out with --except)",
                param_hint="--day",
            )
        _record_day(db, parse_date(day, "--day"), team, worker, tuple(except_ or ()), by, as_json)
        return
    if csv_file is not None:
        with handled():
            report = service.import_outcomes(
                open_store(db), csv_file, today=today(), by=who(by), now=now_local()
            )
        if as_json:
            print_json(report)
            return
        out.print(
            f"Recorded {report.added} record(s) for {report.visits} visit(s) from {report.file}"
            + (f"; {report.already} were already recorded" if report.already else "")
            + "."
        )
        return
    assert visit is not None
    if outcome is None:
        raise typer.BadParameter(
            "give --outcome completed, failed or not-seen", param_hint="--outcome"
        )
    made = _choice(outcome, get_args(Outcome), "--outcome")
    with handled():
        records = service.record_outcome(
            open_store(db),
            visit,
            made,
            seen_alone=seen_alone,
            bedroom_seen=bedroom_seen,
            seen_awake=seen_awake,
            children=tuple(child or ()),
            on=parse_date(on, "--on"),
            amend=amend,
            today=today(),
            by=who(by),
            now=now_local(),
        )
    if as_json:
        print_json([json.loads(r.model_dump_json()) for r in records])
        return
    verb = "Corrected" if amend else "Recorded"
    for r in records:
        out.print(f"{verb} {r.outcome} for {r.child_id} on {r.on:%a %d %b %Y}")
    if not records or all(r.outcome == "completed" for r in records):
        return
    _retry_follow_up(db, records, replan_now, time_limit)


def _record_day(
    db: str,
    day: date | None,
    team: str | None,
    worker: str | None,
    exceptions: tuple[str, ...],
    by: str | None,
    as_json: bool,
) -> None:
    """`record --day DATE --completed`: the day's awaiting visits made as planned."""
    assert day is not None
    with handled():
        report = service.record_day(
            open_store(db),
            day,
            today=today(),
            team=team,
            worker=worker,
            except_visits=exceptions,
            by=who(by),
            now=now_local(),
        )
    if as_json:
        print_json(report)
        return
    out.print(
        f"Recorded {len(report.recorded)} visit(s) on {day:%a %d %b %Y} as completed "
        f"({report.children} children's records)."
    )
    if report.already:
        out.print(
            f"{len(report.already)} visit(s) already had an outcome and were left as they are."
        )
    if report.left_awaiting:
        out.print(
            "Left awaiting an outcome: "
            + ", ".join(report.left_awaiting)
            + " - record each with `visitplan record VISIT --outcome ...`."
        )


def _retry_follow_up(db: str, records: Any, replan_now: bool, time_limit: float) -> None:
    """After a failed visit: the retry deadline and escalations, then the re-plan (proposed)."""
    from datetime import timedelta

    day = records[0].on
    ids = {r.child_id for r in records if r.outcome != "completed"}
    with handled():
        store = open_store(db)
        rows = [c for c in service.due_report(store, day).children if c.child_id in ids]
    for row in rows:
        for req in row.requirements:
            if req.kind == "retry":
                avoid = f", not in the {req.avoid_part_of_day}" if req.avoid_part_of_day else ""
                out.print(f"{row.case_ref}: retry due by {req.due:%a %d %b %Y}{avoid}")
        for escalation in row.escalations:
            out.print(f"{row.case_ref}: ESCALATE: {escalation}")
    start = day + timedelta(days=1)
    if not replan_now:
        out.print(f"Run `visitplan replan --from {start.isoformat()}` to plan the retry.")
        return
    with handled():
        report = service.propose_replan(
            store, _solve_params(time_limit, 0), today=start, from_date=start, progress=_progress
        )
        scenario = store.read_scenario()
    out.print(render.render_changes(report, scenario, store.worker_names()))
    out.print(render.render_replan_summary(report, scenario, _titles(scenario)))
    out.print(
        f"Nothing has changed yet: run `visitplan replan --from {start.isoformat()} --apply` "
        "to store this plan."
    )


@app.command()
def generate(
    size: Annotated[
        str, typer.Option(help="S (one team), M (median authority) or L (largest).")
    ] = "S",
    output: Annotated[Path, typer.Option("-o", "--output", help="Scenario file to write.")] = Path(
        "scenario.json"
    ),
    children: Annotated[
        int | None,
        typer.Option(min=1, max=100_000, help="Number of children (overrides size)."),
    ] = None,
    authority: Annotated[str, typer.Option(help="Policy pack id.")] = "north-somerset",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same file.")] = 0,
    start: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Monday the plan starts (default next Monday)."),
    ] = None,
) -> None:
    """Write a realistic synthetic authority as a scenario file."""
    from scheduler.generate import Size
    from scheduler.generate import generate as make

    chosen = _choice(size, get_args(Size), "--size")
    day = parse_date(start, "--start") or next_monday(today())
    with handled():
        load_pack(authority)
        scenario = make(
            chosen,
            seed=seed,
            start=day,
            children=children,
            authority=authority,
        )
    output.write_text(scenario.model_dump_json(indent=1), encoding="utf-8")
    err.print(
        f"Wrote {output}: {len(scenario.children)} children, "
        f"{len(scenario.households)} households, {len(scenario.workers)} workers "
        f"in {len(scenario.teams)} teams (seed {seed})."
    )


def _progress(message: str) -> None:
    err.print(f"[dim]{message}[/]", markup=True)


def _solve_params(time_limit: float, seed: int) -> SolveParams:
    from solver.params import SolveParams

    # One CP-SAT worker per team and deterministic limits: the same input and seed give the
    # same plan on any machine and with any --processes.
    return SolveParams(time_limit_s=time_limit, seed=seed, num_workers=1, deterministic=True)


def _processes_option() -> Any:
    return typer.Option(
        min=1, help="Team groups planned at once, one process each (default: the machine's cores)."
    )


def _with_caldav_busy(store: Store, scenario: Scenario, start: date, weeks: int) -> Scenario:
    """The scenario plus workers' CalDAV busy times over the horizon and look-ahead."""
    from datetime import timedelta

    from integrations import busy_for_scenario

    current = store.current_plan()
    end = start + timedelta(days=7 * (weeks + 4) - 1)
    with calendar_errors():
        found = busy_for_scenario(scenario, start, end, own=current.visits if current else ())
    _progress(f"read {len(found.busy) - len(scenario.busy)} busy period(s) from CalDAV")
    return found


plan_app = typer.Typer(
    help="Build the visit plan, or show the current one (`visitplan plan show`).",
)
app.add_typer(plan_app, name="plan")


@plan_app.callback(invoke_without_command=True)
def plan(
    ctx: typer.Context,
    start: Annotated[
        str | None, typer.Option(metavar="DATE", help="First day (default next Monday).")
    ] = None,
    weeks: Annotated[int, typer.Option(min=1, max=8, help="Weeks to plan.")] = 1,
    time_limit: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=60,
            help="Solver time per team, in CP-SAT's deterministic seconds.",
        ),
    ] = 0.4,
    seed: Annotated[
        int, typer.Option(min=0, help="Solver seed; same input and seed, same plan.")
    ] = 0,
    scenario_file: Annotated[
        Path | None,
        typer.Option("--scenario", help="Plan this scenario file instead of the store's caseload."),
    ] = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the plan, with reasons, to FILE.")
    ] = None,
    busy_from_caldav: Annotated[
        bool,
        typer.Option(
            "--busy-from-caldav",
            help="Plan around workers' existing calendar commitments (VISITPLAN_CALDAV_*).",
        ),
    ] = False,
    processes: Annotated[int | None, _processes_option()] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print the solver's figures.")
    ] = False,
    show_all: Annotated[
        bool,
        typer.Option("--all", help=f"List every breach (default: the first {BREACHES_SHOWN})."),
    ] = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Build every worker's visit schedule and store it as the current plan.

    Looks 4 weeks past the horizon so deadlines just after it are planned for. Prints each
    worker's visits and the breaches that capacity did not allow, with reasons. The plan
    replaces the current one only if nothing in the store changed while it was made.
    `visitplan plan show` prints the current plan with visit ids for `visitplan record`.
    """
    if ctx.invoked_subcommand is not None:
        return
    day = parse_date(start, "--start") or next_monday(today())
    params = _solve_params(time_limit, seed)
    replaced = None
    with handled():
        store = open_store(db)
        if scenario_file is not None or busy_from_caldav:
            scenario = read_scenario(scenario_file) if scenario_file else store.read_scenario()
            if busy_from_caldav:
                scenario = _with_caldav_busy(store, scenario, day, weeks)
            result = service.plan_caseload(scenario, day, weeks, params, _progress, processes)
            if scenario_file is None:
                store.save_plan(result, now_local(), by=who(by))
        else:
            stored = service.plan_store(
                store,
                day,
                weeks,
                params,
                progress=_progress,
                by=who(by),
                now=now_local(),
                processes=processes,
            )
            result, replaced = stored.plan, stored.replaced
            scenario = store.read_scenario()
    if json_file is not None:
        json_file.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    titles = _titles(scenario)
    for table in render.render_plan(result, scenario):
        out.print(table)
    limit = None if show_all else BREACHES_SHOWN
    out.print(render.render_breaches(result, scenario, titles, limit=limit))
    out.print(render.render_plan_summary(result, scenario, verbose=verbose))
    if scenario_file is not None:
        err.print("Planned from a file: the plan was not stored (use --json FILE to keep it).")
    elif replaced:
        err.print(f"This plan replaced the previous current plan ({replaced}).")


def _titles(scenario: Any) -> dict[str, str]:
    from scheduler.reports import rule_titles

    return rule_titles(scenario.authority.id)


@plan_app.command("show")
def plan_show(
    team: Annotated[str | None, typer.Option(help="Only this team's visits.")] = None,
    worker: Annotated[str | None, typer.Option(help="Only this worker's visits.")] = None,
    day: Annotated[str | None, typer.Option(metavar="DATE", help="Only this day.")] = None,
    breaches: Annotated[
        bool,
        typer.Option(
            "--breaches", help="Print every deadline the plan cannot meet, with reasons, instead."
        ),
    ] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Print the current plan: visit ids, workers, children, states and the rules served.

    States: planned, awaiting (the day has passed with no outcome recorded), completed,
    failed, not-seen, cancelled. Use the visit ids with `visitplan record`. With --breaches,
    every deadline the plan cannot meet (statutory first) with its reason.
    """
    if breaches:
        with handled():
            _revision, scenario, current = open_store(db).snapshot()
            if current is None:
                fail("there is no current plan: make one with `visitplan plan`", 1)
        if as_json:
            print_json([json.loads(b.model_dump_json()) for b in current.breaches])
            return
        out.print(render.render_breaches(current, scenario, _titles(scenario)))
        return
    with handled():
        view = service.plan_view(
            open_store(db), today(), team=team, worker=worker, day=parse_date(day, "--day")
        )
    if as_json:
        print_json(view)
        return
    out.print(render.render_plan_view(view))


@app.command()
def check(
    scenario_file: Annotated[
        Path | None, typer.Option("--scenario", help="Scenario file (with --plan).")
    ] = None,
    plan_file: Annotated[Path | None, typer.Option("--plan", help="Plan JSON file.")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Check a plan independently of the solver; exit 1 on any hard violation.

    Without files it checks the store's current plan against the store's caseload (visits
    before a re-plan's start with no recorded outcome are taken as the plan took them).
    """
    from scheduler.domain import Plan

    if (scenario_file is None) != (plan_file is None):
        raise typer.BadParameter("give both --scenario and --plan, or neither")
    with handled():
        if scenario_file is not None and plan_file is not None:
            scenario = read_scenario(scenario_file)
            try:
                checked = Plan.model_validate_json(plan_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                fail(f"{plan_file}: not a plan file (see `visitplan plan --json FILE`)", 2)
            report = service.check(scenario, checked)
        else:
            _scenario, report = service.check_current(open_store(db))
    if as_json:
        print_json(report)
    else:
        out.print(render.render_check(report))
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def demo(
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the demo's store, files and calendars.")
    ] = Path("visitplan-demo"),
    seed: Annotated[int, typer.Option(min=0, help="Seed of the sample authority.")] = 0,
    processes: Annotated[int | None, _processes_option()] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print the solver's figures.")
    ] = False,
) -> None:
    """Generate a one-team sample authority, plan two weeks and show schedule and compliance.

    Writes the sample store to OUT/visitplan.db (replacing any earlier demo there), the plan,
    and one calendar file per worker.
    """
    from integrations import write_ics
    from scheduler.feed_source import event_context
    from scheduler.generate import generate as make

    start = next_monday(today())
    out_dir.mkdir(parents=True, exist_ok=True)
    scenario = make("S", seed=seed, start=start)
    (out_dir / "scenario.json").write_text(scenario.model_dump_json(indent=1), encoding="utf-8")
    database = out_dir / "visitplan.db"
    for stale in (
        database,
        database.with_name("visitplan.db-wal"),
        database.with_name("visitplan.db-shm"),
    ):
        stale.unlink(missing_ok=True)
    with handled():
        store = open_store(f"sqlite:///{database}")
        store.replace_caseload(scenario, by="demo", now=now_local())
    err.print(
        f"Sample authority: {len(scenario.children)} children in {len(scenario.households)} "
        f"households, {len(scenario.workers)} workers; planning 2 weeks from {start:%a %d %b %Y}."
    )
    result = service.plan_caseload(
        scenario, start, 2, _solve_params(0.4, seed), _progress if verbose else None, processes
    )
    store.save_plan(result, now_local(), by="demo")
    (out_dir / "plan.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    titles = _titles(scenario)
    for table in render.render_plan(result, scenario):
        out.print(table)
    out.print(render.render_breaches(result, scenario, titles))
    out.print(render.render_plan_summary(result, scenario, verbose=verbose))
    report = service.check(scenario, result)
    out.print(render.render_check(report))
    paths = write_ics(
        store,
        result.visits,
        scenario,
        out_dir / "calendars",
        now_utc(),
        context=event_context(scenario),
    )
    out.print(
        f"Wrote {out_dir}/scenario.json, plan.json, visitplan.db and {len(paths)} calendar "
        f"file(s) in {out_dir}/calendars. Try: visitplan due --db sqlite:///{out_dir}/visitplan.db"
    )
    if not report.ok:
        raise typer.Exit(1)


# ------------------------------------------------------------------ calendars

feeds_app = typer.Typer(no_args_is_help=True, help="ICS subscription feeds per worker.")
app.add_typer(feeds_app, name="feeds")
FeedBaseOption = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar="VISITPLAN_FEED_BASE_URL",
        help="Public address of `visitplan serve`; env VISITPLAN_FEED_BASE_URL.",
    ),
]


def now_utc() -> datetime:
    """The clock, read here for calendar revisions: now in UTC."""
    from datetime import UTC

    return datetime.now(UTC)


@contextmanager
def calendar_errors() -> Iterator[None]:
    """Calendar failures: exit 2 when nothing is configured, 1 when a server refused or failed."""
    from integrations import CalendarError, ConfigError, OutputError

    try:
        yield
    except (ConfigError, OutputError) as exc:
        fail(str(exc), 2)
    except CalendarError as exc:
        fail(str(exc), 1)


def _plan_and_scenario(store: Store) -> tuple[Any, Any]:
    plan = store.current_plan()
    if plan is None:
        fail("no plan in the store: run `visitplan plan` first", 2)
    return plan, store.read_scenario()


@app.command("export-ics")
def export_ics(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for one .ics file per worker.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Write each worker's visits in the current plan as an ICS file."""
    from integrations import write_ics
    from scheduler.feed_source import event_context

    with handled(), calendar_errors():
        store = open_store(db)
        plan, scenario = _plan_and_scenario(store)
        context = event_context(scenario)
        paths = write_ics(store, plan.visits, scenario, out_dir, now_utc(), context=context)
    if as_json:
        print_json([str(p) for p in paths])
        return
    out.print(f"Wrote {len(paths)} calendar file(s) to {out_dir}")


@app.command()
def publish(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change.")] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Publish the current plan to workers' CalDAV calendars (only changed events are written).

    The server and credentials come from VISITPLAN_CALDAV_URL, VISITPLAN_CALDAV_USERNAME and
    VISITPLAN_CALDAV_PASSWORD, or ~/.config/visitplan/caldav.toml (or VISITPLAN_CONFIG).
    """
    from integrations import connect, publish_plan, read_config
    from scheduler.feed_source import event_context

    with handled(), calendar_errors():
        store = open_store(db)
        plan, scenario = _plan_and_scenario(store)
        client = connect(read_config())
        context = event_context(scenario)
        report = publish_plan(
            client, store, plan.visits, scenario, now_utc(), dry_run=dry_run, context=context
        )
    if as_json:
        print_json(report)
    else:
        verb = "Would publish" if dry_run else "Published"
        out.print(
            f"{verb}: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.cancelled)} cancelled, {len(report.deleted)} deleted, "
            f"{report.unchanged} unchanged, {len(report.conflicts)} conflict(s)."
        )
        for c in report.conflicts:
            out.print(f"  conflict {c.uid} on {c.worker_id}'s calendar: {c.reason}")
    if report.conflicts:
        err.print(
            f"{len(report.conflicts)} event(s) were changed on the server by someone else and "
            "were not overwritten; check them with the worker."
        )
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    base_url: FeedBaseOption = "http://127.0.0.1:8080",
    feed_rate: Annotated[
        int,
        typer.Option(
            min=0,
            help="Requests a minute one feed URL may make, and at once; 0 for no limit "
            "(when a proxy in front limits already).",
        ),
    ] = 30,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Serve the manager's desk at / and workers' ICS feeds at /feeds/TOKEN.ics.

    Sign-in needs a user (`visitplan users add`). Sessions are signed with
    VISITPLAN_SECRET_KEY (set it so sessions survive a restart); cookies are Secure when the
    --base-url is https. Calendars are published when VISITPLAN_CALDAV_* is configured.
    """
    import uvicorn

    from integrations import FeedParams, FeedServer
    from scheduler.feed_source import StoreFeedSource

    with handled():
        store = open_store(db)
    limit = (
        FeedParams(burst=feed_rate, per_minute=feed_rate) if feed_rate else FeedParams(burst=10**9)
    )
    feeds = FeedServer(StoreFeedSource(store), now_utc, limit)
    # The feeds' first version, before the server accepts requests (a mounted app's own
    # lifespan does not run, so the desk's cannot do it).
    feeds.warm()
    desk = _desk(store, base_url, feeds)
    # No access log: feed URLs carry secret tokens.
    uvicorn.run(desk, host=host, port=port, access_log=False, log_level="info")


def _desk(store: Store, base_url: str, feeds: Any) -> Any:
    """The desk app wired to the feed server and, when configured, the CalDAV server."""
    import logging
    import os
    import secrets

    from integrations import ConfigError, issue_token, make_app, read_config, revoke_token
    from scheduler.web.app import create_app
    from scheduler.web.context import DeskServices

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    secret = os.environ.get("VISITPLAN_SECRET_KEY")
    if not secret:
        secret = secrets.token_urlsafe(32)
        err.print("VISITPLAN_SECRET_KEY is not set: sign-ins last until the server restarts.")
    try:
        read_config()
        publish = _publisher
    except ConfigError:
        publish = None

    def issue(store: Store, worker_id: str, now: datetime, base: str) -> str:
        url = issue_token(store, worker_id, now, base)
        feeds.look_again()  # this process serves the feeds: the URL works at once
        return url

    def revoke(store: Store, worker_id: str, now: datetime) -> bool:
        ended = revoke_token(store, worker_id, now)
        feeds.look_again()  # ... and a revoked one ends at once
        return ended

    services = DeskServices(issue, revoke, publish)
    return create_app(
        store, now_utc, secret, services, base_url, make_app(feeds), _attribution(), warm=True
    )


def _publisher(store: Store, now: datetime) -> Any:
    """Publish the current plan to CalDAV for the desk; failures become a manager's message."""
    from integrations import CalendarError, connect, publish_plan, read_config
    from scheduler.feed_source import event_context
    from scheduler.web.context import CalendarUnavailableError, PublishCounts

    plan = store.current_plan()
    if plan is None:
        raise CalendarUnavailableError("there is no plan to publish")
    try:
        scenario = store.read_scenario()
        report = publish_plan(
            connect(read_config()),
            store,
            plan.visits,
            scenario,
            now,
            context=event_context(scenario),
        )
    except CalendarError as exc:
        raise CalendarUnavailableError(f"the calendar server said no: {exc}") from exc
    return PublishCounts(
        created=len(report.created),
        updated=len(report.updated),
        cancelled=len(report.cancelled),
        deleted=len(report.deleted),
        unchanged=report.unchanged,
        conflicts=len(report.conflicts),
    )


def _attribution() -> str:
    """The postcode data attribution the ONS licence asks for, in the desk's footer."""
    from scheduler.postcodes import ATTRIBUTION

    return ATTRIBUTION


@feeds_app.command("issue")
def feeds_issue(
    worker: Annotated[str, typer.Argument(metavar="WORKER", help="Worker id.")],
    base_url: FeedBaseOption = "http://127.0.0.1:8080",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Print a new secret feed URL for a worker; any earlier URL of theirs stops working."""
    from integrations import issue_token

    with handled():
        url = issue_token(open_store(db), worker, now_utc(), base_url)
    out.print(url)


@feeds_app.command("revoke")
def feeds_revoke(
    worker: Annotated[str, typer.Argument(metavar="WORKER", help="Worker id.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """End a worker's feed: their feed URL answers 404 from now on."""
    from integrations import revoke_token

    with handled():
        ended = revoke_token(open_store(db), worker, now_utc())
    out.print(f"Revoked the feed of {worker}." if ended else f"{worker} had no live feed.")


@absence_app.command("add")
def absence_add(
    worker: Annotated[str | None, typer.Argument(help="Worker id.")] = None,
    from_: Annotated[
        str | None, typer.Option("--from", metavar="DATE", help="First day away.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", metavar="DATE", help="Last day away (inclusive).")
    ] = None,
    reason: Annotated[str, typer.Option(help="leave, sickness, training, court ...")] = "leave",
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="CSV of absences: worker_id,start,end,reason.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Record that a worker is away (or many, from a CSV file). Then run `visitplan replan`."""
    from scheduler.domain import Absence

    with handled():
        store = open_store(db)
        if csv_file is not None:
            workers = {w.id for w in store.read_scenario().workers}
            absences = service.read_absences_csv(csv_file, workers)
        else:
            if worker is None or from_ is None:
                raise typer.BadParameter("give WORKER --from DATE [--to DATE], or --csv FILE")
            first = parse_date(from_, "--from")
            last = parse_date(to, "--to") or first
            if first is None or last is None:
                raise typer.BadParameter("--from is required")
            if last < first:
                raise typer.BadParameter("--to is before --from", param_hint="--to")
            absences = (Absence(worker_id=worker, start=first, end=last, reason=reason),)
        service.add_absences(store, absences, by=who(by), now=now_local())
    for a in absences:
        out.print(
            f"Recorded {a.reason} for {a.worker_id}: {a.start:%a %d %b} to {a.end:%a %d %b %Y}"
        )


@absence_app.command("list")
def absence_list(
    worker: Annotated[str | None, typer.Argument(help="Only this worker.")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """List recorded absences."""
    with handled():
        absences = open_store(db).list_absences(worker)
    if as_json:
        print_json([json.loads(a.model_dump_json()) for a in absences])
        return
    out.print(render.render_absences(absences))


@absence_app.command("remove")
def absence_remove(
    worker: Annotated[str, typer.Argument(help="Worker id.")],
    from_: Annotated[
        str, typer.Option("--from", metavar="DATE", help="First day of the absence to remove.")
    ],
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Remove an absence (identified by worker and first day)."""
    first = parse_date(from_, "--from")
    assert first is not None
    with handled():
        removed = open_store(db).remove_absence(worker, first, by=who(by), now=now_local())
    if not removed:
        fail(f"no absence of {worker} starting {first:%d %b %Y}", 2)
    out.print(f"Removed the absence of {worker} from {first:%a %d %b %Y}")


@app.command()
def replan(
    from_: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="Re-plan from this day (default: today, or the plan's first day if later).",
        ),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Store the proposal as the current plan.")
    ] = False,
    assume_missed: Annotated[
        bool,
        typer.Option(
            "--assume-missed",
            help="Plan visits before the re-plan day that have no recorded outcome as missed "
            "(by default they are planned as made).",
        ),
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=60,
            help="Solver time per team and round, in CP-SAT's deterministic seconds.",
        ),
    ] = 0.5,
    seed: Annotated[int, typer.Option(min=0, help="Solver seed.")] = 0,
    processes: Annotated[int | None, _processes_option()] = None,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Re-plan after absences, failed visits or new children, moving as little as possible.

    The absent worker's visits go to colleagues who may do them; every other visit stays
    unless moving it is the only way to avoid a statutory breach. Visits already made whose
    outcome is not recorded yet are assumed made (say --assume-missed if the day went badly).
    Nothing changes until --apply, and --apply refuses if the store changed while the
    proposal was made; then run `visitplan publish` to update calendars.
    """
    day = parse_date(from_, "--from")
    with handled():
        store = open_store(db)
        report = service.propose_replan(
            store,
            _solve_params(time_limit, seed),
            today=today(),
            from_date=day,
            assume_missed=assume_missed,
            progress=_progress,
            processes=processes,
        )
        if apply:
            service.apply_replan(store, report, by=who(by), now=now_local())
        scenario = store.read_scenario()
    if as_json:
        print_json(report)
        return
    line = report.assumption_line()
    if line:
        err.print(line)
        if report.resting_on_assumption:
            shown = ", ".join(report.resting_on_assumption[:30])
            more = len(report.resting_on_assumption) - 30
            err.print(
                "Children whose clocks rest on that: "
                + shown
                + (f" and {more} more (see --json)" if more > 0 else "")
            )
    out.print(render.render_changes(report, scenario, store.worker_names()))
    out.print(render.render_replan_summary(report, scenario, _titles(scenario)))
    if not apply:
        out.print("Nothing has changed yet: run again with --apply to store this plan.")
    else:
        out.print("Stored. Run `visitplan publish` to update workers' calendars.")


@child_app.command("add")
def child_add(
    child_id: Annotated[str, typer.Argument(metavar="CHILD", help="New child's id.")],
    case_ref: Annotated[str, typer.Option(help="Case reference shown on calendars.")],
    category: Annotated[str, typer.Option(help="One of: " + ", ".join(CATEGORIES))],
    household: Annotated[list[str], typer.Option(help="Household id (twice for shared care).")],
    worker: Annotated[str | None, typer.Option(help="Allocated worker id.")] = None,
    birth_date: Annotated[str | None, typer.Option(metavar="DATE", help="Date of birth.")] = None,
    referral: Annotated[str | None, typer.Option(metavar="DATE", help="Date of referral.")] = None,
    plan_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Start of the plan.")
    ] = None,
    placement_type: Annotated[str | None, typer.Option(help="Child in care: type.")] = None,
    placement_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Child in care: start.")
    ] = None,
    area: Annotated[
        str | None, typer.Option(help="Create the (first) household in this area.")
    ] = None,
    lat: Annotated[float | None, typer.Option(help="New household's latitude.")] = None,
    lon: Annotated[float | None, typer.Option(help="New household's longitude.")] = None,
    team: Annotated[str | None, typer.Option(help="New household's team.")] = None,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Add a new child (a referral or a new placement); then `visitplan replan` plans them.

    Example: visitplan child add c-new --case-ref CR-9 --category child-in-care
    --placement-type foster --placement-start 2026-12-01 --household h-12 --worker w-0003

    Refused, with nothing written: a child in care without --placement-type, a new household
    (--area) without --team or coordinates, a duplicate id or case reference, an unknown
    household or worker.
    """
    from scheduler.caseload import new_child
    from scheduler.domain import ChildEvents

    _choice(category, CATEGORIES, "--category")
    _choice(placement_type, PLACEMENT_TYPES, "--placement-type")
    with handled():
        new_home = _new_home(household[0], area, lat, lon, team)
        events = ChildEvents(
            referral=parse_date(referral, "--referral"),
            plan_start=parse_date(plan_start, "--plan-start"),
            placement_start=parse_date(placement_start, "--placement-start"),
        )
        child = new_child(
            id=child_id,
            case_ref=case_ref,
            category=category,
            placement_type=placement_type,
            birth_date=parse_date(birth_date, "--birth-date"),
            events=events,
            household_ids=tuple(household),
            allocated_worker=worker,
        )
        service.add_child(open_store(db), child, new_home, by=who(by), now=now_local())
    out.print(f"Added {case_ref} ({category}). Run `visitplan due` or `visitplan replan`.")


def _new_home(
    household_id: str, area: str | None, lat: float | None, lon: float | None, team: str | None
) -> Any:
    """A new household from --area/--lat/--lon/--team, or None when --area is not given."""
    from scheduler.caseload import new_household
    from scheduler.errors import InputProblem

    if area is None:
        return None
    missing = [
        InputProblem("command line", None, option, "a value for a new household", "none given")
        for option, value in (("--lat", lat), ("--lon", lon), ("--team", team))
        if value is None
    ]
    if missing:
        raise InputError(missing)
    return new_household(id=household_id, area=area, lat=lat, lon=lon, team_id=team)


@child_app.command("edit")
def child_edit(
    child_id: Annotated[str, typer.Argument(metavar="CHILD", help="The child's id.")],
    category: Annotated[str | None, typer.Option(help="New category.")] = None,
    placement_type: Annotated[str | None, typer.Option(help="Child in care: type.")] = None,
    placement_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Child in care: start of placement.")
    ] = None,
    plan_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Start of the current plan.")
    ] = None,
    referral: Annotated[str | None, typer.Option(metavar="DATE", help="Date of referral.")] = None,
    conference: Annotated[
        str | None, typer.Option(metavar="DATE", help="Latest child protection conference.")
    ] = None,
    household: Annotated[
        list[str] | None,
        typer.Option(help="The child's homes from now (twice for shared care)."),
    ] = None,
    area: Annotated[
        str | None, typer.Option(help="A new home in this area (with --new-household).")
    ] = None,
    new_household: Annotated[
        str | None, typer.Option(help="Id of a new home to create and move the child to.")
    ] = None,
    lat: Annotated[float | None, typer.Option(help="New home's latitude.")] = None,
    lon: Annotated[float | None, typer.Option(help="New home's longitude.")] = None,
    team: Annotated[str | None, typer.Option(help="New home's team.")] = None,
    worker: Annotated[str | None, typer.Option(help="Allocate to this worker.")] = None,
    unallocate: Annotated[
        bool, typer.Option("--unallocate", help="The child has no allocated worker now.")
    ] = False,
    flag: Annotated[list[str] | None, typer.Option(help="Add a flag (repeatable).")] = None,
    remove_flag: Annotated[
        list[str] | None, typer.Option(help="Remove a flag (repeatable).")
    ] = None,
    case_ref: Annotated[str | None, typer.Option(help="A corrected case reference.")] = None,
    every: Annotated[
        str | None,
        typer.Option(
            metavar="PERIOD",
            help="How often the plan or conference says the child is seen, e.g. "
            "'10 working days' (it can only make visits earlier).",
        ),
    ] = None,
    every_source: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Who set --every, e.g. 'CP conference 3 Dec'."),
    ] = None,
    no_every: Annotated[
        bool, typer.Option("--no-every", help="The plan no longer sets its own frequency.")
    ] = False,
    reason: Annotated[str | None, typer.Option(help="Why, for the history.")] = None,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Change a child's facts (category, placement, homes, worker, flags, the plan's own
    frequency); every change is kept in the history with who and when.

    Example: visitplan child edit c-0042 --category child-protection --plan-start 2026-12-03
    --reason "initial conference"
    """
    _choice(category, CATEGORIES, "--category")
    _choice(placement_type, PLACEMENT_TYPES, "--placement-type")
    add_flags = tuple(_choice(value, FLAGS, "--flag") for value in flag or ())
    remove_flags = tuple(_choice(value, FLAGS, "--flag") for value in remove_flag or ())
    if (area is None) != (new_household is None):
        raise typer.BadParameter("a new home needs both --new-household ID and --area")
    if every_source is not None and every is None:
        raise typer.BadParameter(
            "needs --every (the frequency it sets)", param_hint="--every-source"
        )
    if no_every and every is not None:
        raise typer.BadParameter("give --every or --no-every, not both", param_hint="--no-every")
    frequency = None
    if every is not None:
        from scheduler.domain import PlanFrequency

        frequency = PlanFrequency(every=parse_period(every, "--every"), source=every_source)
    with handled():
        home = _new_home(new_household, area, lat, lon, team) if new_household else None
        changed = service.edit_child(
            open_store(db),
            child_id,
            category=category,
            placement_type=placement_type,
            placement_start=parse_date(placement_start, "--placement-start"),
            plan_start=parse_date(plan_start, "--plan-start"),
            referral=parse_date(referral, "--referral"),
            conference=parse_date(conference, "--conference"),
            households=tuple(household or ()),
            new_household=home,
            worker=worker,
            unallocate=unallocate,
            add_flags=add_flags,
            remove_flags=remove_flags,
            case_ref=case_ref,
            frequency=frequency,
            clear_frequency=no_every,
            reason=reason,
            by=who(by),
            now=now_local(),
        )
    if as_json:
        print_json(changed)
        return
    if not changed:
        out.print(f"Nothing changed for {child_id}.")
        return
    out.print(f"Changed {child_id}: " + ", ".join(sorted(changed)) + ".")
    out.print("Run `visitplan replan` to plan with the new facts.")


@child_app.command("close")
def child_close(
    child_id: Annotated[str, typer.Argument(metavar="CHILD", help="The child's id.")],
    on: Annotated[str, typer.Option(metavar="DATE", help="Date the case closed.")],
    reason: Annotated[str, typer.Option(help="Why the case closed.")],
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Close a child's case: no visits after the closing date; the history is kept.

    The child's planned visits after that day are taken off the current plan (a visit to no
    one else is cancelled; `visitplan publish` cancels it on the calendar).
    """
    day = parse_date(on, "--on")
    assert day is not None
    if day > today():
        raise typer.BadParameter(f"a case closes on or before today ({today()})", param_hint="--on")
    with handled():
        service.close_child(open_store(db), child_id, day, reason, by=who(by), now=now_local())
    out.print(f"Closed {child_id} on {day:%a %d %b %Y}. Its history is kept (`visitplan history`).")


@app.command()
def history(
    child_id: Annotated[str, typer.Argument(metavar="CHILD", help="The child's id.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """A child's history: every edit with who and when, visit records and their corrections."""
    with handled():
        found = service.child_history(open_store(db), child_id)
    if as_json:
        print_json(found)
        return
    for table in render.render_history(found):
        out.print(table)


visit_app = typer.Typer(no_args_is_help=True, help="Change one visit of the plan by hand.")
app.add_typer(visit_app, name="visit")


@visit_app.command("move")
def visit_move(
    visit: Annotated[str, typer.Argument(metavar="VISIT", help="Visit id.")],
    to: Annotated[
        str,
        typer.Option(
            "--to", metavar="DATE[THH:MM]", help="New day, and time (the same time if none)."
        ),
    ],
    worker: Annotated[str | None, typer.Option(help="Give the visit to this worker.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show the checker's verdict.")
    ] = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move a visit to another day, time or worker, checked first; the visit is then pinned.

    A move that breaks a hard rule (a deadline, the worker's hours, an absence, the family's
    window...) is refused with the reason and exit 1.
    """
    from datetime import time as time_of_day

    text_day, _, text_time = to.partition("T")
    day = parse_date(text_day, "--to")
    at = None
    if text_time:
        try:
            at = time_of_day.fromisoformat(text_time)
        except ValueError:
            raise typer.BadParameter(
                f"expected DATE or DATETHH:MM, got {to!r}", param_hint="--to"
            ) from None
    assert day is not None
    with handled():
        verdict = service.move_visit(
            open_store(db),
            visit,
            day=day,
            at=at,
            worker=worker,
            today=today(),
            save=not dry_run,
            by=who(by),
            now=now_local(),
        )
    if as_json:
        print_json(verdict)
    else:
        out.print(render.render_move(verdict))
    if verdict.refused:
        raise typer.Exit(1)


@visit_app.command("pin")
def visit_pin(
    visit: Annotated[str, typer.Argument(metavar="VISIT", help="Visit id.")],
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Pin a visit where it is: re-plans keep it."""
    with handled():
        service.set_pinned(open_store(db), visit, True, by=who(by), now=now_local())
    out.print(f"Pinned {visit}: re-plans keep it where it is.")


@visit_app.command("unpin")
def visit_unpin(
    visit: Annotated[str, typer.Argument(metavar="VISIT", help="Visit id.")],
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Unpin a visit: re-plans may move it again."""
    with handled():
        service.set_pinned(open_store(db), visit, False, by=who(by), now=now_local())
    out.print(f"Unpinned {visit}.")


workers_app = typer.Typer(no_args_is_help=True, help="Workers and their teams.")
app.add_typer(workers_app, name="workers")


@workers_app.command("list")
def workers_list(
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """List workers: id, name, role, team, days, hours and caseload."""
    with handled():
        rows = service.workers_list(open_store(db), today(), team=team)
    if as_json:
        print_json([json.loads(r.model_dump_json()) for r in rows])
        return
    out.print(render.render_workers(rows))


@workers_app.command("edit")
def workers_edit(
    worker_ids: Annotated[
        list[str] | None,
        typer.Argument(metavar="WORKER", help="Worker ids (see `visitplan workers list`)."),
    ] = None,
    in_team: Annotated[
        str | None, typer.Option(metavar="TEAM", help="Every current worker of this team.")
    ] = None,
    days: Annotated[
        str | None,
        typer.Option(metavar="DAYS", help="Working days, e.g. mon-fri or mon,tue,thu."),
    ] = None,
    hours: Annotated[
        str | None, typer.Option(metavar="HH:MM-HH:MM", help="Working hours, e.g. 10:00-18:00.")
    ] = None,
    base: Annotated[
        str | None,
        typer.Option(metavar="POSTCODE", help="Postcode of the office they start from."),
    ] = None,
    team: Annotated[str | None, typer.Option(help="Move them to this team.")] = None,
    role: Annotated[
        str | None,
        typer.Option(help="social-worker, family-support-worker, student or manager."),
    ] = None,
    max_visits: Annotated[
        int | None,
        typer.Option(min=1, max=12, help="Most visits in one day (the authority's otherwise)."),
    ] = None,
    no_max_visits: Annotated[
        bool, typer.Option("--no-max-visits", help="Use the authority's daily cap again.")
    ] = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Set workers' days, hours, base office, team, role or daily cap (after an import, say).

    One worker, several, or a whole team with --in-team; all of them change in one step or
    none do, and each change is kept in the history with who and when. In term time a
    school-age child is seen at home after school, so hours decide how many such visits fit.
    Re-plan afterwards (`visitplan replan`) for the plan to follow.

    Example: visitplan workers edit --in-team D001 --hours 10:00-18:00 --base "BS23 1UJ"
    """
    from policies.models import ROLES
    from scheduler.workforce import (
        WorkerChanges,
        edit_workers,
        parse_days,
        parse_hours,
        team_worker_ids,
    )

    if no_max_visits and max_visits is not None:
        raise typer.BadParameter(
            "give --max-visits or --no-max-visits, not both", param_hint="--no-max-visits"
        )
    with handled():
        changes = WorkerChanges(
            team_id=team,
            role=_choice(role, ROLES, "--role"),
            days=parse_days(days) if days is not None else None,
            hours=parse_hours(hours) if hours is not None else None,
            base_postcode=base,
            max_visits_per_day=max_visits,
            clear_max_visits=no_max_visits,
        )
        store = open_store(db)
        ids = list(worker_ids or ())
        if in_team is not None:
            ids += team_worker_ids(store, in_team)
        changed = edit_workers(store, ids, changes, by=who(by), now=now_local())
    if as_json:
        print_json({"changed": changed})
        return
    if not changed:
        out.print("Nothing changed: the workers already have those facts.")
        return
    for worker_id, fields in changed.items():
        out.print(f"{worker_id}: changed {', '.join(sorted(fields))}")
    out.print(
        f"{len(changed)} worker(s) changed. Re-plan (`visitplan replan`) for the plan to follow."
    )


# ------------------------------------------------------------------ desk users

users_app = typer.Typer(no_args_is_help=True, help="People who sign in to the desk (web).")
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Sign-in name.")],
    role: Annotated[str, typer.Option(help="admin, manager or worker.")],
    team: Annotated[list[str] | None, typer.Option(help="A team they run (repeatable).")] = None,
    worker: Annotated[str | None, typer.Option(help="The worker id a worker account is.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Add someone who signs in to the desk; the password comes from a prompt or
    VISITPLAN_PASSWORD, never from a flag."""
    import os

    from scheduler.accounts import ROLES, add_user

    user_role = _choice(role, ROLES, "--role")
    password = os.environ.get("VISITPLAN_PASSWORD") or typer.prompt(
        "Password", hide_input=True, confirmation_prompt=True, err=True
    )
    with handled():
        user = add_user(
            open_store(db),
            name,
            user_role,
            password,
            now_utc(),
            tuple(team or ()),
            worker,
        )
    teams = f" of {', '.join(user.teams)}" if user.teams else ""
    out.print(f"Added {user.role} {user.name}{teams}.")


@users_app.command("list")
def users_list(db: DbOption = DEFAULT_DB, as_json: JsonFlag = False) -> None:
    """List the desk's users (never their passwords)."""
    with handled():
        users = open_store(db).user_list()
    if as_json:
        print_json([json.loads(u.model_dump_json()) for u in users])
        return
    out.print(render.render_users(users))


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Sign-in name.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """Stop someone signing in; their open sessions end at their next click."""
    from scheduler.accounts import disable_user

    with handled():
        user = disable_user(open_store(db), name)
    out.print(f"Disabled {user.name}.")


def next_monday(day: date) -> date:
    """The Monday after `day` (or `day` itself when it is a Monday)."""
    from datetime import timedelta

    return day + timedelta(days=(7 - day.weekday()) % 7)


def main() -> None:
    """Console-script entry point."""
    app()
