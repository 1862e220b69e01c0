"""ICS rendering of visits, and the revision rules (UID, SEQUENCE, DTSTAMP) shared by export,
feeds and CalDAV publishing.

Rule: an event carries the case reference, the checklist and the area, never a child's name
or an address unless the authority's privacy settings opt in. All times are emitted in UTC
and all arithmetic is done in UTC. DTSTAMP is the visit's revision time, never render time.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from icalendar import Calendar, Event, vDuration
from icalendar.enums import CLASS, STATUS

from scheduler.domain import (
    Child,
    Household,
    LedgerEntry,
    Scenario,
    Visit,
    VisitId,
    Worker,
    WorkerId,
)

if TYPE_CHECKING:
    from typing import Protocol

    class LedgerReader(Protocol):
        """The part of the store's ledger that rendering needs."""

        def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]: ...

        def ledger_put(self, entry: LedgerEntry) -> None: ...


UID_DOMAIN = "visitplan"
UID_SUFFIX = f"@{UID_DOMAIN}"
PRODID = "-//visitplan//visitplan calendars//EN"
FEED_REFRESH = timedelta(hours=1)
CANCEL_GRACE = timedelta(days=7)

# Ledger statuses: what the CalDAV server holds for an event UID.
PENDING = "pending"  # a revision not yet written to the server
PUBLISHED = "published"  # the server holds the current revision
CANCELLING = "cancelling"  # the visit was removed; the CANCELLED revision is not yet written
CANCELLED = "cancelled"  # the server holds the CANCELLED revision, to be deleted after a grace
DELETED = "deleted"  # gone from the server; the entry keeps SEQUENCE monotonic
LIVE = (PENDING, PUBLISHED)
ENDING = (CANCELLING, CANCELLED)


@dataclass(frozen=True)
class Revision:
    """One revision of an event: its SEQUENCE, its DTSTAMP and whether it is cancelled."""

    sequence: int
    stamp: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class WorkerEvent:
    """One visit as it appears on one worker's calendar (joint visits appear on two)."""

    uid: str
    worker_id: WorkerId
    visit: Visit


def event_uid(visit_id: VisitId, joint: bool = False) -> str:
    """The event UID of a visit, fixed for its life; the second worker's copy has its own."""
    return f"{visit_id}.joint{UID_SUFFIX}" if joint else f"{visit_id}{UID_SUFFIX}"


def is_ours(uid: str) -> bool:
    """True for the UID of an event visitplan published."""
    return uid.endswith(UID_SUFFIX)


def worker_events(visits: Iterable[Visit], worker_id: WorkerId | None = None) -> list[WorkerEvent]:
    """The calendar events of the visits, of one worker or of all, in visit order."""
    events: list[WorkerEvent] = []
    for visit in visits:
        if visit.status == "cancelled":
            continue
        if worker_id in (None, visit.worker_id):
            events.append(WorkerEvent(event_uid(visit.id), visit.worker_id, visit))
        if visit.second_worker_id and worker_id in (None, visit.second_worker_id):
            events.append(WorkerEvent(event_uid(visit.id, True), visit.second_worker_id, visit))
    return events


def utc_span(visit: Visit) -> tuple[datetime, datetime]:
    """Start and end of the visit in UTC; the end is computed in UTC, so DST cannot stretch it."""
    start = visit.start.astimezone(UTC)
    return start, start + timedelta(minutes=visit.duration_min)


_LOOKUPS: dict[int, tuple[Scenario, dict[str, Child], dict[str, Household], dict[str, Worker]]] = {}


def _lookups(
    scenario: Scenario,
) -> tuple[dict[str, Child], dict[str, Household], dict[str, Worker]]:
    """Children, households and workers by id, built once per scenario object."""
    cached = _LOOKUPS.get(id(scenario))
    if cached is None or cached[0] is not scenario:
        _LOOKUPS.clear()
        cached = (
            scenario,
            {c.id: c for c in scenario.children},
            {h.id: h for h in scenario.households},
            {w.id: w for w in scenario.workers},
        )
        _LOOKUPS[id(scenario)] = cached
    return cached[1], cached[2], cached[3]


