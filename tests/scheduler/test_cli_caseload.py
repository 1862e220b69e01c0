"""Issues 9 and 10: the commands that keep the caseload and the week true, and their refusals.

Every command runs through typer's CliRunner against a real SQLite file, with the command
line's today fixed by VISITPLAN_TODAY and the person by VISITPLAN_USER.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

import pytest

from scheduler.reports import DueReport, PlanView
from scheduler.store import Store
from tests.scenarios import north_somerset_team as make_scenario
from tests.scheduler.test_cli import invoke


def test_load_refuses_a_store_with_a_caseload_unless_replace(tmp_path: Path, loaded: str) -> None:
    """A second load is refused; --replace closes children the file lacks and keeps records."""
    scenario = make_scenario()
    smaller = scenario.model_copy(update={"children": scenario.children[:2], "records": ()})
    path = tmp_path / "smaller.json"
    path.write_text(smaller.model_dump_json(), encoding="utf-8")
    code, _, stderr = invoke("load", str(path), "--db", loaded)
    assert code == 2
    assert "--replace" in stderr
    code, stdout, stderr = invoke("load", str(path), "--replace", "--json", "--db", loaded)
    assert code == 0, stderr
    assert sorted(json.loads(stdout)["closed"]) == ["c3", "c4"]
    store = Store(loaded)
    assert len(store.records_for("c3")) == 1  # history kept
    assert [c.id for c in store.read_scenario().children] == ["c1", "c2"]


def test_import_refuses_a_header_only_children_file(tmp_path: Path, loaded: str) -> None:
    """A children.csv with only its header would close everyone: refused without
    --allow-shrink, and nothing is written."""
    source = Path(__file__).parent.parent / "data" / "import_ok"
    export = tmp_path / "export"
    export.mkdir()
    for item in source.iterdir():
        text = item.read_text(encoding="utf-8")
        if item.name == "children.csv":
            text = text.splitlines()[0] + "\n"
        if item.name == "visits.csv":
            text = text.splitlines()[0] + "\n"
        (export / item.name).write_text(text, encoding="utf-8")
    revision = Store(loaded).revision()
    code, _, stderr = invoke("import", str(export), "--authority", "north-somerset", "--db", loaded)
    assert code == 2
    assert "--allow-shrink" in stderr
    assert Store(loaded).revision() == revision
    assert len(Store(loaded).read_scenario().children) == 4


@pytest.mark.parametrize(
    ("start", "today", "allowed"),
    [
        pytest.param("2026-11-30", "2026-12-06", True, id="this-week-on-sunday"),
        pytest.param("2026-11-23", "2026-11-30", False, id="last-week"),
        pytest.param("2027-01-25", "2026-11-30", True, id="8-weeks-ahead"),
        pytest.param("2027-02-01", "2026-11-30", False, id="9-weeks-ahead"),
        pytest.param("2025-11-24", "2026-11-30", False, id="a-year-out"),
    ],
)
def test_a_stored_plan_starts_this_week_or_within_8_weeks(
    loaded: str, start: str, today: str, allowed: bool
) -> None:
    """A `--start` in a week gone or far ahead (a slip of the year) is refused before the
    current plan is replaced (the next publish would have taken every visit off the
    calendars); --scenario, which stores nothing, may plan any week."""
    planned = invoke("plan", "--start", start, "--time-limit", "0.1", "--db", loaded, today=today)
    assert (planned[0] == 0) is allowed, planned[2]
    assert (Store(loaded).current_plan() is not None) is allowed
    if not allowed:
        assert planned[0] == 2
        assert "a week that has passed" in planned[2] or "weeks ahead" in planned[2]


def test_plan_over_a_plan_says_it_replaces_it(loaded: str) -> None:
    """Planning again names the plan it replaces."""
    args = ("plan", "--start", "2026-11-30", "--time-limit", "1", "--db", loaded)
    assert invoke(*args)[0] == 0
    code, _, stderr = invoke(*args, "--seed", "1")
    assert code == 0
    assert "replaced the previous current plan" in stderr


def test_plan_show_lists_ids_names_states_and_rule_titles(planned: str) -> None:
    """`plan show` needs no JSON to find a visit id; past visits are awaiting, not done."""
    code, stdout, _ = invoke("plan", "show", "--json", "--db", planned, today="2026-12-02")
    assert code == 0
    view = PlanView.model_validate_json(stdout)
    assert view.visits
    first = view.visits[0]
    assert first.worker_name.startswith("Worker ")
    assert all(not r.startswith("ns_") for row in view.visits for r in row.rules)
    states = {row.state for row in view.visits if row.day.isoformat() < "2026-12-02"}
    assert states <= {"awaiting"}
    code, stdout, _ = invoke("plan", "show", "--day", first.day.isoformat(), "--db", planned)
    assert code == 0
    assert first.visit_id in stdout


def test_record_day_then_due_has_no_awaiting(planned: str) -> None:
    """A day recorded in one command: its visits are completed and nobody awaits an outcome."""
    view = PlanView.model_validate_json(
        invoke("plan", "show", "--json", "--db", planned, today="2026-12-01")[1]
    )
    monday = [r.visit_id for r in view.visits if r.day.isoformat() == "2026-11-30"]
    if not monday:
        pytest.skip("the plan has no Monday visit")
    code, stdout, _ = invoke("due", "--json", "--db", planned, today="2026-12-01")
    before = DueReport.model_validate_json(stdout)
    assert before.counts["awaiting outcome"] > 0
    code, _, stderr = invoke(
        "record", "--day", "2026-11-30", "--completed", "--db", planned, today="2026-12-01"
    )
    assert code == 0, stderr
    code, stdout, _ = invoke("due", "--json", "--db", planned, today="2026-12-01")
    assert DueReport.model_validate_json(stdout).counts["awaiting outcome"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--day", "2026-11-30"], "--completed", id="day-without-completed"),
        pytest.param(["v-x", "--outcome", "completed", "--day", "2026-11-30"], "one of", id="two"),
        pytest.param(["--day", "2027-01-05", "--completed"], "on or before today", id="future"),
        pytest.param(["--day", "9999-12-31", "--completed"], "between 1900", id="far-future"),
    ],
)
def test_record_refuses_bad_usage(planned: str, args: list[str], message: str) -> None:
    """Bad combinations and impossible days exit 2 with a message; nothing is written."""
    revision = Store(planned).revision()
    code, _, stderr = invoke("record", *args, "--db", planned)
    assert code == 2
    assert message in stderr
    assert Store(planned).revision() == revision


def test_record_csv_is_all_or_nothing(tmp_path: Path, planned: str) -> None:
    """An outcomes export with one bad row names it and writes nothing; fixed, it records."""
    visit = Store(planned).current_plan().visits[0]  # type: ignore[union-attr]
    path = tmp_path / "outcomes.csv"
    path.write_text(f"visit_id,outcome\n{visit.id},completed\nv-nope,failed\n", encoding="utf-8")
    code, _, stderr = invoke("record", "--csv", str(path), "--db", planned)
    assert code == 2
    assert "outcomes.csv:3: visit_id" in stderr
    assert Store(planned).records_for_visits([visit.id]) == {}
    path.write_text(f"visit_id,outcome,seen_alone\n{visit.id},completed,yes\n", encoding="utf-8")
    code, stdout, _ = invoke("record", "--csv", str(path), "--db", planned, "--json")
    assert code == 0
    assert json.loads(stdout)["added"] == len(visit.child_ids)
    path.write_bytes("visit_id,outcome\nv,\xe9t\xe9\n".encode("latin-1"))
    code, _, stderr = invoke("record", "--csv", str(path), "--db", planned)
    assert code == 2
    assert "UTF-8" in stderr


def test_due_filters_and_summary(planned: str) -> None:
    """Filters narrow the list; the summary counts children by state."""
    code, stdout, _ = invoke("due", "--db", planned)
    assert code == 0
    assert "children as of" in stdout
    code, stdout, _ = invoke("due", "--json", "--overdue", "--db", planned, today="2026-12-01")
    report = DueReport.model_validate_json(stdout)
    assert {r.state for r in report.children} <= {"overdue"}
    code, stdout, _ = invoke("due", "--json", "--worker", "w2", "--db", planned)
    assert all(r.allocated_worker == "w2" for r in DueReport.model_validate_json(stdout).children)
    assert invoke("due", "--team", "nope", "--db", planned)[0] == 2
    assert invoke("due", "--state", "late", "--db", planned)[0] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--category", "child-in-care", "--household", "h1"],
            "placement type",
            id="in-care-without-placement",
        ),
        pytest.param(
            ["--category", "child-in-need", "--household", "h1", "--household", "h1"],
            "--household: expected child c-new: the same household is listed twice",
            id="same-household-twice",
        ),
        pytest.param(
            ["--category", "child-in-need", *("--household", "h1") * 3],
            "--household: expected at most 2 items",
            id="three-households",
        ),
        pytest.param(
            [
                "--category",
                "child-in-need",
                "--household",
                "h9",
                "--area",
                "BS1",
                "--lat",
                "51.4",
                "--lon",
                "-2.6",
            ],
            "--team",
            id="new-home-without-team",
        ),
        pytest.param(
            ["--category", "child-in-need", "--household", "h1", "--case-ref-dup"],
            "case reference",
            id="duplicate-case-ref",
        ),
        pytest.param(
            [
                "--category",
                "child-in-need",
                "--household",
                "h9",
                "--area",
                "BS1",
                "--lat",
                "95",
                "--lon",
                "-2.6",
                "--team",
                "t1",
            ],
            "--lat",
            id="latitude-out-of-range",
        ),
        pytest.param(
            [
                "--category",
                "child-in-need",
                "--household",
                "h9",
                "--area",
                "BS1",
                "--lat",
                "nan",
                "--lon",
                "-2.6",
                "--team",
                "t1",
            ],
            "--lat",
            id="latitude-nan",
        ),
    ],
)
def test_child_add_refuses_what_would_break_planning(
    loaded: str, args: list[str], message: str
) -> None:
    """Each refusal names the option and writes nothing."""
    case_ref = "CR-c1" if "--case-ref-dup" in args else "CR-NEW"
    args = [a for a in args if a != "--case-ref-dup"]
    revision = Store(loaded).revision()
    code, _, stderr = invoke("child", "add", "c-new", "--case-ref", case_ref, *args, "--db", loaded)
    assert code == 2, stderr
    assert message in stderr
    assert "nothing was written" in stderr
    assert Store(loaded).revision() == revision


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param(("child", "edit", "c2", "--worker", "w1", "--unallocate"), "--unallocate"),
        pytest.param(
            ("child", "edit", "c2", "--flag", "section-47", "--remove-flag", "section-47"),
            "--remove-flag",
            id="flag-added-and-removed",
        ),
        pytest.param(("child", "edit", "c2", "--category", "child-in-need", "--reason", " "),
                     "--reason", id="blank-edit-reason"),
        pytest.param(("child", "close", "c2", "--on", "2026-11-29", "--reason", ""), "--reason",
                     id="blank-close-reason"),
        pytest.param(("absence", "add", "w1", "--from", "2026-12-07", "--reason", ""), "--reason",
                     id="blank-absence-reason"),
    ],
)  # fmt: skip
def test_contradictory_or_blank_options_are_refused(
    loaded: str, args: tuple[str, ...], named: str
) -> None:
    """Options that contradict each other, or a reason left blank, exit 2 naming the option,
    and nothing is written (they were accepted and reported as changed)."""
    revision = Store(loaded).revision()
    code, _, stderr = invoke(*args, "--db", loaded, today="2026-11-30")
    assert code == 2, stderr
    assert named in stderr
    assert Store(loaded).revision() == revision


def test_child_edit_close_and_history(loaded: str) -> None:
    """An edit and a closure are written with who and when, and `history` prints them."""
    code, stdout, stderr = invoke(
        "child", "edit", "c2", "--category", "child-protection", "--plan-start", "2026-12-01",
        "--reason", "initial conference", "--by", "Sam Manager", "--db", loaded,
    )  # fmt: skip
    assert code == 0, stderr
    assert "category" in stdout
    code, _, stderr = invoke(
        "child", "close", "c3", "--on", "2026-12-10", "--reason", "moved away", "--db", loaded
    )
    assert code == 0, stderr
    code, stdout, _ = invoke("history", "c2", "--json", "--db", loaded)
    history = json.loads(stdout)
    edit = next(e for e in history["changes"] if e["action"] == "child edited")
    assert edit["by"] == "Sam Manager"
    assert edit["detail"]["changed"]["category"] == ["child-in-need", "child-protection"]
    assert edit["at"] is not None
    code, stdout, _ = invoke("history", "c3", "--db", loaded)
    assert "closed" in stdout
    assert "moved away" in stdout
    scenario = Store(loaded).read_scenario()
    assert "c3" not in {c.id for c in scenario.children}
    assert invoke("child", "edit", "c3", "--worker", "w1", "--db", loaded)[0] == 2
    assert (
        invoke("child", "close", "c1", "--on", "2027-02-01", "--reason", "x", "--db", loaded)[0]
        == 2
    )


def test_changes_print_json_for_scripts(loaded: str) -> None:
    """`absence add|remove` and `child add|close` take --json: what was written, by id (no
    child's name), and nothing else on standard output."""
    store = Store(loaded)
    household = store.read_scenario().children[0].household_ids[0]
    code, stdout, stderr = invoke(
        "child", "add", "c-new", "--case-ref", "CR-NEW", "--category", "child-in-need",
        "--household", household, "--worker", "w1", "--json", "--db", loaded,
    )  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout) == {
        "added": {"child_id": "c-new", "case_ref": "CR-NEW", "category": "child-in-need"},
        "household_ids": [household],
    }
    code, stdout, stderr = invoke(
        "child", "close", "c-new", "--on", "2026-12-01", "--reason", "no further action",
        "--json", "--db", loaded,
    )  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout) == {
        "closed": {"child_id": "c-new", "on": "2026-12-01", "reason": "no further action"}
    }
    code, stdout, stderr = invoke(
        "absence", "add", "w1", "--from", "2026-12-07", "--to", "2026-12-08", "--reason",
        "training", "--json", "--db", loaded,
    )  # fmt: skip
    assert code == 0, stderr
    assert json.loads(stdout) == {
        "added": [
            {"worker_id": "w1", "start": "2026-12-07", "end": "2026-12-08", "reason": "training"}
        ],
        "already": [],
    }
    code, stdout, stderr = invoke(
        "absence", "remove", "w1", "--from", "2026-12-07", "--json", "--db", loaded
    )
    assert code == 0, stderr
    assert json.loads(stdout) == {"removed": {"worker_id": "w1", "start": "2026-12-07"}}
    assert all(a.start != date(2026, 12, 7) for a in store.list_absences("w1"))


