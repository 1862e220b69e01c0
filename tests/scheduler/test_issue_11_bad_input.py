"""Issue 11: no traceback reaches a user, for any input; children's data never leaks.

Each bad input is refused with a message naming the file, row or option and exit 2, and the
store is left as it was. Errors, including the database's, never repeat a child's name or
date of birth.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import insert

from scheduler.errors import StoreError
from scheduler.store import Store, children_table
from tests.scenarios import north_somerset_team as make_scenario
from tests.scheduler.test_cli import invoke

SECRET_NAME = "Zebedee Quartermain-Oduya"
SECRET_BIRTH = "2015-02-29"


def scenario_json(**changes: object) -> dict[str, object]:
    data: dict[str, object] = json.loads(make_scenario().model_dump_json())
    data.update(changes)
    return data


def refused(code: int, stderr: str, *words: str) -> None:
    assert code == 2, stderr
    assert "Traceback" not in stderr
    for word in words:
        assert word in stderr, stderr


def scenario_with(tmp_path: Path, mutate: object) -> Path:
    data = scenario_json()
    mutate(data)  # type: ignore[operator]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(b"[" * 100_000, ("bad.json", "nested too deeply"), id="deeply-nested"),
        pytest.param(
            '{"authority": {"id": "caf\xe9"}}'.encode("latin-1"),
            ("bad.json", "not UTF-8 at offset"),
            id="not-utf8",
        ),
        pytest.param(
            json.dumps(scenario_json(schema_version=7)).encode(),
            ("schema_version", "got 7"),
            id="unknown-schema-version",
        ),
        pytest.param(b"\xff\xfe{\x00}\x00", ("NUL bytes",), id="utf16"),
    ],
)
def test_load_refuses_unreadable_scenarios(
    tmp_path: Path, db: str, content: bytes, words: tuple[str, ...]
) -> None:
    """A scenario that is not one is refused whole, naming the file and what was wrong."""
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    refused(*invoke("load", str(path), "--db", db)[::2], *words)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        pytest.param(
            lambda d: d["households"][0].update(lat=float("nan")),
            ("households.lat", "finite"),
            id="nan-latitude",
        ),
        pytest.param(
            lambda d: d["households"][0].update(lon=float("inf")),
            ("households.lon", "finite"),
            id="inf-longitude",
        ),
        pytest.param(
            lambda d: d["authority"].update(timezone="Mars/Olympus"),
            ("authority.timezone", "IANA time zone"),
            id="unknown-time-zone",
        ),
        pytest.param(
            lambda d: d["authority"].update(max_visits_per_day=1e30),
            ("authority.max_visits_per_day",),
            id="absurd-cap",
        ),
        pytest.param(
            lambda d: d["children"][0].update(id="c" * 201),
            ("children.id", "at most 200"),
            id="id-too-long",
        ),
        pytest.param(
            lambda d: d["records"][0].update(on="9999-12-31"),
            ("records.on", "between 1900-01-01 and 2100-12-31"),
            id="far-future-record",
        ),
        pytest.param(
            lambda d: d["children"][0].update(name=SECRET_NAME, birth_date=SECRET_BIRTH),
            ("children.birth_date", "not shown"),
            id="bad-birth-date-not-echoed",
        ),
    ],
)
def test_load_refuses_values_that_would_break_a_later_plan(
    tmp_path: Path, db: str, mutate: object, words: tuple[str, ...]
) -> None:
    """Values that pass JSON but break planning later are refused at load time, and nothing
    of a child's identity is repeated."""
    code, _, stderr = invoke("load", str(scenario_with(tmp_path, mutate)), "--db", db)
    refused(code, stderr, *words)
    assert SECRET_NAME not in stderr
    assert SECRET_BIRTH not in stderr
    assert not Store(db).has_caseload()


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["plan", "--start", "9999-12-20"], id="plan-start"),
        pytest.param(
            [
                "due-date",
                "--authority",
                "camden",
                "--category",
                "child-in-need",
                "--last-visit",
                "9999-12-30",
            ],
            id="due-date-last-visit",
        ),
        pytest.param(["record", "v-1", "--outcome", "completed", "--on", "9999-12-31"], id="on"),
        pytest.param(["replan", "--from", "0001-01-01"], id="replan-from"),
        pytest.param(["due", "--as-of", "1800-01-01"], id="due-as-of"),
        pytest.param(
            ["absence", "add", "w1", "--from", "2026-12-01", "--to", "3026-12-01"], id="absence"
        ),
    ],
)
def test_dates_outside_any_caseload_are_refused_at_once(loaded: str, args: list[str]) -> None:
    """Every date option is checked against 1900-2100 before any arithmetic."""
    revision = Store(loaded).revision()
    store_args = [] if args[0] == "due-date" else ["--db", loaded]
    code, _, stderr = invoke(*args, *store_args)
    refused(code, stderr, "between 1900-01-01 and 2100-12-31")
    assert Store(loaded).revision() == revision


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(
            "worker_id,start,end\nw1,2026-12-01,2026-12-02\n".encode("utf-16"),
            ("absences.csv", "NUL bytes"),
            id="utf16",
        ),
        pytest.param(
            "worker_id,start,end,reason\nw1,2026-12-01,2026-12-02,cong\xe9\n".encode("latin-1"),
            ("absences.csv", "not UTF-8 at offset"),
            id="latin1",
        ),
    ],
)
def test_absence_csv_in_another_encoding_is_refused(
    tmp_path: Path, loaded: str, content: bytes, words: tuple[str, ...]
) -> None:
    """A CSV saved in the wrong encoding says which encoding was expected; nothing written."""
    path = tmp_path / "absences.csv"
    path.write_bytes(content)
    code, _, stderr = invoke("absence", "add", "--csv", str(path), "--db", loaded)
    refused(code, stderr, "UTF-8", *words)
    assert Store(loaded).list_absences() == ()


