"""What a visit's calendar event says: its UID, its words (in the worker's language) and the
hash of those words that decides whether SEQUENCE rises.

Rule: an event carries the case reference, the checklist and the area, never a child's name
or an address unless the authority's privacy settings opt in. Rule titles and recorded
outcomes come from the caller (`EventContext`): this package imports no policy pack.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from scheduler import (
    Child,
    Household,
    Outcome,
    Scenario,
    Visit,
    VisitId,
    VisitRecord,
    Worker,
    WorkerId,
)

UID_DOMAIN = "visitplan"
UID_SUFFIX = f"@{UID_DOMAIN}"
OUTCOME_WORDS: dict[Outcome, str] = {
    "completed": "completed",
    "failed": "failed",
    "not-seen": "child not seen",
}


@dataclass(frozen=True, eq=False)
class EventContext:
    """What events say beyond the visit itself, built by the caller from the pack and the store.

    `rule_titles` maps rule ids to the pack's titles (an id without a title is shown as it is);
    `records` are the visit records, oldest first: those carrying a `visit_id` put the visit's
    outcome on its event, the latest record per child winning (so an amendment shows);
    `index` is the caller's children, households and workers by id for the scenario the events
    are rendered from (None: built here from the scenario and kept for the last one);
    `closed_refs` gives the case references of closed children (not in the scenario) that
    visits still name, by child id, so an event never falls back on a child's internal id.
    """

    rule_titles: Mapping[str, str] = field(default_factory=dict)
    records: Sequence[VisitRecord] = ()
    index: Lookups | None = None
    closed_refs: Mapping[str, str] = field(default_factory=dict)

    def lookups_of(self, scenario: Scenario) -> Lookups:
        """The caller's index when it gave one, else the scenario's own lookups."""
        return self.index if self.index is not None else lookups(scenario)

    def case_ref(self, child_id: str, found: Lookups) -> str:
        """A child's case reference, open or closed (the id only where neither knows it)."""
        child = found.children.get(child_id)
        if child is not None:
            return child.case_ref
        return self.closed_refs.get(child_id, child_id)

    def title(self, rule_id: str) -> str:
        """The rule's title in the pack, or its id when the pack has none."""
        return self.rule_titles.get(rule_id, rule_id)

    @cached_property
    def outcomes(self) -> dict[VisitId, dict[str, Outcome]]:
        """Visit id -> child id -> the latest recorded outcome."""
        found: dict[VisitId, dict[str, Outcome]] = defaultdict(dict)
        for record in self.records:
            if record.visit_id is not None:
                found[record.visit_id][record.child_id] = record.outcome
        return dict(found)


@dataclass(frozen=True)
class WorkerEvent:
    """One visit as it appears on one worker's calendar (joint visits appear on two)."""

    uid: str
    worker_id: WorkerId
    visit: Visit


@dataclass(frozen=True)
class Lookups:
    """Children, households and workers of a scenario by id."""

    children: Mapping[str, Child]
    households: Mapping[str, Household]
    workers: Mapping[str, Worker]

    @classmethod
    def of(cls, scenario: Scenario) -> Lookups:
        """The lookups of one scenario."""
        return cls(
            {c.id: c for c in scenario.children},
            {h.id: h for h in scenario.households},
            {w.id: w for w in scenario.workers},
        )


_last: tuple[Scenario, Lookups] | None = None


def lookups(scenario: Scenario) -> Lookups:
    """The scenario's lookups, kept for the scenario last asked about.

    The slot holds the scenario itself (compared by identity, never by `id()`), and is read and
    replaced in one step each, so threads rendering different scenarios cannot mix them up.
    """
    global _last
    last = _last
    if last is None or last[0] is not scenario:
        last = (scenario, Lookups.of(scenario))
        _last = last
    return last[1]


def event_uid(visit_id: VisitId, joint: bool = False) -> str:
    """The event UID of a visit, fixed for its life; the second worker's copy has its own."""
    return f"{visit_id}.joint{UID_SUFFIX}" if joint else f"{visit_id}{UID_SUFFIX}"


def is_ours(uid: str) -> bool:
    """True for the UID of an event visitplan published."""
    return uid.endswith(UID_SUFFIX)


def worker_events(visits: Iterable[Visit], worker_id: WorkerId | None = None) -> list[WorkerEvent]:
    """The calendar events of the visits, of one worker or of all, in visit order."""
    events: list[WorkerEvent] = []
    for visit in visits:
        if visit.status == "cancelled":
            continue
        if worker_id in (None, visit.worker_id):
            events.append(WorkerEvent(event_uid(visit.id), visit.worker_id, visit))
        if visit.second_worker_id and worker_id in (None, visit.second_worker_id):
            events.append(WorkerEvent(event_uid(visit.id, True), visit.second_worker_id, visit))
    return events


def utc_span(visit: Visit) -> tuple[datetime, datetime]:
    """Start and end of the visit in UTC; the end is computed in UTC, so DST cannot stretch it."""
    start = visit.start.astimezone(UTC)
    return start, start + timedelta(minutes=visit.duration_min)


