"""Records are history: a visit's outcome, a worker's absence and the leavers' list are never
silently replaced, doubled or made up, and a bad file is named by row, never a traceback.

Every command runs through typer's CliRunner against a real SQLite file, with the command
line's today fixed (31 Dec 2026, after the planned fortnight).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.domain import Visit
from scheduler.store import Store
from tests.scheduler.test_cli import invoke


def said(text: str) -> str:
    """Output with its line wrapping undone (error messages wrap at the terminal's width)."""
    return " ".join(text.split())


def first_visit(db: str) -> Visit:
    """The plan's first visit (on Mon 30 Nov 2026 or soon after)."""
    plan = Store(db).current_plan()
    assert plan is not None
    return min(plan.visits, key=lambda v: (v.start, v.id))


def versions_of(db: str, visit: Visit) -> list[tuple[int, str, str]]:
    """(version, outcome, day) of every record of the visit's first child, every version."""
    return [
        (v.version, v.record.outcome, v.record.on.isoformat())
        for v in Store(db).record_versions(visit.child_ids[0])
        if v.record.visit_id == visit.id
    ]


# ------------------------------------------------------------------ record: one outcome


@pytest.mark.parametrize(
    ("days_before", "message"),
    [
        pytest.param(None, "", id="1900"),
        pytest.param(8, "at most 7 days before the visit's planned day", id="8-days-early"),
    ],
)
def test_record_on_a_day_far_from_the_visit_is_refused(
    planned: str, days_before: int | None, message: str
) -> None:
    """`--on` is from a week before the planned day to today: 1 Jan 1900 is a slip."""
    visit = first_visit(planned)
    on = "1900-01-01" if days_before is None else str(visit.day - timedelta(days=days_before))
    code, _, stderr = invoke(
        "record", visit.id, "--outcome", "completed", "--on", on, "--db", planned
    )
    assert code == 2
    assert "--on: expected a day on or after" in said(stderr)
    assert message in said(stderr)
    assert "Traceback" not in stderr
    assert versions_of(planned, visit) == []
    week_early = str(visit.day - timedelta(days=7))
    code, _, stderr = invoke(
        "record", visit.id, "--outcome", "completed", "--on", week_early, "--db", planned
    )
    assert code == 0, stderr


def test_a_recorded_visit_changes_only_with_amend(planned: str) -> None:
    """Once recorded, another outcome or day is refused (naming what is recorded); the same
    command again changes nothing; --amend corrects it and keeps the earlier version."""
    visit = first_visit(planned)
    day = visit.day.isoformat()
    recorded = ("record", visit.id, "--outcome", "completed", "--db", planned)
    assert invoke(*recorded)[0] == 0
    revision = Store(planned).revision()
    code, _, stderr = invoke(*recorded)
    assert code == 0, stderr
    assert Store(planned).revision() == revision
    for other in (["--outcome", "failed"], ["--outcome", "completed", "--on", "2026-12-30"]):
        code, _, stderr = invoke("record", visit.id, *other, "--db", planned)
        assert code == 2
        assert f"{visit.id} recorded as completed on {visit.day:%a %d %b %Y}" in said(stderr)
        assert "--amend" in said(stderr)
        assert Store(planned).revision() == revision
    assert versions_of(planned, visit) == [(1, "completed", day)]
    code, _, stderr = invoke("record", visit.id, "--outcome", "failed", "--amend", "--db", planned)
    assert code == 0, stderr
    assert versions_of(planned, visit) == [(1, "completed", day), (2, "failed", day)]


def test_record_csv_refuses_another_outcome_for_a_recorded_visit(
    tmp_path: Path, planned: str
) -> None:
    """An export that says something else about a recorded visit is refused by row; one that
    says the same is skipped as already recorded."""
    visit = first_visit(planned)
    assert invoke("record", visit.id, "--outcome", "completed", "--db", planned)[0] == 0
    path = tmp_path / "outcomes.csv"
    path.write_text(f"visit_id,outcome\n{visit.id},failed\n", encoding="utf-8")
    code, _, stderr = invoke("record", "--csv", str(path), "--db", planned)
    assert code == 2
    assert "outcomes.csv:2: visit_id" in said(stderr)
    assert "--amend" in said(stderr)
    assert versions_of(planned, visit) == [(1, "completed", visit.day.isoformat())]
    path.write_text(f"visit_id,outcome\n{visit.id},completed\n", encoding="utf-8")
    code, stdout, stderr = invoke("record", "--csv", str(path), "--json", "--db", planned)
    assert code == 0, stderr
    assert json.loads(stdout)["already"] == len(visit.child_ids)


# ------------------------------------------------------------------ record --csv: bad rows


def test_record_csv_rows_with_the_wrong_number_of_cells_are_named(
    tmp_path: Path, planned: str
) -> None:
    """A row with more or fewer cells than the header is named by file and row, exit 2,
    nothing written, never a traceback."""
    visit = first_visit(planned)
    path = tmp_path / "toomany.csv"
    path.write_text(
        f"VISIT_ID,Outcome\n{visit.id},completed,extra,cells\n{visit.id}\n", encoding="utf-8"
    )
    revision = Store(planned).revision()
    code, _, stderr = invoke("record", "--csv", str(path), "--db", planned)
    assert code == 2
    assert "toomany.csv:2: (row): expected 2 cells, got 4 cells" in said(stderr)
    assert "toomany.csv:3: (row): expected 2 cells, got 1 cell" in said(stderr)
    assert "Traceback" not in stderr
    assert Store(planned).revision() == revision


def test_record_csv_naming_a_visit_twice_is_refused(tmp_path: Path, planned: str) -> None:
    """Two rows for one visit are named (file, both rows, visit_id); nothing is written."""
    visit = first_visit(planned)
    path = tmp_path / "outcomes.csv"
    path.write_text(
        f"visit_id,outcome\n{visit.id},completed\n{visit.id},failed\n", encoding="utf-8"
    )
    code, _, stderr = invoke("record", "--csv", str(path), "--db", planned)
    assert code == 2
    assert "outcomes.csv:3: visit_id: expected each visit once (row 2 names it too)" in said(stderr)
    assert "database error" not in stderr
    assert versions_of(planned, visit) == []


# ------------------------------------------------------------------ absence add: never replaced


def absences_of(db: str, worker: str) -> list[tuple[str, str, str]]:
    """(start, end, reason) of the worker's stored absences."""
    return [(str(a.start), str(a.end), a.reason) for a in Store(db).list_absences(worker)]


def test_absence_add_never_replaces_an_overlapping_absence(loaded: str) -> None:
    """A second absence sharing a day with one of the worker's is refused, naming that one
    and how to change it; the same command again changes nothing; removed first, it goes in."""
    leave = ("absence", "add", "w1", "--from", "2026-12-07", "--to", "2026-12-08")
    assert invoke(*leave, "--db", loaded)[0] == 0
    for start in ("2026-12-07", "2026-12-08"):
        code, _, stderr = invoke(
            "absence", "add", "w1", "--from", start, "--to", "2026-12-09",
            "--reason", "sickness", "--db", loaded,
        )  # fmt: skip
        assert code == 2
        assert "w1 is away Mon 07 Dec 2026 to Tue 08 Dec 2026 (leave)" in said(stderr)
        assert "visitplan absence remove w1 --from 2026-12-07" in said(stderr)
        assert absences_of(loaded, "w1") == [("2026-12-07", "2026-12-08", "leave")]
    code, stdout, stderr = invoke(*leave, "--db", loaded)
    assert code == 0, stderr
    assert "Already recorded: leave for Worker w1 (w1)" in stdout
    assert absences_of(loaded, "w1") == [("2026-12-07", "2026-12-08", "leave")]
    assert invoke("absence", "remove", "w1", "--from", "2026-12-07", "--db", loaded)[0] == 0
    code, _, stderr = invoke(
        "absence", "add", "w1", "--from", "2026-12-07", "--to", "2026-12-09",
        "--reason", "sickness", "--db", loaded,
    )  # fmt: skip
    assert code == 0, stderr
    assert absences_of(loaded, "w1") == [("2026-12-07", "2026-12-09", "sickness")]


def test_absence_csv_with_overlapping_rows_is_refused(tmp_path: Path, loaded: str) -> None:
    """Two rows for a worker sharing a day are named (file, both rows), as is a row sharing a
    day with a stored absence; nothing is written, and --json never says they were added."""
    path = tmp_path / "absences.csv"
    path.write_text(
        "worker_id,start,end,reason\nw1,2026-12-07,2026-12-08,leave\n"
        "w1,2026-12-07,2026-12-09,sick\n",
        encoding="utf-8",
    )
    code, stdout, stderr = invoke("absence", "add", "--csv", str(path), "--json", "--db", loaded)
    assert code == 2
    assert "absences.csv:3: start: expected days no other row for w1 covers" in said(stderr)
    assert "row 2: Mon 07 Dec 2026 to Tue 08 Dec 2026 (leave)" in said(stderr)
    assert stdout == ""
    assert absences_of(loaded, "w1") == []
    assert invoke("absence", "add", "w1", "--from", "2026-12-09", "--db", loaded)[0] == 0
    path.write_text(
        "worker_id,start,end,reason\nw2,2026-12-07,2026-12-08,leave\n"
        "w1,2026-12-08,2026-12-10,sick\n",
        encoding="utf-8",
    )
    code, _, stderr = invoke("absence", "add", "--csv", str(path), "--db", loaded)
    assert code == 2
    assert "absences.csv:3: start: expected days no other absence of w1 covers" in said(stderr)
    assert absences_of(loaded, "w2") == []


def test_absence_csv_rows_with_the_wrong_number_of_cells_are_named(
    tmp_path: Path, loaded: str
) -> None:
    """An absence row with more cells than the header is named, not half read."""
    path = tmp_path / "absences.csv"
    path.write_text(
        "worker_id,start,end,reason\nw1,2026-12-07,2026-12-08,leave,extra\n", encoding="utf-8"
    )
    code, _, stderr = invoke("absence", "add", "--csv", str(path), "--db", loaded)
    assert code == 2
    assert "absences.csv:2: (row): expected 4 cells, got 5 cells" in said(stderr)
    assert absences_of(loaded, "w1") == []


def test_absence_across_years_says_both_years(loaded: str) -> None:
    """The confirmation shows the first day's year when it differs from the last day's."""
    code, stdout, stderr = invoke(
        "absence", "add", "w1", "--from", "2026-12-28", "--to", "2027-01-04", "--db", loaded
    )
    assert code == 0, stderr
    assert "Mon 28 Dec 2026 to Mon 04 Jan 2027" in stdout


# ------------------------------------------------------------------ workers list --left


def test_workers_list_left_when_nobody_has_left(loaded: str) -> None:
    """Nobody has left: said in words, and an empty list in --json (not every worker)."""
    code, stdout, stderr = invoke("workers", "list", "--left", "--db", loaded)
    assert code == 0, stderr
    assert stdout.strip() == "No worker has left."
    code, stdout, _ = invoke("workers", "list", "--left", "--json", "--db", loaded)
    assert json.loads(stdout) == []
