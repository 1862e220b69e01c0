"""CalDAV publishing and busy times against a real Radicale on 127.0.0.1 (a fresh calendar per
test). Rule: no host other than 127.0.0.1 is contacted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from integrations.dav import DavConfig, connect, fetch_busy, read_config
from integrations.errors import AuthError, ConfigError, UnreachableError
from integrations.ledger import CANCELLED, DELETED, PUBLISHED
from integrations.publish import publish_plan
from scheduler.cli import app
from scheduler.store import Store
from tests.integrations.conftest import (
    CONTEXT,
    NOW,
    PASSWORD,
    USER,
    RadicaleServer,
    dav_client,
    make_plan,
    make_scenario,
    make_visit,
)

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]


def server_events(client: Any, url: str) -> dict[str, Any]:
    """UID -> VEVENT of every object in the calendar, each parsed back with icalendar."""
    from caldav import Calendar as DavCalendar

    found = {}
    for obj in DavCalendar(client=client, url=url).search(event=True):
        cal = Calendar.from_ical(obj.data)
        assert "METHOD" not in cal
        assert "UID" not in cal
        (event,) = cal.walk("VEVENT")
        found[str(event["UID"])] = event
    return found


@pytest.fixture
def store() -> Store:
    return Store("sqlite://")


def visits_two() -> list:
    return [
        make_visit("v1", "w1"),
        make_visit("v2", "w2", household="h2", children=("c3",), announced=False),
    ]


def test_publish_creates_then_republish_writes_nothing(client, calendars, store) -> None:
    scenario = make_scenario(calendar_urls=calendars)
    first = publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    assert sorted(i.uid for i in first.created) == ["v1@visitplan", "v2@visitplan"]
    writes: list[str] = []
    second = publish_plan(
        client,
        store,
        visits_two(),
        scenario,
        NOW + timedelta(hours=1),
        on_write=lambda kind, entry: writes.append(kind),
        context=CONTEXT,
    )
    assert second.writes == 0
    assert writes == []
    assert second.unchanged == 2
    events = server_events(client, calendars["w2"])
    assert list(events) == ["v2@visitplan"]
    event = events["v2@visitplan"]
    assert int(event["SEQUENCE"]) == 0
    assert str(event["SUMMARY"]) == "Unannounced visit CR-000200"
    assert event["DTSTAMP"].dt == NOW
    assert "Cara" not in event.to_ical().decode()


def test_moved_visit_is_updated_in_place(client, calendars, store) -> None:
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    href = store.ledger_get("v1@visitplan").href
    moved = [make_visit("v1", "w1", hour=15), visits_two()[1]]
    report = publish_plan(client, store, moved, scenario, NOW + timedelta(hours=1), context=CONTEXT)
    assert [i.uid for i in report.updated] == ["v1@visitplan"]
    assert report.created == []
    assert report.conflicts == []
    entry = store.ledger_get("v1@visitplan")
    assert entry.href == href
    assert entry.sequence == 1
    assert entry.status == PUBLISHED
    (event,) = server_events(client, calendars["w1"]).values()
    assert int(event["SEQUENCE"]) == 1
    assert event["DTSTART"].dt == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def test_removed_visit_is_cancelled_then_deleted(client, calendars, store) -> None:
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    only_v2 = visits_two()[1:]
    report = publish_plan(
        client, store, only_v2, scenario, NOW + timedelta(hours=1), context=CONTEXT
    )
    assert [i.uid for i in report.cancelled] == ["v1@visitplan"]
    event = server_events(client, calendars["w1"])["v1@visitplan"]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert store.ledger_get("v1@visitplan").status == CANCELLED
    later = publish_plan(client, store, only_v2, scenario, NOW + timedelta(days=8), context=CONTEXT)
    assert [i.uid for i in later.deleted] == ["v1@visitplan"]
    assert server_events(client, calendars["w1"]) == {}
    assert store.ledger_get("v1@visitplan").status == DELETED


def _edit_on_server(client: Any, href: str, calendar_url: str) -> None:
    """Someone else (the worker) changes the event's summary on the server."""
    from caldav import Calendar as DavCalendar
    from caldav import Event

    obj = Event(client=client, url=href, parent=DavCalendar(client=client, url=calendar_url))
    obj.load()
    with obj.edit_icalendar_component() as comp:
        comp["SUMMARY"] = "Moved by me - worker"
    obj.save(increase_seqno=False)


