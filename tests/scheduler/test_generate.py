"""Tests of the synthetic authority generator (scheduler.generate).

Rule: no network and no clock; S is generated a few times, M once, L never.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from policies import is_school_age
from scheduler.domain import Scenario
from scheduler.due import scenario_due
from scheduler.generate import generate, scale_for
from scheduler.grid import grid_to_latlon
from scheduler.postcodes import GridRef, PostcodeDirectory, data_dir, outward

START = date(2026, 11, 30)


@pytest.fixture(scope="module")
def small() -> Scenario:
    return generate("S", seed=0, start=START)


@pytest.fixture(scope="module")
def medium() -> Scenario:
    return generate("M", seed=0, start=START)


def _share(items: list[bool]) -> float:
    return sum(items) / len(items)


def test_generate_same_seed_gives_identical_json(small: Scenario) -> None:
    """The same arguments and seed give a byte-identical scenario."""
    again = generate("S", seed=0, start=START)
    assert again.model_dump_json() == small.model_dump_json()


def test_generate_different_seed_gives_different_scenario(small: Scenario) -> None:
    """Another seed gives another authority."""
    other = generate("S", seed=1, start=START)
    assert other.model_dump_json() != small.model_dump_json()


def test_generate_round_trips_through_json(small: Scenario) -> None:
    """The generated scenario validates (cross-references included) after a JSON round trip."""
    assert Scenario.model_validate_json(small.model_dump_json()) == small


def test_generate_as_of_is_day_before_start(small: Scenario) -> None:
    """The scenario is correct to the day before the plan starts; no history on or after it."""
    assert small.as_of == START - timedelta(days=1)
    assert max(r.on for r in small.records) <= small.as_of


def test_generate_s_is_one_team_of_eight_with_about_110_children(small: Scenario) -> None:
    """S is one team: 8 workers (one manager) and ~110 children."""
    assert len(small.teams) == 1
    assert len(small.workers) == 8
    assert len(small.children) == 110
    assert Counter(w.role for w in small.workers)["manager"] == 1


def test_generate_mix_follows_dfe_shares(small: Scenario) -> None:
    """~12% child protection, ~20% in care, small early help, fostering and leaver shares."""
    n = len(small.children)
    counts = Counter(c.category for c in small.children)
    assert counts["child-protection"] / n == pytest.approx(0.12, abs=0.02)
    assert counts["child-in-care"] / n == pytest.approx(0.20, abs=0.02)
    assert counts["early-help"] / n == pytest.approx(0.03, abs=0.02)
    assert counts["care-leaver"] / n == pytest.approx(0.02, abs=0.015)
    assert counts["private-fostering"] / n == pytest.approx(0.01, abs=0.01)
    assert counts["child-in-need"] / n == pytest.approx(0.62, abs=0.03)


def test_generate_children_in_care_have_placements(small: Scenario) -> None:
    """Every child in care has a placement type and start; placements only for them."""
    for child in small.children:
        in_care = child.category == "child-in-care"
        assert (child.placement_type is not None) == in_care
        assert (child.events.placement_start is not None) == in_care


def test_generate_child_protection_has_plan_and_conference(small: Scenario) -> None:
    """Child protection plans carry a plan start and a latest conference on or after it."""
    for child in small.children:
        if child.category == "child-protection":
            assert child.events.plan_start is not None
            assert child.events.conference is not None
            assert child.events.plan_start <= child.events.conference <= small.as_of


def test_generate_new_referrals_have_no_visits(small: Scenario) -> None:
    """About 3% are new referrals from the last week, with no visit yet."""
    visited = {r.child_id for r in small.records}
    referrals = [c for c in small.children if c.events.referral is not None]
    assert 1 <= len(referrals) <= 0.06 * len(small.children)
    for child in referrals:
        assert child.events.referral is not None
        assert small.as_of - timedelta(days=7) <= child.events.referral < small.as_of
        assert child.id not in visited


def test_generate_households_exist_and_have_teams(small: Scenario) -> None:
    """Every child's homes exist, every household has a team and at least one child."""
    homes = {h.id: h for h in small.households}
    lived_in = {h for c in small.children for h in c.household_ids}
    assert set(homes) == lived_in
    team_ids = {t.id for t in small.teams}
    assert all(h.team_id in team_ids for h in small.households)
    assert all(h.address is None for h in small.households)


