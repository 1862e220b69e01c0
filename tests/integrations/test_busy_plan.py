"""`visitplan plan --busy-from-caldav`: workers' own calendar commitments are planned around."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from tests.integrations.conftest import PASSWORD, USER, RadicaleServer, add_commitment
from tests.scenarios import north_somerset_team

pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]


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
        add_commitment(
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
    assert "commitment(s) in workers' own calendars" in result.stderr
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


def test_a_change_while_calendars_are_read_is_planned_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone records an absence while the plan reads workers' calendars: the plan is made
    from the store as it is once the calendars are read, so the absence is planned around
    (an earlier version planned from the older picture and was refused at saving)."""
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
    assert result.exit_code == 0, result.stderr
    with Store(db) as store:
        plan = store.current_plan()
        assert plan is not None
        assert len(store.read_scenario().absences) == 1
    assert plan.visits, "the team is planned"
    assert not [v for v in plan.visits if v.day == date(2026, 12, 1) and v.worker_id == "w1"]


def _run(args: list[str], env: dict[str, str]) -> Any:
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.stderr
    return result


@dataclass
class Authority:
    """A generated S authority in a store, each worker with a calendar of their own."""

    db: str
    calendars: dict[str, Any]
    env: dict[str, str]


@pytest.fixture
def authority(tmp_path: Path, client: Any, radicale: RadicaleServer) -> Iterator[Authority]:
    """The authority, its plan for the fortnight from Mon 30 Nov made on Thu 26 Nov."""
    from scheduler.generate import generate
    from scheduler.store import Store

    scenario = generate("S", seed=0, start=date(2026, 11, 30))
    principal = client.get_principal()
    made = {
        w.id: principal.make_calendar(name=w.id, cal_id=f"t-{uuid.uuid4().hex}")
        for w in scenario.workers
    }
    try:
        workers = tuple(
            w.model_copy(update={"calendar_url": str(made[w.id].url)}) for w in scenario.workers
        )
        db = f"sqlite:///{tmp_path / 'visitplan.db'}"
        with Store(db) as store:
            store.replace_caseload(scenario.model_copy(update={"workers": workers}))
        env = {
            "VISITPLAN_CALDAV_URL": radicale.url,
            "VISITPLAN_CALDAV_USERNAME": USER,
            "VISITPLAN_CALDAV_PASSWORD": PASSWORD,
            "COLUMNS": "200",
            "VISITPLAN_TODAY": "2026-11-26",
        }
        _run(["plan", "--start", "2026-11-30", "--weeks", "2", "--db", db], env)
        yield Authority(db, made, env)
    finally:
        for cal in made.values():
            cal.delete()


def test_fridays_plan_around_a_new_court_date_keeps_the_other_published_visits(
    authority: Authority, client: Any
) -> None:
    """The fortnight from Monday was planned on Thursday. On Friday a worker puts a court
    date in their calendar for a day they have visits, and the manager plans the fortnight
    again around workers' calendars: those visits move, the rest of the published visits
    stay as they are (before, every day was planned afresh and published visits moved for
    nothing)."""
    from scheduler.store import Store

    db, made, env = authority.db, authority.calendars, authority.env
    with Store(db) as store:
        before = store.current_plan()
    assert before is not None
    week = [v for v in before.visits if v.day <= date(2026, 12, 4)]
    worker, court = min((v.worker_id, v.day) for v in week)
    add_commitment(client, str(made[worker].url), datetime.combine(court, time(7), UTC))
    friday = env | {"VISITPLAN_TODAY": "2026-11-27", "VISITPLAN_NOW": "2026-11-27T15:00"}
    args = ["plan", "--start", "2026-11-30", "--weeks", "2", "--busy-from-caldav", "--db", db]
    result = _run(args, friday)
    assert "commitment(s) in workers' own calendars" in result.stderr
    assert "were kept" in result.stderr
    with Store(db) as store:
        after = store.current_plan()
    assert after is not None
    in_court = [
        v for v in after.visits if v.day == court and worker in (v.worker_id, v.second_worker_id)
    ]
    assert not in_court
    now = {v.id: (v.start, v.worker_id) for v in after.visits if v.status == "planned"}
    untouched = [v for v in week if (v.day, v.worker_id) != (court, worker)]
    assert len(untouched) > 20, "most of the week's visits do not meet the court date"
    assert all(now.get(v.id) == (v.start, v.worker_id) for v in untouched)
    check = CliRunner().invoke(app, ["check", "--db", db], env=friday)
    assert check.exit_code == 0, check.stdout

    # Monday: another worker is called to court on Wednesday; the manager re-plans
    # around the calendars. Their Wednesday visits move, nothing else does.
    week = [v for v in after.visits if date(2026, 12, 2) <= v.day <= date(2026, 12, 11)]
    wednesday = [v for v in week if v.day == date(2026, 12, 2) and v.worker_id != worker]
    second = min(v.worker_id for v in wednesday)
    add_commitment(client, str(made[second].url), datetime(2026, 12, 2, 7, tzinfo=UTC))
    monday = env | {"VISITPLAN_TODAY": "2026-11-30", "VISITPLAN_NOW": "2026-11-30T08:00"}
    result = _run(["replan", "--busy-from-caldav", "--apply", "--db", db], monday)
    assert "commitment(s) in workers' own calendars" in result.stderr
    with Store(db) as store:
        replanned = store.current_plan()
    assert replanned is not None
    moved = {v.id for v in wednesday if v.worker_id == second}
    assert moved
    assert not [
        v
        for v in replanned.visits
        if v.day == date(2026, 12, 2) and second in (v.worker_id, v.second_worker_id)
    ]
    now = {v.id: (v.start, v.worker_id) for v in replanned.visits if v.status == "planned"}
    others = [v for v in week if v.id not in moved and v.worker_id != second]
    assert len(others) >= 5
    assert all(now.get(v.id) == (v.start, v.worker_id) for v in others)

    # Thursday, the calendars as they were: both court dates are behind; the re-plan reads
    # the plan's own days (the same busy times whichever day it is made) and changes nothing.
    thursday = env | {"VISITPLAN_TODAY": "2026-12-03", "VISITPLAN_NOW": "2026-12-03T08:00"}
    same = _run(["replan", "--busy-from-caldav", "--db", db], thursday)
    assert "read 2 commitment(s)" in same.stderr
    assert "unchanged" in same.stderr
    assert "No change to the published plan." in same.stdout