def test_workers_own_edit_is_reported_not_overwritten(client, calendars, store) -> None:
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    _edit_on_server(client, store.ledger_get("v1@visitplan").href, calendars["w1"])
    unchanged = publish_plan(
        client, store, visits_two(), scenario, NOW + timedelta(hours=1), context=CONTEXT
    )
    assert [c.uid for c in unchanged.conflicts] == ["v1@visitplan"]
    moved = [make_visit("v1", "w1", hour=16), visits_two()[1]]
    report = publish_plan(client, store, moved, scenario, NOW + timedelta(hours=2), context=CONTEXT)
    assert [c.uid for c in report.conflicts] == ["v1@visitplan"]
    assert report.updated == []
    event = server_events(client, calendars["w1"])["v1@visitplan"]
    assert str(event["SUMMARY"]) == "Moved by me - worker"


def test_stale_etag_on_write_is_a_conflict(client, calendars, store) -> None:
    """If-Match with the ledger's ETag: the server's 412 (ETagMismatchError) is a conflict."""
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    entry = store.ledger_get("v1@visitplan")
    store.ledger_put(entry.model_copy(update={"etag": '"stale"'}))
    _edit_on_server(client, entry.href, calendars["w1"])
    moved = [make_visit("v1", "w1", hour=16), visits_two()[1]]
    report = publish_plan(client, store, moved, scenario, NOW + timedelta(hours=1), context=CONTEXT)
    assert [c.uid for c in report.conflicts] == ["v1@visitplan"]


def test_server_killed_mid_publish_then_resumed_without_duplicates(
    own_radicale: RadicaleServer,
) -> None:
    client = dav_client(own_radicale)
    store = Store("sqlite://")
    principal = client.get_principal()
    urls = {w: str(principal.make_calendar(name=w, cal_id=f"cal-{w}").url) for w in ("w1", "w2")}
    scenario = make_scenario(calendar_urls=urls)
    visits = [make_visit(f"v{i}", "w1" if i % 2 else "w2", hour=9 + i) for i in range(1, 6)]
    done: list[str] = []

    def crash_after_two(kind: str, entry: Any) -> None:
        done.append(entry.uid)
        if len(done) == 2:
            own_radicale.stop()

    with pytest.raises(UnreachableError):
        publish_plan(
            client, store, visits, scenario, NOW, on_write=crash_after_two, context=CONTEXT
        )
    assert sum(e.status == PUBLISHED for e in store.ledger_all()) == 2
    own_radicale.start()
    client = dav_client(own_radicale)
    report = publish_plan(
        client, store, visits, scenario, NOW + timedelta(minutes=5), context=CONTEXT
    )
    assert len(report.created) == 3
    assert report.conflicts == []
    assert all(e.status == PUBLISHED for e in store.ledger_all())
    uids = [*server_events(client, urls["w1"]), *server_events(client, urls["w2"])]
    assert sorted(uids) == sorted(f"v{i}@visitplan" for i in range(1, 6))
    again = publish_plan(
        client, store, visits, scenario, NOW + timedelta(minutes=6), context=CONTEXT
    )
    assert again.writes == 0


def test_lost_answer_after_a_landed_write_is_not_a_conflict(client, calendars, store) -> None:
    """A write that reached the server whose ETag never reached the ledger is adopted."""
    scenario = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, visits_two(), scenario, NOW, context=CONTEXT)
    entry = store.ledger_get("v1@visitplan")
    moved = [make_visit("v1", "w1", hour=15), visits_two()[1]]
    publish_plan(client, store, moved, scenario, NOW + timedelta(hours=1), context=CONTEXT)
    landed = store.ledger_get("v1@visitplan")
    store.ledger_put(landed.model_copy(update={"status": "pending", "etag": entry.etag}))
    report = publish_plan(client, store, moved, scenario, NOW + timedelta(hours=2), context=CONTEXT)
    assert report.conflicts == []
    assert report.writes == 0
    assert store.ledger_get("v1@visitplan").etag == landed.etag


def test_dry_run_writes_nothing(client, calendars, store) -> None:
    scenario = make_scenario(calendar_urls=calendars)
    report = publish_plan(client, store, visits_two(), scenario, NOW, dry_run=True, context=CONTEXT)
    assert len(report.created) == 2
    assert report.dry_run
    assert store.ledger_all() == ()
    assert server_events(client, calendars["w1"]) == {}