def test_generate_shared_care_is_about_ten_percent(small: Scenario) -> None:
    """~10% of children in need or on a plan have two homes, 1-8 km apart."""
    cin_cp = [c for c in small.children if c.category in ("child-in-need", "child-protection")]
    assert _share([len(c.household_ids) == 2 for c in cin_cp]) == pytest.approx(0.10, abs=0.04)
    others = [c for c in small.children if c not in cin_cp]
    assert all(len(c.household_ids) == 1 for c in others)


def test_generate_siblings_share_category_and_worker(small: Scenario) -> None:
    """Children of one household share their category and allocated worker."""
    by_home: dict[str, list[tuple[str, str | None]]] = {}
    for child in small.children:
        for home in child.household_ids:
            by_home.setdefault(home, []).append((child.category, child.allocated_worker))
    assert all(len(set(pairs)) == 1 for pairs in by_home.values())
    per_home = len(small.children) / len({c.household_ids[0] for c in small.children})
    assert 1.2 <= per_home <= 1.8


def test_generate_allocates_every_child_within_its_team(small: Scenario) -> None:
    """Every child has an allocated worker of their household's team."""
    workers = {w.id: w for w in small.workers}
    homes = {h.id: h for h in small.households}
    for child in small.children:
        assert child.allocated_worker is not None
        assert workers[child.allocated_worker].team_id == homes[child.household_ids[0]].team_id


def test_generate_cp_and_cic_allocated_to_social_workers_or_managers(small: Scenario) -> None:
    """Child protection and children in care are held by registered social workers."""
    roles = {w.id: w.role for w in small.workers}
    for child in small.children:
        if child.category in ("child-protection", "child-in-care"):
            assert child.allocated_worker is not None
            assert roles[child.allocated_worker] in ("social-worker", "manager")


def test_generate_records_by_qualified_workers_inside_hours(small: Scenario) -> None:
    """History visits to CP/CIC children are by social workers, inside the visitor's hours."""
    workers = {w.id: w for w in small.workers}
    category = {c.id: c.category for c in small.children}
    for record in small.records:
        assert record.worker_id is not None
        assert record.start is not None
        worker = workers[record.worker_id]
        assert record.on.weekday() < 5
        assert worker.day_start <= record.start
        end = datetime.combine(record.on, record.start) + timedelta(minutes=60)
        assert end.time() <= worker.day_end
        if category[record.child_id] in ("child-protection", "child-in-care"):
            assert worker.role in ("social-worker", "manager")


@pytest.mark.slow
def test_generate_history_mix_is_realistic(medium: Scenario) -> None:
    """~4% of visits failed and ~25% of child protection visits were unannounced."""
    category = {c.id: c.category for c in medium.children}
    records = medium.records
    assert _share([r.outcome != "completed" for r in records]) == pytest.approx(0.04, abs=0.02)
    cp = [r for r in records if category[r.child_id] == "child-protection"]
    assert _share([not r.announced for r in cp]) == pytest.approx(0.25, abs=0.06)


def test_generate_due_engine_finds_few_overdue(small: Scenario) -> None:
    """At as_of most children are within their windows: 1-10% overdue, most due in 4 weeks."""
    rows = scenario_due(small)
    overdue = [r for r in rows if r.overdue_days > 0]
    assert 0.01 <= len(overdue) / len(rows) <= 0.10
    horizon = small.as_of + timedelta(weeks=4)
    soon = [r for r in rows if r.next_due is not None and r.next_due <= horizon]
    assert len(soon) / len(rows) >= 0.6


def test_generate_family_windows_fit_some_worker(small: Scenario) -> None:
    """~10% of households have windows, each at least 90 minutes inside a worker's day."""
    windows = [h for h in small.households if h.windows]
    assert 0 < len(windows) <= 0.25 * len(small.households)
    for household in windows:
        team = [w for w in small.workers if w.team_id == household.team_id]
        for window in household.windows:
            assert any(
                window.weekday in w.days and w.day_start <= window.start and window.end <= w.day_end
                for w in team
            )
            span = datetime.combine(START, window.end) - datetime.combine(START, window.start)
            assert span >= timedelta(minutes=90)


