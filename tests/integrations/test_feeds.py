"""The feed server and feed tokens. Rule: Starlette's TestClient opens no sockets; the tests
that serve over a real socket are `integration` and talk to 127.0.0.1 only."""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from integrations.feeds import FeedInputs, FeedParams, FeedServer, hash_token, issue_token, make_app
from scheduler.cli import app as cli
from scheduler.domain import LedgerEntry
from scheduler.feed_source import StoreFeedSource
from scheduler.store import Store
from tests.integrations.conftest import NOW, make_plan, make_scenario, make_visit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1:8080"


@dataclass
class Clock:
    """A monotonic clock the test moves by hand."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Counting:
    """A feed source that counts how often the store is read."""

    inner: StoreFeedSource
    calls: dict[str, int] = field(default_factory=dict)

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    def stamp(self) -> str:
        self._count("stamp")
        return self.inner.stamp()

    def live_tokens(self) -> dict[str, str]:
        self._count("live_tokens")
        return self.inner.live_tokens()

    def inputs(self) -> FeedInputs:
        self._count("inputs")
        return self.inner.inputs()

    def ledger_all(self, worker_id: str | None = None) -> tuple[LedgerEntry, ...]:
        return self.inner.ledger_all(worker_id)

    def ledger_put(self, entry: LedgerEntry) -> None:
        self.inner.ledger_put(entry)


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'feeds.db'}")
    s.replace_caseload(make_scenario())
    s.save_plan(make_plan((make_visit(),)), NOW)
    return s


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def source(store: Store) -> Iterator[Counting]:
    inner = StoreFeedSource(store)
    yield Counting(inner)
    inner.close()


@pytest.fixture
def server(source: Counting, clock: Clock) -> FeedServer:
    return FeedServer(source, lambda: NOW, FeedParams(burst=1000), clock=clock)


@pytest.fixture
def client(server: FeedServer) -> Iterator[TestClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield TestClient(make_app(server))


def path_of(url: str) -> str:
    return url.split("127.0.0.1:8080", 1)[1]


def refresh(server: FeedServer, clock: Clock, seconds: float = 1.1) -> None:
    """Let the stamp interval pass, look at the store, and wait for the rebuild it starts."""
    clock.now += seconds
    server.current()
    server.settle()


def test_feed_serves_the_workers_calendar(store: Store, client: TestClient) -> None:
    url = issue_token(store, "w1", NOW, BASE)
    response = client.get(path_of(url))
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["etag"].startswith('"')
    cal = Calendar.from_ical(response.content)
    assert "UID" not in cal
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "v1@visitplan"
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.text
    assert "X-PUBLISHED-TTL:PT1H" in response.text


def test_head_answers_headers_without_a_body(store: Store, client: TestClient) -> None:
    path = path_of(issue_token(store, "w1", NOW, BASE))
    full = client.get(path)
    head = client.head(path)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == full.headers["etag"]
    assert head.headers["content-length"] == str(len(full.content))


def test_if_none_match_gives_304(store: Store, client: TestClient) -> None:
    path = path_of(issue_token(store, "w1", NOW, BASE))
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_bodies_are_prepared_once_per_version_not_per_request(
    store: Store, source: Counting, client: TestClient
) -> None:
    """Fifty polls of two feeds read the store's contents, tokens and stamp once each."""
    paths = [path_of(issue_token(store, w, NOW, BASE)) for w in ("w1", "w2")]
    for i in range(50):
        assert client.get(paths[i % 2]).status_code == 200
    assert source.calls == {"stamp": 1, "live_tokens": 1, "inputs": 1}


def test_the_stamp_is_read_at_most_once_per_interval(
    store: Store, source: Counting, server: FeedServer, client: TestClient, clock: Clock
) -> None:
    """Just inside the interval the version is trusted; just outside, the stamp is read again."""
    path = path_of(issue_token(store, "w1", NOW, BASE))
    client.get(path)
    assert source.calls == {"stamp": 1, "inputs": 1, "live_tokens": 1}
    clock.now += 0.99
    client.get(path)
    assert source.calls["stamp"] == 1
    clock.now += 0.02
    client.get(path)
    assert source.calls["stamp"] == 2
    # The build's own ledger writes do not move the stamp: nothing changed, no rebuild.
    assert source.calls["inputs"] == 1


