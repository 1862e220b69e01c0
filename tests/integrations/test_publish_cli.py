"""`visitplan publish` as a manager runs it, against a real Radicale on 127.0.0.1 and a real
SQLite file: what it prints (text and --json), its exit codes, and what the server then holds.

Rule: the worker's own changes are made on the server (caldav, HTTP); the store is only
written through its public methods; no host other than 127.0.0.1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from scheduler.store import Store
from tests.integrations.conftest import (
    NOW,
    PASSWORD,
    USER,
    RadicaleServer,
    make_plan,
    make_scenario,
    make_visit,
)
from tests.integrations.test_dav import server_events

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]


def visits_two(w1: str = "w1") -> tuple:
    return (
        make_visit("v1", w1),
        make_visit("v2", "w2", household="h2", children=("c3",), announced=False),
    )


@pytest.fixture
def db(tmp_path: Path, radicale: RadicaleServer, calendars, monkeypatch) -> str:
    """A SQLite store with the caseload and a plan of two visits; CalDAV configured."""
    url = f"sqlite:///{tmp_path / 'visitplan.db'}"
    store = Store(url)
    store.replace_caseload(make_scenario(calendar_urls=calendars))
    store.save_plan(make_plan(visits_two()), NOW)
    monkeypatch.setenv("VISITPLAN_CALDAV_URL", radicale.url)
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", PASSWORD)
    return url


def publish(db: str, *args: str) -> Any:
    return CliRunner().invoke(app, ["publish", "--db", db, *args])


def as_json(result: Any) -> dict[str, Any]:
    """The JSON object on stdout: one whole object, nothing else."""
    found = json.loads(result.stdout)
    assert isinstance(found, dict)
    return found


def test_a_move_names_the_old_calendar_and_the_new(db: str, client, calendars) -> None:
    """Defect 1, as the manager sees it: the text says where the visit moved from and to, and
    --json names the old worker for the delete and the new one for the create."""
    assert publish(db).exit_code == 0
    Store(db).save_plan(make_plan(visits_two(w1="w2")), NOW)
    dry = publish(db, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "v1 moved from Worker w1's calendar (w1) to Worker w2's calendar (w2)" in dry.stdout
    done = publish(db, "--json")
    assert done.exit_code == 0, done.output
    report = as_json(done)
    assert [(i["worker_id"], i["sequence"]) for i in report["deleted"]] == [("w1", 0)]
    assert [(i["worker_id"], i["sequence"]) for i in report["created"]] == [("w2", 1)]
    assert server_events(client, calendars["w1"]) == {}
    assert int(server_events(client, calendars["w2"])["v1@visitplan"]["SEQUENCE"]) == 1


def _unreachable(monkeypatch, tmp_path: Path, db: str) -> str:
    from integrations.testing import free_port

    monkeypatch.setenv("VISITPLAN_CALDAV_URL", f"http://127.0.0.1:{free_port()}/")
    url = f"sqlite:///{tmp_path / 'service-calendars.db'}"
    Store(url).replace_caseload(make_scenario())  # calendars under the service account
    Store(url).save_plan(make_plan(visits_two()), NOW)
    return url


def _calendar_elsewhere(monkeypatch, tmp_path: Path, db: str) -> str:
    """A worker's calendar_url on another server than VISITPLAN_CALDAV_URL (a traceback from
    caldav's URL join, before)."""
    from integrations.testing import free_port

    monkeypatch.setenv("VISITPLAN_CALDAV_URL", f"http://127.0.0.1:{free_port()}/")
    return db


def _refused(monkeypatch, tmp_path: Path, db: str) -> str:
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", "not-the-password")
    return db


def _not_configured(monkeypatch, tmp_path: Path, db: str) -> str:
    monkeypatch.delenv("VISITPLAN_CALDAV_URL")
    monkeypatch.setenv("VISITPLAN_CONFIG", str(tmp_path / "missing.toml"))
    return db


def _malformed_url(monkeypatch, tmp_path: Path, db: str) -> str:
    monkeypatch.setenv("VISITPLAN_CALDAV_URL", "http://[::1/dav/")
    return db


