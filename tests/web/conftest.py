"""Fixtures for the desk: a real SQLite store with a generated two-team authority, a real
CP-SAT plan and real accounts, and a Starlette TestClient on it.

Rule: unit tests here open no sockets (the TestClient runs the app in memory); the browser
tests in `test_browser.py` start `visitplan serve` on 127.0.0.1 and are `integration`.
Children carry names ("... Testname") and homes addresses ("... Testaddress") so that any
leak of them into a page, a log or a URL is caught by looking for those words.
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from integrations.feeds import FeedServer, issue_token, make_app, revoke_token
from scheduler import service
from scheduler.accounts import add_user
from scheduler.domain import Plan, Scenario
from scheduler.feed_source import StoreFeedSource
from scheduler.generate import generate
from scheduler.store import Store
from scheduler.web.app import create_app
from scheduler.web.context import DeskServices, PublishCounts

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

START = date(2026, 11, 30)
"""Monday the plan starts."""
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
"""Wednesday of the plan's first week. Monday's outcomes are recorded; team-01's Tuesday
visits await theirs."""
TUESDAY = date(2026, 12, 1)
PASSWORD = "correct horse battery"
NAME_MARK = "Testname"
ADDRESS_MARK = "Testaddress"
SECRET = "test-secret-" + "x" * 32


@dataclass(frozen=True)
class Desk:
    """Ids the tests use."""

    path: Path
    team_a: str
    team_b: str
    worker: str
    """A team-A social worker with visits in the plan (user `wes`)."""
    other_worker: str
    """Another team-A worker with visits."""


def named(scenario: Scenario) -> Scenario:
    """Every child named and every home addressed, with marks the tests search for."""
    children = tuple(
        c.model_copy(update={"name": f"Ysolde {NAME_MARK} {i}"})
        for i, c in enumerate(scenario.children)
    )
    homes = tuple(
        h.model_copy(update={"address": f"{i} {ADDRESS_MARK} Road"})
        for i, h in enumerate(scenario.households)
    )
    return scenario.model_copy(update={"children": children, "households": homes})


def desk_scenario(start: date) -> Scenario:
    """Two teams of a small authority (150 children), named and addressed.

    Seed 19: the tests read features of this generated authority (a joint visit in team-01's
    first week, a child protection visit on its Tuesday, later visits for the first absent
    worker, visits on Wednesday to Friday for team-01's busiest social worker); with
    households at real postcodes seed 0 no longer has a joint-visit household in team-01.
    """
    return named(generate("S", seed=19, start=start, children=150))


def awaiting_day(plan: Plan, scenario: Scenario, today: date) -> date:
    """The last weekday before `today` on which team-01 has at least two visits (the desk's
    outcomes page needs one to fail and one to complete)."""
    homes = {h.id: h.team_id for h in scenario.households}
    days = Counter(v.day for v in plan.visits if homes[v.household_id] == "team-01")
    return max(d for d, n in days.items() if n >= 2 and d < today and d.weekday() < 5)


def build_store(
    path: Path, start: date, now: datetime, awaiting: date | None, weeks: int = 2
) -> tuple[Scenario, Plan]:
    """A store at `path` with the caseload, a plan of `weeks` from `start` and the users.

    Every visit before `now` has its outcome recorded, except team-01's on `awaiting` (None:
    `awaiting_day`).
    """
    scenario = desk_scenario(start)
    store = Store(f"sqlite:///{path}")
    store.replace_caseload(scenario)
    plan = service.plan_caseload(scenario, start, weeks, service.solve_params(0.3, 0))
    store.save_plan(plan, now)
    if awaiting is None:
        awaiting = awaiting_day(plan, scenario, now.date())
    record_all_but(store, plan, scenario, now.date(), "team-01", awaiting)
    add_user(store, "ada", "admin", PASSWORD, now)
    add_user(store, "mo", "manager", PASSWORD, now, teams=("team-01",))
    add_user(store, "tess", "manager", PASSWORD, now, teams=("team-02",))
    add_user(
        store,
        "wes",
        "worker",
        PASSWORD,
        now,
        worker_id=busiest(plan, "team-01", scenario, now.date()),
    )
    store.close()
    return scenario, plan


def record_all_but(
    store: Store, plan: Plan, scenario: Scenario, today: date, team: str, day: date
) -> None:
    """Outcomes (completed) of every visit before `today` except the team's on `day`, which
    stay awaiting their outcome, as on a real morning after."""
    homes = {h.id: h.team_id for h in scenario.households}
    for visit in plan.visits:
        if visit.day < today and not (visit.day == day and homes[visit.household_id] == team):
            service.record_outcome(store, visit.id, "completed")


def busiest(plan: Plan, team_id: str, scenario: Scenario, after: date, rank: int = 0) -> str:
    """The team's social worker with the most visits in the plan after `after` (the day the
    test runs on; or the next by `rank`): the tests give them an absence and read their
    week, which need visits still to come."""
    ours = {w.id for w in scenario.workers if w.team_id == team_id and w.role == "social-worker"}
    counts: dict[str, int] = {}
    for v in plan.visits:
        if v.worker_id in ours and v.day > after:
            counts[v.worker_id] = counts.get(v.worker_id, 0) + 1
    return sorted(counts, key=lambda w: (-counts[w], w))[rank]


@pytest.fixture(scope="session")
def desk_file(tmp_path_factory: pytest.TempPathFactory) -> Desk:
    """The planned store, built once per session; tests work on copies."""
    path = tmp_path_factory.mktemp("desk") / "desk.db"
    scenario, plan = build_store(path, START, NOW, TUESDAY)
    return Desk(
        path=path,
        team_a="team-01",
        team_b="team-02",
        worker=busiest(plan, "team-01", scenario, NOW.date()),
        other_worker=busiest(plan, "team-01", scenario, NOW.date(), 1),
    )


@pytest.fixture
def desk(desk_file: Desk, tmp_path: Path) -> Desk:
    """A copy of the planned store for one test."""
    path = tmp_path / "desk.db"
    shutil.copy(desk_file.path, path)
    return Desk(path, desk_file.team_a, desk_file.team_b, desk_file.worker, desk_file.other_worker)


@pytest.fixture
def store(desk: Desk) -> Iterator[Store]:
    s = Store(f"sqlite:///{desk.path}")
    yield s
    s.close()


class FakeCalendars:
    """Counts publishes (the real CalDAV publish is tested in tests/integrations)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, store: Store, now: datetime, settle: object = None) -> PublishCounts:
        self.calls += 1
        plan = store.current_plan()
        return PublishCounts(len(plan.visits) if plan else 0, 0, 0, 0, 0, 0)


