"""`visitplan publish`: the plan to workers' CalDAV calendars, and settling conflicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from scheduler.cli.calendars import _plan_and_scenario, calendar_errors
from scheduler.cli.clock import now_utc
from scheduler.cli.options import DEFAULT_DB, DbOption, JsonFlag
from scheduler.cli.output import (
    err,
    fail,
    handled,
    json_failures,
    open_store,
    out,
    print_json,
)

if TYPE_CHECKING:
    from integrations import PublishReport, Resolution

SETTLED = {
    ("overwritten", "changed"): "the plan's version written over someone else's edit",
    ("overwritten", "deleted"): "put back on the calendar after someone else deleted it",
    ("accepted", "changed"): "someone else's edit kept",
    ("accepted", "deleted"): "left off the calendar, as someone else deleted it",
}
MOVED = {
    "overwritten": "the copy someone else edited deleted, as the visit moved to {}",
    "accepted": "the copy someone else edited left as it is; the visit moved to {}",
}


def publish(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change; write nothing.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Settle conflicts by putting the plan's version back over the worker's edit "
            "or deletion.",
        ),
    ] = False,
    accept: Annotated[
        bool,
        typer.Option(
            "--accept",
            help="Settle conflicts by keeping the worker's edit or deletion: it is no longer "
            "reported, and stays until the plan changes that visit.",
        ),
    ] = False,
    workers: Annotated[
        list[str] | None,
        typer.Option(
            "--worker",
            metavar="ID",
            help="With --overwrite or --accept: only the conflicts on this worker's calendar "
            "(repeat it for more).",
        ),
    ] = None,
    visits: Annotated[
        list[str] | None,
        typer.Option(
            "--visit",
            metavar="ID",
            help="With --overwrite or --accept: only the conflicts of this visit (repeat it "
            "for more).",
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Publish the current plan to workers' CalDAV calendars (only changed events are written).

    An event a worker changed or deleted on their own calendar is left as it is and reported
    as a conflict (exit 1). Check it with the worker, then publish again to settle it: with
    --accept to keep the worker's version (an edit stays, a deleted event stays off their
    calendar, until the plan changes that visit), or with --overwrite to put the plan's
    version back. Either settles every conflict, or only those of --worker ID or --visit ID;
    add --dry-run to see first what it would do.

    \b
    Examples:
      visitplan publish --dry-run
      visitplan publish --accept --worker w-0003
      visitplan publish --overwrite --visit v-h-00001-20261207

    The server and credentials come from VISITPLAN_CALDAV_URL, VISITPLAN_CALDAV_USERNAME and
    VISITPLAN_CALDAV_PASSWORD, or ~/.config/visitplan/caldav.toml (or VISITPLAN_CONFIG).
    """
    from integrations import connect, publish_plan, read_config
    from scheduler.feed_source import store_event_context

    with json_failures(as_json), handled(), calendar_errors():
        resolution = chosen_resolution(overwrite, accept, workers or [], visits or [])
        store = open_store(db)
        plan, scenario = _plan_and_scenario(store)
        client = connect(read_config())
        report = publish_plan(
            client,
            store,
            plan.visits,
            scenario,
            now_utc(),
            dry_run=dry_run,
            context=store_event_context(store, scenario, plan.visits),
            resolution=resolution,
        )
    problem = conflicts_message(report) if report.conflicts else None
    if as_json:
        # One whole object, the same shape whether or not there are conflicts.
        print_json(
            report.model_dump(mode="json") | {"error": problem, "exit_code": int(bool(problem))}
        )
    else:
        for line in publish_lines(report, {w.id: w.name for w in scenario.workers}):
            out.print(line, markup=False, soft_wrap=True)
        for line in unmatched(report, resolution):
            err.print(line, markup=False, soft_wrap=True)
    if problem:
        err.print(problem, markup=False, soft_wrap=True)
        raise typer.Exit(1)


def chosen_resolution(
    overwrite: bool, accept: bool, workers: list[str], visits: list[str]
) -> Resolution | None:
    """How this run settles conflicts, from the flags; a usage error (exit 2) when they
    contradict each other."""
    from integrations import Resolution

    if overwrite and accept:
        fail("choose one of --overwrite and --accept, not both", 2)
    if not (overwrite or accept):
        if workers or visits:
            fail(
                "--worker and --visit choose which conflicts --overwrite or --accept settles: "
                "add one of those two",
                2,
            )
        return None
    return Resolution("overwrite" if overwrite else "accept", frozenset(workers), frozenset(visits))


def conflicts_message(report: PublishReport) -> str:
    """What the manager is told about conflicts left: how many, and the commands that settle
    them (for one worker's calendar when they are all on it)."""
    on = sorted({c.worker_id for c in report.conflicts})
    only = f" --worker {on[0]}" if len(on) == 1 else ""
    some = "" if only else "\n(add --worker ID or --visit ID to settle only some of them)"
    return (
        f"{len(report.conflicts)} event(s) were changed or deleted on a worker's calendar by "
        "someone else and were left as they are. Check them with the worker, then either\n"
        f"  keep the worker's version:  visitplan publish --accept{only}\n"
        f"  put the plan's back:        visitplan publish --overwrite{only}{some}"
    )


def unmatched(report: PublishReport, resolution: Resolution | None) -> list[str]:
    """A note for each --worker or --visit that settled nothing (a mistyped id, or nothing to
    settle there)."""
    if resolution is None:
        return []
    settled = [*report.overwritten, *report.accepted]
    notes = [
        f"--worker {w}: no conflict on that worker's calendar"
        for w in sorted(resolution.workers)
        if all(i.worker_id != w for i in settled)
    ]
    notes += [
        f"--visit {v}: no conflict of that visit"
        for v in sorted(resolution.visits)
        if all(i.visit_id != v for i in settled)
    ]
    return notes


def publish_lines(report: PublishReport, names: dict[str, str]) -> list[str]:
    """What a publish did, in a manager's words: the counts, then each visit moved to another
    worker's calendar, each conflict settled and each left, naming the calendar it is on."""

    def calendar(worker_id: str) -> str:
        name = names.get(worker_id)
        return f"{name}'s calendar ({worker_id})" if name else f"{worker_id}'s calendar"

    verb = "Would publish" if report.dry_run else "Published"
    settled = ""
    if report.overwritten or report.accepted:
        settled = f", {len(report.overwritten)} overwritten, {len(report.accepted)} accepted"
    lines = [
        f"{verb}: {len(report.created)} created, {len(report.updated)} updated, "
        f"{len(report.cancelled)} cancelled, {len(report.deleted)} deleted, "
        f"{report.unchanged} unchanged, {len(report.conflicts)} conflict(s){settled}."
    ]
    arrived = {i.uid: i for i in report.created}
    for gone in report.deleted:
        new = arrived.get(gone.uid)
        if new is not None:
            lines.append(
                f"  {gone.visit_id or gone.uid} moved from {calendar(gone.worker_id)} "
                f"to {calendar(new.worker_id)}"
            )
    for kind, items in (("overwritten", report.overwritten), ("accepted", report.accepted)):
        for i in items:
            new = arrived.get(i.uid)
            if new is not None and new.worker_id != i.worker_id:  # left behind by a move
                what = MOVED[kind].format(calendar(new.worker_id))
            else:
                what = SETTLED[kind, i.change or "changed"]
            lines.append(f"  {kind}: {i.visit_id or i.uid} on {calendar(i.worker_id)}: {what}")
    for c in report.conflicts:
        lines.append(f"  conflict: {c.visit_id or c.uid} on {calendar(c.worker_id)}: {c.reason}")
    return lines
