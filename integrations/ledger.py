"""The calendar ledger's rules: revisions (SEQUENCE, DTSTAMP, status) of each published event,
shared by ICS files, feeds and CalDAV publishing, and the small Protocol through which the
integrations read and write the ledger.

Rule: nothing here touches the store itself; whoever holds the ledger passes it in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

from integrations.events import EventContext, content_hash, worker_events
from scheduler import LedgerEntry, Scenario, Visit

# Ledger statuses: what the CalDAV server holds for an event UID.
PENDING = "pending"  # a revision not yet written to the server
PUBLISHED = "published"  # the server holds the current revision
CANCELLING = "cancelling"  # the visit was removed; the CANCELLED revision is not yet written
CANCELLED = "cancelled"  # the server holds the CANCELLED revision, to be deleted after a grace
DELETED = "deleted"  # gone from the server; the entry keeps SEQUENCE monotonic
REMOVED = "removed"  # deleted by someone else, and accepted: off the calendar until it changes
LIVE = (PENDING, PUBLISHED, REMOVED)
ENDING = (CANCELLING, CANCELLED)


class Ledger(Protocol):
    """The calendar ledger as the integrations use it (the store provides it)."""

    def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]:
        """Every ledger entry, or one worker's, by UID."""
        ...

    def ledger_put(self, entry: LedgerEntry) -> None:
        """Insert or replace the entry of `entry.uid`."""
        ...


@runtime_checkable
class BulkLedger(Ledger, Protocol):
    """A ledger that can also record many entries in one transaction."""

    def ledger_put_many(self, entries: Sequence[LedgerEntry]) -> None:
        """Insert or replace every entry, all or nothing."""
        ...


@dataclass(frozen=True)
class Revision:
    """One revision of an event: its SEQUENCE, its DTSTAMP and whether it is cancelled."""

    sequence: int
    stamp: datetime
    cancelled: bool = False


def revision_of(entry: LedgerEntry) -> Revision:
    """The revision a ledger entry records."""
    stamp = entry.revised_at or datetime(1970, 1, 1, tzinfo=UTC)
    if stamp.tzinfo is None:  # SQLite drops the zone; the ledger stores UTC
        stamp = stamp.replace(tzinfo=UTC)
    return Revision(entry.sequence, stamp, entry.status in ENDING)


def on_calendars(entries: Iterable[LedgerEntry]) -> list[Visit]:
    """The visits as their events were last revised on workers' calendars (a re-plan applied
    but not yet published leaves the old times there), leaving out events that are gone."""
    return [e.visit for e in entries if e.visit is not None and e.status not in (DELETED, REMOVED)]


def revise(
    entries: Iterable[LedgerEntry],
    visits: Sequence[Visit],
    scenario: Scenario,
    now: datetime,
    *,
    context: EventContext,
) -> list[LedgerEntry]:
    """The ledger entries that change when `visits` become the published plan at `now`.

    A new event starts at SEQUENCE 0; an event whose content hash changed (time, worker,
    place, checklist, status, recorded outcome ...) gets SEQUENCE + 1 and `now` as its
    revision time; an event no longer planned becomes a cancellation (SEQUENCE + 1). Unchanged
    events are not returned, so revising the same plan twice changes nothing. Nothing is
    written here.
    """
    stamp = now.astimezone(UTC)
    known = {e.uid: e for e in entries}
    changed: list[LedgerEntry] = []
    current: set[str] = set()
    for item in worker_events(visits):
        current.add(item.uid)
        digest = content_hash(item.visit, scenario, item.worker_id, context=context)
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
        digest = content_hash(entry.visit, scenario, entry.worker_id, True, context=context)
        changed.append(
            entry.model_copy(
                update={
                    "sequence": entry.sequence + 1,
                    "content_hash": digest,
                    "status": CANCELLING,
                    "revised_at": stamp,
                }
            )
        )
    return changed


def accepted(entry: LedgerEntry, server_etag: str | None) -> LedgerEntry:
    """The entry once the manager accepts what someone else did to its event on the calendar.

    An edit (`server_etag`: the edited event's ETag) stands, and a deletion (None) too, until
    the plan next changes the visit, which is then published as usual. A cancelled visit's
    event that someone changed is let go of: left as they made it, never deleted.
    """
    if entry.status in ENDING:
        return entry.model_copy(
            update={"status": DELETED, "href": None, "etag": None, "held_by": None}
        )
    if server_etag is None:
        return entry.model_copy(
            update={"status": REMOVED, "href": None, "etag": None, "held_by": None}
        )
    return entry.model_copy(
        update={"status": PUBLISHED, "etag": server_etag, "held_by": entry.worker_id}
    )


def overwriting(entry: LedgerEntry, server_sequence: int | None, now: datetime) -> LedgerEntry:
    """The revision that puts the plan's version back over someone else's edit or deletion.

    Its SEQUENCE rises above the server's (`server_sequence`; None when the event was
    deleted) and above every revision the server has held: a pending revision the server never
    held keeps its SEQUENCE and time when that is enough; otherwise it is a new revision at
    `now`, one above the higher of ours and the server's (RFC 5545 3.8.7.4: only up).
    """
    held = entry.sequence if entry.status in (PUBLISHED, CANCELLED) else entry.sequence - 1
    floor = max(held, -1 if server_sequence is None else server_sequence) + 1
    if entry.sequence >= floor:
        return entry
    return entry.model_copy(update={"sequence": floor, "revised_at": now.astimezone(UTC)})


def merged(entries: Iterable[LedgerEntry], changes: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The ledger after `changes`, by UID."""
    table = {e.uid: e for e in entries}
    table.update({e.uid: e for e in changes})
    return [table[uid] for uid in sorted(table)]


def record_revisions(
    ledger: Ledger | BulkLedger,
    visits: Sequence[Visit],
    scenario: Scenario,
    now: datetime,
    *,
    context: EventContext,
) -> list[LedgerEntry]:
    """Revise the ledger for `visits` at `now`, write the changes (in one transaction where the
    ledger can), and return the whole ledger."""
    before = ledger.ledger_all()
    changes = revise(before, visits, scenario, now, context=context)
    if changes and isinstance(ledger, BulkLedger):
        ledger.ledger_put_many(changes)
    else:
        for entry in changes:
            ledger.ledger_put(entry)
    return merged(before, changes)
