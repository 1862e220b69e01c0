"""Shared visit arithmetic for the planner and the checker: travel time, visit length, residents.

Rule: small pure functions of domain data; no solver encoding, no clock. Travel is measured in
British National Grid metres when both ends have a grid reference, else by the haversine on
latitude and longitude (scenarios made before grid references existed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from policies import Pack, age_years, seen_alone_age
from scheduler.domain import ROAD_FACTOR, Authority, Child, Household, HouseholdId, Scenario, Worker
from scheduler.grid import grid_metres

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Place:
    """Where a journey starts or ends: always latitude/longitude, a grid reference when known."""

    lat: float
    lon: float
    easting: float | None = None
    northing: float | None = None


def place_of(item: Household | Worker) -> Place:
    """A household's home, or a worker's base."""
    if isinstance(item, Household):
        return Place(item.lat, item.lon, item.easting, item.northing)
    return Place(item.base_lat, item.base_lon, item.base_easting, item.base_northing)


def travel_between(a: Place, b: Place, authority: Authority) -> int:
    """Door-to-door travel minutes from `a` to `b` at the authority's speed and road factor.

    Straight-line grid metres when both places have a grid reference, else the haversine
    distance; times the road factor, at `travel_speed_kmh`, rounded up; 0 for one place.
    """
    if a.easting is None or a.northing is None or b.easting is None or b.northing is None:
        return travel_min(
            a.lat, a.lon, b.lat, b.lon, authority.travel_speed_kmh, authority.road_factor
        )
    metres = grid_metres((a.easting, a.northing), (b.easting, b.northing))
    return _minutes(metres / 1000, authority.travel_speed_kmh, authority.road_factor)


def travel_min(
    a_lat: float,
    a_lon: float,
    b_lat: float,
    b_lon: float,
    speed_kmh: float,
    road_factor: float = ROAD_FACTOR,
) -> int:
    """Door-to-door travel minutes between two points, rounded up; 0 for identical points.

    Haversine distance in km x `road_factor` / `speed_kmh` x 60.
    """
    if a_lat == b_lat and a_lon == b_lon:
        return 0
    phi1, phi2 = math.radians(a_lat), math.radians(b_lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b_lon - a_lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
    return _minutes(km, speed_kmh, road_factor)


def _minutes(km: float, speed_kmh: float, road_factor: float) -> int:
    """Whole minutes (rounded up) to drive `km` as the crow flies."""
    return math.ceil(km * road_factor / speed_kmh * 60)


def visit_duration_min(pack: Pack, children: Sequence[Child], on: date) -> int:
    """Minutes a visit on `on` takes: the pack's base plus a slot per extra child seen alone.

    A child whose birth date is unknown counts as needing to be seen alone.
    """
    alone = 0
    for child in children:
        facts = child.facts()
        age = age_years(child.birth_date, on)
        if age is None or age >= seen_alone_age(pack, facts, on):
            alone += 1
    return pack.visit_minutes + pack.per_child_minutes * max(0, alone - 1)


def children_of(scenario: Scenario, household_id: HouseholdId) -> tuple[Child, ...]:
    """Every child living (some or all of the time) in the household, sorted by id."""
    return tuple(
        sorted(
            (c for c in scenario.children if household_id in c.household_ids),
            key=lambda c: c.id,
        )
    )