def test_child_close_takes_the_child_off_future_visits(planned: str) -> None:
    """Closing a case cancels its later visits (or takes the child off a shared visit)."""
    plan = Store(planned).current_plan()
    assert plan is not None
    later = [v for v in plan.visits if "c1" in v.child_ids]
    assert later
    code, _, _ = invoke(
        "child", "close", "c1", "--on", "2026-11-29", "--reason", "case closed",
        "--db", planned, today="2026-11-29",
    )  # fmt: skip
    assert code == 0
    after = {v.id: v for v in Store(planned).current_plan().visits}  # type: ignore[union-attr]
    for visit in later:
        changed = after[visit.id]
        assert "c1" not in changed.child_ids or changed.status == "cancelled"


def test_a_load_that_closes_children_takes_them_off_future_visits(
    tmp_path: Path, planned: str
) -> None:
    """Children closed by a replacing load (or an import) leave the current plan as with
    `child close`: their later visits are cancelled, or they are taken off a shared visit."""
    scenario = make_scenario()
    before = Store(planned).current_plan()
    assert before is not None
    gone = {"c3", "c4"}
    later = [v for v in before.visits if gone & set(v.child_ids) and v.day > scenario.as_of]
    assert later
    smaller = scenario.model_copy(
        update={"children": tuple(c for c in scenario.children if c.id not in gone), "records": ()}
    )
    path = tmp_path / "smaller.json"
    path.write_text(smaller.model_dump_json(), encoding="utf-8")
    code, _, stderr = invoke("load", str(path), "--replace", "--db", planned)
    assert code == 0, stderr
    after = {v.id: v for v in Store(planned).current_plan().visits}  # type: ignore[union-attr]
    for visit in later:
        changed = after[visit.id]
        assert not gone & set(changed.child_ids) or changed.status == "cancelled"
    assert invoke("check", "--db", planned)[0] == 0