def test_visitplans_own_events_left_at_old_times_are_not_commitments(
    authority: Authority,
) -> None:
    """The plan is published to workers' calendars, then a visit is moved by hand and not
    published again: its event is still at the old time. Re-planning around the calendars
    reads no commitment there (it used to take the old event for one, as free/busy answers
    carry no UID)."""
    from scheduler.store import Store

    db, env = authority.db, authority.env
    _run(["publish", "--db", db], env)
    with Store(db) as store:
        plan = store.current_plan()
    assert plan is not None
    first = min(
        (v for v in plan.visits if v.day >= date(2026, 12, 2) and not v.second_worker_id),
        key=lambda v: (v.day, v.start),
    )
    later = first.start.astimezone(ZoneInfo("Europe/London")) + timedelta(days=1)
    _run(["visit", "move", first.id, "--to", f"{later:%Y-%m-%dT%H:%M}", "--db", db], env)
    monday = env | {"VISITPLAN_TODAY": "2026-11-30", "VISITPLAN_NOW": "2026-11-30T08:00"}
    result = _run(["replan", "--busy-from-caldav", "--db", db], monday)
    assert "read 0 commitment(s) in workers' own calendars" in result.stderr


def test_a_move_by_hand_into_a_court_date_is_refused(authority: Authority, client: Any) -> None:
    """`visit move --busy-from-caldav` checks the move against the workers' own calendars:
    giving a visit to a colleague in court then is refused (exit 1), with the reason; the
    same move checked without calendars is not refused for it."""
    from scheduler.store import Store

    db, made, env = authority.db, authority.calendars, authority.env
    with Store(db) as store:
        plan = store.current_plan()
        names = store.worker_names()
    assert plan is not None
    visit = min(
        (v for v in plan.visits if v.day >= date(2026, 12, 1) and not v.second_worker_id),
        key=lambda v: (v.day, v.start),
    )
    colleague = min(w for w in made if w != visit.worker_id)
    add_commitment(client, str(made[colleague].url), datetime.combine(visit.day, time(7), UTC))
    at = visit.start.astimezone(ZoneInfo("Europe/London"))
    args = ["visit", "move", visit.id, "--to", f"{at:%Y-%m-%dT%H:%M}", "--worker", colleague]
    args += ["--dry-run", "--db", db]
    checked = CliRunner().invoke(app, [*args, "--busy-from-caldav"], env=env)
    assert checked.exit_code == 1, checked.stdout + checked.stderr
    assert f"{names[colleague]} is busy" in " ".join(checked.stdout.split())
    unchecked = CliRunner().invoke(app, args, env=env)
    assert f"{names[colleague]} is busy" not in " ".join(unchecked.stdout.split())
