"""ICS subscription feeds: secret per-worker token URLs, and the Starlette app serving them.

Rule: a feed URL is a bearer credential. Tokens hold 256 random bits, only their SHA-256 is
stored, and any unknown, revoked or malformed path answers the same bare 404. Tokens are
never logged.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from integrations.ics import CANCEL_GRACE, merged, revise, worker_calendar
from scheduler.domain import LedgerEntry, Plan, Scenario

FEED_PREFIX = "/feeds/"
FEED_SUFFIX = ".ics"
TOKEN_BYTES = 32  # 256 bits, above the 128 the design asks for
MEDIA_TYPE = "text/calendar; charset=utf-8"


class FeedStore(Protocol):
    """What the feed server needs from the store."""

    def feed_worker_for(self, token_hash: str) -> str | None:
        """The worker of a live token hash."""
        ...

    def read_scenario(self) -> Scenario:
        """The caseload."""
        ...

    def current_plan(self) -> Plan | None:
        """The current plan."""
        ...

    def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]:
        """The calendar ledger."""
        ...

    def ledger_put(self, entry: LedgerEntry) -> None:
        """Record a revision."""
        ...


class TokenStore(Protocol):
    """What issuing and revoking tokens needs from the store."""

    def feed_token_put(self, worker_id: str, token_hash: str, now: datetime) -> None:
        """Store a new token hash, revoking the worker's older ones."""
        ...

    def feed_token_revoke(self, worker_id: str, now: datetime) -> bool:
        """Revoke the worker's live tokens."""
        ...


def hash_token(token: str) -> str:
    """The SHA-256 (hex) under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def feed_url(base_url: str, token: str) -> str:
    """The subscription URL of a token."""
    return f"{base_url.rstrip('/')}{FEED_PREFIX}{token}{FEED_SUFFIX}"


def issue_token(store: TokenStore, worker_id: str, now: datetime, base_url: str) -> str:
    """Issue a new feed URL for the worker, replacing any earlier one; only its hash is kept.

    Raises:
        NotFoundError: the worker is unknown.
    """
    token = secrets.token_urlsafe(TOKEN_BYTES)
    store.feed_token_put(worker_id, hash_token(token), now)
    return feed_url(base_url, token)


def revoke_token(store: TokenStore, worker_id: str, now: datetime) -> bool:
    """End the worker's feed; False when there was no live token."""
    return store.feed_token_revoke(worker_id, now)


def render_feed(store: FeedStore, worker_id: str, now: datetime, cancel_grace: timedelta) -> bytes:
    """The worker's feed body, recording any new revisions so SEQUENCE agrees with publishing."""
    scenario = store.read_scenario()
    plan = store.current_plan()
    visits = plan.visits if plan else ()
    before = store.ledger_all()
    changes = revise(before, visits, scenario, now)
    for entry in changes:
        store.ledger_put(entry)
    return worker_calendar(merged(before, changes), visits, scenario, worker_id, now, cancel_grace)


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def _etag_matches(header: str | None, etag: str) -> bool:
    """True when If-None-Match names `etag` (or is `*`)."""
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


def make_app(
    store_factory: Callable[[], FeedStore],
    now_fn: Callable[[], datetime],
    cancel_grace: timedelta = CANCEL_GRACE,
) -> Starlette:
    """The feed server: `GET|HEAD /feeds/{token}.ics`, and 404 for everything else."""

    def endpoint(request: Request) -> Response:
        path = request.url.path
        if request.method not in ("GET", "HEAD"):
            return _not_found()
        if not (path.startswith(FEED_PREFIX) and path.endswith(FEED_SUFFIX)):
            return _not_found()
        token = path[len(FEED_PREFIX) : -len(FEED_SUFFIX)]
        if not token or "/" in token or len(token) > 200:
            return _not_found()
        store = store_factory()
        worker_id = store.feed_worker_for(hash_token(token))
        if worker_id is None:
            return _not_found()
        scenario = store.read_scenario()
        if worker_id not in {w.id for w in scenario.workers}:
            return _not_found()
        body = render_feed(store, worker_id, now_fn(), cancel_grace)
        etag = f'"{hashlib.sha256(body).hexdigest()}"'
        headers = {
            "ETag": etag,
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            return Response(
                status_code=200,
                headers=headers | {"Content-Length": str(len(body))},
                media_type=MEDIA_TYPE,
            )
        return Response(body, status_code=200, headers=headers, media_type=MEDIA_TYPE)

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    routes = [Route("/{path:path}", endpoint, methods=methods)]
    return Starlette(routes=routes)
