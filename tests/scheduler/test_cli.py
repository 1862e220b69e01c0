"""The command-line contract (DESIGN.md section 6): outputs, --json and exit codes 0/1/2."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scheduler.cli import app
from scheduler.domain import Scenario
from scheduler.service import DueDateAnswer, DueReport
from tests.scenarios import north_somerset_team as make_scenario

runner = CliRunner()
TODAY = "2026-12-31"
"""The command line's today in these tests (after every planned fortnight): no hidden clock."""


def invoke(*args: str, today: str | None = None) -> tuple[int, str, str]:
    """The command line at `today` (default `TODAY`; a `plan --start DAY` that stores its plan
    runs on the Friday before DAY, as a manager plans the week ahead: a stored plan cannot
    start in a week gone)."""
    if today is None:
        today = TODAY
        if args[:1] == ("plan",) and "--start" in args and "--scenario" not in args:
            start = date.fromisoformat(args[args.index("--start") + 1])
            today = (start - timedelta(days=(start.weekday() + 3) % 7 or 7)).isoformat()
    env = {"COLUMNS": "200", "VISITPLAN_TODAY": today, "VISITPLAN_USER": "test-manager"}
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


def test_help_lists_every_command() -> None:
    """`visitplan --help` teaches every command of the contract."""
    code, stdout, _ = invoke("--help")
    assert code == 0
    for command in (
        "due",
        "due-date",
        "load",
        "import",
        "schema",
        "policies",
        "record",
        "generate",
    ):
        assert command in stdout


def test_policies_list_shows_every_pack() -> None:
    """Every shipped pack is listed, with its base."""
    code, stdout, _ = invoke("policies", "list", "--json")
    assert code == 0
    ids = {p["id"] for p in json.loads(stdout)}
    assert {"england", "north-somerset", "trust-standards", "camden", "cin-guidance"} <= ids


def test_policies_show_quotes_sources() -> None:
    """A pack's rules are shown with the line they come from."""
    code, stdout, _ = invoke("policies", "show", "camden")
    assert code == 0
    assert "10 days" in stdout


def test_policies_show_unknown_pack_exits_2() -> None:
    """An unknown authority is a usage error."""
    code, _, stderr = invoke("policies", "show", "atlantis")
    assert code == 2
    assert "atlantis" in stderr


def test_due_date_cp_skips_christmas_bank_holidays() -> None:
    """North Somerset CP: every 10 working days; 25 and 28 Dec 2026 are bank holidays.

    Last visit Mon 14 Dec 2026: working days 15-18, 21-24 (8), 29 (9), 30 (10) -> 30 Dec.
    At home every 28 days -> 11 Jan 2027.
    """
    code, stdout, _ = invoke(
        "due-date",
        "--authority",
        "north-somerset",
        "--category",
        "child-protection",
        "--last-visit",
        "2026-12-14",
        "--as-of",
        "2026-12-15",
        "--json",
    )
    assert code == 0
    answer = DueDateAnswer.model_validate_json(stdout)
    dues = {r.due for r in answer.requirements}
    assert date(2026, 12, 30) in dues
    assert {r.rule for r in answer.requirements} >= {"ns_cp_seen_every_10_working_days"}
    assert date(2027, 1, 11) in dues
    assert answer.next_due == date(2026, 12, 30)


def test_due_date_inclusive_count_of_cin_guidance() -> None:
    """Pack 003 counts the visit day as day 1: due on the 19th working day after it.

    Visit Mon 1 Mar 2027: working days after it 2-5 (4), 8-12 (9), 15-19 (14), 22-25 (18),
    26 Mar is Good Friday, 29 Mar Easter Monday, so the 19th is Tue 30 Mar 2027.
    """
    code, stdout, _ = invoke(
        "due-date",
        "--authority",
        "cin-guidance",
        "--category",
        "child-in-need",
        "--last-visit",
        "2027-03-01",
        "--as-of",
        "2027-03-02",
        "--json",
    )
    assert code == 0
    answer = DueDateAnswer.model_validate_json(stdout)
    assert answer.next_due == date(2027, 3, 30)


