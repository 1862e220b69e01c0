"""Team patches on real places: a district's postcodes split into contiguous patches.

Rule: pure functions of the postcodes given (no I/O, no randomness); the generator reads the
postcode directory and makes the draws. Distances are British National Grid metres.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[str, float, float]
"""A postcode (compact form) and its grid reference: (postcode, easting, northing)."""


@dataclass(frozen=True)
class District:
    """A local authority district the generator can place households in."""

    code: str
    """The ONS local authority district code, as the postcode directory has it."""
    name: str
    letters: str
    """First letters of the district's postcodes: only these letters are loaded."""
    teams: int
    """Teams of 7 case-holders the district's own caseload needs (DfE 2025 estimate)."""


DISTRICTS: dict[str, District] = {
    "E06000024": District("E06000024", "North Somerset", "B", 10),
    "E09000007": District("E09000007", "Camden", "NW", 12),
}
"""`teams` is `est_teams_of_7` of shared/data/dfe-la-scale-2025.csv (cases_30sep2025 / 7 FTE)."""
PACK_DISTRICTS: dict[str, str] = {"north-somerset": "E06000024", "camden": "E09000007"}
DEFAULT_DISTRICT = "E06000024"
"""For packs that name no place (england, trust-standards, cin-guidance): North Somerset, the
demo's district, where the generator's made-up coordinates used to lie."""


SHARED_POINT_LIMIT = 10
"""A grid point given to this many postcodes or more is a delivery office or a large user's
PO boxes (Camden's NW1 0 mail centre holds ~2,000), not homes: such points are left out."""


def district_for(authority: str) -> District:
    """The district an authority's generated households are placed in."""
    return DISTRICTS[PACK_DISTRICTS.get(authority, DEFAULT_DISTRICT)]


def residential_places(points: Sequence[Point]) -> list[Point]:
    """One place per grid point, leaving out points shared by `SHARED_POINT_LIMIT` postcodes.

    Postcodes sharing a point are one place; it is labelled with the last of them in order,
    which for a postcode recoded in place (North Somerset's BS19 -> BS48) is the newer one,
    as the directory keeps terminated postcodes without their end date. Sorted by postcode.
    """
    at: dict[tuple[float, float], list[str]] = defaultdict(list)
    for postcode, easting, northing in points:
        at[(easting, northing)].append(postcode)
    return sorted(
        (max(codes), easting, northing)
        for (easting, northing), codes in at.items()
        if len(codes) < SHARED_POINT_LIMIT
    )


@dataclass(frozen=True)
class Patch:
    """One team's patch: its postcodes (sorted), their mean point and the office postcode."""

    postcodes: tuple[Point, ...]
    centre: tuple[float, float]
    office: Point
    """The patch's postcode nearest its centre."""


def make_patches(points: Sequence[Point], count: int) -> list[Patch]:
    """`count` contiguous patches of (nearly) equal numbers of postcodes.

    Recursive bisection: the points are cut across their wider side, in proportion to the
    patches each half gets, until every part is one patch. Equal postcode counts give equal
    populations (a postcode holds ~15 addresses), which is how patches are drawn around
    caseloads. Deterministic: ties are broken by the other coordinate, then the postcode.

    Raises:
        ValueError: fewer postcodes than patches, or `count` below 1.
    """
    if count < 1 or len(points) < count:
        raise ValueError(f"cannot split {len(points)} postcodes into {count} patches")
    parts: list[list[Point]] = []
    _bisect(sorted(points), count, parts)
    return [_patch(part) for part in parts]


def _bisect(points: list[Point], count: int, out: list[list[Point]]) -> None:
    """Append `count` parts of `points` to `out`, in a fixed order."""
    if count == 1:
        out.append(sorted(points))
        return
    east = [p[1] for p in points]
    north = [p[2] for p in points]
    if max(east) - min(east) >= max(north) - min(north):
        points = sorted(points, key=lambda p: (p[1], p[2], p[0]))
    else:
        points = sorted(points, key=lambda p: (p[2], p[1], p[0]))
    first = count // 2
    cut = round(len(points) * first / count)
    _bisect(points[:cut], first, out)
    _bisect(points[cut:], count - first, out)


def _patch(points: list[Point]) -> Patch:
    centre = (
        sum(p[1] for p in points) / len(points),
        sum(p[2] for p in points) / len(points),
    )
    office = min(points, key=lambda p: (metres((p[1], p[2]), centre), p[0]))
    return Patch(tuple(points), centre, office)


def central_first(patches: Sequence[Patch], points: Sequence[Point]) -> list[Patch]:
    """The patches ordered from the one nearest the district's middle outwards.

    The middle is the median point of all postcodes; the rest follow by distance from the
    first patch's centre, so the first few patches form one block.
    """
    middle = (_median([p[1] for p in points]), _median([p[2] for p in points]))
    first = min(range(len(patches)), key=lambda i: (metres(patches[i].centre, middle), i))
    origin = patches[first].centre
    return sorted(
        patches,
        key=lambda patch: (metres(patch.centre, origin), patch.office[0]),
    )


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line grid distance in metres."""
    return math.hypot(a[0] - b[0], a[1] - b[1])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


class NearestPostcode:
    """Nearest-postcode look-ups over a set of points, through square buckets."""

    def __init__(self, points: Sequence[Point], cell_m: float = 500.0) -> None:
        """Index `points` in buckets `cell_m` metres wide.

        Raises:
            ValueError: no points.
        """
        if not points:
            raise ValueError("no postcodes to index")
        self.cell = cell_m
        self.buckets: dict[tuple[int, int], list[Point]] = defaultdict(list)
        for point in sorted(points):
            self.buckets[self._key(point[1], point[2])].append(point)

    def _key(self, easting: float, northing: float) -> tuple[int, int]:
        return (math.floor(easting / self.cell), math.floor(northing / self.cell))

    def nearest(self, easting: float, northing: float) -> Point:
        """The indexed postcode nearest the grid point (deterministic on ties)."""
        cx, cy = self._key(easting, northing)
        limit = max(max(abs(k[0] - cx), abs(k[1] - cy)) for k in self.buckets)
        best: tuple[float, str] | None = None
        found: Point | None = None
        for ring in range(limit + 1):
            for key in _ring(cx, cy, ring):
                for point in self.buckets.get(key, ()):
                    rank = (metres((point[1], point[2]), (easting, northing)), point[0])
                    if best is None or rank < best:
                        best, found = rank, point
            # Every bucket beyond this ring is at least `ring * cell` metres away.
            if best is not None and best[0] <= ring * self.cell:
                break
        assert found is not None
        return found


def _ring(cx: int, cy: int, ring: int) -> list[tuple[int, int]]:
    """The bucket keys at Chebyshev distance `ring` from (cx, cy)."""
    if ring == 0:
        return [(cx, cy)]
    keys = [(cx + dx, cy + dy) for dx in range(-ring, ring + 1) for dy in (-ring, ring)]
    keys += [(cx + dx, cy + dy) for dx in (-ring, ring) for dy in range(-ring + 1, ring)]
    return keys
