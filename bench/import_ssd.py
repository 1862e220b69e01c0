"""Benchmark: importing an SSD extract of L size (7,500 open children, six years of visits).

Usage: python bench/import_ssd.py [--children N] [--years Y] [--no-reimport]. Writes a
synthetic extract (real North Somerset postcodes, never real children) to a temporary folder,
then imports it into a fresh SQLite store in a separate process, and imports it again (the
monthly re-run: nothing new, every row compared). Prints a table: rows, wall and CPU seconds
per phase, peak resident memory of each process and their sum, and the postcode look-up rate.
Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import functools
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

AS_OF = date(2026, 11, 29)
LONDON = ZoneInfo("Europe/London")
DISTRICT = "E06000024"
PHASES = ("read_ssd", "assemble", "write_extract", "clocks_resting_on_home")


def _write(folder: Path, name: str, header: list[str], rows: list[list[object]]) -> int:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


def write_extract(folder: Path, children: int, years: int, postcodes: list[str]) -> int:
    """A synthetic SSD extract; returns the number of data rows written.

    CIN, CP and CLA children's visits go to their own visit tables; a third of CP visits are
    also written to the CIN table, as Liquid Logic does (the import keeps them once).
    """
    rng = random.Random(0)
    teams, staff = max(1, children // 107), max(3, children // 15)
    person, address, invo, cin, cp, cla, place, legal = ([] for _ in range(8))
    visits: dict[str, list[list[object]]] = {"cin": [], "cp": [], "cla": []}
    for i in range(children):
        pid = f"P{i:06d}"
        start = AS_OF - timedelta(days=rng.randint(30, 365 * years))
        person.append([pid, f"{rng.randint(2008, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"])
        address.append([pid, rng.choice(postcodes), "2015-01-01", ""])
        invo.append([pid, f"S{i % staff:05d}", "AW", f"D{i % teams:03d}", start.isoformat(), ""])
        kind = rng.random()
        if kind < 0.2:
            table = "cla"
            cla.append([f"E{i}", pid, f"C{i}", start.isoformat(), ""])
            place.append(
                [f"PL{i}", f"C{i}", pid, start.isoformat(), "", "U6", rng.choice(postcodes)]
            )
            legal.append([pid, "C2", start.isoformat(), ""])
        elif kind < 0.32:
            table = "cp"
            cp.append([f"CPP{i}", pid, start.isoformat(), "", "N"])
        else:
            table = "cin"
            cin.append([f"CINP{i}", pid, start.isoformat(), ""])
        day, n = start, 0
        while day <= AS_OF:
            n += 1
            row: list[object] = [f"V{i}-{n}", pid, f"{day.isoformat()} 00:00:00.000", "Y", "Y"]
            visits[table].append(row if table == "cla" else [*row, "N"])
            if table == "cp" and n % 3 == 0:
                visits["cin"].append([*row, "N"])
            day += timedelta(days=rng.randint(10, 40))
    rows = _write(folder, "ssd_person", ["pers_person_id", "pers_dob"], person)
    rows += _write(folder, "ssd_address", ["addr_person_id", "addr_address_postcode",
                   "addr_address_start_date", "addr_address_end_date"], address)  # fmt: skip
    rows += _write(folder, "ssd_professionals", ["prof_professional_id", "prof_professional_name",
                   "prof_social_worker_registration_no"],
                   [[f"S{s:05d}", f"Worker {s}", "SW1"] for s in range(staff)])  # fmt: skip
    rows += _write(folder, "ssd_department", ["dept_team_id", "dept_team_name"],
                   [[f"D{t:03d}", f"Team {t}"] for t in range(teams)])  # fmt: skip
    rows += _write(folder, "ssd_involvements", ["invo_person_id", "invo_professional_id",
                   "invo_professional_role_id", "invo_professional_team",
                   "invo_involvement_start_date", "invo_involvement_end_date"], invo)  # fmt: skip
    rows += _write(folder, "ssd_cin_plans", ["cinp_cin_plan_id", "cinp_person_id",
                   "cinp_cin_plan_start_date", "cinp_cin_plan_end_date"], cin)  # fmt: skip
    rows += _write(folder, "ssd_cp_plans", ["cppl_cp_plan_id", "cppl_person_id",
                   "cppl_cp_plan_start_date", "cppl_cp_plan_end_date",
                   "cppl_cp_plan_ola"], cp)  # fmt: skip
    rows += _write(folder, "ssd_cla_episodes", ["clae_cla_episode_id", "clae_person_id",
                   "clae_cla_id", "clae_cla_episode_start_date", "clae_cla_episode_ceased_date"],
                   cla)  # fmt: skip
    rows += _write(folder, "ssd_cla_placement", ["clap_cla_placement_id", "clap_cla_id",
                   "clap_person_id", "clap_cla_placement_start_date", "clap_cla_placement_end_date",
                   "clap_cla_placement_type", "clap_cla_placement_postcode"], place)  # fmt: skip
    rows += _write(folder, "ssd_legal_status", ["lega_person_id", "lega_legal_status",
                   "lega_legal_status_start_date",
                   "lega_legal_status_end_date"], legal)  # fmt: skip
    for table, prefix in (("cin", "cinv_cin_visit"), ("cp", "cppv_cp_visit"),
                          ("cla", "clav_cla_visit")):  # fmt: skip
        who = f"{prefix.split('_')[0]}_person_id"
        header = [f"{prefix}_id", who, f"{prefix}_date", f"{prefix}_seen", f"{prefix}_seen_alone"]
        if table != "cla":
            header.append(f"{prefix}_bedroom")
        rows += _write(folder, f"ssd_{table}_visits", header, visits[table])
    return rows


def _timed(name: str, spent: dict[str, float], func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return func(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - start

    return wrapper


def run_imports(folder: Path, reimport: bool, queue: multiprocessing.Queue) -> None:
    """In a fresh process: import the extract into a new store (and again); put the figures."""
    import scheduler.extracts.importing as importing
    from scheduler.store import Store

    spent: dict[str, float] = {}
    for name in PHASES:
        setattr(importing, name, _timed(name, spent, getattr(importing, name)))
    store = Store(f"sqlite:///{folder / 'bench.db'}")
    results = []
    for day in (29, 30) if reimport else (29,):
        spent.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        now = datetime(2026, 11, day, 9, tzinfo=LONDON)
        report = importing.import_extract(store, "ssd", folder, "north-somerset", AS_OF, now=now)
        results.append(
            {
                "wall": time.perf_counter() - wall,
                "cpu": time.process_time() - cpu,
                "phases": dict(spent),
                "counts": report.counts,
                "added": len(report.added),
                "changed": len(report.changed),
                "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    queue.put(results)


def main() -> None:
    """Write, import (in a child process) and print the table."""
    from scheduler.postcodes import PostcodeDirectory

    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=7500)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--no-reimport", action="store_true")
    args = parser.parse_args()
    directory = PostcodeDirectory()
    t0 = time.process_time()
    postcodes = [p for p, _ in directory.in_district(DISTRICT, "B")]
    load_cpu = time.process_time() - t0
    sample = postcodes * (200000 // len(postcodes) + 1)
    t0, c0 = time.perf_counter(), time.process_time()
    for postcode in sample[:200000]:
        directory.locate(postcode)
    wall_rate = 200000 / (time.perf_counter() - t0)
    cpu_rate = 200000 / (time.process_time() - c0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = write_extract(folder, args.children, args.years, postcodes)
        megabytes = sum(f.stat().st_size for f in folder.glob("*.csv")) / 2**20
        print(f"extract written: {rows:,} rows, {megabytes:.0f} MB", file=sys.stderr, flush=True)
        context = multiprocessing.get_context("spawn")
        queue: multiprocessing.Queue = context.Queue()
        process = context.Process(target=run_imports, args=(folder, not args.no_reimport, queue))
        process.start()
        results = queue.get()
        process.join()
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("| import | children | rows read | records | households | wall s | CPU s | "
          + " | ".join(f"{p} CPU s" for p in PHASES)
          + " | peak RSS MiB (import process) | + bench process | sum |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(PHASES) + "---:|---:|---:|")
    for label, r in zip(("first", "again"), results, strict=False):
        phases = " | ".join(f"{r['phases'].get(p, 0):.1f}" for p in PHASES)
        print(f"| {label} | {r['counts']['children']:,} | {rows:,} | {r['counts']['records']:,} "
              f"| {r['counts']['households']:,} | {r['wall']:.1f} | {r['cpu']:.1f} | {phases} "
              f"| {r['rss']:.0f} | {parent:.0f} | {r['rss'] + parent:.0f} |")  # fmt: skip
    print(
        f"\nPostcode look-ups (letter B loaded; {load_cpu:.2f} s CPU to load it and list the "
        f"district): {cpu_rate:,.0f} per CPU second ({wall_rate:,.0f} per wall second)."
    )


if __name__ == "__main__":
    main()
