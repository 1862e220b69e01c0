"""Synthetic authorities: a seeded caseload, workforce and visit history calibrated to DfE data.

Rule: pure function of its arguments and the installed postcode directory (read-only package
data; no clock, no global RNG, no other I/O); the same arguments give a byte-identical
scenario. See docs/generator.md for what is generated and why.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from random import Random
from typing import Literal, TypeVar

from policies import (
    Category,
    ChildFacts,
    Contact,
    Due,
    Pack,
    Period,
    PlacementType,
    Role,
    SchoolHoursRule,
    add_period,
    allowed_roles,
    checklist,
    due_dates,
    is_school_age,
    load_pack,
)
from scheduler.calendar import WorkingCalendar
from scheduler.domain import (
    EARLIEST,
    LATEST,
    Absence,
    Authority,
    Child,
    ChildEvents,
    FamilyWindow,
    Household,
    Scenario,
    Team,
    VisitRecord,
    Weekday,
    Worker,
)
from scheduler.due import calendar_for, category_pack
from scheduler.grid import grid_to_latlon
from scheduler.patches import (
    NearestPostcode,
    Point,
    central_first,
    district_for,
    make_patches,
    metres,
    residential_places,
)
from scheduler.postcodes import PostcodeDirectory, outward, pretty

Size = Literal["S", "M", "L"]
T = TypeVar("T")


@dataclass(frozen=True)
class Scale:
    """How big a generated authority is."""

    children: int
    workers: int
    teams: int


SCALES: dict[Size, Scale] = {
    "S": Scale(children=110, workers=8, teams=1),
    "M": Scale(children=1800, workers=120, teams=17),
    "L": Scale(children=7500, workers=500, teams=70),
}
"""S: one team; M: the median English authority; L: the largest (Kent, Birmingham).

