"""Benchmark: subscription feeds under load, against a real `visitplan serve` on 127.0.0.1.

Usage: .venv/bin/python bench/feeds.py [--sizes S,M,L] [--clients 1,10,40] [--requests 400]
       [--budget 120] [--work DIR] [--hammer] [--change]

For each size: a generated authority (`generate(size, seed=0)`), two weeks planned from Monday
2026-11-30 by the greedy baseline (fast and checker-valid: the figures concern serving, not
planning), a fresh SQLite store and one feed token per worker. Then `visitplan serve` runs as
its own process, and for each client count C, `--requests` plain GETs (no If-None-Match, the
worst case) are made by C concurrent keep-alive connections, each request to the next
worker's feed in turn (many phones polling many feeds). A cell stops issuing requests after
`--budget` seconds and says how many it made.

The cells start once the server is idle (the desk reads the store ahead in the background after
start-up). Columns: requests/s (done / wall), p50 and p99 latency (request sent to body read),
errors (anything but 200, and connection failures), 429s among them, and the server process's
CPU seconds during the cell (user + system, from /proc). `--hammer` adds a row per size where
one token is polled by all clients at once (429s are expected there, not errors). `--change`
adds a row where the plan is replaced while 40 clients poll, and reports how long until every
feed served the new plan. The load generator runs on the same machine and its CPU competes with
the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = date(2026, 11, 30)
NOW = datetime(2026, 11, 29, 18, tzinfo=UTC)
TICKS = os.sysconf("SC_CLK_TCK")
REQUEST_TIMEOUT_S = 60.0  # a request unanswered this long counts as an error (status 0)


@dataclass
class Cell:
    """The outcome of one load run."""

    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0

    @property
    def errors(self) -> int:
        """Requests that did not get a 200 (connection failures count as status 0)."""
        return sum(s != 200 for s in self.statuses)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (and its reaped children) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / TICKS


def wait_idle(pid: int, limit_s: float = 180.0) -> float:
    """Seconds until the process stops using CPU (under 0.05 s in half a second): the desk
    reads the store ahead in the background after start-up, and cells measure steady state."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit_s:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.05:
            break
    return time.perf_counter() - t0


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of `values` (share in 0..1)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(share * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


async def fetch(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str, extra: str = ""
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 GET on a keep-alive connection: status, headers and body."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return status, headers, body


async def load(port: int, paths: list[str], clients: int, requests: int, budget_s: float) -> Cell:
    """`requests` GETs over `clients` connections, each request to the next path in turn."""
    cell = Cell()
    counter = iter(range(requests))
    deadline = time.perf_counter() + budget_s

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in counter:
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    status, _, _ = await asyncio.wait_for(
                        fetch(reader, writer, paths[i % len(paths)]), REQUEST_TIMEOUT_S
                    )
                except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                    status = 0
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                cell.latencies.append(time.perf_counter() - t0)
                cell.statuses.append(status)
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    cell.wall_s = time.perf_counter() - t0
    return cell


def start_server(
    db: str, port: int, log: Path, extra: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """`visitplan serve` as its own process (its output to `log`), once it answers HTTP."""
    exe = Path(sys.executable).with_name("visitplan")
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [str(exe), "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port), *extra],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except urllib.error.HTTPError:
            return proc
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("serve did not answer in 600 s")


def prepare(size: str, work: Path, port: int) -> tuple[str, list[str], object, object]:
    """A fresh store for `size` with a two-week plan and a token per worker."""
    from integrations.feeds import issue_token
    from scheduler.baseline import plan_greedy
    from scheduler.domain import Plan, Scenario
    from scheduler.generate import generate
    from scheduler.store import Store

    cache = work / f"{size}-scenario.json"
    plan_cache = work / f"{size}-plan.json"
    if cache.exists() and plan_cache.exists():
        scenario = Scenario.model_validate_json(cache.read_text())
        plan = Plan.model_validate_json(plan_cache.read_text())
    else:
        scenario = generate(size, seed=0, start=START)  # type: ignore[arg-type]
        plan = plan_greedy(scenario, START, weeks=2)
        cache.write_text(scenario.model_dump_json())
        plan_cache.write_text(plan.model_dump_json())
    path = work / f"feeds-{size}.db"
    path.unlink(missing_ok=True)
    db = f"sqlite:///{path}"
    with Store(db) as store:
        store.replace_caseload(scenario)
        store.save_plan(plan, NOW)
        base = f"http://127.0.0.1:{port}"
        paths = [issue_token(store, w.id, NOW, base).removeprefix(base) for w in scenario.workers]
    return db, paths, scenario, plan


def replace_plan(db: str, plan: object) -> None:
    """Save the plan with every visit an hour later, as a re-plan would."""
    from datetime import timedelta

    from scheduler.domain import Plan
    from scheduler.store import Store

    assert isinstance(plan, Plan)
    moved = plan.model_copy(
        update={
            "id": f"{plan.id}-moved",
            "visits": tuple(
                v.model_copy(update={"start": v.start + timedelta(hours=1)}) for v in plan.visits
            ),
        }
    )
    with Store(db) as store:
        store.save_plan(moved, NOW)


async def change_while_polling(port: int, paths: list[str], db: str, plan: object) -> str:
    """Replace the plan while 40 clients poll; how long until every feed has a new ETag."""
    first: dict[str, str] = {}
    stale: set[str] = set()  # feeds with visits, whose body must change
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for path in paths:
        _, headers, body = await fetch(reader, writer, path)
        first[path] = headers.get("etag", "")
        if b"BEGIN:VEVENT" in body:
            stale.add(path)
    writer.close()
    watched = len(stale)
    statuses: list[int] = []
    latencies: list[float] = []
    changed_at = time.perf_counter()
    done_at: float | None = None
    loop = asyncio.get_running_loop()
    writer_task = loop.run_in_executor(None, replace_plan, db, plan)

    async def client(offset: int) -> None:
        nonlocal done_at
        r, w = await asyncio.open_connection("127.0.0.1", port)
        i = offset
        try:
            while done_at is None and time.perf_counter() - changed_at < 300:
                path = paths[i % len(paths)]
                i += 40
                t0 = time.perf_counter()
                try:
                    status, headers, _ = await fetch(r, w, path)
                except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
                    status, headers = 0, {}
                    w.close()
                    r, w = await asyncio.open_connection("127.0.0.1", port)
                latencies.append(time.perf_counter() - t0)
                statuses.append(status)
                if writer_task.done() and headers.get("etag") not in (None, first[path]):
                    stale.discard(path)
                    if not stale:
                        done_at = time.perf_counter()
        finally:
            w.close()

    await asyncio.gather(*(client(k) for k in range(40)))
    await writer_task
    errors = sum(s not in (200, 429) for s in statuses)
    limited = sum(s == 429 for s in statuses)
    took = f"{done_at - changed_at:.1f} s" if done_at else "not within 300 s"
    return (
        f"all {watched} feeds with visits new after {took}; {len(statuses)} requests, "
        f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, {errors} errors, {limited} 429s "
        "(every feed is polled as fast as the clients can, far above the per-token limit)"
    )


def row(size: str, clients: int | str, cell: Cell, planned: int) -> list[str]:
    """One table row."""
    done = len(cell.statuses)
    return [
        size,
        str(clients),
        f"{done}/{planned}",
        f"{done / cell.wall_s:.1f}" if cell.wall_s else "-",
        f"{statistics.median(cell.latencies) * 1000:.0f}" if cell.latencies else "-",
        f"{percentile(cell.latencies, 0.99) * 1000:.0f}" if cell.latencies else "-",
        str(cell.errors),
        str(sum(s == 429 for s in cell.statuses)),
        f"{cell.cpu_s:.1f}",
    ]


def main() -> None:
    """Run the cells and print one table."""
    from integrations.testing import free_port

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--clients", default="1,10,40")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per cell")
    parser.add_argument("--work", type=Path, default=None, help="keep stores and plans here")
    parser.add_argument("--hammer", action="store_true", help="one token, all clients")
    parser.add_argument("--change", action="store_true", help="replace the plan under load")
    parser.add_argument(
        "--feed-rate", type=int, default=None, help="passed to `serve --feed-rate` (0: no limit)"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="visitplan-feeds-"))
    work.mkdir(parents=True, exist_ok=True)
    header = ["size", "clients", "requests", "req/s", "p50 ms", "p99 ms", "errors", "429", "CPU s"]
    rows: list[list[str]] = []
    notes: list[str] = []
    for size in args.sizes.split(","):
        port = free_port()
        t0 = time.perf_counter()
        db, paths, _, plan = prepare(size, work, port)
        setup = time.perf_counter() - t0
        t0 = time.perf_counter()
        log = work / f"serve-{size}.log"
        extra = ("--feed-rate", str(args.feed_rate)) if args.feed_rate is not None else ()
        proc = start_server(db, port, log, extra)
        ready = time.perf_counter() - t0
        idle = wait_idle(proc.pid)
        notes.append(
            f"{size}: {len(paths)} feeds; setup {setup:.1f} s; server ready after {ready:.1f} s, "
            f"idle after {ready + idle:.1f} s ({cpu_seconds(proc.pid):.1f} CPU s by then)"
        )
        try:
            for clients in (int(c) for c in args.clients.split(",")):
                before = cpu_seconds(proc.pid)
                cell = asyncio.run(load(port, paths, clients, args.requests, args.budget))
                cell.cpu_s = cpu_seconds(proc.pid) - before
                rows.append(row(size, clients, cell, args.requests))
                print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
            if args.hammer:
                before = cpu_seconds(proc.pid)
                cell = asyncio.run(load(port, paths[:1], 40, args.requests, args.budget))
                cell.cpu_s = cpu_seconds(proc.pid) - before
                rows.append(row(size, "40, one token", cell, args.requests))
            if args.change:
                notes.append(
                    f"{size} plan replaced under load: "
                    + asyncio.run(change_while_polling(port, paths, db, plan))
                )
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            tracebacks = log.read_text(errors="replace").count("Traceback")
            notes.append(f"{size}: {tracebacks} traceback(s) in the server's log")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)))
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
