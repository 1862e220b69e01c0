"""A new plan that starts inside the published one keeps the visits already published.

Rule: the days the published plan covers are re-planned (every published visit kept unless
a worker cannot make it or moving it avoids a breach, as `visitplan replan` does); the days
after it are planned afresh from the scenario as if those visits were made. Pure: the caller
makes the re-plan and stores the result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta

from policies import Role, load_pack
from scheduler.domain import Breach, Plan, Scenario, Visit
from scheduler.fingerprint import team_inputs
from scheduler.outcomes import assume_made
from scheduler.planning import LOOKAHEAD_WEEKS, plan_id, plan_scenario
from scheduler.replan import weeks_to_cover
from solver import SolveParams


def extend_kept(
    scenario: Scenario,
    kept: Plan,
    end: date,
    weeks: int,
    params: SolveParams,
    *,
    progress: Callable[[str], None] | None = None,
    processes: int | None = None,
    left: Mapping[str, Role] | None = None,
    assumed: Sequence[Visit] = (),
) -> Plan:
    """The plan from `kept.start` to `end`: `kept` (a re-plan of the published plan from
    that day to its end, with its history before it) up to `end`, then, after `kept.end`, a
    fresh plan made from `scenario` with `kept`'s visits still to make assumed made, and
    `assumed` (the visits before `kept.start` awaiting an outcome that the re-plan assumed
    made, as it did; `left`: roles of workers who have left, as `assume_made` takes them).

    Breaches: `kept`'s up to its end, and the fresh plan's; where both report a deadline
    (a child still overdue at the fresh plan's start), the fresh plan's, which knows when it
    is met.
    """
    first = kept.start
    # The days before `first` stay in the plan as its history, as in any re-plan: the
    # checker assumes their visits awaiting an outcome made, as the planning did.
    visits = [v for v in kept.visits if v.day <= end]
    breaches: dict[tuple[str, str, date], Breach] = {
        (b.child_id, b.rule_id, b.due): b for b in kept.breaches if b.due <= end
    }
    later: Plan | None = None
    if end > kept.end:
        after = kept.end + timedelta(days=1)
        ahead = [v for v in visits if v.day >= first and v.status == "planned"]
        made = assume_made(scenario, [*assumed, *ahead], left)
        later = plan_scenario(
            made,
            after,
            weeks=weeks_to_cover(after, end),
            days=(end - after).days + 1,
            params=params,
            progress=progress,
            processes=processes,
        )
        visits += later.visits
        breaches |= {(b.child_id, b.rule_id, b.due): b for b in later.breaches}
    pack = load_pack(scenario.authority.id)
    horizon = (end - first).days + 1
    pins = [v for v in visits if v.pinned]
    inputs = team_inputs(scenario, pack, first, weeks, LOOKAHEAD_WEEKS, pins, horizon)
    base = later or kept
    return base.model_copy(
        update={
            "id": plan_id(scenario.authority.id, first, end, weeks, params.seed),
            "start": first,
            "end": end,
            "lookahead_end": max(base.lookahead_end or end, end),
            "visits": tuple(sorted(visits, key=lambda v: (v.start, v.household_id))),
            "breaches": tuple(sorted(breaches.values(), key=_breach_order)),
            "team_inputs": inputs,
            "safety_net": kept.safety_net or (later.safety_net if later else False),
            "assume_missed": False,
            "objective": None,
            "bound": None,
        }
    )


def _breach_order(breach: Breach) -> tuple[str, date, str]:
    return breach.child_id, breach.due, breach.rule_id
