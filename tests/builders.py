"""Small builders for hand-made scenarios, plans and a tiny policy pack used by tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from policies.models import Pack
from scheduler.domain import (
    Authority,
    Child,
    ChildEvents,
    Household,
    Plan,
    Scenario,
    Team,
    Visit,
    VisitRecord,
    Worker,
)

LONDON = ZoneInfo("Europe/London")
BRISTOL = (51.4545, -2.5879)
"""Every builder puts people here unless told otherwise, so travel is 0 minutes."""

TEST_PACK_ID = "test-pack"


def _rule_source(quote: str) -> dict[str, str]:
    return {"document": "test", "section": "tests", "quote": quote}


def make_pack(**changes: Any) -> Pack:
    """A tiny pack: CP every 10 working days, CP unannounced every 3 months, CP social workers
    only, a retry at a different time of day, twice monthly in care proceedings, early help
    every 30 days, seen alone from 4, school hours 15:30 from age 5."""
    cp = {"categories": ["child-protection"]}
    data: dict[str, Any] = {
        "id": TEST_PACK_ID,
        "name": "Test pack",
        "nation": "ENG",
        "rules": [
            {
                "id": "cp_every_10_working_days",
                "kind": "interval",
                "title": "CP child seen every 10 working days",
                "scope": cp,
                "every": {"amount": 10, "unit": "working_days"},
                "source": _rule_source("seen every 10 working days"),
            },
            {
                "id": "cp_unannounced_3_months",
                "kind": "interval",
                "title": "CP unannounced visit every 3 months",
                "scope": cp,
                "clock": "unannounced",
                "every": {"amount": 3, "unit": "months"},
                "source": _rule_source("at least one unannounced visit every 3 months"),
            },
            {
                "id": "cp_social_worker",
                "kind": "who",
                "title": "CP visits by a registered social worker",
                "scope": {"categories": ["child-protection", "child-in-care"]},
                "roles": ["social-worker"],
                "source": _rule_source("visits by a registered social worker"),
            },
            {
                "id": "retry_3_working_days",
                "kind": "retry",
                "title": "Failed visit retried within 3 working days",
                "scope": {"categories": ["child-protection", "child-in-need"]},
                "within": {"amount": 3, "unit": "working_days"},
                "different_time_of_day": True,
                "source": _rule_source("retried within 3 working days at a different time"),
            },
            {
                "id": "care_proceedings_twice_monthly",
                "kind": "monthly_count",
                "title": "Care proceedings: seen twice a month",
                "scope": {"categories": ["child-in-care"], "placement_types": ["care-proceedings"]},
                "count": 2,
                "source": _rule_source("seen at least twice a month"),
            },
            {
                "id": "eh_every_30_days",
                "kind": "interval",
                "title": "Early help seen every 30 days",
                "scope": {"categories": ["early-help"]},
                "every": {"amount": 30, "unit": "days"},
                "source": _rule_source("seen at least every 30 days"),
            },
            {
                "id": "seen_alone_from_4",
                "kind": "seen_alone",
                "title": "Seen alone from 4",
                "scope": {"categories": ["child-protection", "child-in-care", "early-help"]},
                "from_age_years": 4,
                "source": _rule_source("children over 4 are seen alone"),
            },
            {
                "id": "not_at_school",
                "kind": "school_hours",
                "title": "Not visited at school",
                "scope": {"categories": ["child-protection", "child-in-care", "early-help"]},
                "not_before": "15:30:00",
                "source": _rule_source("children are not to be seen at school"),
            },
        ],
    }
    data.update(changes)
    return Pack.model_validate(data)


def make_worker(worker_id: str = "w1", **changes: Any) -> Worker:
    """A full-time social worker in team t1, based in Bristol, 09:00-17:00 Monday to Friday."""
    fields: dict[str, Any] = {
        "id": worker_id,
        "name": f"Worker {worker_id}",
        "role": "social-worker",
        "team_id": "t1",
        "base_lat": BRISTOL[0],
        "base_lon": BRISTOL[1],
    }
    fields.update(changes)
    return Worker(**fields)


def make_household(household_id: str = "h1", **changes: Any) -> Household:
    """A household of team t1 in Bristol, no family windows, no joint visit."""
    fields: dict[str, Any] = {
        "id": household_id,
        "area": "BS1",
        "lat": BRISTOL[0],
        "lon": BRISTOL[1],
        "team_id": "t1",
    }
    fields.update(changes)
    return Household(**fields)


def make_child(
    child_id: str = "c1",
    household_ids: Sequence[str] = ("h1",),
    category: str = "child-protection",
    birth_date: date | None = date(2024, 6, 1),
    plan_start: date | None = date(2026, 10, 1),
    **changes: Any,
) -> Child:
    """A two-year-old child-protection child in h1 whose plan started on 1 October 2026."""
    fields: dict[str, Any] = {
        "id": child_id,
        "case_ref": f"CR-{child_id}",
        "category": category,
        "birth_date": birth_date,
        "household_ids": tuple(household_ids),
        "events": ChildEvents(plan_start=plan_start),
    }
    fields.update(changes)
    return Child(**fields)


def make_record(
    child_id: str = "c1",
    on: date = date(2026, 11, 27),
    record_id: str | None = None,
    **changes: Any,
) -> VisitRecord:
    """A completed home visit to the child by w1 at 10:00, announced."""
    fields: dict[str, Any] = {
        "id": record_id or f"r-{child_id}-{on:%Y%m%d}",
        "child_id": child_id,
        "household_id": "h1",
        "on": on,
        "start": time(10, 0),
        "worker_id": "w1",
        "outcome": "completed",
    }
    fields.update(changes)
    return VisitRecord(**fields)


def make_scenario(
    children: Sequence[Child] | None = None,
    households: Sequence[Household] | None = None,
    workers: Sequence[Worker] | None = None,
    teams: Sequence[Team] | None = None,
    records: Sequence[VisitRecord] = (),
    as_of: date = date(2026, 11, 27),
    authority_id: str = "north-somerset",
    **changes: Any,
) -> Scenario:
    """A North Somerset household h1 with two siblings and no visit history (both overdue),
    one social worker w1 in team t1."""
    if children is None:
        children = (
            make_child("c1"),
            make_child("c2", category="child-in-need", birth_date=date(2015, 3, 1)),
        )
    fields: dict[str, Any] = {
        "authority": Authority(id=authority_id, name="Test authority"),
        "as_of": as_of,
        "teams": tuple(teams) if teams is not None else (Team(id="t1", name="Team 1"),),
        "workers": tuple(workers) if workers is not None else (make_worker(),),
        "households": tuple(households) if households is not None else (make_household(),),
        "children": tuple(children),
        "records": tuple(records),
    }
    fields.update(changes)
    return Scenario(**fields)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local Europe/London time."""
    return datetime.combine(day, time(hour, minute), tzinfo=LONDON)


