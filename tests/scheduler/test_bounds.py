"""A tester's bounds report: values too large for the calendar, output paths that cannot be
written, dates at the end of the calendar and ports that cannot be used.

Each is refused with a clear message and exit 2, and nothing is written: the store keeps its
revision and no file is left half-written. Rule: no network (a loopback socket at most).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update

from scheduler.store import Store, children_table
from tests.scenarios import north_somerset_team as make_scenario
from tests.scheduler.test_cli import invoke
from tests.scheduler.test_issue_11_bad_input import refused

IMPORT_OK = Path(__file__).parent.parent / "data" / "import_ok"
A_YEAR = "at most a year"


# ------------------------------------------------------------ a child's own frequency


@pytest.mark.parametrize(
    "every",
    [
        pytest.param("100000 months", id="months"),
        pytest.param("10000000 days", id="days"),
        pytest.param("3000000 working days", id="working-days"),
        pytest.param("13 months", id="just-over-a-year"),
    ],
)
def test_child_edit_refuses_a_frequency_longer_than_a_year(loaded: str, every: str) -> None:
    """`child edit --every` takes at most a year; the child is left as it was."""
    revision = Store(loaded).revision()
    code, _, stderr = invoke(
        "child", "edit", "c1", "--every", every, "--every-source", "CP conf", "--db", loaded
    )
    refused(code, stderr, "--every", A_YEAR)
    assert Store(loaded).revision() == revision
    assert invoke("due", "--db", loaded)[0] == 0


def test_child_edit_takes_a_frequency_of_a_year(loaded: str) -> None:
    """The edge just inside: 12 months is a frequency a plan may set."""
    code, _, stderr = invoke("child", "edit", "c1", "--every", "12 months", "--db", loaded)
    assert code == 0, stderr
    assert invoke("due", "--db", loaded)[0] == 0


def test_a_store_written_before_the_bound_still_reads(loaded: str) -> None:
    """A frequency stored before the bound existed is read back as it is: the child's clock
    has no deadline within the calendar, and due, plan, check and --no-every all work."""
    data = json.loads(Store(loaded).child_row("c1").child.model_dump_json())  # type: ignore[union-attr]
    data["frequency"] = {"every": {"amount": 100000, "unit": "months"}, "source": "CP conf"}
    with Store(loaded).engine.begin() as conn:
        conn.execute(
            update(children_table).where(children_table.c.id == "c1"), {"data": json.dumps(data)}
        )
    code, stdout, stderr = invoke("due", "--json", "--all", "--db", loaded)
    assert code == 0, stderr
    [c1] = [c for c in json.loads(stdout)["children"] if c["child_id"] == "c1"]
    assert "9999-12-31" in {r["due"] for r in c1["requirements"]}
    for args in (["plan", "--start", "2026-11-30", "--processes", "1"], ["check"]):
        code, _, stderr = invoke(*args, "--db", loaded)
        assert code in (0, 1), stderr
        assert "Traceback" not in stderr
    assert invoke("child", "edit", "c1", "--no-every", "--db", loaded)[0] == 0
    assert Store(loaded).child_row("c1").child.frequency is None  # type: ignore[union-attr]


def test_load_refuses_a_frequency_longer_than_a_year(tmp_path: Path, db: str) -> None:
    """A scenario file's frequency is bounded too, named by row and field; nothing loaded."""
    data = json.loads(make_scenario().model_dump_json())
    data["children"][0]["frequency"] = {"every": {"amount": 100000, "unit": "months"}}
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, _, stderr = invoke("load", str(path), "--db", db)
    refused(code, stderr, "big.json:1", "children.frequency.every", A_YEAR, "100000 months")
    assert not Store(db).has_caseload()


def test_import_refuses_a_frequency_longer_than_a_year(tmp_path: Path, db: str) -> None:
    """The CSV export's `every` column is bounded too, named by file, row and column."""
    export = tmp_path / "export"
    shutil.copytree(IMPORT_OK, export)
    path = export / "children.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    table[0] += ["every", "every_source"]
    for i, row in enumerate(table[1:], start=1):
        row += ["100000 months", "CP conf"] if i == 1 else ["", ""]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(table)
    code, _, stderr = invoke(
        "import", str(export), "--authority", "camden", "--as-of", "2024-03-01", "--db", db
    )
    refused(code, stderr, "children.csv:2", "every", A_YEAR)
    assert not Store(db).has_caseload()


def test_due_date_refuses_a_frequency_longer_than_a_year() -> None:
    """`due-date --every` is bounded the same way."""
    code, _, stderr = invoke(
        "due-date", "--authority", "camden", "--category", "child-protection",
        "--last-visit", "2026-12-14", "--every", "3000000 working days",
    )  # fmt: skip
    refused(code, stderr, "--every", A_YEAR)


