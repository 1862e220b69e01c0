"""The desk in a real browser: Debian's Chromium driven by Playwright against a real
`visitplan serve` on 127.0.0.1, with a real SQLite store and a real CP-SAT plan.

Rule: `integration`, loopback only (pytest-socket allows 127.0.0.1). The server reads the
real clock, so the store is planned from last Monday. Skips, saying how to get Chromium,
when there is none. Screenshots go to $VISITPLAN_SCREENSHOTS (docs/img to refresh the
manager's guide) or to the test's own folder.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integrations.testing import free_port
from scheduler import service
from scheduler.store import Store
from scheduler.web.snapshot import Snapshot
from tests.web.conftest import (
    ADDRESS_MARK,
    NAME_MARK,
    PASSWORD,
    awaiting_day,
    build_store,
    busiest,
)

CHROMIUM = os.environ.get("VISITPLAN_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--lang=en-GB",
]
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
LONDON = ZoneInfo("Europe/London")

if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: install Debian's `chromium` package "
        "(apt-get install chromium) to run the browser tests",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.allow_hosts(["127.0.0.1"])]


@dataclass
class Server:
    """A running `visitplan serve` and what the tests need to know about its data."""

    url: str
    db: str
    today: date
    awaiting: date
    worker: str
    log: Path


def last_monday(day: date) -> date:
    return day - timedelta(days=day.weekday() + 7)


@contextmanager
def serving(folder: Path, caldav: dict[str, str] | None = None) -> Iterator[Server]:
    """`visitplan serve` on a planned store in `folder`, calendars configured by `caldav`
    (VISITPLAN_CALDAV_* variables; None: not configured)."""
    db_path = folder / "desk.db"
    now = datetime.now(UTC)
    today = now.astimezone(LONDON).date()
    start = last_monday(today)
    scenario, plan = build_store(db_path, start, now, None, weeks=3)
    awaiting = awaiting_day(plan, scenario, now.date())
    port = free_port()
    log = folder / "serve.log"
    executable = Path(sys.executable).with_name("visitplan")
    env = {**os.environ, "VISITPLAN_SECRET_KEY": "browser-test-" + "k" * 32}
    env.pop("VISITPLAN_CALDAV_URL", None)
    env |= caldav or {}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(executable),
                "serve",
                "--port",
                str(port),
                "--db",
                f"sqlite:///{db_path}",
                "--base-url",
                f"http://127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2):
                break
        except (urllib.error.URLError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("visitplan serve did not start:\n" + log.read_text()) from None
            time.sleep(0.2)
    try:
        yield Server(
            url,
            f"sqlite:///{db_path}",
            today,
            awaiting,
            busiest(plan, "team-01", scenario, now.date()),
            log,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("serve")) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("VISITPLAN_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
"""A phone-sized screen (an iPhone 12-14's CSS pixels), touch, mobile layout."""


def new_page(browser: Any, bypass_csp: bool = False, phone: bool = False) -> tuple[Any, list[str]]:
    screen: dict[str, Any] = PHONE if phone else {"viewport": {"width": 1360, "height": 900}}
    context = browser.new_context(
        **screen,
        bypass_csp=bypass_csp,
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def sign_in(page: Any, server: Server, name: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert "Sign out" in page.content()


def snapshot(server: Server) -> Snapshot:
    store = Store(server.db)
    try:
        return Snapshot(*store.snapshot())
    finally:
        store.close()


def assert_private(page: Any) -> None:
    html = page.content()
    assert NAME_MARK not in html
    assert ADDRESS_MARK not in html
    assert NAME_MARK not in page.url


def test_manager_journey(browser: Any, server: Server, shots: Path) -> None:
    """Sign in, read the board, add an absence, preview, apply, record a day, move a visit."""
    page, errors = new_page(browser)
    sign_in(page, server, "mo")
    assert page.url.endswith("/teams/team-01/week")
    assert page.get_by_role("table").first.is_visible()
    page.screenshot(path=str(shots / "board.png"), full_page=True)
    assert_private(page)

    # A visit opens its details in the side panel (htmx), without leaving the board.
    page.locator("a.visit").first.click()
    page.locator("#detail h2").wait_for()
    assert "Why this visit" in page.locator("#detail").inner_text()
    assert page.url.endswith("/teams/team-01/week")
    page.locator("#detail").screenshot(path=str(shots / "visit.png"))

    page.get_by_role("link", name="Compliance").click()
    page.wait_for_load_state()
    assert "who is due a visit" in page.locator("h1").inner_text()
    page.screenshot(path=str(shots / "compliance.png"))
    page.get_by_role("link", name="Next four weeks").click()
    assert page.locator("svg.chart").count() == 2
    page.screenshot(path=str(shots / "outlook.png"), full_page=True)
    assert_private(page)

    # Absence -> preview -> apply.
    snap = snapshot(server)
    away_on = min(
        v.day for v in snap.plan.visits if v.worker_id == server.worker and v.day > server.today
    )
    page.get_by_role("link", name="Absences and re-plan").click()
    page.get_by_label("Worker").select_option(server.worker)
    page.get_by_label("First day away").fill(f"{away_on:%d/%m/%Y}")
    page.get_by_label("Last day away").fill(f"{away_on:%d/%m/%Y}")
    page.get_by_label("Reason").select_option("sickness")
    page.screenshot(path=str(shots / "absence.png"))
    page.get_by_role("button", name="Add absence and preview the re-plan").click()
    page.get_by_text("What would change").wait_for(timeout=300_000)
    assert "had to change (worker away, left or committed)" in page.content()
    page.screenshot(path=str(shots / "replan-preview.png"), full_page=True)
    before = snapshot(server).plan
    page.get_by_role("button", name="Apply this re-plan").click()
    page.get_by_text("Applied.").wait_for()
    after = snapshot(server).plan
    assert after.id != before.id
    assert not [
        v
        for v in after.visits
        if v.worker_id == server.worker and v.day == away_on and v.status == "planned"
    ]

    # A day's outcomes: one failed, the rest completed.
    page.goto(f"{server.url}/teams/team-01/outcomes?day={server.awaiting.isoformat()}")
    rows = page.locator("tbody tr")
    waiting = rows.count()
    assert waiting >= 2
    rows.first.get_by_label("Failed (no one in)").check()
    rows.first.get_by_role("button", name="Record").click()
    page.get_by_text(re.compile(r": not seen")).first.wait_for()
    page.screenshot(path=str(shots / "outcomes.png"), full_page=True)
    page.get_by_role("button", name=re.compile(r"Mark the other \d+ visit\(s\) completed")).click()
    page.wait_for_load_state()
    assert "Mark the other" not in page.content()
    snap = snapshot(server)
    day_visits = [
        v
        for v in snap.plan.visits
        if v.day == server.awaiting and snap.workers[v.worker_id].team_id == "team-01"
    ]
    assert all(snap.records_by_visit.get(v.id) for v in day_visits)

    # Move a visit 15 minutes later: the checker's verdict first, then save.
    snap = snapshot(server)
    for visit in sorted(snap.plan.visits, key=lambda v: v.start):
        if (
            visit.day <= server.today
            or snap.team_of(visit) != "team-01"
            or visit.status != "planned"
        ):
            continue
        later = visit.start.astimezone(LONDON) + timedelta(minutes=15)
        store = Store(server.db)
        verdict = service.move_visit(
            store, visit.id, day=later.date(), at=later.time(), today=server.today, save=False
        )
        store.close()
        if not verdict.refused:
            break
    else:
        pytest.fail("no visit can move 15 minutes later")
    page.goto(f"{server.url}/visits/{visit.id}/move")
    page.get_by_label("Start time").fill(f"{later:%H:%M}")
    page.get_by_role("button", name="Check this move").click()
    page.get_by_text("This move breaks no rule").wait_for()
    page.screenshot(path=str(shots / "move.png"), full_page=True)
    page.get_by_role("button", name="Save this move").click()
    page.wait_for_url(re.compile(r"/teams/team-01/week"))
    store = Store(server.db)
    assert store.find_visit(visit.id).start == later
    store.close()
    assert errors == []


def test_worker_gets_their_feed_link_and_the_feed_serves_their_visits(
    browser: Any, server: Server, shots: Path
) -> None:
    page, errors = new_page(browser)
    sign_in(page, server, "wes")
    assert page.url.endswith("/me")
    page.get_by_role("button", name="Get a new calendar link").click()
    link = page.locator(".feedurl").inner_text().strip()
    assert link.startswith(f"{server.url}/feeds/")
    page.screenshot(path=str(shots / "me.png"), full_page=True)
    with urllib.request.urlopen(link, timeout=30) as response:
        body = response.read().decode()
    snap = snapshot(server)
    mine = [v for v in snap.plan.visits if server.worker in (v.worker_id, v.second_worker_id)]
    assert "BEGIN:VCALENDAR" in body
    assert body.count("BEGIN:VEVENT") >= len([v for v in mine if v.status == "planned"]) > 0
    assert NAME_MARK not in body
    assert errors == []
    # The worker cannot open the team's board.
    response = page.goto(f"{server.url}/teams/team-01/week")
    assert response.status == 403


def test_worker_on_a_phone_reads_their_week_and_gets_the_link(
    browser: Any, server: Server, shots: Path
) -> None:
    """A worker signs in on a phone: their week and the calendar link fit the screen (no
    sideways scrolling of the page), and the link can be copied from it."""
    page, errors = new_page(browser, phone=True)
    sign_in(page, server, "wes")
    assert page.url.endswith("/me")
    assert page.get_by_role("heading", level=1).is_visible()
    page.get_by_role("button", name="Get a new calendar link").click()
    link = page.locator(".feedurl")
    assert link.inner_text().strip().startswith(f"{server.url}/feeds/")
    assert link.is_visible()
    page.screenshot(path=str(shots / "me-phone.png"), full_page=True)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow} px on a phone"
    assert errors == []


def test_manager_on_a_phone_pages_fit_the_screen(browser: Any, server: Server, shots: Path) -> None:
    """A manager on a phone: each team page fits the screen; a wide table scrolls inside its
    own box, never the whole page sideways (compliance overflowed by 328 px before)."""
    page, errors = new_page(browser, phone=True)
    sign_in(page, server, "mo")
    snap = snapshot(server)
    visit = next(v for v in snap.plan.visits if snap.team_of(v) == "team-01")
    paths = [
        *(f"/teams/team-01/{p}" for p in ("week", "due", "outlook", "absences", "outcomes")),
        f"/visits/{visit.id}",
        f"/children/{visit.child_ids[0]}",
    ]
    for path in paths:
        page.goto(f"{server.url}{path}")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow} px on a phone"
        assert_private(page)
    page.goto(f"{server.url}/teams/team-01/due")
    page.screenshot(path=str(shots / "due-phone.png"))
    assert errors == []


def test_corrections_journey(browser: Any, server: Server, shots: Path) -> None:
    """From the compliance list to a child's page; correct the reference; correct a recorded
    outcome; the child's history shows both, with who and when."""
    snap = snapshot(server)
    visit = next(
        v
        for v in sorted(snap.plan.visits, key=lambda v: v.start)
        if v.day < server.awaiting
        and snap.team_of(v) == "team-01"
        and snap.workers[v.worker_id].team_id == "team-01"
        and snap.records_by_visit.get(v.id)
    )
    child = snap.children[visit.child_ids[0]]
    page, errors = new_page(browser)
    sign_in(page, server, "mo")
    page.goto(f"{server.url}/teams/team-01/due")
    page.get_by_role("link", name=child.case_ref, exact=True).click()
    page.wait_for_url(re.compile(f"/children/{child.id}$"))
    page.get_by_label("Case reference").fill(child.case_ref + "-A")
    page.get_by_label("Why (kept in the history)").fill("reference mistyped at referral")
    page.get_by_role("button", name="Save the correction").click()
    page.get_by_text("reference mistyped at referral").wait_for()

    page.goto(f"{server.url}/teams/team-01/outcomes?day={visit.day.isoformat()}")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=child.case_ref + "-A"))
    row.get_by_text("Correct this outcome").click()
    row.get_by_label("Child not seen").check()
    row.get_by_role("button", name="Save the correction").click()
    page.get_by_text(re.compile(r": not seen")).first.wait_for()

    page.goto(f"{server.url}/children/{child.id}")
    history = page.locator("main").inner_text()
    assert "Record edited" in history
    assert "Visit record corrected" in history
    assert "Not seen" in history
    assert "by mo" in history
    page.screenshot(path=str(shots / "child.png"), full_page=True)
    assert_private(page)
    store = Store(server.db)
    versions = [v for v in store.record_versions(child.id) if v.record.visit_id == visit.id]
    store.close()
    assert sorted(v.version for v in versions) == [1, 2]
    assert errors == []


