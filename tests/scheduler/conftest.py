"""Stores the command-line tests share: empty, loaded with the north Somerset team, planned."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenarios import north_somerset_team as make_scenario
from tests.scheduler.test_cli import invoke


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite store URL in the test's folder (the file is made on first use)."""
    return f"sqlite:///{tmp_path / 'visitplan.db'}"


@pytest.fixture
def loaded(tmp_path: Path, db: str) -> str:
    """The store with the north Somerset team loaded through `visitplan load`."""
    path = tmp_path / "scenario.json"
    path.write_text(make_scenario().model_dump_json(), encoding="utf-8")
    assert invoke("load", str(path), "--db", db)[0] == 0
    return db


@pytest.fixture
def planned(loaded: str) -> str:
    """The loaded store with a two-week plan from Mon 30 Nov 2026."""
    code, _, stderr = invoke(
        "plan", "--start", "2026-11-30", "--weeks", "2", "--time-limit", "2", "--db", loaded
    )
    assert code == 0, stderr
    return loaded
