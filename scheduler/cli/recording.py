"""`visitplan record`: visit outcomes, and the follow-up a failed visit needs."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer

from scheduler import render, service
from scheduler.cli.clock import now_local, planning_moment, today
from scheduler.cli.options import (
    DEFAULT_DB,
    ByOption,
    DbOption,
    JsonFlag,
    choice_of,
    parse_day,
    who,
)
from scheduler.cli.output import handled, open_store, out, print_json
from scheduler.cli.planning import _progress, _solve_params, _titles
from scheduler.domain import Outcome, VisitRecord
from scheduler.reports import DueRow

if TYPE_CHECKING:
    from scheduler.replan import ReplanReport
    from scheduler.store import Store

OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


def record(
    visit: Annotated[
        str | None, typer.Argument(help="Visit id (see `visitplan plan show`).")
    ] = None,
    outcome: Annotated[
        Outcome | None,
        typer.Option(parser=choice_of(OUTCOMES), help="completed, failed or not-seen (one visit)."),
    ] = None,
    seen_alone: Annotated[bool, typer.Option("--seen-alone", help="Children seen alone.")] = False,
    bedroom_seen: Annotated[bool, typer.Option("--bedroom-seen", help="Bedroom seen.")] = False,
    seen_awake: Annotated[bool, typer.Option("--seen-awake", help="Baby seen awake.")] = False,
    child: Annotated[
        list[str] | None,
        typer.Option(
            metavar="CHILD",
            help="With --outcome completed: only these children were seen (the others are "
            "recorded as not seen). Not with failed or not-seen, where no child was seen.",
        ),
    ] = None,
    on: Annotated[
        date | None,
        typer.Option(
            metavar="DATE",
            help="Date, if not the planned date (from 7 days before it to today).",
            parser=parse_day,
        ),
    ] = None,
    amend: Annotated[
        bool,
        typer.Option(
            "--amend", help="Correct the visit's recorded outcome (the earlier one is kept)."
        ),
    ] = False,
    day: Annotated[
        date | None,
        typer.Option(
            metavar="DATE",
            help="Record a whole day: every awaiting visit of DATE.",
            parser=parse_day,
        ),
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
            help="After a failed or not-seen visit, propose the re-plan at once (not stored; "
            "with --json, printed as `replan` beside the `records`).",
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

    \b
    One visit:
      visitplan record VISIT --outcome failed
    A whole day, as planned, except two:
      visitplan record --day 2026-12-07 --completed --team t1 --except V1 --except V2
    An export:
      visitplan record --csv outcomes.csv

    Each visit's records (one per child) are written together or not at all, and running the
    same command again changes nothing. A visit has one outcome: to change it, add --amend.
    After a failed or not-seen visit, prints the retry deadline and any escalation (with
    --json, each record's `retries` and `escalations`); `visitplan replan` then plans the
    retry.
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
        _record_day(db, day, team, worker, tuple(except_ or ()), by, as_json)
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
    with handled():
        records = service.record_outcome(
            open_store(db),
            visit,
            outcome,
            seen_alone=seen_alone,
            bedroom_seen=bedroom_seen,
            seen_awake=seen_awake,
            children=tuple(child or ()),
            on=on,
            amend=amend,
            today=today(),
            by=who(by),
            now=now_local(),
        )
    missed = bool(records) and any(r.outcome != "completed" for r in records)
    rows = _follow_up_rows(db, records) if missed else {}
    if as_json:
        shown = [_record_json(r, rows.get(r.child_id)) for r in records]
        if missed and replan_now:
            proposal = _propose_retry(open_store(db), records[0].on, time_limit)
            print_json({"records": shown, "replan": json.loads(proposal.model_dump_json())})
        else:
            print_json(shown)
        return
    verb = "Corrected" if amend else "Recorded"
    for r in records:
        out.print(f"{verb} {r.outcome} for {r.child_id} on {r.on:%a %d %b %Y}")
    if missed:
        _retry_follow_up(db, records, rows, replan_now, time_limit)


def _follow_up_rows(db: str, records: Sequence[VisitRecord]) -> dict[str, DueRow]:
    """The due rows, on the recorded day, of the children not seen at the visit."""
    ids = {r.child_id for r in records if r.outcome != "completed"}
    with handled():
        rows = service.due_report(open_store(db), records[0].on).children
    return {row.child_id: row for row in rows if row.child_id in ids}


def _record_json(record: VisitRecord, row: DueRow | None) -> dict[str, Any]:
    """A record as `record --json` prints it: the record's fields, then the child's retry
    deadlines (`retries`) and escalations after a visit at which they were not seen."""
    retries = [r for r in row.requirements if r.kind == "retry"] if row is not None else []
    return {
        **json.loads(record.model_dump_json()),
        "retries": [
            {
                "rule_id": r.rule_id,
                "due": r.due.isoformat(),
                "avoid_part_of_day": r.avoid_part_of_day,
            }
            for r in retries
        ],
        "escalations": list(row.escalations) if row is not None else [],
    }


def _propose_retry(store: Store, day: date, time_limit: float) -> ReplanReport:
    """The re-plan from the day after a missed visit, proposed (not stored)."""
    from datetime import timedelta

    start = day + timedelta(days=1)
    with handled():
        return service.propose_replan(
            store,
            _solve_params(time_limit, 0),
            today=start,
            from_date=start,
            progress=_progress,
            now=planning_moment(),
        )


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


def _retry_follow_up(
    db: str,
    records: Sequence[VisitRecord],
    rows: Mapping[str, DueRow],
    replan_now: bool,
    time_limit: float,
) -> None:
    """After a failed visit: the retry deadline and escalations, then the re-plan (proposed)."""
    from datetime import timedelta

    day = records[0].on
    store = open_store(db)
    for row in rows.values():
        for req in row.requirements:
            if req.kind == "retry":
                avoid = (
                    f", not in the {req.avoid_part_of_day} where the family's times allow another"
                    if req.avoid_part_of_day
                    else ""
                )
                out.print(f"{row.case_ref}: retry due by {req.due:%a %d %b %Y}{avoid}")
        for escalation in row.escalations:
            out.print(f"{row.case_ref}: ESCALATE: {escalation}")
    start = day + timedelta(days=1)
    if not replan_now:
        out.print(f"Run `visitplan replan --from {start.isoformat()}` to plan the retry.")
        return
    report = _propose_retry(store, day, time_limit)
    with handled():
        scenario = store.read_scenario()
    out.print(render.render_changes(report.changes, scenario, store.worker_names()))
    out.print(render.render_replan_summary(report, scenario, _titles(scenario)))
    out.print(
        f"Nothing has changed yet: run `visitplan replan --from {start.isoformat()} --apply` "
        "to store this plan."
    )
