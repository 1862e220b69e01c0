"""Benchmark: how many visits by another worker a plan could not avoid (issue 12, continuity).

Usage: .venv/bin/python bench/continuity.py [--sizes M,L] [--planners greedy,cp-sat]
       [--weeks 2] [--seed 0] [--processes N]

For each generated authority and planner, every visit led by someone other than the
children's allocated worker is put in one of four classes, from the solver's own view of
who may make a visit on which day (the translated problem: the allocated worker is working,
not away, of a role the rules allow, with a start inside the family's window and the school
day on that day):

- `forced`: the visit's earliest deadline is inside the plan and the allocated worker has
  no possible day from the plan's start to it, so only another worker can make it on time;
- `sooner`: the child was already overdue when the plan starts and the allocated worker's
  first possible day is later than the day planned: another worker sees the child sooner
  (the manager's measures put days late before continuity);
- `same day`: the allocated worker could have made it on the very day it was planned (their
  day was full of other visits, or the route did not fit);
- `other day`: the allocated worker could have made it on another day by the deadline.

`bound` is the share of visits by the allocated worker if every visit but the forced and
sooner ones were theirs: no plan that is as early for every child can do better. `cpu_s` is
this process's CPU time for the plan (the pool's processes are not counted: use
bench/plan.py for speed).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies import load_pack
from scheduler.baseline import plan_greedy
from scheduler.domain import Plan, Scenario
from scheduler.due import calendar_for
from scheduler.generate import generate
from scheduler.planning import plan_scenario
from scheduler.translate import make_context, team_groups, to_problem
from solver.params import SolveParams

START = date(2026, 11, 30)
CLASSES = ("forced", "sooner", "same day", "other day")


def allocated_days(scenario: Scenario, weeks: int) -> dict[str, set[date]]:
    """Household id -> the days its allocated worker could lead its visit (the solver's view)."""
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), START, weeks, 4)
    out: dict[str, set[date]] = {}
    for group in team_groups(scenario):
        tp = to_problem(ctx, group)
        for task in tp.problem.tasks:
            own = set(task.preferred_resources)
            out[task.id] = {tp.days[o.day] for o in task.days if own & set(o.resources)}
    return out


def classify(scenario: Scenario, plan: Plan, weeks: int) -> Counter[str]:
    """Each visit by another worker, in one of `CLASSES`."""
    allocated = {c.id: c.allocated_worker for c in scenario.children}
    possible = allocated_days(scenario, weeks)
    out: Counter[str] = Counter()
    for visit in plan.visits:
        if visit.worker_id in {allocated.get(c) for c in visit.child_ids}:
            continue
        due = min(visit.due or plan.end, plan.end)
        overdue = due < plan.start
        days = possible.get(visit.household_id, set())
        if visit.day in days:
            out["same day"] += 1
        elif not any(d <= (visit.day if overdue else due) for d in days):
            out["sooner" if overdue else "forced"] += 1
        else:
            out["other day"] += 1
    return out


def run(size: str, planner: str, args: argparse.Namespace) -> dict[str, object]:
    """One size and planner: the plan, then its visits by another worker classified."""
    scenario = generate(size, seed=args.seed, start=START)  # type: ignore[arg-type]
    c0 = time.process_time()
    if planner == "greedy":
        plan = plan_greedy(scenario, START, weeks=args.weeks)
    else:
        plan = plan_scenario(
            scenario, START, weeks=args.weeks, params=SolveParams(), processes=args.processes
        )
    cpu = time.process_time() - c0
    classes = classify(scenario, plan, args.weeks)
    total = len(plan.visits)
    other = sum(classes.values())
    return {
        "size": size,
        "planner": planner,
        "visits": total,
        "by_allocated_pct": round(100 * (total - other) / total, 1),
        **{name.replace(" ", "_"): classes[name] for name in CLASSES},
        "bound_pct": round(100 * (total - classes["forced"] - classes["sooner"]) / total, 1),
        "breaches": sum(1 for b in plan.breaches if b.severity == "statutory"),
        "cpu_s": round(cpu, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="M")
    parser.add_argument("--planners", default="greedy,cp-sat")
    parser.add_argument("--weeks", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=None)
    args = parser.parse_args()
    rows = [
        run(size, planner, args)
        for size in args.sizes.split(",")
        for planner in args.planners.split(",")
    ]
    keys = list(rows[0])
    print(" | ".join(keys))
    print(" | ".join("-" * len(k) for k in keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
