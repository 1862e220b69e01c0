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
