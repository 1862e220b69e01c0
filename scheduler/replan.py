"""Re-planning after absences, failed visits and new children, with the least disruption.

Visits before the re-plan date stay as they are, each in its state (a recorded outcome, or
awaiting outcome); awaiting visits are assumed made as planned unless the manager says they
were missed. From that date the planner is asked to keep every published visit where it is and
move only what it must. Visits keep their id (and so their calendar UID) across a move.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from policies import Role
from scheduler.domain import (
    Absence,
    Breach,
    BusyTime,
    DomainModel,
    Plan,
    Scenario,
    Visit,
    VisitRecord,
    VisitStatus,
)
from scheduler.outcomes import (
    FINAL_STATES,
    assume_made,
    awaiting,
    by_visit,
    children_resting_on,
    visit_state,
)
from scheduler.reports import rule_titles

if TYPE_CHECKING:
    from solver import SolveParams

ChangeKind = Literal["added", "moved", "reassigned", "removed", "changed"]


class VisitChange(DomainModel):
    """One difference between the published plan and the proposed one."""

    kind: ChangeKind = Field(
        description="added, moved (time or day), reassigned, removed, or changed (announced "
        "or unannounced, same worker and time)."
    )
    visit_id: str = Field(description="The visit (same id before and after a move).")
    household_id: str = Field(description="The household visited.")
    child_ids: tuple[str, ...] = Field(description="Children the visit covers.")
    worker_before: str | None = Field(default=None, description="Worker before the change.")
    worker_after: str | None = Field(default=None, description="Worker after the change.")
    second_worker_before: str | None = Field(
        default=None, description="Second worker of a joint visit before the change."
    )
    second_worker_after: str | None = Field(
        default=None, description="Second worker of a joint visit after the change."
    )
    start_before: str | None = Field(default=None, description="ISO start before.")
    start_after: str | None = Field(default=None, description="ISO start after.")
    announced_before: bool | None = Field(default=None, description="Announced before.")
    announced_after: bool | None = Field(default=None, description="Announced after.")
    forced: bool = Field(
        description="True when the change had to happen (worker away, left or committed)."
    )
    reason: str = Field(description="Why, in a manager's words.")


class ReplanReport(DomainModel):
    """A proposed re-plan: the new plan, every change and the children now at risk."""

    from_date: date
    plan: Plan
    changes: tuple[VisitChange, ...] = ()
    forced_changes: int = Field(default=0, description="Changes that had to happen.")
    other_changes: int = Field(default=0, description="Changes made to avoid a breach.")
    affected_visits: int = Field(
        default=0,
        description="Published visits whose worker is away, has left or has a commitment then.",
    )
    at_risk: tuple[Breach, ...] = Field(default=(), description="New or worse breaches.")
    awaiting_visits: int = Field(
        default=0, description="Visits before the re-plan date with no recorded outcome."
    )
    assume_missed: bool = Field(
        default=False, description="Awaiting visits were planned as missed, not as made."
    )
    resting_on_assumption: tuple[str, ...] = Field(
        default=(),
        description="Case references of children whose clocks rest on an awaiting visit "
        "(made, unless --assume-missed).",
    )
    assumed_scenario_records: int = Field(
        default=0, description="Records assumed for the awaiting visits (not stored)."
    )
    before_now: tuple[str, ...] = Field(
        default=(),
        description="Visits this re-plan adds, moves or reassigns to a time already past when "
        "it was made (earlier today): they cannot be made as planned.",
    )

    def assumption_line(self) -> str | None:
        """The one line that says what the re-plan assumed about awaiting visits."""
        if not self.awaiting_visits:
            return None
        day = f"{self.from_date:%a} {self.from_date.day} {self.from_date:%b}"
        if self.assume_missed:
            return (
                f"{self.awaiting_visits} visits before {day} have no recorded outcome; "
                "planned as missed (--assume-missed) - record the ones that were made with "
                "`visitplan record`"
            )
        return (
            f"{self.awaiting_visits} visits before {day} have no recorded outcome; planned as "
            "if made - record failures with `visitplan record`"
        )


def carry_ids(
    old: Sequence[Visit], new: Sequence[Visit], reserved: Iterable[str] = ()
) -> tuple[Visit, ...]:
    """New visits inherit the id of the old visit to the same household nearest in time.

    Pairs are made per household, closest first, so a moved visit keeps its calendar UID.
    Unpaired new visits keep their own id (made unique against the inherited ones and the
    `reserved` ones, e.g. visits kept from before the re-plan date).
    """
    by_home_old: dict[str, list[Visit]] = defaultdict(list)
    for visit in old:
        by_home_old[visit.household_id].append(visit)
    by_home_new: dict[str, list[Visit]] = defaultdict(list)
    for visit in new:
        by_home_new[visit.household_id].append(visit)
    renamed: dict[int, str] = {}
    for home, fresh in by_home_new.items():
        candidates = by_home_old.get(home, [])
        pairs = sorted(
            (abs((n.start - o.start).total_seconds()), i, j)
            for i, n in enumerate(fresh)
            for j, o in enumerate(candidates)
        )
        used_new: set[int] = set()
        used_old: set[int] = set()
        for _, i, j in pairs:
            if i in used_new or j in used_old:
                continue
            used_new.add(i)
            used_old.add(j)
            renamed[id(fresh[i])] = candidates[j].id
    taken = set(renamed.values()) | set(reserved)
    out: list[Visit] = []
    for visit in new:
        new_id = renamed.get(id(visit))
        if new_id is None:
            new_id, n = visit.id, 1
            while new_id in taken:
                n += 1
                new_id = f"{visit.id}-{n}"
        taken.add(new_id)
        out.append(visit if new_id == visit.id else visit.model_copy(update={"id": new_id}))
    return tuple(out)


def _away(absences: Iterable[Absence]) -> Callable[[str, date], Absence | None]:
    by_worker: dict[str, list[Absence]] = defaultdict(list)
    for absence in absences:
        by_worker[absence.worker_id].append(absence)

    def lookup(worker_id: str, day: date) -> Absence | None:
        return next((a for a in by_worker.get(worker_id, ()) if a.covers(day)), None)

    return lookup


def diff_plans(
    old: Sequence[Visit],
    new: Sequence[Visit],
    absences: Iterable[Absence],
    staff: Collection[str] | None = None,
    titles: Mapping[str, str] | None = None,
    busy: Iterable[BusyTime] = (),
) -> tuple[VisitChange, ...]:
    """Every added, moved, reassigned or removed visit between two sets (ids carried).

    An added visit's reason names the rules it meets by their titles in `titles` (the pack's,
    by rule id), in the manager's words; a rule not there is named by its id.

    A change to a visit of a worker who is away, or (given `staff`, the current workers' ids)
    who has left, or who has a commitment (`busy`) at its time, is forced. A change to a
    pinned visit is forced (re-plans keep pins whenever their workers can make them) and its
    reason says the pin could not hold.
    """
    away = _away(absences)
    committed = _committed(busy)
    before = {v.id: v for v in old}
    after = {v.id: v for v in new}
    changes: list[VisitChange] = []
    for visit_id in sorted(before.keys() | after.keys()):
        o, n = before.get(visit_id), after.get(visit_id)
        if o is not None and n is not None and _same(o, n) and o.announced == n.announced:
            continue
        absence = None
        if o is not None:
            absence = away(o.worker_id, o.day) or (
                away(o.second_worker_id, o.day) if o.second_worker_id else None
            )
        gone = _left(o, staff)
        clash = committed(o) if o is not None and absence is None and gone is None else None
        forced = absence is not None or gone is not None or clash is not None
        if o is None:
            assert n is not None
            kind: ChangeKind = "added"
            names = {(titles or {}).get(r.rule_id, r.rule_id) for r in n.reasons}
            reason = "new visit needed: " + "; ".join(sorted(names))
        elif n is None:
            kind = "removed"
            reason = _cause(absence, gone, clash=clash) or (
                "no longer needed or replaced by another visit"
            )
        else:
            same_workers = (o.worker_id, o.second_worker_id) == (n.worker_id, n.second_worker_id)
            kind = "moved" if same_workers else "reassigned"
            reason = (
                _cause(absence, gone, o.day, clash)
                or "moved to avoid a statutory breach or make room"
            )
            if _same(o, n):
                kind = "changed"
                reason = "now unannounced" if not n.announced else "now announced"
            elif o.announced != n.announced:
                reason += "; now unannounced" if not n.announced else "; now announced"
        if o is not None and o.pinned:
            # A pin holds unless its workers cannot make it: whatever changed was forced.
            forced = True
            cause = _cause(absence, gone, o.day, clash) or f"{o.worker_id} can no longer make it"
            reason = f"pinned by hand, but the pin could not hold: {cause}"
        anchor = n or o
        assert anchor is not None
        changes.append(
            VisitChange(
                kind=kind,
                visit_id=visit_id,
                household_id=anchor.household_id,
                child_ids=anchor.child_ids,
                worker_before=o.worker_id if o else None,
                worker_after=n.worker_id if n else None,
                second_worker_before=o.second_worker_id if o else None,
                second_worker_after=n.second_worker_id if n else None,
                start_before=o.start.isoformat() if o else None,
                start_after=n.start.isoformat() if n else None,
                announced_before=o.announced if o else None,
                announced_after=n.announced if n else None,
                forced=forced,
                reason=reason,
            )
        )
    return tuple(changes)


def _cause(
    absence: Absence | None, gone: str | None, day: date | None = None, clash: str | None = None
) -> str | None:
    """Why a change had to happen: a worker away (on `day`, when given), gone, or with a
    commitment at the visit's time (`clash`, their id); None when none of these."""
    if absence is not None:
        on = f" on {day:%a %d %b}" if day is not None else ""
        return f"{absence.worker_id} is away ({absence.reason}){on}"
    if gone is not None:
        return f"{gone} has left"
    if clash is not None:
        return f"{clash} has a commitment in their own calendar at that time"
    return None


def _committed(busy: Iterable[BusyTime]) -> Callable[[Visit], str | None]:
    """Which of a visit's workers (lead first) has a commitment overlapping it, if any."""
    by_worker: dict[str, list[BusyTime]] = defaultdict(list)
    for period in busy:
        by_worker[period.worker_id].append(period)

    def lookup(visit: Visit) -> str | None:
        end = visit.start + timedelta(minutes=visit.duration_min)
        for worker in (visit.worker_id, visit.second_worker_id):
            if worker is not None and any(
                b.start < end and visit.start < b.end for b in by_worker.get(worker, ())
            ):
                return worker
        return None

    return lookup


def _left(visit: Visit | None, staff: Collection[str] | None) -> str | None:
    """The visit's first worker (or second) who is not among `staff`, if any."""
    if visit is None or staff is None:
        return None
    ids = (visit.worker_id, visit.second_worker_id)
    return next((w for w in ids if w is not None and w not in staff), None)


def _same(a: Visit, b: Visit) -> bool:
    """Same workers at the same time: nothing for a calendar to change."""
    return (a.worker_id, a.second_worker_id, a.start) == (b.worker_id, b.second_worker_id, b.start)


def weeks_to_cover(start: date, end: date) -> int:
    """Whole weeks from `start` that reach `end` (at least one)."""
    return max(1, math.ceil(((end - start).days + 1) / 7))


Planner = Callable[[Scenario, date, int, Sequence[Visit], date, Plan], Plan]
"""`planner(scenario, start, days, previous, previous_end, published) -> Plan`: a plan of
`days` days from `start` (to `previous_end`), where `published` is the plan being re-planned
(its breaches and `team_inputs`)."""


def cp_sat_planner(
    params: SolveParams,
    progress: Callable[[str], None] | None = None,
    processes: int | None = None,
    not_before: datetime | None = None,
    only: Collection[str] | None = None,
) -> Planner:
    """The CP-SAT planner as `replan` calls it, keeping previous visits where it can (and
    whole team groups whose inputs are unchanged since `published` was made), placing
    nothing new before `not_before` (aware: the moment a re-plan is made), and planning
    only the groups holding one of `only` when given (a manager's teams)."""
    from scheduler.planning import plan_scenario

    def planner(
        scenario: Scenario,
        start: date,
        days: int,
        previous: Sequence[Visit],
        end: date,
        published: Plan,
    ) -> Plan:
        return plan_scenario(
            scenario,
            start,
            weeks=weeks_to_cover(start, end),
            days=days,
            params=params,
            progress=progress,
            previous=tuple(previous),
            previous_end=end,
            previous_breaches=published.breaches,
            not_before=not_before,
            published=published,
            processes=processes,
            only=only,
        )

    return planner


def replan(
    scenario: Scenario,
    current: Plan,
    from_date: date,
    planner: Planner,
    assume_missed: bool = False,
    left: Mapping[str, Role] | None = None,
    teams: Collection[str] | None = None,
) -> ReplanReport:
    """Propose a re-plan of `current` from `from_date` with the least disruption.

    `planner(scenario, start, days, previous, previous_end, published)` plans the `days`
    from `start` to the published end, keeping the `previous` visits (published up to
    `previous_end`) where it can;
    `published` is `current`, whose breaches are accepted as they were and whose
    `team_inputs` let it skip unchanged team groups. Visits before `from_date` stay, each in
    its state from the scenario's records (a recorded outcome, or awaiting outcome); awaiting
    visits are planned as made (records assumed for the planning run only, with the roles of
    workers who have left since from `left`) unless `assume_missed`. The plan's `revision`
    is left to the caller.

    With `teams` (a manager's own), only the team groups planned together with one of them
    change: every other group's published visits and breaches are held as they are
    (`_held_outside`), so another team's pending changes wait for its own manager's re-plan.
    """
    records_by_visit = by_visit(scenario.records)
    earlier = [v for v in current.visits if v.day < from_date]
    # A visit on or after the first day with an outcome already recorded (today's, recorded
    # before the re-plan) is history as much as an earlier one: kept in its state, not
    # re-planned as a visit still to make (a not-seen visit would otherwise meet its clock).
    # Its records count from the first day on (`translate.start_dues`), so only visits whose
    # records are dated on or before it are taken out (with `--from` before today, a later
    # recorded visit stays a published one, as it was). A visit an earlier re-plan kept so
    # (already in its recorded state, on or after this first day: a second re-plan the same
    # day, or a visit recorded before its day) is history still.
    recorded = [
        v
        for v in current.visits
        if v.day >= from_date
        and (
            v.status in FINAL_STATES
            or (
                v.status == "planned"
                and records_by_visit.get(v.id)
                and all(r.on <= from_date for r in records_by_visit[v.id])
            )
        )
    ]
    kept = tuple(
        v.model_copy(update={"status": _kept_state(v, records_by_visit.get(v.id, ()), from_date)})
        for v in (*earlier, *recorded)
    )
    pending = awaiting(earlier, records_by_visit, from_date)
    planning = scenario if assume_missed else assume_made(scenario, pending, left)
    taken = {v.id for v in recorded}
    published = tuple(
        v
        for v in current.visits
        if v.day >= from_date and v.status == "planned" and v.id not in taken
    )
    end = max(current.end, from_date)
    # The horizon ends exactly at the published end (look-ahead after it): a visit due just
    # after the plan is left to the next plan rather than pulled into this one.
    days = (end - from_date).days + 1
    proposal = planner(planning, from_date, days, published, end, current)
    held: frozenset[str] = frozenset()
    if teams is not None:
        proposal, held = _held_outside(scenario, proposal, published, current, teams)
    fresh = carry_ids(published, [v for v in proposal.visits if v.day <= end], (v.id for v in kept))
    staff = {w.id for w in scenario.workers}
    titles = rule_titles(scenario.authority.id)
    changes = diff_plans(published, fresh, scenario.absences, staff, titles, scenario.busy)
    away = _away(scenario.absences)
    committed = _committed(scenario.busy)
    affected = sum(
        1
        for v in published
        if v.household_id not in held
        and (
            away(v.worker_id, v.day)
            or (v.second_worker_id and away(v.second_worker_id, v.day))
            or _left(v, staff)
            or committed(v)
        )
    )
    old_late = {(b.child_id, b.rule_id, b.due): b.days_late for b in current.breaches}
    breaches = tuple(b for b in proposal.breaches if b.due <= end)
    # What the report says rests on an assumption is about the teams re-planned.
    ours = [v for v in pending if v.household_id not in held]
    plan = proposal.model_copy(
        update={
            "id": f"{current.id}-r{from_date:%Y%m%d}",
            "start": from_date,
            "end": end,
            "visits": (*kept, *fresh),
            "breaches": breaches,
            "assume_missed": assume_missed,
        }
    )
    return ReplanReport(
        from_date=from_date,
        plan=plan,
        changes=changes,
        forced_changes=sum(1 for c in changes if c.forced),
        other_changes=sum(1 for c in changes if not c.forced),
        affected_visits=affected,
        at_risk=tuple(b for b in breaches if _worse(b, old_late)),
        awaiting_visits=len(ours),
        assume_missed=assume_missed,
        resting_on_assumption=children_resting_on(ours, scenario),
        assumed_scenario_records=len(planning.records) - len(scenario.records),
    )


def _held_outside(
    scenario: Scenario,
    proposal: Plan,
    published: Sequence[Visit],
    current: Plan,
    teams: Collection[str],
) -> tuple[Plan, frozenset[str]]:
    """`proposal` with every team group that holds none of `teams` put back as published:
    its households' visits from `published` (the visits still to make), its children's
    breaches from `current`. Groups are planned apart (cover only inside a group), so the
    held visits and the proposal's own never share a worker. Returns it and the held
    households."""
    from scheduler.fingerprint import group_key
    from scheduler.translate import households_by_group, team_groups

    wanted = set(teams)
    groups = team_groups(scenario)
    homes = households_by_group(scenario, groups)
    others = [group for group in groups if not wanted.intersection(group)]
    held = frozenset(h.id for group in others for h in homes[group])
    if not held:
        return proposal, held
    children = {c.id for c in scenario.children if set(c.household_ids) & held}
    own = {c.id for c in scenario.children if set(c.household_ids) - held}
    visits = (
        *(v for v in proposal.visits if v.household_id not in held),
        *(v for v in published if v.household_id in held),
    )
    start = proposal.start
    breaches = (
        *(b for b in proposal.breaches if b.child_id in own),
        *(
            b
            for b in current.breaches
            if b.child_id in children - own
            and (b.days_late is None or b.due + timedelta(days=b.days_late) >= start)
        ),
    )
    # A held group's visits were not made from its inputs as they are now: without its
    # fingerprint, the next re-plan plans it again rather than keeping it as unchanged.
    dropped = {group_key(group) for group in others}
    inputs = {key: value for key, value in proposal.team_inputs.items() if key not in dropped}
    update = {"visits": visits, "breaches": breaches, "team_inputs": inputs}
    return proposal.model_copy(update=update), held


def _kept_state(visit: Visit, records: Sequence[VisitRecord], from_date: date) -> VisitStatus:
    """A kept visit's state: from its records, or the recorded state it has when the scenario
    holds none of them (its children's cases are closed): never planned or awaiting again."""
    if not records and visit.status in FINAL_STATES:
        return visit.status
    return visit_state(visit, records, from_date)


def _worse(breach: Breach, old_late: dict[tuple[str, str, date], int | None]) -> bool:
    """A breach the published plan did not have, or one now later (None: not met at all)."""
    key = (breach.child_id, breach.rule_id, breach.due)
    if key not in old_late:
        return True
    before, now = old_late[key], breach.days_late
    if now is None:
        return before is not None
    return before is not None and now > before


def placed_before(changes: Sequence[VisitChange], now: datetime) -> tuple[str, ...]:
    """The visits `changes` add, move or reassign to a start earlier than `now` (aware)."""
    return tuple(
        c.visit_id
        for c in changes
        if c.kind in ("added", "moved", "reassigned")
        and c.start_after is not None
        and datetime.fromisoformat(c.start_after) < now
    )