def test_generate_half_of_each_teams_practitioners_work_until_six(medium: Scenario) -> None:
    """Every team has ceil(half) of its social and family support workers on 10:00-18:00,
    one of them a full-time social worker; everyone else finishes by 17:00."""
    late, early = time(10), time(18)  # (start, end) of the late shift
    for team in medium.teams:
        staff = [w for w in medium.workers if w.team_id == team.id and w.role != "manager"]
        on_late = [w for w in staff if (w.day_start, w.day_end) == (late, early)]
        assert len(on_late) == math.ceil(len(staff) / 2)
        assert any(w.role == "social-worker" and len(w.days) == 5 for w in on_late)
        assert all(w.day_end <= time(17) for w in staff if w not in on_late)
    assert all(w.day_end <= time(17) for w in medium.workers if w.role == "manager")


def test_generate_school_age_families_go_to_workers_who_can_visit_after_school(
    medium: Scenario,
) -> None:
    """A child of school age as the school-hours rule counts it (reception to Year 11) is
    allocated to a worker whose day ends at 17:00 or later (a visit after school and back);
    the 08:30-16:30 workers hold families of younger children only."""
    workers = {w.id: w for w in medium.workers}
    school: set[str] = set()
    for c in medium.children:
        assert c.birth_date is not None
        if is_school_age(c.birth_date, medium.as_of, 5, 16):
            school.update(c.household_ids)
    ends = Counter(
        (c.household_ids[0] in school, workers[c.allocated_worker].day_end >= time(17))
        for c in medium.children
        if c.allocated_worker is not None
    )
    assert ends[True, False] == 0
    assert ends[True, True] > 0
    assert ends[False, False] > 0  # the early workers still hold families
    # Reception children (4 at the start of the year) and Year 11 (16 before June) count.
    edge = [
        c
        for c in medium.children
        if c.birth_date is not None
        and is_school_age(c.birth_date, medium.as_of, 5, 16)
        and not 5 <= (medium.as_of - c.birth_date).days / 365.25 < 16
    ]
    assert edge
    assert all(workers[c.allocated_worker or ""].day_end >= time(17) for c in edge)


def test_generate_a_team_of_three_has_one_late_social_worker() -> None:
    """The smallest team (a manager and two social workers) has exactly one on 10:00-18:00."""
    scenario = generate("S", seed=0, start=START, children=10)
    staff = [w for w in scenario.workers if w.role != "manager"]
    assert len(staff) == 2
    assert sum(w.day_end == time(18) for w in staff) == 1


def test_generate_absences_fall_in_first_fortnight(small: Scenario) -> None:
    """A few workers have 1-5 days of leave within two weeks of the start."""
    assert 1 <= len(small.absences) <= 2
    for absence in small.absences:
        assert START <= absence.start <= absence.end < START + timedelta(days=21)


def test_generate_children_override_scales_workers_and_teams() -> None:
    """children=N keeps the children-per-worker ratio, at least one team of 3 workers."""
    assert scale_for("S", 10).workers == 3
    assert scale_for("S", 10).teams == 1
    bigger = scale_for("M", 900)
    assert bigger.workers == 60
    assert bigger.teams == round(60 / 7)
    tiny = generate("S", seed=3, start=START, children=12)
    assert len(tiny.children) == 12
    assert len(tiny.workers) == 3
    assert len(tiny.teams) == 1


@pytest.mark.slow
def test_generate_m_counts_within_tolerance(medium: Scenario) -> None:
    """M is a median authority: ~1,800 children, ~120 workers in ~17 teams of ~7."""
    assert len(medium.children) == 1800
    assert len(medium.workers) == 120
    assert len(medium.teams) == 17
    sizes = Counter(w.team_id for w in medium.workers)
    assert all(6 <= n <= 8 for n in sizes.values())
    n = len(medium.children)
    counts = Counter(c.category for c in medium.children)
    assert counts["child-protection"] / n == pytest.approx(0.12, abs=0.01)
    assert counts["child-in-care"] / n == pytest.approx(0.20, abs=0.01)
    households = Counter(h.team_id for h in medium.households)
    assert len(households) == 17