def test_dry_run_reports_the_counts_the_real_run_makes(client, calendars, store) -> None:
    """Issue 9: `publish --dry-run` says what the real run then does, kind by kind: a visit
    moved in time (updated), one given to another worker (deleted there, created here), one
    removed (cancelled) and a new one (created)."""
    scenario = make_scenario(calendar_urls=calendars)
    first = [*visits_two(), make_visit("v3", "w1", hour=14)]
    publish_plan(client, store, first, scenario, NOW, context=CONTEXT)
    changed = [
        make_visit("v1", "w1", hour=15),
        make_visit("v2", "w1", household="h2", children=("c3",), announced=False),
        make_visit("v4", "w2", hour=11),
    ]
    later = NOW + timedelta(hours=1)

    def counts(report: Any) -> dict[str, int]:
        kinds = ("created", "updated", "cancelled", "deleted", "conflicts")
        return {k: len(getattr(report, k)) for k in kinds} | {"unchanged": report.unchanged}

    dry = publish_plan(client, store, changed, scenario, later, dry_run=True, context=CONTEXT)
    real = publish_plan(client, store, changed, scenario, later, context=CONTEXT)
    assert counts(dry) == counts(real)
    assert counts(real) == {
        "created": 2, "updated": 1, "cancelled": 1, "deleted": 1, "conflicts": 0, "unchanged": 0
    }  # fmt: skip


def test_service_account_calendar_is_created_when_missing(client, store) -> None:
    import uuid

    worker = f"w-{uuid.uuid4().hex[:8]}"
    scenario = make_scenario(workers=(worker,))
    report = publish_plan(client, store, [make_visit("v9", worker)], scenario, NOW, context=CONTEXT)
    assert [i.uid for i in report.created] == ["v9@visitplan"]
    assert f"/visitplan-{worker}/" in store.ledger_get("v9@visitplan").href


def test_wrong_password_is_an_auth_error(radicale: RadicaleServer) -> None:
    client = dav_client(radicale, password="wrong")
    with pytest.raises(AuthError):
        publish_plan(
            client, Store("sqlite://"), visits_two(), make_scenario(), NOW, context=CONTEXT
        )


def test_cli_publish_exit_codes(radicale: RadicaleServer, calendars, tmp_path, monkeypatch) -> None:
    db = f"sqlite:///{tmp_path / 'pub.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario(calendar_urls=calendars))
    store.save_plan(make_plan(tuple(visits_two())), NOW)
    monkeypatch.setenv("VISITPLAN_CALDAV_URL", radicale.url)
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", "wrong")
    runner = CliRunner()
    refused = runner.invoke(app, ["publish", "--db", db])
    assert refused.exit_code == 1
    assert "refused the credentials" in refused.output
    assert "wrong" not in refused.output
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", PASSWORD)
    dry = runner.invoke(app, ["publish", "--dry-run", "--json", "--db", db])
    assert dry.exit_code == 0, dry.output
    assert '"dry_run": true' in dry.output
    done = runner.invoke(app, ["publish", "--db", db])
    assert done.exit_code == 0, done.output
    assert "2 created" in done.output


def test_cli_publish_unreachable_server_exits_1(tmp_path, monkeypatch) -> None:
    from tests.integrations.conftest import free_port

    db = f"sqlite:///{tmp_path / 'pub.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario())
    store.save_plan(make_plan(tuple(visits_two())), NOW)
    monkeypatch.setenv("VISITPLAN_CALDAV_URL", f"http://127.0.0.1:{free_port()}/")
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", PASSWORD)
    result = CliRunner().invoke(app, ["publish", "--db", db])
    assert result.exit_code == 1
    assert "cannot be reached" in result.output


def _add_raw(
    client: Any, url: str, uid: str, start: datetime, minutes: int, extra: str = ""
) -> None:
    from caldav import Calendar as DavCalendar

    end = start + timedelta(minutes=minutes)
    fmt = "%Y%m%dT%H%M%SZ"
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start:{fmt}}\r\n"
        f"DTEND:{end:{fmt}}\r\nSUMMARY:meeting\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    DavCalendar(client=client, url=url).add_event(ics, increase_seqno=False)


@pytest.mark.parametrize("use_freebusy", [True, False], ids=["freebusy", "search"])
def test_busy_times_read_back(client, calendars, store, use_freebusy: bool) -> None:
    """Other events are busy; cancelled ones and our own visits are not."""
    scenario = make_scenario(calendar_urls=calendars)
    mine = make_visit("v1", "w1", hour=10)
    publish_plan(client, store, [mine], scenario, NOW, context=CONTEXT)
    meeting = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    _add_raw(client, calendars["w1"], "meet-1@example.org", meeting, 60)
    _add_raw(
        client,
        calendars["w1"],
        "gone-1@example.org",
        meeting + timedelta(hours=2),
        30,
        "STATUS:CANCELLED\r\n",
    )
    busy = fetch_busy(
        client,
        scenario.workers,
        datetime(2026, 11, 30, tzinfo=UTC),
        datetime(2026, 12, 5, tzinfo=UTC),
        own=[mine],
        use_freebusy=use_freebusy,
    )
    assert [(b.worker_id, b.start, b.end) for b in busy] == [
        ("w1", meeting, meeting + timedelta(hours=1))
    ]


