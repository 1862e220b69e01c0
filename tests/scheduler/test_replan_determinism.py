"""Issue 9.4: a re-plan is the same busy or idle, and a safety net that stops a solve says so.

The issue-9 Tuesday (an S authority planned for a school-holiday fortnight from Monday, the
busiest worker off sick Tuesday to Thursday, Monday unrecorded) re-planned with
`--assume-missed`, the heaviest of its re-plans, on a real SQLite store with real solves.
"""

from __future__ import annotations

import pytest

from scheduler import planning, service
from scheduler.replan import ReplanReport
from scheduler.store import Store
from tests.load import busy_cores, with_tight_safety_net
from tests.scheduler import test_issue_9_week as week
from tests.scheduler.test_issue_9_week import PARAMS, TUESDAY, sick_busiest

published = week.published
"""The issue-9 authority and its published fortnight (the fixture, shared)."""
store = week.store
"""That plan in a fresh SQLite store (the fixture, shared)."""

pytestmark = pytest.mark.slow  # five re-plans of an S fortnight, one with busy cores (~3 min)


def propose(store: Store, processes: int | None = None) -> ReplanReport:
    """The Tuesday re-plan with `--assume-missed` (the busiest worker off sick first)."""
    if not store.read_scenario().absences:
        sick_busiest(store)
    return service.propose_replan(
        store, PARAMS, today=TUESDAY, assume_missed=True, processes=processes
    )


def test_propose_replan_is_the_same_busy_or_idle(store: Store) -> None:
    """Same store and seed, once as it comes and once with two busy loops competing for the
    two cores (and the team groups' process pool): the same report, byte for byte."""
    quiet = propose(store)
    with busy_cores(2):
        busy = propose(store)
    assert not quiet.plan.safety_net, "the quiet run met its safety net: results may differ"
    assert not busy.plan.safety_net, "the busy run met its safety net: results may differ"
    assert busy.model_dump_json() == quiet.model_dump_json()
    assert quiet.changes  # the absence moved something: the comparison compares a re-plan


def test_a_refused_repair_stopped_by_the_safety_net_is_reported(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the repair attempts meet their net (the full solves that follow do not): the
    repairs are refused for it, the teams are solved the long way, and the plan, which a
    quieter machine might have made differently, says the net was met."""
    monkeypatch.setattr(planning, "_repair", with_tight_safety_net(monkeypatch, planning._repair))
    stopped = propose(store, processes=1)  # in this process, where the net is tightened
    monkeypatch.undo()
    quiet = propose(store, processes=1)
    assert stopped.plan.safety_net
    assert not quiet.plan.safety_net
