"""What every desk page shares: the desk's state, the signed-in user, access checks, rendering.

Rule: every route asks `signed_in`, `team_access` or `visit_access` before it reads anything,
so a role is enforced on every page and every action; errors become pages, never tracebacks.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from scheduler.accounts import User
from scheduler.web.snapshot import Snapshot, SnapshotCache

if TYPE_CHECKING:
    from scheduler.domain import BusyTime, Visit
    from scheduler.store import Store
    from scheduler.web.auth import SignInLimiter
    from scheduler.web.jobs import JobRunner

log = logging.getLogger("visitplan.desk")
TEMPLATES = Path(__file__).parent / "templates"
SESSION_USER = "user"
WATCH_SECONDS = 1.0
"""How often the desk looks at the store's revision for changes made elsewhere."""


@dataclass(frozen=True)
class CalendarEvent:
    """One event on a worker's calendar that a publish found changed or deleted by someone
    else (a conflict), or settled. Ids only: the page finds the words."""

    uid: str
    visit_id: str | None
    worker_id: str
    """Whose calendar it is on."""
    change: Literal["changed", "deleted"]
    cancelled: bool = False
    """The plan had cancelled the visit (putting the plan's back takes it off the calendar)."""


@dataclass(frozen=True)
class Settle:
    """Which conflicts a publish settles, and how: `overwrite` puts the plan's visit back,
    `accept` keeps the worker's change. The one event `uid` on `worker_id`'s calendar, or
    (`uid` None) every conflict on that calendar."""

    action: Literal["overwrite", "accept"]
    worker_id: str
    uid: str | None = None


@dataclass(frozen=True)
class PublishCounts:
    """What a publish to CalDAV calendars did: counts, and each conflict left or settled."""

    created: int
    updated: int
    cancelled: int
    deleted: int
    unchanged: int
    conflicts: int
    conflict_events: tuple[CalendarEvent, ...] = ()
    overwritten: tuple[CalendarEvent, ...] = ()
    accepted: tuple[CalendarEvent, ...] = ()


class Publisher(Protocol):
    """Publishes the current plan to workers' calendars, settling the conflicts `settle`
    names (the command line's `visitplan publish [--overwrite|--accept]`)."""

    def __call__(
        self, store: Store, now: datetime, settle: Settle | None = None
    ) -> PublishCounts: ...


class BusyReader(Protocol):
    """Reads the commitments of the store's workers (or only `workers`) from their own
    calendars, from `start` to `end` (local days, inclusive), leaving out visitplan's own
    events; raises `CalendarUnavailableError` with a message when they cannot be read."""

    def __call__(
        self, store: Store, start: date, end: date, workers: Collection[str] | None = None
    ) -> tuple[BusyTime, ...]: ...


@dataclass(frozen=True)
class DeskServices:
    """What the composition root (`visitplan serve`) plugs in: feeds and calendars.

    `publish` is None when no CalDAV server is configured; it raises `CalendarUnavailableError`
    with a message when a server cannot be reached or refuses. `clock` stamps calendar
    revisions and feed tokens: the real time even when the desk rehearses another day
    (`VISITPLAN_TODAY`); None: the desk's own clock. `busy` reads workers' calendars for a
    re-plan preview (None when no CalDAV server is configured).
    """

    issue_feed: Callable[[Store, str, datetime, str], str]
    revoke_feed: Callable[[Store, str, datetime], bool]
    publish: Publisher | None = None
    clock: Callable[[], datetime] | None = None
    busy: BusyReader | None = None


@dataclass(frozen=True)
class Published:
    """A publish made from the desk, kept for the page that shows it (POST, then GET)."""

    id: str
    owner: str
    team_id: str
    counts: PublishCounts
    notice: str | None = None
    """What the manager asked to settle, and what came of it."""
    problem: bool = False
    """The notice says it could not be done."""


