"""Tests of reading and writing scenario JSON files and loading them into the store, all or nothing.

Runs with pytest-socket's --disable-socket.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scheduler.errors import InputError, InputProblem
from scheduler.scenario_io import read_scenario, write_scenario
from scheduler.store import Store
from tests.scheduler.test_store import small_scenario

Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store in a SQLite file holding the small scenario."""
    with Store(f"sqlite:///{tmp_path / 'visitplan.db'}") as opened:
        opened.replace_caseload(small_scenario())
        yield opened


def load(store: Store, path: Path) -> None:
    """What `visitplan load FILE` does: read the whole file, then replace the caseload."""
    store.replace_caseload(read_scenario(path))


def write_edited(tmp_path: Path, edit: Edit) -> Path:
    """The small scenario as JSON with one edit applied."""
    raw = json.loads(small_scenario().model_dump_json())
    edit(raw)
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    return path


def test_write_then_read_round_trips(tmp_path: Path) -> None:
    """`read_scenario` gives back exactly what `write_scenario` wrote."""
    path = tmp_path / "s.json"
    write_scenario(small_scenario(), path)
    assert read_scenario(path) == small_scenario()


def test_load_replaces_caseload(store: Store, tmp_path: Path) -> None:
    """A valid file replaces the stored caseload."""
    path = write_edited(tmp_path, lambda raw: raw.update(as_of="2024-04-02"))
    load(store, path)
    assert store.read_scenario().as_of.isoformat() == "2024-04-02"


def _set(collection: str, index: int, field: str, value: Any) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        raw[collection][index][field] = value

    return edit


def _drop(collection: str, index: int, field: str) -> Edit:
    def edit(raw: dict[str, Any]) -> None:
        del raw[collection][index][field]

    return edit


def _authority(raw: dict[str, Any]) -> None:
    raw["authority"]["id"] = "atlantis"


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        pytest.param(
            _set("children", 3, "category", "cin"),
            InputProblem(
                "scenario.json",
                4,
                "children.category",
                "'early-help', 'child-in-need', 'child-protection', 'child-in-care', "
                "'care-leaver' or 'private-fostering'",
                "cin",
            ),
            id="unknown-category",
        ),
        pytest.param(
            _set("households", 1, "lat", "north"),
            InputProblem(
                "scenario.json",
                2,
                "households.lat",
                "a valid number, unable to parse string as a number",
                "north",
            ),
            id="wrong-type",
        ),
        pytest.param(
            _set("records", 0, "on", "20/02/2024"),
            InputProblem(
                "scenario.json",
                1,
                "records.on",
                "a valid date",
                "20/02/2024",
            ),
            id="bad-date",
        ),
        pytest.param(
            _drop("workers", 2, "role"),
            InputProblem("scenario.json", 3, "workers.role", "a value (required)", "nothing"),
            id="missing-field",
        ),
        pytest.param(
            _set("teams", 0, "colour", "red"),
            InputProblem(
                "scenario.json", 1, "teams.colour", "no such field (check the spelling)", "red"
            ),
            id="unknown-field",
        ),
        pytest.param(
            _set("children", 1, "household_ids", ["h-1", "h-9"]),
            InputProblem(
                "scenario.json", 2, "children.household_ids", "a known household id", "h-9"
            ),
            id="unknown-household",
        ),
        pytest.param(
            _set("children", 3, "allocated_worker", "w-zed"),
            InputProblem(
                "scenario.json", 4, "children.allocated_worker", "a known worker id", "w-zed"
            ),
            id="unknown-worker",
        ),
        pytest.param(
            _set("households", 2, "id", "h-1"),
            InputProblem("scenario.json", 3, "households.id", "a unique id", "h-1"),
            id="duplicate-id",
        ),
        pytest.param(
            _authority,
            InputProblem("scenario.json", None, "authority.id", "a known authority (", "atlantis"),
            id="unknown-authority",
        ),
    ],
)
def test_load_refuses_bad_input_and_keeps_store(
    store: Store, tmp_path: Path, edit: Edit, problem: InputProblem
) -> None:
    """Each bad input is an InputError naming file, row, field and expected (a prefix of the
    message); nothing is stored."""
    path = write_edited(tmp_path, edit)
    with pytest.raises(InputError) as caught:
        load(store, path)
    assert any(
        (p.file, p.row, p.field, p.got) == (problem.file, problem.row, problem.field, problem.got)
        and p.expected.startswith(problem.expected)
        for p in caught.value.problems
    ), caught.value
    assert store.read_scenario() == small_scenario()


def test_nested_position_is_one_based(tmp_path: Path) -> None:
    """A bad item inside a list field is named by its 1-based position after the field."""

    def edit(raw: dict[str, Any]) -> None:
        raw["households"][0]["windows"][0]["start"] = "4pm"

    with pytest.raises(InputError) as caught:
        read_scenario(write_edited(tmp_path, edit))
    [problem] = caught.value.problems
    assert (problem.row, problem.field) == (1, "households.windows[1].start")


def test_invalid_json_names_line(store: Store, tmp_path: Path) -> None:
    """A syntax error is reported with its line number."""
    path = tmp_path / "broken.json"
    path.write_text('{\n  "as_of": "2024-03-01",\n  "teams": [,]\n}\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load(store, path)
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.field, problem.expected) == (
        "broken.json",
        3,
        "(json)",
        "valid JSON",
    )
    assert store.read_scenario() == small_scenario()


def test_missing_file_is_input_error(tmp_path: Path) -> None:
    """A file that cannot be read is an input error, not a traceback."""
    with pytest.raises(InputError, match=r"nowhere\.json: \(file\): expected a readable file"):
        read_scenario(tmp_path / "nowhere.json")


def test_all_problems_are_reported(tmp_path: Path) -> None:
    """Every problem in the file is listed, not just the first."""

    def edit(raw: dict[str, Any]) -> None:
        raw["children"][0]["category"] = "cin"
        raw["workers"][1]["team_id"] = 7
        raw["authority"]["id"] = "atlantis"

    with pytest.raises(InputError) as caught:
        read_scenario(write_edited(tmp_path, edit))
    fields = {p.field for p in caught.value.problems}
    assert fields == {"children.category", "workers.team_id", "authority.id"}


def test_input_error_lists_one_problem_per_line() -> None:
    """InputError prints `file:row: field: expected X, got Y`, one per line."""
    error = InputError(
        [
            InputProblem("children.csv", 4, "category", "one of: early-help", "cin"),
            InputProblem("s.json", None, "authority.id", "a known authority", "x"),
        ]
    )
    assert str(error).splitlines() == [
        "children.csv:4: category: expected one of: early-help, got cin",
        "s.json: authority.id: expected a known authority, got x",
    ]
