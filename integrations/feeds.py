"""ICS subscription feeds: secret per-worker token URLs, and the Starlette app that serves them
from prepared, versioned bodies.

Rule: a feed URL is a bearer credential. Tokens hold 256 random bits, only their SHA-256 is
stored, any unknown, revoked or malformed path answers the same bare 404, and no token is ever
logged. A request does bounded work: it reads memory and at most renders one worker's
calendar. The store is looked at (a cheap change stamp) at most once a second; when it has
changed, the live tokens are re-read at once, and everything else (reading the caseload,
revising the ledger, rendering every worker's body) happens once, in one thread, while the
bodies of the previous version are served. A store that cannot be read is a 503 with
Retry-After, never a 500.
"""

from __future__ import annotations

import hashlib
import logging
import math
import secrets
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from integrations.events import EventContext
from integrations.ics import CANCEL_GRACE, shown_cancellations, worker_calendar
from integrations.ledger import BulkLedger, record_revisions, revision_of
from scheduler import LedgerEntry, Scenario, Visit

FEED_PREFIX = "/feeds/"
FEED_SUFFIX = ".ics"
TOKEN_BYTES = 32  # 256 bits, above the 128 the design asks for
MEDIA_TYPE = "text/calendar; charset=utf-8"
log = logging.getLogger("visitplan.feeds")


@dataclass(frozen=True)
class FeedInputs:
    """Everything the feeds are rendered from, read from the store in one go."""

    scenario: Scenario
    visits: tuple[Visit, ...]
    context: EventContext


class FeedSource(BulkLedger, Protocol):
    """What the feed server needs from the store (the scheduler side provides it)."""

    def stamp(self) -> str:
        """A cheap stamp that changes whenever anything a feed shows may have changed."""
        ...

    def live_tokens(self) -> dict[str, str]:
        """Every live (not revoked) token hash, with its worker."""
        ...

    def inputs(self) -> FeedInputs:
        """The caseload, the current plan's visits and the events' wording."""
        ...


class TokenStore(Protocol):
    """What issuing and revoking tokens needs from the store."""

    def feed_token_put(self, worker_id: str, token_hash: str, now: datetime) -> None:
        """Store a new token hash, revoking the worker's older ones."""
        ...

    def feed_token_revoke(self, worker_id: str, now: datetime) -> bool:
        """Revoke the worker's live tokens."""
        ...


@dataclass(frozen=True)
class FeedParams:
    """How the feed server trades freshness for work; the defaults suit an authority of 500."""

    stamp_interval_s: float = 1.0  # the store's change stamp is read at most this often ...
    unknown_token_recheck_s: float = 0.1  # ... or this often when a token is not known
    body_cache_size: int = 2_048  # prepared bodies kept, least recently served dropped first
    burst: int = 30  # requests one token may make at once ...
    per_minute: float = 30.0  # ... and then this many a minute
    rate_table_size: int = 10_000
    retry_after_s: int = 30  # told to clients when the store cannot be read
    cancel_grace: timedelta = CANCEL_GRACE


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


# ------------------------------------------------------------------ versions


@dataclass(frozen=True)
class Body:
    """One worker's prepared feed: the bytes, their strong ETag, and until when they hold."""

    data: bytes
    etag: str
    valid_until: datetime | None  # when a cancelled visit leaves the feed; None: no limit