class PublishedResults:
    """The desk's last publishes, by id, for their owners (in memory: a restart forgets them)."""

    KEEP = 50

    def __init__(self) -> None:
        self._kept: OrderedDict[str, Published] = OrderedDict()
        self._lock = threading.Lock()

    def keep(self, result: Published) -> None:
        """Keep `result`, forgetting the oldest beyond `KEEP`."""
        with self._lock:
            self._kept[result.id] = result
            while len(self._kept) > self.KEEP:
                self._kept.popitem(last=False)

    def get(self, result_id: str, owner: str) -> Published | None:
        """The result, if it is `owner`'s."""
        with self._lock:
            found = self._kept.get(result_id)
        return found if found is not None and found.owner == owner else None


class CalendarUnavailableError(Exception):
    """Publishing, or reading workers' calendars, failed; the message says why in a manager's
    words."""


class SignInRequiredError(Exception):
    """No signed-in user: the page answers with the sign-in page."""


class ForbiddenError(Exception):
    """The signed-in user may not see or change this."""


class PageNotFoundError(Exception):
    """No such team, visit, worker or preview."""


@dataclass
class Desk:
    """The desk's state, shared by every request (on `app.state.desk`)."""

    store: Store
    now: Callable[[], datetime]
    base_url: str
    services: DeskServices
    cache: SnapshotCache
    limiter: SignInLimiter
    jobs: JobRunner
    templates: Jinja2Templates
    attribution: str | None = None
    warm: bool = False
    """Keep the snapshot current in the background: at start-up, after each change made
    through the desk, and within `WATCH_SECONDS` of a change made anywhere else."""
    published: PublishedResults = field(default_factory=PublishedResults)
    """Publishes made from the desk, for the page after each (`scheduler.web.calendars`)."""
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _watcher: threading.Thread | None = None

    def snapshot(self, request: Request | None = None) -> Snapshot:
        """The caseload and plan as the store holds them now.

        While a change made elsewhere (the command line, an import, another manager) is
        being read in the background, a page that only reads (`request` a GET) gets the
        previous snapshot at once and says it is updating (`request.state.updating`);
        everything that changes something waits for the current one.
        """
        if request is not None and self.warm and request.method in ("GET", "HEAD"):
            latest = self.cache.latest
            if latest is not None and self.cache.behind():
                self.warm_up()
                request.state.updating = True
                return latest
        return self.cache.get()

    def refresh(self) -> Snapshot:
        """Read the store if it changed and work out today's due dates (the authority-wide
        list above all), so the next page does not wait for them."""
        snapshot = self.cache.read()
        snapshot.due(self.today(snapshot))
        return snapshot

    def warm_up(self) -> None:
        """Ask the background watcher to look at the store now (when the desk is warm)."""
        if self.warm:
            self._wake.set()

    def start_watching(self) -> None:
        """Start the background watcher (at start-up, when the desk is warm)."""
        if not self.warm or self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="desk-watcher", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        """Stop the background watcher and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
            self._watcher = None

    def _watch(self) -> None:
        """Every `WATCH_SECONDS` (or when woken), read a changed store ahead of the pages."""
        while not self._stop.is_set():
            try:
                self.refresh()
            except Exception:
                log.exception("reading the store ahead failed")
            self._wake.wait(WATCH_SECONDS)
            self._wake.clear()

    def calendar_now(self) -> datetime:
        """The time for calendar revisions and feed tokens (`DeskServices.clock`)."""
        return (self.services.clock or self.now)()

    def today(self, snapshot: Snapshot) -> date:
        """Today in the authority's time zone."""
        return self.now().astimezone(ZoneInfo(snapshot.scenario.authority.timezone)).date()


def desk_of(request: Request) -> Desk:
    """The desk serving this request."""
    desk: Desk = request.app.state.desk
    return desk