def test_due_date_table_is_readable() -> None:
    """Without --json the answer is a table and a sentence."""
    code, stdout, _ = invoke(
        "due-date",
        "--authority",
        "camden",
        "--category",
        "child-in-need",
        "--last-visit",
        "2026-12-14",
        "--as-of",
        "2026-12-15",
    )
    assert code == 0
    assert "Next visit due by" in stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--last-visit", "14/12/2026"], id="bad-date"),
        pytest.param(["--category", "child-in-space"], id="bad-category"),
        pytest.param(["--authority", "atlantis"], id="unknown-authority"),
    ],
)
def test_due_date_bad_input_exits_2(args: list[str]) -> None:
    """Bad input is a usage error (exit 2) with a message naming it."""
    base = {"--authority": "camden", "--category": "child-in-need", "--last-visit": "2026-12-14"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    flat = [x for pair in base.items() for x in pair]
    code, _, stderr = invoke("due-date", *flat)
    assert code == 2
    assert stderr


def test_schema_describes_every_field() -> None:
    """`visitplan schema` prints a JSON Schema in which every field has a description."""
    code, stdout, _ = invoke("schema")
    assert code == 0
    schema = json.loads(stdout)
    missing = []
    for name, definition in schema.get("$defs", {}).items():
        for field, spec in definition.get("properties", {}).items():
            if "description" not in spec:
                missing.append(f"{name}.{field}")
    for field, spec in schema["properties"].items():
        if "description" not in spec:
            missing.append(f"Scenario.{field}")
    assert not missing


def test_load_then_due_lists_overdue_first(tmp_path: Path, db: str) -> None:
    """A loaded caseload answers `due`; the overdue child comes first."""
    scenario = make_scenario()
    path = tmp_path / "scenario.json"
    path.write_text(scenario.model_dump_json(), encoding="utf-8")
    code, _, stderr = invoke("load", str(path), "--db", db)
    assert code == 0, stderr
    code, stdout, _ = invoke("due", "--db", db, "--as-of", "2026-12-01", "--json")
    assert code == 0
    report = DueReport.model_validate_json(stdout)
    assert len(report.children) == len(scenario.children)
    overdue = [c.overdue_days for c in report.children]
    assert overdue == sorted(overdue, reverse=True)
    assert overdue[0] > 0


def test_load_bad_file_exits_2_and_writes_nothing(tmp_path: Path, db: str) -> None:
    """A scenario with a child in an unknown household is refused whole."""
    good = make_scenario()
    path = tmp_path / "good.json"
    path.write_text(good.model_dump_json(), encoding="utf-8")
    assert invoke("load", str(path), "--db", db)[0] == 0
    data = json.loads(good.model_dump_json())
    data["children"][0]["household_ids"] = ["nowhere"]
    data["children"][1]["birth_date"] = "31/02/2020"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    code, _, stderr = invoke("load", str(bad), "--db", db)
    assert code == 2
    assert "bad.json" in stderr
    code, stdout, _ = invoke("due", "--db", db, "--as-of", "2026-12-01", "--json")
    assert len(DueReport.model_validate_json(stdout).children) == len(good.children)


def test_due_on_empty_store_explains_what_to_do(db: str) -> None:
    """An empty store tells the user how to fill it."""
    code, _, stderr = invoke("due", "--db", db)
    assert code == 2
    assert "visitplan load" in stderr


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("due",), id="due"),
        pytest.param(("plan", "show"), id="plan-show"),
        pytest.param(("workers", "list"), id="workers-list"),
        pytest.param(("check",), id="check"),
    ],
)
def test_a_mistyped_store_is_named_not_made(tmp_path: Path, args: tuple[str, ...]) -> None:
    """A command that reads a store, given a SQLite file that does not exist, says so (exit 2)
    and leaves no empty store behind; only load, import and users add make one."""
    typo = tmp_path / "visitplam.db"
    code, _, stderr = invoke(*args, "--db", f"sqlite:///{typo}")
    assert code == 2
    assert "no store at" in stderr
    assert not typo.exists()


def test_planning_a_scenario_file_reads_or_makes_no_store(tmp_path: Path) -> None:
    """`plan --scenario FILE` plans the file alone: no store is made beside it."""
    path = tmp_path / "scenario.json"
    path.write_text(make_scenario().model_dump_json(), encoding="utf-8")
    store = tmp_path / "never.db"
    code, _, stderr = invoke(
        "plan", "--start", "2026-11-30", "--time-limit", "0.1", "--scenario", str(path),
        "--processes", "1", "--db", f"sqlite:///{store}",
    )  # fmt: skip
    assert code == 0, stderr
    assert not store.exists()


