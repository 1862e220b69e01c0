"""A stored plan asked for from a day gone starts today and places nothing before now.

A plan made on Wednesday from Monday used to fill Monday and Tuesday with visits nobody made,
which later re-plans took as made (awaiting an outcome). Now it starts on Wednesday and ends
where asked; Monday's and Tuesday's recorded outcomes are its history. Through the command
line on a real SQLite store with real solves: the rehearsed day (`VISITPLAN_TODAY`) counts
from its start, `VISITPLAN_NOW` from its minute.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from tests.scenarios import north_somerset_team as make_scenario

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 11, 30)


def _plan(tmp_path: Path, env: dict[str, str]) -> tuple[dict[str, Any], list[datetime], str]:
    """`plan --start MONDAY --weeks 2` on a fresh store: the plan's JSON, each visit's start,
    and stderr."""
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'visitplan.db'}"
    path = tmp_path / "scenario.json"
    path.write_text(make_scenario().model_dump_json(), encoding="utf-8")
    base = {"COLUMNS": "200", "VISITPLAN_USER": "test-manager", "VISITPLAN_DB": db}
    loaded = runner.invoke(app, ["load", str(path)], env={**base, **env})
    assert loaded.exit_code == 0, loaded.stderr
    args = ["plan", "--start", MONDAY.isoformat(), "--weeks", "2", "--time-limit", "1"]
    planned = runner.invoke(
        app, [*args, "--json", str(tmp_path / "plan.json")], env={**base, **env}
    )
    assert planned.exit_code == 0, planned.stderr
    plan = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    starts = [datetime.fromisoformat(v["start"]).astimezone(LONDON) for v in plan["visits"]]
    return plan, starts, planned.stderr


@pytest.mark.parametrize(
    ("env", "first_allowed", "noted"),
    [
        ({"VISITPLAN_TODAY": "2026-11-30"}, datetime(2026, 11, 30, tzinfo=LONDON), False),
        ({"VISITPLAN_TODAY": "2026-12-02"}, datetime(2026, 12, 2, tzinfo=LONDON), True),
        ({"VISITPLAN_NOW": "2026-12-02T15:40"}, datetime(2026, 12, 2, 15, 45, tzinfo=LONDON), True),
    ],
    ids=["made-on-monday", "made-on-wednesday", "made-at-wednesday-teatime"],
)
def test_a_plan_starting_before_today_places_nothing_before_now(
    tmp_path: Path, env: dict[str, str], first_allowed: datetime, noted: bool
) -> None:
    """The edge: made on its Monday the whole Monday is planned (visits on Monday, no note);
    made on Wednesday it starts on Wednesday, with nothing before it; at 15:40, nothing
    before the 15:45 start. Either way it ends where asked, and the note says why it starts
    later than asked."""
    plan, starts, stderr = _plan(tmp_path, env)
    assert plan["start"] == first_allowed.date().isoformat()
    assert plan["end"] == "2026-12-13"
    assert starts
    assert min(starts) >= first_allowed
    if not noted:
        assert min(starts).date() == MONDAY, "Monday itself is planned"
    assert ("has passed, so this plan starts today" in stderr) == noted
