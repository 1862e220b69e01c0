"""What every desk page shares: the desk's state, the signed-in user, access checks, rendering.

Rule: every route asks `signed_in`, `team_access` or `visit_access` before it reads anything,
so a role is enforced on every page and every action; errors become pages, never tracebacks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from scheduler.accounts import User
from scheduler.web.snapshot import Snapshot, SnapshotCache

if TYPE_CHECKING:
    from scheduler.domain import Visit
    from scheduler.store import Store
    from scheduler.web.auth import SignInLimiter
    from scheduler.web.jobs import JobRunner

log = logging.getLogger("visitplan.desk")
TEMPLATES = Path(__file__).parent / "templates"
SESSION_USER = "user"


@dataclass(frozen=True)
class PublishCounts:
    """What a publish to CalDAV calendars did."""

    created: int
    updated: int
    cancelled: int
    deleted: int
    unchanged: int
    conflicts: int


@dataclass(frozen=True)
class DeskServices:
    """What the composition root (`visitplan serve`) plugs in: feeds and calendars.

    `publish` is None when no CalDAV server is configured; it raises `CalendarUnavailableError`
    with a message when a server cannot be reached or refuses.
    """

    issue_feed: Callable[[Store, str, datetime, str], str]
    revoke_feed: Callable[[Store, str, datetime], bool]
    publish: Callable[[Store, datetime], PublishCounts] | None = None


class CalendarUnavailableError(Exception):
    """Publishing failed; the message says why in a manager's words."""


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
    """Read the store ahead of the next page: at start-up and after each change."""
    _warming: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> Snapshot:
        """The caseload and plan as the store holds them now."""
        return self.cache.get()

    def warm_up(self) -> None:
        """In the background, read the store and work out today's due dates, so the next page
        (the authority-wide list above all) does not wait for them. One at a time."""
        if not self.warm or not self._warming.acquire(blocking=False):
            return

        def run() -> None:
            try:
                snapshot = self.snapshot()
                snapshot.due(self.today(snapshot))
            except Exception:
                log.exception("reading the store ahead failed")
            finally:
                self._warming.release()

        threading.Thread(target=run, name="warm-up", daemon=True).start()

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
    snapshot = desk_of(request).snapshot()
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
    snapshot = desk_of(request).snapshot()
    visit = snapshot.visits.get(visit_id)
    if visit is None:
        raise PageNotFoundError if user.role == "admin" else ForbiddenError
    if user.role == "worker":
        if user.worker_id not in (visit.worker_id, visit.second_worker_id):
            raise ForbiddenError
    else:
        team = snapshot.team_of(visit)
        worker = snapshot.workers.get(visit.worker_id)
        teams = {team, worker.team_id if worker else None} - {None}
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
    """An endpoint that reads the posted form, then runs `handler` off the event loop (and
    reads the changed store ahead of the next page)."""

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        response: Response = await run_in_threadpool(handler, request, form)
        desk_of(request).warm_up()
        return response

    endpoint.__doc__ = handler.__doc__
    return endpoint
