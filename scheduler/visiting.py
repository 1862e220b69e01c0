"""Shared visit arithmetic for the planner and the checker: travel time, visit length, residents.

Rule: small pure functions of domain data; no solver encoding, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from policies import Pack, age_years
from policies.engine import seen_alone_age
from scheduler.domain import Child, HouseholdId, Scenario

EARTH_RADIUS_KM = 6371.0088
ROAD_FACTOR = 1.3
"""Roads are longer than the great circle: a common urban detour factor."""


def travel_min(a_lat: float, a_lon: float, b_lat: float, b_lon: float, speed_kmh: float) -> int:
    """Door-to-door travel minutes between two points, rounded up; 0 for identical points.

    Haversine distance in km x 1.3 road factor / `speed_kmh` x 60.
    """
    if a_lat == b_lat and a_lon == b_lon:
        return 0
    phi1, phi2 = math.radians(a_lat), math.radians(b_lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b_lon - a_lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
    return math.ceil(km * ROAD_FACTOR / speed_kmh * 60)


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
