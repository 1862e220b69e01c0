"""Access and safety of the desk: sessions, roles on every route, CSRF, cookies, headers,
children's names. Rule: no sockets (TestClient in memory); a real store and real accounts."""

from __future__ import annotations

import logging
import re

import pytest

from scheduler.domain import Privacy
from scheduler.store import Store
from scheduler.web.auth import MAX_FAILURES, SignInLimiter, safe_next
from tests.web.conftest import (
    ADDRESS_MARK,
    NAME_MARK,
    NOW,
    PASSWORD,
    Desk,
    make_client,
    post_form,
    sign_in,
    token_of,
)

TEAM_PAGES = ("week", "due", "outlook", "absences", "outcomes")


def team_visit(store: Store, team_id: str) -> str:
    """A planned visit to one of the team's households."""
    plan = store.current_plan()
    homes = {h.id for h in store.read_scenario().households if h.team_id == team_id}
    assert plan is not None
    return next(v.id for v in plan.visits if v.household_id in homes)


def pages_of(desk: Desk, store: Store) -> list[str]:
    """Every GET page of the desk for team A (plus the authority-wide ones)."""
    visit = team_visit(store, desk.team_a)
    return [
        "/",
        "/teams",
        "/due",
        "/me",
        *(f"/teams/{desk.team_a}/{p}" for p in TEAM_PAGES),
        f"/teams/{desk.team_a}/week?start=2026-12-07",
        f"/teams/{desk.team_a}/outcomes?day=2026-11-30",
        f"/visits/{visit}",
        f"/visits/{visit}/move",
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/teams",
        "/due",
        "/me",
        "/teams/team-01/week",
        "/teams/team-01/due",
        "/teams/team-01/outlook",
        "/teams/team-01/absences",
        "/teams/team-01/outcomes",
        "/visits/anything",
        "/visits/anything/move",
    ],
)
def test_no_session_shows_the_sign_in_page(client, path: str) -> None:
    """Every page needs a session: without one, the sign-in page (and back afterwards)."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.url.path == "/login"
    assert "<h1>Sign in</h1>" in response.text


def test_sign_in_returns_to_the_page_asked_for(client) -> None:
    response = client.get("/teams/team-01/due")
    token = token_of(response.text)
    response = client.post(
        "/login",
        data={"name": "mo", "password": PASSWORD, "csrftoken": token, "next": "/teams/team-01/due"},
    )
    assert response.url.path == "/teams/team-01/due"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("/teams/team-01/week", "/teams/team-01/week", id="local path"),
        pytest.param("//evil.example/x", "/", id="scheme-relative"),
        pytest.param("https://evil.example/", "/", id="absolute"),
        pytest.param("/\\evil.example", "/", id="backslash"),
        pytest.param(None, "/", id="none"),
    ],
)
def test_next_only_leads_to_this_site(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected


@pytest.mark.parametrize("page", TEAM_PAGES)
def test_manager_of_team_a_gets_403_on_team_b_pages(client, desk: Desk, page: str) -> None:
    sign_in(client, "mo")
    assert client.get(f"/teams/{desk.team_a}/{page}").status_code == 200
    response = client.get(f"/teams/{desk.team_b}/{page}")
    assert response.status_code == 403
    assert "do not have access" in response.text


def test_manager_of_team_a_gets_403_on_team_b_actions(client, desk: Desk, store: Store) -> None:
    """Every action on team B refuses a manager of team A, and nothing is written."""
    sign_in(client, "mo")
    before = store.revision()
    token = token_of(client.get(f"/teams/{desk.team_a}/week").text)
    b_visit = team_visit(store, desk.team_b)
    b_worker = next(w.id for w in store.read_scenario().workers if w.team_id == desk.team_b)
    actions = {
        f"/teams/{desk.team_b}/absences": {"worker": b_worker, "from": "2026-12-03"},
        f"/teams/{desk.team_b}/replan": {"from": "2026-12-03"},
        f"/teams/{desk.team_b}/outcomes/rest": {"day": "2026-11-30"},
        f"/teams/{desk.team_b}/outcomes/{b_visit}": {"outcome": "completed"},
        f"/teams/{desk.team_b}/publish": {},
        f"/teams/{desk.team_b}/calendars/settle": {"worker": b_worker, "action": "accept"},
        # Team A's own address, but a conflict on a team B worker's calendar.
        f"/teams/{desk.team_a}/calendars/settle": {"worker": b_worker, "action": "overwrite"},
        f"/teams/{desk.team_b}/replan/nojob/apply": {},
        f"/visits/{b_visit}/move": {"day": "2026-12-03", "time": "10:00", "worker": b_worker},
        f"/visits/{b_visit}/pin": {},
    }
    for path, data in actions.items():
        response = client.post(path, data={**data, "csrftoken": token})
        assert response.status_code == 403, path
    assert client.get(f"/visits/{b_visit}").status_code == 403
    assert store.revision() == before


def test_manager_may_not_open_the_authority_wide_page(client) -> None:
    sign_in(client, "mo")
    assert client.get("/due").status_code == 403


def test_admin_sees_every_team(client, desk: Desk) -> None:
    sign_in(client, "ada")
    assert "the manager" in client.get("/teams").text
    for team in (desk.team_a, desk.team_b):
        for page in TEAM_PAGES:
            assert client.get(f"/teams/{team}/{page}").status_code == 200
    assert client.get("/due").status_code == 200


def test_worker_sees_only_their_own_week(client, desk: Desk, store: Store) -> None:
    """A worker gets 403 on team pages and on another worker's visits; their own open."""
    sign_in(client, "wes")
    home = client.get("/")
    assert home.url.path == "/me"
    assert "my visits" in home.text
    assert "the manager" not in home.text
    for page in TEAM_PAGES:
        assert client.get(f"/teams/{desk.team_a}/{page}").status_code == 403
    assert client.get("/teams").status_code == 403
    plan = store.current_plan()
    assert plan is not None
    mine = next(v for v in plan.visits if v.worker_id == desk.worker)
    theirs = next(v for v in plan.visits if desk.worker not in (v.worker_id, v.second_worker_id))
    assert client.get(f"/visits/{mine.id}").status_code == 200
    assert client.get(f"/visits/{theirs.id}").status_code == 403
    assert client.get(f"/visits/{mine.id}/move").status_code == 403