def test_generate_is_deterministic(tmp_path: Path) -> None:
    """The same seed writes the same file."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for path in (a, b):
        code, _, stderr = invoke(
            "generate",
            "--size",
            "S",
            "--children",
            "30",
            "--seed",
            "3",
            "--start",
            "2026-11-30",
            "-o",
            str(path),
        )
        assert code == 0, stderr
    assert a.read_bytes() == b.read_bytes()
    assert Scenario.model_validate_json(a.read_text()).children


def test_plan_then_check_accepts_the_stored_plan(tmp_path: Path, loaded: str) -> None:
    """`plan` stores a plan the independent checker accepts (exit 0); --json writes it."""
    plan_json = tmp_path / "plan.json"
    code, stdout, stderr = invoke(
        "plan",
        "--start",
        "2026-11-30",
        "--weeks",
        "2",
        "--time-limit",
        "5",
        "--json",
        str(plan_json),
        "--db",
        loaded,
    )
    assert code == 0, stderr
    assert "Compliance" in stdout
    plan = json.loads(plan_json.read_text())
    assert plan["visits"]
    assert all(v["reasons"] for v in plan["visits"])
    code, stdout, _ = invoke("check", "--db", loaded, "--json")
    assert code == 0
    assert json.loads(stdout)["violations"] == [] or all(
        not v["hard"] for v in json.loads(stdout)["violations"]
    )


def test_check_exits_1_on_a_tampered_plan(tmp_path: Path, loaded: str) -> None:
    """A plan whose visit was moved outside the worker's hours fails the check with exit 1."""
    plan_json = tmp_path / "plan.json"
    assert (
        invoke(
            "plan",
            "--start",
            "2026-11-30",
            "--time-limit",
            "5",
            "--json",
            str(plan_json),
            "--db",
            loaded,
        )[0]
        == 0
    )
    plan = json.loads(plan_json.read_text())
    plan["visits"][0]["start"] = plan["visits"][0]["start"][:11] + "22:00:00Z"
    bad = tmp_path / "bad-plan.json"
    bad.write_text(json.dumps(plan))
    scenario = tmp_path / "scenario.json"
    code, stdout, _ = invoke("check", "--scenario", str(scenario), "--plan", str(bad))
    assert code == 1
    assert "HARD" in stdout
    # In a manager's words: the worker by name (w1 is "Worker w1"), not by id alone.
    assert "outside Worker w1's hours" in " ".join(stdout.split())


def test_check_needs_both_files_or_neither(tmp_path: Path) -> None:
    """--scenario without --plan is a usage error."""
    code, _, _ = invoke("check", "--scenario", str(tmp_path / "x.json"))
    assert code == 2


def test_absence_add_list_remove(loaded: str) -> None:
    """An absence is recorded, listed and removed; removing it twice is an error."""
    assert (
        invoke(
            "absence",
            "add",
            "w1",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-03",
            "--reason",
            "sickness",
            "--db",
            loaded,
        )[0]
        == 0
    )
    code, stdout, _ = invoke("absence", "list", "--json", "--db", loaded)
    assert code == 0
    assert json.loads(stdout) == [
        {"worker_id": "w1", "start": "2026-12-01", "end": "2026-12-03", "reason": "sickness"}
    ]
    assert invoke("absence", "remove", "w1", "--from", "2026-12-01", "--db", loaded)[0] == 0
    assert invoke("absence", "remove", "w1", "--from", "2026-12-01", "--db", loaded)[0] == 2


def test_absence_csv_is_all_or_nothing(tmp_path: Path, loaded: str) -> None:
    """A CSV with one bad row writes nothing and names file, row and field."""
    path = tmp_path / "absences.csv"
    path.write_text(
        "worker_id,start,end,reason\nw1,2026-12-07,2026-12-08,court\n"
        "w9,2026-12-07,2026-12-08,leave\n"
    )
    code, _, stderr = invoke("absence", "add", "--csv", str(path), "--db", loaded)
    assert code == 2
    assert "absences.csv:3: worker_id" in stderr
    code, stdout, _ = invoke("absence", "list", "--json", "--db", loaded)
    assert json.loads(stdout) == []
    path.write_text("worker_id,start,end,reason\nw1,2026-12-07,2026-12-08,court\n")
    code, stdout, stderr = invoke("absence", "add", "--csv", str(path), "--db", loaded)
    assert code == 0, stderr
    assert "Recorded court for Worker w1 (w1): Mon 07 Dec to Tue 08 Dec 2026" in stdout


