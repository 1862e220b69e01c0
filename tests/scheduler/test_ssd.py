"""Importing a Standard Safeguarding Dataset extract (synthetic tables written by the tests).

Rule: no network and no clock: `as_of` and `now` are passed; the real postcode directory.
"""

from __future__ import annotations

import contextlib
import gc
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from scheduler.errors import InputError
from scheduler.extracts.codes import EXPECTED, READ_AS_RESIDENTIAL
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
    report = run(store, write_ssd(tmp_path / "x", tables))
    child = next(c for c in store.read_scenario().children if c.id == "P3")
    assert child.placement_type == expected
    assert not any("placement code" in w for w in report.warnings)


@pytest.mark.parametrize("code", ["P2", "P3", "R2", "R3", "R5", "Z1"])
def test_ssd_codes_without_rules_of_their_own_read_as_residential(
    store: Store, tmp_path: Path, code: str
) -> None:
    """Independent living, a YOI, hospital ...: regulation 28's visits of any placement apply,
    so the child is planned as in a residential placement and the summary says so."""
    tables = ssd_tables()
    tables["ssd_cla_placement"][0]["clap_cla_placement_type"] = code
    report = run(store, write_ssd(tmp_path / "x", tables))
    child = next(c for c in store.read_scenario().children if c.id == "P3")
    assert child.placement_type == "residential"
    assert child.events.placement_start == date(2024, 1, 15)
    assert [w for w in report.warnings if "placement code" in w] == [
        f"1 child(ren) in care: placement code {code} ({READ_AS_RESIDENTIAL[code]}) read as "
        "residential (docs/import-ssd.md); check their plans say how often to visit."
    ]


def _temporary_move(gap_days: int) -> dict[str, list[dict[str, str]]]:
    """P3's long-term foster placement, then a temporary move (T2, a holiday) `gap_days` after
    the foster placement ended."""
    tables = ssd_tables()
    foster = tables["ssd_cla_placement"][0]
    foster["clap_cla_placement_end_date"] = "2024-03-10"
    moved = 10 + gap_days
    tables["ssd_cla_placement"].append(
        {
            **foster,
            "clap_cla_placement_id": "PL3T",
            "clap_cla_placement_start_date": f"2024-03-{moved:02d}",
            "clap_cla_placement_end_date": "",
            "clap_cla_placement_type": "T2",
            "clap_cla_placement_postcode": PC_NI,
        }
    )
    return tables


@pytest.mark.parametrize("gap_days", [0, 1], ids=["same-day", "next-day"])
def test_ssd_temporary_move_reads_the_placement_the_child_came_from(
    store: Store, tmp_path: Path, gap_days: int
) -> None:
    """A holiday (T2) starting the day the foster placement ended, or the day after: the child
    is still in the long-term foster placement, its start and home kept (no new clock)."""
    report = run(store, write_ssd(tmp_path / "x", _temporary_move(gap_days)))
    scenario = store.read_scenario()
    child = next(c for c in scenario.children if c.id == "P3")
    assert child.placement_type == "long-term-foster"
    assert child.events.placement_start == date(2024, 1, 15)
    home = next(h for h in scenario.households if h.id == child.household_ids[0])
    assert home.postcode == "BS20 7AW"
    assert any("T2 (a temporary move) read as the placement" in w for w in report.warnings)


def test_ssd_temporary_move_after_a_gap_is_a_problem(store: Store, tmp_path: Path) -> None:
    """Two days after the last placement ended, the move left no placement: a problem."""
    found = problems_of(store, write_ssd(tmp_path / "x", _temporary_move(2)))
    assert found == [
        f"ssd_cla_placement.csv:3: clap_cla_placement_type: expected {EXPECTED}, got T2, a "
        "temporary move with no earlier placement to return to (or use --skip-unknown-codes)"
    ]


@pytest.mark.parametrize(
    ("code", "legal"),
    [("P1", "V2"), ("Q9", "C2"), ("T1", "C2")],
    ids=["parents-without-order", "unknown", "temporary-alone"],
)
def test_ssd_unmapped_placement_is_a_problem(
    store: Store, tmp_path: Path, code: str, legal: str
) -> None:
    """Parents without a care order, an unknown code, or a lone temporary move: the placement
    row is named, and the way out offered."""
    tables = ssd_tables()
    tables["ssd_cla_placement"][0]["clap_cla_placement_type"] = code
    tables["ssd_legal_status"][0]["lega_legal_status"] = legal
    found = problems_of(store, write_ssd(tmp_path / "x", tables))
    assert len(found) == 1
    assert found[0].startswith("ssd_cla_placement.csv:2: clap_cla_placement_type: expected")
    assert found[0].endswith("(or use --skip-unknown-codes)")