def _no_plan(monkeypatch, tmp_path: Path, db: str) -> str:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    Store(url).replace_caseload(make_scenario())
    return url


def _no_store(monkeypatch, tmp_path: Path, db: str) -> str:
    return f"sqlite:///{tmp_path / 'nowhere.db'}"


@pytest.mark.parametrize(
    ("make", "code", "says"),
    [
        pytest.param(_unreachable, 1, "cannot be reached", id="unreachable"),
        pytest.param(_calendar_elsewhere, 2, "not on the CalDAV server", id="other-server"),
        pytest.param(_refused, 1, "refused the credentials", id="refused"),
        pytest.param(_not_configured, 2, "no CalDAV server configured", id="not-configured"),
        pytest.param(_malformed_url, 2, "CalDAV URL is malformed", id="malformed-url"),
        pytest.param(_no_plan, 2, "no plan in the store", id="no-plan"),
        pytest.param(_no_store, 2, "no store at", id="no-store"),
    ],
)
def test_a_failure_with_json_prints_one_error_object_and_the_text_modes_code(
    db: str, tmp_path: Path, monkeypatch, make: Any, code: int, says: str
) -> None:
    """Defect 4: `publish --json` printed nothing on stdout when it failed. Now stdout holds one
    whole JSON object with the error and the exit code, and the process exits as the text
    mode does (which prints nothing on stdout, its message on stderr)."""
    url = make(monkeypatch, tmp_path, db)
    text = publish(url)
    machine = publish(url, "--json")
    assert (text.exit_code, machine.exit_code) == (code, code), machine.output
    assert text.stdout == ""
    found = as_json(machine)
    assert found == {"error": found["error"], "exit_code": code}
    assert says in found["error"]
    assert found["error"].split()[:4] == text.stderr.removeprefix("error:").split()[:4]
    assert "not-the-password" not in machine.stdout + machine.stderr
    assert "Traceback" not in machine.output


def test_conflicts_with_json_print_the_report_with_the_error_and_exit_1(db: str, client) -> None:
    """The edge pair: a run that ends in conflicts prints its whole report, plus the error and
    exit code 1; a run without any says error null and exit code 0."""
    from tests.integrations.test_publish_conflicts import delete_on_server

    first = publish(db, "--json")
    assert first.exit_code == 0
    assert (as_json(first)["error"], as_json(first)["exit_code"]) == (None, 0)
    delete_on_server(client, Store(db).ledger_get("v1@visitplan").href)
    text = publish(db)
    machine = publish(db, "--json")
    assert (text.exit_code, machine.exit_code) == (1, 1)
    report = as_json(machine)
    assert report["exit_code"] == 1
    assert "changed or deleted on a worker's calendar" in report["error"]
    assert [(c["visit_id"], c["change"]) for c in report["conflicts"]] == [("v1", "deleted")]
    assert report["unchanged"] == 1
    assert "conflict: v1 on Worker w1's calendar (w1): deleted from the calendar" in text.stdout


def suggested(stderr: str, verb: str) -> list[str]:
    """The arguments of the `visitplan publish --VERB ...` command the message suggests."""
    (line,) = [x for x in stderr.splitlines() if f"visitplan publish --{verb}" in x]
    return line.split("visitplan publish ", 1)[1].split()


