"""The feed server and feed tokens. Rule: Starlette's TestClient opens no sockets; the one
uvicorn test is `integration` and talks to 127.0.0.1 only."""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from integrations.feeds import hash_token, issue_token, make_app
from scheduler.cli import app as cli
from scheduler.store import Store
from tests.integrations.conftest import NOW, free_port, make_plan, make_scenario, make_visit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    s.replace_caseload(make_scenario())
    s.save_plan(make_plan((make_visit(),)), NOW)
    return s


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield TestClient(make_app(lambda: store, lambda: NOW))


def path_of(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


def test_feed_serves_the_workers_calendar(store: Store, client: TestClient) -> None:
    url = issue_token(store, "w1", NOW, "http://127.0.0.1:8080")
    response = client.get(path_of(url))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["etag"].startswith('"')
    cal = Calendar.from_ical(response.content)
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "v1@visitplan"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.text
    assert "X-PUBLISHED-TTL:PT1H" in response.text


def test_if_none_match_gives_304(store: Store, client: TestClient) -> None:
    path = path_of(issue_token(store, "w1", NOW, "http://127.0.0.1:8080"))
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_when_the_plan_changes(store: Store, client: TestClient) -> None:
    path = path_of(issue_token(store, "w1", NOW, "http://127.0.0.1:8080"))
    first = client.get(path)
    store.save_plan(make_plan((make_visit(hour=15),)), NOW)
    second = client.get(path)
    assert second.headers["etag"] != first.headers["etag"]
    (event,) = Calendar.from_ical(second.content).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1


def test_worker_with_no_visits_gets_an_empty_valid_calendar(
    store: Store, client: TestClient
) -> None:
    path = path_of(issue_token(store, "w2", NOW, "http://127.0.0.1:8080"))
    response = client.get(path)
    assert response.status_code == 200
    assert Calendar.from_ical(response.content).walk("VEVENT") == []


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/feeds/unknown.ics", id="unknown-token"),
        pytest.param("/feeds/", id="listing"),
        pytest.param("/", id="root"),
        pytest.param("/feeds/x/y.ics", id="nested"),
        pytest.param("/robots.txt", id="other"),
    ],
)
def test_anything_else_is_a_bare_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_revoked_and_replaced_tokens_are_404(store: Store, client: TestClient) -> None:
    old = path_of(issue_token(store, "w1", NOW, "http://127.0.0.1:8080"))
    new = path_of(issue_token(store, "w1", NOW + timedelta(minutes=1), "http://127.0.0.1:8080"))
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.post(new).status_code == 404
    store.feed_token_revoke("w1", NOW + timedelta(minutes=2))
    assert client.get(new).status_code == 404


def test_token_has_at_least_128_bits_and_only_its_hash_is_stored(store: Store) -> None:
    url = issue_token(store, "w1", NOW, "https://feeds.example.org")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 43  # 32 random bytes, base64url
    assert store.feed_worker_for(hash_token(token)) == "w1"
    assert store.feed_worker_for(token) is None


def test_cli_feeds_issue_and_revoke(tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    Store(db).replace_caseload(make_scenario())
    runner = CliRunner()
    issued = runner.invoke(
        cli, ["feeds", "issue", "w1", "--db", db, "--base-url", "https://f.example"]
    )
    assert issued.exit_code == 0, issued.output
    url = issued.output.strip()
    assert url.startswith("https://f.example/feeds/")
    assert url.endswith(".ics")
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert Store(db).feed_worker_for(hash_token(token)) == "w1"
    revoked = runner.invoke(cli, ["feeds", "revoke", "w1", "--db", db])
    assert revoked.exit_code == 0
    assert Store(db).feed_worker_for(hash_token(token)) is None
    unknown = runner.invoke(cli, ["feeds", "issue", "nobody", "--db", db])
    assert unknown.exit_code == 2


@pytest.mark.integration
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_feed_over_a_real_socket_with_uvicorn(store: Store) -> None:
    """The app served by uvicorn on 127.0.0.1 answers a real HTTP client."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            make_app(lambda: store, lambda: NOW),
            host="127.0.0.1",
            port=port,
            access_log=False,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        url = issue_token(store, "w1", NOW, f"http://127.0.0.1:{port}")
        with httpx.Client() as http:
            response = http.get(url)
            assert response.status_code == 200
            assert b"v1@visitplan" in response.content
            cached = http.get(url, headers={"If-None-Match": response.headers["etag"]})
            assert cached.status_code == 304
            assert http.get(f"http://127.0.0.1:{port}/feeds/nope.ics").status_code == 404
    finally:
        server.should_exit = True
        thread.join(timeout=10)