def make_visit(
    household_id: str = "h1",
    day: date = date(2026, 12, 2),
    hour: int = 10,
    minute: int = 0,
    child_ids: Sequence[str] = ("c1",),
    worker_id: str = "w1",
    duration_min: int = 60,
    **changes: Any,
) -> Visit:
    """An announced 60-minute visit by w1 to h1 at 10:00 on Wednesday 2 December 2026."""
    fields: dict[str, Any] = {
        "id": f"v-{household_id}-{day:%Y%m%d}",
        "household_id": household_id,
        "child_ids": tuple(child_ids),
        "worker_id": worker_id,
        "start": at(day, hour, minute),
        "duration_min": duration_min,
    }
    fields.update(changes)
    return Visit(**fields)


def make_plan(
    visits: Sequence[Visit] = (),
    start: date = date(2026, 11, 30),
    weeks: int = 1,
    authority_id: str = TEST_PACK_ID,
    **changes: Any,
) -> Plan:
    """A plan from Monday 30 November 2026 for `weeks` weeks."""
    fields: dict[str, Any] = {
        "id": "plan-test",
        "authority": authority_id,
        "start": start,
        "end": date.fromordinal(start.toordinal() + 7 * weeks - 1),
        "visits": tuple(visits),
    }
    fields.update(changes)
    return Plan(**fields)