def test_absence_to_before_from_is_refused(loaded: str) -> None:
    """An absence that ends before it starts is a usage error."""
    code, _, _ = invoke(
        "absence", "add", "w1", "--from", "2026-12-03", "--to", "2026-12-01", "--db", loaded
    )
    assert code == 2


def test_record_outcome_of_a_planned_visit(loaded: str) -> None:
    """Recording a failed planned visit adds a record per child and a retry requirement."""
    assert invoke("plan", "--start", "2026-11-30", "--time-limit", "5", "--db", loaded)[0] == 0
    code, stdout, _ = invoke("check", "--db", loaded, "--json")
    from scheduler.store import Store

    visit = Store(loaded).current_plan().visits[0]
    code, stdout, stderr = invoke(
        "record", visit.id, "--outcome", "failed", "--json", "--db", loaded
    )
    assert code == 0, stderr
    records = json.loads(stdout)
    assert {r["child_id"] for r in records} == set(visit.child_ids)
    assert all(r["outcome"] == "failed" for r in records)
    assert invoke("record", "no-such-visit", "--outcome", "completed", "--db", loaded)[0] == 2
    plan = Store(loaded).current_plan()
    assert plan is not None
    # An overdue child's only visit of the week failed: the plan said it met the deadline
    # late, and now nothing does. Check says so, and what to do.
    assert not any(v.household_id == visit.household_id and v.day > visit.day for v in plan.visits)
    code, stdout, stderr = invoke("check", "--db", loaded)
    assert code == 1
    assert "is reported met" in stdout
    assert "visitplan replan` to plan for it" in " ".join(stderr.split())


def test_child_add_new_placement_is_due_within_a_week(loaded: str) -> None:
    """A child added with a new foster placement is due a visit within 1 week of its start."""
    code, _, stderr = invoke(
        "child",
        "add",
        "c9",
        "--case-ref",
        "CR-9",
        "--category",
        "child-in-care",
        "--placement-type",
        "foster",
        "--placement-start",
        "2026-12-01",
        "--household",
        "h3",
        "--worker",
        "w1",
        "--db",
        loaded,
    )
    assert code == 0, stderr
    code, stdout, _ = invoke("due", "--as-of", "2026-12-02", "--json", "--db", loaded)
    row = next(c for c in DueReport.model_validate_json(stdout).children if c.child_id == "c9")
    assert row.next_due == date(2026, 12, 8)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["c1", "--household", "h1"], id="duplicate-id"),
        pytest.param(["c9", "--household", "nowhere"], id="unknown-household"),
        pytest.param(["c9", "--household", "h1", "--worker", "nobody"], id="unknown-worker"),
    ],
)
def test_child_add_bad_input_writes_nothing(args: list[str], loaded: str) -> None:
    """A clash with the caseload is refused (exit 2) and the caseload is unchanged."""
    code, _, stderr = invoke(
        "child", "add", *args, "--case-ref", "CR-9", "--category", "child-in-need", "--db", loaded
    )
    assert code == 2
    assert "nothing was written" in stderr
    code, stdout, _ = invoke("due", "--json", "--as-of", "2026-12-01", "--db", loaded)
    assert len(DueReport.model_validate_json(stdout).children) == 4


def test_two_failed_visits_raise_the_escalation(tmp_path: Path, db: str) -> None:
    """Camden: 2 successive failed visits are escalated; a failed visit adds a retry deadline.

    The second failure is the retry the re-plan makes (a visit has one outcome: recording
    the first visit again on another day needs --amend and corrects it instead).
    """
    from scheduler.domain import Authority
    from scheduler.store import Store

    scenario = make_scenario().model_copy(update={"authority": Authority(id="camden")})
    path = tmp_path / "camden.json"
    path.write_text(scenario.model_dump_json(), encoding="utf-8")
    assert invoke("load", str(path), "--db", db)[0] == 0
    assert invoke("plan", "--start", "2026-11-30", "--time-limit", "5", "--db", db)[0] == 0
    visit = next(v for v in Store(db).current_plan().visits if "c1" in v.child_ids)
    code, stdout, stderr = invoke("record", visit.id, "--outcome", "failed", "--db", db)
    assert code == 0, stderr
    assert "retry" in stdout.lower()
    later = (visit.day + timedelta(days=1)).isoformat()
    replan = ("replan", "--from", later, "--apply", "--time-limit", "5", "--processes", "1")
    # Re-planned the next day, as a manager does (a re-plan places nothing in days gone).
    assert invoke(*replan, "--db", db, today=later)[0] == 0
    replanned = Store(db).current_plan()
    assert replanned is not None
    retry = next(v for v in replanned.visits if "c1" in v.child_ids and v.day > visit.day)
    assert invoke("record", retry.id, "--outcome", "failed", "--db", db)[0] == 0
    later = retry.day.isoformat()
    code, stdout, _ = invoke("due", "--as-of", later, "--json", "--db", db)
    row = next(c for c in DueReport.model_validate_json(stdout).children if c.child_id == "c1")
    assert any("2 successive failed visits" in e for e in row.escalations)
    assert any(r.kind == "retry" for r in row.requirements)