def _fields(
    visit: Visit, scenario: Scenario, worker_id: WorkerId, cancelled: bool
) -> dict[str, str]:
    """The calendar-relevant text of an event; its hash decides whether SEQUENCE rises."""
    children, households, workers = _lookups(scenario)
    privacy = scenario.authority.privacy
    refs = [children[c].case_ref if c in children else c for c in visit.child_ids]
    kind = "Visit" if visit.announced else "Unannounced visit"
    summary = f"{kind} {refs[0]}" + (f" (+{len(refs) - 1})" if len(refs) > 1 else "")
    if visit.second_worker_id:
        summary += " (joint)"
    household = households.get(visit.household_id)
    location = household.area if household else ""
    if household and privacy.show_address and household.address:
        location = f"{household.address} ({household.area})"
    lines = [f"Case references: {', '.join(refs)}"]
    if privacy.show_names:
        names = [children[c].name for c in visit.child_ids if c in children and children[c].name]
        if names:
            lines.append(f"Children: {', '.join(str(n) for n in names)}")
    if not visit.announced:
        lines.append("Unannounced: do not tell the family beforehand.")
    if visit.second_worker_id:
        other = visit.second_worker_id if worker_id == visit.worker_id else visit.worker_id
        lines.append(f"Joint visit with {workers[other].name if other in workers else other}.")
    if visit.checklist:
        lines.append("Checklist:")
        lines.extend(f"- {item}" for item in visit.checklist)
    if visit.due:
        lines.append(f"Due by: {visit.due.isoformat()}")
    if visit.rule_ids:
        lines.append(f"Rules: {', '.join(visit.rule_ids)}")
    if visit.reasons:
        lines.append("Why:")
        for r in visit.reasons:
            ref = children[r.child_id].case_ref if r.child_id in children else r.child_id
            slack = f"{r.slack_days} day(s) to spare" if r.slack_days >= 0 else "late"
            lines.append(f"- {ref}: {r.rule_id}, due {r.due:%a %d %b %Y} ({slack})")
    start, end = utc_span(visit)
    return {
        "uid": event_uid(visit.id, worker_id != visit.worker_id),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "status": "CANCELLED" if cancelled else "CONFIRMED",
        "summary": summary,
        "location": location,
        "description": "\n".join(lines),
    }


def content_hash(
    visit: Visit, scenario: Scenario, worker_id: WorkerId, cancelled: bool = False
) -> str:
    """SHA-256 of the event's calendar-relevant fields (not SEQUENCE or DTSTAMP)."""
    fields = _fields(visit, scenario, worker_id, cancelled) | {"calendar": worker_id}
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def build_event(visit: Visit, scenario: Scenario, worker_id: WorkerId, revision: Revision) -> Event:
    """The VEVENT of one visit on one worker's calendar at one revision."""
    fields = _fields(visit, scenario, worker_id, revision.cancelled)
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
    name: str | None = None,
) -> bytes:
    """One RFC 5545 VCALENDAR (METHOD:PUBLISH) holding the worker's visits, for files and feeds.

    `revisions` is keyed by event UID; a visit without one gets SEQUENCE 0 and its start as
    DTSTAMP. A revision marked cancelled, or a visit whose status is cancelled, is emitted as
    STATUS:CANCELLED. A worker with no visits gets a valid empty calendar.
    """
    workers = _lookups(scenario)[2]
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add("CALSCALE", "GREGORIAN")
    cal.add("METHOD", "PUBLISH")
    label = name or f"Visits: {workers[worker_id].name if worker_id in workers else worker_id}"
    cal.add("NAME", label)
    cal.add("X-WR-CALNAME", label)
    cal.add("UID", f"calendar-{worker_id}{UID_SUFFIX}")
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
        cal.add_component(build_event(item.visit, scenario, worker_id, revision))
    return cal.to_ical()


def render_object(
    visit: Visit, scenario: Scenario, worker_id: WorkerId, revision: Revision
) -> bytes:
    """One CalDAV calendar object resource: no METHOD and no calendar-level UID (RFC 4791)."""
    cal = Calendar()
    cal.add("PRODID", PRODID)
    cal.add("VERSION", "2.0")
    cal.add_component(build_event(visit, scenario, worker_id, revision))
    return cal.to_ical()


def revision_of(entry: LedgerEntry) -> Revision:
    """The revision a ledger entry records."""
    stamp = entry.revised_at or datetime(1970, 1, 1, tzinfo=UTC)
    if stamp.tzinfo is None:  # SQLite drops the zone; the ledger stores UTC
        stamp = stamp.replace(tzinfo=UTC)
    return Revision(entry.sequence, stamp, entry.status in ENDING)