def test_visit_move_pin_and_refusal(planned: str) -> None:
    """A move is judged before it is saved; a breaking move is refused with the reason."""
    store = Store(planned)
    plan = store.current_plan()
    assert plan is not None
    visit = plan.visits[0]
    today = "2026-11-29"
    code, stdout, _ = invoke(
        "visit", "move", visit.id, "--to", f"{visit.day}T23:00", "--db", planned, today=today
    )
    assert code == 1
    assert "Refused" in stdout
    assert store.find_visit(visit.id) == visit
    code, stdout, stderr = invoke(
        "visit", "move", visit.id, "--to", visit.day.isoformat(), "--dry-run", "--db", planned,
        today=today,
    )  # fmt: skip
    assert code == 0, stdout + stderr
    assert "Nothing was saved" in stdout
    assert invoke("visit", "pin", visit.id, "--db", planned, today=today)[0] == 0
    pinned = store.find_visit(visit.id)
    assert pinned is not None
    assert pinned.pinned
    assert invoke("visit", "unpin", visit.id, "--db", planned, today=today)[0] == 0

    assert (
        invoke("visit", "move", visit.id, "--to", "2026-11-01", "--db", planned, today=today)[0]
        == 2
    )
    for odd in ("T16:00:30", "T1600", "T25:00"):  # seconds, no colon, no such hour
        code, _, stderr = invoke(
            "visit", "move", visit.id, "--to", f"{visit.day}{odd}", "--db", planned, today=today
        )
        assert code == 2
        assert "--to" in stderr
        assert "HH:MM" in stderr


