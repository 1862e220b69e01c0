"""Team-group input fingerprints: what a re-plan may keep from the published plan untranslated.

Rule: a fingerprint is the sha256 of everything one team group's plan is made from; equal
fingerprints mean the group would be planned from the same inputs (docs/replanning.md).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from importlib.metadata import version

from pydantic import BaseModel

from policies import Pack
from scheduler.domain import (
    Absence,
    BusyTime,
    Child,
    HouseholdId,
    Plan,
    Scenario,
    TeamId,
    Visit,
    VisitRecord,
    Worker,
)
from scheduler.outcomes import records_as_planned
from scheduler.replan import weeks_to_cover
from scheduler.translate import households_by_group, team_groups

FINGERPRINT_VERSION = 3
"""Changed whenever what `team_inputs` hashes changes, so older fingerprints never match."""


def group_key(teams: tuple[TeamId, ...]) -> str:
    """A team group's key in `Plan.team_inputs` (its team ids joined by '+')."""
    return "+".join(teams)


def _canonical(value: object) -> str:
    """Canonical JSON: sorted keys, no spaces (stable across runs and machines)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _json_list(models: Iterable[BaseModel]) -> str:
    """A JSON array of models as pydantic writes them (fields in declaration order)."""
    return "[" + ",".join(m.model_dump_json() for m in models) + "]"


def _record_json(record: VisitRecord) -> str:
    """A record as the plan reads it: everything but its id (a visit recorded as made and the
    same visit assumed made are the same input)."""
    return record.model_dump_json(exclude={"id"})


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _pin(visit: Visit) -> dict[str, object]:
    """What a pin fixes (not the visit's id, checklist or reasons, which a plan rewrites)."""
    return {
        "household": visit.household_id,
        "start": visit.start.isoformat(),
        "minutes": visit.duration_min,
        "worker": visit.worker_id,
        "second": visit.second_worker_id,
        "announced": visit.announced,
    }


def team_inputs(
    scenario: Scenario,
    pack: Pack,
    start: date,
    weeks: int,
    lookahead_weeks: int,
    pins: Iterable[Visit] = (),
    days: int | None = None,
) -> dict[str, str]:
    """Each team group's input fingerprint: the sha256 of a JSON document of all it is
    planned from (key: `group_key`), laid out the same way every time.

    Hashed, conservatively: the fingerprint format version; start, weeks, the horizon in days
    (`days`, default `7 * weeks`) and look-ahead; the
    whole resolved pack (rules, nation, closure days) and the bank-holiday library's version;
    the whole authority; the group's teams, workers, their absences and busy times; the
    group's households, every child living in one (all fields) and those children's other
    homes; the children's records (whoever made them) and the roles of the workers who did;
    the pinned published visits (`pins`) to the group's households, which the plan keeps.
    Solver parameters are not hashed: a re-plan keeps an unchanged group without solving
    whatever they are. Order is deterministic: lists by id (absences and busy times in
    scenario order, per worker), each model as pydantic writes it, the rest with sorted keys.
    """
    groups = team_groups(scenario)
    common = _sha256(
        _canonical(
            {
                "version": FINGERPRINT_VERSION,
                "start": start.isoformat(),
                "weeks": weeks,
                "days": 7 * weeks if days is None else days,
                "lookahead_weeks": lookahead_weeks,
                "pack": pack.model_dump(mode="json"),
                "holidays": version("holidays"),
                "schema_version": scenario.schema_version,
                "authority": scenario.authority.model_dump(mode="json"),
            }
        )
    )
    team_by_id = {t.id: t for t in scenario.teams}
    home_by_id = {h.id: h for h in scenario.households}
    role_of = {w.id: w.role for w in scenario.workers}
    workers_of: dict[str, list[Worker]] = defaultdict(list)
    for w in scenario.workers:
        workers_of[w.team_id].append(w)
    kids_of: dict[str, list[Child]] = defaultdict(list)
    for child in scenario.children:
        for home in child.household_ids:
            kids_of[home].append(child)
    records_of: dict[str, list[VisitRecord]] = defaultdict(list)
    for record in scenario.records:
        records_of[record.child_id].append(record)
    absences_of: dict[str, list[Absence]] = defaultdict(list)
    for absence in scenario.absences:
        absences_of[absence.worker_id].append(absence)
    busy_of: dict[str, list[BusyTime]] = defaultdict(list)
    for busy in scenario.busy:
        busy_of[busy.worker_id].append(busy)
    households_of = households_by_group(scenario, groups)
    pins_of: dict[str, list[Visit]] = defaultdict(list)
    for visit in sorted(pins, key=lambda v: (v.start, v.household_id)):
        pins_of[visit.household_id].append(visit)
    out: dict[str, str] = {}
    for teams in groups:
        own = households_of[teams]
        children = sorted(
            {c.id: c for h in own for c in kids_of[h.id]}.values(), key=lambda c: c.id
        )
        homes = {h.id: h for h in own} | {
            home: home_by_id[home] for c in children for home in c.household_ids
        }
        workers = sorted((w for t in teams for w in workers_of[t]), key=lambda w: w.id)
        records = [r for c in children for r in records_of[c.id]]
        roles = {r.worker_id: role_of.get(r.worker_id) for r in records if r.worker_id}
        parts = {
            "common": json.dumps(common),
            "teams": _json_list(team_by_id[t] for t in teams),
            "workers": _json_list(workers),
            "absences": _json_list(a for w in workers for a in absences_of[w.id]),
            "busy": _json_list(b for w in workers for b in busy_of[w.id]),
            "households": _json_list(homes[h] for h in sorted(homes)),
            "children": _json_list(children),
            "records": "[" + ",".join(sorted(_record_json(r) for r in records)) + "]",
            "record_roles": _canonical(roles),
            "pins": _canonical([_pin(v) for h in sorted(homes) for v in pins_of[h]]),
        }
        document = "{" + ",".join(f'"{k}":{v}' for k, v in parts.items()) + "}"
        out[group_key(teams)] = _sha256(document)
    return out


def plan_inputs(scenario: Scenario, pack: Pack, plan: Plan, lookahead_weeks: int) -> dict[str, str]:
    """The fingerprints of `scenario` taken as `plan_scenario` takes them for `plan`: its
    start, its length in days (and the whole weeks that cover it), `lookahead_weeks` and its
    pinned planned visits from its start."""
    pins = [v for v in plan.visits if v.pinned and v.day >= plan.start and v.status == "planned"]
    days = (plan.end - plan.start).days + 1
    weeks = weeks_to_cover(plan.start, plan.end)
    return team_inputs(scenario, pack, plan.start, weeks, lookahead_weeks, pins, days)


def as_made(
    scenario: Scenario, published: Plan, start: date
) -> tuple[Scenario, frozenset[HouseholdId]]:
    """The scenario as `published` was made from, for a re-plan from `start` (after its first
    day): the records of its visits before `start` that were made as planned are taken out.

    "Made as planned" is what `record --completed` writes, or what a re-plan assumes for a
    visit with no outcome yet: every child's record equal to `records_as_planned` but for its
    id. Also returns the households of the visits before `start` that were not (cancelled,
    not yet recorded when the re-plan assumes them missed, or recorded otherwise): their
    groups are changed whatever their fingerprint says.
    """
    children = {c.id: c for c in scenario.children}
    roles = {w.id: w.role for w in scenario.workers}
    earlier = {v.id: v for v in published.visits if published.start <= v.day < start}
    recorded: dict[str, list[VisitRecord]] = defaultdict(list)
    for record in scenario.records:
        if record.visit_id in earlier:
            recorded[record.visit_id].append(record)
    taken: set[str] = set()
    unplayed: set[HouseholdId] = set()
    for visit in earlier.values():
        expected = sorted(
            _record_json(r)
            for r in records_as_planned(visit, children, roles)
            if r.child_id in children
        )
        found = recorded[visit.id]
        if visit.status != "planned" or sorted(_record_json(r) for r in found) != expected:
            unplayed.add(visit.household_id)
        else:
            taken.update(r.id for r in found)
    records = tuple(r for r in scenario.records if r.id not in taken)
    return scenario.model_copy(update={"records": records}), frozenset(unplayed)