class Version:
    """Everything the feeds show at one stamp of the store, with each worker's body rendered
    once (on first request or ahead of it) and kept in a bounded LRU table."""

    def __init__(
        self, stamp: str, inputs: FeedInputs, entries: list[LedgerEntry], params: FeedParams
    ) -> None:
        """Index the revised ledger and the visits by worker."""
        self.stamp = stamp
        self.inputs = inputs
        self.params = params
        self.workers = {w.id for w in inputs.scenario.workers}
        self.entries_of: dict[str, list[LedgerEntry]] = defaultdict(list)
        for entry in entries:
            self.entries_of[entry.worker_id].append(entry)
        self.visits_of: dict[str, list[Visit]] = defaultdict(list)
        for visit in inputs.visits:
            for worker_id in {visit.worker_id, visit.second_worker_id} - {None}:
                self.visits_of[str(worker_id)].append(visit)
        self._bodies: OrderedDict[str, Body] = OrderedDict()
        self._lock = threading.Lock()
        self._rendering: dict[str, threading.Lock] = defaultdict(threading.Lock)

    def render(self, worker_id: str, now: datetime) -> Body:
        """Render the worker's body at `now` (no caching)."""
        grace = self.params.cancel_grace
        entries = self.entries_of[worker_id]
        data = worker_calendar(
            entries,
            self.visits_of[worker_id],
            self.inputs.scenario,
            worker_id,
            now,
            grace,
            context=self.inputs.context,
        )
        shown = shown_cancellations(entries, worker_id, now, grace)
        ends = [revision_of(e).stamp + grace for e in shown]
        etag = f'"{hashlib.sha256(data).hexdigest()}"'
        return Body(data, etag, min(ends) if ends else None)

    def prepared(self, worker_id: str, now: datetime) -> Body | None:
        """The worker's body if it is prepared and still holds at `now`, else None."""
        with self._lock:
            found = self._bodies.get(worker_id)
            if found is not None and (found.valid_until is None or now < found.valid_until):
                self._bodies.move_to_end(worker_id)
                return found
            return None

    def body(self, worker_id: str, now: datetime) -> Body:
        """The worker's body, rendered at most once per version (and again when a cancelled
        visit leaves the feed)."""
        found = self.prepared(worker_id, now)
        if found is not None:
            return found
        with self._lock:
            gate = self._rendering[worker_id]
        with gate:  # one thread renders a worker's body; the others wait for it
            with self._lock:
                found = self._bodies.get(worker_id)
            if found is not None and (found.valid_until is None or now < found.valid_until):
                return found
            made = self.render(worker_id, now)
            self.keep(worker_id, made)
            return made

    def keep(self, worker_id: str, body: Body) -> None:
        """Keep a body, dropping the least recently served beyond the table's size."""
        with self._lock:
            self._bodies[worker_id] = body
            self._bodies.move_to_end(worker_id)
            while len(self._bodies) > self.params.body_cache_size:
                self._bodies.popitem(last=False)

    def prepare_all(self, now: datetime) -> None:
        """Render every worker's body ahead of requests (as many as the table holds)."""
        for worker_id in sorted(self.workers)[: self.params.body_cache_size]:
            self.keep(worker_id, self.render(worker_id, now))


class UnavailableError(Exception):
    """The store could not be read; the request gets a 503."""