# ------------------------------------------------------------ output paths


def bad_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Output paths that cannot be written, with the words that say why."""
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me", encoding="utf-8")
    return {
        "no-folder": (tmp_path / "missing" / "out.json", "does not exist"),
        "a-folder": (tmp_path, "it is a folder"),
        "under-a-file": (a_file / "out.json", "is a file, not a folder"),
    }


@pytest.mark.parametrize("case", ["no-folder", "a-folder", "under-a-file"])
def test_plan_json_to_a_path_that_cannot_be_written_stores_nothing(
    tmp_path: Path, loaded: str, case: str
) -> None:
    """`plan --json PATH` checks PATH before planning: exit 2, no plan stored."""
    path, words = bad_paths(tmp_path)[case]
    code, _, stderr = invoke(
        "plan", "--start", "2026-11-30", "--processes", "1", "--json", str(path), "--db", loaded
    )
    refused(code, stderr, str(path), words)
    assert Store(loaded).current_plan() is None


def test_plan_json_that_fails_after_planning_says_the_plan_was_stored(
    tmp_path: Path, loaded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails after the check (a full disk) is a clear message, not a traceback,
    saying the plan was stored; no half-written file is left."""

    def full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("scheduler.outfile._write_new", full)
    path = tmp_path / "plan.json"
    code, _, stderr = invoke(
        "plan", "--start", "2026-11-30", "--processes", "1", "--json", str(path), "--db", loaded
    )
    refused(code, stderr, "No space left on device", "the plan was stored")
    assert Store(loaded).current_plan() is not None
    assert list(tmp_path.glob("*plan.json*")) == []


@pytest.mark.parametrize("case", ["no-folder", "a-folder", "under-a-file"])
def test_generate_to_a_path_that_cannot_be_written_is_refused(tmp_path: Path, case: str) -> None:
    """`generate -o PATH` is checked before the authority is made."""
    path, words = bad_paths(tmp_path)[case]
    code, _, stderr = invoke("generate", "--start", "2026-11-30", "-o", str(path))
    refused(code, stderr, str(path), words)


def test_demo_into_an_existing_file_is_refused(tmp_path: Path) -> None:
    """`demo --out FILE` says the file is in the way; the file is untouched."""
    path, _ = bad_paths(tmp_path)["under-a-file"]
    code, _, stderr = invoke("demo", "--out", str(path.parent), "--processes", "1")
    refused(code, stderr, "is a file, not a folder")
    assert path.parent.read_text(encoding="utf-8") == "keep me"


# ------------------------------------------------------------ numbers too large to read


def test_load_refuses_a_number_too_long_to_read(tmp_path: Path, db: str) -> None:
    """A 5,001-digit number (past Python's 4,300-digit limit) is the usual load error."""
    text = (
        make_scenario()
        .model_dump_json()
        .replace('"schema_version":1', '"schema_version":' + "9" * 5001)
    )
    path = tmp_path / "huge.json"
    path.write_text(text, encoding="utf-8")
    code, _, stderr = invoke("load", str(path), "--db", db)
    refused(code, stderr, "huge.json", "(json)", "a number too long to read")
    assert not Store(db).has_caseload()


@pytest.fixture
def plan_file(tmp_path: Path, loaded: str) -> Path:
    """The tiny authority's plan, as `plan --json` writes it."""
    path = tmp_path / "plan.json"
    code, _, stderr = invoke(
        "plan", "--start", "2026-11-30", "--processes", "1", "--json", str(path), "--db", loaded
    )
    assert code == 0, stderr
    return path


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        pytest.param("duration_min", 10**12, "less than or equal to 1440", id="huge-duration"),
        pytest.param("duration_min", -5, "greater than 0", id="negative-duration"),
        pytest.param("start", "2026-13-01T10:00:00Z", "month value", id="bad-date"),
    ],
)
def test_check_names_the_field_of_a_bad_plan_file(
    tmp_path: Path, plan_file: Path, field: str, value: object, words: str
) -> None:
    """`check --plan` refuses a bad visit naming the file, row, field and what was expected."""
    data = json.loads(plan_file.read_text(encoding="utf-8"))
    data["visits"][1][field] = value
    plan_file.write_text(json.dumps(data), encoding="utf-8")
    scenario = tmp_path / "scenario.json"
    code, _, stderr = invoke("check", "--scenario", str(scenario), "--plan", str(plan_file))
    refused(code, stderr, f"plan.json:2: visits.{field}", words)


# ------------------------------------------------------------ the calendar's last weeks

LOOK_AHEAD = "4-week look-ahead must end by 31 Dec 2100"