PAGES = [
    "/login",
    "/teams",
    "/teams/team-01/week",
    "/teams/team-01/due",
    "/teams/team-01/outlook",
    "/teams/team-01/absences",
    "/teams/team-01/outcomes",
    "/due",
    "/me",
]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_every_page_passes_axe(browser: Any, server: Server) -> None:
    """No serious or critical axe-core violations on any page (axe injected past the CSP)."""
    page, _ = new_page(browser, bypass_csp=True)
    found: dict[str, list[str]] = {}
    page.goto(f"{server.url}/login")
    found["/login"] = [v["id"] for v in axe_violations(page)]
    sign_in(page, server, "ada")
    snap = snapshot(server)
    visit = next(v for v in snap.plan.visits if v.day > server.today and v.status == "planned")
    child = visit.child_ids[0]
    recorded = next(v for v in snap.plan.visits if snap.records_by_visit.get(v.id))
    for path in [
        *PAGES[1:],
        f"/visits/{visit.id}",
        f"/visits/{visit.id}/move",
        f"/children/{child}",
        f"/teams/{snap.team_of(recorded)}/outcomes?day={recorded.day.isoformat()}",
    ]:
        page.goto(f"{server.url}{path}")
        found[path] = [f"{v['id']}: {v['help']}" for v in axe_violations(page)]
    # A refusal shown under its field: the move form with a past day.
    page.goto(f"{server.url}/visits/{visit.id}/move")
    page.get_by_label("Day").fill(f"{server.today - timedelta(days=1):%d/%m/%Y}")
    page.get_by_role("button", name="Check this move").click()
    page.get_by_text("Day: the day must be today or later.").wait_for()
    found["move refused"] = [f"{v['id']}: {v['help']}" for v in axe_violations(page)]
    # A child's page with a refusal under its field.
    page.goto(f"{server.url}/children/{child}")
    page.get_by_role("button", name="Close the case").click()
    page.get_by_text("Reason: say why the case is closing.").wait_for()
    found["close refused"] = [f"{v['id']}: {v['help']}" for v in axe_violations(page)]
    worker, _ = new_page(browser, bypass_csp=True)
    sign_in(worker, server, "wes")
    found["/me (worker)"] = [v["id"] for v in axe_violations(worker)]
    assert {k: v for k, v in found.items() if v} == {}


