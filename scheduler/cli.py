"""The `visitplan` command line: the composition root (clock, environment, store, wiring)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar
from zoneinfo import ZoneInfo

import typer
from pydantic import BaseModel, TypeAdapter
from rich.console import Console

if TYPE_CHECKING:
    from scheduler.domain import Scenario
    from solver.params import SolveParams

from policies import PackNotFoundError, PolicyError, load_pack
from policies.models import CATEGORIES, FLAGS, PLACEMENT_TYPES, Category, Flag, PlacementType
from scheduler import render, service
from scheduler.errors import InputError, VisitplanError
from scheduler.scenario_io import read_scenario
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

out = Console(highlight=False, soft_wrap=False)
err = Console(stderr=True, highlight=False)
LONDON = ZoneInfo("Europe/London")
T = TypeVar("T")

DbOption = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="VISITPLAN_DB",
        help="Store URL (any SQLAlchemy URL, e.g. postgresql://...); env VISITPLAN_DB.",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
DEFAULT_DB = "sqlite:///visitplan.db"


def today() -> date:
    """The clock is read here and nowhere else: today in the UK."""
    return datetime.now(LONDON).date()


def parse_date(value: str | None, option: str) -> date | None:
    """An ISO date from the command line, or a usage error naming the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected a date YYYY-MM-DD, got {value!r}", param_hint=option
        ) from None


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
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Load a scenario file into the store, replacing the caseload: all or nothing."""
    with handled():
        counts = service.load_scenario_file(open_store(db), file)
    if as_json:
        print_json(counts)
        return
    out.print("Loaded " + ", ".join(f"{n} {k}" for k, n in counts.items()) + f" into {db}")


@app.command("import")
def import_(
    directory: Annotated[
        Path, typer.Argument(help="Folder of CSV exports (docs/import-format.md).")
    ],
    authority: Annotated[str, typer.Option(help="Policy pack id of the authority.")],
    as_of: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Date the export is correct to (default today)."),
    ] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Import case-system CSV exports (children, households, workers, visits): all or nothing."""
    day = parse_date(as_of, "--as-of") or today()
    with handled():
        counts = service.import_csv_dir(open_store(db), directory, authority, day)
    if as_json:
        print_json(counts)
        return
    out.print("Imported " + ", ".join(f"{n} {k}" for k, n in counts.items()) + f" into {db}")


@app.command()
def due(
    as_of: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date to judge from (default today).")
    ] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """List every child's visit requirements, overdue first, then soonest due."""
    day = parse_date(as_of, "--as-of") or today()
    with handled():
        report = service.due_report(open_store(db), day)
    if as_json:
        print_json(report)
        return
    out.print(render.render_due(report.children, day))


