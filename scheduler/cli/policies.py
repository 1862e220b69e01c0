"""`visitplan policies` and `due-date`: the authorities' packs and one child's due dates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from pydantic import TypeAdapter

from policies import load_pack
from policies.models import CATEGORIES, FLAGS, PLACEMENT_TYPES, Category, Event, Flag, PlacementType
from scheduler import render, service
from scheduler.cli.clock import today
from scheduler.cli.options import JsonFlag, _choice, parse_date, parse_period, parse_time
from scheduler.cli.output import handled, out, print_json
from scheduler.domain import PlanFrequency

policies_app = typer.Typer(no_args_is_help=True, help="Authority policy packs and their rules.")


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
