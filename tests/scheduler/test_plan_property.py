"""Property: on generated authorities the checker accepts every plan the solver produces.

Small instances (a dozen to a few dozen children), short solver limits; the checker recomputes
every requirement from the packs and shares no code with the CP-SAT encoding.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.check import check_plan
from scheduler.domain import Plan, Scenario
from scheduler.generate import generate
from scheduler.planning import plan_scenario
from solver.params import SolveParams

pytestmark = pytest.mark.slow  # property tests over real solves (~2 min)

PACKS = ("north-somerset", "trust-standards", "camden", "cin-guidance")


def _accepted(scenario: Scenario, plan: Plan) -> None:
    """The checker finds no hard violation and no breach the plan did not report."""
    report = check_plan(scenario, plan)
    assert report.hard == ()
    found = set(report.breaches_found)
    reported = {(b.child_id, b.rule_id, b.due) for b in plan.breaches}
    assert found <= reported


def _examples(n: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=n,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )


@_examples(6)
@given(
    authority=st.sampled_from(PACKS),
    children=st.integers(min_value=8, max_value=30),
    seed=st.integers(min_value=0, max_value=10_000),
    weeks_after=st.integers(min_value=0, max_value=3),
)
def test_checker_accepts_solver_plans_on_generated_authorities(
    authority: str, children: int, seed: int, weeks_after: int
) -> None:
    """Every plan passes the independent checker: no hard violation, no unreported breach."""
    start = date(2026, 11, 30) + timedelta(weeks=weeks_after)
    scenario = generate("S", seed=seed, start=start, children=children, authority=authority)
    params = SolveParams(time_limit_s=2.0, num_workers=2, seed=0)
    _accepted(scenario, plan_scenario(scenario, start, weeks=1, params=params))


@_examples(30)
@given(
    authority=st.sampled_from(PACKS),
    children=st.integers(min_value=10, max_value=60),
    seed=st.integers(min_value=0, max_value=10_000),
    weeks_after=st.integers(min_value=0, max_value=20),
)
def test_checker_accepts_two_week_plans_made_with_the_default_limits(
    authority: str, children: int, seed: int, weeks_after: int
) -> None:
    """The same with the planner's defaults (0.3 s a team, the travel polish on) over two
    weeks from dates across the winter and spring (Christmas, New Year and Easter)."""
    start = date(2026, 11, 30) + timedelta(weeks=weeks_after)
    scenario = generate("S", seed=seed, start=start, children=children, authority=authority)
    params = SolveParams(seed=0, num_workers=2)
    _accepted(scenario, plan_scenario(scenario, start, weeks=2, params=params))
