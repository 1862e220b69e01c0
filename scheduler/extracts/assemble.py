"""Drafts from an extract -> a Scenario: homes placed by postcode, teams and workers matched.

Rule: pure apart from the postcode directory it is given. Teams and workers are matched to
the stored caseload (`base`) by id, then by name; whatever is new is created and named in a
warning that says what to fill in. Manager-entered household details (family windows, joint
visits) and staff settings already in the store are kept.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from policies import Pack, due_dates, load_pack
from scheduler.domain import Authority, Child, Household, Scenario, Team, VisitRecord, Worker
from scheduler.due import calendar_for, category_pack
from scheduler.extracts.cells import Problems
from scheduler.extracts.drafts import ChildDraft, HomeDraft, RecordDraft, TeamDraft, WorkerDraft
from scheduler.grid import GB_EASTING, GB_NORTHING, grid_to_latlon
from scheduler.postcodes import GridRef, PostcodeDirectory, outward, pretty

VisitPlace = Literal["home", "unknown"]
UNALLOCATED = TeamDraft("unallocated", "Unallocated")


@dataclass(frozen=True)
class Assembled:
    """The scenario an extract describes, what the import had to assume, and its warnings."""

    scenario: Scenario
    warnings: tuple[str, ...]
    assumed_home: frozenset[str]
    """Ids of records whose place the extract does not give, taken as at home."""


def assemble(
    authority_id: str,
    as_of: date,
    drafts: Sequence[ChildDraft],
    records: Sequence[RecordDraft],
    *,
    base: Scenario | None,
    directory: PostcodeDirectory,
    visit_place: VisitPlace,
    problems: Problems,
) -> Assembled | None:
    """The scenario, or None when placing the homes found problems (recorded in `problems`)."""
    builder = _Builder(base, directory, problems)
    homes = {d.id: builder.place_homes(d) for d in sorted(drafts, key=lambda d: d.id)}
    if problems.items:
        return None
    teams = builder.teams(drafts)
    households = builder.households(drafts, homes)
    workers = builder.workers(drafts, households)
    children = tuple(
        Child(
            id=d.id,
            case_ref=d.id,
            name=d.name,
            birth_date=d.birth_date,
            category=d.category,
            placement_type=d.placement_type,
            events=d.events,
            household_ids=tuple(homes[d.id]),
            allocated_worker=builder.worker_ids.get(d.worker.id) if d.worker else None,
        )
        for d in sorted(drafts, key=lambda d: d.id)
    )
    new_records, assumed = _records(records, homes, as_of, visit_place)
    open_ids = {c.id for c in children}
    new_ids = {r.id for r in new_records}
    kept = [
        r
        for r in (base.records if base else ())
        if r.child_id in open_ids
        and r.id not in new_ids
        and r.household_id in (None, *homes[r.child_id])
    ]
    authority = (
        base.authority
        if base is not None and base.authority.id == authority_id
        else Authority(id=authority_id)
    )
    scenario = Scenario(
        authority=authority,
        as_of=as_of,
        teams=teams,
        workers=workers,
        households=households,
        children=children,
        absences=base.absences if base else (),
        busy=base.busy if base else (),
        records=tuple(sorted((*kept, *new_records), key=lambda r: (r.child_id, r.on, r.id))),
    )
    return Assembled(scenario, tuple(builder.warnings), frozenset(assumed))


def _records(
    records: Sequence[RecordDraft],
    homes: dict[str, list[str]],
    as_of: date,
    visit_place: VisitPlace,
) -> tuple[list[VisitRecord], set[str]]:
    """Visit records of open children up to the as-of date, one per (child, date, id)."""
    out: dict[tuple[str, date, str], VisitRecord] = {}
    assumed: set[str] = set()
    for draft in records:
        if draft.child_id not in homes or draft.on > as_of:
            continue
        at_home = visit_place == "home" or not draft.place_assumed
        record = VisitRecord(
            id=draft.id,
            child_id=draft.child_id,
            household_id=homes[draft.child_id][0] if at_home else None,
            on=draft.on,
            outcome="completed" if draft.seen else "not-seen",
            at_home=at_home,
            seen_alone=draft.seen and draft.seen_alone,
            bedroom_seen=draft.seen and draft.bedroom_seen,
        )
        key = (draft.child_id, draft.on, draft.id)
        if key not in out:
            out[key] = record
            if at_home and draft.place_assumed:
                assumed.add(draft.id)
    return list(out.values()), assumed


class _Builder:
    """One assembly: the stored caseload to match against, and what was created."""

    def __init__(self, base: Scenario | None, directory: PostcodeDirectory, problems: Problems):
        self.base = base
        self.directory = directory
        self.problems = problems
        self.warnings: list[str] = []
        self.places: dict[str, tuple[HomeDraft, GridRef]] = {}
        self.team_ids: dict[str, str] = {}
        self.worker_ids: dict[str, str] = {}

    def place_homes(self, draft: ChildDraft) -> list[str]:
        """The child's household ids (at most two), each placed on the grid, or problems."""
        ids: list[str] = []
        for home in draft.homes[:2]:
            grid = self._locate(home)
            if grid is None:
                continue
            if home.household_id not in self.places:
                self.places[home.household_id] = (home, grid)
            if home.household_id not in ids:
                ids.append(home.household_id)
        if not draft.homes:
            self.problems.add(
                draft.where, "postcode", "a current home or placement postcode", "none"
            )
        return ids

    def _locate(self, home: HomeDraft) -> GridRef | None:
        if home.easting is not None and home.northing is not None:
            if GB_EASTING[0] <= home.easting <= GB_EASTING[1] and (
                GB_NORTHING[0] <= home.northing <= GB_NORTHING[1]
            ):
                return GridRef(home.easting, home.northing, "")
            self.problems.add(
                home.where, home.field, "an easting and northing on the British National Grid",
                "numbers outside Great Britain",
            )  # fmt: skip
            return None
        if not home.postcode:
            self.problems.add(home.where, home.field, "a postcode", "nothing")
            return None
        found = self.directory.locate(home.postcode)
        if isinstance(found, GridRef):
            return found
        self.problems.add(home.where, home.field, found.expected, found.got(home.postcode))
        return None

    def teams(self, drafts: Sequence[ChildDraft]) -> tuple[Team, ...]:
        """The stored teams plus the extract's new ones (matched by id, then by name)."""
        stored = list(self.base.teams if self.base else ())
        by_id = {t.id: t for t in stored}
        by_name = {t.name.casefold(): t for t in stored}
        new: list[Team] = []
        wanted = {(d.team or UNALLOCATED) for d in drafts}
        for draft in sorted(wanted, key=lambda t: t.id):
            match = by_id.get(draft.id) or by_name.get(draft.name.casefold())
            if match is None:
                match = Team(id=draft.id, name=draft.name)
                new.append(match)
                by_id[match.id] = match
                self.warnings.append(
                    f"Team {draft.name!r} is new: created as {match.id}. Set which teams may "
                    "cover it (neighbours) if the authority allows cross-team cover."
                )
            self.team_ids[draft.id] = match.id
        return tuple(stored + new)

    def households(
        self, drafts: Sequence[ChildDraft], homes: dict[str, list[str]]
    ) -> tuple[Household, ...]:
        """Each placed home once, in the team of its first child (by id)."""
        team_of: dict[str, str] = {}
        for draft in sorted(drafts, key=lambda d: d.id):
            for home_id in homes[draft.id]:
                team_of.setdefault(home_id, self.team_ids[(draft.team or UNALLOCATED).id])
        stored = {h.id: h for h in (self.base.households if self.base else ())}
        out: list[Household] = []
        for home_id in sorted(self.places):
            home, grid = self.places[home_id]
            lat, lon = grid_to_latlon(grid.easting, grid.northing)
            address = ", ".join(part for part in (home.house, home.street) if part) or None
            fields: dict[str, Any] = {
                "id": home_id,
                "area": outward(home.postcode) or "unknown area",
                "address": address,
                "postcode": pretty(home.postcode) if home.postcode else None,
                "uprn": home.uprn or None,
                "easting": grid.easting,
                "northing": grid.northing,
                "lat": lat,
                "lon": lon,
                "team_id": team_of[home_id],
            }
            old = stored.get(home_id)
            out.append(old.model_copy(update=fields) if old else Household(**fields))
        return tuple(out)

    def workers(
        self, drafts: Sequence[ChildDraft], households: tuple[Household, ...]
    ) -> tuple[Worker, ...]:
        """The stored workers plus the extract's new ones, based at their team's middle."""
        stored = list(self.base.workers if self.base else ())
        by_id = {w.id: w for w in stored}
        by_name = {w.name.casefold(): w for w in stored}
        first_team: dict[str, str] = {}
        drafts_by_id: dict[str, WorkerDraft] = {}
        for draft in sorted(drafts, key=lambda d: d.id):
            if draft.worker is not None:
                drafts_by_id.setdefault(draft.worker.id, draft.worker)
                first_team.setdefault(
                    draft.worker.id, self.team_ids[(draft.team or UNALLOCATED).id]
                )
        middles = _team_middles(households)
        new: list[Worker] = []
        unknown_roles = 0
        for key in sorted(drafts_by_id):
            named = drafts_by_id[key]
            match = by_id.get(named.id) or by_name.get(named.name.casefold())
            if match is None:
                team = first_team[key]
                easting, northing = middles.get(team) or middles[""]
                lat, lon = grid_to_latlon(easting, northing)
                match = Worker(
                    id=named.id,
                    name=named.name,
                    role=named.role or "social-worker",
                    team_id=team,
                    base_lat=lat,
                    base_lon=lon,
                    base_easting=easting,
                    base_northing=northing,
                )
                unknown_roles += named.role is None
                new.append(match)
                by_id[match.id] = match
            self.worker_ids[key] = match.id
        if new:
            self.warnings.append(
                f"{len(new)} worker(s) are new and were created with Monday-Friday 09:00-17:00 "
                "and a base at the middle of their team's homes: set each one's days, hours and "
                "base office with `visitplan workers edit` (school-age children are seen after "
                "school, so a day ending at 17:00 leaves time for about one such visit)"
                + (
                    f"; {unknown_roles} of them have no role in the extract and were taken as "
                    "registered social workers: correct any who are not."
                    if unknown_roles
                    else "."
                )
            )
        return tuple(stored + new)