def test_a_refused_move_is_said_in_a_managers_words(planned: str) -> None:
    """A move past the plan's end is refused naming the worker, the children by case
    reference and each deadline by its rule's title, as one "would be missed": not ids."""
    store = Store(planned)
    plan = store.current_plan()
    assert plan is not None
    visit = max(plan.visits, key=lambda v: v.start)  # c1's: on time, not overdue
    later = plan.end + timedelta(days=3)
    code, stdout, _ = invoke(
        "visit", "move", visit.id, "--to", later.isoformat(), "--db", planned, today="2026-11-29"
    )
    words = " ".join(stdout.split())
    assert code == 1
    worker = store.worker_names()[visit.worker_id]
    assert f"{worker} ->" in words
    assert "would be missed" in words
    assert "not met and not reported" not in words
    assert "Child " in words, "rules by their titles"
    assert not any(f" {c}:" in words for c in visit.child_ids), "children by case reference"


def test_workers_list(loaded: str) -> None:
    """Workers with names, roles and caseloads; an unknown team is refused."""
    code, stdout, _ = invoke("workers", "list", "--json", "--db", loaded)
    assert code == 0
    rows = json.loads(stdout)
    assert {r["id"] for r in rows} == {"w1", "w2"}
    assert next(r for r in rows if r["id"] == "w1")["children"] == 4
    assert invoke("workers", "list", "--team", "nope", "--db", loaded)[0] == 2


