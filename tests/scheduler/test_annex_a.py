"""Importing Annex A lists 6-9 (synthetic workbooks written by the tests), and the CLI spellings.

Rule: no network and no clock (`--as-of` given); real CP-SAT with small limits for the round trip.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from scheduler.check import check_plan
from scheduler.cli import app
from scheduler.errors import InputError
from scheduler.extracts.importing import ImportReport, import_extract
from scheduler.planning import plan_scenario
from scheduler.store import Store
from solver.params import SolveParams
from tests.scheduler.extract_builders import (
    PC_A,
    PC_B,
    PC_NI,
    annex_rows,
    ssd_tables,
    write_annex_a,
    write_homes,
    write_ssd,
)

AS_OF = date(2024, 4, 1)
NOW = datetime(2024, 4, 1, 9, tzinfo=ZoneInfo("Europe/London"))
HOMES = {"A1": PC_A, "A2": PC_A, "A4": PC_B}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'visitplan.db'}")


def run(store: Store, book: Path, homes: Path | None, **options: object) -> ImportReport:
    return import_extract(
        store, "annex-a", book, "north-somerset", AS_OF, now=NOW, homes=homes, **options
    )  # type: ignore[arg-type]


def test_annex_a_ranks_lists_and_maps_codes(store: Store, tmp_path: Path) -> None:
    """Care > CP > CIN > care leaver; closed episodes ignored; P1 on a care order mapped."""
    book = write_annex_a(tmp_path / "annex.xlsx")
    report = run(store, book, write_homes(tmp_path / "homes.csv", HOMES))
    children = {c.id: c for c in store.read_scenario().children}
    assert {k: c.category for k, c in children.items()} == {
        "A1": "child-in-need",
        "A2": "child-protection",
        "A3": "child-in-care",
        "A4": "care-leaver",
    }
    assert children["A3"].placement_type == "placement-with-parents-care-order"
    assert children["A3"].events.care_order == date(2023, 6, 1)
    assert children["A2"].events.conference == date(2024, 3, 1)
    assert children["A1"].birth_date == date(2015, 2, 1)
    assert report.added == ("A1", "A2", "A3", "A4")


def test_annex_a_latest_visits_become_records(store: Store, tmp_path: Path) -> None:
    """Each list's latest-visit date is a record; Excel dates and dd/mm/yyyy both read."""
    run(store, write_annex_a(tmp_path / "a.xlsx"), write_homes(tmp_path / "h.csv", HOMES))
    records = {(r.child_id, r.on): r for r in store.read_scenario().records}
    assert set(records) == {
        ("A1", date(2024, 3, 20)),
        ("A2", date(2024, 3, 15)),
        ("A2", date(2024, 3, 22)),
        ("A3", date(2024, 3, 1)),
        ("A4", date(2024, 3, 20)),
    }
    assert records[("A2", date(2024, 3, 22))].seen_alone


def test_annex_a_siblings_share_a_postcode_household(store: Store, tmp_path: Path) -> None:
    """Two open children at one postcode with no house given are one household."""
    run(store, write_annex_a(tmp_path / "a.xlsx"), write_homes(tmp_path / "h.csv", HOMES))
    children = {c.id: c for c in store.read_scenario().children}
    assert children["A1"].household_ids == children["A2"].household_ids
    assert children["A3"].household_ids != children["A1"].household_ids


def test_annex_a_creates_teams_and_workers_with_warnings(store: Store, tmp_path: Path) -> None:
    """Unknown teams and workers are created by name, with warnings saying what to fill in."""
    report = run(store, write_annex_a(tmp_path / "a.xlsx"), write_homes(tmp_path / "h.csv", HOMES))
    scenario = store.read_scenario()
    assert {t.name for t in scenario.teams} == {"North Locality", "South Locality"}
    assert {w.name for w in scenario.workers} == {"Ada Okafor", "Cara Doyle", "Dan Evans"}
    assert any("registered social workers" in w for w in report.warnings)
    assert sum("is new" in w for w in report.warnings) == 2


def test_annex_a_second_import_matches_stored_staff(store: Store, tmp_path: Path) -> None:
    """A second import matches teams and workers by name: nothing new, nothing changed."""
    book, homes = write_annex_a(tmp_path / "a.xlsx"), write_homes(tmp_path / "h.csv", HOMES)
    run(store, book, homes)
    again = run(store, book, homes)
    assert again.added == ()
    assert again.changed == ()
    assert again.closed == ()
    assert not any("is new" in w for w in again.warnings)


def test_annex_a_problems_named_by_sheet_row_and_column(store: Store, tmp_path: Path) -> None:
    """A bad date, a BT home, a missing home and an unmapped placement: all listed at once."""
    rows = annex_rows()
    rows[7][0][2] = "31/02/2024"
    rows[8][0][8] = "z) X9: Not a 903 code"
    homes = write_homes(tmp_path / "h.csv", {"A1": PC_NI, "A4": PC_B})
    with pytest.raises(InputError) as caught:
        run(store, write_annex_a(tmp_path / "a.xlsx", rows), homes)
    found = [str(p) for p in caught.value.problems]
    assert (
        "a.xlsx [List 7]:3: Child Protection Plan Start Date: expected a date dd/mm/yyyy, "
        "YYYY-MM-DD or YYYY-MM-DD hh:mm:ss that exists, got '31/02/2024'" in found
    )
    assert any(p.startswith("a.xlsx [List 8]:3: Placement Type: expected a placement code")
               for p in found)  # fmt: skip
    assert any("h.csv:2: addr_address_postcode:" in p and "Irish grid" in p for p in found)
    assert any(p.startswith("a.xlsx [List 6]:5: Child Unique ID: expected a home postcode")
               for p in found)  # fmt: skip
    assert not store.has_caseload()