Calibrated to data/dfe-la-scale-2025.csv: the median authority has 1,825 cases and 119
case-holding FTE in 17 teams of 7; Kent and Birmingham hold ~7,500-8,400 cases with ~490
case-holders in ~70 teams."""

HISTORY_DAYS = 70
"""Visit history covers the ~10 weeks before the plan starts (plus each clock's seed visit)."""
MAX_SEED_DAYS = 183
"""The seed visit lies at most this far before the history window opens."""

EARLIEST_START = date(EARLIEST.year + 22, 1, 1)
"""The first day a generated authority may start: its oldest care leavers were born up to
21 years before it (and its history runs back ~9 months), all on or after 1 Jan 1900."""
LATEST_START = LATEST - timedelta(days=7 * (1 + 4) - 1)
"""The last day a generated authority may start: a week's plan and its 4-week look-ahead
end by 31 Dec 2100, as `visitplan plan` requires."""


def check_start(start: date) -> date:
    """A start day leaving room for the history before it and a plan after it.

    Raises:
        ValueError: `start` is before `EARLIEST_START` or after `LATEST_START`.
    """
    if not EARLIEST_START <= start <= LATEST_START:
        raise ValueError(
            f"expected a start between {EARLIEST_START} and {LATEST_START} (room for the "
            f"children's births and history before it and a plan with its 4-week look-ahead "
            f"after it, all within {EARLIEST.year}-{LATEST.year}), got {start}"
        )
    return start


CATEGORY_SHARES: tuple[tuple[Category | Literal["referral"], float], ...] = (
    ("child-protection", 0.12),
    ("child-in-care", 0.20),
    ("early-help", 0.03),
    ("private-fostering", 0.01),
    ("care-leaver", 0.02),
    ("referral", 0.03),
)
"""Shares of all children; the rest are children in need. From DfE 2025: CPP 49,420 and CLA
81,770 of 402,400 children in need (12% and 20%); early help, private fostering, care leavers
and new referrals are taken from the child-in-need share."""

PLACEMENT_SHARES: tuple[tuple[PlacementType, float], ...] = (
    ("foster", 0.55),
    ("long-term-foster", 0.15),
    ("residential", 0.12),
    ("care-proceedings", 0.08),
    ("adoption", 0.04),
    ("placement-with-parents-ico", 0.03),
    ("placement-with-parents-care-order", 0.03),
)

FAMILY_SIZES: tuple[tuple[int, float], ...] = ((1, 0.55), (2, 0.30), (3, 0.12), (4, 0.03))
"""Children per household for CP, CIN and early help: mean ~1.63 (DfE-derived 1.6)."""
PLACEMENT_SIZES: tuple[tuple[int, float], ...] = ((1, 0.90), (2, 0.10))
"""Children per placement for children in care: mean 1.1."""

SHARED_CARE_SHARE = 0.10
JOINT_VISIT_SHARE = 0.05
WINDOW_SHARE = 0.10
PART_TIME_SHARE = 0.20
ABSENT_SHARE = 0.08
FAILED_SHARE = 0.05
LATE_SHARE = 0.03
OVERDUE_SHARE = 0.04
CP_UNANNOUNCED_SHARE = 0.12
AWAY_FROM_HOME_SHARE = 0.06
RECENT_PLACEMENT_SHARE = 0.05
FSW_SHARE = 0.17
"""Family support workers among a team's staff (one of a team of 7)."""
LATE_EVERY = 2
"""One practitioner in this many (counted from the team's last social worker) works
10:00-18:00, so that after-school visits have capacity (docs/generator.md, Hours)."""
AFTER_SCHOOL_DAY_END = time(17)
"""A group with a child of school age goes to a worker whose day ends at this or later (one
who can make a visit after school and get back), where the team has one whose role fits."""

SHARED_CARE_KM = (1.0, 8.0)
"""How far a shared-care child's second home lies from the first."""

NOMINAL_CADENCE: dict[Category, Period] = {
    "early-help": Period(amount=20, unit="working_days"),
    "child-in-need": Period(amount=20, unit="working_days"),
    "child-protection": Period(amount=10, unit="working_days"),
    "child-in-care": Period(amount=6, unit="weeks"),
    "care-leaver": Period(amount=8, unit="weeks"),
    "private-fostering": Period(amount=6, unit="weeks"),
}
"""Visiting rhythm used only where the pack sets no clock for a child (e.g. early help)."""

FIRST_NAMES = (
    "Amira", "Ben", "Chloe", "Daniel", "Ella", "Farah", "George", "Hannah", "Imran", "Jade",
    "Kieran", "Laura", "Mohammed", "Niamh", "Oliver", "Priya", "Rhys", "Sophie", "Tom",
    "Uzma", "Victoria", "William", "Yasmin", "Zoe", "Aisha", "Callum", "Grace", "Joseph",
)  # fmt: skip
LAST_NAMES = (
    "Ahmed", "Baker", "Clarke", "Davies", "Evans", "Fletcher", "Green", "Hughes", "Iqbal",
    "Jones", "Khan", "Lewis", "Morgan", "Nowak", "O'Brien", "Patel", "Roberts", "Smith",
    "Taylor", "Walker", "Williams", "Wright", "Young", "Begum", "Campbell", "Kaur",
)  # fmt: skip


@dataclass
class _Worker:
    id: str
    name: str
    role: Role
    team: int
    days: tuple[Weekday, ...]
    day_start: time
    day_end: time
    capacity: float
    load: float = 0.0


@dataclass
class _Group:
    """Children who share one or two homes (siblings, or a placement) and one worker."""

    category: Category
    size: int
    referral: bool = False
    team: int = 0
    shared_care: bool = False
    placement: PlacementType | None = None
    homes: list[str] = field(default_factory=list)
    child_ids: list[str] = field(default_factory=list)
    facts: list[ChildFacts] = field(default_factory=list)
    worker: _Worker | None = None
    roles: tuple[Role, ...] = ()
    visits: list[tuple[date, date]] = field(default_factory=list)
    """(visit day, the deadline it served), in order."""
    record_ids: list[list[str]] = field(default_factory=list)


def _weighted(rng: Random, table: Sequence[tuple[T, float]]) -> T:
    """One value drawn from (value, weight) pairs."""
    return rng.choices([v for v, _ in table], weights=[w for _, w in table])[0]


def scale_for(size: Size, children: int | None = None) -> Scale:
    """The counts for a named size, or scaled proportionally to `children`.

    Workers keep the size's children-per-worker ratio (at least 3), in teams of about 7.
    """
    base = SCALES[size]
    if children is None:
        return base
    if children < 1:
        raise ValueError("children must be at least 1")
    workers = max(3, round(children * base.workers / base.children))
    teams = max(1, min(workers // 3, round(workers / 7)))
    return Scale(children=children, workers=workers, teams=teams)


def generate(
    size: Size,
    seed: int = 0,
    start: date = date(2026, 11, 30),
    children: int | None = None,
    authority: str = "north-somerset",
    directory: PostcodeDirectory | None = None,
) -> Scenario:
    """A synthetic authority whose plan starts on `start` (a Monday).

    The scenario's `as_of` is the day before `start`: the history holds every visit up to and
    including that day, and nothing on or after `start`. Households lie at real postcodes of
    the authority's district (`scheduler.patches.district_for`), read from `directory` (the
    installed ONS postcode directory by default).

    Raises:
        policies.PackNotFoundError: no pack for `authority`.
        ValueError: `children` is below 1, or `start` leaves no room for the history before
            it or a plan after it (`check_start`).
        FileNotFoundError: the postcode directory is not installed.
    """
    check_start(start)
    return _Builder(size, seed, start, children, authority, directory).build()


class _Builder:
    """One generation run; every random draw comes from streams seeded by `seed`."""

    def __init__(
        self,
        size: Size,
        seed: int,
        start: date,
        children: int | None,
        authority: str,
        directory: PostcodeDirectory | None,
    ) -> None:
        self.seed = seed
        self.start = start
        self.as_of = start - timedelta(days=1)
        self.scale = scale_for(size, children)
        self.authority = authority
        self.pack = load_pack(authority)
        self.school_ages: tuple[int, int] = next(
            ((r.from_age_years, r.until_age_years) for r in self.pack.rules
             if isinstance(r, SchoolHoursRule)),
            (5, 16),
        )  # fmt: skip
        """School age as the pack's school-hours rule counts it (`_at_school`)."""
        self.calendar: WorkingCalendar = calendar_for(self.pack)
        self.directory = directory if directory is not None else PostcodeDirectory()
        self.district = district_for(authority)
        self._latlon: dict[str, tuple[float, float]] = {}
        self._packs: dict[Category, Pack] = {}
        self.working = self.calendar.working_days(
            self.as_of - timedelta(days=HISTORY_DAYS + MAX_SEED_DAYS + 14),
            self.start + timedelta(days=60),
        )

    def _category_pack(self, category: Category) -> Pack:
        """The pack cut down to one category's rules: same due dates, far fewer scope checks."""
        if category not in self._packs:
            self._packs[category] = category_pack(self.pack, category)
        return self._packs[category]

    def _rng(self, stream: str) -> Random:
        """A random stream per phase, so changing one phase leaves the others alone."""
        return Random(f"visitplan-generate:{self.seed}:{stream}")

    # --- geography, teams and workers ------------------------------------------------------
    def build(self) -> Scenario:
        """Every part of the scenario, in a fixed order."""
        self._place_teams()
        self._make_workers()
        self._make_groups()
        self._make_households()
        self._make_children()
        self._allocate()
        records = self._simulate_history()
        children = self._child_models()
        return Scenario(
            authority=Authority(id=self.authority, name=self.pack.name),
            as_of=self.as_of,
            teams=self.teams,
            workers=tuple(self._worker_model(w) for w in self.workers),
            households=tuple(self.households),
            children=children,
            absences=self._absences(),
            records=records,
        )

    def _place_teams(self) -> None:
        """Split the district into patches and give each team one, with an office in it.

        The district is cut into as many patches as it has teams of its own, or more when
        the size asks for more teams; a size with fewer teams takes a block of patches
        around the district's middle.
        """
        n = self.scale.teams
        points = residential_places(
            [
                (postcode, grid.easting, grid.northing)
                for postcode, grid in self.directory.in_district(
                    self.district.code, self.district.letters
                )
            ]
        )
        count = max(n, self.district.teams)
        self.patches = central_first(make_patches(points, count), points)[:n]
        self.nearest = NearestPostcode(points)
        teams = []
        for i, patch in enumerate(self.patches):
            others = sorted(
                (metres(patch.centre, other.centre), j)
                for j, other in enumerate(self.patches)
                if j != i
            )
            neighbours = tuple(_team_id(j) for _, j in others[:3])
            teams.append(Team(id=_team_id(i), name=f"Patch {i + 1}", neighbours=neighbours))
        self.teams = tuple(teams)

    def _latlon_of(self, point: Point) -> tuple[float, float]:
        """WGS84 latitude and longitude of a postcode's grid reference, once per postcode."""
        if point[0] not in self._latlon:
            self._latlon[point[0]] = grid_to_latlon(point[1], point[2])
        return self._latlon[point[0]]

    def _make_workers(self) -> None:
        rng = self._rng("workers")
        n_teams, n_workers = self.scale.teams, self.scale.workers
        self.workers: list[_Worker] = []
        self.team_workers: list[list[_Worker]] = [[] for _ in range(n_teams)]
        names = [(f, s) for f in FIRST_NAMES for s in LAST_NAMES]
        rng.shuffle(names)
        number = 0
        for team in range(n_teams):
            size = n_workers // n_teams + (1 if team < n_workers % n_teams else 0)
            fsw = max(0, round(FSW_SHARE * size)) if size > 3 else 0
            support: list[Role] = ["family-support-worker"] * fsw
            roles: list[Role] = ["manager", *support]
            social: list[Role] = ["social-worker"] * (size - len(roles))
            roles += social
            for k, role in enumerate(roles):
                number += 1
                first, last = names[(number - 1) % len(names)]
                days: tuple[Weekday, ...] = (0, 1, 2, 3, 4)
                if role != "manager" and rng.random() < PART_TIME_SHARE:
                    days = tuple(sorted(rng.sample(days, rng.choice((3, 4)))))
                hours = rng.random()
                # The team's last social worker works full time, and every LATE_EVERY-th
                # practitioner counted back from them works 10:00-18:00, so after-school
                # visits and late family windows can be planned. The draw above is made
                # for everyone, so the stream (and every later worker) does not depend on it.
                if role == "social-worker" and k == len(roles) - 1:
                    days = (0, 1, 2, 3, 4)
                if role != "manager" and (len(roles) - 1 - k) % LATE_EVERY == 0:
                    day_start, day_end = time(10), time(18)
                elif hours < 0.15:
                    day_start, day_end = time(8, 30), time(16, 30)
                else:
                    day_start, day_end = time(9), time(17)
                weight = {"manager": 0.3, "family-support-worker": 0.8}.get(role, 1.0)
                worker = _Worker(
                    id=f"w-{number:04d}",
                    name=f"{first} {last}",
                    role=role,
                    team=team,
                    days=days,
                    day_start=day_start,
                    day_end=day_end,
                    capacity=weight * len(days) / 5,
                )
                self.workers.append(worker)
                self.team_workers[team].append(worker)

    def _worker_model(self, w: _Worker) -> Worker:
        office = self.patches[w.team].office
        lat, lon = self._latlon_of(office)
        return Worker(
            id=w.id,
            name=w.name,
            role=w.role,
            team_id=_team_id(w.team),
            days=w.days,
            day_start=w.day_start,
            day_end=w.day_end,
            base_lat=lat,
            base_lon=lon,
            base_easting=office[1],
            base_northing=office[2],
        )

    # --- caseload --------------------------------------------------------------------------
    def _make_groups(self) -> None:
        rng = self._rng("groups")
        total = self.scale.children
        counts: list[tuple[Category, bool, int]] = []
        assigned = 0
        for label, share in CATEGORY_SHARES:
            count = round(total * share)
            count = min(count, total - assigned)
            assigned += count
            if label == "referral":
                counts.append(("child-in-need", True, count))
            else:
                counts.append((label, False, count))
        counts.append(("child-in-need", False, total - assigned))
        groups: list[_Group] = []
        for category, referral, count in counts:
            left = count
            while left > 0:
                if category == "child-in-care":
                    size = _weighted(rng, PLACEMENT_SIZES)
                elif category in ("care-leaver", "private-fostering"):
                    size = 1
                else:
                    size = _weighted(rng, FAMILY_SIZES)
                size = min(size, left)
                left -= size
                group = _Group(category=category, size=size, referral=referral)
                if category == "child-in-care":
                    group.placement = _weighted(rng, PLACEMENT_SHARES)
                groups.append(group)
        rng.shuffle(groups)
        # Balance children over teams in proportion to each team's case-holding capacity.
        capacity = [sum(w.capacity for w in team) for team in self.team_workers]
        load = [0] * self.scale.teams
        for group in groups:
            team = min(range(self.scale.teams), key=lambda t: ((load[t] + 1) / capacity[t], t))
            group.team = team
            load[team] += group.size
        # About 10% of CIN/CP children in shared care, whole sibling groups at a time.
        eligible = [
            g
            for g in groups
            if g.category in ("child-in-need", "child-protection") and not g.referral
        ]
        target = SHARED_CARE_SHARE * sum(g.size for g in eligible)
        shared = 0
        for group in eligible:
            if shared + group.size / 2 > target:
                continue
            group.shared_care = True
            shared += group.size
        self.groups = groups

    def _make_households(self) -> None:
        """Each group's home at a random postcode of its team's patch (two for shared care)."""
        rng = self._rng("households")
        self.households: list[Household] = []
        self.school_age: dict[str, bool] = {}
        number = 0
        for group in self.groups:
            points = [rng.choice(self.patches[group.team].postcodes)]
            if group.shared_care:
                points.append(self._second_home(rng, points[0]))
            for point in points:
                number += 1
                group.homes.append(f"h-{number:05d}")
                lat, lon = self._latlon_of(point)
                self.households.append(
                    Household(
                        id=group.homes[-1],
                        area=f"{outward(point[0])} patch {group.team + 1}",
                        lat=lat,
                        lon=lon,
                        team_id=_team_id(group.team),
                        joint_visit=rng.random() < JOINT_VISIT_SHARE,
                        postcode=pretty(point[0]),
                        easting=point[1],
                        northing=point[2],
                    )
                )
        self.household_index = {h.id: i for i, h in enumerate(self.households)}

    def _second_home(self, rng: Random, first: Point) -> Point:
        """A district postcode about 1-8 km from the first home (the other parent's home).

        A random distance and bearing, snapped to the nearest postcode; drawn again (at most
        ten times) when the snap lands nearer than 1 km or farther than 8 km, as it can by the
        coast or the district's edge.
        """
        low, high = SHARED_CARE_KM
        found = first
        for _ in range(10):
            distance = rng.uniform(low, high) * 1000
            bearing = rng.uniform(0, 2 * math.pi)
            found = self.nearest.nearest(
                first[1] + distance * math.sin(bearing), first[2] + distance * math.cos(bearing)
            )
            apart = metres((found[1], found[2]), (first[1], first[2]))
            if low * 1000 <= apart <= high * 1000:
                return found
        return found

    def _make_children(self) -> None:
        rng = self._rng("children")
        total = sum(g.size for g in self.groups)
        refs = rng.sample(range(100, 100 + 20 * total), total)
        number = 0
        self.case_refs: dict[str, str] = {}
        self.birth: dict[str, date] = {}
        self.events: dict[str, ChildEvents] = {}
        for group in self.groups:
            group_events = self._group_events(rng, group)
            for _ in range(group.size):
                number += 1
                child_id = f"c-{number:05d}"
                self.case_refs[child_id] = f"CR-{refs[number - 1]:06d}"
                age = self._age(rng, group)
                birth = self.as_of - timedelta(days=round(age * 365.25) + rng.randint(0, 364))
                self.birth[child_id] = birth
                self.events[child_id] = group_events
                group.child_ids.append(child_id)
                group.facts.append(
                    ChildFacts(
                        category=group.category,
                        placement_type=group.placement,
                        birth_date=birth,
                        events=group_events.as_policy_events(),
                        homes=tuple(group.homes),
                    )
                )
        # Windows depend on whether anyone at home is of school age (`_at_school`).
        for group in self.groups:
            school = self._at_school(group)
            for home in group.homes:
                if rng.random() < WINDOW_SHARE:
                    i = self.household_index[home]
                    self.households[i] = self.households[i].model_copy(
                        update={"windows": _family_windows(rng, school)}
                    )

    def _age(self, rng: Random, group: _Group) -> int:
        if group.category == "care-leaver":
            return rng.randint(18, 20)
        if group.category == "private-fostering":
            return rng.randint(10, 17)
        if group.placement == "adoption":
            return rng.randint(0, 5)
        if group.placement == "residential":
            return rng.randint(11, 17)
        if group.category == "child-in-care":
            # DfE CLA 2025 by age: under 1 5%, 1-4 13%, 5-9 18%, 10-15 38%, 16-17 26%.
            band = _weighted(rng, (((0, 0), 5), ((1, 4), 13), ((5, 9), 18), ((10, 15), 38),
                                   ((16, 17), 26)))  # fmt: skip
            return rng.randint(*band)
        if group.category == "child-protection":
            band = _weighted(rng, (((0, 4), 35), ((5, 9), 30), ((10, 15), 28), ((16, 17), 7)))
            return rng.randint(*band)
        return rng.randint(0, 17)

    def _group_events(self, rng: Random, group: _Group) -> ChildEvents:
        as_of = self.as_of
        if group.referral:
            return ChildEvents(referral=as_of - timedelta(days=rng.randint(1, 6)))
        if group.category == "child-protection":
            if rng.random() < 0.1:
                plan_start = as_of - timedelta(days=rng.randint(7, 40))
            else:
                plan_start = as_of - timedelta(days=rng.randint(40, 540))
            conference = plan_start
            review = plan_start + timedelta(days=91)
            while review <= as_of:
                conference = review
                review += timedelta(days=182)
            return ChildEvents(plan_start=plan_start, conference=conference)
        if group.category == "child-in-care":
            if rng.random() < RECENT_PLACEMENT_SHARE:
                placement = as_of - timedelta(days=rng.randint(1, 14))
            elif group.placement == "care-proceedings":
                placement = as_of - timedelta(days=rng.randint(15, 365))
            elif group.placement == "adoption":
                placement = as_of - timedelta(days=rng.randint(15, 240))
            elif group.placement == "long-term-foster":
                placement = as_of - timedelta(days=rng.randint(200, 3 * 365))
            else:
                placement = as_of - timedelta(days=rng.randint(15, 3 * 365))
            care_order = None
            if group.placement in ("long-term-foster", "placement-with-parents-care-order") or (
                group.placement in ("foster", "residential") and rng.random() < 0.5
            ):
                care_order = placement - timedelta(days=rng.randint(0, 120))
                if group.placement == "placement-with-parents-care-order":
                    care_order = placement
            return ChildEvents(placement_start=placement, care_order=care_order)
        if group.category == "private-fostering":
            return ChildEvents(notification=as_of - timedelta(days=rng.randint(15, 540)))
        if group.category == "care-leaver":
            return ChildEvents(plan_start=as_of - timedelta(days=rng.randint(30, 3 * 365)))
        if group.category == "early-help":
            return ChildEvents(plan_start=as_of - timedelta(days=rng.randint(15, 180)))
        return ChildEvents(plan_start=as_of - timedelta(days=rng.randint(15, 365)))

    def _allocate(self) -> None:
        """Each group to one worker of its team: the least loaded whose role may visit it."""
        order = {"child-protection": 0, "child-in-care": 1, "child-in-need": 3}
        for team in range(self.scale.teams):
            staff = self.team_workers[team]
            groups = [g for g in self.groups if g.team == team]
            groups.sort(key=lambda g: (order.get(g.category, 2), -g.size, g.child_ids[0]))
            for group in groups:
                roles = self._roles_for(group)
                group.roles = roles
                pool = [w for w in staff if w.role in roles] or staff
                if self._at_school(group):
                    late = [w for w in pool if w.day_end >= AFTER_SCHOOL_DAY_END]
                    pool = late or pool
                if group.category == "early-help":
                    fsw = [w for w in pool if w.role == "family-support-worker"]
                    pool = fsw or pool
                worker = min(pool, key=lambda w: ((w.load + group.size) / w.capacity, w.id))
                worker.load += group.size
                group.worker = worker

    def _at_school(self, group: _Group) -> bool:
        """Whether a child of the group is of school age as the pack's school-hours rule
        counts it (from the school year in which they turn 5 to the leaving date of the one
        in which they turn 16, in England), so seen at home after school in term time."""
        ages = self.school_ages
        return any(is_school_age(self.birth[c], self.as_of, *ages) for c in group.child_ids)

    def _roles_for(self, group: _Group) -> tuple[Role, ...]:
        """Roles that may hold the group's cases: the pack's who rules, and our policy."""
        roles: set[Role] = {"social-worker", "manager", "family-support-worker"}
        if group.category not in ("early-help", "child-in-need"):
            roles.discard("family-support-worker")
        for facts in group.facts:
            allowed = allowed_roles(self.pack, facts, self.as_of)
            if allowed is not None:
                roles &= set(allowed)
        return tuple(sorted(roles))

    def _child_models(self) -> tuple[Child, ...]:
        out: list[Child] = []
        for group in self.groups:
            assert group.worker is not None
            for child_id in group.child_ids:
                out.append(
                    Child(
                        id=child_id,
                        case_ref=self.case_refs[child_id],
                        birth_date=self.birth[child_id],
                        category=group.category,
                        placement_type=group.placement,
                        events=self.events[child_id],
                        household_ids=tuple(group.homes),
                        allocated_worker=group.worker.id,
                    )
                )
        return tuple(sorted(out, key=lambda c: c.id))

    def _absences(self) -> tuple[Absence, ...]:
        rng = self._rng("absences")
        first = bisect_left(self.working, self.start)
        fortnight = [d for d in self.working[first:] if d < self.start + timedelta(days=14)]
        out: list[Absence] = []
        count = max(1, round(ABSENT_SHARE * len(self.workers)))
        for worker in sorted(rng.sample(self.workers, count), key=lambda w: w.id):
            begin = rng.choice(fortnight)
            length = rng.randint(1, 5)
            end = self.calendar.add_working_days(begin, length - 1)
            out.append(Absence(worker_id=worker.id, start=begin, end=end, reason="annual leave"))
        return tuple(out)

    # --- visit history ---------------------------------------------------------------------
    def _simulate_history(self) -> tuple[VisitRecord, ...]:
        rng = self._rng("history")
        self.records: list[VisitRecord] = []
        self._record_no = 0
        targets: dict[int, date] = {}
        for index, group in enumerate(self.groups):
            if group.referral:
                continue
            target = self._simulate_group(rng, group)
            if target is not None:
                targets[index] = target
        self._make_some_overdue(targets)
        return tuple(self.records)

    def _dues(
        self, group: _Group, contacts: list[list[Contact]], on: date
    ) -> tuple[date, list[Due]]:
        """The group's earliest deadline after the contacts so far, and every due."""
        pack = self._category_pack(group.category)
        dues: list[Due] = []
        earliest: date | None = None
        for facts, seen in zip(group.facts, contacts, strict=True):
            own = due_dates(pack, facts, seen, self.calendar, on)
            dues.extend(own)
            if own:
                candidate = own[0].due
            else:
                last = max((c.on for c in seen if c.outcome == "completed"), default=None)
                anchor = last or _event_start(facts)
                candidate = add_period(anchor, NOMINAL_CADENCE[group.category], self.calendar)
            earliest = candidate if earliest is None else min(earliest, candidate)
        assert earliest is not None
        return earliest, dues

    def _simulate_group(self, rng: Random, group: _Group) -> date | None:
        """Visits from the seed visit to `as_of`; returns the first deadline not yet met."""
        contacts: list[list[Contact]] = [[] for _ in group.child_ids]
        event = min(_event_start(f) for f in group.facts)
        window_start = self.as_of - timedelta(days=HISTORY_DAYS)
        cursor = event - timedelta(days=1)
        if event < window_start:
            # A seed visit at a random phase of the child's rhythm before the window opens.
            probe = [
                [Contact(on=window_start, announced=False, home_id=h) for h in group.homes]
                for _ in group.child_ids
            ]
            due, _ = self._dues(group, probe, window_start)
            cadence = min(MAX_SEED_DAYS, max(1, (due - window_start).days))
            seed_day = self._working_on_or_before(
                window_start - timedelta(days=rng.randint(0, cadence - 1))
            )
            if seed_day < event:
                seed_day = self.working[bisect_left(self.working, event)]
            self._visit(rng, group, contacts, seed_day, due, [], seed=True)
            cursor = seed_day
        while True:
            due, dues = self._dues(group, contacts, max(cursor, event))
            day = self._pick_day(rng, group, cursor, due)
            if day > self.as_of:
                return due
            self._visit(rng, group, contacts, day, due, dues)
            cursor = day

    def _pick_day(self, rng: Random, group: _Group, cursor: date, due: date) -> date:
        """A working day after `cursor`, at or a little before `due` (occasionally late)."""
        lo = bisect_left(self.working, cursor + timedelta(days=1))
        if due <= cursor or self.working[lo] > due:
            return self.working[lo]
        hi = bisect_left(self.working, due + timedelta(days=1))
        if due < self.as_of - timedelta(days=10) and rng.random() < LATE_SHARE:
            return self.working[hi + rng.randint(0, 2)]
        candidates = self.working[lo:hi]
        assert group.worker is not None
        days = group.worker.days
        preferred = [d for d in candidates if d.weekday() in days] or candidates
        back = min(len(preferred) - 1, _weighted(rng, ((0, 35), (1, 25), (2, 18), (3, 12),
                                                        (4, 6), (5, 4))))  # fmt: skip
        return preferred[len(preferred) - 1 - back]

    def _working_on_or_before(self, day: date) -> date:
        i = bisect_left(self.working, day + timedelta(days=1))
        return self.working[i - 1]

    def _visit(
        self,
        rng: Random,
        group: _Group,
        contacts: list[list[Contact]],
        day: date,
        served: date,
        dues: list[Due],
        seed: bool = False,
    ) -> None:
        """Record one household visit covering every child of the group."""
        unannounced_due = any(
            d.clock == "unannounced" and d.due <= day + timedelta(days=21) for d in dues
        )
        home_due = any(
            d.clock in ("home", "each_home", "unannounced") and d.due <= day + timedelta(days=10)
            for d in dues
        )
        avoid = next((d.avoid_part_of_day for d in dues if d.avoid_part_of_day), None)
        at_home = seed or home_due or rng.random() >= AWAY_FROM_HOME_SHARE
        home = group.homes[0]
        if len(group.homes) > 1:
            each = sorted(
                (d.due, d.home_id or "") for d in dues if d.clock == "each_home" and d.home_id
            )
            home = each[0][1] if each else group.homes[len(group.visits) % 2]
        if unannounced_due or (seed and group.category == "child-protection"):
            announced = False
        elif group.category == "child-protection":
            announced = rng.random() >= CP_UNANNOUNCED_SHARE
        else:
            announced = rng.random() >= 0.02
        announced = announced or not at_home
        failed = not seed and rng.random() < FAILED_SHARE
        worker = self._visiting_worker(rng, group, day)
        start = self._start_time(rng, group, worker, avoid)
        pack = self._category_pack(group.category)
        ids: list[str] = []
        for child_id, facts, seen in zip(group.child_ids, group.facts, contacts, strict=True):
            items = () if failed else checklist(pack, facts, seen, day)
            age = (day - self.birth[child_id]).days // 365
            seen_alone = not failed and rng.random() < (
                0.92 if "seen-alone" in items else 0.6 if age >= 5 else 0.0
            )
            bedroom = (
                not failed and at_home and rng.random() < (0.9 if "bedroom" in items else 0.35)
            )
            awake = not failed and rng.random() < (
                0.9 if "seen-awake" in items else 0.5 if age < 3 else 0.0
            )
            self._record_no += 1
            record = VisitRecord(
                id=f"r-{self._record_no:07d}",
                child_id=child_id,
                household_id=home if at_home else None,
                on=day,
                start=start,
                worker_id=worker.id,
                outcome="failed" if failed else "completed",
                at_home=at_home,
                announced=announced,
                seen_alone=seen_alone,
                bedroom_seen=bedroom,
                seen_awake=awake,
            )
            self.records.append(record)
            ids.append(record.id)
            seen.append(record.contact(worker.role))
        group.visits.append((day, served))
        group.record_ids.append(ids)

    def _visiting_worker(self, rng: Random, group: _Group, day: date) -> _Worker:
        """The allocated worker, or a colleague allowed to visit when they do not work that day."""
        assert group.worker is not None
        if day.weekday() in group.worker.days and rng.random() < 0.92:
            return group.worker
        cover = [
            w
            for w in self.team_workers[group.team]
            if w.role in group.roles and day.weekday() in w.days and w is not group.worker
        ]
        return rng.choice(cover) if cover else group.worker

    def _start_time(self, rng: Random, group: _Group, worker: _Worker, avoid: str | None) -> time:
        """A quarter-hour start in the worker's day, away from a failed attempt's part of day."""
        first = _minutes(worker.day_start) + 30
        last = _minutes(worker.day_end) - 75
        after_school = _minutes(time(15, 30))
        school = self._at_school(group)
        if avoid == "morning":
            first = max(first, 12 * 60)
        elif avoid == "afternoon":
            last = min(last, 12 * 60 - 15)
        elif school and last >= after_school and rng.random() < 0.6:
            first = after_school
        first = min(first, last)
        slots = list(range(first - first % 15 + (15 if first % 15 else 0), last + 1, 15))
        return _clock(rng.choice(slots) if slots else first)

    def _make_some_overdue(self, targets: dict[int, date]) -> None:
        """Drop the latest visit of some groups so ~4% of children are overdue at `as_of`."""
        rng = self._rng("overdue")
        total = sum(g.size for g in self.groups)
        overdue = sum(self.groups[i].size for i, due in targets.items() if due < self.as_of)
        wanted = round(OVERDUE_SHARE * total)
        recent = self.as_of - timedelta(days=21)
        # Overdue by 1-10 days: the slipped visit's deadline fell in the last 10 days.
        recent_due = self.as_of - timedelta(days=10)
        candidates = [
            i
            for i in sorted(targets)
            if targets[i] >= self.as_of
            and self.groups[i].visits
            and recent <= self.groups[i].visits[-1][0]
            and recent_due <= self.groups[i].visits[-1][1] < self.as_of
        ]
        rng.shuffle(candidates)
        dropped: set[str] = set()
        for i in candidates:
            if overdue >= wanted:
                break
            group = self.groups[i]
            if overdue + group.size > wanted + 1:
                continue
            dropped.update(group.record_ids[-1])
            group.visits.pop()
            group.record_ids.pop()
            overdue += group.size
        if dropped:
            self.records = [r for r in self.records if r.id not in dropped]


def _family_windows(rng: Random, school_age: bool) -> tuple[FamilyWindow, ...]:
    """A family's weekly availability, wide enough for a visit inside some worker's day."""
    patterns: tuple[tuple[tuple[Weekday, ...], time, time], ...]
    if school_age:
        patterns = (((1, 3), time(15, 30), time(18)), ((0, 2, 4), time(15), time(18)),
                    ((0, 1, 2, 3, 4), time(13), time(18)))  # fmt: skip
    else:
        patterns = (((0, 2, 4), time(9, 30), time(13)), ((1, 3), time(10), time(15)),
                    ((0, 1, 2, 3), time(12), time(16, 30)))  # fmt: skip
    days, start, end = rng.choice(patterns)
    return tuple(FamilyWindow(weekday=d, start=start, end=end) for d in days)


def _event_start(facts: ChildFacts) -> date:
    """When the child's current episode started: the clock's anchor event."""
    for event in ("placement-start", "plan-start", "notification", "referral"):
        if event in facts.events:
            return facts.events[event]
    raise ValueError("child has no starting event")


def _team_id(index: int) -> str:
    return f"team-{index + 1:02d}"


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _clock(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)