def test_the_conflict_message_gives_the_commands_that_settle_it(db: str, client, calendars) -> None:
    """Defect 2: a conflict was reported on every publish and no command settled it. The
    message names the command; running it as written puts the event back, and the next
    publish is clean."""
    from tests.integrations.test_publish_conflicts import delete_on_server

    assert publish(db).exit_code == 0
    delete_on_server(client, Store(db).ledger_get("v1@visitplan").href)
    told = publish(db)
    assert told.exit_code == 1
    assert suggested(told.stderr, "accept") == ["--accept", "--worker", "w1"]
    command = suggested(told.stderr, "overwrite")
    assert command == ["--overwrite", "--worker", "w1"]
    assert publish(db).exit_code == 1  # still reported: nothing settles it by itself
    dry = publish(db, *command, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert server_events(client, calendars["w1"]) == {}
    done = publish(db, *command)
    assert done.exit_code == 0, done.output
    assert "overwritten: v1 on Worker w1's calendar (w1): put back on the calendar" in done.stdout
    assert list(server_events(client, calendars["w1"])) == ["v1@visitplan"]
    clean = publish(db)
    assert clean.exit_code == 0
    assert "0 conflict(s)" in clean.stdout


def test_accept_for_one_worker_leaves_the_others_conflicts(db: str, client, calendars) -> None:
    """The edge pair: conflicts on two calendars. The message then suggests the commands for
    all, with --worker to pick; `--accept --worker w2` settles w2's only (recorded in the
    ledger at once), and w1's is still reported."""
    from tests.integrations.test_publish_conflicts import delete_on_server, edit_on_server

    assert publish(db).exit_code == 0
    store = Store(db)
    delete_on_server(client, store.ledger_get("v1@visitplan").href)
    published = store.ledger_get("v2@visitplan")
    edit_on_server(client, published.href)
    told = publish(db)
    assert told.exit_code == 1
    assert suggested(told.stderr, "accept") == ["--accept"]
    assert "add --worker ID or --visit ID" in told.stderr
    some = publish(db, "--accept", "--worker", "w2", "--json")
    assert some.exit_code == 1
    report = as_json(some)
    assert [(i["worker_id"], i["change"]) for i in report["accepted"]] == [("w2", "changed")]
    assert [(i["worker_id"], i["change"]) for i in report["conflicts"]] == [("w1", "deleted")]
    assert "--worker w1" in report["error"]
    from caldav import Event

    on_server = Event(client=client, url=published.href)
    on_server.load()
    assert store.ledger_get("v2@visitplan").etag == on_server.etag != published.etag
    assert "Moved by me" in str(server_events(client, calendars["w2"])["v2@visitplan"]["SUMMARY"])
    left = publish(db)
    assert left.exit_code == 1
    assert "conflict: v1 on Worker w1's calendar (w1): deleted" in left.stdout
    assert "v2" not in left.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(["--overwrite", "--accept"], "choose one of", id="both"),
        pytest.param(["--worker", "w1"], "add one of those two", id="worker-alone"),
        pytest.param(["--visit", "v1"], "add one of those two", id="visit-alone"),
    ],
)
def test_settling_flags_that_contradict_each_other_are_refused(
    db: str, args: list[str], says: str
) -> None:
    """Exit 2 before anything is read or written, in text and in --json."""
    text = publish(db, *args)
    machine = publish(db, *args, "--json")
    assert (text.exit_code, machine.exit_code) == (2, 2)
    assert says in text.stderr
    assert says in as_json(machine)["error"]
    assert Store(db).ledger_all() == ()


def test_a_worker_with_no_conflict_is_named(db: str) -> None:
    """A mistyped --worker settles nothing, and says so (the run itself is fine)."""
    assert publish(db).exit_code == 0
    result = publish(db, "--accept", "--worker", "w-typo")
    assert result.exit_code == 0
    assert "--worker w-typo: no conflict on that worker's calendar" in result.stderr


def test_settling_the_old_workers_edit_of_a_moved_visit_says_where_it_went(
    db: str, client, calendars
) -> None:
    """The conflict is on the old worker's calendar, and the command for it names them; the
    settled line says where the visit went."""
    from tests.integrations.test_publish_conflicts import edit_on_server

    assert publish(db).exit_code == 0
    edit_on_server(client, Store(db).ledger_get("v1@visitplan").href)
    Store(db).save_plan(make_plan(visits_two(w1="w2")), NOW)
    told = publish(db)
    assert told.exit_code == 1
    assert "conflict: v1 on Worker w1's calendar (w1): changed" in told.stdout
    assert suggested(told.stderr, "accept") == ["--accept", "--worker", "w1"]
    done = publish(db, *suggested(told.stderr, "accept"))
    assert done.exit_code == 0, done.output
    assert (
        "accepted: v1 on Worker w1's calendar (w1): the copy someone else edited left as it "
        "is; the visit moved to Worker w2's calendar (w2)"
    ) in done.stdout
    assert list(server_events(client, calendars["w1"])) == ["v1@visitplan"]
    assert sorted(server_events(client, calendars["w2"])) == ["v1@visitplan", "v2@visitplan"]