def test_ssd_skip_unknown_codes_leaves_the_child_out_and_lists_them(
    store: Store, tmp_path: Path
) -> None:
    """With --skip-unknown-codes the child with code Q9 is left out and named; the rest import."""
    tables = ssd_tables()
    tables["ssd_cla_placement"][0]["clap_cla_placement_type"] = "Q9"
    report = run(store, write_ssd(tmp_path / "x", tables), skip_unknown_codes=True)
    assert report.skipped_unknown_codes == (
        "P3 (ssd_cla_placement.csv row 2, clap_cla_placement_type: 'Q9')",
    )
    scenario = store.read_scenario()
    assert "P3" not in {c.id for c in scenario.children}
    assert "P3" not in {r.child_id for r in scenario.records}
    assert {c.id for c in scenario.children} == {"P1", "P2", "P4", "P5"}


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


def test_ssd_a_name_in_an_id_column_is_not_echoed(store: Store, tmp_path: Path) -> None:
    """A name typed into an id column is not shown back (it may be a child's name); a long
    cell is cut; an id is still shown, so the row can be found."""
    tables = ssd_tables()
    tables["ssd_cin_visits"][0]["cinv_person_id"] = "Zelda Secretname"
    tables["ssd_cin_visits"][1]["cinv_cin_visit_date"] = "x" * 40_000
    found = problems_of(store, write_ssd(tmp_path / "x", tables))
    assert not any("Zelda" in p or "Secretname" in p for p in found)
    assert any(
        p.startswith("ssd_cin_visits.csv:2: cinv_person_id:")
        and "a value that is not an id (not shown: it may be personal data)" in p
        for p in found
    )
    assert any("(40,000 characters)" in p for p in found)
    assert max(len(p) for p in found) < 300


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


@pytest.mark.parametrize("fails", [False, True], ids=["imported", "refused"])
def test_ssd_import_restores_the_garbage_collector(
    store: Store, tmp_path: Path, fails: bool
) -> None:
    """The collector paused for the bulk import is running again afterwards, however it ends,
    and one that was already paused stays paused."""
    tables = ssd_tables()
    if fails:
        tables["ssd_cla_placement"][0]["clap_cla_placement_type"] = "Q9"
    folder = write_ssd(tmp_path / "x", tables)
    assert gc.isenabled()
    with contextlib.suppress(InputError):
        run(store, folder)
    assert gc.isenabled()
    gc.disable()
    try:
        with contextlib.suppress(InputError):
            run(store, folder)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_ssd_temporary_move_of_a_later_child_in_care(store: Store, tmp_path: Path) -> None:
    """A temporary move read after another child's placement: the earlier placements looked up
    are the moving child's own (the name once served both, and the second child crashed)."""
    tables = _temporary_move(0)
    tables["ssd_cla_episodes"].insert(
        0,
        {
            **tables["ssd_cla_episodes"][0],
            "clae_cla_episode_id": "E2",
            "clae_person_id": "P2",
            "clae_cla_id": "C2",
        },
    )
    tables["ssd_cla_placement"].append(
        {
            **tables["ssd_cla_placement"][0],
            "clap_cla_placement_id": "PL2",
            "clap_cla_id": "C2",
            "clap_person_id": "P2",
            "clap_cla_placement_end_date": "",
            "clap_cla_placement_type": "U1",
        }
    )
    run(store, write_ssd(tmp_path / "x", tables))
    children = {c.id: c for c in store.read_scenario().children}
    assert children["P2"].category == "child-in-care"
    assert children["P3"].placement_type == "long-term-foster"
    assert children["P3"].events.placement_start == date(2024, 1, 15)


def test_a_reimport_that_lists_a_leaver_again_says_they_are_back(
    store: Store, tmp_path: Path
) -> None:
    """A worker recorded as left (`workers leave`) whom the next extract lists as current is
    current again, and the import's warnings say so and what to do; an extract with no
    leaver in it says nothing of the kind (the edge pair)."""
    from scheduler.workforce import worker_leaves

    run(store, write_ssd(tmp_path / "first"))
    quiet = run(store, write_ssd(tmp_path / "again"))
    assert not [w for w in quiet.warnings if w.startswith("Back")]
    scenario = store.read_scenario()
    leaver = next(c.allocated_worker for c in scenario.children if c.allocated_worker)
    assert leaver is not None
    team = next(w.team_id for w in scenario.workers if w.id == leaver)
    colleague = next(w.id for w in scenario.workers if w.team_id == team and w.id != leaver)
    worker_leaves(store, leaver, AS_OF, AS_OF, to=colleague, now=NOW)
    assert store.worker(leaver) is None
    report = run(store, write_ssd(tmp_path / "second"))
    (back,) = [w for w in report.warnings if w.startswith("Back")]
    assert leaver in back
    assert "workers leave" in back
    assert store.worker(leaver) is not None
