"""`visitplan policies` and `due-date`: the authorities' packs and one child's due dates."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from policies import FLAGS, PLACEMENT_TYPES, Event, PlacementType, load_pack
from scheduler import render, service
from scheduler.cli.clock import today
from scheduler.cli.options import (
    CategoryOption,
    FlagValue,
    JsonFlag,
    choice_of,
    parse_day,
    parse_frequency,
    parse_time,
)
from scheduler.cli.output import handled, out, print_json

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
    category: CategoryOption,
    last_visit: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Date the child was last seen.", parser=parse_day),
    ] = None,
    last_home_visit: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Last seen at home, if different.", parser=parse_day),
    ] = None,
    last_unannounced: Annotated[
        date | None, typer.Option(metavar="DATE", help="Last unannounced visit.", parser=parse_day)
    ] = None,
    second_home_last_visit: Annotated[
        date | None,
        typer.Option(
            metavar="DATE",
            help="Shared care: last seen at the second home (the last visit was at the first).",
            parser=parse_day,
        ),
    ] = None,
    shared_care: Annotated[
        bool, typer.Option("--shared-care", help="The child lives in two homes.")
    ] = False,
    failed_on: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Date of a failed visit since.", parser=parse_day),
    ] = None,
    failed_at: Annotated[
        str | None,
        typer.Option(
            metavar="HH:MM",
            help="Start of the failed visit: the retry avoids that part of the day.",
        ),
    ] = None,
    placement_type: Annotated[
        PlacementType | None,
        typer.Option(
            parser=choice_of(PLACEMENT_TYPES),
            metavar="PLACEMENT-TYPE",
            help="Child in care: placement type.",
        ),
    ] = None,
    placement_start: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Child in care: start of placement.", parser=parse_day),
    ] = None,
    care_order: Annotated[
        date | None, typer.Option(metavar="DATE", help="Date of the care order.", parser=parse_day)
    ] = None,
    adoption_order: Annotated[
        date | None,
        typer.Option(
            metavar="DATE", help="Adoption order: ends the post-placement visits.", parser=parse_day
        ),
    ] = None,
    notification: Annotated[
        date | None,
        typer.Option(
            metavar="DATE",
            help="Private fostering: date the authority was notified.",
            parser=parse_day,
        ),
    ] = None,
    referral: Annotated[
        date | None, typer.Option(metavar="DATE", help="Date of referral.", parser=parse_day)
    ] = None,
    plan_start: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Start of the current plan.", parser=parse_day),
    ] = None,
    conference: Annotated[
        date | None,
        typer.Option(metavar="DATE", help="Latest child protection conference.", parser=parse_day),
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
        date | None, typer.Option(metavar="DATE", help="Child's date of birth.", parser=parse_day)
    ] = None,
    flag: Annotated[
        list[FlagValue] | None,
        typer.Option(parser=choice_of(FLAGS), metavar="FLAG", help="Child flag (repeatable)."),
    ] = None,
    as_of: Annotated[
        date | None,
        typer.Option(
            metavar="DATE", help="Judge from this date (default today).", parser=parse_day
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Work out when a child is next due a visit, rule by rule, at your desk.

    \b
    Example:
      visitplan due-date --authority camden --category child-protection \\
        --last-visit 2026-12-14 --second-home-last-visit 2026-12-07 \\
        --every "5 working days" --every-source "CP conference 3 Dec"
    """
    if every_source is not None and every is None:
        raise typer.BadParameter(
            "needs --every (the frequency it sets)", param_hint="--every-source"
        )
    if failed_at is not None and failed_on is None:
        raise typer.BadParameter(
            "needs --failed-on (the day of the failed visit)", param_hint="--failed-at"
        )
    events: dict[Event, date | None] = {
        "placement-start": placement_start,
        "care-order": care_order,
        "adoption-order": adoption_order,
        "notification": notification,
        "referral": referral,
        "plan-start": plan_start,
        "conference": conference,
    }
    child = service.DeskChild(
        category=category,
        placement_type=placement_type,
        birth_date=birth_date,
        flags=tuple(flag or ()),
        events={k: v for k, v in events.items() if v is not None},
        last_visit=last_visit,
        last_home_visit=last_home_visit,
        last_unannounced=last_unannounced,
        second_home_last_visit=second_home_last_visit,
        shared_care=shared_care,
        failed_on=failed_on,
        failed_at=parse_time(failed_at, "--failed-at"),
        frequency=None if every is None else parse_frequency(every, every_source),
    )
    with handled():
        answer = service.calculate_due_dates(authority, child, as_of or today())
    if as_json:
        print_json(answer)
        return
    out.print(render.render_due_dates(answer.requirements))
    if answer.next_due:
        out.print(f"Next visit due by {answer.next_due:%A %d %B %Y}.")
    elif answer.uncounted:
        out.print(
            f"No due date yet: {len(answer.uncounted)} rule(s) apply, but each counts from a "
            "date not given. Give --last-visit, or the start the rules count from "
            "(--plan-start, --placement-start or --referral)."
        )
    else:
        out.print("No visiting requirement applies with these facts.")
    avoid = next((r.avoid_part_of_day for r in answer.requirements if r.avoid_part_of_day), None)
    if avoid:
        out.print(f"After the failed visit, plan the next one outside the {avoid}.")
    elif failed_on is not None and failed_at is None:
        out.print("Give --failed-at HH:MM to see which part of the day the retry must avoid.")