def _team_middles(households: Sequence[Household]) -> dict[str, tuple[float, float]]:
    """The median grid point of each team's homes; '' for all homes."""
    points: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for home in households:
        if home.easting is None or home.northing is None:
            continue
        points[home.team_id or ""].append((home.easting, home.northing))
        if home.team_id:
            points[""].append((home.easting, home.northing))
    return {
        team: (
            round(statistics.median(p[0] for p in pts)),
            round(statistics.median(p[1] for p in pts)),
        )
        for team, pts in points.items()
    }


def clocks_resting_on_home(scenario: Scenario, assumed_home: frozenset[str]) -> int:
    """How many at-home clocks last restarted on a visit whose place the extract did not give.

    The due engine's own dates, computed only for children with such a visit, through the pack
    cut down to each child's category (the same dates, far fewer scope checks).
    """
    if not assumed_home:
        return 0
    pack = load_pack(scenario.authority.id)
    calendar = calendar_for(pack)
    roles = {w.id: w.role for w in scenario.workers}
    records: dict[str, list[VisitRecord]] = defaultdict(list)
    assumed_days: dict[str, set[date]] = defaultdict(set)
    for record in scenario.records:
        if record.on <= scenario.as_of:
            records[record.child_id].append(record)
        if record.id in assumed_home:
            assumed_days[record.child_id].add(record.on)
    packs: dict[str, Pack] = {}
    count = 0
    for child in scenario.children:
        days = assumed_days.get(child.id)
        if not days:
            continue
        if child.category not in packs:
            packs[child.category] = category_pack(pack, child.category)
        # One child's contacts at a time: a six-year history is never held twice.
        contacts = [
            r.contact(roles.get(r.worker_id) if r.worker_id else None) for r in records[child.id]
        ]
        dues = due_dates(packs[child.category], child.facts(), contacts, calendar, scenario.as_of)
        count += sum(1 for d in dues if d.clock in ("home", "each_home") and d.last in days)
    return count
