"""`visitplan generate`, `plan`, `check`, `demo`, `replan` and `visit`: the plan."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args
from zoneinfo import ZoneInfo

import typer
from rich.text import Text

if TYPE_CHECKING:
    from scheduler.domain import BusyTime, Plan, Scenario
    from scheduler.replan import VisitChange
    from solver import SolveParams

from policies import load_pack
from scheduler import render, service
from scheduler.cli.calendars import calendar_errors
from scheduler.cli.clock import next_monday, now_local, now_utc, planning_moment, today
from scheduler.cli.options import (
    DEFAULT_DB,
    ByOption,
    DbOption,
    JsonFlag,
    choice_of,
    parse_date,
    parse_day,
    parse_time,
    who,
)
from scheduler.cli.output import err, fail, handled, open_store, out, print_json
from scheduler.errors import OutputPathError
from scheduler.generate import Size
from scheduler.outfile import (
    check_output_file,
    check_output_folder,
    make_output_folder,
    write_output_file,
)
from scheduler.scenario_io import read_plan, read_scenario
from scheduler.store import Store

BREACHES_SHOWN = 20
"""Breaches `plan` and `replan` list before saying how many more there are."""


SIZES: tuple[Size, ...] = get_args(Size)


def generate(
    size: Annotated[
        Size,
        typer.Option(
            parser=choice_of(SIZES), help="S (one team), M (median authority) or L (largest)."
        ),
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
        date | None,
        typer.Option(
            metavar="DATE", help="Monday the plan starts (default next Monday).", parser=parse_day
        ),
    ] = None,
) -> None:
    """Write a realistic synthetic authority as a scenario file."""
    from scheduler.generate import check_start
    from scheduler.generate import generate as make

    day = start or next_monday(today())
    try:
        check_start(day)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--start") from None
    with handled():
        check_output_file(output)
        load_pack(authority)
        scenario = make(
            size,
            seed=seed,
            start=day,
            children=children,
            authority=authority,
        )
        write_output_file(output, scenario.model_dump_json(indent=1))
    err.print(
        f"Wrote {output}: {len(scenario.children)} children, "
        f"{len(scenario.households)} households, {len(scenario.workers)} workers "
        f"in {len(scenario.teams)} teams (seed {seed})."
    )


def progress_for(verbose: bool) -> Callable[[str], None]:
    """Progress on stderr in a manager's words; the solver's own figures (`planning.Detail`
    messages: status, objective, cut rounds, clocks) only with --verbose."""

    def say(message: str) -> None:
        from scheduler.planning import Detail

        if verbose or not isinstance(message, Detail):
            err.print(Text(message, style="dim"))

    return say


_progress = progress_for(False)


def _solve_params(time_limit: float, seed: int) -> SolveParams:
    from solver import SolveParams

    # One CP-SAT worker per team and deterministic limits: the same input and seed give the
    # same plan on any machine and with any --processes.
    return SolveParams(time_limit_s=time_limit, seed=seed, num_workers=1, deterministic=True)


def _processes_option() -> Any:
    return typer.Option(
        min=1, help="Team groups planned at once, one process each (default: the machine's cores)."
    )


def _caldav_busy(
    store: Store, scenario: Scenario, start: date, end: date, workers: set[str] | None = None
) -> tuple[BusyTime, ...]:
    """Workers' (or only `workers`') commitments in their own calendars from `start` to `end`
    that `scenario` does not hold (visitplan's own events there are not commitments)."""
    from scheduler.cli.calendars import calendar_busy

    with calendar_errors():
        found = calendar_busy(store, scenario, start, end, workers)
    _progress(f"read {len(found)} commitment(s) in workers' own calendars")
    return found


def _busy_option() -> Any:
    return typer.Option(
        "--busy-from-caldav",
        help="Plan around workers' existing calendar commitments (VISITPLAN_CALDAV_*).",
    )


plan_app = typer.Typer(
    help="Build the visit plan, or show the current one (`visitplan plan show`).",
)


@plan_app.callback(invoke_without_command=True)
def plan(
    ctx: typer.Context,
    start: Annotated[
        date | None,
        typer.Option(
            metavar="DATE",
            help="First day (default next Monday): this week or up to 8 weeks ahead; a day "
            "already gone plans from today to the end asked for.",
            parser=parse_day,
        ),
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
    busy_from_caldav: Annotated[bool, _busy_option()] = False,
    processes: Annotated[int | None, _processes_option()] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print the solver's figures.")
    ] = False,
    show_all: Annotated[
        bool,
        typer.Option("--all", help=f"List every breach (default: the first {BREACHES_SHOWN})."),
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Plan every day afresh, even days the current plan covers (by default their "
            "published visits are kept, re-planned only where they must change).",
        ),
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
    from scheduler.planning import (
        LOOKAHEAD_WEEKS,
        calendar_window,
        check_in_calendar,
        check_stored_start,
    )

    day = start or next_monday(today())
    window = calendar_window(day, day + timedelta(weeks=weeks, days=-1))
    params = _solve_params(time_limit, seed)
    replaced = None
    kept_until: date | None = None
    changes: tuple[VisitChange, ...] = ()
    dropped = 0
    with handled():
        check_in_calendar(day, 7 * weeks, LOOKAHEAD_WEEKS)
        if scenario_file is None:
            check_stored_start(day, today())
        if json_file is not None:
            check_output_file(json_file)
        if scenario_file is not None and not busy_from_caldav:
            # A scenario file is planned on its own: no store is read, made or written.
            scenario = read_scenario(scenario_file)
            result = service.plan_caseload(
                scenario, day, weeks, params, progress_for(verbose), processes
            )
        elif scenario_file is not None:
            # A scenario file around the calendars' busy times: planned, not stored.
            store = open_store(db, create=True)
            scenario = read_scenario(scenario_file)
            scenario = scenario.with_busy(_caldav_busy(store, scenario, *window))
            result = service.plan_caseload(
                scenario, day, weeks, params, progress_for(verbose), processes
            )
        else:
            store = open_store(db)
            busy: tuple[BusyTime, ...] = ()
            if busy_from_caldav:
                # Read before planning; the plan itself is made from the store as it is then.
                busy = _caldav_busy(store, store.read_scenario(), *window)
            stored = service.plan_store(
                store,
                day,
                weeks,
                params,
                progress=progress_for(verbose),
                by=who(by),
                now=now_local(),
                processes=processes,
                not_before=planning_moment(),
                fresh=fresh,
                busy=busy,
            )
            result, replaced = stored.plan, stored.replaced
            kept_until, changes = stored.published_until, stored.changes
            dropped = stored.dropped
            scenario = store.read_scenario()
    if json_file is not None:
        _write_plan_json(json_file, result, stored=scenario_file is None)
    titles = _titles(scenario)
    # A plan that kept the published visits holds the days before it as history: the tables
    # and the summary are of its own days.
    shown = result.model_copy(
        update={"visits": tuple(v for v in result.visits if v.day >= result.start)}
    )
    for table in render.render_plan(shown, scenario):
        out.print(table)
    limit = None if show_all else BREACHES_SHOWN
    out.print(render.render_breaches(shown, scenario, titles, limit=limit))
    out.print(render.render_plan_summary(shown, scenario, verbose=verbose))
    if scenario_file is None and result.start > day:
        err.print(
            f"note: {day:%a %d %b} has passed, so this plan starts today ({result.start:%a %d %b})"
            f" and runs to {result.end:%a %d %b} as asked: the days gone are history (their "
            "recorded outcomes count)."
        )
    if scenario_file is not None:
        err.print("Planned from a file: the plan was not stored (use --json FILE to keep it).")
    elif replaced:
        err.print(f"This plan replaced the previous current plan ({replaced}).")
    if dropped:
        err.print(
            f"warning: {dropped} visit(s) of the plan it replaced, after {result.end:%a %d %b}, "
            "are not in this plan: `visitplan publish` will cancel them on workers' calendars. "
            "To keep them, plan to the end of those days (more --weeks)."
        )
    if kept_until is not None:
        if changes:
            out.print(render.render_changes(changes, scenario, store.worker_names()))
        err.print(
            f"The visits already published up to {kept_until:%a %d %b} were kept and re-planned "
            f"only where they had to be, as `visitplan replan` does: {len(changes)} changed"
            f"{' (listed above)' if changes else ''}. Run `visitplan publish` to update "
            "workers' calendars."
        )


def _write_plan_json(path: Path, result: Plan, *, stored: bool) -> None:
    """Write the plan to `--json PATH`; a failure after the check says whether it was stored."""
    try:
        write_output_file(path, result.model_dump_json(indent=2))
    except OutputPathError as exc:
        kept = "the plan was stored (`visitplan plan show`)" if stored else "nothing was stored"
        fail(f"{exc}; {kept}", 2)


def _titles(scenario: Any) -> dict[str, str]:
    from scheduler.reports import rule_titles

    return rule_titles(scenario.authority.id)


@plan_app.command("show")
def plan_show(
    team: Annotated[str | None, typer.Option(help="Only this team's visits.")] = None,
    worker: Annotated[str | None, typer.Option(help="Only this worker's visits.")] = None,
    day: Annotated[
        date | None, typer.Option(metavar="DATE", help="Only this day.", parser=parse_day)
    ] = None,
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
        view = service.plan_view(open_store(db), today(), team=team, worker=worker, day=day)
    if as_json:
        print_json(view)
        return
    out.print(render.render_plan_view(view))


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
    if (scenario_file is None) != (plan_file is None):
        raise typer.BadParameter("give both --scenario and --plan, or neither")
    with handled():
        if scenario_file is not None and plan_file is not None:
            scenario = read_scenario(scenario_file)
            report = service.check(scenario, read_plan(plan_file))
        else:
            scenario, report = service.check_current(open_store(db))
    if as_json:
        print_json(report)
    else:
        out.print(render.render_check(report, scenario))
        if scenario_file is None and any(v.code == "unreported-breach" for v in report.hard):
            err.print(
                "The stored plan no longer meets every deadline as it says: an outcome recorded "
                "since it was made (a failed or not-seen visit), a leaver or a change to the "
                "caseload asks more of it. Run `visitplan replan` to plan for it."
            )
    if not report.ok:
        raise typer.Exit(1)


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
    with handled():
        check_output_folder(
            out_dir, files=("scenario.json", "plan.json", "visitplan.db"), folders=("calendars",)
        )
        make_output_folder(out_dir)
        scenario = make("S", seed=seed, start=start)
        write_output_file(out_dir / "scenario.json", scenario.model_dump_json(indent=1))
    database = out_dir / "visitplan.db"
    for stale in (
        database,
        database.with_name("visitplan.db-wal"),
        database.with_name("visitplan.db-shm"),
    ):
        stale.unlink(missing_ok=True)
    with handled():
        store = open_store(f"sqlite:///{database}", create=True)
        store.replace_caseload(scenario, by="demo", now=now_local())
    err.print(
        f"Sample authority: {len(scenario.children)} children in {len(scenario.households)} "
        f"households, {len(scenario.workers)} workers; planning 2 weeks from {start:%a %d %b %Y}."
    )
    result = service.plan_caseload(
        scenario,
        start,
        2,
        _solve_params(0.4, seed),
        progress_for(True) if verbose else None,
        processes,
    )
    store.save_plan(result, now_local(), by="demo")
    with handled():
        write_output_file(out_dir / "plan.json", result.model_dump_json(indent=2))
    titles = _titles(scenario)
    for table in render.render_plan(result, scenario):
        out.print(table)
    out.print(render.render_breaches(result, scenario, titles))
    out.print(render.render_plan_summary(result, scenario, verbose=verbose))
    report = service.check(scenario, result)
    out.print(render.render_check(report, scenario))
    with handled():
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
        f"file(s) in {out_dir}/calendars. Try: visitplan due --db "
        + shlex.quote(str(out_dir / "visitplan.db"))
    )
    if not report.ok:
        raise typer.Exit(1)


def replan(
    from_: Annotated[
        date | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="Re-plan from this day (default: today, or the plan's first day if later).",
            parser=parse_day,
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
    team: Annotated[
        list[str] | None,
        typer.Option(
            "--team",
            help="Re-plan only this team (repeatable), with any teams it shares cover with; "
            "every other team's visits stay as published (default: every team).",
        ),
    ] = None,
    busy_from_caldav: Annotated[bool, _busy_option()] = False,
    processes: Annotated[int | None, _processes_option()] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Also print the solver's figures while it works.")
    ] = False,
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
    day = from_
    with handled():
        store = open_store(db)
        busy: tuple[BusyTime, ...] = ()
        if busy_from_caldav:
            current = store.current_plan()
            if current is not None:
                from scheduler.planning import calendar_window

                window = calendar_window(current.start, current.end)
                busy = _caldav_busy(store, store.read_scenario(), *window)
        report = service.propose_replan(
            store,
            _solve_params(time_limit, seed),
            today=today(),
            from_date=day,
            assume_missed=assume_missed,
            progress=progress_for(verbose),
            processes=processes,
            now=planning_moment(),
            teams=team or None,
            busy=busy,
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
            err.print(
                "Children whose clocks rest on that: " + _listed(report.resting_on_assumption, 30)
            )
    if report.changes:
        out.print(render.render_changes(report.changes, scenario, store.worker_names()))
    else:
        out.print("No change to the published plan.")
    out.print(render.render_replan_summary(report, scenario, _titles(scenario)))
    if report.before_now:
        err.print(
            f"warning: {len(report.before_now)} visit(s) are placed earlier today than now, "
            f"when they can no longer be made as planned: {_listed(report.before_now, 10)}. "
            "Move them by hand (`visitplan visit move`), or re-plan from tomorrow with "
            f"--from {report.from_date + timedelta(days=1)}."
        )
    if not apply:
        out.print("Nothing has changed yet: run again with --apply to store this plan.")
    else:
        out.print("Stored. Run `visitplan publish` to update workers' calendars.")


def _listed(items: Sequence[str], most: int) -> str:
    """The first `most` of `items`, comma-separated, and how many more `--json` gives."""
    more = len(items) - most
    return ", ".join(items[:most]) + (f" and {more} more (see --json)" if more > 0 else "")


visit_app = typer.Typer(no_args_is_help=True, help="Change one visit of the plan by hand.")


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
    busy_from_caldav: Annotated[
        bool,
        typer.Option(
            "--busy-from-caldav",
            help="Also check the move against the workers' own calendars (VISITPLAN_CALDAV_*).",
        ),
    ] = False,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move a visit to another day, time or worker, checked first; the visit is then pinned.

    A move that breaks a hard rule (a deadline, the worker's hours, an absence, the family's
    window...) is refused with the reason and exit 1.
    """
    text_day, _, text_time = to.partition("T")
    day = parse_date(text_day, "--to")
    at = None
    if text_time:
        if len(text_time) != 5 or text_time[2] != ":":
            raise typer.BadParameter(
                f"expected DATE or DATETHH:MM (e.g. 2026-12-03T16:00), got {to!r}",
                param_hint="--to",
            )
        at = parse_time(text_time, "--to")
    assert day is not None
    with handled():
        store = open_store(db)
        scenario = store.read_scenario()
        busy: tuple[BusyTime, ...] = ()
        found = store.find_visit(visit) if busy_from_caldav else None
        if found is not None:
            from scheduler.moves import crew_after

            busy = _caldav_busy(store, scenario, day, day, crew_after(found, worker))
        verdict = service.move_visit(
            store,
            visit,
            day=day,
            at=at,
            worker=worker,
            today=today(),
            save=not dry_run,
            by=who(by),
            now=now_local(),
            busy=busy,
        )
        words = {c.id: c.case_ref for c in scenario.children if c.case_ref}
        words |= store.worker_names() | _titles(scenario)
    if as_json:
        print_json(verdict)
    else:
        out.print(render.render_move(verdict, words, ZoneInfo(scenario.authority.timezone)))
    if verdict.refused:
        raise typer.Exit(1)


@visit_app.command("pin")
def visit_pin(
    visit: Annotated[str, typer.Argument(metavar="VISIT", help="Visit id.")],
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
) -> None:
    """Pin a visit still to be made where it is: re-plans keep it."""
    with handled():
        service.set_pinned(open_store(db), visit, True, today=today(), by=who(by), now=now_local())
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
