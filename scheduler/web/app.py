"""The manager's desk as one Starlette app: routes, sessions, CSRF, security headers, errors.

Rule: wiring only. Pages live in one routes module per page family and call `service`;
no planning logic here. Every response carries a Content
Security Policy with no inline script or style, and `X-Frame-Options: DENY`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from asgi_csrf import asgi_csrf
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scheduler.errors import VisitplanError
from scheduler.store import Store
from scheduler.web import (
    absences,
    auth,
    board,
    calendars,
    changes,
    children,
    compliance,
    me,
    outcomes,
    pictures,
)
from scheduler.web.auth import SignInLimiter
from scheduler.web.board import dmy
from scheduler.web.context import (
    TEMPLATES,
    Desk,
    DeskServices,
    ForbiddenError,
    PageNotFoundError,
    SignInRequiredError,
    render,
    signed_in,
)
from scheduler.web.jobs import JobRunner
from scheduler.web.snapshot import SnapshotCache

log = logging.getLogger("visitplan.desk")
STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "visitplan_session"
CSRF_COOKIE = "visitplan_csrf"
SESSION_HOURS = 10
FEEDS = "/feeds/"
"""Where the feed server is mounted."""
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    b"content-security-policy": CSP.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"cross-origin-opener-policy": b"same-origin",
}


class _EveryPath:
    """Tells asgi-csrf to check every unsafe request, cookies or not (sign-in included)."""

    def __contains__(self, path: object) -> bool:
        return True


class SecurityHeaders:
    """Adds the security headers to every response; the CSRF cookie becomes HttpOnly (forms
    carry the token, so no script needs to read it)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Add the headers on the way out."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                for key, value in message.get("headers", []):
                    if key == b"set-cookie" and value.startswith(CSRF_COOKIE.encode() + b"="):
                        value += b"; HttpOnly"
                    headers.append((key, value))
                present = {k for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                if b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _csrf(secret: str, secure: bool) -> Callable[[ASGIApp], ASGIApp]:
    """asgi-csrf (double-submit, signed token) on every unsafe method and every path."""

    async def refused(scope: Scope, send: Send, _reason: object) -> None:
        body = (
            b"<!doctype html><html lang='en-GB'><head><meta charset='utf-8'>"
            b"<title>Form expired</title></head><body><main><h1>That form has expired</h1>"
            b"<p>Nothing was changed. Go back, reload the page and try again.</p>"
            b"</main></body></html>"
        )
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def wrap(app: ASGIApp) -> ASGIApp:
        wrapped: ASGIApp = asgi_csrf(
            app,
            cookie_name=CSRF_COOKIE,
            signing_secret=secret,
            always_protect=_EveryPath(),
            cookie_secure=secure,
            cookie_samesite="Strict",
            send_csrf_failed=refused,
        )
        return wrapped

    return wrap


class _Csrf:
    """Starlette middleware adapter for asgi-csrf. The feeds are left out: they change
    nothing, take no cookie, and answer any method but GET and HEAD with the same bare 404
    as an unknown token (docs/calendars.md), not the desk's "form has expired" page."""

    def __init__(self, app: ASGIApp, secret: str, secure: bool) -> None:
        self.inner = app
        self.app = _csrf(secret, secure)(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(FEEDS):
            await self.inner(scope, receive, send)
            return
        await self.app(scope, receive, send)


def home(request: Request) -> Response:
    """Where each role starts: a worker's week, a manager's first team, an admin's teams."""
    user = signed_in(request)
    if user.role == "worker":
        return RedirectResponse("/me", 303)
    if user.role == "manager" and len(user.teams) == 1:
        return RedirectResponse(f"/teams/{user.teams[0]}/week", 303)
    return RedirectResponse("/teams", 303)


def teams_page(request: Request) -> Response:
    """The teams the user may open."""
    user = signed_in(request)
    if user.role == "worker":
        raise ForbiddenError
    snapshot = request.app.state.desk.snapshot(request)
    teams = [(t, n) for t, n in snapshot.team_names.items() if user.sees_team(t)]
    return render(request, "teams.html", teams=teams)


def _error_page(status: int, title: str, message: str) -> Callable[..., Any]:
    def handler(request: Request, exc: Exception) -> Response:
        if status == 401:
            if request.method == "GET":
                path = request.url.path
                query = f"?{request.url.query}" if request.url.query else ""
                return RedirectResponse(f"/login?next={path}{query}", 303)
            return RedirectResponse("/login", 303)
        return render(request, "error.html", status, title=title, message=message)

    return handler


def _bad_input(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", 400, title="That could not be done", message=str(exc))


def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("error on %s %s", request.method, request.url.path)
    message = "Something went wrong on our side; nothing was changed. Please try again."
    return HTMLResponse(
        "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>Error</title>"
        f"</head><body><main><h1>Sorry</h1><p>{message}</p></main></body></html>",
        status_code=500,
    )


@cache
def _templates() -> Jinja2Templates:
    """The desk's templates with its filters, every one compiled: made once per process and
    shared by every app (nothing in them differs between apps)."""
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["day"] = lambda d: f"{d:%a} {d.day} {d:%b}" if d else ""
    env.filters["longday"] = lambda d: f"{d:%A} {d.day} {d:%B %Y}" if d else ""
    env.filters["hm"] = _hm
    env.filters["dmy"] = dmy
    env.filters["days"] = lambda n: f"{n} day" if n == 1 else f"{n} days"
    env.filters["hours"] = lambda minutes: f"{minutes / 60:.1f}"
    env.globals["today_iso"] = lambda d: d.isoformat()
    # Compiled at start-up, not by the first page that needs one (a fresh desk's first L
    # compliance page paid 0.03-0.07 s for it).
    for name in env.list_templates(extensions=["html"]):
        env.get_template(name)
    return templates


def _hm(moment: datetime | None, tz: str = "Europe/London") -> str:
    return "" if moment is None else moment.astimezone(ZoneInfo(tz)).strftime("%H:%M")


def create_app(
    store: Store,
    now: Callable[[], datetime],
    secret_key: str,
    services: DeskServices,
    base_url: str = "http://127.0.0.1:8080",
    feed_app: ASGIApp | None = None,
    attribution: str | None = None,
    warm: bool = False,
) -> Starlette:
    """The desk (and, when given, the feed server under /feeds/) on one store.

    `now` is the clock (aware), read for today's date and audit times (`visitplan serve`
    gives the command line's, so `VISITPLAN_TODAY` rehearses a day on the desk too; calendars
    and feed tokens use `services.clock`); `secret_key` signs sessions and CSRF tokens;
    cookies are `Secure` when `base_url` is https. With `warm`, a background watcher keeps
    the store's snapshot and today's due dates current (at start-up, after each change made
    through the desk, and within a second of a change made elsewhere); pages that only read
    are served the previous snapshot, marked as updating, while a change is read in.
    """
    secure = base_url.startswith("https://")
    routes: list[BaseRoute] = [
        Route("/", home),
        Route("/teams", teams_page),
        *auth.routes,
        *board.routes,
        *compliance.routes,
        *pictures.routes,
        *absences.routes,
        *calendars.routes,
        *outcomes.routes,
        *changes.routes,
        *children.routes,
        *me.routes,
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
    ]
    if feed_app is not None:
        routes.append(Mount("/feeds", app=feed_app))
    desk = Desk(
        store=store,
        now=now,
        base_url=base_url.rstrip("/"),
        services=services,
        cache=SnapshotCache(store),
        limiter=SignInLimiter(),
        jobs=JobRunner(),
        templates=_templates(),
        attribution=attribution,
        warm=warm,
    )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        desk.start_watching()
        yield
        desk.stop_watching()
        desk.jobs.shutdown()
        if desk.cache.keeper is not None:
            desk.cache.keeper.flush()  # the rows worked out last, kept for the next start

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(_Csrf, secret=secret_key, secure=secure),
            Middleware(
                SessionMiddleware,
                secret_key=secret_key,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_HOURS * 3600,
                same_site="lax",
                https_only=secure,
            ),
        ],
        exception_handlers={
            SignInRequiredError: _error_page(401, "", ""),
            ForbiddenError: _error_page(
                403, "Not yours to open", "You do not have access to this page or action."
            ),
            PageNotFoundError: _error_page(404, "Not found", "There is no such page."),
            404: _error_page(404, "Not found", "There is no such page."),
            VisitplanError: _bad_input,
            500: _server_error,
            Exception: _server_error,
        },
    )
    app.state.desk = desk
    return app
