"""Benchmark: weekly planning as it is lived, over several weeks, for planner settings.

Usage: .venv/bin/python bench/rolling.py [--sizes M] [--weeks 6] [--lookahead 4,2]
[--seed 0] [--processes N]

Each Monday from Mon 30 Nov 2026 it plans two weeks of a generated authority (the command
line's defaults; `--lookahead` sets `plan_scenario(lookahead_weeks=...)`), takes the first
week as made exactly as planned (`outcomes.assume_made`: the records a manager would import),
and plans again from the next Monday. So a setting is judged on the weeks after each plan,
which a single two-week plan cannot show (a look-ahead is about them).

Columns: `missed` the deadlines of the weeks made that the plans could not meet (each child,
rule and due date once), `backlog` those already overdue at the first Monday, `new` the rest;
`days_late` their days late as planned (a deadline a plan does not meet counts the days to
that plan's end); `visits`, `by_allocated_pct` and `unannounced` over the visits made; `wall_s`
and `cpu_s` summed over the plans (this process and its pool). Same input and seed, same
table; speed is measured here, never in unit tests.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plan import SIZES, TreeSampler, _table

START = date(2026, 11, 30)
"""The first Monday planned (as bench/plan.py)."""


def rolling(size: str, lookahead: int, args: argparse.Namespace) -> dict[str, object]:
    """Plan `args.weeks` Mondays in turn, each week made as planned; the weeks' figures."""
    from scheduler.generate import generate
    from scheduler.outcomes import assume_made
    from scheduler.planning import plan_scenario
    from solver.params import SolveParams

    name, children = SIZES[size]
    scenario = generate(name, seed=args.seed, start=START, children=children)  # type: ignore[arg-type]
    allocated = {c.id: c.allocated_worker for c in scenario.children}
    missed: dict[tuple[str, str, date], int] = {}
    made = []
    wall = 0.0
    with TreeSampler() as sampler:
        for k in range(args.weeks):
            monday = START + timedelta(weeks=k)
            t0 = time.perf_counter()
            plan = plan_scenario(
                scenario,
                monday,
                weeks=2,
                params=SolveParams(),
                processes=args.processes,
                lookahead_weeks=lookahead,
            )
            wall += time.perf_counter() - t0
            week_end = monday + timedelta(days=7)
            for breach in plan.breaches:
                if breach.due < week_end:
                    late = breach.days_late
                    if late is None:
                        late = (plan.end - breach.due).days
                    key = (breach.child_id, breach.rule_id, breach.due)
                    missed[key] = max(missed.get(key, 0), late)
            week = [v for v in plan.visits if v.day < week_end and v.status == "planned"]
            made.extend(week)
            scenario = assume_made(scenario, week)
            print(f"  {size} look-ahead {lookahead}: week of {monday:%d %b} planned", flush=True)
    backlog = sum(1 for _child, _rule, due in missed if due < START)
    by_allocated = sum(1 for v in made if any(allocated.get(c) == v.worker_id for c in v.child_ids))
    return {
        "size": size,
        "lookahead_weeks": lookahead,
        "weeks": args.weeks,
        "wall_s": round(wall, 1),
        "cpu_s": round(sampler.cpu_s(), 1),
        "visits": len(made),
        "missed": len(missed),
        "backlog": backlog,
        "new": len(missed) - backlog,
        "days_late": sum(missed.values()),
        "by_allocated_pct": round(100 * by_allocated / len(made), 2) if made else None,
        "unannounced": sum(1 for v in made if not v.announced),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="M")
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--lookahead", default="4,2", help="Look-ahead weeks to compare.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=None)
    args = parser.parse_args()
    rows = [
        rolling(size, int(lookahead), args)
        for size in args.sizes.split(",")
        for lookahead in args.lookahead.split(",")
    ]
    _table(rows, list(rows[0]))


if __name__ == "__main__":
    main()
