"""Importing a Standard Safeguarding Dataset extract (synthetic tables written by the tests).

Rule: no network and no clock: `as_of` and `now` are passed; the real postcode directory.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import InputError
from scheduler.extracts.importing import ImportReport, import_extract
from scheduler.store import Store
from tests.scheduler.extract_builders import (
    PC_NI,
    PC_TERMINATED,
    PC_UNKNOWN,
    ssd_tables,
    write_ssd,
)

AS_OF = date(2024, 4, 1)
NOW = datetime(2024, 4, 1, 9, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'visitplan.db'}")


def run(store: Store, folder: Path, **options: object) -> ImportReport:
    return import_extract(store, "ssd", folder, "north-somerset", AS_OF, now=NOW, **options)  # type: ignore[arg-type]


def problems_of(store: Store, folder: Path, **options: object) -> list[str]:
    with pytest.raises(InputError) as caught:
        run(store, folder, **options)
    assert not store.has_caseload(), "nothing is written when there are problems"
    return [str(p) for p in caught.value.problems]


def test_ssd_builds_children_by_ranked_category(store: Store, tmp_path: Path) -> None:
    """CP outranks CIN, care outranks everything; the closed and the care leaver are right."""
    report = run(store, write_ssd(tmp_path / "x"))
    children = {c.id: c for c in store.read_scenario().children}
    assert {k: c.category for k, c in children.items()} == {
        "P1": "child-protection",
        "P2": "child-protection",
        "P3": "child-in-care",
        "P4": "care-leaver",
        "P5": "child-in-need",
    }
    assert set(report.added) == set(children)
    assert children["P1"].events.plan_start == date(2024, 2, 1)
    assert children["P1"].events.referral == date(2024, 1, 10)
    assert children["P5"].events.plan_start == date(2024, 3, 1)


def test_ssd_placement_code_and_care_order(store: Store, tmp_path: Path) -> None:
    """U4 is long-term foster; the C2 legal status start is the care order date."""
    run(store, write_ssd(tmp_path / "x"))
    child = next(c for c in store.read_scenario().children if c.id == "P3")
    assert child.placement_type == "long-term-foster"
    assert child.events.placement_start == date(2024, 1, 15)
    assert child.events.care_order == date(2023, 6, 1)


@pytest.mark.parametrize(
    ("code", "legal", "expected"),
    [
        ("U1", "C2", "long-term-foster"),
        ("U6", "V2", "foster"),
        ("K2", "C2", "residential"),
        ("A4", "E1", "adoption"),
        ("P1", "C1", "placement-with-parents-ico"),
        ("P1", "C2", "placement-with-parents-care-order"),
        ("U3", "V3", "short-breaks"),
    ],
)
def test_ssd_placement_code_mapping(
    store: Store, tmp_path: Path, code: str, legal: str, expected: str
) -> None:
    """Each 903 placement code (with its legal status) maps to one placement type."""
    tables = ssd_tables()
    tables["ssd_cla_placement"][0]["clap_cla_placement_type"] = code
    tables["ssd_legal_status"][0]["lega_legal_status"] = legal
    run(store, write_ssd(tmp_path / "x", tables))
    child = next(c for c in store.read_scenario().children if c.id == "P3")
    assert child.placement_type == expected


@pytest.mark.parametrize(("code", "legal"), [("R5", "C2"), ("P1", "V2"), ("Q9", "C2")])
def test_ssd_unmapped_placement_is_a_problem(
    store: Store, tmp_path: Path, code: str, legal: str
) -> None:
    """A YOI, parents without a care order, or an unknown code: the placement row is named."""
    tables = ssd_tables()
    tables["ssd_cla_placement"][0]["clap_cla_placement_type"] = code
    tables["ssd_legal_status"][0]["lega_legal_status"] = legal
    found = problems_of(store, write_ssd(tmp_path / "x", tables))
    assert len(found) == 1
    assert found[0].startswith("ssd_cla_placement.csv:2: clap_cla_placement_type: expected")


def test_ssd_liquid_logic_duplicate_visit_kept_once(store: Store, tmp_path: Path) -> None:
    """One case note in two visit tables (same person, date and id) is one record."""
    run(store, write_ssd(tmp_path / "x"))
    records = [r for r in store.read_scenario().records if r.child_id == "P1"]
    assert len(records) == 1
    assert records[0].seen_alone
    assert records[0].outcome == "completed"


def test_ssd_visit_flags_and_not_seen(store: Store, tmp_path: Path) -> None:
    """Y/N and Yes/No flags are read; seen = N is a not-seen record (restarts no clock)."""
    run(store, write_ssd(tmp_path / "x"))
    records = {r.child_id: r for r in store.read_scenario().records}
    assert records["P5"].bedroom_seen
    assert not records["P5"].seen_alone
    assert records["P2"].outcome == "not-seen"
    assert records["P3"].at_home
    assert records["P3"].seen_alone


def test_ssd_households_by_family_and_grid(store: Store, tmp_path: Path) -> None:
    """Siblings in one family at one postcode share a household; SSD grid refs are used."""
    run(store, write_ssd(tmp_path / "x"))
    scenario = store.read_scenario()
    children = {c.id: c for c in scenario.children}
    assert children["P1"].household_ids == children["P2"].household_ids
    homes = {h.id: h for h in scenario.households}
    p5 = homes[children["P5"].household_ids[0]]
    assert (p5.easting, p5.northing) == (347000, 176700)
    p1 = homes[children["P1"].household_ids[0]]
    assert (p1.easting, p1.northing) == (332015, 161171)
    assert p1.area == "BS23"
    assert p1.postcode == "BS23 1UJ"


def test_ssd_teams_and_workers(store: Store, tmp_path: Path) -> None:
    """Teams take the department name; SWE-registered staff are social workers."""
    report = run(store, write_ssd(tmp_path / "x"))
    scenario = store.read_scenario()
    assert [t.name for t in scenario.teams] == ["North Locality"]
    roles = {w.name: w.role for w in scenario.workers}
    assert roles == {"Ada Okafor": "social-worker", "Ben Hughes": "family-support-worker"}
    assert any("base office" in w for w in report.warnings)


def test_ssd_visit_place_assumption_counted(store: Store, tmp_path: Path) -> None:
    """Visits are taken as at home and the summary counts the clocks resting on that."""
    report = run(store, write_ssd(tmp_path / "x"))
    assert report.visits_assumed_at_home == 4
    assert report.clocks_on_home_assumption >= 1


def test_ssd_visit_place_unknown(store: Store, tmp_path: Path) -> None:
    """With --visit-place unknown, no visit is at home and no clock rests on the assumption."""
    report = run(store, write_ssd(tmp_path / "x"), visit_place="unknown")
    assert report.visits_assumed_at_home == 0
    assert report.clocks_on_home_assumption == 0
    assert all(not r.at_home and r.household_id is None for r in store.read_scenario().records)


def test_ssd_orphans_reported_then_skipped(store: Store, tmp_path: Path) -> None:
    """A visit of a person not in ssd_person is named; --skip-orphans imports without it."""
    tables = ssd_tables()
    tables["ssd_cin_visits"].append(
        {
            "cinv_cin_visit_id": "V9",
            "cinv_person_id": "P99",
            "cinv_cin_visit_date": "2024-03-01",
            "cinv_cin_visit_seen": "Y",
            "cinv_cin_visit_seen_alone": "N",
            "cinv_cin_visit_bedroom": "N",
        }
    )
    folder = write_ssd(tmp_path / "x", tables)
    found = problems_of(store, folder)
    assert found == [
        "ssd_cin_visits.csv:4: cinv_person_id: expected a person in ssd_person.csv, "
        "got 'P99' (or use --skip-orphans)"
    ]
    report = run(store, folder, skip_orphans=True)
    assert report.skipped_orphans == 1


def test_ssd_bad_dates_named_without_birth_dates(store: Store, tmp_path: Path) -> None:
    """A bad plan date is shown; a bad birth date is named by row, never echoed."""
    tables = ssd_tables()
    tables["ssd_person"][0]["pers_dob"] = "31/02/2015"
    tables["ssd_cp_plans"][0]["cppl_cp_plan_start_date"] = "2024-13-01"
    found = problems_of(store, write_ssd(tmp_path / "x", tables))
    assert (
        "ssd_person.csv:2: pers_dob: expected a date dd/mm/yyyy, YYYY-MM-DD or YYYY-MM-DD "
        "hh:mm:ss that exists, got a value in another form" in found
    )
    assert any(p.startswith("ssd_cp_plans.csv:2: cppl_cp_plan_start_date:") for p in found)
    assert not any("31/02/2015" in p or "Child" in p for p in found)


@pytest.mark.parametrize(
    ("postcode", "words"),
    [
        (PC_UNKNOWN, "a postcode in BS23 that the directory does not list"),
        (PC_TERMINATED, "without a grid reference (terminated, or not a place)"),
        (PC_NI, "Northern Ireland postcodes use the Irish grid and cannot be placed"),
    ],
)
def test_ssd_unplaceable_postcode_names_the_row(
    store: Store, tmp_path: Path, postcode: str, words: str
) -> None:
    """Unknown, no-grid and BT postcodes are problems on the address row, the postcode hidden."""
    tables = ssd_tables()
    tables["ssd_address"][1]["addr_address_postcode"] = postcode
    found = problems_of(store, write_ssd(tmp_path / "x", tables))
    assert len(found) == 1
    assert found[0].startswith("ssd_address.csv:3: addr_address_postcode: expected a postcode")
    assert words in found[0]
    assert postcode.split()[1] not in found[0]


def test_ssd_missing_table_and_column(store: Store, tmp_path: Path) -> None:
    """No ssd_person.csv, or a table without a required column, is a problem, not a crash."""
    tables = ssd_tables()
    del tables["ssd_person"]
    assert problems_of(store, write_ssd(tmp_path / "a", tables)) == [
        "ssd_person.csv: (file): expected the file, got no such file"
    ]
    tables = ssd_tables()
    for row in tables["ssd_cp_visits"]:
        del row["cppv_cp_visit_date"]
    assert problems_of(store, write_ssd(tmp_path / "b", tables)) == [
        "ssd_cp_visits.csv:1: cppv_cp_visit_date: expected a required column, got no such column"
    ]


def test_ssd_reimport_closes_missing_child_and_guards_shrink(store: Store, tmp_path: Path) -> None:
    """A child missing from the next extract is closed; closing over 10% needs allow_shrink."""
    run(store, write_ssd(tmp_path / "first"))
    tables = ssd_tables()
    del tables["ssd_care_leavers"]
    with pytest.raises(InputError):
        run(store, write_ssd(tmp_path / "second", tables))
    assert len(store.read_scenario().children) == 5
    report = run(store, write_ssd(tmp_path / "second", tables), allow_shrink=True)
    assert report.closed == ("P4",)
    assert report.added == ()
    assert "P4" not in {c.id for c in store.read_scenario().children}
    kept = store.child_row("P4")
    assert kept is not None, "a closed child is kept as history, not deleted"
    assert kept.closed_on == AS_OF