def test_child_edit_sets_the_plans_own_frequency(loaded: str) -> None:
    """A conference sets "every 5 working days": the child is due sooner, the source is kept,
    and --no-every takes it away again."""
    before = DueReport.model_validate_json(invoke("due", "--json", "--all", "--db", loaded)[1])
    was = next(r for r in before.children if r.child_id == "c1").next_due
    code, _, stderr = invoke(
        "child", "edit", "c1", "--every", "5 working days", "--every-source", "CP conference",
        "--db", loaded,
    )  # fmt: skip
    assert code == 0, stderr
    child = Store(loaded).child_row("c1")
    assert child is not None
    assert child.child.frequency is not None
    assert child.child.frequency.source == "CP conference"
    after = DueReport.model_validate_json(invoke("due", "--json", "--all", "--db", loaded)[1])
    now = next(r for r in after.children if r.child_id == "c1").next_due
    assert was is not None
    assert now is not None
    assert now < was
    assert invoke("child", "edit", "c1", "--no-every", "--db", loaded)[0] == 0
    assert Store(loaded).child_row("c1").child.frequency is None  # type: ignore[union-attr]
    code, _, stderr = invoke("child", "edit", "c1", "--every", "often", "--db", loaded)
    assert code == 2
    assert "--every" in stderr


def test_plan_show_breaches_lists_every_breach_and_plan_caps_the_list(planned: str) -> None:
    """`plan show --breaches` prints the current plan's breaches; the table caps with a caption."""
    from rich.console import Console

    from scheduler import render

    code, stdout, stderr = invoke("plan", "show", "--breaches", "--json", "--db", planned)
    assert code == 0, stderr
    rows = json.loads(stdout)
    store = Store(planned)
    _revision, scenario, plan = store.snapshot()
    assert plan is not None
    assert len(rows) == len(plan.breaches) >= 1
    assert {r["child_id"] for r in rows} >= {"c2"}
    console = Console(width=200, record=True)
    console.print(render.render_breaches(plan, scenario, limit=len(plan.breaches)))
    assert "more:" not in console.export_text()
    console.print(render.render_breaches(plan, scenario, limit=len(plan.breaches) - 1))
    assert "... and 1 more: `visitplan plan show --breaches`" in console.export_text()


def test_plan_show_breaches_without_a_plan_says_so(loaded: str) -> None:
    code, _, stderr = invoke("plan", "show", "--breaches", "--db", loaded)
    assert code == 1
    assert "no current plan" in stderr


