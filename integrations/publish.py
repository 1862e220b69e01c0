"""CalDAV publishing: a plan's visits written to workers' calendars, idempotently.

Rule: only changed events are written, each with If-Match / If-None-Match; a worker's own
edit or deletion is a conflict, reported and left alone until a manager settles it
(`Resolution`: overwrite or accept). The ledger is updated after each successful write, so
it always tells what the server holds. Connection, configuration and busy times are in
`integrations.dav`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from icalendar import Calendar as ICalendar
from pydantic import BaseModel, ConfigDict, Field

from integrations.dav import Calendars, awaited, on_server, url_path, wrapped
from integrations.errors import CalendarError, ConflictError
from integrations.events import EventContext
from integrations.ics import CANCEL_GRACE, render_object
from integrations.ledger import (
    CANCELLED,
    CANCELLING,
    DELETED,
    PUBLISHED,
    REMOVED,
    Ledger,
    accepted,
    merged,
    overwriting,
    revise,
    revision_of,
)
from scheduler import LedgerEntry, Scenario, Visit, WorkerId

if TYPE_CHECKING:
    from caldav.collection import Calendar
    from caldav.davclient import DAVClient

ICALENDAR = 'text/calendar; charset="utf-8"'
Action = Literal["create", "update", "cancel", "delete", "overwrite"]
Change = Literal["changed", "deleted"]
Settle = Literal["overwrite", "accept"]
GONE = "deleted from the calendar by someone else"
EDITED = "changed on the calendar by someone else"


def _server_etags(cal: Calendar) -> dict[str, str | None]:
    """Every object in the calendar: unquoted path -> ETag (one REPORT).

    A sync-collection answer may list members deleted earlier (RFC 6578 3.2: a 404 and no
    ETag; Radicale keeps them): they are not in the calendar, so they are left out here.
    """
    with wrapped("reading the calendar's ETags"):
        objects = awaited(cal.get_objects_by_sync_token(load_objects=False))
        gone = {url_path(url) for url in getattr(objects, "deleted_urls", ())}
        held = {url_path(o.url): o.etag for o in objects}
        return {path: etag for path, etag in held.items() if path not in gone}


def _fingerprint(data: bytes | str | None) -> tuple[str, ...] | None:
    """What identifies an event's content, independent of the server's serialisation."""
    if not data:
        return None
    try:
        cal = ICalendar.from_ical(data)
    except ValueError:
        return None
    for event in cal.walk("VEVENT"):
        return tuple(
            event.get(name).to_ical().decode() if event.get(name) is not None else ""
            for name in (
                "UID",
                "SEQUENCE",
                "DTSTART",
                "DTEND",
                "STATUS",
                "SUMMARY",
                "LOCATION",
                "DESCRIPTION",
            )
        )
    return None


# ---------------------------------------------------------------------- publish


class PublishItem(BaseModel):
    """One event publishing touched, or would touch."""

    model_config = ConfigDict(frozen=True)

    uid: str = Field(description="The event's UID.")
    visit_id: str | None = Field(default=None, description="The visit it shows.")
    worker_id: str = Field(description="Whose calendar.")
    sequence: int = Field(description="The event's SEQUENCE after the write.")
    reason: str | None = Field(default=None, description="Why, for conflicts.")
    change: Change | None = Field(
        default=None,
        description="For a conflict, what someone else did to the event on the calendar: "
        "'changed' (edited) or 'deleted'.",
    )


class PublishReport(BaseModel):
    """What a publish run did (or, in a dry run, would do)."""

    dry_run: bool = False
    created: list[PublishItem] = Field(default_factory=list)
    updated: list[PublishItem] = Field(default_factory=list)
    cancelled: list[PublishItem] = Field(default_factory=list)
    deleted: list[PublishItem] = Field(default_factory=list)
    conflicts: list[PublishItem] = Field(default_factory=list)
    overwritten: list[PublishItem] = Field(
        default_factory=list,
        description="Conflicts settled by putting the plan's version back (--overwrite).",
    )
    accepted: list[PublishItem] = Field(
        default_factory=list,
        description="Conflicts settled by keeping what the worker made of the event (--accept).",
    )
    unchanged: int = 0

    @property
    def writes(self) -> int:
        """How many writes were made on the server (or would be)."""
        return (
            len(self.created)
            + len(self.updated)
            + len(self.cancelled)
            + len(self.deleted)
            + len(self.overwritten)
        )


@dataclass(frozen=True)
class Resolution:
    """Which conflicts a run settles, and how: `overwrite` puts the plan's version back over
    what someone else made of the event, `accept` keeps theirs. The conflicts on the calendars
    of `workers`, of `visits`, or one by one in `events` (UID, the worker whose calendar it is
    on: the desk settles the one conflict it shows, where `visits` would take both calendars
    of a joint visit); every conflict when all three are empty."""

    action: Settle
    workers: frozenset[str] = frozenset()
    visits: frozenset[str] = frozenset()
    events: frozenset[tuple[str, str]] = frozenset()

    def covers(self, item: PublishItem) -> bool:
        """Whether the conflict `item` is one this run settles."""
        if not self.workers and not self.visits and not self.events:
            return True
        return (
            item.worker_id in self.workers
            or (item.visit_id or "") in self.visits
            or (item.uid, item.worker_id) in self.events
        )


def _sequence(found: Any | None, default: int) -> int:
    """The SEQUENCE of an event read from the server (`default` when it is not there)."""
    if found is None:
        return default
    try:
        for event in ICalendar.from_ical(found.raw_data).walk("VEVENT"):
            return int(event.get("SEQUENCE", 0))
    except ValueError:
        pass
    return default


def _moved_from(worker_id: WorkerId | None) -> str | None:
    """The reason given for a create on the new calendar of a visit moved to another worker."""
    return None if worker_id is None else f"moved from {worker_id}'s calendar"


def _item(
    entry: LedgerEntry, reason: str | None = None, change: Change | None = None
) -> PublishItem:
    return PublishItem(
        uid=entry.uid,
        visit_id=entry.visit.id if entry.visit else None,
        worker_id=entry.worker_id,
        sequence=entry.sequence,
        reason=reason,
        change=change,
    )


class _Publisher:
    """One publish run: decides, writes, and keeps the ledger true after each write."""

    def __init__(
        self,
        client: DAVClient,
        ledger: Ledger,
        scenario: Scenario,
        now: datetime,
        dry_run: bool,
        cancel_grace: timedelta,
        on_write: Callable[[str, LedgerEntry], None] | None,
        context: EventContext,
        before: Iterable[LedgerEntry] = (),
        resolution: Resolution | None = None,
    ) -> None:
        self.client = client
        self.resolution = resolution
        self.before = {e.uid: e for e in before}  # the ledger before this run's revisions
        self.context = context
        self.ledger = ledger
        self.scenario = scenario
        self.now = now
        self.dry_run = dry_run
        self.cancel_grace = cancel_grace
        self.on_write = on_write
        self.calendars = Calendars(client, scenario.workers, create=not dry_run)
        self.etags: dict[str, dict[str, str | None]] = {}
        self.report = PublishReport(dry_run=dry_run)

    def server(self, cal: Calendar | None) -> dict[str, str | None]:
        """The calendar's objects and ETags, read once per run."""
        if cal is None:
            return {}
        key = url_path(cal.url)
        if key not in self.etags:
            self.etags[key] = _server_etags(cal)
        return self.etags[key]

    def done(self, kind: str, entry: LedgerEntry) -> None:
        """Record a successful write in the ledger, then tell the hook."""
        entry = entry.model_copy(update={"held_by": entry.worker_id if entry.href else None})
        self.ledger.ledger_put(entry)
        if self.on_write is not None:
            self.on_write(kind, entry)

    def data(self, entry: LedgerEntry) -> bytes:
        """The bytes of the entry's current revision."""
        assert entry.visit is not None
        return render_object(
            entry.visit, self.scenario, entry.worker_id, revision_of(entry), context=self.context
        )

    def href(self, href: str) -> str:
        """An event's href from the ledger, checked to be on the server (see `on_server`)."""
        return on_server(self.client, href, "an event published earlier")

    def fetch(self, href: str, cal: Calendar | None = None) -> Any | None:
        """The event at `href`, loaded (its data and ETag); None when it is not there."""
        from caldav.calendarobjectresource import Event
        from caldav.lib import error

        obj = Event(client=self.client, url=self.href(href), parent=cal)
        with wrapped("reading an event"):
            try:
                obj.load()
            except error.NotFoundError:
                return None
        return obj

    def matches_server(self, cal: Calendar, href: str, data: bytes) -> str | None:
        """The server's ETag when it already holds exactly our revision, else None."""
        obj = self.fetch(href, cal)
        if obj is not None and _fingerprint(obj.raw_data) == _fingerprint(data):
            return cast("str | None", obj.etag)
        return None

    def put(
        self, cal: Calendar, entry: LedgerEntry, data: bytes, *, again: bool = False
    ) -> tuple[str, str | None] | Change:
        """PUT the entry; (href, etag) on success, or what someone else did to it. `again`
        puts back an event someone deleted, at its href, only if nothing is there now."""
        from caldav.calendarobjectresource import Event
        from caldav.elements import dav
        from caldav.lib import error

        if again:
            # If-None-Match: * makes the server refuse (412) if anything is there again; sent
            # by hand, as caldav searches the UID instead on some servers (Radicale).
            url = self.href(str(entry.href))
            with wrapped(f"writing {entry.uid}"):
                answer = self.client.put(
                    url, data.decode("utf-8"), {"If-None-Match": "*", "Content-Type": ICALENDAR}
                )
            if answer.status == 412:
                return "changed"  # someone made an event there meanwhile
            if answer.status not in (200, 201, 204):
                raise CalendarError(
                    f"writing {entry.uid}: the CalDAV server answered HTTP {answer.status}"
                )
            etag = answer.headers.get("ETag")
            if etag is None:
                found = self.fetch(url, cal)
                etag = found.etag if found is not None else None
            return url, etag

        obj = (
            Event(client=self.client, url=self.href(entry.href), parent=cal)
            if entry.href
            else Event(client=self.client, parent=cal)
        )
        if entry.href and entry.etag:
            obj.props[dav.GetEtag.tag] = entry.etag
        try:
            with wrapped(f"writing {entry.uid}"):
                obj.save(raw_data=data, increase_seqno=False, precondition="etag")
                etag = obj.etag
                if etag is None:
                    obj.load()
                    etag = obj.etag
        except (error.ETagMismatchError, error.ScheduleTagMismatchError):
            # The server's 412: what it holds is not what we last wrote, or it holds nothing
            # (If-Match fails on a missing resource, RFC 9110 13.1.1).
            found = self.fetch(str(obj.url), cal)
            if found is None:
                return "deleted"
            if _fingerprint(found.raw_data) == _fingerprint(data):
                return str(obj.url), found.etag
            return "changed"
        return str(obj.url), etag

    def delete(self, entry: LedgerEntry) -> Change | None:
        """DELETE the entry's object with If-Match; None when it is gone, else "changed"."""
        from caldav.calendarobjectresource import Event
        from caldav.elements import dav
        from caldav.lib import error

        if not entry.href:
            return None
        obj = Event(client=self.client, url=self.href(entry.href))
        if entry.etag:
            obj.props[dav.GetEtag.tag] = entry.etag
        try:
            with wrapped(f"deleting {entry.uid}"):
                try:
                    obj.delete(if_match=bool(entry.etag), precondition="etag")
                except error.NotFoundError:
                    return None
        except (error.ETagMismatchError, error.ScheduleTagMismatchError):
            # A 412 for an event that is no longer there is a deletion done already.
            return None if self.fetch(entry.href) is None else "changed"
        return None

    def holder(self, entry: LedgerEntry) -> WorkerId:
        """Whose calendar holds the event at the entry's href (the ledger before this run's
        revisions says, where an older ledger row does not)."""
        if entry.held_by:
            return entry.held_by
        old = self.before.get(entry.uid)
        return old.worker_id if old is not None and old.href == entry.href else entry.worker_id

    def read_server(self, entries: Iterable[LedgerEntry]) -> None:
        """Find (or make) every calendar the run touches and read its ETags, before any write."""
        for entry in entries:
            if entry.status != DELETED:
                self.server(self.calendars.for_worker(entry.worker_id))

    def step(self, entry: LedgerEntry) -> None:
        """Bring one event on the server to what the ledger says it should be."""
        if entry.status == DELETED:
            return
        if entry.status == REMOVED:  # deleted by the worker, and accepted
            self.report.unchanged += 1
            return
        cal = self.calendars.for_worker(entry.worker_id)
        held = self.server(cal)
        href_path = url_path(entry.href) if entry.href else None
        in_target = (
            cal is not None
            and href_path is not None
            and href_path.startswith(url_path(cal.url) + "/")
        )
        if entry.status == PUBLISHED:
            if href_path is None or not in_target:
                self.report.unchanged += 1
            elif href_path not in held:
                self.someone_else(cal, entry, "deleted", None)
            elif held[href_path] != entry.etag:
                self.someone_else(cal, entry, "changed", held[href_path])
            else:
                self.report.unchanged += 1
            return
        if entry.status == CANCELLED:
            self.finish_cancelled(cal, entry, held, href_path if in_target else None)
            return
        # PENDING or CANCELLING: write the current revision.
        if entry.status == CANCELLING and entry.href is None:
            after = entry.model_copy(update={"status": DELETED})
            if not self.dry_run:
                self.ledger.ledger_put(after)
            self.report.unchanged += 1
            return
        moved_from = None
        if entry.href is not None and not in_target:
            moved_from = self.holder(entry)
            left = self.leave_old_calendar(entry, moved_from)
            if left is None:
                return
            entry = left
            if entry.status == DELETED:  # removed from the plan as well: nothing to write
                return
            href_path = None
        if cal is None:  # dry run: the calendar would be created
            self.report.created.append(_item(entry, _moved_from(moved_from)))
            return
        data = self.data(entry)
        if href_path is not None and href_path not in held:
            if entry.status == CANCELLING:
                # Deleted by someone else, and the plan removed the visit too: both want it
                # gone, so there is nothing to settle and nothing to write.
                if not self.dry_run:
                    self.ledger.ledger_put(
                        entry.model_copy(
                            update={"status": DELETED, "href": None, "etag": None, "held_by": None}
                        )
                    )
                self.report.unchanged += 1
                return
            self.someone_else(cal, entry, "deleted", None)
            return
        if href_path is not None and held.get(href_path) != entry.etag:
            adopted = self.matches_server(cal, str(entry.href), data)
            if adopted is None:
                self.someone_else(cal, entry, "changed", held.get(href_path))
                return
            entry = entry.model_copy(update={"etag": adopted})
            if adopted == held.get(href_path):
                # An earlier run's write landed but its answer was lost: nothing to write.
                status = CANCELLED if entry.status == CANCELLING else PUBLISHED
                if not self.dry_run:
                    self.ledger.ledger_put(
                        entry.model_copy(update={"status": status, "held_by": entry.worker_id})
                    )
                self.report.unchanged += 1
                return
        kind = "cancel" if entry.status == CANCELLING else ("update" if entry.href else "create")
        bucket = {
            "create": self.report.created,
            "update": self.report.updated,
            "cancel": self.report.cancelled,
        }[kind]
        if self.dry_run:
            bucket.append(_item(entry, _moved_from(moved_from)))
            return
        result = self.put(cal, entry, data)
        if isinstance(result, str):
            self.conflict(entry, result)
            return
        href, etag = result
        status = CANCELLED if entry.status == CANCELLING else PUBLISHED
        after = entry.model_copy(update={"href": href, "etag": etag, "status": status})
        held[url_path(href)] = etag
        self.done(kind, after)
        bucket.append(_item(after, _moved_from(moved_from)))

    def finish_cancelled(
        self,
        cal: Calendar | None,
        entry: LedgerEntry,
        held: dict[str, str | None],
        href_path: str | None,
    ) -> None:
        """Delete a cancelled event once its grace is over, unless someone changed it."""
        if self.now - revision_of(entry).stamp < self.cancel_grace:
            self.report.unchanged += 1
            return
        after = entry.model_copy(
            update={"status": DELETED, "href": None, "etag": None, "held_by": None}
        )
        if href_path is not None and href_path in held and held[href_path] != entry.etag:
            self.someone_else(cal, entry, "changed", held[href_path])
            return
        if self.dry_run:
            self.report.deleted.append(_item(after))
            return
        change = self.delete(entry)
        if change:
            self.conflict(entry, change, f"{EDITED} after it was cancelled")
            return
        self.done("delete", after)
        self.report.deleted.append(_item(after))

    def leave_old_calendar(self, entry: LedgerEntry, holder: WorkerId) -> LedgerEntry | None:
        """Take a visit given to another worker off the old worker's calendar; the entry to
        publish on the new one, or None when the old worker's edit stops it (a conflict).

        The report names the old calendar, and the SEQUENCE it held, for the delete.
        """
        found = self.fetch(str(entry.href))  # its SEQUENCE, and whether the worker touched it
        there = entry.model_copy(
            update={"worker_id": holder, "sequence": _sequence(found, entry.sequence)}
        )
        edited = _item(
            there, f"{EDITED}; the visit moved to {entry.worker_id}'s calendar", "changed"
        )
        settled: Settle | None = None
        if found is not None and found.etag != entry.etag:
            # The old worker edited it: a conflict on their calendar, reported or settled
            # (overwrite deletes their version, accept leaves it there).
            settled = self.choose(edited)
            if settled is None:
                return None
            entry = entry.model_copy(update={"etag": found.etag})
        if settled != "accept" and found is not None and not self.dry_run:
            change = self.delete(entry)
            if change:
                self.conflict(there, change)
                return None
        gone = entry.status == CANCELLING
        entry = entry.model_copy(
            update={"href": None, "etag": None, "held_by": None}
            | ({"status": DELETED} if gone else {})
        )
        if not self.dry_run:
            self.ledger.ledger_put(entry)
        if settled is not None:
            self.settled(settled, edited)
        elif found is not None:  # one the worker deleted themselves needs no delete
            self.report.deleted.append(_item(there, f"moved to {entry.worker_id}'s calendar"))
        return entry

    def choose(self, item: PublishItem) -> Settle | None:
        """How this run settles a conflict: None when it is reported (and left as it is)."""
        if self.resolution is None or not self.resolution.covers(item):
            self.report.conflicts.append(item)
            return None
        return self.resolution.action

    def settled(self, action: Settle, item: PublishItem) -> None:
        """Report a conflict this run settled (or, in a dry run, would settle)."""
        (self.report.overwritten if action == "overwrite" else self.report.accepted).append(item)

    def someone_else(
        self, cal: Calendar | None, entry: LedgerEntry, change: Change, etag: str | None
    ) -> None:
        """Someone else changed (the server's ETag `etag`) or deleted the entry's event on its
        calendar: report it, or settle it as this run was asked to."""
        ending = entry.status in (CANCELLING, CANCELLED)
        reason = f"{EDITED} after it was cancelled" if ending and change == "changed" else None
        item = _item(entry, reason or (GONE if change == "deleted" else EDITED), change)
        action = self.choose(item)
        if action == "accept":
            if not self.dry_run:
                self.ledger.ledger_put(accepted(entry, None if change == "deleted" else etag))
            self.settled(action, item)
        elif action == "overwrite":
            if cal is None:  # no calendar, so nothing of theirs to write over
                self.report.conflicts.append(item)
                return
            self.overwrite(cal, entry, item, etag if change == "changed" else None)

    def overwrite(
        self, cal: Calendar, entry: LedgerEntry, item: PublishItem, seen: str | None
    ) -> None:
        """Put the plan's version back over what someone else made of the event, as this run
        found it (`seen`: its ETag then; None, deleted): a cancelled event whose grace is over
        is deleted, any other written as a new revision. Changed again since: a conflict."""
        found = self.fetch(str(entry.href), cal)  # the server's ETag and SEQUENCE, as they are now
        if (found.etag if found is not None else None) != seen:
            self.conflict(entry, "deleted" if found is None else "changed")
            return
        if entry.status == CANCELLED:
            after = entry.model_copy(
                update={"status": DELETED, "href": None, "etag": None, "held_by": None}
            )
            if not self.dry_run and found is not None:
                change = self.delete(entry.model_copy(update={"etag": found.etag}))
                if change:
                    self.conflict(entry, change)
                    return
                self.done("overwrite", after)
            self.settled("overwrite", item)
            return
        server = _sequence(found, -1) if found is not None else None
        revised = overwriting(entry, server, self.now).model_copy(
            update={"etag": found.etag if found is not None else None}
        )
        done = item.model_copy(update={"sequence": revised.sequence})
        if self.dry_run:
            self.settled("overwrite", done)
            return
        result = self.put(cal, revised, self.data(revised), again=found is None)
        if isinstance(result, str):
            self.conflict(entry, result)
            return
        href, etag = result
        status = CANCELLED if entry.status == CANCELLING else PUBLISHED
        self.done(
            "overwrite", revised.model_copy(update={"href": href, "etag": etag, "status": status})
        )
        self.server(cal)[url_path(href)] = etag
        self.settled("overwrite", done)

    def conflict(self, entry: LedgerEntry, change: Change, reason: str | None = None) -> None:
        """Report what someone else did to the event; it is left as it is on the server."""
        words = reason or (GONE if change == "deleted" else EDITED)
        self.report.conflicts.append(_item(entry, words, change))


