"""Keeping the workforce true: a worker's team, role, days, hours, base office and daily cap,
and a worker who leaves.

Rule: an edit of one or many workers is one short transaction with an audit row per worker
saying who changed what; bad input is refused with a message naming the option, and nothing
is written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, cast

from pydantic import ValidationError

from policies import Role
from scheduler.domain import Visit, Weekday, Worker
from scheduler.errors import InputError, InputProblem, NotFoundError
from scheduler.grid import grid_to_latlon
from scheduler.importer import WEEKDAYS
from scheduler.postcodes import GridRef, PostcodeDirectory
from scheduler.store import Store

_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class WorkerChanges:
    """What to change; None leaves a fact as it is."""

    team_id: str | None = None
    role: Role | None = None
    days: tuple[Weekday, ...] | None = None
    hours: tuple[time, time] | None = None
    base_postcode: str | None = None
    max_visits_per_day: int | None = None
    clear_max_visits: bool = False

    def empty(self) -> bool:
        """True when nothing would change."""
        return self == WorkerChanges()


def _problem(option: str, expected: str, got: str) -> InputProblem:
    return InputProblem("command line", None, option, expected, got)


def parse_days(text: str) -> tuple[Weekday, ...]:
    """Working days from `mon-fri`, `mon,tue,thu` or `mon-wed,fri`, Monday first.

    Raises:
        InputError: a day name is not one of mon..sun, or a range runs backwards.
    """
    expected = "days such as mon-fri or mon,tue,thu (mon tue wed thu fri sat sun)"
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        first, dash, last = part.partition("-")
        if first not in WEEKDAYS or (dash and last not in WEEKDAYS):
            raise InputError([_problem("--days", expected, repr(text[:40]))])
        a = WEEKDAYS.index(first)
        b = WEEKDAYS.index(last) if last else a
        if b < a:
            raise InputError(
                [_problem("--days", expected, f"a range that runs backwards ({part})")]
            )
        days.update(range(a, b + 1))
    return tuple(cast(Weekday, d) for d in sorted(days))


def parse_hours(text: str) -> tuple[time, time]:
    """A working day from `HH:MM-HH:MM`, start before end.

    Raises:
        InputError: not two times, or the day ends before it starts.
    """
    expected = "working hours as HH:MM-HH:MM, start before end (e.g. 10:00-18:00)"
    found = _HOURS.match(text)
    if found is None:
        raise InputError([_problem("--hours", expected, repr(text[:40]))])
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59 or (h1, m1) >= (h2, m2):
        raise InputError([_problem("--hours", expected, repr(text[:40]))])
    return time(h1, m1), time(h2, m2)


def _place(postcode: str, directory: PostcodeDirectory) -> GridRef:
    """The grid reference of an office postcode.

    Raises:
        InputError: the directory cannot place it.
    """
    found = directory.locate(postcode)
    if isinstance(found, GridRef):
        return found
    raise InputError([_problem("--base", found.expected, found.got(postcode))])


def edited(worker: Worker, changes: WorkerChanges, place: GridRef | None) -> Worker:
    """The worker with `changes` applied, validated as a whole.

    Raises:
        InputError: the result is not a valid worker (the option is named, no values).
    """
    update: dict[str, Any] = {}
    if changes.team_id is not None:
        update["team_id"] = changes.team_id
    if changes.role is not None:
        update["role"] = changes.role
    if changes.days is not None:
        update["days"] = changes.days
    if changes.hours is not None:
        update["day_start"], update["day_end"] = changes.hours
    if place is not None:
        lat, lon = grid_to_latlon(place.easting, place.northing)
        update |= {
            "base_lat": round(lat, 6),
            "base_lon": round(lon, 6),
            "base_easting": place.easting,
            "base_northing": place.northing,
        }
    if changes.max_visits_per_day is not None:
        update["max_visits_per_day"] = changes.max_visits_per_day
    if changes.clear_max_visits:
        update["max_visits_per_day"] = None
    data = worker.model_dump() | update
    try:
        return Worker.model_validate(data)
    except ValidationError as exc:
        options = {"days": "--days", "day_start": "--hours", "day_end": "--hours"}
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "worker"
            problems.append(_problem(options.get(name, f"--{name}"), error["msg"], "(not shown)"))
        raise InputError(problems) from None


def edit_workers(
    store: Store,
    worker_ids: Sequence[str],
    changes: WorkerChanges,
    *,
    directory: PostcodeDirectory | None = None,
    by: str = "system",
    now: datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """Apply `changes` to every named worker in one transaction; the fields changed per worker.

    Raises:
        InputError: nothing to change, no worker named, an unknown team or unplaceable base.
        NotFoundError: a worker is unknown or has left.
    """
    if changes.empty():
        raise InputError(
            [_problem("options", "at least one change (--team, --days, --hours, ...)", "none")]
        )
    if not worker_ids:
        raise InputError([_problem("WORKER", "at least one worker id (or --in-team)", "none")])
    place = None
    if changes.base_postcode is not None:
        place = _place(changes.base_postcode, directory or PostcodeDirectory())
    current = {w.id: w for w in store.current_workers()}
    unknown = [w for w in worker_ids if w not in current]
    if unknown:
        raise NotFoundError(
            f"no current worker {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
            + ": see `visitplan workers list`"
        )
    workers = [edited(current[w], changes, place) for w in dict.fromkeys(worker_ids)]
    return store.update_workers(workers, by=by, now=now)


def team_worker_ids(store: Store, team_id: str) -> list[str]:
    """Ids of the current workers of a team.

    Raises:
        NotFoundError: the team has no current workers (or does not exist).
    """
    ids = [w.id for w in store.current_workers(team_id)]
    if not ids:
        raise NotFoundError(
            f"team {team_id!r} has no current workers: see `visitplan workers list`"
        )
    return ids


@dataclass(frozen=True)
class Leaving:
    """What recording a leaver did, and what is left for the manager to do."""

    worker_id: str
    on: date
    children: tuple[str, ...]
    """Children whose allocated worker is now `to`."""
    to: str | None
    other_team: bool
    """`to` is in another team than the leaver (their households stay in their own team)."""
    visits_to_replan: int
    """The leaver's planned visits from today in the current plan (a re-plan moves them)."""
    visits_to_record: int
    """The visits the leaver was to lead from `on` (the day they left, not worked) to
    yesterday with no outcome: they did not take place (re-plans do not assume them made)."""
    sign_ins: tuple[str, ...]
    """Desk sign-ins linked to the leaver, now disabled."""