def test_generate_households_lie_at_real_postcodes_of_the_district(small: Scenario) -> None:
    """Every home is a North Somerset postcode, at the directory's grid reference for it."""
    directory = PostcodeDirectory()
    for household in small.households:
        assert household.postcode is not None
        found = directory.locate(household.postcode)
        assert isinstance(found, GridRef)
        assert found.district == "E06000024"
        assert (household.easting, household.northing) == (found.easting, found.northing)
        assert (household.lat, household.lon) == grid_to_latlon(found.easting, found.northing)
        assert household.area.startswith(outward(household.postcode) + " patch ")


def test_generate_same_seed_same_places_other_seed_other_places(small: Scenario) -> None:
    """Places are drawn deterministically per seed."""
    again = generate("S", seed=0, start=START)
    other = generate("S", seed=1, start=START)
    assert [h.postcode for h in again.households] == [h.postcode for h in small.households]
    assert [h.postcode for h in other.households] != [h.postcode for h in small.households]


@pytest.mark.slow
def test_generate_workers_are_based_at_their_team_office(medium: Scenario) -> None:
    """Each team's workers share one base: a real postcode of the district inside the patch."""
    directory = PostcodeDirectory()
    district = {(g.easting, g.northing) for _, g in directory.in_district("E06000024", "B")}
    bases: dict[str, set[tuple[float | None, float | None]]] = {}
    for worker in medium.workers:
        bases.setdefault(worker.team_id, set()).add((worker.base_easting, worker.base_northing))
        assert (worker.base_lat, worker.base_lon) == grid_to_latlon(
            worker.base_easting or 0, worker.base_northing or 0
        )
    assert all(len(b) == 1 for b in bases.values())
    assert all(next(iter(b)) in district for b in bases.values())
    assert len({next(iter(b)) for b in bases.values()}) == len(medium.teams)


@pytest.mark.slow
def test_generate_team_patches_do_not_overlap(medium: Scenario) -> None:
    """Teams' first homes lie in separate blocks: no two teams' bounding boxes overlap."""
    homes = {h.id: h for h in medium.households}
    points: dict[str, list[tuple[float, float]]] = {}
    for child in medium.children:
        home = homes[child.household_ids[0]]
        assert home.team_id is not None
        assert home.easting is not None
        points.setdefault(home.team_id, []).append((home.easting, home.northing or 0))
    boxes = [
        (min(e for e, _ in p), max(e for e, _ in p), min(n for _, n in p), max(n for _, n in p))
        for p in points.values()
    ]
    assert len(boxes) == 17
    for a, b in itertools.combinations(boxes, 2):
        assert min(a[1], b[1]) - max(a[0], b[0]) <= 0 or min(a[3], b[3]) - max(a[2], b[2]) <= 0


@pytest.mark.slow
def test_generate_shared_care_homes_are_1_to_8_km_apart(medium: Scenario) -> None:
    """A second home is another postcode of the district, nearly always 1-8 km away."""
    homes = {h.id: h for h in medium.households}
    apart = []
    for child in medium.children:
        if len(child.household_ids) == 2:
            first, second = (homes[h] for h in child.household_ids)
            assert first.postcode != second.postcode
            assert first.team_id == second.team_id
            apart.append(
                math.hypot(
                    (first.easting or 0) - (second.easting or 0),
                    (first.northing or 0) - (second.northing or 0),
                )
            )
    assert len(apart) > 50
    assert sum(1000 <= m <= 8000 for m in apart) / len(apart) >= 0.95


def test_generate_camden_loads_only_the_letters_it_needs(tmp_path: Path) -> None:
    """Camden's homes are Camden postcodes, and only the N and W letters are read."""
    for letter_file in data_dir().glob("postcodes_*.msgpack.br"):
        (tmp_path / letter_file.name).symlink_to(letter_file)
    directory = PostcodeDirectory(tmp_path)
    scenario = generate("S", seed=0, start=START, children=30, authority="camden",
                        directory=directory)  # fmt: skip
    assert directory.loaded_letters == "NW"
    for household in scenario.households:
        found = directory.locate(household.postcode or "")
        assert isinstance(found, GridRef)
        assert found.district == "E09000007"


def test_generate_generic_packs_use_the_default_district() -> None:
    """Packs that name no place (england) put homes in North Somerset."""
    scenario = generate("S", seed=0, start=START, children=20, authority="england")
    assert all((h.postcode or "").startswith("BS") for h in scenario.households)