def _choice(value: str | None, allowed: tuple[str, ...], option: str) -> str | None:
    if value is not None and value not in allowed:
        raise typer.BadParameter(f"expected one of {', '.join(allowed)}", param_hint=option)
    return value


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
    failed_on: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date of a failed visit since.")
    ] = None,
    placement_type: Annotated[
        str | None, typer.Option(help="Child in care: placement type.")
    ] = None,
    placement_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Child in care: start of placement.")
    ] = None,
    referral: Annotated[str | None, typer.Option(metavar="DATE", help="Date of referral.")] = None,
    plan_start: Annotated[
        str | None, typer.Option(metavar="DATE", help="Start of the current plan.")
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
    --last-visit 2026-12-14
    """
    _choice(category, CATEGORIES, "--category")
    _choice(placement_type, PLACEMENT_TYPES, "--placement-type")
    for value in flag or []:
        _choice(value, FLAGS, "--flag")
    with handled():
        answer = service.calculate_due_dates(
            authority=authority,
            category=TypeAdapter(Category).validate_python(category),
            as_of=parse_date(as_of, "--as-of") or today(),
            last_visit=parse_date(last_visit, "--last-visit"),
            last_home_visit=parse_date(last_home_visit, "--last-home-visit"),
            last_unannounced=parse_date(last_unannounced, "--last-unannounced"),
            failed_on=parse_date(failed_on, "--failed-on"),
            placement_type=TypeAdapter(PlacementType | None).validate_python(placement_type),
            placement_start=parse_date(placement_start, "--placement-start"),
            referral=parse_date(referral, "--referral"),
            plan_start=parse_date(plan_start, "--plan-start"),
            birth_date=parse_date(birth_date, "--birth-date"),
            flags=TypeAdapter(tuple[Flag, ...]).validate_python(tuple(flag or ())),
        )
    if as_json:
        print_json(answer)
        return
    out.print(render.render_due_dates(answer.requirements))
    if answer.next_due:
        out.print(f"Next visit due by {answer.next_due:%A %d %B %Y}.")
    else:
        out.print("No visiting requirement applies with these facts.")


@app.command()
def record(
    visit: Annotated[str, typer.Argument(help="Visit id from the current plan.")],
    outcome: Annotated[str, typer.Option(help="completed, failed or not-seen.")],
    seen_alone: Annotated[bool, typer.Option("--seen-alone", help="Children seen alone.")] = False,
    bedroom_seen: Annotated[bool, typer.Option("--bedroom-seen", help="Bedroom seen.")] = False,
    seen_awake: Annotated[bool, typer.Option("--seen-awake", help="Baby seen awake.")] = False,
    child: Annotated[list[str] | None, typer.Option(help="Only these children were seen.")] = None,
    on: Annotated[
        str | None, typer.Option(metavar="DATE", help="Date, if not the planned date.")
    ] = None,
    replan_now: Annotated[
        bool,
        typer.Option(
            "--replan",
            help="After a failed or not-seen visit, propose the re-plan at once (not stored).",
        ),
    ] = False,
    time_limit: Annotated[
        float, typer.Option(min=0.1, help="With --replan: solver seconds per team and round.")
    ] = 0.5,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Record what happened at a planned visit (one record per child it covered).

    After a failed or not-seen visit, prints the retry deadline and any escalation; the retry
    is planned by `visitplan replan` (at another time of day, inside the retry window).
    """
    _choice(outcome, ("completed", "failed", "not-seen"), "--outcome")
    with handled():
        records = service.record_outcome(
            open_store(db),
            visit,
            outcome,
            seen_alone,
            bedroom_seen,
            seen_awake,
            tuple(child or ()),
            parse_date(on, "--on"),
        )
    if as_json:
        print_json([json.loads(r.model_dump_json()) for r in records])
        return
    for r in records:
        out.print(f"Recorded {r.outcome} for {r.child_id} on {r.on:%a %d %b %Y}")
    if not records or all(r.outcome == "completed" for r in records):
        return
    _retry_follow_up(db, records, replan_now, time_limit)


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
        report = service.replan_caseload(store, start, _solve_params(time_limit, 0), _progress)
        scenario = store.read_scenario()
    for table in render.render_changes(report, scenario):
        out.print(table)
    out.print(render.render_replan_summary(report, scenario))
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
        int | None, typer.Option(min=1, help="Number of children (overrides size).")
    ] = None,
    authority: Annotated[str, typer.Option(help="Policy pack id.")] = "north-somerset",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same file.")] = 0,
    start: Annotated[
        str | None,
        typer.Option(metavar="DATE", help="Monday the plan starts (default next Monday)."),
    ] = None,
) -> None:
    """Write a realistic synthetic authority as a scenario file."""
    from scheduler.generate import generate as make

    _choice(size, ("S", "M", "L"), "--size")
    day = parse_date(start, "--start") or next_monday(today())
    with handled():
        load_pack(authority)
        scenario = make(
            size,  # type: ignore[arg-type]
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

    from integrations.dav import busy_for_scenario

    current = store.current_plan()
    end = start + timedelta(days=7 * (weeks + 4) - 1)
    with calendar_errors():
        found = busy_for_scenario(scenario, start, end, own=current.visits if current else ())
    _progress(f"read {len(found.busy) - len(scenario.busy)} busy period(s) from CalDAV")
    return found


@app.command()
def plan(
    start: Annotated[
        str | None, typer.Option(metavar="DATE", help="First day (default next Monday).")
    ] = None,
    weeks: Annotated[int, typer.Option(min=1, max=8, help="Weeks to plan.")] = 1,
    time_limit: Annotated[
        float,
        typer.Option(
            min=0.1,
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
    db: DbOption = DEFAULT_DB,
) -> None:
    """Build every worker's visit schedule and store it as the current plan.

    Looks 4 weeks past the horizon so deadlines just after it are planned for. Prints each
    worker's visits and the breaches that capacity did not allow, with reasons.
    """
    day = parse_date(start, "--start") or next_monday(today())
    with handled():
        store = open_store(db)
        scenario = read_scenario(scenario_file) if scenario_file else store.read_scenario()
        if busy_from_caldav:
            scenario = _with_caldav_busy(store, scenario, day, weeks)
        result = service.plan_caseload(
            scenario, day, weeks, _solve_params(time_limit, seed), _progress, processes
        )
        if scenario_file is None:
            store.save_plan(result, datetime.now(LONDON))
    if json_file is not None:
        json_file.write_text(result.model_dump_json(indent=2), encoding="utf-8")
    for table in render.render_plan(result, scenario):
        out.print(table)
    out.print(render.render_breaches(result, scenario))
    out.print(render.render_plan_summary(result, scenario))
    if scenario_file is not None:
        err.print("Planned from a file: the plan was not stored (use --json FILE to keep it).")


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

    Without files it checks the store's current plan against the store's caseload.
    """
    from scheduler.domain import Plan

    if (scenario_file is None) != (plan_file is None):
        raise typer.BadParameter("give both --scenario and --plan, or neither")
    with handled():
        if scenario_file is not None and plan_file is not None:
            scenario = read_scenario(scenario_file)
            try:
                checked = Plan.model_validate_json(plan_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                fail(f"{plan_file}: not a plan file: {exc}", 2)
        else:
            store = open_store(db)
            scenario = store.read_scenario()
            current = store.current_plan()
            if current is None:
                fail("no plan in the store: run `visitplan plan` first", 2)
            checked = current
        report = service.check(scenario, checked)
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
) -> None:
    """Generate a one-team sample authority, plan two weeks and show schedule and compliance."""
    from scheduler.generate import generate as make

    start = next_monday(today())
    out_dir.mkdir(parents=True, exist_ok=True)
    scenario = make("S", seed=seed, start=start)
    (out_dir / "scenario.json").write_text(scenario.model_dump_json(indent=1), encoding="utf-8")
    store = open_store(f"sqlite:///{out_dir / 'visitplan.db'}")
    store.replace_caseload(scenario)
    err.print(
        f"Sample authority: {len(scenario.children)} children in {len(scenario.households)} "
        f"households, {len(scenario.workers)} workers; planning 2 weeks from {start:%a %d %b %Y}."
    )
    result = service.plan_caseload(
        scenario, start, 2, _solve_params(0.4, seed), _progress, processes
    )
    store.save_plan(result, datetime.now(LONDON))
    (out_dir / "plan.json").write_text(result.model_dump_json(indent=2), encoding="utf-8")
    for table in render.render_plan(result, scenario):
        out.print(table)
    out.print(render.render_breaches(result, scenario))
    out.print(render.render_plan_summary(result, scenario))
    report = service.check(scenario, result)
    out.print(render.render_check(report))
    from integrations.ics import write_ics

    paths = write_ics(store, result.visits, scenario, out_dir / "calendars", now_utc())
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
    from integrations.errors import CalendarError, ConfigError

    try:
        yield
    except ConfigError as exc:
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
    from integrations.ics import write_ics

    with handled():
        store = open_store(db)
        plan, scenario = _plan_and_scenario(store)
        paths = write_ics(store, plan.visits, scenario, out_dir, now_utc())
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
    from integrations.dav import connect, publish_plan, read_config

    with handled(), calendar_errors():
        store = open_store(db)
        plan, scenario = _plan_and_scenario(store)
        client = connect(read_config())
        report = publish_plan(client, store, plan.visits, scenario, now_utc(), dry_run=dry_run)
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
    db: DbOption = DEFAULT_DB,
) -> None:
    """Serve workers' ICS subscription feeds at /feeds/TOKEN.ics (see `visitplan feeds issue`)."""
    import uvicorn

    from integrations.feeds import make_app

    with handled():
        store = open_store(db)
    # No access log: feed URLs carry secret tokens.
    uvicorn.run(make_app(lambda: store, now_utc), host=host, port=port, access_log=False)


@feeds_app.command("issue")
def feeds_issue(
    worker: Annotated[str, typer.Argument(metavar="WORKER", help="Worker id.")],
    base_url: FeedBaseOption = "http://127.0.0.1:8080",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Print a new secret feed URL for a worker; any earlier URL of theirs stops working."""
    from integrations.feeds import issue_token

    with handled():
        url = issue_token(open_store(db), worker, now_utc(), base_url)
    out.print(url)


@feeds_app.command("revoke")
def feeds_revoke(
    worker: Annotated[str, typer.Argument(metavar="WORKER", help="Worker id.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """End a worker's feed: their feed URL answers 404 from now on."""
    from integrations.feeds import revoke_token

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
        service.add_absences(store, absences)
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
) -> None:
    """Remove an absence (identified by worker and first day)."""
    first = parse_date(from_, "--from")
    assert first is not None
    with handled():
        removed = open_store(db).remove_absence(worker, first)
    if not removed:
        fail(f"no absence of {worker} starting {first:%d %b %Y}", 2)
    out.print(f"Removed the absence of {worker} from {first:%a %d %b %Y}")


@app.command()
def replan(
    from_: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="Re-plan from this day (default today)."),
    ] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Store the proposal as the current plan.")
    ] = False,
    time_limit: Annotated[
        float,
        typer.Option(
            min=0.1, help="Solver time per team and round, in CP-SAT's deterministic seconds."
        ),
    ] = 0.5,
    seed: Annotated[int, typer.Option(min=0, help="Solver seed.")] = 0,
    processes: Annotated[int | None, _processes_option()] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Re-plan after absences, failed visits or new children, moving as little as possible.

    The absent worker's visits go to colleagues who may do them; every other visit stays
    unless moving it is the only way to avoid a statutory breach. Nothing changes until
    --apply; then run `visitplan publish` to update calendars.
    """
    day = parse_date(from_, "--from") or today()
    with handled():
        store = open_store(db)
        report = service.replan_caseload(
            store,
            day,
            _solve_params(time_limit, seed),
            _progress,
            apply,
            datetime.now(LONDON),
            processes,
        )
        scenario = store.read_scenario()
    if as_json:
        print_json(report)
        return
    for table in render.render_changes(report, scenario):
        out.print(table)
    out.print(render.render_replan_summary(report, scenario))
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
) -> None:
    """Add a new child (a referral or a new placement); then `visitplan replan` plans them.

    Example: visitplan child add c-new --case-ref CR-9 --category child-in-care
    --placement-type foster --placement-start 2026-12-01 --household h-12 --worker w-0003
    """
    from scheduler.domain import Child, ChildEvents, Household

    _choice(category, CATEGORIES, "--category")
    _choice(placement_type, PLACEMENT_TYPES, "--placement-type")
    new_home = None
    if area is not None:
        if lat is None or lon is None:
            raise typer.BadParameter("a new household needs --lat and --lon", param_hint="--area")
        new_home = Household(id=household[0], area=area, lat=lat, lon=lon, team_id=team)
    events = ChildEvents(
        referral=parse_date(referral, "--referral"),
        plan_start=parse_date(plan_start, "--plan-start"),
        placement_start=parse_date(placement_start, "--placement-start"),
    )
    with handled():
        try:
            child = Child(
                id=child_id,
                case_ref=case_ref,
                category=category,  # type: ignore[arg-type]
                placement_type=placement_type,  # type: ignore[arg-type]
                birth_date=parse_date(birth_date, "--birth-date"),
                events=events,
                household_ids=tuple(household),
                allocated_worker=worker,
            )
        except ValueError as exc:
            fail(str(exc), 2)
        service.add_child(open_store(db), child, new_home)
    out.print(f"Added {case_ref} ({category}). Run `visitplan due` or `visitplan replan`.")


def next_monday(day: date) -> date:
    """The Monday after `day` (or `day` itself when it is a Monday)."""
    from datetime import timedelta

    return day + timedelta(days=(7 - day.weekday()) % 7)


def main() -> None:
    """Console-script entry point."""
    app()
