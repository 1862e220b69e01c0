"""Builders for policy tests: children, contacts, a real working-day calendar per pack."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time

from policies import ChildFacts, Contact, Due, due_dates, load_pack
from policies.models import Pack
from scheduler.calendar import WorkingCalendar


def calendar_of(pack: Pack) -> WorkingCalendar:
    """The pack's real working-day calendar (nation bank holidays and closure days)."""
    return WorkingCalendar(pack.nation, pack.closure_days)


def child(category: str, **fields: object) -> ChildFacts:
    """A child of `category`; `events` keyed by policy event names."""
    return ChildFacts.model_validate({"category": category, **fields})


def seen(
    on: date,
    *,
    at_home: bool = True,
    announced: bool = True,
    role: str | None = "social-worker",
    home_id: str | None = None,
    seen_alone: bool = False,
    bedroom_seen: bool = False,
    seen_awake: bool = False,
) -> Contact:
    """A completed visit where the child was seen."""
    return Contact.model_validate(
        {
            "on": on,
            "at_home": at_home,
            "announced": announced,
            "role": role,
            "home_id": home_id,
            "seen_alone": seen_alone,
            "bedroom_seen": bedroom_seen,
            "seen_awake": seen_awake,
        }
    )


def failed(on: date, start: time | None = None) -> Contact:
    """A visit where the child was not seen."""
    return Contact(on=on, outcome="failed", start=start)


def dues(pack_id: str, facts: ChildFacts, contacts: list[Contact], as_of: date) -> tuple[Due, ...]:
    """Every requirement of the child under the pack as of `as_of`."""
    pack = load_pack(pack_id)
    return due_dates(pack, facts, contacts, calendar_of(pack), as_of)


def due_of(
    pack_id: str,
    rule_id: str,
    facts: ChildFacts,
    contacts: list[Contact],
    as_of: date,
    home_id: str | None = None,
) -> date | None:
    """The due date the pack's rule sets for the child, or None when it sets none."""
    found = [
        d.due
        for d in dues(pack_id, facts, contacts, as_of)
        if d.rule_id == rule_id and (home_id is None or d.home_id == home_id)
    ]
    assert len(found) <= 1, found
    return found[0] if found else None


@dataclass(frozen=True)
class Edge:
    """One rule's window: the child, the history, and the last day the rule is still met."""

    pack: str
    rule: str
    facts: ChildFacts
    contacts: tuple[Contact, ...]
    last_ok: date
    why: str
    visit: Callable[[date], Contact] = field(default=lambda day: seen(day))
    home_id: str | None = None