def revise(
    entries: Iterable[LedgerEntry], visits: Sequence[Visit], scenario: Scenario, now: datetime
) -> list[LedgerEntry]:
    """The ledger entries that change when `visits` become the published plan at `now`.

    A new event starts at SEQUENCE 0; an event whose content hash changed (time, worker,
    place, checklist, status ...) gets SEQUENCE + 1 and `now` as its revision time; an event
    no longer planned becomes a cancellation (SEQUENCE + 1). Unchanged events are not
    returned, so revising the same plan twice changes nothing. Nothing is written here.
    """
    stamp = now.astimezone(UTC)
    known = {e.uid: e for e in entries}
    changed: list[LedgerEntry] = []
    current: set[str] = set()
    for item in worker_events(visits):
        current.add(item.uid)
        digest = content_hash(item.visit, scenario, item.worker_id)
        entry = known.get(item.uid)
        if entry is None:
            changed.append(
                LedgerEntry(
                    uid=item.uid,
                    worker_id=item.worker_id,
                    sequence=0,
                    content_hash=digest,
                    status=PENDING,
                    revised_at=stamp,
                    visit=item.visit,
                )
            )
        elif entry.content_hash != digest or entry.status not in LIVE:
            changed.append(
                entry.model_copy(
                    update={
                        "worker_id": item.worker_id,
                        "sequence": entry.sequence + 1,
                        "content_hash": digest,
                        "status": PENDING,
                        "revised_at": stamp,
                        "visit": item.visit,
                        **({"href": None, "etag": None} if entry.status == DELETED else {}),
                    }
                )
            )
        elif entry.visit != item.visit:
            # Same calendar content (e.g. a field events do not show): keep the revision.
            changed.append(entry.model_copy(update={"visit": item.visit}))
    for entry in known.values():
        if entry.uid in current or entry.status not in LIVE:
            continue
        if entry.visit is None:
            changed.append(entry.model_copy(update={"status": DELETED}))
            continue
        changed.append(
            entry.model_copy(
                update={
                    "sequence": entry.sequence + 1,
                    "content_hash": content_hash(entry.visit, scenario, entry.worker_id, True),
                    "status": CANCELLING,
                    "revised_at": stamp,
                }
            )
        )
    return changed


def merged(entries: Iterable[LedgerEntry], changes: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The ledger after `changes`, by UID."""
    table = {e.uid: e for e in entries}
    table.update({e.uid: e for e in changes})
    return [table[uid] for uid in sorted(table)]


def worker_calendar(
    entries: Iterable[LedgerEntry],
    visits: Sequence[Visit],
    scenario: Scenario,
    worker_id: WorkerId,
    now: datetime,
    cancel_grace: timedelta = CANCEL_GRACE,
) -> bytes:
    """The worker's calendar from a revised ledger: planned visits, plus visits cancelled less
    than `cancel_grace` ago (as STATUS:CANCELLED, so clients show them struck through).
    """
    table = {e.uid: e for e in entries}
    revisions = {uid: revision_of(e) for uid, e in table.items()}
    shown = [e.visit for e in worker_events(visits, worker_id)]
    for entry in table.values():
        if entry.worker_id != worker_id or entry.status not in ENDING or entry.visit is None:
            continue
        if now - revision_of(entry).stamp < cancel_grace:
            shown.append(entry.visit)
    unique = {v.id: v for v in shown}
    return render_calendar(unique.values(), scenario, worker_id, revisions)


def write_ics(
    ledger: LedgerReader,
    visits: Sequence[Visit],
    scenario: Scenario,
    out_dir: Path,
    now: datetime,
) -> list[Path]:
    """Write one `<worker id>.ics` per worker into `out_dir`, recording revisions in the ledger.

    Returns:
        The files written, one per worker of the scenario, in worker order.
    """
    before = ledger.ledger_all()
    changes = revise(before, visits, scenario, now)
    for entry in changes:
        ledger.ledger_put(entry)
    entries_of: dict[str, list[LedgerEntry]] = defaultdict(list)
    for entry in merged(before, changes):
        entries_of[entry.worker_id].append(entry)
    visits_of: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits:
        for worker_id in {visit.worker_id, visit.second_worker_id} - {None}:
            visits_of[str(worker_id)].append(visit)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for worker in scenario.workers:
        path = out_dir / f"{_safe_name(worker.id)}.ics"
        calendar = worker_calendar(
            entries_of[worker.id], visits_of[worker.id], scenario, worker.id, now
        )
        path.write_bytes(calendar)
        written.append(path)
    return written


def _safe_name(worker_id: str) -> str:
    """A file name for a worker id (letters, digits, dash, underscore and dot kept)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in worker_id) or "worker"