@pytest.mark.parametrize("command", ["plan", "replan"])
def test_progress_speaks_plainly_and_solver_figures_need_verbose(
    planned: str, command: str
) -> None:
    """Default progress names teams and deadlines; CP-SAT's status and figures only with
    --verbose (issue 10: no solver terms in a manager's output). The plan starts after the
    stored one ends, so each run (quiet, then loud on a copy of the store) plans afresh."""
    args = (
        ("plan", "--start", "2026-12-14", "--weeks", "2", "--time-limit", "1")
        if command == "plan"
        else ("replan", "--from", "2026-12-01", "--json")
    )
    if command == "replan":
        absent = ("absence", "add", "w1", "--from", "2026-12-01", "--to", "2026-12-04")
        assert invoke(*absent, "--db", planned)[0] == 0
    path = Path(planned.removeprefix("sqlite:///"))
    copy = path.with_name("copy.db")
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(copy)) as target:
        source.backup(target)  # the store's write-ahead log too
    solver_words = ("FEASIBLE", "OPTIMAL", "cut rounds", "clocks", "objective")
    code, _, quiet = invoke(*args, "--db", planned)
    assert code == 0, quiet
    assert "team 1 of 1" in quiet
    assert not any(word in quiet for word in solver_words), quiet
    code, _, loud = invoke(*args, "--verbose", "--db", f"sqlite:///{copy}")
    assert code == 0, loud
    assert set(quiet.splitlines()) < set(loud.splitlines())
    if command == "plan":
        assert any(word in loud for word in solver_words), loud


def test_a_child_is_named_by_case_reference_as_due_shows(loaded: str) -> None:
    """`history`, `child edit` and `child close` take the case reference a manager reads in
    `due` (which shows no ids) as well as the id; an unknown one is exit 2; once a case
    with a reference closes and a new one takes it, the open case is the one named."""
    scenario = Store(loaded).read_scenario()
    c2 = next(c for c in scenario.children if c.id == "c2")
    code, stdout, stderr = invoke("history", c2.case_ref, "--json", "--db", loaded)
    assert code == 0, stderr
    assert json.loads(stdout)["child_id"] == "c2"
    code, _, stderr = invoke("child", "edit", c2.case_ref, "--worker", "w1", "--db", loaded)
    assert code == 0, stderr
    code, _, stderr = invoke("history", "CR-NO-SUCH", "--db", loaded)
    assert code == 2
    assert "no child with the id or case reference 'CR-NO-SUCH'" in " ".join(stderr.split())
    closing = ("child", "close", c2.case_ref, "--on", "2026-11-30", "--reason", "moved away")
    code, _, stderr = invoke(*closing, "--db", loaded, today="2026-11-30")
    assert code == 0, stderr
    c1 = next(c for c in scenario.children if c.id == "c1")
    taking = ("child", "edit", "c1", "--case-ref", c2.case_ref, "--reason", "merged file")
    code, _, stderr = invoke(*taking, "--db", loaded, today="2026-11-30")
    assert code == 0, stderr
    code, stdout, stderr = invoke("history", c2.case_ref, "--json", "--db", loaded)
    assert code == 0, stderr
    assert json.loads(stdout)["child_id"] == c1.id


@pytest.mark.parametrize(
    ("last", "noted"), [("2026-11-30", True), ("2026-12-01", False)], ids=["ended", "today"]
)
def test_an_absence_already_over_is_recorded_with_a_note(
    loaded: str, last: str, noted: bool
) -> None:
    """Past sickness is recorded (it matters to how past days are read), with a note saying
    so and how to take back a mistyped year; one reaching today gets no note."""
    args = ("absence", "add", "w1", "--from", "2026-11-23", "--to", last, "--reason", "sickness")
    code, stdout, stderr = invoke(*args, "--db", loaded, today="2026-12-01")
    assert code == 0, stderr
    assert "Recorded sickness" in stdout
    assert ("ended before today" in " ".join(stderr.split())) is noted


def test_a_re_plan_with_nothing_to_change_says_so(planned: str) -> None:
    """Nothing changed since the plan: a sentence, not an empty table of changes; with an
    unknown --team, exit 2 naming it and nothing proposed."""
    code, stdout, stderr = invoke("replan", "--from", "2026-12-01", "--db", planned)
    assert code == 0, stderr
    assert "No change to the published plan." in stdout
    assert "change(s) to the published plan" not in stdout
    code, _, stderr = invoke("replan", "--team", "team-99", "--db", planned)
    assert code == 2
    assert "--team: expected a known team id, got team-99" in " ".join(stderr.split())