def signed_in(request: Request) -> User:
    """The signed-in, enabled user.

    Raises:
        SignInRequiredError: no session, an unknown user, or a disabled one.
    """
    name = request.session.get(SESSION_USER)
    if not isinstance(name, str):
        raise SignInRequiredError
    found = desk_of(request).store.user_get(name)
    if found is None or found[0].disabled:
        request.session.clear()
        raise SignInRequiredError
    user: User = found[0]
    request.state.user = user
    return user


def team_access(request: Request, team_id: str) -> tuple[User, Snapshot]:
    """The user and snapshot when the user may see and change the team.

    Raises:
        SignInRequiredError, ForbiddenError, PageNotFoundError.
    """
    user = signed_in(request)
    if user.role == "worker":
        raise ForbiddenError
    snapshot = desk_of(request).snapshot(request)
    if team_id not in snapshot.team_names:
        # A manager learns nothing about teams that are not theirs.
        raise PageNotFoundError if user.role == "admin" else ForbiddenError
    if not user.sees_team(team_id):
        raise ForbiddenError
    return user, snapshot


def visit_access(request: Request, visit_id: str) -> tuple[User, Snapshot, Visit]:
    """The user, snapshot and visit when the user may see the visit.

    Managers see their teams' visits; a worker sees visits they make.

    Raises:
        SignInRequiredError, ForbiddenError, PageNotFoundError.
    """
    user = signed_in(request)
    snapshot = desk_of(request).snapshot(request)
    visit = snapshot.visits.get(visit_id)
    if visit is None:
        raise PageNotFoundError if user.role == "admin" else ForbiddenError
    if user.role == "worker":
        if user.worker_id not in (visit.worker_id, visit.second_worker_id):
            raise ForbiddenError
    else:
        team = snapshot.team_of(visit)
        worker = snapshot.workers.get(visit.worker_id)
        teams = {t for t in (team, worker.team_id if worker else None) if t is not None}
        if not any(user.sees_team(t) for t in teams):
            raise ForbiddenError
    return user, snapshot, visit


def can_change(user: User) -> bool:
    """Managers and admins change plans; workers only read their own week."""
    return user.role in ("admin", "manager")


def is_partial(request: Request) -> bool:
    """True for an htmx request that wants a fragment, not a whole page."""
    return request.headers.get("hx-request") == "true" and not request.headers.get(
        "hx-history-restore-request"
    )


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page (or fragment) from a template, with what every page needs."""
    desk = desk_of(request)
    token = request.scope.get("csrftoken")
    context.setdefault("user", getattr(request.state, "user", None))
    context["csrftoken"] = token() if callable(token) else ""
    context["attribution"] = desk.attribution
    context["partial"] = is_partial(request)
    context["updating"] = getattr(request.state, "updating", False)
    response: Response = desk.templates.TemplateResponse(
        request, template, context, status_code=status_code
    )
    return response


def render_team(
    request: Request,
    snapshot: Snapshot,
    team_id: str,
    template: str,
    nav: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """A page of one team: its name and the team menu (with `nav` marked) come with it."""
    return render(
        request,
        template,
        status_code,
        nav=nav,
        team_id=team_id,
        team_name=snapshot.team_names[team_id],
        **context,
    )


def audit(by: str, action: str, subject: str) -> None:
    """What the desk did that the store's audit does not keep (publishing, feed links), in
    the server log. Ids only: never a child's name, date of birth or address."""
    log.info("audit: %s %s %s", by, action, subject)


def with_form(
    handler: Callable[[Request, FormData], Response],
) -> Callable[[Request], Awaitable[Response]]:
    """An endpoint that reads the posted form, then runs `handler` off the event loop (and,
    when the desk is warm, reads the changed store before answering, so the next page shows
    the change at once)."""

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        desk = desk_of(request)
        response: Response = await run_in_threadpool(handler, request, form)
        if desk.warm:
            # The page after a change shows it: read the store now, not in the background.
            await run_in_threadpool(desk.refresh)
        return response

    endpoint.__doc__ = handler.__doc__
    return endpoint
