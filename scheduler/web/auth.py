"""Signing in and out, with failed attempts rate limited per name and per address.

Rule: the same message for an unknown name, a wrong password and a disabled account; the
password is never logged; `next` only ever leads to a path on this site.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Sequence

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler.accounts import MAX_NAME_LENGTH, authenticate
from scheduler.web.context import SESSION_USER, desk_of, render

log = logging.getLogger("visitplan.desk")
MAX_FAILURES = 5
WINDOW_S = 15 * 60.0


class SignInLimiter:
    """At most `max_failures` failed sign-ins per key in any `window_s` seconds."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A limiter with no failures yet."""
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures[key]
        while times and times[0] <= now - self.window_s:
            times.popleft()
        return times

    def wait_s(self, keys: Sequence[str]) -> float:
        """Seconds until any of `keys` may try again (0 when none is blocked)."""
        now = self.clock()
        with self._lock:
            waits = [
                times[0] + self.window_s - now
                for times in (self._recent(k, now) for k in keys)
                if len(times) >= self.max_failures
            ]
        return max(waits, default=0.0)

    def failed(self, keys: Sequence[str]) -> None:
        """Count a failed attempt against each key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, name_key: str) -> None:
        """Forget the name's failures after a successful sign-in."""
        with self._lock:
            self._failures.pop(name_key, None)


def _keys(request: Request, name: str) -> tuple[str, str]:
    client = request.client.host if request.client else "unknown"
    return f"name:{name.casefold()}", f"address:{client}"


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in ("/" for anything else)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def sign_in_page(request: Request) -> Response:
    """The sign-in form."""
    if isinstance(request.session.get(SESSION_USER), str):
        return RedirectResponse(safe_next(request.query_params.get("next")), 303)
    return render(request, "login.html", next=safe_next(request.query_params.get("next")))


async def sign_in(request: Request) -> Response:
    """Check the name and password; start a session or say no (the same way for every no)."""
    form = await request.form()
    name = str(form.get("name", "")).strip()[: MAX_NAME_LENGTH + 1]
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))
    desk = desk_of(request)
    keys = _keys(request, name)
    wait = desk.limiter.wait_s(keys)
    if wait > 0:
        minutes = math.ceil(wait / 60)
        message = f"Too many failed sign-ins. Try again in {minutes} minute(s)."
        return render(request, "login.html", 429, error=message, next=target, name=name)
    from starlette.concurrency import run_in_threadpool

    user = await run_in_threadpool(authenticate, desk.store, name, password)
    if user is None:
        desk.limiter.failed(keys)
        log.info("sign-in refused for a name of %d characters", len(name))
        return render(
            request,
            "login.html",
            401,
            error="That name and password do not match an active account.",
            next=target,
            name=name,
        )
    desk.limiter.succeeded(keys[0])
    request.session.clear()
    request.session[SESSION_USER] = user.name
    log.info("signed in: %s (%s)", user.name, user.role)
    return RedirectResponse(target, 303)


async def sign_out(request: Request) -> Response:
    """End the session."""
    request.session.clear()
    return RedirectResponse("/login", 303)


routes = [
    Route("/login", sign_in_page, methods=["GET"]),
    Route("/login", sign_in, methods=["POST"]),
    Route("/logout", sign_out, methods=["POST"]),
]