def day_words(day: date) -> str:
    """A date as a worker reads it: `Thu 10 Dec`."""
    return f"{day:%a} {day.day} {day:%b}"


def spare_words(slack_days: int) -> str:
    """Days between the visit and its deadline, in words."""
    if slack_days > 1:
        return f"{slack_days} days to spare"
    if slack_days == 1:
        return "1 day to spare"
    if slack_days == 0:
        return "due that day"
    return f"{-slack_days} day{'s' if slack_days < -1 else ''} late"


def outcome_of(
    visit: Visit, context: EventContext, refs: Mapping[str, str]
) -> tuple[str | None, list[str]]:
    """The visit's recorded outcome: a summary prefix (None when nothing is recorded) and one
    line per child (`CR-000123: child not seen`), in the visit's order of children."""
    recorded = context.outcomes.get(visit.id, {})
    if not recorded:
        return None, []
    lines = [
        f"{refs[c]}: {OUTCOME_WORDS[recorded[c]] if c in recorded else 'no outcome yet'}"
        for c in visit.child_ids
    ]
    kinds = {recorded.get(c) for c in visit.child_ids}
    if len(kinds) == 1 and None not in kinds:
        (kind,) = kinds
        assert kind is not None
        return OUTCOME_WORDS[kind].capitalize(), lines
    return "Outcome part recorded" if None in kinds else "Mixed outcome", lines


def case_refs(visit: Visit, found: Lookups, context: EventContext) -> dict[str, str]:
    """Child id -> case reference for the visit's children (the id where it is unknown)."""
    return {c: context.case_ref(c, found) for c in visit.child_ids}


def event_fields(
    visit: Visit,
    scenario: Scenario,
    worker_id: WorkerId,
    cancelled: bool,
    context: EventContext,
) -> dict[str, str]:
    """The calendar-relevant text of an event; its hash decides whether SEQUENCE rises."""
    found = context.lookups_of(scenario)
    privacy = scenario.authority.privacy
    ref_of = case_refs(visit, found, context)
    refs = list(ref_of.values())
    kind = "Visit" if visit.announced else "Unannounced visit"
    summary = f"{kind} {refs[0]}" + (f" (+{len(refs) - 1})" if len(refs) > 1 else "")
    if visit.second_worker_id:
        summary += " (joint)"
    outcome, outcome_lines = outcome_of(visit, context, ref_of)
    if outcome is not None and not cancelled:
        summary = f"{outcome}: {summary}"
    household = found.households.get(visit.household_id)
    location = household.area if household else ""
    if household and privacy.show_address and household.address:
        location = f"{household.address} ({household.area})"
    lines: list[str] = []
    if outcome_lines and not cancelled:
        lines.append("Outcome recorded:")
        lines.extend(f"- {line}" for line in outcome_lines)
    lines.append(f"Case references: {', '.join(refs)}")
    if privacy.show_names:
        names = [
            found.children[c].name
            for c in visit.child_ids
            if c in found.children and found.children[c].name
        ]
        if names:
            lines.append(f"Children: {', '.join(str(n) for n in names)}")
    if not visit.announced:
        lines.append("Unannounced: do not tell the family beforehand.")
    if visit.second_worker_id:
        other = visit.second_worker_id if worker_id == visit.worker_id else visit.worker_id
        partner = found.workers[other].name if other in found.workers else other
        lines.append(f"Joint visit with {partner}.")
    if visit.checklist:
        lines.append("Checklist:")
        lines.extend(f"- {item}" for item in visit.checklist)
    if visit.due:
        lines.append(f"Due by: {day_words(visit.due)} {visit.due.year}")
    if visit.reasons:
        lines.append("Why this visit:")
        for r in visit.reasons:
            lines.append(
                f"- {context.case_ref(r.child_id, found)}: {context.title(r.rule_id)} - due "
                f"{day_words(r.due)}, {spare_words(r.slack_days)}"
            )
    elif visit.rule_ids:
        lines.append("Visiting standards:")
        lines.extend(f"- {context.title(rule_id)}" for rule_id in visit.rule_ids)
    start, end = utc_span(visit)
    return {
        "uid": event_uid(visit.id, worker_id != visit.worker_id),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "status": "CANCELLED" if cancelled else "CONFIRMED",
        "summary": printable(summary),
        "location": printable(location),
        "description": "\n".join(printable(line) for line in lines),
    }


_CONTROL = dict.fromkeys([*range(0x20), 0x7F], None)


def printable(text: str) -> str:
    """`text` without control characters, which iCalendar text may not hold (new input
    refuses them; a store written before that may still have one)."""
    return text.translate(_CONTROL)


def content_hash(
    visit: Visit,
    scenario: Scenario,
    worker_id: WorkerId,
    cancelled: bool = False,
    *,
    context: EventContext,
) -> str:
    """SHA-256 of the event's calendar-relevant fields (not SEQUENCE or DTSTAMP)."""
    fields = event_fields(visit, scenario, worker_id, cancelled, context) | {"calendar": worker_id}
    text = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