def make_client(
    store: Store,
    base_url: str = "http://testserver",
    clock: Callable[[], datetime] = lambda: NOW,
    **services: object,
) -> TestClient:
    """A TestClient on a desk over `store` at NOW (or at what `clock` says)."""
    feeds = FeedServer(StoreFeedSource(store), lambda: NOW)

    def revoke(store: Store, worker_id: str, now: datetime) -> bool:
        ended = revoke_token(store, worker_id, now)
        feeds.look_again()  # as `visitplan serve` wires it: a revoked URL ends at once
        return ended

    desk_services = DeskServices(
        issue_token,
        revoke,
        services.get("publish"),  # type: ignore[arg-type]
        busy=services.get("busy"),  # type: ignore[arg-type]
    )
    app = create_app(
        store,
        clock,
        SECRET,
        desk_services,
        base_url,
        make_app(feeds),
        services.get("attribution"),  # type: ignore[arg-type]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app, base_url=base_url, follow_redirects=True)


@pytest.fixture
def client(store: Store) -> TestClient:
    return make_client(store)


def token_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> None:
    """Sign in through the form, as a browser would."""
    page = client.get("/login")
    response = client.post(
        "/login", data={"name": name, "password": password, "csrftoken": token_of(page.text)}
    )
    assert response.status_code == 200, response.text[:300]
    assert "Sign out" in response.text


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]) -> Any:
    """Open `page`, then post `data` to `action` with the page's CSRF token."""
    html = client.get(page).text
    return client.post(action, data={**data, "csrftoken": token_of(html)})