def test_record_replan_proposes_without_storing(loaded: str) -> None:
    """`record --replan` prints a re-plan proposal; the stored plan is unchanged."""
    from scheduler.store import Store

    assert invoke("plan", "--start", "2026-11-30", "--time-limit", "5", "--db", loaded)[0] == 0
    before = Store(loaded).current_plan()
    visit = before.visits[0]
    code, stdout, stderr = invoke(
        "record", visit.id, "--outcome", "not-seen", "--replan", "--db", loaded
    )
    assert code == 0, stderr
    assert "Re-plan" in stdout
    assert Store(loaded).current_plan() == before


@pytest.mark.parametrize("replan", [True, False], ids=["replan", "no-replan"])
def test_record_json_carries_the_replan_only_when_asked(loaded: str, replan: bool) -> None:
    """`record --json --replan` prints the records and the proposal; without --replan, the
    records alone (a list, as before); neither stores a plan."""
    from scheduler.store import Store

    assert invoke("plan", "--start", "2026-11-30", "--time-limit", "5", "--db", loaded)[0] == 0
    before = Store(loaded).current_plan()
    visit = before.visits[0]
    args = ("record", visit.id, "--outcome", "not-seen", "--json", "--db", loaded)
    code, stdout, stderr = invoke(*args, *(("--replan",) if replan else ()))
    assert code == 0, stderr
    printed = json.loads(stdout)
    records = printed["records"] if replan else printed
    assert {r["visit_id"] for r in records} == {visit.id}
    if replan:
        assert printed["replan"]["plan"]["visits"], "the proposal carries its plan"
    assert Store(loaded).current_plan() == before


@pytest.mark.parametrize(
    ("args", "option", "expected"),
    [
        (["--flag", "unknown-flag"], "'--flag'", "expected one of"),
        (["--placement-type", "tent"], "'--placement-type'", "expected one of"),
        (["--last-visit", "1899-12-31"], "'--last-visit'", "between 1900-01-01 and 2100-12-31"),
        (["--as-of", "2101-01-01"], "'--as-of'", "between 1900-01-01 and 2100-12-31"),
        (["--failed-on", "2026-02-30"], "'--failed-on'", "expected a date YYYY-MM-DD"),
    ],
    ids=["flag", "placement-type", "date-before-1900", "date-after-2100", "no-such-day"],
)
def test_typer_parses_dates_and_choices_naming_the_option(
    args: list[str], option: str, expected: str
) -> None:
    """Dates and closed choices are parsed by typer: exit 2, the option named, what it wants."""
    code, _, stderr = invoke(
        "due-date", "--authority", "camden", "--category", "child-in-need", *args
    )
    assert code == 2
    assert f"Invalid value for {option}" in stderr
    assert expected in stderr


@pytest.mark.parametrize("day", ["1900-01-01", "2100-12-31"], ids=["first-day", "last-day"])
def test_typer_date_range_edges_are_accepted(day: str) -> None:
    """The first and last days of the range parse (the edge pair of the refusals above)."""
    code, _, stderr = invoke(
        "due-date", "--authority", "camden", "--category", "child-in-need", "--birth-date", day
    )
    assert code == 0, stderr


