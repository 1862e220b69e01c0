"""`visitplan plan --busy-from-caldav`: workers' own calendar commitments are planned around."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from tests.integrations.conftest import PASSWORD, USER, RadicaleServer
from tests.scenarios import north_somerset_team

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]


def _busy_day(client: Any, url: str, day: datetime) -> None:
    from caldav import Calendar as DavCalendar

    fmt = "%Y%m%dT%H%M%SZ"
    end = day + timedelta(hours=10)
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:court-{day:%Y%m%d}@example.org\r\nDTSTAMP:20261101T000000Z\r\n"
        f"DTSTART:{day:{fmt}}\r\nDTEND:{end:{fmt}}\r\nSUMMARY:court\r\nEND:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )
    DavCalendar(client=client, url=url).add_event(ics, increase_seqno=False)


def test_plan_avoids_busy_times_read_from_caldav(
    tmp_path: Path, client: Any, calendars: dict[str, str], radicale: RadicaleServer
) -> None:
    """A worker in court all week (an event in their own calendar) gets no visits that week."""
    scenario = north_somerset_team()
    workers = tuple(
        w.model_copy(update={"calendar_url": calendars.get(w.id)}) for w in scenario.workers
    )
    scenario = scenario.model_copy(update={"workers": workers})
    path = tmp_path / "scenario.json"
    path.write_text(scenario.model_dump_json(), encoding="utf-8")
    for offset in range(5):
        _busy_day(
            client, calendars["w1"], datetime(2026, 11, 30, 8, tzinfo=UTC) + timedelta(offset)
        )
    env = {
        "VISITPLAN_CALDAV_URL": radicale.url,
        "VISITPLAN_CALDAV_USERNAME": USER,
        "VISITPLAN_CALDAV_PASSWORD": PASSWORD,
        "COLUMNS": "200",
    }
    out = tmp_path / "plan.json"
    common = ["plan", "--start", "2026-11-30", "--time-limit", "5", "--scenario", str(path)]
    without = CliRunner().invoke(app, [*common, "--json", str(tmp_path / "free.json")], env=env)
    assert without.exit_code == 0, without.stderr
    free = json.loads((tmp_path / "free.json").read_text())
    assert any(v["worker_id"] == "w1" for v in free["visits"])
    result = CliRunner().invoke(app, [*common, "--busy-from-caldav", "--json", str(out)], env=env)
    assert result.exit_code == 0, result.stderr
    assert "busy period" in result.stderr
    plan = json.loads(out.read_text())
    assert not [v for v in plan["visits"] if "w1" in (v["worker_id"], v["second_worker_id"])]
    assert PASSWORD not in result.stdout + result.stderr


def test_busy_from_caldav_without_configuration_exits_2(tmp_path: Path) -> None:
    """Asking for CalDAV busy times with no server configured is a clear usage error."""
    path = tmp_path / "scenario.json"
    path.write_text(north_somerset_team().model_dump_json(), encoding="utf-8")
    env = {"VISITPLAN_CONFIG": str(tmp_path / "none.toml"), "VISITPLAN_CALDAV_URL": ""}
    result = CliRunner().invoke(
        app,
        ["plan", "--start", "2026-11-30", "--scenario", str(path), "--busy-from-caldav"],
        env=env,
    )
    assert result.exit_code == 2
    assert "CalDAV" in result.stderr


def test_a_change_while_calendars_are_read_is_not_written_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone records an absence while the plan reads workers' calendars: the plan made
    from the older picture is refused (exit 1) and the store keeps no plan, as every other
    plan and re-plan is."""
    import integrations
    from scheduler import service
    from scheduler.domain import Absence
    from scheduler.store import Store

    db = f"sqlite:///{tmp_path / 'visitplan.db'}"
    with Store(db) as store:
        store.replace_caseload(north_somerset_team())

    def busy_meanwhile(scenario: Any, *_args: Any, **_kwargs: Any) -> Any:
        with Store(db) as other:
            away = Absence(
                worker_id="w1",
                start=date(2026, 12, 1),
                end=date(2026, 12, 1),
                reason="sickness",
            )
            service.add_absences(other, [away], by="sam", now=datetime(2026, 11, 27, tzinfo=UTC))
        return scenario

    monkeypatch.setattr(integrations, "busy_for_scenario", busy_meanwhile)
    env = {"COLUMNS": "200", "VISITPLAN_TODAY": "2026-11-27"}
    args = ["plan", "--start", "2026-11-30", "--busy-from-caldav", "--db", db]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    with Store(db) as store:
        assert store.current_plan() is None
