"""Benchmark: the planner against the greedy baseline on generated S, M, L and 4 x L authorities.

Usage: .venv/bin/python bench/plan.py [--sizes S,M,L,4L] [--planners greedy,warm,cp-sat]
    [--weeks 2] [--seed 0] [--time-limit S] [--processes N] [--no-floor] [--model-size]
    [--phases] [--json FILE]

Planners: `greedy` (scheduler.baseline: earliest deadline first, by hand), `warm` (the
planner's warm start, routed and polished, no search: `SolveParams(search=False)`), `cp-sat`
(the planner as the command line runs it: deterministic limits, `--processes` processes).
`4L` is L with 30,000 children. Each (size, planner) runs in its own process; a thread
samples that process and all its descendants (the pool's processes) with psutil every
0.25 s: `cpu_s` sums every process's CPU time from the plan's start (until the third round
of issue 12 it also counted the parent's ~4 s of generating the scenario and importing),
`rss_mb` is the largest sum of all their resident memory seen at once. Wall-clock figures
depend on the machine's load; CPU seconds and the plans themselves do not (deterministic
limits).

`floor` is the dated travel floor (bench/travel_floor.py): the least travel the plan's own
visits could have with the same workers, each on a day no later than its due date, each
worker-day routed inside the families' start windows and the worker's hours.
`skipped` is the share of teams whose search stopped at its check (the first pass over the
workers found nothing to improve), `warm kept` the share where the warm start measured
better than the search and was kept. `--model-size` prints, per size, the stage-1 lead
variables with every eligible worker against the allocated worker and fallbacks, and the
model's Boolean variables. `--phases` plans each size in this one process (`processes=1`) and
prints the CPU seconds of each phase (translation, model build, search, CP-SAT solves by
kind, routing, polish, breach simulation), each exclusive of the phases it calls. Speed is
measured here, never in unit tests.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

START = date(2026, 11, 30)
SIZES = {"S": ("S", None), "M": ("M", None), "L": ("L", None), "4L": ("L", 30_000)}


class TreeSampler:
    """Samples a process and its descendants: CPU seconds each, and their summed RSS."""

    def __init__(self, period_s: float = 0.25) -> None:
        import psutil

        self.root = psutil.Process()
        self.period_s = period_s
        self.cpu: dict[int, float] = {}
        self.peak_rss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        rss = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    self.cpu[process.pid] = times.user + times.system
                    rss += process.memory_info().rss
            except psutil.Error:
                continue
        self.peak_rss = max(self.peak_rss, rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.period_s)

    def __enter__(self) -> TreeSampler:
        times = self.root.cpu_times()
        self.before_s = times.user + times.system
        self._thread.start()
        return self

    def cpu_s(self) -> float:
        """CPU seconds of every process since the sampler began (the parent's earlier
        work, generating the scenario and importing, left out)."""
        return sum(self.cpu.values()) - self.before_s

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def run_one(size: str, planner: str, args: argparse.Namespace, queue: Any) -> None:
    """Generate, plan and check one case; put a dict of figures on `queue`."""
    from travel_floor import dated_floor

    from scheduler.baseline import plan_greedy
    from scheduler.check import check_plan
    from scheduler.generate import generate
    from scheduler.planning import plan_scenario
    from scheduler.render import plan_statistics
    from solver.params import SolveParams

    name, children = SIZES[size]
    scenario = generate(name, seed=args.seed, start=START, children=children)  # type: ignore[arg-type]
    messages: list[str] = []
    with TreeSampler() as sampler:
        t0 = time.perf_counter()
        if planner == "greedy":
            plan = plan_greedy(scenario, START, weeks=args.weeks)
        else:
            update: dict[str, object] = {"search": planner == "cp-sat"}
            if args.time_limit is not None:
                update["time_limit_s"] = args.time_limit
            plan = plan_scenario(
                scenario,
                START,
                weeks=args.weeks,
                params=SolveParams(**update),  # type: ignore[arg-type]
                progress=messages.append,
                processes=args.processes,
            )
        wall = time.perf_counter() - t0
    report = check_plan(scenario, plan)
    stats = plan_statistics(plan, scenario)
    teams = [m for m in messages if " visits modelled" in m]
    overdue_at_start = sum(1 for b in plan.breaches if b.due < START)
    queue.put(
        {
            "size": size,
            "planner": planner,
            "children": len(scenario.children),
            "workers": len(scenario.workers),
            "teams": len(scenario.teams),
            "wall_s": round(wall, 1),
            "cpu_s": round(sampler.cpu_s(), 1),
            "rss_mb": round(sampler.peak_rss / 2**20),
            "visits": stats["visits"],
            "breaches": len(plan.breaches),
            "new_breaches": len(plan.breaches) - overdue_at_start,
            "allocated_pct": stats["by_allocated_worker_pct"],
            "travel_min": stats["travel_min"],
            "floor_min": None if args.no_floor else dated_floor(plan, scenario),
            "skipped_pct": round(100 * sum("search skipped" in m for m in teams) / len(teams))
            if teams and planner == "cp-sat"
            else None,
            "warm_kept_pct": round(100 * sum("warm start kept" in m for m in teams) / len(teams))
            if teams and planner == "cp-sat"
            else None,
            "safety_net": plan.safety_net,
            "check_hard": len(report.hard),
            "sha256": hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:12],
        }
    )


def model_size(size: str, args: argparse.Namespace) -> dict[str, object]:
    """Stage-1 lead variables (every eligible worker vs the candidates) and Booleans."""
    from policies import load_pack
    from scheduler.due import calendar_for
    from scheduler.generate import generate
    from scheduler.translate import make_context, team_groups, to_problem
    from solver.params import SolveParams
    from solver.solve import _Stage1
    from solver.variables import can_visit_alone

    name, children = SIZES[size]
    scenario = generate(name, seed=args.seed, start=START, children=children)  # type: ignore[arg-type]
    pack = load_pack(scenario.authority.id)
    ctx = make_context(scenario, pack, calendar_for(pack), START, args.weeks, 4)
    counts: Counter[str] = Counter()
    for teams in team_groups(scenario):
        problem = to_problem(ctx, teams).problem
        stage = _Stage1(problem, SolveParams())
        counts["booleans"] += len(stage.model.proto.variables)
        counts["leads"] += len(stage.vars.main)
        counts["leads_every_eligible"] += sum(
            1
            for t, task in enumerate(problem.tasks)
            for option in task.days
            if option.day < problem.horizon_days
            for r in option.resources
            if can_visit_alone(problem, t, option.day, r)
        )
    return {"size": size, **counts}


PHASES = (
    ("scheduler.planning", "to_problem", "translation (incl. the due engine)"),
    ("solver.solve", "_Stage1.__init__", "stage-1 model build"),
    ("solver.solve", "greedy_hint", "warm start"),
    ("solver.solve", "complete_hint", "hint completion"),
    ("solver.search", "_Index.__init__", "search: index of the model"),
    ("solver.search", "_part_model", "search: part models built"),
    ("solver.solve", "polish", "travel polish"),
    ("solver.days", "Sequencer.route", "routing (stage 2)"),
    ("solver.days", "Sequencer.cuts", "cut derivation"),
    ("solver.solve", "measure", "measures"),
    ("scheduler.planning", "_visits_and_breaches", "visits and breach simulation"),
    ("scheduler.planning", "group_context", "team jobs cut out"),
)
"""(module, function or Class.method, label): each timed exclusive of the others."""
SOLVES = {
    "_solve_part": "CP-SAT: search parts and cut repairs",
    "_check_hint": "CP-SAT: warm start check",
    "solve": "CP-SAT: whole-team solves (repair, old cut rounds)",
    "sequence_day": "CP-SAT: day sequencing",
}


def phases(size: str, args: argparse.Namespace) -> list[dict[str, object]]:
    """CPU seconds by phase of `plan_scenario` in this one process (`processes=1`): each
    phase's function wrapped to add its process time, less the phases it calls."""
    import functools
    import importlib

    from ortools.sat.python import cp_model

    from scheduler.generate import generate
    from scheduler.planning import plan_scenario
    from solver.params import SolveParams

    spent: dict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    stack: list[str] = []

    def timed(label: str, function: Any) -> Any:
        @functools.wraps(function)
        def run(*a: Any, **k: Any) -> Any:
            began = time.process_time()
            stack.append(label)
            try:
                return function(*a, **k)
            finally:
                stack.pop()
                took = time.process_time() - began
                spent[label] += took
                calls[label] += 1
                if stack:
                    spent[stack[-1]] -= took

        return run

    for module, path, label in PHASES:
        holder: Any = importlib.import_module(module)  # `solver.solve` is also a function
        *owners, name = path.split(".")
        for owner in owners:
            holder = getattr(holder, owner)
        setattr(holder, name, timed(label, getattr(holder, name)))
    solve = cp_model.CpSolver.solve

    def counted(self: cp_model.CpSolver, model: cp_model.CpModel, *a: Any, **k: Any) -> Any:
        label = SOLVES.get(sys._getframe(1).f_code.co_name, "CP-SAT: other")
        return timed(label, solve)(self, model, *a, **k)

    cp_model.CpSolver.solve = counted  # type: ignore[method-assign]
    name, children = SIZES[size]
    scenario = generate(name, seed=args.seed, start=START, children=children)  # type: ignore[arg-type]
    update: dict[str, object] = {}
    if args.time_limit is not None:
        update["time_limit_s"] = args.time_limit
    began, cpu = time.perf_counter(), time.process_time()
    plan = plan_scenario(
        scenario,
        START,
        weeks=args.weeks,
        params=SolveParams(**update),  # type: ignore[arg-type]
        processes=1,
    )
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    rows: list[dict[str, object]] = [
        {"phase": label, "cpu_s": round(spent[label], 2), "calls": calls[label]}
        for label in sorted(spent, key=lambda x: -spent[x])
    ]
    rest = round(cpu - sum(spent.values()), 2)
    rows.append({"phase": "the rest (solver bookkeeping, plan assembly)", "cpu_s": rest})
    rows.append({"phase": f"all ({wall:.1f} s wall)", "cpu_s": round(cpu, 2)})
    digest = hashlib.sha256(plan.model_dump_json().encode()).hexdigest()[:12]
    rows.append(
        {"phase": f"plan {digest}: {len(plan.visits)} visits, {len(plan.breaches)} breaches"}
    )
    return rows


