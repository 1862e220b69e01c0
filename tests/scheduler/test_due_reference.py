"""The fast due engine gives the same rows as the rule-by-rule reference on generated M
authorities.

Rule: the reference is the engine with `applicable_rules` replaced by `rules_in_scope` (every
rule's scope judged afresh on every call, as before the engine remembered stretches); real
generated authorities, several days including a year on (birthdays and phases crossed).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from policies import engine, load_pack
from scheduler.due import scenario_due
from scheduler.generate import generate

START = date(2026, 11, 30)


@pytest.mark.parametrize("seed", [0, 7])
def test_due_rows_of_an_m_authority_equal_the_rule_by_rule_reference(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = generate("M", seed=seed, start=START)
    days = [START + timedelta(days=d) for d in (1, 2, 45, 200, 400)]
    fast = [scenario_due(scenario, day) for day in days]
    monkeypatch.setattr(engine, "applicable_rules", engine.rules_in_scope)
    reference = [scenario_due(scenario, day) for day in days]
    assert fast == reference
    assert all(len(rows) == len(scenario.children) for rows in fast)
    assert sum(len(r.requirements) for rows in fast for r in rows) > len(scenario.children)


def test_remembered_rules_equal_the_reference_on_each_side_of_every_scope_change() -> None:
    """Edge pairs: the day before and the day of every `scope_changes` day, for every child
    of a generated M authority (birthdays, phase edges, ending events)."""
    scenario = generate("M", seed=3, start=START)
    pack = load_pack(scenario.authority.id)
    checked = 0
    for child in scenario.children:
        facts = child.facts()
        days = {START}
        for change in engine.scope_changes(pack, facts):
            days |= {change - timedelta(days=1), change}
        for day in sorted(days, reverse=True):  # out of order: stretches are found, not walked
            assert engine.applicable_rules(pack, facts, day) == engine.rules_in_scope(
                pack, facts, day
            ), (child.id, day)
            checked += 1
    assert checked > len(scenario.children)
