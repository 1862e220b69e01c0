"""`visitplan export-ics` and `feeds`, and the calendar helpers `publish` and the desk share."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from scheduler.cli.clock import now_utc
from scheduler.cli.options import DEFAULT_DB, DbOption, JsonFlag
from scheduler.cli.output import fail, handled, open_store, out, print_json
from scheduler.postcodes import ATTRIBUTION
from scheduler.store import Store

if TYPE_CHECKING:
    from scheduler.domain import BusyTime, Scenario

# ------------------------------------------------------------------ calendars

feeds_app = typer.Typer(no_args_is_help=True, help="ICS subscription feeds per worker.")


def checked_base_url(value: str) -> str:
    """The feeds' public address: http(s)://host[:port][/path], no query or fragment (a feed
    URL is this plus /feeds/TOKEN.ics, so anything else would print a broken link)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - reading it checks the port is a number in range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise typer.BadParameter(
            f"expected an address such as https://visits.example.gov.uk, got {value!r}"
        )
    if parts.query or parts.fragment:
        raise typer.BadParameter(f"expected an address with no ? or # part, got {value!r}")
    return value


FeedBaseOption = Annotated[
    str,
    typer.Option(
        "--base-url",
        envvar="VISITPLAN_FEED_BASE_URL",
        callback=checked_base_url,
        help="Public address of `visitplan serve`; env VISITPLAN_FEED_BASE_URL.",
    ),
]


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


def export_ics(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for one .ics file per worker.")],
    db: DbOption = DEFAULT_DB,
    as_json: JsonFlag = False,
) -> None:
    """Write each worker's visits in the current plan as an ICS file."""
    from integrations import write_ics
    from scheduler.feed_source import store_event_context

    with handled(), calendar_errors():
        store = open_store(db)
        plan, scenario = _plan_and_scenario(store)
        context = store_event_context(store, scenario, plan.visits)
        paths = write_ics(store, plan.visits, scenario, out_dir, now_utc(), context=context)
    if as_json:
        print_json([str(p) for p in paths])
        return
    out.print(f"Wrote {len(paths)} calendar file(s) to {out_dir}")


def _publisher(store: Store, now: datetime, settle: Any = None) -> Any:
    """Publish the current plan to CalDAV for the desk, settling the conflicts `settle` (a
    `scheduler.web.context.Settle`) names as `visitplan publish --overwrite|--accept` does;
    failures become a manager's message."""
    from integrations import CalendarError, Resolution, connect, publish_plan, read_config
    from scheduler.feed_source import store_event_context
    from scheduler.web.context import CalendarUnavailableError, PublishCounts

    plan = store.current_plan()
    if plan is None:
        raise CalendarUnavailableError("there is no plan to publish")
    resolution = None
    if settle is not None:
        resolution = (
            Resolution(settle.action, workers=frozenset({settle.worker_id}))
            if settle.uid is None
            else Resolution(settle.action, events=frozenset({(settle.uid, settle.worker_id)}))
        )
    try:
        scenario = store.read_scenario()
        report = publish_plan(
            connect(read_config()),
            store,
            plan.visits,
            scenario,
            now,
            context=store_event_context(store, scenario, plan.visits),
            resolution=resolution,
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
        conflict_events=_events(report.conflicts),
        overwritten=_events(report.overwritten),
        accepted=_events(report.accepted),
    )


def calendar_busy(
    store: Store,
    scenario: Scenario,
    start: date,
    end: date,
    workers: Collection[str] | None = None,
) -> tuple[BusyTime, ...]:
    """The commitments in workers' (or only `workers`') own calendars from `start` to `end`
    that `scenario` does not hold already (only workers with a calendar address are read).
    visitplan's own events there are not commitments: the current plan's visits and each
    event as last published.

    Raises:
        CalendarError: the calendars could not be read (the message says why).
    """
    from integrations import busy_for_scenario, on_calendars

    current = store.current_plan()
    own = [*(current.visits if current else ()), *on_calendars(store.ledger_all())]
    read = scenario
    if workers is not None:
        read = scenario.model_copy(
            update={"workers": tuple(w for w in scenario.workers if w.id in workers)}
        )
    return busy_for_scenario(read, start, end, own=own).busy[len(read.busy) :]


def _busy_reader(
    store: Store, start: date, end: date, workers: Collection[str] | None = None
) -> tuple[BusyTime, ...]:
    """Workers' commitments in their own calendars, for the desk's re-plan preview and hand
    moves; failures become a manager's message."""
    from integrations import CalendarError
    from scheduler.web.context import CalendarUnavailableError

    try:
        return calendar_busy(store, store.read_scenario(), start, end, workers)
    except CalendarError as exc:
        raise CalendarUnavailableError(f"the calendar server said no: {exc}") from exc


def _events(items: Any) -> tuple[Any, ...]:
    """A report's items as the desk's `CalendarEvent`s."""
    from scheduler.web.context import CalendarEvent

    return tuple(
        CalendarEvent(
            uid=i.uid,
            visit_id=i.visit_id,
            worker_id=i.worker_id,
            change=i.change or "changed",
            cancelled="after it was cancelled" in (i.reason or ""),
        )
        for i in items
    )


def _attribution() -> str:
    """The postcode data attribution the ONS licence asks for, in the desk's footer."""

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