def _table(rows: list[dict[str, object]], columns: list[str]) -> None:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    print(" | ".join(c.ljust(widths[c]) for c in columns))
    print("-|-".join("-" * widths[c] for c in columns))
    for row in rows:
        print(" | ".join(str(row.get(c, "")).ljust(widths[c]) for c in columns))


def main() -> None:
    """Run the grid and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--planners", default="greedy,warm,cp-sat")
    parser.add_argument("--weeks", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="Seed of the generated scenario.")
    parser.add_argument("--time-limit", type=float, default=None, help="Per-team (det. s).")
    parser.add_argument("--processes", type=int, default=None, help="Default: all cores.")
    parser.add_argument("--no-floor", action="store_true", help="Skip the dated floor.")
    parser.add_argument("--model-size", action="store_true")
    parser.add_argument(
        "--phases", action="store_true", help="CPU seconds by phase, one process (cp-sat)."
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    sizes = args.sizes.split(",")
    if args.phases:
        for size in sizes:
            _table(phases(size, args), ["phase", "cpu_s", "calls"])
        return
    if args.model_size:
        _table(
            [model_size(size, args) for size in sizes],
            ["size", "leads_every_eligible", "leads", "booleans"],
        )
        return
    rows = []
    context = multiprocessing.get_context("spawn")
    for size in sizes:
        for planner in args.planners.split(","):
            queue = context.Queue()
            process = context.Process(target=run_one, args=(size, planner, args, queue))
            process.start()
            row = queue.get()
            process.join()
            rows.append(row)
            print(f"done {size} {planner}: {row['wall_s']} s", file=sys.stderr, flush=True)
    greedy = {r["size"]: r for r in rows if r["planner"] == "greedy"}
    for row in rows:
        base = greedy.get(row["size"])
        for key in ("travel_min", "floor_min"):
            value = row[key]
            row[key.replace("_min", "") + "_vs_greedy"] = (
                f"{100 * (value / base['travel_min'] - 1):+.1f}%"
                if base and base["travel_min"] and value is not None
                else "-"
            )
    _table(
        rows,
        [
            "size",
            "planner",
            "children",
            "teams",
            "wall_s",
            "cpu_s",
            "rss_mb",
            "visits",
            "breaches",
            "new_breaches",
            "allocated_pct",
            "travel_min",
            "travel_vs_greedy",
            "floor_min",
            "floor_vs_greedy",
            "skipped_pct",
            "warm_kept_pct",
            "safety_net",
            "check_hard",
        ],
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
