"""CalDAV: publishing a plan to workers' calendars, and reading their busy times.

Rule: caldav, HTTP and network errors never leave this module raw: they become the errors
of `integrations.errors`. Credentials come from the environment or a config file through
`read_config`, never from flags, and are never logged or put in a message. The ledger is
updated after each successful write, so it always tells what the server holds.
"""

from __future__ import annotations

import inspect
import os
import tomllib
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar as ICalendar
from pydantic import BaseModel, ConfigDict, Field

from integrations.errors import (
    AuthError,
    CalendarError,
    ConfigError,
    ConflictError,
    UnreachableError,
)
from integrations.events import EventContext, is_ours
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
from scheduler import BusyTime, LedgerEntry, Scenario, Visit, Worker, WorkerId

if TYPE_CHECKING:
    from caldav.collection import Calendar, Principal
    from caldav.davclient import DAVClient

ENV_URL = "VISITPLAN_CALDAV_URL"
ENV_USERNAME = "VISITPLAN_CALDAV_USERNAME"
ENV_PASSWORD = "VISITPLAN_CALDAV_PASSWORD"
ENV_CONFIG = "VISITPLAN_CONFIG"
DEFAULT_CONFIG = Path("~/.config/visitplan/caldav.toml")
CALENDAR_PREFIX = "visitplan-"
ICALENDAR = 'text/calendar; charset="utf-8"'

T = TypeVar("T")
Action = Literal["create", "update", "cancel", "delete", "overwrite"]
Change = Literal["changed", "deleted"]
Settle = Literal["overwrite", "accept"]
GONE = "deleted from the calendar by someone else"
EDITED = "changed on the calendar by someone else"