def publish_plan(
    client: DAVClient,
    ledger: Ledger,
    visits: Sequence[Visit],
    scenario: Scenario,
    now: datetime,
    *,
    dry_run: bool = False,
    cancel_grace: timedelta = CANCEL_GRACE,
    on_write: Callable[[str, LedgerEntry], None] | None = None,
    context: EventContext,
    resolution: Resolution | None = None,
) -> PublishReport:
    """Publish the visits to each worker's calendar; only changed events are written.

    New visits are created, changed ones updated in place (If-Match with the ledger's ETag,
    SEQUENCE up, same UID), removed ones sent as STATUS:CANCELLED and deleted on a run at least
    `cancel_grace` later. An event someone else changed or deleted on the server is reported
    as a conflict and left alone, unless `resolution` settles it: `overwrite` writes the plan's
    version back over the event as this run found it (If-Match with its ETag, or
    If-None-Match: * for a deleted one; a new revision, SEQUENCE above the server's; changed
    again meanwhile, it is still a conflict), `accept` records the server's state in the
    ledger, so the conflict is not reported again. Each settlement is
    recorded in the ledger as it is made. `on_write(kind, entry)` is called after each write,
    once the ledger holds it. A dry run reads the server but writes nothing, not even the ledger.
    Every calendar is found and read before the ledger changes, and each new revision enters
    the ledger only with its successful write, so a server that cannot be reached, refuses or
    answers nonsense leaves the ledger as it was (bar the writes it accepted).

    Raises:
        AuthError: the server refused the credentials.
        UnreachableError: the server could not be reached, or went away part way; every write
            made before is in the ledger, so the next run resumes without duplicates.
        CalendarError: the server refused a request.
    """
    before = ledger.ledger_all()
    changes = revise(before, visits, scenario, now, context=context)
    planned = merged(before, changes)
    publisher = _Publisher(
        client, ledger, scenario, now, dry_run, cancel_grace, on_write, context, before, resolution
    )
    publisher.read_server(planned)
    if not dry_run:
        # A new revision is recorded with the write that publishes it (`done`), so a server
        # that refuses or garbles the write leaves no trace; a change that is no revision
        # (a field events do not show) needs no server and is recorded now.
        known = {e.uid: e for e in before}
        for entry in changes:
            old = known.get(entry.uid)
            if old is not None and (old.sequence, old.status) == (entry.sequence, entry.status):
                ledger.ledger_put(entry)
    for entry in planned:
        publisher.step(entry)
    return publisher.report


def raise_for_conflicts(report: PublishReport) -> None:
    """Raise ConflictError naming the conflicting events, if there are any."""
    if report.conflicts:
        lines = "; ".join(f"{c.uid} ({c.worker_id}): {c.reason}" for c in report.conflicts)
        raise ConflictError(f"{len(report.conflicts)} event(s) not overwritten: {lines}")


# ------------------------------------------------------------------ busy times