@pytest.mark.parametrize(
    ("start", "weeks", "allowed"),
    [
        pytest.param("2100-11-27", "1", True, id="look-ahead-ends-31-dec"),
        pytest.param("2100-11-28", "1", False, id="look-ahead-ends-1-jan"),
        pytest.param("2100-12-27", "1", False, id="plan-ends-in-2101"),
        pytest.param("2100-11-22", "2", False, id="two-weeks"),
    ],
)
def test_plan_near_the_end_of_2100(loaded: str, start: str, weeks: str, allowed: bool) -> None:
    """A plan and its 4-week look-ahead end by 31 Dec 2100: refused with exit 2, nothing
    stored, where a plan ending in 2101 crashed."""
    code, _, stderr = invoke(
        "plan", "--start", start, "--weeks", weeks, "--processes", "1", "--db", loaded
    )
    if allowed:
        assert code == 0, stderr
        return
    refused(code, stderr, LOOK_AHEAD, "start on or before")
    assert Store(loaded).current_plan() is None


def test_replan_near_the_end_of_2100(loaded: str) -> None:
    """A re-plan from a day whose look-ahead would pass 2100 is refused with nothing stored.
    A re-plan starts no later than its plan's last day, whose look-ahead the plan itself
    kept inside 2100: the refusal names the plan's end, and why a new plan from then would be
    refused too, rather than suggest it."""
    code, _, stderr = invoke("plan", "--start", "2100-11-22", "--processes", "1", "--db", loaded)
    assert code == 0, stderr
    revision = Store(loaded).revision()
    code, _, stderr = invoke(
        "replan", "--from", "2100-12-27", "--apply", "--processes", "1", "--db", loaded
    )
    words = " ".join(stderr.split())
    refused(code, words, "the current plan ends on Sun 28 Nov 2100", LOOK_AHEAD)
    assert "plan --start 2100-12-27" not in words, "a start `plan` refuses is not suggested"
    assert Store(loaded).revision() == revision


@pytest.mark.parametrize("start", ["2100-12-27", "2100-11-28", "1900-01-01", "1921-12-31"])
def test_generate_refuses_a_start_without_room(tmp_path: Path, start: str) -> None:
    """`generate --start` leaves room for the history before it and a plan after it."""
    path = tmp_path / "g.json"
    code, _, stderr = invoke("generate", "--start", start, "-o", str(path))
    refused(code, stderr, "--start", "expected a start between 1922-01-01 and 2100-11-27")
    assert not path.exists()


@pytest.mark.parametrize("start", ["1922-01-01", "2100-11-27"])
def test_generate_at_the_edges_of_its_room(tmp_path: Path, start: str) -> None:
    """The edges just inside: the first and last start days generate a valid scenario."""
    path = tmp_path / "g.json"
    code, _, stderr = invoke("generate", "--start", start, "--children", "5", "-o", str(path))
    assert code == 0, stderr
    assert json.loads(path.read_text(encoding="utf-8"))["as_of"] < start


# ------------------------------------------------------------ the desk's address


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """uvicorn.run replaced by a recorder: a test never starts a real server."""
    started: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *args, **kwargs: started.append(kwargs))
    return started


@pytest.mark.parametrize("port", ["99999", "-1", "0"])
def test_serve_refuses_a_port_out_of_range(db: str, no_server: list[object], port: str) -> None:
    """--port is 1-65535: a usage error naming the option, where bind() raised."""
    code, _, stderr = invoke("serve", "--port", port, "--db", db)
    refused(code, stderr, "--port")
    assert no_server == []


def test_serve_refuses_a_host_that_is_not_an_address(db: str, no_server: list[object]) -> None:
    """--host 256.1.1.1 is refused with exit 2, where uvicorn said so itself with exit 3."""
    code, _, stderr = invoke("serve", "--host", "256.1.1.1", "--db", db)
    refused(code, stderr, "--host 256.1.1.1 is not an IP address")
    assert no_server == []


def test_serve_refuses_a_malformed_visitplan_today_at_start_up(
    db: str, no_server: list[object]
) -> None:
    """The desk reads VISITPLAN_TODAY for its clock: a malformed one is refused before
    anything starts (on a request it would have ended the desk's every page)."""
    code, _, stderr = invoke("serve", "--db", db, today="2026-13-45")
    assert code == 2, stderr
    assert "VISITPLAN_TODAY: expected a date YYYY-MM-DD" in stderr
    assert no_server == []


@pytest.mark.allow_hosts(["127.0.0.1"])
def test_serve_refuses_a_port_in_use(db: str, no_server: list[object]) -> None:
    """A port another program listens on is named, with what to do, before anything starts."""
    import socket

    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        code, _, stderr = invoke("serve", "--port", str(port), "--db", db)
    refused(code, stderr, f"port {port} on 127.0.0.1 is in use: choose another with --port")
    assert no_server == []