def test_post_without_csrf_token_is_refused(client, desk: Desk, store: Store) -> None:
    sign_in(client, "mo")
    before = store.revision()
    worker = desk.worker
    response = client.post(
        f"/teams/{desk.team_a}/absences", data={"worker": worker, "from": "2026-12-03"}
    )
    assert response.status_code == 403
    assert "expired" in response.text
    wrong = client.post(
        f"/teams/{desk.team_a}/absences",
        data={"worker": worker, "from": "2026-12-03", "csrftoken": "forged"},
    )
    assert wrong.status_code == 403
    assert store.revision() == before


def test_sign_in_without_csrf_token_is_refused(client) -> None:
    """Login CSRF: even the sign-in form needs its token (asgi-csrf on every path)."""
    response = client.post("/login", data={"name": "mo", "password": PASSWORD})
    assert response.status_code == 403


def cookie_headers(client, name: str) -> list[str]:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"name": name, "password": PASSWORD, "csrftoken": token_of(page.text)},
        follow_redirects=False,
    )
    return [*page.headers.get_list("set-cookie"), *response.headers.get_list("set-cookie")]


def test_cookies_are_httponly_and_samesite(client) -> None:
    cookies = cookie_headers(client, "mo")
    session = [c for c in cookies if c.startswith("visitplan_session=")]
    csrf = [c for c in cookies if c.startswith("visitplan_csrf=")]
    assert session
    assert csrf
    for cookie in session + csrf:
        lowered = cookie.lower()
        assert "httponly" in lowered
        assert "samesite=lax" in lowered or "samesite=strict" in lowered
        assert "secure" not in lowered.replace("samesite", "")


def test_cookies_are_secure_behind_https(store: Store) -> None:
    client = make_client(store, base_url="https://desk.example")
    cookies = cookie_headers(client, "mo")
    for cookie in cookies:
        assert "; secure" in cookie.lower(), cookie


def test_every_page_has_csp_without_inline_script_and_denies_frames(
    client, desk: Desk, store: Store
) -> None:
    sign_in(client, "ada")
    for path in [*pages_of(desk, store), "/login", "/static/desk.css", "/nowhere"]:
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'", path
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert directives["frame-ancestors"] == "'none'"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client, desk: Desk, store: Store) -> None:
    """The CSP forbids them, so the pages must not need them."""
    sign_in(client, "ada")
    for path in pages_of(desk, store):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