def worker_leaves(
    store: Store,
    worker_id: str,
    on: date,
    today: date,
    *,
    to: str | None = None,
    by: str = "system",
    now: datetime | None = None,
) -> Leaving:
    """Record that a worker left on `on` (today or before): their open children go to `to`,
    their feed and desk sign-in stop, and from the next plan on they are not planned
    (`Store.worker_leaves`).

    Raises:
        InputError: `on` is after today, the worker still has children and no `to`, or `to`
            is not another current worker; nothing is written.
        NotFoundError: the worker is unknown or has already left.
    """
    if on > today:
        raise InputError(
            [
                _problem(
                    "--on",
                    f"today ({today.isoformat()}) or earlier: until they go, record the days "
                    "they are away with `visitplan absence add`",
                    on.isoformat(),
                )
            ]
        )
    current = {w.id: w for w in store.current_workers()}
    leaver = current.get(worker_id)
    children, users = store.worker_leaves(worker_id, on, to, by=by, now=now)
    plan = store.current_plan()
    visits = plan.visits if plan is not None else ()
    upcoming = sum(
        1
        for v in visits
        if v.status == "planned"
        and v.day >= today
        and worker_id in (v.worker_id, v.second_worker_id)
    )
    other = to is not None and leaver is not None and current[to].team_id != leaver.team_id
    unmade = _unmade(store, visits, worker_id, on, today)
    return Leaving(worker_id, on, children, to, other, upcoming, unmade, users)


def _unmade(store: Store, visits: Sequence[Visit], worker_id: str, on: date, today: date) -> int:
    """The visits the worker was to lead from `on` (the day they left, which they did not
    work) to yesterday that have no outcome: whatever state a re-plan has given them."""
    theirs = [
        v.id
        for v in visits
        if v.worker_id == worker_id and on <= v.day < today and v.status != "cancelled"
    ]
    recorded = store.records_for_visits(theirs)
    return sum(1 for visit_id in theirs if not recorded.get(visit_id))
