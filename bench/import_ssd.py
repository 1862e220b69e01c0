"""Benchmark: importing an SSD extract of L size (7,500 open children, six years of visits).

Usage: python bench/import_ssd.py [--children N] [--years Y]. Writes a synthetic extract (real
North Somerset postcodes, never real children) to a temporary folder, imports it into a fresh
SQLite store, and prints a table: rows, wall and CPU seconds, peak Python memory, and the
postcode look-up rate. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.extracts.importing import import_extract
from scheduler.postcodes import PostcodeDirectory
from scheduler.store import Store

AS_OF = date(2026, 11, 29)
LONDON = ZoneInfo("Europe/London")


def _write(folder: Path, name: str, header: list[str], rows: list[list[object]]) -> int:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)


def write_extract(folder: Path, children: int, years: int, postcodes: list[str]) -> int:
    """A synthetic SSD extract; returns the number of rows written."""
    rng = random.Random(0)
    teams, staff = max(1, children // 107), max(3, children // 15)
    person, address, invo, cin, cp, cla, place, legal, visits = ([] for _ in range(9))
    for i in range(children):
        pid = f"P{i:06d}"
        start = AS_OF - timedelta(days=rng.randint(30, 365 * years))
        person.append([pid, f"{rng.randint(2008, 2025)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"])
        address.append([pid, rng.choice(postcodes), "2015-01-01", ""])
        invo.append([pid, f"S{i % staff:05d}", "AW", f"D{i % teams:03d}", start.isoformat(), ""])
        kind = rng.random()
        if kind < 0.2:
            cla.append([f"E{i}", pid, f"C{i}", start.isoformat(), ""])
            place.append(
                [f"PL{i}", f"C{i}", pid, start.isoformat(), "", "U6", rng.choice(postcodes)]
            )
            legal.append([pid, "C2", start.isoformat(), ""])
        elif kind < 0.32:
            cp.append([f"CPP{i}", pid, start.isoformat(), "", "N"])
        else:
            cin.append([f"CINP{i}", pid, start.isoformat(), ""])
        day, n = start, 0
        while day <= AS_OF:
            n += 1
            visits.append([f"V{i}-{n}", pid, f"{day.isoformat()} 00:00:00.000", "Y", "Y", "N"])
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
    rows += _write(folder, "ssd_cin_visits", ["cinv_cin_visit_id", "cinv_person_id",
                   "cinv_cin_visit_date", "cinv_cin_visit_seen", "cinv_cin_visit_seen_alone",
                   "cinv_cin_visit_bedroom"], visits)  # fmt: skip
    return rows


def main() -> None:
    """Write, import and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=7500)
    parser.add_argument("--years", type=int, default=6)
    args = parser.parse_args()
    directory = PostcodeDirectory()
    t0 = time.process_time()
    postcodes = [p for p, _ in directory.in_district("E06000024", "B")]
    load_cpu = time.process_time() - t0
    sample = postcodes * (200000 // len(postcodes) + 1)
    t0 = time.perf_counter()
    for postcode in sample[:200000]:
        directory.locate(postcode)
    rate = 200000 / (time.perf_counter() - t0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = write_extract(folder, args.children, args.years, postcodes)
        store = Store(f"sqlite:///{folder / 'bench.db'}")
        tracemalloc.start()
        wall, cpu = time.perf_counter(), time.process_time()
        report = import_extract(store, "ssd", folder, "north-somerset", AS_OF,
                                now=datetime(2026, 11, 29, 9, tzinfo=LONDON))  # fmt: skip
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(
        "| children | rows read | records | households | import wall s | import CPU s "
        "| peak MiB (tracemalloc) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {report.counts['children']:,} | {rows:,} | {report.counts['records']:,} | "
          f"{report.counts['households']:,} | {wall:.1f} | {cpu:.1f} | {peak:.0f} |")  # fmt: skip
    print(
        f"\nPostcode look-ups (letter B loaded, CPU {load_cpu:.2f} s to load and list the "
        f"district): {rate:,.0f} per second."
    )


if __name__ == "__main__":
    main()
