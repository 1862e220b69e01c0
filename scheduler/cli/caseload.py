"""`visitplan schema`, `due`, `child`, `absence`, `workers` and `history`: the caseload."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import typer

from policies import CATEGORIES, FLAGS, PLACEMENT_TYPES, ROLES, Category, PlacementType, Role
from scheduler import render, service
from scheduler.cli.clock import now_local, today
from scheduler.cli.options import (
    DEFAULT_DB,
    ByOption,
    CategoryOption,
    DbOption,
    FlagValue,
    JsonFlag,
    choice_of,
    parse_day,
    parse_frequency,
    who,
)
from scheduler.cli.output import err, fail, handled, open_store, out, print_json
from scheduler.domain import MAX_VISITS_PER_DAY, Absence
from scheduler.errors import InputError
from scheduler.reports import ChildState

DueState = Literal["overdue", "awaiting", "soon", "on-track"]
DUE_STATES: tuple[DueState, ...] = get_args(DueState)

child_app = typer.Typer(no_args_is_help=True, help="Children on the caseload.")
absence_app = typer.Typer(no_args_is_help=True, help="Worker absences (leave, sickness, court).")


ChildArgument = Annotated[
    str,
    typer.Argument(metavar="CHILD", help="The child's id, or case reference (as `due` shows)."),
]


def schema() -> None:
    """Print the JSON Schema of the scenario file (the input of one planning run)."""
    from scheduler.domain import Scenario

    print_json(Scenario.model_json_schema())


def due(
    as_of: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Date to judge from (default today).", parser=parse_day),
    ] = None,
    team: Annotated[str | None, typer.Option(help="Only this team's children.")] = None,
    worker: Annotated[
        str | None, typer.Option(help="Only children allocated to this worker.")
    ] = None,
    category: Annotated[
        Category | None,
        typer.Option(parser=choice_of(CATEGORIES), metavar="CATEGORY", help="Only this category."),
    ] = None,
    state: Annotated[
        DueState | None,
        typer.Option(
            parser=choice_of(DUE_STATES),
            help="Only children in this state: overdue, awaiting, soon or on-track.",
        ),
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

    day = as_of or today()
    states: dict[DueState, ChildState] = {
        "overdue": "overdue",
        "awaiting": "awaiting outcome",
        "soon": "due soon",
        "on-track": "on track",
    }
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


@absence_app.command("add")
def absence_add(
    worker: Annotated[str | None, typer.Argument(help="Worker id.")] = None,
    from_: Annotated[
        date | None,
        typer.Option("--from", metavar="DATE", help="First day away.", parser=parse_day),
    ] = None,
    to: Annotated[
        date | None,
        typer.Option("--to", metavar="DATE", help="Last day away (inclusive).", parser=parse_day),
    ] = None,
    reason: Annotated[str, typer.Option(help="leave, sickness, training, court ...")] = "leave",
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="CSV of absences: worker_id,start,end,reason.")
    ] = None,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record that a worker is away (or many, from a CSV file). Then run `visitplan replan`.

    An absence never replaces another: one with a day in common with another absence of the
    worker is refused, naming that one; remove it first with `visitplan absence remove`.
    Running the same command again changes nothing.
    """
    with handled():
        store = open_store(db)
        if csv_file is not None:
            workers = {w.id for w in store.read_scenario().workers}
            rows = service.read_absence_rows(csv_file, workers)
            absences = tuple(a for _, a in rows)
            added = service.add_absences(
                store,
                absences,
                by=who(by),
                now=now_local(),
                source=csv_file.name,
                field="start",
                rows=[n for n, _ in rows],
            )
        else:
            absences = (_one_absence(worker, from_, to, reason),)
            added = service.add_absences(
                store,
                absences,
                by=who(by),
                now=now_local(),
                source="command line",
                field="--from",
            )
        names = store.worker_names()
    if as_json:
        print_json(
            {
                "added": [json.loads(a.model_dump_json()) for a in added],
                "already": [json.loads(a.model_dump_json()) for a in absences if a not in added],
            }
        )
        return
    for a in absences:
        who_ = f"{names[a.worker_id]} ({a.worker_id})" if a.worker_id in names else a.worker_id
        verb = "Recorded" if a in added else "Already recorded:"
        out.print(f"{verb} {a.reason} for {who_}: {render.day_span(a.start, a.end)}")
    past = [a for a in added if a.end < today()]
    if past:
        err.print(
            f"note: {len(past)} of these absence(s) ended before today, so they change only "
            "how past days are read (a visit on them with no outcome is not taken as made). "
            "If a year was mistyped, take it out with `visitplan absence remove`."
        )