def test_no_child_name_or_address_in_any_page_log_or_url(
    client, desk: Desk, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Names and addresses never appear unless the authority opts in."""
    caplog.set_level(logging.DEBUG)
    sign_in(client, "ada")
    for path in pages_of(desk, store):
        response = client.get(path)
        assert response.status_code == 200, path
        assert NAME_MARK not in response.text, path
        assert ADDRESS_MARK not in response.text, path
        for href in re.findall(r'(?:href|action|hx-get)="([^"]+)"', response.text):
            assert NAME_MARK not in href
            assert ADDRESS_MARK not in href
    assert NAME_MARK not in caplog.text
    assert ADDRESS_MARK not in caplog.text


def test_names_show_on_a_visit_only_when_the_authority_opts_in(desk: Desk, store: Store) -> None:
    scenario = store.read_scenario()
    opted = scenario.authority.model_copy(
        update={"privacy": Privacy(show_names=True, show_address=True)}
    )
    store.replace_caseload(scenario.model_copy(update={"authority": opted}))
    client = make_client(store)
    sign_in(client, "ada")
    visit = team_visit(store, desk.team_a)
    assert NAME_MARK in client.get(f"/visits/{visit}").text
    assert ADDRESS_MARK in client.get(f"/visits/{visit}").text
    board = client.get(f"/teams/{desk.team_a}/week").text
    assert NAME_MARK not in board, "the board shows case references only"


def test_a_disabled_users_session_stops_working(client, store: Store) -> None:
    from scheduler.accounts import disable_user

    sign_in(client, "mo")
    assert client.get("/teams/team-01/week").url.path == "/teams/team-01/week"
    disable_user(store, "mo")
    assert client.get("/teams/team-01/week").url.path == "/login"


def test_wrong_password_and_unknown_name_get_the_same_answer(client) -> None:
    page = client.get("/login")
    token = token_of(page.text)
    wrong = client.post("/login", data={"name": "mo", "password": "nope", "csrftoken": token})
    unknown = client.post("/login", data={"name": "zed", "password": "nope", "csrftoken": token})
    assert wrong.status_code == unknown.status_code == 401
    message = "That name and password do not match an active account."
    assert message in wrong.text
    assert message in unknown.text


def test_sign_in_is_rate_limited(client) -> None:
    """After MAX_FAILURES wrong passwords even the right one is refused for a while."""
    token = token_of(client.get("/login").text)
    for _ in range(MAX_FAILURES):
        response = client.post("/login", data={"name": "mo", "password": "x", "csrftoken": token})
        assert response.status_code == 401
    response = client.post("/login", data={"name": "mo", "password": PASSWORD, "csrftoken": token})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_edge_pair_at_the_window() -> None:
    """Blocked just inside the window after the fifth failure; free again just outside."""
    clock = Clock()
    limiter = SignInLimiter(max_failures=5, window_s=900.0, clock=clock)
    keys = ("name:mo",)
    for _ in range(4):
        limiter.failed(keys)
    assert limiter.wait_s(keys) == 0, "four failures: not yet blocked"
    limiter.failed(keys)
    assert limiter.wait_s(keys) == pytest.approx(900.0)
    clock.now += 899.9
    assert limiter.wait_s(keys) > 0
    clock.now += 0.2
    assert limiter.wait_s(keys) == 0


def test_post_form_helper_works_for_sign_out(client) -> None:
    sign_in(client, "mo")
    response = post_form(client, "/teams", "/logout", {})
    assert response.url.path == "/login"
    assert client.get("/teams").url.path == "/login"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_any_other_method_on_a_feed_url_is_the_bare_404(
    client, desk: Desk, store: Store, method: str
) -> None:
    """docs/calendars.md: every other method gets the same bare 404 as an unknown token. With
    the desk in front, a POST got the desk's "That form has expired" page (403) instead; the
    other half of the pair: GET of an unknown token is the bare 404 too."""
    from integrations.feeds import issue_token

    url = issue_token(store, desk.worker, NOW, "http://testserver")
    path = url.removeprefix("http://testserver")
    for target in (path, "/feeds/unknown.ics"):
        answer = client.request(method, target)
        assert (answer.status_code, answer.text) == (404, "Not Found"), (method, target)
    unknown = client.get("/feeds/unknown.ics")
    assert (unknown.status_code, unknown.text) == (404, "Not Found")
