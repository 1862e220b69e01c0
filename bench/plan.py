"""Benchmark: CP-SAT planner against the greedy baseline on generated S, M and L authorities.

Usage: .venv/bin/python bench/plan.py [--sizes S,M,L] [--weeks 2] [--seed 0]
    [--time-limit S] [--budget S] [--team-processes 2] [--deterministic] [--json FILE]

Each (size, planner) runs in its own process so peak memory (max RSS, the planner's team
processes included) is its own. Without limits the planner's defaults are used. Prints one
table; speed is measured here, never in unit tests. `travel_floor` is the least travel any
plan could have with the same worker on each visit and every deadline, window and working
hour ignored (bench/travel_floor.py): how much saving the plan's continuity leaves. Breaches
are split: overdue at the start; new ones for capacity (the eligible workers' time was
booked); new ones with no way to meet them (no slot in the family's window, no eligible or
available worker, a joint visit without two workers), as each breach's reason says.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

START = date(2026, 11, 30)


def run_one(
    size: str, planner: str, args: argparse.Namespace, queue: multiprocessing.Queue
) -> None:
    """Generate, plan and check one case; put a dict of figures on `queue`."""
    from travel_floor import travel_floor

    from scheduler.baseline import plan_greedy
    from scheduler.check import check_plan
    from scheduler.generate import generate
    from scheduler.planning import plan_scenario
    from scheduler.render import plan_statistics
    from solver.params import SolveParams

    weeks = args.weeks
    scenario = generate(size, seed=args.seed, start=START)  # type: ignore[arg-type]
    first: list[float] = []
    t0 = time.perf_counter()

    def progress(message: str) -> None:
        if not first and "visits modelled" in message:
            first.append(time.perf_counter() - t0)

    if planner == "cp-sat":
        processes = args.team_processes
        update: dict[str, object] = {"deterministic": args.deterministic}
        if args.time_limit is not None:
            update["time_limit_s"] = args.time_limit
        if args.budget is not None:
            update["budget_s"] = args.budget
        params = SolveParams(num_workers=1 if processes > 1 else 2, **update)  # type: ignore[arg-type]
        plan = plan_scenario(
            scenario,
            START,
            weeks=weeks,
            params=params,
            progress=progress,
            team_processes=processes,
        )
    else:
        plan = plan_greedy(scenario, START, weeks=weeks)
    elapsed = time.perf_counter() - t0
    report = check_plan(scenario, plan)
    stats = plan_statistics(plan, scenario)
    loads = Counter(v.worker_id for v in plan.visits)
    workers = [w.id for w in scenario.workers]
    per_worker = [loads.get(w, 0) for w in workers]
    overdue_at_start = sum(1 for b in plan.breaches if b.due < START)
    capacity = sum(1 for b in plan.breaches if b.due >= START and "capacity" in (b.reason or ""))
    queue.put(
        {
            "size": size,
            "planner": planner,
            "children": len(scenario.children),
            "workers": len(scenario.workers),
            "visits": stats["visits"],
            "solve_s": round(elapsed, 1),
            "first_plan_s": round(first[0], 1) if first else None,
            "breaches": len(plan.breaches),
            "breaches_overdue_at_start": overdue_at_start,
            "breaches_new": len(plan.breaches) - overdue_at_start,
            "new_capacity": capacity,
            "new_no_way": len(plan.breaches) - overdue_at_start - capacity,
            "allocated_pct": stats["by_allocated_worker_pct"],
            "travel_min": stats["travel_min"],
            "travel_floor": travel_floor(plan, scenario),
            "workload_sd": round(statistics.pstdev(per_worker), 2) if per_worker else 0.0,
            "objective": plan.objective,
            "bound": plan.bound,
            "status": plan.status,
            "check_hard": len(report.hard),
            "peak_rss_mb": round(
                max(
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                    resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                )
                / 1024
            ),
        }
    )


def main() -> None:
    """Run the grid and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--planners", default="cp-sat,greedy")
    parser.add_argument("--weeks", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="Seed of the generated scenario.")
    parser.add_argument("--time-limit", type=float, default=None, help="Per-team cap (s).")
    parser.add_argument("--budget", type=float, default=None, help="Whole-plan budget (s).")
    parser.add_argument("--team-processes", type=int, default=2)
    parser.add_argument("--deterministic", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    context = multiprocessing.get_context("spawn")
    for size in args.sizes.split(","):
        for planner in args.planners.split(","):
            queue: multiprocessing.Queue = context.Queue()
            process = context.Process(target=run_one, args=(size, planner, args, queue))
            process.start()
            row = queue.get()
            process.join()
            rows.append(row)
            print(f"done {size} {planner}: {row['solve_s']} s", file=sys.stderr, flush=True)
    greedy = {r["size"]: r for r in rows if r["planner"] == "greedy"}
    for row in rows:
        base = greedy.get(row["size"])
        for key in ("travel_min", "travel_floor"):
            row[key.replace("_min", "") + "_vs_greedy"] = (
                f"{100 * (row[key] / base['travel_min'] - 1):+.0f}%"
                if base and base["travel_min"]
                else "-"
            )
    columns = [
        "size",
        "planner",
        "children",
        "workers",
        "visits",
        "solve_s",
        "first_plan_s",
        "breaches",
        "breaches_overdue_at_start",
        "breaches_new",
        "new_capacity",
        "new_no_way",
        "allocated_pct",
        "travel_min",
        "travel_vs_greedy",
        "travel_floor",
        "travel_floor_vs_greedy",
        "workload_sd",
        "objective",
        "bound",
        "status",
        "check_hard",
        "peak_rss_mb",
    ]
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print(" | ".join(c.ljust(widths[c]) for c in columns))
    print("-|-".join("-" * widths[c] for c in columns))
    for row in rows:
        print(" | ".join(str(row[c]).ljust(widths[c]) for c in columns))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