def _one_absence(worker: str | None, first: date | None, last: date | None, reason: str) -> Absence:
    """`absence add WORKER --from DATE [--to DATE]` as an absence (usage errors exit 2)."""
    if worker is None or first is None:
        raise typer.BadParameter("give WORKER --from DATE [--to DATE], or --csv FILE")
    last = last or first
    if last < first:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    if not reason.strip():
        raise typer.BadParameter(
            "say why in a word (leave, sickness, court ...)", param_hint="--reason"
        )
    return Absence(worker_id=worker, start=first, end=last, reason=reason)


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
        date,
        typer.Option(
            "--from", metavar="DATE", help="First day of the absence to remove.", parser=parse_day
        ),
    ],
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove an absence (identified by worker and first day)."""
    first = from_
    assert first is not None
    with handled():
        removed = open_store(db).remove_absence(worker, first, by=who(by), now=now_local())
    if not removed:
        fail(f"no absence of {worker} starting {first:%d %b %Y}", 2)
    if as_json:
        print_json({"removed": {"worker_id": worker, "start": first.isoformat()}})
        return
    out.print(f"Removed the absence of {worker} from {first:%a %d %b %Y}")


@child_app.command("add")
def child_add(
    child_id: Annotated[str, typer.Argument(metavar="CHILD", help="New child's id.")],
    case_ref: Annotated[str, typer.Option(help="Case reference shown on calendars.")],
    category: CategoryOption,
    household: Annotated[list[str], typer.Option(help="Household id (twice for shared care).")],
    worker: Annotated[str | None, typer.Option(help="Allocated worker id.")] = None,
    birth_date: Annotated[
        date | None, typer.Option(metavar="DATE", help="Date of birth.", parser=parse_day)
    ] = None,
    referral: Annotated[
        date | None, typer.Option(metavar="DATE", help="Date of referral.", parser=parse_day)
    ] = None,
    plan_start: Annotated[
        date | None, typer.Option(metavar="DATE", help="Start of the plan.", parser=parse_day)
    ] = None,
    placement_type: Annotated[
        PlacementType | None,
        typer.Option(
            parser=choice_of(PLACEMENT_TYPES), metavar="PLACEMENT-TYPE", help="Child in care: type."
        ),
    ] = None,
    placement_start: Annotated[
        date | None, typer.Option(metavar="DATE", help="Child in care: start.", parser=parse_day)
    ] = None,
    area: Annotated[
        str | None, typer.Option(help="Create the (first) household in this area.")
    ] = None,
    lat: Annotated[float | None, typer.Option(help="New household's latitude.")] = None,
    lon: Annotated[float | None, typer.Option(help="New household's longitude.")] = None,
    team: Annotated[str | None, typer.Option(help="New household's team.")] = None,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Add a new child (a referral or a new placement); then `visitplan replan` plans them.

    \b
    Example:
      visitplan child add c-new --case-ref CR-9 --category child-in-care \\
        --placement-type foster --placement-start 2026-12-01 --household h-12 --worker w-0003

    Refused, with nothing written: a child in care without --placement-type, a new household
    (--area) without --team or coordinates, a duplicate id or case reference, an unknown
    household or worker.
    """
    from scheduler.caseload import new_child
    from scheduler.domain import ChildEvents

    with handled():
        new_home = _new_home(household[0], area, lat, lon, team)
        events = ChildEvents(
            referral=referral,
            plan_start=plan_start,
            placement_start=placement_start,
        )
        child = new_child(
            id=child_id,
            case_ref=case_ref,
            category=category,
            placement_type=placement_type,
            birth_date=birth_date,
            events=events,
            household_ids=tuple(household),
            allocated_worker=worker,
        )
        service.add_child(open_store(db), child, new_home, by=who(by), now=now_local())
    if as_json:
        added = {"child_id": child.id, "case_ref": child.case_ref, "category": child.category}
        print_json({"added": added, "household_ids": list(child.household_ids)})
        return
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
    child_id: ChildArgument,
    category: Annotated[
        Category | None,
        typer.Option(parser=choice_of(CATEGORIES), metavar="CATEGORY", help="New category."),
    ] = None,
    placement_type: Annotated[
        PlacementType | None,
        typer.Option(
            parser=choice_of(PLACEMENT_TYPES), metavar="PLACEMENT-TYPE", help="Child in care: type."
        ),
    ] = None,
    placement_start: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Child in care: start of placement.", parser=parse_day),
    ] = None,
    plan_start: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Start of the current plan.", parser=parse_day),
    ] = None,
    referral: Annotated[
        date | None, typer.Option(metavar="DATE", help="Date of referral.", parser=parse_day)
    ] = None,
    conference: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Latest child protection conference.", parser=parse_day),
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
    flag: Annotated[
        list[FlagValue] | None,
        typer.Option(parser=choice_of(FLAGS), metavar="FLAG", help="Add a flag (repeatable)."),
    ] = None,
    remove_flag: Annotated[
        list[FlagValue] | None,
        typer.Option(parser=choice_of(FLAGS), metavar="FLAG", help="Remove a flag (repeatable)."),
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

    \b
    Example:
      visitplan child edit c-0042 --category child-protection --plan-start 2026-12-03 \\
        --reason "initial conference"
    """
    add_flags = tuple(flag or ())
    remove_flags = tuple(remove_flag or ())
    if (area is None) != (new_household is None):
        raise typer.BadParameter("a new home needs both --new-household ID and --area")
    if every_source is not None and every is None:
        raise typer.BadParameter(
            "needs --every (the frequency it sets)", param_hint="--every-source"
        )
    if no_every and every is not None:
        raise typer.BadParameter("give --every or --no-every, not both", param_hint="--no-every")
    if unallocate and worker is not None:
        raise typer.BadParameter(
            "give --worker or --unallocate, not both", param_hint="--unallocate"
        )
    both = sorted(set(add_flags) & set(remove_flags))
    if both:
        raise typer.BadParameter(
            f"{', '.join(both)} is both added and removed: give it once", param_hint="--remove-flag"
        )
    if reason is not None and not reason.strip():
        raise typer.BadParameter(
            "give the reason in words, or leave --reason out", param_hint="--reason"
        )
    frequency = None if every is None else parse_frequency(every, every_source)
    with handled():
        home = _new_home(new_household, area, lat, lon, team) if new_household else None
        store = open_store(db)
        child_id = service.child_named(store, child_id)
        changed = service.edit_child(
            store,
            child_id,
            category=category,
            placement_type=placement_type,
            placement_start=placement_start,
            plan_start=plan_start,
            referral=referral,
            conference=conference,
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
    child_id: ChildArgument,
    on: Annotated[
        date, typer.Option(metavar="DATE", help="Date the case closed.", parser=parse_day)
    ],
    reason: Annotated[str, typer.Option(help="Why the case closed.")],
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Close a child's case: no visits after the closing date; the history is kept.

    The child's planned visits after that day are taken off the current plan (a visit to no
    one else is cancelled; `visitplan publish` cancels it on the calendar).
    """
    day = on
    assert day is not None
    with handled():
        store = open_store(db)
        child_id = service.child_named(store, child_id)
        service.close_child(
            store, child_id, day, reason, today=today(), by=who(by), now=now_local()
        )
    if as_json:
        print_json({"closed": {"child_id": child_id, "on": day.isoformat(), "reason": reason}})
        return
    out.print(f"Closed {child_id} on {day:%a %d %b %Y}. Its history is kept (`visitplan history`).")


def history(
    child_id: ChildArgument,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """A child's history: every edit with who and when, visit records and their corrections."""
    with handled():
        store = open_store(db)
        found = service.child_history(store, service.child_named(store, child_id))
    if as_json:
        print_json(found)
        return
    for table in render.render_history(found):
        out.print(table)


workers_app = typer.Typer(no_args_is_help=True, help="Workers and their teams.")


@workers_app.command("list")
def workers_list(
    team: Annotated[str | None, typer.Option(help="Only this team.")] = None,
    left: Annotated[
        bool, typer.Option("--left", help="The workers who have left, with the day each left.")
    ] = False,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """List workers: id, name, role, team, days, hours and caseload (--left: who has left)."""
    with handled():
        rows = service.workers_list(open_store(db), today(), team=team, left=left)
    if as_json:
        print_json([json.loads(r.model_dump_json()) for r in rows])
        return
    if left and not rows:
        out.print("No worker has left." if team is None else f"No worker of {team} has left.")
        return
    out.print(render.render_workers(rows, left))


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
        Role | None,
        typer.Option(
            parser=choice_of(ROLES),
            help="social-worker, family-support-worker, student or manager.",
        ),
    ] = None,
    max_visits: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=MAX_VISITS_PER_DAY,
            help="Most visits in one day (the authority's otherwise).",
        ),
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

    \b
    Example:
      visitplan workers edit --in-team D001 --hours 10:00-18:00 --base "BS23 1UJ"
    """
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
            role=role,
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


@workers_app.command("leave")
def workers_leave(
    worker_id: Annotated[
        str,
        typer.Argument(metavar="WORKER", help="The worker who left (`visitplan workers list`)."),
    ],
    to: Annotated[
        str | None,
        typer.Option(
            metavar="WORKER",
            help="The colleague who becomes the allocated worker of their open children.",
        ),
    ] = None,
    on: Annotated[
        date | None,
        typer.Option(
            metavar="DATE",
            help="The day they left: the first day they did not work (default: today; not "
            "in the future). Their visits from that day did not take place.",
            parser=parse_day,
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
    by: ByOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Record that a worker has left: their children go to a colleague, their feed stops.

    In one step: every open child allocated to them gets the colleague named by --to (each
    change kept in the child's history), their calendar feed is revoked, desk sign-ins
    linked to them are disabled, and plans from now on leave them out. Their records and
    history are kept. Re-plan (`visitplan replan`) to give their planned visits to
    colleagues. Someone leaving later: record the days they are away with `visitplan absence
    add` until then.

    \b
    Example:
      visitplan workers leave W014 --to W009
    """
    from scheduler.workforce import worker_leaves

    with handled():
        done = worker_leaves(
            open_store(db), worker_id, on or today(), today(), to=to, by=who(by), now=now_local()
        )
    if as_json:
        print_json(
            {
                "worker_id": done.worker_id,
                "left_on": done.on.isoformat(),
                "to": done.to,
                "children": list(done.children),
                "other_team": done.other_team,
                "visits_to_replan": done.visits_to_replan,
                "visits_to_record": done.visits_to_record,
                "sign_ins_disabled": list(done.sign_ins),
            }
        )
        return
    out.print(f"{done.worker_id} left on {done.on:%a %d %b %Y}; their calendar feed is stopped.")
    if done.sign_ins:
        out.print(f"Desk sign-in disabled: {', '.join(done.sign_ins)}.")
    if done.children:
        out.print(f"{len(done.children)} children now have {done.to} as their allocated worker.")
    if done.other_team:
        out.print(
            f"Note: {done.to} is in another team; the children's households stay in their team "
            "(move them with `visitplan child edit` if they should follow)."
        )
    if done.visits_to_record:
        out.print(
            f"{done.visits_to_record} visit(s) they were to make from {done.on:%a %d %b} (the "
            "day they left, which they did not work) have no outcome: they did not take place, "
            "so re-plans and `visitplan check` do not count them as made. Record what happened "
            "at each (`visitplan record VISIT --outcome ...`): its children show as awaiting "
            "an outcome until then."
        )
    if done.visits_to_replan:
        out.print(
            f"{done.visits_to_replan} of their visits are planned from today: run "
            "`visitplan replan` to give them to colleagues."
        )
