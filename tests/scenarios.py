"""Named tiny scenarios shared by CLI and service tests."""

from __future__ import annotations

from datetime import date, time

from scheduler.domain import (
    Authority,
    Child,
    ChildEvents,
    Household,
    Scenario,
    Team,
    VisitRecord,
    Worker,
)

LAT, LON = 51.43, -2.75


def _worker(id: str, role: str) -> Worker:
    return Worker(id=id, name=f"Worker {id}", role=role, team_id="t1", base_lat=LAT, base_lon=LON)


def _home(id: str, dlat: float = 0.01, dlon: float = 0.01) -> Household:
    return Household(id=id, area="BS21 patch 1", lat=LAT + dlat, lon=LON + dlon, team_id="t1")


def _child(id: str, category: str, homes: tuple[str, ...], born: date = date(2018, 5, 1)) -> Child:
    return Child(
        id=id,
        case_ref=f"CR-{id}",
        category=category,  # type: ignore[arg-type]
        household_ids=homes,
        birth_date=born,
        events=ChildEvents(plan_start=date(2026, 9, 1)),
        allocated_worker="w1",
    )


def _record(child: str, on: date, home: str) -> VisitRecord:
    return VisitRecord(
        id=f"r-{child}-{on:%Y%m%d}",
        child_id=child,
        household_id=home,
        on=on,
        start=time(10, 0),
        worker_id="w1",
        outcome="completed",
    )


def north_somerset_team() -> Scenario:
    """One team of two workers, three households, four children; c2 is overdue on 1 Dec 2026.

    c1 CP seen 23 Nov; c2 and c3 (siblings, CIN) in h2, c2 last seen 1 Oct; c4 CIN in shared
    care between h3 and h1.
    """
    return Scenario(
        authority=Authority(id="north-somerset"),
        as_of=date(2026, 11, 29),
        teams=(Team(id="t1", name="Team 1"),),
        workers=(_worker("w1", "social-worker"), _worker("w2", "family-support-worker")),
        households=(_home("h1"), _home("h2", dlat=-0.02), _home("h3", dlon=0.03)),
        children=(
            _child("c1", "child-protection", ("h1",)),
            _child("c2", "child-in-need", ("h2",)),
            _child("c3", "child-in-need", ("h2",), born=date(2022, 3, 1)),
            _child("c4", "child-in-need", ("h3", "h1")),
        ),
        records=(
            _record("c1", date(2026, 11, 23), "h1"),
            _record("c2", date(2026, 10, 1), "h2"),
            _record("c3", date(2026, 11, 20), "h2"),
            _record("c4", date(2026, 11, 16), "h3"),
        ),
    )