def test_import_csv_in_latin1_is_refused(tmp_path: Path, db: str) -> None:
    """An export saved as Latin-1 names the file and the expected encoding."""
    source = Path(__file__).parent.parent / "data" / "import_ok"
    export = tmp_path / "export"
    export.mkdir()
    for item in source.iterdir():
        (export / item.name).write_bytes(item.read_bytes())
    children = export / "children.csv"
    children.write_bytes(children.read_bytes() + b"\n" + "x,\xe9".encode("latin-1"))
    code, _, stderr = invoke("import", str(export), "--authority", "north-somerset", "--db", db)
    refused(code, stderr, "children.csv", "UTF-8")


@pytest.mark.parametrize(
    ("lat", "lon"),
    [pytest.param("nan", "-2.6", id="nan"), pytest.param("51.4", "inf", id="inf")],
)
def test_child_add_refuses_nan_and_infinite_coordinates(loaded: str, lat: str, lon: str) -> None:
    """A new household at NaN or infinity is refused, naming the option."""
    code, _, stderr = invoke(
        "child", "add", "c9", "--case-ref", "CR-9", "--category", "child-in-need",
        "--household", "h9", "--area", "BS1", "--lat", lat, "--lon", lon, "--team", "t1",
        "--db", loaded,
    )  # fmt: skip
    refused(code, stderr, "--lat" if lat == "nan" else "--lon", "finite")


def _bad_row_error(store: Store) -> str:
    """A database error from inserting a row whose child has a name (a duplicate key)."""
    child = make_scenario().children[0].model_copy(update={"name": SECRET_NAME})
    row = {"id": child.id, "position": 99, "data": child.model_dump_json()}
    with pytest.raises(StoreError) as caught, store._write() as tx:
        tx.conn.execute(insert(children_table), row)
    return str(caught.value)


def test_database_errors_name_table_and_column_only_sqlite(db: str) -> None:
    """A database error on SQLite says which table and column, never the row's values."""
    store = Store(db)
    store.replace_caseload(make_scenario())
    message = _bad_row_error(store)
    assert SECRET_NAME not in message
    assert "children" in message
    assert "INSERT" not in message


def test_database_errors_name_table_and_column_only_postgresql(postgres_url: str) -> None:
    """The same on PostgreSQL, whose messages would otherwise quote the key and the row."""
    store = Store(postgres_url)
    store.replace_caseload(make_scenario())
    message = _bad_row_error(store)
    assert SECRET_NAME not in message
    assert "children" in message
    assert "c1" not in message.split("children")[-1]


def test_store_url_password_is_never_shown() -> None:
    """An unreachable PostgreSQL URL is reported without its password."""
    with pytest.raises(StoreError) as caught:
        Store("postgresql://nurse:s3cret-pass@127.0.0.1:1/none")
    assert "s3cret-pass" not in str(caught.value)
