"""Fixtures for calendar tests: hand-built scenarios and visits, and a real Radicale on loopback.

Rule: unit tests here open no sockets; integration tests are marked `integration` and
`allow_hosts(["127.0.0.1"])`, and talk only to the Radicale subprocess started below.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integrations.events import EventContext
from integrations.testing import RadicaleServer, free_port
from scheduler.domain import (
    Authority,
    Child,
    Household,
    Plan,
    Privacy,
    Scenario,
    Team,
    Visit,
    Worker,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
CP_TITLE = "Child protection: seen at home every 10 working days"
CONTEXT = EventContext({"cp_every_10_working_days": CP_TITLE})
USER = "service"
PASSWORD = "s3cret-test-only"


def make_scenario(
    workers: tuple[str, ...] = ("w1", "w2"),
    calendar_urls: dict[str, str] | None = None,
    privacy: Privacy | None = None,
) -> Scenario:
    """Two households with three children (two in h1), and the named workers."""
    urls = calendar_urls or {}
    return Scenario(
        authority=Authority(id="camden", privacy=privacy or Privacy()),
        as_of=date(2026, 11, 27),
        teams=(Team(id="t1", name="Team One"),),
        workers=tuple(
            Worker(
                id=w,
                name=f"Worker {w}",
                role="social-worker",
                team_id="t1",
                base_lat=51.5,
                base_lon=-0.1,
                calendar_url=urls.get(w),
            )
            for w in workers
        ),
        households=(
            Household(
                id="h1",
                area="Kentish Town",
                address="1 Secret Road, NW5",
                lat=51.55,
                lon=-0.14,
                team_id="t1",
            ),
            Household(
                id="h2",
                area="Somers Town",
                address="2 Hidden Lane, NW1",
                lat=51.53,
                lon=-0.13,
                team_id="t1",
            ),
        ),
        children=(
            Child(
                id="c1",
                case_ref="CR-000123",
                name="Alice Example",
                category="child-protection",
                household_ids=("h1",),
            ),
            Child(
                id="c2",
                case_ref="CR-000124",
                name="Bob Example",
                category="child-protection",
                household_ids=("h1",),
            ),
            Child(
                id="c3",
                case_ref="CR-000200",
                name="Cara Example",
                category="child-in-need",
                household_ids=("h2",),
            ),
        ),
    )


def make_visit(
    visit_id: str = "v1",
    worker: str = "w1",
    *,
    day: date = date(2026, 12, 1),
    hour: int = 10,
    minute: int = 0,
    household: str = "h1",
    children: tuple[str, ...] = ("c1", "c2"),
    **changes: Any,
) -> Visit:
    """A visit at a local London time."""
    data: dict[str, Any] = {
        "id": visit_id,
        "household_id": household,
        "child_ids": children,
        "worker_id": worker,
        "start": datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON),
        "duration_min": 75,
        "checklist": ("see each child alone", "see the bedroom"),
        "rule_ids": ("cp_every_10_working_days",),
        "due": day + timedelta(days=3),
    }
    data.update(changes)
    return Visit(**data)


def make_plan(visits: tuple[Visit, ...]) -> Plan:
    """A plan around the visits."""
    return Plan(
        id="p1", authority="camden", start=date(2026, 11, 30), end=date(2026, 12, 11), visits=visits
    )


@pytest.fixture
def scenario() -> Scenario:
    return make_scenario()


# ------------------------------------------------------------------ Radicale


def _shm_dir() -> Path:
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return Path(tempfile.mkdtemp(prefix="visitplan-radicale-", dir=base))


@pytest.fixture(scope="session")
def radicale() -> Iterator[RadicaleServer]:
    """One Radicale for the session (tmpfs storage, htpasswd plain auth)."""
    folder = _shm_dir()
    server = RadicaleServer(folder, free_port(), {USER: PASSWORD, "other": "other-pass"})
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_radicale() -> Iterator[RadicaleServer]:
    """A Radicale of the test's own, which the test may stop and restart."""
    folder = _shm_dir()
    server = RadicaleServer(folder, free_port(), {USER: PASSWORD, "other": "other-pass"})
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def add_commitment(client: Any, url: str, start: datetime, hours: int = 10) -> None:
    """An event of the worker's own (a court hearing from `start`) in the calendar at `url`."""
    from caldav import Calendar as DavCalendar

    fmt = "%Y%m%dT%H%M%SZ"
    end = start + timedelta(hours=hours)
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:court-{start:%Y%m%d}@example.org\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{start:{fmt}}\r\nDTEND:{end:{fmt}}\r\nSUMMARY:court\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    DavCalendar(client=client, url=url).add_event(ics, increase_seqno=False)


def dav_client(server: RadicaleServer, password: str = PASSWORD) -> Any:
    from integrations.dav import DavConfig, connect

    return connect(DavConfig(url=server.url, username=USER, password=password))


@pytest.fixture
def client(radicale: RadicaleServer) -> Any:
    return dav_client(radicale)


@pytest.fixture
def calendars(client: Any) -> Iterator[dict[str, str]]:
    """A fresh calendar per worker (w1, w2) for this test, deleted afterwards."""
    principal = client.get_principal()
    made = {}
    for worker in ("w1", "w2"):
        cal = principal.make_calendar(name=f"test {worker}", cal_id=f"t-{uuid.uuid4().hex}")
        made[worker] = cal
    yield {w: str(c.url) for w, c in made.items()}
    for cal in made.values():
        cal.delete()


# ------------------------------------------------------------ a broken server

GARBAGE = {
    "not-xml": (200, b"<<<this is not xml"),
    "empty-multistatus": (
        207,
        b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:">'
        b"<d:response><d:href>/x/</d:href></d:response></d:multistatus>",
    ),
    "html-error-page": (200, b"<html><body><h1>Welcome to nginx!</h1></body></html>"),
    "truncated": (207, b'<?xml version="1.0"?><d:multistatus xmlns:d="DAV:"><d:resp'),
}


@pytest.fixture
def garbage_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """A loopback HTTP server answering every request with one kind of nonsense (by param)."""
    import http.server
    import threading

    status, body = GARBAGE[request.param]
    claimed = len(body) + (100 if request.param == "truncated" else 0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(claimed))
            self.end_headers()
            self.wfile.write(body)
            if claimed != len(body):
                self.close_connection = True

        # http.server dispatches on do_<METHOD>: the names are not ours to choose.
        do_GET = do_PUT = do_PROPFIND = answer  # noqa: N815
        do_REPORT = do_OPTIONS = do_MKCALENDAR = do_DELETE = answer  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/dav/"
    finally:
        server.shutdown()
        server.server_close()