def test_config_from_env_and_file(tmp_path) -> None:
    env = {
        "VISITPLAN_CALDAV_URL": "https://dav.example.org/",
        "VISITPLAN_CALDAV_USERNAME": "u",
        "VISITPLAN_CALDAV_PASSWORD": "hunter2-secret",
    }
    config = read_config(env)
    assert config.url == "https://dav.example.org/"
    assert "hunter2" not in repr(config)
    path = tmp_path / "caldav.toml"
    path.write_text('[caldav]\nurl = "https://x.example/"\nusername = "a"\npassword = "b"\n')
    assert read_config({"VISITPLAN_CONFIG": str(path)}).username == "a"
    with pytest.raises(ConfigError):
        read_config({"VISITPLAN_CONFIG": str(tmp_path / "missing.toml")})


def test_connect_refuses_nothing_until_used(radicale: RadicaleServer) -> None:
    client = connect(DavConfig(url=radicale.url, username=USER, password=PASSWORD))
    assert client.get_principal() is not None


def _stored(tmp_path) -> str:
    db = f"sqlite:///{tmp_path / 'pub.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario())
    store.save_plan(make_plan(tuple(visits_two())), NOW)
    return db


@pytest.mark.parametrize(
    ("url", "says"),
    [
        pytest.param("dav.example.org/dav/", "no scheme", id="no-scheme"),
        pytest.param("ftp://dav.example.org/", "scheme 'ftp'", id="ftp"),
        pytest.param("http://", "no host name", id="no-host"),
        pytest.param("https://dav.example.org:99999/", "malformed", id="port-out-of-range"),
        pytest.param("http://[::1/dav/", "malformed", id="broken-ipv6"),
        pytest.param("http://user:hunter2@dav example.org/", "malformed", id="space"),
    ],
)
def test_cli_publish_malformed_url_exits_2_and_writes_nothing(
    tmp_path, monkeypatch, url: str, says: str
) -> None:
    """A malformed CalDAV URL is a usage error naming what is wrong; no ledger row is written."""
    db = _stored(tmp_path)
    monkeypatch.setenv("VISITPLAN_CALDAV_URL", url)
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", "hunter2")
    result = CliRunner().invoke(app, ["publish", "--db", db])
    assert result.exit_code == 2, result.output
    assert "CalDAV URL" in result.output
    assert says in result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output
    assert Store(db).ledger_all() == ()


def test_a_well_formed_url_passes_the_check() -> None:
    """The edge pair of the URL check: the largest port and an IPv6 host are fine."""
    from integrations.dav import check_url

    check_url("https://dav.example.org:65535/dav/")
    check_url("http://[::1]:5232/")


@pytest.mark.integration
@pytest.mark.allow_hosts(["127.0.0.1"])
@pytest.mark.parametrize(
    "garbage_server",
    ["not-xml", "empty-multistatus", "html-error-page", "truncated"],
    indirect=True,
)
def test_cli_publish_to_a_server_answering_nonsense_exits_1_and_writes_nothing(
    tmp_path, monkeypatch, garbage_server: str
) -> None:
    """A server whose answers cannot be read: a clear message, exit 1, the ledger untouched."""
    db = _stored(tmp_path)
    monkeypatch.setenv("VISITPLAN_CALDAV_URL", garbage_server)
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", PASSWORD)
    result = CliRunner().invoke(app, ["publish", "--db", db])
    assert result.exit_code == 1, result.output
    assert "CalDAV server" in result.output
    assert PASSWORD not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert Store(db).ledger_all() == ()


def test_a_leavers_visit_moves_to_the_colleagues_calendar(client, calendars, store) -> None:
    """After `workers leave` and a re-plan the leaver is not in the caseload: publishing still
    reaches their calendar (through the ledger's href) and takes the visit off it, and the
    colleague's calendar gets it."""
    before = make_scenario(calendar_urls=calendars)
    publish_plan(client, store, [make_visit("v1", "w1")], before, NOW, context=CONTEXT)
    assert list(server_events(client, calendars["w1"])) == ["v1@visitplan"]
    after = make_scenario(workers=("w2",), calendar_urls=calendars)
    report = publish_plan(
        client, store, [make_visit("v1", "w2")], after, NOW + timedelta(hours=1), context=CONTEXT
    )
    assert [(i.uid, i.worker_id) for i in report.created] == [("v1@visitplan", "w2")]
    assert report.conflicts == []
    assert server_events(client, calendars["w1"]) == {}
    assert list(server_events(client, calendars["w2"])) == ["v1@visitplan"]
    assert store.ledger_get("v1@visitplan").worker_id == "w2"