class RateLimiter:
    """A token bucket per feed token (by hash): `burst` at once, then `per_minute`."""

    def __init__(self, params: FeedParams, clock: Callable[[], float] = time.monotonic) -> None:
        """An empty table."""
        self.params = params
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        """0 when the request may go ahead (and is counted), else the seconds to wait."""
        rate = self.params.per_minute / 60.0
        now = self.clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.params.burst), now))
            tokens = min(float(self.params.burst), tokens + (now - then) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / rate if rate > 0 else float("inf")
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.params.rate_table_size:
                self._buckets.popitem(last=False)
        return wait


class FeedServer:
    """The feeds' state: the current version, the live tokens and the rate limiter."""

    def __init__(
        self,
        source: FeedSource,
        now_fn: Callable[[], datetime],
        params: FeedParams | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """A server with nothing prepared yet (see `warm`)."""
        self.source = source
        self.now_fn = now_fn
        self.params = params or FeedParams()
        self.clock = clock
        self.limiter = RateLimiter(self.params, clock)
        self.tokens: dict[str, str] = {}
        self.version: Version | None = None
        self._seen_stamp: str | None = None
        self._stamp_read_at = -math.inf
        self._stamp_lock = threading.Lock()
        self._build_lock = threading.Lock()
        self._failing = False
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    # -- versions

    def _build(self, stamp: str) -> None:
        """Read the store, revise the ledger, prepare every body, then swap the version in."""
        now = self.now_fn()
        inputs = self.source.inputs()
        entries = record_revisions(
            self.source, inputs.visits, inputs.scenario, now, context=inputs.context
        )
        version = Version(stamp, inputs, entries, self.params)
        version.prepare_all(now)
        self.version = version

    def _build_quietly(self, stamp: str) -> None:
        """Build, then release the build lock; a failure is logged (its kind only) and the
        build is tried again at the next look at the stamp."""
        try:
            self._build(stamp)
        except Exception as exc:
            log.warning("feeds: the store could not be read to prepare feeds (%s)", _kind(exc))
        finally:
            self._build_lock.release()

    def warm(self) -> None:
        """Prepare the first version now (at start-up); a store that cannot be read is logged."""
        with suppress(UnavailableError):
            self.current()

    def start_watching(self) -> None:
        """Look at the store every `stamp_interval_s` in a background thread, so a change is
        prepared before the next request rather than on it: a calendar polls hourly (Google
        every 8 to 24 hours), and the request that finds a change is served the previous
        version while the new one is built, so without this every change reached a phone
        one poll late."""
        if self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="feed-watcher", daemon=True)
        self._watcher.start()

    def stop_watching(self) -> None:
        """Stop the background look at the store and wait for it."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=30)
            self._watcher = None

    def _watch(self) -> None:
        """Read the stamp every interval (a build it starts runs in its own thread)."""
        while not self._stop.wait(self.params.stamp_interval_s):
            with suppress(UnavailableError):
                self.current()

    def look_again(self) -> None:
        """Look at the store at the next request: this process has just issued or revoked a
        URL (the desk), so it takes effect at once rather than within a second."""
        self._stamp_read_at = -math.inf

    def settle(self) -> None:
        """Wait for a build under way to finish (for tests and benchmarks)."""
        with self._build_lock:
            pass

    def current(self, interval: float | None = None, *, wait: bool = False) -> Version:
        """The version to serve, the stamp read if it is older than `interval` (by default
        `stamp_interval_s`); with `wait`, a look at the store under way in another thread is
        waited for rather than skipped.

        The store's stamp is read at most every `stamp_interval_s` (by one thread; the others
        serve the version they have); a new stamp starts one rebuild in the background while
        the older version is served. Only the very first version is built while requests wait.

        Raises:
            UnavailableError: the store could not be read at the last look, or no version exists.
        """
        if interval is None:
            interval = self.params.stamp_interval_s
        if self.clock() - self._stamp_read_at >= interval and self._stamp_lock.acquire(
            blocking=wait or self.version is None
        ):
            try:
                if self.clock() - self._stamp_read_at >= interval:
                    self._check_stamp()
            finally:
                self._stamp_lock.release()
        version = self.version
        if self._failing or version is None:
            raise UnavailableError
        return version

    def _check_stamp(self) -> None:
        """Read the stamp; on a change re-read the live tokens at once (so a revoked URL ends
        now) and rebuild the bodies (one build at a time).

        The time of the look is noted once the tokens are read, so a request that finds a look
        under way waits for it (or serves what it has), never reads tokens half-way."""
        try:
            stamp = self.source.stamp()
            if stamp != self._seen_stamp:
                self.tokens = dict(self.source.live_tokens())
                self._seen_stamp = stamp
        except Exception as exc:
            self._failing = True
            log.warning("feeds: the store could not be read (%s)", _kind(exc))
            return
        finally:
            self._stamp_read_at = self.clock()
        self._failing = False
        version = self.version
        if version is not None and version.stamp == stamp:
            return
        if not self._build_lock.acquire(blocking=False):
            return  # a build is under way
        if version is None:
            self._build_quietly(stamp)  # nothing to serve meanwhile: build while requests wait
            return
        threading.Thread(target=self._build_quietly, args=(stamp,), daemon=True).start()

    # -- tokens

    def worker_for(self, token: str) -> str | None:
        """The worker of a live token, from the table read at the last change of the store."""
        return self.tokens.get(hash_token(token))

    # -- requests

    def respond(self, method: str, path: str, if_none_match: str | None) -> Response:
        """The answer to one request (may wait for the store; see `admit` and `answer`)."""
        admitted = self.admit(method, path)
        if isinstance(admitted, Response):
            return admitted
        answer = self.answer(admitted, method, if_none_match, may_block=True)
        assert answer is not None
        return answer

    def admit(self, method: str, path: str) -> Response | str:
        """The token of a well-formed feed request within its rate, else the final answer
        (404 or 429). Memory only; the request is counted against the token's rate."""
        if method not in ("GET", "HEAD"):
            return _not_found()
        if not (path.startswith(FEED_PREFIX) and path.endswith(FEED_SUFFIX)):
            return _not_found()
        token = path[len(FEED_PREFIX) : -len(FEED_SUFFIX)]
        if not token or "/" in token or len(token) > 200:
            return _not_found()
        wait = self.limiter.wait_s(hash_token(token))
        if wait > 0:
            return PlainTextResponse(
                "Too Many Requests",
                status_code=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return token

    def answer(
        self, token: str, method: str, if_none_match: str | None, *, may_block: bool
    ) -> Response | None:
        """The feed of an admitted token. Without `may_block`, None whenever answering would
        touch the store or render (the caller then asks again from a worker thread)."""
        if may_block:
            try:
                version = self.current()
            except UnavailableError:
                return self._unavailable()
        else:
            stale = self.clock() - self._stamp_read_at >= self.params.stamp_interval_s
            if self._failing or self.version is None or stale:
                return None
            version = self.version
        worker_id = self.worker_for(token)
        if worker_id is None:
            if not may_block:
                return None
            # A URL issued a moment ago: look at the store again, a little sooner than usual.
            try:
                version = self.current(self.params.unknown_token_recheck_s, wait=True)
            except UnavailableError:
                return self._unavailable()
            worker_id = self.worker_for(token)
        if worker_id is None or worker_id not in version.workers:
            return _not_found()
        now = self.now_fn()
        body = version.body(worker_id, now) if may_block else version.prepared(worker_id, now)
        if body is None:
            return None
        headers = {
            "ETag": body.etag,
            "Cache-Control": "private, no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        }
        if _etag_matches(if_none_match, body.etag):
            return Response(status_code=304, headers=headers)
        if method == "HEAD":
            return Response(
                status_code=200,
                headers=headers | {"Content-Length": str(len(body.data))},
                media_type=MEDIA_TYPE,
            )
        return Response(body.data, status_code=200, headers=headers, media_type=MEDIA_TYPE)

    def _unavailable(self) -> Response:
        """503 with Retry-After: the store cannot be read just now."""
        return PlainTextResponse(
            "Service Unavailable",
            status_code=503,
            headers={"Retry-After": str(self.params.retry_after_s)},
        )


def _kind(exc: BaseException) -> str:
    """An exception's class name only: database messages may hold children's data or tokens."""
    return type(exc).__name__


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


def _etag_matches(header: str | None, etag: str) -> bool:
    """True when If-None-Match names `etag` (or is `*`)."""
    if not header:
        return False
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags or f"W/{etag}" in tags


def make_app(server: FeedServer) -> Starlette:
    """The feed server: `GET|HEAD /feeds/{token}.ics`, and 404 for everything else.

    Its lifespan prepares the first version before the server accepts requests and keeps
    looking at the store; mounted in a bigger app (whose lifespan does not run this one's),
    call `server.warm()` and `server.start_watching()` there.
    """

    async def endpoint(request: Request) -> Response:
        # Most requests are answered from memory on the event loop; one that would touch the
        # store or render a calendar goes to a worker thread.
        admitted = server.admit(request.method, request.url.path)
        if isinstance(admitted, Response):
            return admitted
        tag = request.headers.get("if-none-match")
        fast = server.answer(admitted, request.method, tag, may_block=False)
        if fast is not None:
            return fast
        slow = await run_in_threadpool(server.answer, admitted, request.method, tag, may_block=True)
        assert slow is not None
        return slow

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        server.warm()
        server.start_watching()
        yield
        server.stop_watching()

    methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]
    routes = [Route("/{path:path}", endpoint, methods=methods)]
    return Starlette(routes=routes, lifespan=lifespan)