def test_replan_reasons_name_the_worker_away(loaded: str) -> None:
    """The re-plan's table gives a reason in a manager's words: "<name> is away (...)", with
    the worker's id kept only beside their name in the worker column."""
    from scheduler.store import Store

    assert invoke("plan", "--start", "2026-11-30", "--time-limit", "5", "--db", loaded)[0] == 0
    store = Store(loaded)
    visit = max(store.current_plan().visits, key=lambda v: (v.day, v.id))
    name = store.worker_names()[visit.worker_id]
    day = visit.day.isoformat()
    code, _, stderr = invoke(
        "absence", "add", visit.worker_id, "--from", day, "--to", day, "--db", loaded
    )
    assert code == 0, stderr
    code, stdout, stderr = invoke("replan", "--from", day, "--db", loaded)
    assert code == 0, stderr
    flat = " ".join(stdout.split())
    assert f"{name} is away" in flat
    assert f"│ {visit.worker_id} is away" not in flat  # the reason cell starts with the name


@pytest.mark.parametrize("where", ["relative", "absolute"])
def test_db_takes_a_plain_file_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """`--db visits.db` is a SQLite file, as a manager would type it; a path with no store
    behind it says so (not "a malformed URL")."""
    monkeypatch.chdir(tmp_path)
    scenario = tmp_path / "scenario.json"
    scenario.write_text(make_scenario().model_dump_json(), encoding="utf-8")
    path = "visits.db" if where == "relative" else str(tmp_path / "visits.db")
    code, _, stderr = invoke("load", str(scenario), "--db", path)
    assert code == 0, stderr
    assert (tmp_path / "visits.db").exists()
    code, stdout, stderr = invoke("due", "--json", "--db", path)
    assert code == 0, stderr
    assert json.loads(stdout)["children"]
    code, _, stderr = invoke("due", "--db", "missing.db")
    assert code == 2
    assert "no store at 'missing.db'" in " ".join(stderr.split())
    assert "malformed" not in stderr


@pytest.mark.parametrize(
    ("outcome", "refused"),
    [("not-seen", True), ("failed", True), ("completed", False)],
)
def test_seen_alone_only_with_a_completed_visit(planned: str, outcome: str, refused: bool) -> None:
    """`--seen-alone` at a visit where no child was seen contradicts itself: refused naming
    the option (it was silently dropped), with nothing written; at a completed one, kept."""
    from scheduler.store import Store

    store = Store(planned)
    plan = store.current_plan()
    assert plan is not None
    visit = min(plan.visits, key=lambda v: (v.day, v.id))
    args = ("record", visit.id, "--outcome", outcome, "--seen-alone", "--db", planned)
    code, _, stderr = invoke(*args, today=visit.day.isoformat())
    if refused:
        assert code == 2
        assert "--seen-alone" in stderr
        assert "only with --outcome completed" in " ".join(stderr.split())
        assert not store.records_for_visits([visit.id]).get(visit.id)
    else:
        assert code == 0, stderr
        records = store.records_for_visits([visit.id])[visit.id]
        assert all(r.seen_alone for r in records)


@pytest.mark.parametrize(("start", "refused"), [("2026-12-13", False), ("2026-12-14", True)])
def test_a_replan_after_the_plans_last_day_is_refused(
    planned: str, start: str, refused: bool
) -> None:
    """The edge pair: a re-plan from the plan's last day (Sun 13 Dec) is made; one from the
    day after is refused (exit 2) pointing to `plan --start`, and stores nothing. Before, it
    made a one-day plan of that day, taking every published visit before it as made."""
    from scheduler.store import Store

    before = Store(planned).current_plan()
    args = ("replan", "--from", start, "--apply", "--db", planned)
    code, _out, stderr = invoke(*args, today="2026-12-02")
    words = " ".join(stderr.split())
    after = Store(planned).current_plan()
    assert before is not None
    assert after is not None
    if refused:
        assert code == 2
        assert "the current plan ends on Sun 13 Dec 2026, before Mon 14 Dec 2026" in words
        assert "visitplan plan --start 2026-12-14" in words
        assert after.id == before.id
        assert after.visits == before.visits
    else:
        assert code == 0, stderr
        assert after.end == before.end


def test_replan_before_the_plan_in_a_week_gone_suggests_nothing_refused(planned: str) -> None:
    """A re-plan from before the plan's first day is refused (exit 2); from a week gone it
    does not suggest `plan --start` with that day, which is refused in turn."""
    code, _out, stderr = invoke(
        "replan", "--from", "2026-11-27", "--db", planned, today="2026-12-02"
    )
    assert code == 2
    words = " ".join(stderr.split())
    assert "Fri 27 Nov 2026 is in a week that has passed" in words
    assert "plan --start" not in words
