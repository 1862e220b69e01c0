"""CalDAV: the connection, workers' calendars, and reading their busy times.

Rule: caldav, HTTP and network errors never leave this module (or `integrations.publish`,
which writes through it) raw: they become the errors of `integrations.errors`. Credentials
come from the environment or a config file through `read_config`, never from flags, and
are never logged or put in a message.
"""

from __future__ import annotations

import inspect
import os
import tomllib
from collections.abc import Coroutine, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar as ICalendar

from integrations.errors import (
    AuthError,
    CalendarError,
    ConfigError,
    UnreachableError,
)
from integrations.events import is_ours
from scheduler import BusyTime, Scenario, Visit, Worker, WorkerId

if TYPE_CHECKING:
    from caldav.collection import Calendar, Principal
    from caldav.davclient import DAVClient

ENV_URL = "VISITPLAN_CALDAV_URL"
ENV_USERNAME = "VISITPLAN_CALDAV_USERNAME"
ENV_PASSWORD = "VISITPLAN_CALDAV_PASSWORD"
ENV_CONFIG = "VISITPLAN_CONFIG"
DEFAULT_CONFIG = Path("~/.config/visitplan/caldav.toml")
CALENDAR_PREFIX = "visitplan-"

T = TypeVar("T")


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


def awaited(value: T | Coroutine[Any, Any, T]) -> T:
    """A caldav result: caldav 3 types its calls as sync-or-async; our client is synchronous."""
    if inspect.iscoroutine(value):
        value.close()
        raise CalendarError("caldav answered asynchronously; visitplan uses its synchronous client")
    return cast("T", value)


def calendar_id(worker_id: WorkerId) -> str:
    """The id of the calendar visitplan keeps for a worker under the service account."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in worker_id)
    return f"{CALENDAR_PREFIX}{safe}"


def url_path(url: object) -> str:
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
                    found = awaited(self.principal().get_calendars())
                    self._listing = {url_path(c.url).rsplit("/", 1)[-1]: c for c in found}
            cal = self._listing.get(cal_id)
            if cal is None and self.create:
                name = f"Visits: {worker.name}" if worker else f"Visits: {worker_id}"
                with wrapped(f"creating the calendar of {worker_id}"):
                    made = self.principal().make_calendar(
                        name=name, cal_id=cal_id, supported_calendar_component_set=["VEVENT"]
                    )
                cal = awaited(made)
                self._listing[cal_id] = cal
        self._found[worker_id] = cal
        return cal


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
        answer = awaited(cal.freebusy_request(start, end))
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
        found: list[Any] = awaited(cal.search(event=True, start=start, end=end, expand=True))
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
    return scenario.with_busy(fetch_busy(dav, scenario.workers, start, end, own=own, tz=tz))
