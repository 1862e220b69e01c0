"""ICS files and feed bodies: VCALENDARs of a worker's visits, and CalDAV object resources.

Rule: all times are emitted in UTC and all arithmetic is done in UTC. DTSTAMP is the visit's
revision time, never render time. No calendar-level UID anywhere (clients such as vdirsyncer
take it as every event's id and keep one event). What an event says is `events`' business.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event, vDuration
from icalendar.enums import CLASS, STATUS

from integrations.errors import OutputError
from integrations.events import (
    EventContext,
    WorkerEvent,
    event_fields,
    event_uid,
    utc_span,
    worker_events,
)
from integrations.ledger import ENDING, Ledger, Revision, record_revisions, revision_of
from scheduler import (
    LedgerEntry,
    OutputPathError,
    Scenario,
    Visit,
    WorkerId,
    check_output_folder,
    make_output_folder,
    write_output_files,
)

PRODID = "-//visitplan//visitplan calendars//EN"
FEED_REFRESH = timedelta(hours=1)
CANCEL_GRACE = timedelta(days=7)


def build_event(
    visit: Visit,
    scenario: Scenario,
    worker_id: WorkerId,
    revision: Revision,
    *,
    context: EventContext,
) -> Event:
    """The VEVENT of one visit on one worker's calendar at one revision."""
    fields = event_fields(visit, scenario, worker_id, revision.cancelled, context)
    start, end = utc_span(visit)
    stamp = revision.stamp.astimezone(UTC)
    return Event.new(
        uid=fields["uid"],
        start=start,
        end=end,
        stamp=stamp,
        last_modified=stamp,
        sequence=revision.sequence,
        summary=fields["summary"],
        description=fields["description"],
        location=fields["location"] or None,
        status=STATUS.CANCELLED if revision.cancelled else STATUS.CONFIRMED,
        classification=CLASS.CONFIDENTIAL,
    )


def _default_revision(visit: Visit) -> Revision:
    """A deterministic revision for a visit the ledger has not seen (stamp = its start)."""
    return Revision(0, visit.start.astimezone(UTC), visit.status == "cancelled")


def render_calendar(
    visits: Iterable[Visit],
    scenario: Scenario,
    worker_id: WorkerId,
    revisions: Mapping[str, Revision],
    *,
    context: EventContext,
    name: str | None = None,
) -> bytes:
    """One RFC 5545 VCALENDAR (METHOD:PUBLISH) holding the worker's visits, for files and feeds.

    `revisions` is keyed by event UID; a visit without one gets SEQUENCE 0 and its start as
    DTSTAMP. A revision marked cancelled, or a visit whose status is cancelled, is emitted as
    STATUS:CANCELLED. A worker with no visits gets a valid empty calendar. The calendar has no
    UID of its own.
    """
    workers = context.lookups_of(scenario).workers
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    label = name or f"Visits: {workers[worker_id].name if worker_id in workers else worker_id}"
    cal.add("NAME", label)
    cal.add("X-WR-CALNAME", label)
    cal.add("REFRESH-INTERVAL", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", vDuration(FEED_REFRESH))
    chosen: list[tuple[WorkerEvent, Revision]] = []
    for visit in visits:
        for joint in (False, True):
            owner = visit.second_worker_id if joint else visit.worker_id
            if owner != worker_id:
                continue
            uid = event_uid(visit.id, joint)
            revision = revisions.get(uid) or _default_revision(visit)
            if visit.status == "cancelled" and not revision.cancelled:
                revision = Revision(revision.sequence, revision.stamp, True)
            chosen.append((WorkerEvent(uid, worker_id, visit), revision))
    for item, revision in sorted(chosen, key=lambda p: (p[0].visit.start, p[0].uid)):
        cal.add_component(build_event(item.visit, scenario, worker_id, revision, context=context))
    return bytes(cal.to_ical())


def render_object(
    visit: Visit,
    scenario: Scenario,
    worker_id: WorkerId,
    revision: Revision,
    *,
    context: EventContext,
) -> bytes:
    """One CalDAV calendar object resource: no METHOD and no calendar-level UID (RFC 4791)."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add_component(build_event(visit, scenario, worker_id, revision, context=context))
    return bytes(cal.to_ical())


def shown_cancellations(
    entries: Iterable[LedgerEntry], worker_id: WorkerId, now: datetime, cancel_grace: timedelta
) -> list[LedgerEntry]:
    """The worker's events cancelled less than `cancel_grace` before `now`, still shown."""
    return [
        entry
        for entry in entries
        if entry.worker_id == worker_id
        and entry.status in ENDING
        and entry.visit is not None
        and now - revision_of(entry).stamp < cancel_grace
    ]


def worker_calendar(
    entries: Iterable[LedgerEntry],
    visits: Sequence[Visit],
    scenario: Scenario,
    worker_id: WorkerId,
    now: datetime,
    cancel_grace: timedelta = CANCEL_GRACE,
    *,
    context: EventContext,
) -> bytes:
    """The worker's calendar from a revised ledger: planned visits, plus visits cancelled less
    than `cancel_grace` ago (as STATUS:CANCELLED, so clients show them struck through).
    """
    table = {e.uid: e for e in entries}
    revisions = {uid: revision_of(e) for uid, e in table.items()}
    shown = [e.visit for e in worker_events(visits, worker_id)]
    shown.extend(
        e.visit
        for e in shown_cancellations(table.values(), worker_id, now, cancel_grace)
        if e.visit is not None
    )
    unique = {v.id: v for v in shown}
    return render_calendar(unique.values(), scenario, worker_id, revisions, context=context)


def write_ics(
    ledger: Ledger,
    visits: Sequence[Visit],
    scenario: Scenario,
    out_dir: Path,
    now: datetime,
    *,
    context: EventContext,
) -> list[Path]:
    """Write one `<worker id>.ics` per worker into `out_dir`, recording revisions in the ledger.

    All or nothing: the folder and every file's place are checked before the ledger is
    touched, and the files are renamed into place only once every one is written, so a bad
    `out_dir` (or a folder in the way of one file) writes nothing at all.

    Returns:
        The files written, one per worker of the scenario, in worker order.

    Raises:
        OutputError: `out_dir` is not a folder that can be written to, or a file cannot be
            written there.
    """
    names = [f"{_safe_name(worker.id)}.ics" for worker in scenario.workers]
    try:
        check_output_folder(out_dir, files=names)
        make_output_folder(out_dir)
    except OutputPathError as exc:
        raise OutputError(str(exc)) from None
    entries_of: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in record_revisions(ledger, visits, scenario, now, context=context):
        entries_of[entry.worker_id].append(entry)
    visits_of: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        for worker_id in {visit.worker_id, visit.second_worker_id} - {None}:
            visits_of[str(worker_id)].append(visit)
    calendars = {
        name: worker_calendar(
            entries_of[worker.id], visits_of[worker.id], scenario, worker.id, now, context=context
        )
        for name, worker in zip(names, scenario.workers, strict=True)
    }
    try:
        return write_output_files(out_dir, calendars)
    except OutputPathError as exc:
        raise OutputError(str(exc)) from None


def _safe_name(worker_id: str) -> str:
    """A file name for a worker id (letters, digits, dash, underscore and dot kept)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in worker_id) or "worker"
