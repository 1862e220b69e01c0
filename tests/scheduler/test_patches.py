"""Tests of team patches on real places (scheduler.patches).

Rule: no network and no clock; the points are made up here, except where the installed ONS
postcode directory is read for North Somerset.
"""

from __future__ import annotations

import itertools
import math
from random import Random

import pytest

from scheduler.patches import (
    DEFAULT_DISTRICT,
    SHARED_POINT_LIMIT,
    NearestPostcode,
    Point,
    central_first,
    district_for,
    make_patches,
    metres,
    residential_places,
)
from scheduler.postcodes import PostcodeDirectory


def _scatter(count: int, seed: int = 0) -> list[Point]:
    rng = Random(seed)
    return [
        (f"ZZ{i:05d}", float(rng.randint(300000, 330000)), float(rng.randint(150000, 170000)))
        for i in range(count)
    ]


def _box(points: tuple[Point, ...]) -> tuple[float, float, float, float]:
    return (
        min(p[1] for p in points),
        max(p[1] for p in points),
        min(p[2] for p in points),
        max(p[2] for p in points),
    )


@pytest.mark.parametrize(
    ("authority", "code"),
    [
        pytest.param("north-somerset", "E06000024", id="north-somerset"),
        pytest.param("camden", "E09000007", id="camden"),
        pytest.param("england", DEFAULT_DISTRICT, id="england"),
        pytest.param("trust-standards", DEFAULT_DISTRICT, id="trust-standards"),
        pytest.param("cin-guidance", DEFAULT_DISTRICT, id="cin-guidance"),
    ],
)
def test_district_for_maps_packs_and_defaults_generic_ones(authority: str, code: str) -> None:
    """Named authorities get their own district; packs naming no place get the default."""
    assert district_for(authority).code == code


def test_patches_have_equal_postcode_counts() -> None:
    """Every patch holds the same number of postcodes, give or take one."""
    for count in (1, 2, 3, 7, 10, 17):
        sizes = [len(p.postcodes) for p in make_patches(_scatter(1000), count)]
        assert sum(sizes) == 1000
        assert max(sizes) - min(sizes) <= 1, count


def test_patches_are_contiguous_blocks() -> None:
    """Patches are cut along straight lines: no two patches' bounding boxes overlap."""
    patches = make_patches(_scatter(2000, seed=1), 12)
    for a, b in itertools.combinations(patches, 2):
        ax0, ax1, ay0, ay1 = _box(a.postcodes)
        bx0, bx1, by0, by1 = _box(b.postcodes)
        overlap_x = min(ax1, bx1) - max(ax0, bx0)
        overlap_y = min(ay1, by1) - max(ay0, by0)
        assert overlap_x <= 0 or overlap_y <= 0


def test_patch_office_is_its_postcode_nearest_the_centre() -> None:
    """The office is one of the patch's own postcodes, the one nearest the patch's mean."""
    for patch in make_patches(_scatter(500, seed=2), 5):
        assert patch.office in patch.postcodes
        best = min(metres((p[1], p[2]), patch.centre) for p in patch.postcodes)
        assert metres((patch.office[1], patch.office[2]), patch.centre) == best


def test_patches_are_deterministic_whatever_the_input_order() -> None:
    """The same postcodes in another order give the same patches."""
    points = _scatter(800, seed=3)
    shuffled = list(points)
    Random(9).shuffle(shuffled)
    assert make_patches(points, 6) == make_patches(shuffled, 6)


def test_patches_need_a_postcode_each() -> None:
    """As many postcodes as patches is enough; one fewer is refused."""
    points = _scatter(5)
    assert len(make_patches(points, 5)) == 5
    with pytest.raises(ValueError, match="cannot split 4 postcodes into 5 patches"):
        make_patches(points[:4], 5)


def test_central_first_starts_in_the_middle() -> None:
    """The first patch is the one holding the district's middle; the next is its neighbour."""
    points = [(f"ZZ{i:03d}", float(i), 0.0) for i in range(90)]
    ordered = central_first(make_patches(points, 3), points)
    assert ordered[0].office[1] == pytest.approx(45, abs=2)
    assert len(ordered) == 3


def test_residential_places_leave_out_crowded_points() -> None:
    """A point shared by 9 postcodes is kept (as one place); one shared by 10 is left out."""
    nine = [(f"AB1{i}XY", 1000.0, 2000.0) for i in range(SHARED_POINT_LIMIT - 1)]
    ten = [(f"CD1{i}XY", 5000.0, 6000.0) for i in range(SHARED_POINT_LIMIT)]
    single = [("EF12GH", 9000.0, 9000.0)]
    places = residential_places(nine + ten + single)
    assert places == [("AB18XY", 1000.0, 2000.0), ("EF12GH", 9000.0, 9000.0)]


def test_residential_places_label_a_shared_point_with_the_newer_code() -> None:
    """Two postcodes at one point are one place, labelled with the later code (BS48 > BS19)."""
    places = residential_places([("BS192AA", 1.0, 2.0), ("BS481AA", 1.0, 2.0)])
    assert places == [("BS481AA", 1.0, 2.0)]


def test_nearest_postcode_matches_a_full_search() -> None:
    """The bucketed search finds what comparing every postcode finds."""
    points = _scatter(600, seed=4)
    index = NearestPostcode(points, cell_m=700)
    rng = Random(5)
    for _ in range(200):
        east, north = rng.uniform(290000, 340000), rng.uniform(140000, 180000)
        found = index.nearest(east, north)
        best = min(math.hypot(p[1] - east, p[2] - north) for p in points)
        assert math.hypot(found[1] - east, found[2] - north) == best


def test_north_somerset_patches_from_the_directory() -> None:
    """North Somerset's places split into its 10 teams' patches, each a few km across."""
    district = district_for("north-somerset")
    directory = PostcodeDirectory()
    points = residential_places(
        [(p, g.easting, g.northing) for p, g in directory.in_district(district.code, "B")]
    )
    assert all(p[0].startswith("BS") for p in points)
    patches = make_patches(points, district.teams)
    for patch in patches:
        far = max(metres((p[1], p[2]), patch.centre) for p in patch.postcodes)
        assert 500 < far < 12000