def tab_to(page: Any, condition: str, limit: int = 200) -> None:
    """Press Tab until `condition` (JavaScript) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(condition):
            return
    pytest.fail(f"not reachable by Tab: {condition}")


def test_keyboard_only(browser: Any, server: Server) -> None:
    """Sign in, skip to content, and open a visit's details with the keyboard alone."""
    page, errors = new_page(browser)
    page.goto(f"{server.url}/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    tab_to(page, "document.activeElement.id === 'name'")
    page.keyboard.type("mo")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/teams/team-01/week"))
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    tab_to(page, "document.activeElement.classList.contains('visit')")
    page.keyboard.press("Enter")
    page.locator("#detail h2").wait_for()
    page.wait_for_function("document.activeElement && document.activeElement.tagName === 'H2'")
    assert errors == []


def test_back_after_a_check_or_an_outcome_is_a_page_not_an_error(
    browser: Any, server: Server
) -> None:
    """The browser's Back button after checking a move, or after recording a visit not seen,
    shows the page again: both were answers to a form posted (no-store), so Back gave
    Chromium's "Confirm Form Resubmission" (net::ERR_CACHE_MISS) and reload posted again.
    Each now redirects to a page of its own."""
    page, _errors = new_page(browser)
    sign_in(page, server, "mo")
    snap = snapshot(server)
    visit = next(
        v
        for v in sorted(snap.plan.visits, key=lambda v: v.start)  # type: ignore[union-attr]
        if v.day > server.today and snap.team_of(v) == "team-01"
    )
    page.goto(f"{server.url}/visits/{visit.id}/move")
    page.get_by_role("button", name="Check this move").click()
    page.get_by_text("The checker's verdict").wait_for()
    page.get_by_role("link", name="Back to the week").click()
    page.wait_for_url(re.compile(r"/teams/team-01/week"))
    page.go_back()
    page.get_by_text("The checker's verdict").wait_for()
    assert NAME_MARK not in page.url
    snap = snapshot(server)
    open_visit = next(
        v
        for v in snap.plan.visits  # type: ignore[union-attr]
        if v.day <= server.today
        and snap.team_of(v) == "team-01"
        and not snap.records_by_visit.get(v.id)
        and v.status != "cancelled"
    )
    page.goto(f"{server.url}/teams/team-01/outcomes?day={open_visit.day.isoformat()}")
    form = page.locator(f'form[action$="/outcomes/{open_visit.id}"]')
    form.get_by_label("Child not seen").check()
    form.get_by_role("button", name="Record").click()
    page.get_by_text("Preview a re-plan (Absences and re-plan)").first.wait_for()
    page.get_by_role("link", name="Week", exact=True).click()
    page.wait_for_url(re.compile(r"/teams/team-01/week"))
    page.go_back()
    page.get_by_text("Preview a re-plan (Absences and re-plan)").first.wait_for()
    assert_private(page)


def test_manager_records_a_leaver(browser: Any, server: Server, shots: Path) -> None:
    """The absences page's "Someone has left": the colleague takes their children, the
    preview lists their visits as changes that had to happen. (Runs after the journeys that
    read this store's workers.)"""
    snap = snapshot(server)
    team = {w.id for w in snap.scenario.workers if w.team_id == "team-01"}
    upcoming = Counter(
        v.worker_id
        for v in snap.plan.visits
        if v.worker_id in team and v.day >= server.today and v.worker_id != server.worker
    )
    leaver = upcoming.most_common(1)[0][0]
    colleague = next(w for w in sorted(team) if w not in (leaver, server.worker))
    page, errors = new_page(browser)
    sign_in(page, server, "mo")
    page.goto(f"{server.url}/teams/team-01/absences")
    page.get_by_label("Who has left").select_option(leaver)
    page.get_by_label("Their children go to").select_option(colleague)
    page.get_by_label("They have left the team").check()
    page.screenshot(path=str(shots / "leaver.png"))
    page.get_by_role("button", name="Record that they left and preview the re-plan").click()
    page.get_by_text("What would change").wait_for(timeout=300_000)
    name = next(w.name for w in snap.scenario.workers if w.id == leaver)
    assert f"{name} has left" in page.content()  # named, not by id
    store = Store(server.db)
    try:
        assert store.worker(leaver) is None
        assert {c.allocated_worker for c in snap.scenario.children if c.allocated_worker == leaver}
        now = store.read_scenario()
        assert leaver not in {c.allocated_worker for c in now.children}
    finally:
        store.close()
    assert_private(page)
    assert errors == []


def test_no_child_name_reaches_the_server_log(server: Server) -> None:
    text = server.log.read_text()
    assert NAME_MARK not in text
    assert ADDRESS_MARK not in text
    assert "Traceback" not in text