def test_a_new_plan_is_served_after_one_rebuild(
    store: Store, source: Counting, server: FeedServer, client: TestClient, clock: Clock
) -> None:
    path = path_of(issue_token(store, "w1", NOW, BASE))
    first = client.get(path)
    store.save_plan(make_plan((make_visit(hour=15),)), NOW)
    refresh(server, clock)
    second = client.get(path)
    assert second.headers["etag"] != first.headers["etag"]
    (event,) = Calendar.from_ical(second.content).walk("VEVENT")
    assert int(event["SEQUENCE"]) == 1
    assert source.calls["inputs"] == 2


def test_a_recorded_outcome_reaches_the_feed(
    store: Store, server: FeedServer, client: TestClient, clock: Clock
) -> None:
    """Recording a failed visit changes the worker's feed (the rebuild reads the records)."""
    from scheduler.domain import VisitRecord

    path = path_of(issue_token(store, "w1", NOW, BASE))
    client.get(path)
    for child in ("c1", "c2"):
        store.add_record(
            VisitRecord(
                id=f"r-{child}", child_id=child, on=NOW.date(), outcome="failed", visit_id="v1"
            )
        )
    refresh(server, clock)
    (event,) = Calendar.from_ical(client.get(path).content).walk("VEVENT")
    assert str(event["SUMMARY"]).startswith("Failed: ")


def test_stale_version_is_served_while_the_next_is_built(
    store: Store, server: FeedServer, client: TestClient, clock: Clock
) -> None:
    """A request never waits for a rebuild once a version exists: it gets the previous body."""
    path = path_of(issue_token(store, "w1", NOW, BASE))
    first = client.get(path)
    store.save_plan(make_plan((make_visit(hour=15),)), NOW)
    server._build_lock.acquire()  # a rebuild that has not finished
    try:
        clock.now += 1.1
        during = client.get(path)
    finally:
        server._build_lock.release()
    assert during.status_code == 200
    assert during.headers["etag"] == first.headers["etag"]


def test_worker_with_no_visits_gets_an_empty_valid_calendar(
    store: Store, client: TestClient
) -> None:
    path = path_of(issue_token(store, "w2", NOW, BASE))
    response = client.get(path)
    assert response.status_code == 200
    assert Calendar.from_ical(response.content).walk("VEVENT") == []


def test_a_cancelled_visit_leaves_the_feed_after_the_grace_without_a_store_change(
    store: Store, source: Counting, clock: Clock
) -> None:
    """The body of a version holds until its first cancelled visit's grace ends, not longer."""
    times = [NOW]
    server = FeedServer(source, lambda: times[0], FeedParams(), clock=clock)
    path = path_of(issue_token(store, "w1", NOW, BASE))
    server.respond("GET", path, None)
    store.save_plan(make_plan(()), NOW)
    refresh(server, clock)
    shown = server.respond("GET", path, None)
    (event,) = Calendar.from_ical(shown.body).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    times[0] = NOW + timedelta(days=7) - timedelta(seconds=1)
    assert len(Calendar.from_ical(server.respond("GET", path, None).body).walk("VEVENT")) == 1
    times[0] = NOW + timedelta(days=7)
    assert Calendar.from_ical(server.respond("GET", path, None).body).walk("VEVENT") == []
    assert source.calls["inputs"] == 2