def test_annex_a_code_read_over_and_unknown_code_skipped(store: Store, tmp_path: Path) -> None:
    """R5 (a YOI) is planned as residential and said so; an unknown code can be skipped."""
    rows = annex_rows()
    rows[8][0][8] = "t) R5: Young Offender Institution"
    homes = write_homes(tmp_path / "h.csv", HOMES)
    report = run(store, write_annex_a(tmp_path / "a.xlsx", rows), homes)
    child = next(c for c in store.read_scenario().children if c.id == "A3")
    assert child.placement_type == "residential"
    assert any("placement code R5" in w and "read as residential" in w for w in report.warnings)
    rows[8][0][8] = "z) X9: Not a 903 code"
    again = run(store, write_annex_a(tmp_path / "b.xlsx", rows), homes,
                skip_unknown_codes=True, allow_shrink=True)  # fmt: skip
    assert again.skipped_unknown_codes == ("A3 (b.xlsx [List 8] row 3, Placement Type: 'X9')",)
    assert again.closed == ("A3",)


def test_annex_a_missing_list_and_orphan_home(store: Store, tmp_path: Path) -> None:
    """A workbook without List 9 is named; a home for a child in no list is an orphan."""
    rows = annex_rows()
    del rows[9]
    homes = write_homes(tmp_path / "h.csv", {**HOMES, "Z9": PC_A})
    with pytest.raises(InputError) as caught:
        run(store, write_annex_a(tmp_path / "a.xlsx", rows), homes)
    found = [str(p) for p in caught.value.problems]
    assert "a.xlsx: List 9: expected a sheet named 'List N', got no such sheet" in found
    assert any(p.startswith("h.csv:5: addr_person_id: expected a child open in lists 6-9")
               for p in found)  # fmt: skip


@pytest.mark.slow
def test_annex_a_round_trip_import_plan_check(store: Store, tmp_path: Path) -> None:
    """Import, plan two weeks with real CP-SAT, and the independent checker agrees."""
    run(store, write_annex_a(tmp_path / "a.xlsx"), write_homes(tmp_path / "h.csv", HOMES))
    scenario = store.read_scenario()
    params = SolveParams(time_limit_s=0.3, seed=0, num_workers=1, deterministic=True)
    plan = plan_scenario(scenario, date(2024, 4, 8), weeks=2, params=params)
    assert plan.visits
    assert check_plan(scenario, plan).ok


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_cli_import_spellings(tmp_path: Path) -> None:
    """`import DIR` is the CSV import as before; `import ssd` and `import annex-a` work too."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    data = Path(__file__).parent.parent / "data" / "import_ok"
    code, out, _ = cli("import", str(data), "--authority", "north-somerset",
                       "--as-of", "2024-04-01", "--db", db, "--json")  # fmt: skip
    assert code == 0
    assert json.loads(out)["added"]
    ssd = write_ssd(tmp_path / "ssd")
    code, out, _ = cli("import", "ssd", str(ssd), "--authority", "north-somerset",
                       "--as-of", "2024-04-01", "--db", db, "--json", "--allow-shrink")  # fmt: skip
    assert code == 0
    assert json.loads(out)["counts"]["children"] == 5
    code, out, _ = cli("import", "ssd", str(ssd), "--authority", "north-somerset",
                       "--as-of", "2024-04-01", "--db", db)  # fmt: skip
    assert code == 0
    assert "'seen at home' clock(s) rest on that" in " ".join(out.split())


def test_cli_import_skip_unknown_codes(tmp_path: Path) -> None:
    """An unknown placement code exits 2 naming the way out; --skip-unknown-codes lists it."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    tables = ssd_tables()
    tables["ssd_cla_placement"][0]["clap_cla_placement_type"] = "Q9"
    ssd = write_ssd(tmp_path / "ssd", tables)
    args = ("import", "ssd", str(ssd), "--authority", "north-somerset", "--as-of", "2024-04-01",
            "--db", db)  # fmt: skip
    code, _, err = cli(*args)
    assert code == 2
    assert "--skip-unknown-codes" in err
    code, out, _ = cli(*args, "--skip-unknown-codes")
    assert code == 0
    assert "Left out 1 child(ren) whose code could not be read" in " ".join(out.split())
    assert "P3 (ssd_cla_placement.csv row 2, clap_cla_placement_type: 'Q9')" in out.replace(
        "\n", ""
    )


def test_cli_import_problem_exits_2_and_help_has_attribution(tmp_path: Path) -> None:
    """Problems exit 2 naming the row; the help carries the ONS/OS/Royal Mail attribution."""
    db = f"sqlite:///{tmp_path / 'v.db'}"
    book = write_annex_a(tmp_path / "a.xlsx")
    code, _, err = cli("import", "annex-a", str(book), "--authority", "north-somerset",
                       "--as-of", "2024-04-01", "--db", db)  # fmt: skip
    assert code == 2
    assert "nothing was written" in err
    code, out, _ = cli("import", "annex-a", "--help")
    assert code == 0
    assert "Royal Mail" in out
    assert "Ordnance" in out or "OS data" in out