@dataclass(frozen=True)
class DavConfig:
    """Where the CalDAV server is and how to log in; the password never shows in a repr."""

    url: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    features: str | None = None

    @property
    def safe_url(self) -> str:
        """The URL without any user information, fit for messages."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"


def read_config(environ: Mapping[str, str] | None = None) -> DavConfig:
    """The CalDAV settings from VISITPLAN_CALDAV_URL/_USERNAME/_PASSWORD, or else from the TOML
    file named by VISITPLAN_CONFIG or ~/.config/visitplan/caldav.toml (keys `url`, `username`,
    `password`, `features`, at the top or under `[caldav]`).

    Raises:
        ConfigError: nothing is configured, or the file is malformed.
    """
    env = os.environ if environ is None else environ
    if env.get(ENV_URL):
        return DavConfig(
            url=env[ENV_URL],
            username=env.get(ENV_USERNAME) or None,
            password=env.get(ENV_PASSWORD) or None,
        )
    path = Path(env.get(ENV_CONFIG) or DEFAULT_CONFIG).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"no CalDAV server configured: set {ENV_URL}, {ENV_USERNAME} and {ENV_PASSWORD}, "
            f"or write url/username/password to {path}"
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read the CalDAV config {path}: {type(exc).__name__}") from None
    section = data.get("caldav", data)
    if not isinstance(section, dict) or not isinstance(section.get("url"), str):
        raise ConfigError(f"the CalDAV config {path} has no `url`")
    return DavConfig(
        url=section["url"],
        username=section.get("username"),
        password=section.get("password"),
        features=section.get("features"),
    )


def _is_network(exc: BaseException) -> bool:
    """True for a connection-level failure from the HTTP stack (not an HTTP answer)."""
    root = type(exc).__module__.split(".")[0]
    return isinstance(exc, OSError | TimeoutError) or root in {
        "niquests",
        "requests",
        "urllib3",
        "urllib3_future",
        "httpx",
        "httpcore",
    }


@contextmanager
def wrapped(what: str) -> Iterator[None]:
    """Re-raise caldav and network errors as our own, with a message naming `what` failed."""
    from caldav.lib import error

    try:
        yield
    except (error.ETagMismatchError, error.ScheduleTagMismatchError):
        raise
    except error.AuthorizationError as exc:
        status = getattr(exc, "status", None)
        raise AuthError(
            f"{what}: the CalDAV server refused the credentials (HTTP {status or '401/403'})"
        ) from None
    except error.DAVError as exc:
        status = getattr(exc, "status", None)
        raise CalendarError(
            f"{what}: the CalDAV server answered {type(exc).__name__}"
            + (f" (HTTP {status})" if status else "")
        ) from None
    except CalendarError:
        raise
    except Exception as exc:
        if _is_network(exc):
            raise UnreachableError(
                f"{what}: the CalDAV server cannot be reached ({type(exc).__name__})"
            ) from None
        # Anything else inside a CalDAV call is an answer caldav could not make sense of
        # (a broken XML or iCalendar body, a missing property): the server's fault, not ours.
        raise CalendarError(
            f"{what}: the CalDAV server's answer could not be read ({type(exc).__name__})"
        ) from None


def check_url(url: str) -> None:
    """Refuse a CalDAV URL that is not `http(s)://host[:port][/path]`, naming what is wrong.

    The message never repeats user information (a password may sit in the URL).

    Raises:
        ConfigError: the URL is malformed.
    """
    expected = "expected http://host[:port]/path or https://..."
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a port that is not a number in range
        host = parts.hostname
    except ValueError as exc:
        raise ConfigError(f"the CalDAV URL is malformed ({exc}); {expected}") from None
    if parts.scheme not in ("http", "https"):
        scheme = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
        raise ConfigError(f"the CalDAV URL has {scheme}; {expected}")
    if not host:
        raise ConfigError(f"the CalDAV URL has no host name; {expected}")
    if any(c.isspace() for c in url) or port == 0:
        raise ConfigError(f"the CalDAV URL is malformed; {expected}")


def connect(config: DavConfig) -> DAVClient:
    """A caldav client for `config` (explicit URL, so the host's environment cannot redirect it).

    Raises:
        ConfigError: the URL is malformed.
        AuthError: the credentials are refused.
        UnreachableError: the server does not answer.
    """
    from caldav.davclient import get_davclient

    check_url(config.url)
    kwargs: dict[str, Any] = {
        "url": config.url,
        "username": config.username,
        "password": config.password,
        "timeout": 30,
    }
    if config.username:
        kwargs["auth_type"] = "basic"
    if config.features:
        kwargs["features"] = config.features
    with wrapped(f"connecting to {config.safe_url}"):
        client = get_davclient(**kwargs)
    if client is None:
        raise ConfigError("no CalDAV server configured")
    return client


# --------------------------------------------------------------------- calendars


def _sync(value: T | Coroutine[Any, Any, T]) -> T:
    """A caldav result: caldav 3 types its calls as sync-or-async; our client is synchronous."""
    if inspect.iscoroutine(value):
        value.close()
        raise CalendarError("caldav answered asynchronously; visitplan uses its synchronous client")
    return cast("T", value)


def calendar_id(worker_id: WorkerId) -> str:
    """The id of the calendar visitplan keeps for a worker under the service account."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in worker_id)
    return f"{CALENDAR_PREFIX}{safe}"


def _path(url: object) -> str:
    """The unquoted path of a URL, for comparing hrefs across spellings."""
    return unquote(urlsplit(str(url)).path).rstrip("/")


def on_server(client: DAVClient, url: str, what: str) -> str:
    """`url`, checked to be on the client's server; caldav cannot reach another from it.

    Raises:
        ConfigError: `url` is on another server (`what` names whose calendar or event).
    """
    from caldav.lib.url import URL

    try:
        client.url.join(URL.objectify(url))
    except ValueError:
        server = DavConfig(url=str(client.url)).safe_url
        raise ConfigError(
            f"{what} is not on the CalDAV server {server}, the only one visitplan writes to: "
            "correct the worker's calendar_url, or VISITPLAN_CALDAV_URL"
        ) from None
    return url


class Calendars:
    """Each worker's calendar: `worker.calendar_url`, or one per worker under the account."""

    def __init__(self, client: DAVClient, workers: Iterable[Worker], create: bool) -> None:
        """Look calendars up lazily; `create` makes missing service calendars (not in dry runs)."""
        self.client = client
        self.workers = {w.id: w for w in workers}
        self.create = create
        self._principal: Principal | None = None
        self._listing: dict[str, Calendar] | None = None
        self._found: dict[str, Calendar | None] = {}

    def principal(self) -> Principal:
        """The service account's principal."""
        if self._principal is None:
            with wrapped("finding the CalDAV account"):
                self._principal = self.client.get_principal()
        return self._principal

    def for_worker(self, worker_id: WorkerId) -> Calendar | None:
        """The worker's calendar, created when missing and allowed; None when absent."""
        if worker_id in self._found:
            return self._found[worker_id]
        from caldav.collection import Calendar as DavCalendar

        worker = self.workers.get(worker_id)
        cal: Calendar | None
        if worker is not None and worker.calendar_url:
            url = on_server(self.client, worker.calendar_url, f"the calendar_url of {worker_id}")
            cal = DavCalendar(client=self.client, url=url)
        else:
            cal_id = calendar_id(worker_id)
            if self._listing is None:
                with wrapped("listing calendars"):
                    found = _sync(self.principal().get_calendars())
                    self._listing = {_path(c.url).rsplit("/", 1)[-1]: c for c in found}
            cal = self._listing.get(cal_id)
            if cal is None and self.create:
                name = f"Visits: {worker.name}" if worker else f"Visits: {worker_id}"
                with wrapped(f"creating the calendar of {worker_id}"):
                    made = self.principal().make_calendar(
                        name=name, cal_id=cal_id, supported_calendar_component_set=["VEVENT"]
                    )
                cal = _sync(made)
                self._listing[cal_id] = cal
        self._found[worker_id] = cal
        return cal


def _server_etags(cal: Calendar) -> dict[str, str | None]:
    """Every object in the calendar: unquoted path -> ETag (one REPORT).

    A sync-collection answer may list members deleted earlier (RFC 6578 3.2: a 404 and no
    ETag; Radicale keeps them): they are not in the calendar, so they are left out here.
    """
    with wrapped("reading the calendar's ETags"):
        objects = _sync(cal.get_objects_by_sync_token(load_objects=False))
        gone = {_path(url) for url in getattr(objects, "deleted_urls", ())}
        held = {_path(o.url): o.etag for o in objects}
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
    of `workers` or of `visits`; every conflict when both are empty."""

    action: Settle
    workers: frozenset[str] = frozenset()
    visits: frozenset[str] = frozenset()

    def covers(self, item: PublishItem) -> bool:
        """Whether the conflict `item` is one this run settles."""
        if not self.workers and not self.visits:
            return True
        return item.worker_id in self.workers or (item.visit_id or "") in self.visits


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
        key = _path(cal.url)
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
        href_path = _path(entry.href) if entry.href else None
        in_target = (
            cal is not None and href_path is not None and href_path.startswith(_path(cal.url) + "/")
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
        held[_path(href)] = etag
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
        self.server(cal)[_path(href)] = etag
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


def _as_utc(value: date | datetime, tz: ZoneInfo) -> datetime:
    """A DTSTART/DTEND value as an aware UTC datetime (dates are local midnight)."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=tz)
        return aware.astimezone(UTC)
    return datetime.combine(value, time(0), tzinfo=tz).astimezone(UTC)


def _freebusy_periods(
    cal: Calendar, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Busy periods from an RFC 4791 free-busy REPORT (no FBTYPE means BUSY; FREE ignored)."""
    with wrapped("asking for free/busy time"):
        answer = _sync(cal.freebusy_request(start, end))
    periods: list[tuple[datetime, datetime]] = []
    parsed = ICalendar.from_ical(answer.data)
    for component in parsed.walk("VFREEBUSY"):
        values = component.get("FREEBUSY")
        if values is None:
            continue
        for prop in values if isinstance(values, list) else [values]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                continue
            for period in _periods_of(prop):
                periods.append(period)
    return periods


def _periods_of(prop: Any) -> list[tuple[datetime, datetime]]:
    """The periods of one FREEBUSY property, which may hold several (RFC 5545 3.8.2.6)."""
    raw = prop.to_ical().decode() if hasattr(prop, "to_ical") else str(prop)
    found: list[tuple[datetime, datetime]] = []
    from icalendar import vPeriod

    for text in raw.split(","):
        # icalendar leaves vPeriod.from_ical unannotated; the result is checked below.
        begin, finish = vPeriod.from_ical(text.strip())  # type: ignore[no-untyped-call]
        if isinstance(finish, timedelta):
            finish = begin + finish
        found.append((begin.astimezone(UTC), finish.astimezone(UTC)))
    return found


def _search_periods(
    cal: Calendar, start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Busy periods from an expanded time-range search, skipping our own visits, transparent
    and cancelled events (the fallback for servers without free-busy REPORT)."""
    with wrapped("searching the calendar"):
        found: list[Any] = _sync(cal.search(event=True, start=start, end=end, expand=True))
    periods: list[tuple[datetime, datetime]] = []
    for obj in found:
        for event in obj.icalendar_instance.walk("VEVENT"):
            if is_ours(str(event.get("UID", ""))):
                continue
            if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                continue
            if str(event.get("STATUS", "")).upper() == "CANCELLED":
                continue
            if event.get("DTSTART") is None:
                continue
            begin = _as_utc(event["DTSTART"].dt, tz)
            if event.get("DTEND") is not None:
                finish = _as_utc(event["DTEND"].dt, tz)
            elif event.get("DURATION") is not None:
                finish = begin + event["DURATION"].dt
            else:
                finish = begin + (
                    timedelta(days=1)
                    if not isinstance(event["DTSTART"].dt, datetime)
                    else timedelta(0)
                )
            periods.append((begin, finish))
    return periods


def _merge(periods: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Overlapping or touching periods joined, in order."""
    out: list[tuple[datetime, datetime]] = []
    for begin, finish in sorted(periods):
        if out and begin <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], finish))
        else:
            out.append((begin, finish))
    return out


def fetch_busy(
    client: DAVClient,
    workers: Iterable[Worker],
    start: datetime,
    end: datetime,
    *,
    own: Iterable[Visit] = (),
    tz: ZoneInfo | None = None,
    use_freebusy: bool = True,
) -> list[BusyTime]:
    """Each worker's busy time between `start` and `end`, from their own calendar.

    Only workers with a `calendar_url` are read. Free/busy REPORT first; where the server
    lacks it (or refuses it), an expanded time-range search. Radicale's FBTYPE=FREE (cancelled
    events) is ignored and Xandikos's missing FBTYPE counts as busy. Our own visits are left
    out: by UID in a search, and by matching the periods of `own` in free/busy answers.

    Raises:
        AuthError, UnreachableError, CalendarError: as for publishing.
    """
    from caldav.collection import Calendar as DavCalendar
    from caldav.lib import error

    zone = tz or ZoneInfo("Europe/London")
    begin, finish = start.astimezone(UTC), end.astimezone(UTC)
    mine: set[tuple[str, datetime, datetime]] = set()
    for visit in own:
        s = visit.start.astimezone(UTC)
        e = s + timedelta(minutes=visit.duration_min)
        mine.add((visit.worker_id, s, e))
        if visit.second_worker_id:
            mine.add((visit.second_worker_id, s, e))
    busy: list[BusyTime] = []
    for worker in workers:
        if not worker.calendar_url:
            continue
        url = on_server(client, worker.calendar_url, f"the calendar_url of {worker.id}")
        cal = DavCalendar(client=client, url=url)
        periods: list[tuple[datetime, datetime]]
        if use_freebusy:
            try:
                periods = [
                    p
                    for p in _freebusy_periods(cal, begin, finish)
                    if (worker.id, p[0], p[1]) not in mine
                ]
            except (AuthError, UnreachableError):
                raise
            except (CalendarError, error.DAVError, ValueError):
                periods = _search_periods(cal, begin, finish, zone)
        else:
            periods = _search_periods(cal, begin, finish, zone)
        for s, e in _merge(periods):
            s, e = max(s, begin), min(e, finish)
            if s < e:
                busy.append(BusyTime(worker_id=worker.id, start=s, end=e))
    return busy


def busy_for_scenario(
    scenario: Scenario,
    start: date | datetime,
    end: date | datetime,
    *,
    client: DAVClient | None = None,
    config: DavConfig | None = None,
    own: Iterable[Visit] = (),
) -> Scenario:
    """The scenario with its workers' CalDAV busy times added (dates: local days, end inclusive).

    Without a client, one is made from `config` or from `read_config()`.

    Raises:
        ConfigError, AuthError, UnreachableError, CalendarError: as for `fetch_busy`.
    """
    tz = ZoneInfo(scenario.authority.timezone)
    if not isinstance(start, datetime):
        start = datetime.combine(start, time(0), tzinfo=tz)
    if not isinstance(end, datetime):
        end = datetime.combine(end + timedelta(days=1), time(0), tzinfo=tz)
    dav = client or connect(config or read_config())
    found = fetch_busy(dav, scenario.workers, start, end, own=own, tz=tz)
    known = {(b.worker_id, b.start, b.end) for b in scenario.busy}
    extra = tuple(b for b in found if (b.worker_id, b.start, b.end) not in known)
    return scenario.model_copy(update={"busy": (*scenario.busy, *extra)})