def test_a_closed_childs_visits_name_them_by_case_reference(
    store: Store, server: FeedServer, client: TestClient, clock: Clock
) -> None:
    """After `child close`, the visit left with no child is shown cancelled under the child's
    case reference (it showed the internal id, `Visit c3`); a brother's visit no longer gives
    the closed child's reasons; and a visit made before the closing day keeps the closed
    child's case reference and recorded outcome."""
    from scheduler.domain import VisitReason, VisitRecord

    def reason(child: str) -> VisitReason:
        return VisitReason(
            child_id=child, rule_id="cp_every_10_working_days", due=date(2026, 12, 4), slack_days=3
        )

    made = make_visit("v0", day=date(2026, 11, 26), reasons=(reason("c1"), reason("c2")))
    siblings = make_visit("v1", reasons=(reason("c1"), reason("c2")))
    alone = make_visit("v2", household="h2", children=("c3",), reasons=(reason("c3"),))
    store.save_plan(make_plan((made, siblings, alone)), NOW)
    for child in ("c1", "c2"):
        store.add_record(
            VisitRecord(
                id=f"r-{child}", child_id=child, on=made.day, outcome="completed", visit_id="v0"
            )
        )
    path = path_of(issue_token(store, "w1", NOW, BASE))
    client.get(path)
    for child in ("c2", "c3"):
        store.close_child(child, NOW.date(), "moved away", by="manager", now=NOW)
    refresh(server, clock)
    body = client.get(path).content
    events = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    cancelled = events["v2@visitplan"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["SUMMARY"]) == "Visit CR-000200"
    kept = events["v1@visitplan"]
    assert str(kept["SUMMARY"]) == "Visit CR-000123"
    assert "CR-000124" not in str(kept["DESCRIPTION"])
    assert str(events["v0@visitplan"]["SUMMARY"]) == "Completed: Visit CR-000123 (+1)"
    assert "CR-000124: completed" in str(events["v0@visitplan"]["DESCRIPTION"])
    assert not re.search(rb"\bc[23]\b", body)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/feeds/unknown.ics", id="unknown-token"),
        pytest.param("/feeds/", id="listing"),
        pytest.param("/", id="root"),
        pytest.param("/feeds/x/y.ics", id="nested"),
        pytest.param("/robots.txt", id="other"),
        pytest.param("/feeds/" + "a" * 201 + ".ics", id="too-long"),
    ],
)
def test_anything_else_is_a_bare_404(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.text == "Not Found"


def test_revocation_is_honoured_at_the_next_look_at_the_store(
    store: Store, server: FeedServer, client: TestClient, clock: Clock
) -> None:
    old = path_of(issue_token(store, "w1", NOW, BASE))
    assert client.get(old).status_code == 200
    new = path_of(issue_token(store, "w1", NOW + timedelta(minutes=1), BASE))
    clock.now += 1.1
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    assert client.post(new).status_code == 404
    store.feed_token_revoke("w1", NOW + timedelta(minutes=2))
    clock.now += 1.1
    assert client.get(new).status_code == 404


def test_revocation_ends_a_feed_within_the_stamp_interval(
    store: Store, source: Counting, clock: Clock
) -> None:
    """Just inside the interval a revoked URL still answers; just outside it is a 404."""
    server = FeedServer(source, lambda: NOW, FeedParams(stamp_interval_s=1.0), clock=clock)
    path = path_of(issue_token(store, "w1", NOW, BASE))
    assert server.respond("GET", path, None).status_code == 200
    store.feed_token_revoke("w1", NOW)
    clock.now += 0.99
    assert server.respond("GET", path, None).status_code == 200
    clock.now += 0.02
    assert server.respond("GET", path, None).status_code == 404


def test_a_url_issued_a_moment_ago_is_found_after_a_short_recheck(
    store: Store, source: Counting, clock: Clock
) -> None:
    """An unknown token makes the server look at the store again after 0.1 s, not 1 s."""
    server = FeedServer(source, lambda: NOW, FeedParams(), clock=clock)
    other = path_of(issue_token(store, "w2", NOW, BASE))
    assert server.respond("GET", other, None).status_code == 200
    path = path_of(issue_token(store, "w1", NOW, BASE))
    clock.now += 0.09
    assert server.respond("GET", path, None).status_code == 404
    clock.now += 0.02
    assert server.respond("GET", path, None).status_code == 200


def test_one_token_is_rate_limited_with_429_and_retry_after(
    store: Store, source: Counting, clock: Clock
) -> None:
    """`burst` requests go through; the next is a 429 until a minute's share has refilled."""
    server = FeedServer(source, lambda: NOW, FeedParams(burst=3, per_minute=6), clock=clock)
    path = path_of(issue_token(store, "w1", NOW, BASE))
    other = path_of(issue_token(store, "w2", NOW, BASE))
    assert [server.respond("GET", path, None).status_code for _ in range(3)] == [200] * 3
    refused = server.respond("GET", path, None)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "10"
    assert server.respond("GET", other, None).status_code == 200  # others are not affected
    clock.now += 9.9
    assert server.respond("GET", path, None).status_code == 429
    clock.now += 0.2
    assert server.respond("GET", path, None).status_code == 200


def test_unknown_tokens_are_rate_limited_too(store: Store, source: Counting, clock: Clock) -> None:
    server = FeedServer(source, lambda: NOW, FeedParams(burst=2, per_minute=1), clock=clock)
    codes = [server.respond("GET", "/feeds/guess.ics", None).status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    assert source.calls["live_tokens"] == 1  # guesses are answered from memory


@dataclass
class Broken(Counting):
    """A source whose database fails, with a token and a child's name in the error's text."""

    broken: set[str] = field(default_factory=set)

    def stamp(self) -> str:
        if "stamp" in self.broken:
            raise RuntimeError("OperationalError: Alice Example token=secret-token")
        return super().stamp()

    def live_tokens(self) -> dict[str, str]:
        if "live_tokens" in self.broken:
            raise RuntimeError("pool exhausted for Alice Example")
        return super().live_tokens()

    def inputs(self) -> FeedInputs:
        if "inputs" in self.broken:
            raise RuntimeError("Alice Example")
        return super().inputs()


@pytest.mark.parametrize("where", ["stamp", "live_tokens", "inputs"])
def test_a_store_that_cannot_be_read_is_a_503_with_retry_after(
    store: Store, clock: Clock, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    """No database failure becomes a 500; the log names the failure's kind, not its text."""
    inner = StoreFeedSource(store)
    source = Broken(inner, broken={where})
    server = FeedServer(source, lambda: NOW, FeedParams(retry_after_s=30), clock=clock)
    token_url = issue_token(store, "w1", NOW, BASE)
    token = token_url.rsplit("/", 1)[1].removesuffix(".ics")
    with caplog.at_level(logging.WARNING, logger="visitplan.feeds"):
        response = server.respond("GET", path_of(token_url), None)
    assert response.status_code == 503
    assert response.body == b"Service Unavailable"
    assert response.headers["retry-after"] == "30"
    assert "RuntimeError" in caplog.text
    for secret in (token, hash_token(token), "Alice", "secret-token"):
        assert secret not in caplog.text
    source.broken.clear()
    clock.now += 1.1
    assert server.respond("GET", path_of(token_url), None).status_code == 200
    inner.close()


def test_a_real_pool_error_is_a_503(store: Store, clock: Clock) -> None:
    """SQLAlchemy's own pool timeout (every connection taken) answers 503, not 500."""
    source = StoreFeedSource(store)
    server = FeedServer(source, lambda: NOW, FeedParams(), clock=clock)
    path = path_of(issue_token(store, "w1", NOW, BASE))
    assert server.respond("GET", path, None).status_code == 200
    store.engine = create_engine(store.url, pool_size=1, max_overflow=0, pool_timeout=0.05)
    held = store.engine.connect()
    try:
        Store(store.url).feed_token_put("w2", "another", NOW)  # a change, from elsewhere
        clock.now += 1.1
        assert server.respond("GET", path, None).status_code == 503
    finally:
        held.close()
    clock.now += 1.1
    assert server.respond("GET", path, None).status_code == 200
    source.close()


def test_a_dropped_table_is_a_503(store: Store, clock: Clock) -> None:
    source = StoreFeedSource(store)
    server = FeedServer(source, lambda: NOW, FeedParams(), clock=clock)
    path = path_of(issue_token(store, "w1", NOW, BASE))
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE feed_tokens"))
    assert server.respond("GET", path, None).status_code == 503
    source.close()


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
    again = runner.invoke(cli, ["feeds", "revoke", "w1", "--db", db])
    assert again.exit_code == 0
    assert "had no live feed" in again.output
    mistyped = runner.invoke(cli, ["feeds", "revoke", "w-nope", "--db", db])
    assert mistyped.exit_code == 2  # a typo is not reported as done
    assert "unknown worker 'w-nope'" in mistyped.output


def test_cli_feeds_issue_for_someone_who_has_left_says_so(tmp_path) -> None:
    """A leaver gets no new feed URL, and is told they have left (it said "unknown worker
    'w1'" of someone the store holds); the edge pair's other half: a current colleague gets
    one."""
    from scheduler.workforce import worker_leaves

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario())
    worker_leaves(store, "w1", NOW.date(), NOW.date(), to="w2", now=NOW)
    runner = CliRunner()
    left = runner.invoke(cli, ["feeds", "issue", "w1", "--db", db])
    assert left.exit_code == 2
    assert "w1 has left" in left.output
    assert "unknown worker" not in left.output
    assert runner.invoke(cli, ["feeds", "issue", "w2", "--db", db]).exit_code == 0


@pytest.mark.parametrize(
    "base", ["not a url", "", "ftp://feeds.example", "https://h:99999", "https://x.example?a=1"]
)
def test_cli_feeds_issue_refuses_a_base_url_that_makes_a_broken_link(tmp_path, base) -> None:
    """A base URL that is not http(s)://host[:port][/path] is refused (exit 2), and no token is
    issued: the printed link would not work."""
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    Store(db).replace_caseload(make_scenario())
    revision = Store(db).revision()
    result = CliRunner().invoke(cli, ["feeds", "issue", "w1", "--db", db, "--base-url", base])
    assert result.exit_code == 2
    assert "--base-url" in result.output
    assert Store(db).revision() == revision


def test_stamp_moves_with_what_feeds_show_and_not_with_the_ledger(store: Store) -> None:
    """A plan, a record, an issued or a revoked token move the stamp; a ledger write does not."""
    from scheduler.domain import VisitRecord

    source = StoreFeedSource(store)
    seen = [source.stamp()]
    store.ledger_put(LedgerEntry(uid="v1@visitplan", worker_id="w1", content_hash="x"))
    assert source.stamp() == seen[-1]
    for change in (
        lambda: store.save_plan(make_plan((make_visit(hour=15),)), NOW),
        lambda: store.add_record(
            VisitRecord(id="r1", child_id="c1", on=NOW.date(), outcome="failed", visit_id="v1")
        ),
        lambda: store.feed_token_put("w1", "h", NOW),
        lambda: store.feed_token_revoke("w1", NOW),
    ):
        change()
        seen.append(source.stamp())
        assert seen[-1] != seen[-2]
    assert source.stamp() == seen[-1]
    source.close()


@pytest.mark.integration
def test_stamp_on_postgresql_changes_with_a_write_and_not_without(postgres_url: str) -> None:
    with Store(postgres_url) as store:
        store.replace_caseload(make_scenario())
        source = StoreFeedSource(store)
        first = source.stamp()
        assert source.stamp() == first
        store.save_plan(make_plan((make_visit(),)), NOW)
        assert source.stamp() != first
        source.close()


@pytest.mark.integration
def test_feeds_on_postgresql_and_a_lost_database_is_a_503(
    postgres_server: str, postgres_url: str, clock: Clock
) -> None:
    """Served from PostgreSQL; when the database goes away, 503 with Retry-After, never 500."""
    from sqlalchemy.engine import make_url

    with Store(postgres_url) as store:
        store.replace_caseload(make_scenario())
        store.save_plan(make_plan((make_visit(),)), NOW)
        source = StoreFeedSource(store)
        server = FeedServer(source, lambda: NOW, FeedParams(), clock=clock)
        path = path_of(issue_token(store, "w1", NOW, BASE))
        assert server.respond("GET", path, None).status_code == 200
        name = store.engine.url.database
        admin_url = make_url(postgres_server).set(drivername="postgresql+psycopg")
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
        clock.now += 1.1
        lost = server.respond("GET", path, None)
        assert lost.status_code == 503
        assert lost.headers["retry-after"] == "30"
        source.close()


def test_the_body_table_is_bounded(store: Store, source: Counting, clock: Clock) -> None:
    """With room for one body, two feeds still serve right; the older body is rendered again."""
    server = FeedServer(source, lambda: NOW, FeedParams(body_cache_size=1), clock=clock)
    paths = {w: path_of(issue_token(store, w, NOW, BASE)) for w in ("w1", "w2")}
    first = {w: server.respond("GET", p, None).headers["etag"] for w, p in paths.items()}
    version = server.current()
    assert len(version._bodies) == 1
    again = {w: server.respond("GET", p, None).headers["etag"] for w, p in paths.items()}
    assert again == first
    assert len(version._bodies) == 1


def test_a_rebuild_records_its_revisions_in_one_go(store: Store) -> None:
    """New revisions replace older entries of the same UIDs; the rest of the ledger stays."""
    source = StoreFeedSource(store)
    old = LedgerEntry(uid="v1@visitplan", worker_id="w1", content_hash="old", sequence=3)
    keep = LedgerEntry(uid="v9@visitplan", worker_id="w2", content_hash="keep")
    store.ledger_put(old)
    store.ledger_put(keep)
    new = old.model_copy(update={"content_hash": "new", "sequence": 4})
    added = LedgerEntry(uid="v2@visitplan", worker_id="w1", content_hash="added")
    source.ledger_put_many([new, added])
    assert {e.uid: e for e in store.ledger_all()} == {
        "v1@visitplan": new,
        "v2@visitplan": added,
        "v9@visitplan": keep,
    }
    source.close()


def test_the_event_loop_path_never_touches_the_store(
    store: Store, source: Counting, clock: Clock
) -> None:
    """Without leave to block, a request is answered from memory or handed back (None)."""
    server = FeedServer(source, lambda: NOW, FeedParams(), clock=clock)
    token = path_of(issue_token(store, "w1", NOW, BASE))[len("/feeds/") : -len(".ics")]
    assert server.answer(token, "GET", None, may_block=False) is None  # nothing prepared yet
    assert source.calls == {}
    assert server.answer(token, "GET", None, may_block=True).status_code == 200
    calls = dict(source.calls)
    clock.now += 0.99
    assert server.answer(token, "GET", None, may_block=False).status_code == 200
    assert server.answer("unknown", "GET", None, may_block=False) is None
    clock.now += 0.02
    assert server.answer(token, "GET", None, may_block=False) is None  # the stamp is due
    assert source.calls == calls


def test_an_unknown_token_waits_for_a_look_at_the_store_under_way(
    store: Store, source: Counting, clock: Clock
) -> None:
    """Forty new URLs at once: the ones that find another thread reading the store wait for
    it instead of answering 404."""
    import threading
    import time

    server = FeedServer(source, lambda: NOW, FeedParams(), clock=clock)
    assert server.respond("GET", path_of(issue_token(store, "w2", NOW, BASE)), None).status_code
    path = path_of(issue_token(store, "w1", NOW, BASE))
    clock.now += 0.2
    answers: list[int] = []
    server._stamp_lock.acquire()  # another request is looking at the store
    try:
        thread = threading.Thread(
            target=lambda: answers.append(server.respond("GET", path, None).status_code)
        )
        thread.start()
        time.sleep(0.05)
    finally:
        server._stamp_lock.release()
    thread.join(timeout=10)
    assert answers == [200]


def test_look_again_makes_a_revocation_in_this_process_immediate(
    store: Store, source: Counting, clock: Clock
) -> None:
    """The desk revokes in the serving process and says so: the URL ends at the next request."""
    server = FeedServer(source, lambda: NOW, FeedParams(), clock=clock)
    path = path_of(issue_token(store, "w1", NOW, BASE))
    assert server.respond("GET", path, None).status_code == 200
    store.feed_token_revoke("w1", NOW)
    server.look_again()
    assert server.respond("GET", path, None).status_code == 404
