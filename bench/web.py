"""Benchmark: the manager's desk on generated M and L authorities.

Usage: .venv/bin/python bench/web.py [--workdir DIR] [--skip-l] [--managers 20] [--requests 15]

Prints four tables (speed is measured here, never asserted in tests):

1. Board: server time of `/teams/<team>/week` for the largest M team, first request (the
   store read into a snapshot) and warm (median and slowest of 20), wall and CPU.
   Target (issue 14): <= 200 ms.
2. Compliance: the authority-wide `/due` page of L, first request (every child's due dates
   worked out) and warm. Target: <= 1 s.
3. Absence preview vs the CLI: the M case of bench/replan.py (the worker with most visits
   Tuesday to Thursday is off those days): `visitplan absence add` + `visitplan replan
   --from <Tuesday>` as commands, against the desk's POST of the same absence and its
   preview finishing. Target: the preview within 1 s of the command.
   `split` times the cold page's parts: the store read, the due engine, the rows, the page.
4. Concurrency: a real `visitplan serve` on the M store; N signed-in managers (one team
   each) load boards of random weeks at once. Target: p99 <= 500 ms, no error.

In-process figures use Starlette's TestClient (the app without the HTTP server). Stores
and plans are cached in --workdir (an L plan takes minutes).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from integrations.feeds import FeedServer, issue_token, make_app, revoke_token
from integrations.testing import free_port
from scheduler import caseload, service
from scheduler.accounts import add_user
from scheduler.feed_source import StoreFeedSource
from scheduler.generate import generate
from scheduler.store import Store, kept_table
from scheduler.web.app import create_app
from scheduler.web.context import DeskServices

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

START = date(2026, 11, 30)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
"""Tuesday morning of the plan's first week."""
PASSWORD = "bench password 1"
SECRET = "bench-" + "s" * 40
VISITPLAN = Path(sys.executable).with_name("visitplan")


def store_for(size: str, workdir: Path, weeks: int, managers: int) -> Path:
    """A store with a generated authority, a plan and desk users (cached)."""
    path = workdir / f"{size}.db"
    if path.exists():
        return path
    print(f"building the {size} store (generate, plan {weeks} week(s))...", file=sys.stderr)
    scenario = generate(size, seed=0, start=START)  # type: ignore[arg-type]
    store = Store(f"sqlite:///{path}")
    store.replace_caseload(scenario)
    started = time.perf_counter()
    plan = service.plan_caseload(scenario, START, weeks, service.solve_params(0.3, 0))
    print(f"  planned in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    store.save_plan(plan, NOW)
    add_user(store, "admin", "admin", PASSWORD, NOW)
    teams = [t.id for t in scenario.teams]
    for i in range(managers):
        add_user(store, f"m{i:02d}", "manager", PASSWORD, NOW, teams=(teams[i % len(teams)],))
    store.close()
    return path


def client_for(store: Store, warm: bool = False) -> TestClient:
    services = DeskServices(issue_token, revoke_token, None)
    app = create_app(
        store,
        lambda: NOW,
        SECRET,
        services,
        "http://testserver",
        make_app(FeedServer(StoreFeedSource(store), lambda: NOW)),
        warm=warm,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app, follow_redirects=True)


def sign_in(client: Any, name: str) -> None:
    page = client.get("/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
    response = client.post("/login", data={"name": name, "password": PASSWORD, "csrftoken": token})
    assert "Sign out" in response.text, response.text[:200]


def timed(call: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process, result)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def table(title: str, header: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def change_elsewhere(store_path: Path, n: int) -> None:
    """What `visitplan child edit CHILD --case-ref REF` does from the command line: one
    child's record changed through another connection to the store."""
    other = Store(f"sqlite:///{store_path}")
    child = other.read_scenario().children[0].id
    caseload.edit_child(other, child, case_ref=f"BENCH-{n:04d}", by="bench", now=NOW)
    other.close()


def import_elsewhere(store_path: Path, n: int) -> None:
    """What a nightly import does from the command line: the caseload merged from an extract
    (here the store's own, one child's case reference changed), through another connection."""
    other = Store(f"sqlite:///{store_path}")
    scenario = other.read_scenario()
    first = scenario.children[0].model_copy(update={"case_ref": f"IMPORT-{n:04d}"})
    other.merge_caseload(
        scenario.model_copy(update={"children": (first, *scenario.children[1:])}),
        source="bench import",
        by="bench",
        now=NOW,
    )
    other.close()


def copy_store(source: Path, target: Path) -> None:
    """`source` copied to `target`, with any write-ahead log of an earlier `target` removed
    first (SQLite would apply a stale one to the copy and corrupt it)."""
    for stale in (
        target,
        target.with_name(target.name + "-wal"),
        target.with_name(target.name + "-shm"),
    ):
        stale.unlink(missing_ok=True)
    shutil.copy(source, target)


def forget_kept(store: Store) -> None:
    """Drop the rows a desk kept in the store (as if none had ever read it)."""
    with store.engine.begin() as conn:
        conn.execute(delete(kept_table))


def restarted_first(store_path: Path, user: str, path: str) -> tuple[float, float]:
    """(wall s, CPU s) of a restarted desk's first request: a new process signs in, drops
    the snapshot that built, and times the first page (`--only first-request`)."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--only",
            "first-request",
            "--first-store",
            str(store_path),
            "--first-user",
            user,
            "--first-path",
            path,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    wall, cpu = out.split()[-2:]
    return float(wall), float(cpu)


def first_request(store_path: Path, user: str, path: str) -> None:
    """In this process: sign in, drop the snapshot, print the first request's wall and CPU s."""
    store = Store(f"sqlite:///{store_path}")
    client = client_for(store)
    sign_in(client, user)
    client.app.state.desk.cache.drop()  # type: ignore[attr-defined]
    wall, cpu, response = timed(lambda: client.get(path))
    assert response.status_code == 200, response.status_code
    client.app.state.desk.cache.keeper.flush()  # type: ignore[attr-defined]
    store.close()
    print(f"{wall:.4f} {cpu:.4f}")


def read_in(desk: Any) -> bool:
    """True when the desk's snapshot is at the store's revision with today's rows worked out."""
    latest = desk.cache.latest
    return (
        latest is not None and not desk.cache.behind() and (desk.today(latest), None) in latest._due
    )


def median_max(values: list[float]) -> tuple[str, str]:
    return ms(statistics.median(values)), ms(max(values))


def page_times(
    store_path: Path,
    user: str,
    path: str,
    warm: int = 20,
    changes: int = 5,
    restarts: int = 0,
    imports: int = 0,
) -> list[list[str]]:
    """Server times of one page: a fresh desk's first request, warm requests, the first
    request after a change made elsewhere (read in by that request), and the same with the
    desk's background watcher on (as `visitplan serve` runs), which serves the previous
    rows marked as updating and reads the change in behind them."""
    store = Store(f"sqlite:///{store_path}")
    forget_kept(store)
    client = client_for(store)
    sign_in(client, user)
    # Signing in built a snapshot: drop it, so the first request reads the store.
    client.app.state.desk.cache.drop()  # type: ignore[attr-defined]
    wall, cpu, response = timed(lambda: client.get(path))
    assert response.status_code == 200, response.status_code
    keeper = client.app.state.desk.cache.keeper  # type: ignore[attr-defined]
    keeper.flush()
    restart = [restarted_first(store_path, user, path) for _ in range(restarts)]
    walls, cpus = [], []
    for _ in range(warm):
        w, c, r = timed(lambda: client.get(path))
        assert r.status_code == 200
        walls.append(w)
        cpus.append(c)
    rows = [
        ["fresh desk, first request (nothing read, nothing kept)", ms(wall), ms(cpu), ""],
    ]
    if restart:
        rows.append(
            [
                f"restarted desk (a new process), first request, rows kept at this revision "
                f"(median, slowest of {restarts})",
                " / ".join(median_max([w for w, _ in restart])),
                " / ".join(median_max([c for _, c in restart])),
                "",
            ]
        )
    rows += [
        [f"warm, median of {warm}", ms(statistics.median(walls)), ms(statistics.median(cpus)), ""],
        [f"warm, slowest of {warm}", ms(max(walls)), ms(max(cpus)), ""],
    ]
    walls, cpus = [], []
    for n in range(changes):
        change_elsewhere(store_path, n)
        w, c, r = timed(lambda: client.get(path))
        assert r.status_code == 200
        assert "Updating:" not in r.text
        walls.append(w)
        cpus.append(c)
    rows.append(
        [
            f"first request after a change elsewhere, read in by it (median, slowest of {changes})",
            " / ".join(median_max(walls)),
            " / ".join(median_max(cpus)),
            f"{len(r.content) // 1024} KB",
        ]
    )
    walls, cpus = [], []
    for n in range(imports):
        import_elsewhere(store_path, n)
        w, c, r = timed(lambda: client.get(path))
        assert r.status_code == 200
        walls.append(w)
        cpus.append(c)
    if imports:
        rows.append(
            [
                "first request after an import (a whole read; unchanged children reused) "
                f"(median, slowest of {imports})",
                " / ".join(median_max(walls)),
                " / ".join(median_max(cpus)),
                "",
            ]
        )
    keeper.flush()  # no write left behind the close
    store.close()
    store = Store(f"sqlite:///{store_path}")
    client = client_for(store, warm=True)
    with client:
        sign_in(client, user)
        desk = client.app.state.desk  # type: ignore[attr-defined]
        while not read_in(desk):
            time.sleep(0.05)
        client.get(path)
        walls, cpus, behind_walls, behind_cpus, updating = [], [], [], [], 0
        for n in range(changes):
            time.sleep(2)  # the watcher idle
            change_elsewhere(store_path, 100 + n)
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            w, c, r = timed(lambda: client.get(path))
            assert r.status_code == 200
            updating += "Updating:" in r.text
            walls.append(w)
            cpus.append(c)
            while not read_in(desk):
                time.sleep(0.01)
            behind_walls.append(time.perf_counter() - started_wall)
            behind_cpus.append(time.process_time() - started_cpu)
    rows.append(
        [
            f"first request after a change elsewhere, watcher on ({updating} of {changes} "
            "marked updating)",
            " / ".join(median_max(walls)),
            " / ".join(median_max(cpus)),
            "",
        ]
    )
    rows.append(
        [
            "the change read in and today's rows worked out, from the change (watcher)",
            " / ".join(median_max(behind_walls)),
            " / ".join(median_max(behind_cpus)),
            "",
        ]
    )
    store.close()
    return rows


def board(workdir: Path, managers: int) -> None:
    path = store_for("M", workdir, 2, managers)
    store = Store(f"sqlite:///{path}")
    scenario, plan = store.read_scenario(), store.current_plan()
    store.close()
    homes = {h.id: h.team_id for h in scenario.households}
    per_team: dict[str, int] = {}
    for v in plan.visits:
        if START <= v.day < START + timedelta(days=7):
            per_team[homes[v.household_id]] = per_team.get(homes[v.household_id], 0) + 1
    team = max(per_team, key=lambda t: per_team[t])
    rows = page_times(path, "admin", f"/teams/{team}/week?start={START.isoformat()}")
    table(
        f"Board of the busiest M team ({team}: {per_team[team]} visits that week, "
        f"{sum(1 for w in scenario.workers if w.team_id == team)} workers) - target <= 200 ms",
        ["request", "wall", "CPU", "page"],
        rows,
    )


def compliance(workdir: Path, managers: int) -> None:
    path = store_for("L", workdir, 1, managers)
    rows = page_times(path, "admin", "/due", warm=10, restarts=3, imports=3)
    table(
        "Authority-wide compliance page of L (7,500 children) - target <= 1 s",
        ["request", "wall", "CPU", "page"],
        rows,
    )


def cold_split(workdir: Path, managers: int, rounds: int = 3) -> None:
    """The cold L compliance page in its parts, each in a fresh state (first round: a fresh
    process's caches too): the store's whole read, the due engine over every child, the
    rows, and the page itself (a warm request: filters and template)."""
    path = store_for("L", workdir, 1, managers)
    store = Store(f"sqlite:///{path}")
    client = client_for(store)
    sign_in(client, "admin")
    desk = client.app.state.desk  # type: ignore[attr-defined]
    parts: dict[str, list[tuple[float, float]]] = {}
    for _ in range(rounds):
        for name, times in _cold_parts(client, desk).items():
            parts.setdefault(name, []).append(times)
    table(
        f"Cold L `/due` in parts (first of {rounds} / best of {rounds}, wall and CPU)",
        ["part", "first: wall / CPU", "best: wall / CPU"],
        [
            [
                name,
                f"{ms(times[0][0])} / {ms(times[0][1])}",
                f"{ms(min(t[0] for t in times))} / {ms(min(t[1] for t in times))}",
            ]
            for name, times in parts.items()
        ],
    )
    store.close()


def _cold_parts(client: Any, desk: Any) -> dict[str, tuple[float, float]]:
    """One cold L `/due`, part by part: (wall s, CPU s) of each."""
    forget_kept(desk.store)
    desk.cache.drop()
    out: dict[str, tuple[float, float]] = {}
    wall, cpu, snapshot = timed(desk.cache.get)
    out["store read (`Store.snapshot`)"] = (wall, cpu)
    today = desk.today(snapshot)
    wall, cpu, _ = timed(
        lambda: snapshot.memory.scenario_due(snapshot.scenario, snapshot.pack, today)
    )
    out["due engine, every child (`DueMemory.scenario_due`)"] = (wall, cpu)
    snapshot.memory = type(snapshot.memory)()  # so that `due` works every child out again
    keeper, snapshot.keeper = snapshot.keeper, None  # and does not read the kept rows
    wall, cpu, report = timed(lambda: snapshot.due(today))
    out["due engine and rows (`Snapshot.due`)"] = (wall, cpu)
    keeper.save(snapshot.revision, snapshot.pack, report)
    keeper.flush()
    wall, cpu, _ = timed(lambda: keeper.load(snapshot.revision, today, snapshot.pack))
    out["the kept rows read instead (`DueKeeper.load`)"] = (wall, cpu)
    wall, cpu, _ = timed(lambda: client.get("/due"))
    out["the page from ready rows (warm `/due`)"] = (wall, cpu)
    return out


def busiest_tue_thu(store: Store) -> tuple[str, date, date]:
    plan = store.current_plan()
    first, last = START + timedelta(days=1), START + timedelta(days=3)
    counts: dict[str, int] = {}
    for v in plan.visits:
        if first <= v.day <= last:
            counts[v.worker_id] = counts.get(v.worker_id, 0) + 1
    return max(counts, key=lambda w: (counts[w], w)), first, last


def children_cpu_s() -> float:
    """CPU seconds of this process's finished children (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_replan(
    source: Path, workdir: Path, worker: str, first: date, last: date
) -> tuple[float, float]:
    """`absence add` + `replan --from` as commands on a copy of the store: (wall, CPU)."""
    db_path = workdir / "M-cli.db"
    shutil.copy(source, db_path)
    db = f"sqlite:///{db_path}"
    env = {**os.environ, "COLUMNS": "200"}
    cpu, wall = children_cpu_s(), time.perf_counter()
    subprocess.run(
        [
            str(VISITPLAN),
            "absence",
            "add",
            worker,
            "--from",
            first.isoformat(),
            "--to",
            last.isoformat(),
            "--reason",
            "sickness",
            "--db",
            db,
        ],
        check=True,
        capture_output=True,
        env=env,
    )
    subprocess.run(
        [str(VISITPLAN), "replan", "--from", first.isoformat(), "--db", db],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - wall, children_cpu_s() - cpu


def desk_preview(
    source: Path, workdir: Path, worker: str, first: date, last: date
) -> tuple[float, float, str]:
    """The same absence posted to the desk until its preview shows: (wall, CPU, page)."""
    db_path = workdir / "M-desk.db"
    shutil.copy(source, db_path)
    store = Store(f"sqlite:///{db_path}")
    team = next(w.team_id for w in store.read_scenario().workers if w.id == worker)
    client = client_for(store)
    sign_in(client, "admin")
    page = client.get(f"/teams/{team}/absences")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
    cpu, child_cpu, wall = time.process_time(), children_cpu_s(), time.perf_counter()
    response = client.post(
        f"/teams/{team}/absences",
        data={
            "worker": worker,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "reason": "sickness",
            "csrftoken": token,
        },
    )
    job_url = str(response.url)
    while "Working out the re-plan" in (html := client.get(job_url).text):
        time.sleep(0.1)
    took = time.perf_counter() - wall
    used = time.process_time() - cpu + children_cpu_s() - child_cpu
    store.close()
    return took, used, html


def preview_vs_cli(workdir: Path, managers: int, rounds: int = 2) -> None:
    source = store_for("M", workdir, 2, managers)
    store = Store(f"sqlite:///{source}")
    worker, first, last = busiest_tue_thu(store)
    store.close()
    rows = []
    html = ""
    for i in range(rounds):
        wall, cpu = cli_replan(source, workdir, worker, first, last)
        rows.append(
            [
                f"round {i + 1}: `visitplan absence add` + `visitplan replan --from`",
                f"{wall:.1f} s",
                f"{cpu:.1f} s",
            ]
        )
        wall_d, cpu_d, html = desk_preview(source, workdir, worker, first, last)
        rows.append(
            [
                f"round {i + 1}: desk, POST absence until the preview shows",
                f"{wall_d:.1f} s",
                f"{cpu_d:.1f} s",
            ]
        )
        rows.append(
            [f"round {i + 1}: desk - command", f"{wall_d - wall:+.1f} s", f"{cpu_d - cpu:+.1f} s"]
        )
    counts = re.findall(r"<li><strong>(\d+)</strong> ([a-z ()]+)</li>", html)
    table(
        f"Absence preview vs the command line (M, {worker} off {first:%a} to {last:%a}; "
        "the commands pay two interpreter start-ups) - target: within 1 s",
        ["route", "wall", "CPU (with the planner's processes)"],
        rows,
    )
    print("\nPreview: " + "; ".join(f"{n} {k}" for n, k in counts[:6]))


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Browser:
    """A light HTTP/1.1 client with a cookie jar (http.client), so the load generator
    sharing the machine costs as little as it can."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str]:
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for header in response.headers.get_all("set-cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        if response.status in (302, 303):
            return self.request("GET", response.headers["location"])
        return response.status, text

    def sign_in(self, name: str) -> None:
        _, page = self.request("GET", "/login")
        token = re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)
        form = f"name={name}&password={PASSWORD.replace(' ', '+')}&csrftoken={token}"
        status, text = self.request("POST", "/login", form)
        assert "Sign out" in text, (status, text[:200])


def concurrency(workdir: Path, managers: int, requests: int) -> None:
    source = store_for("M", workdir, 2, managers)
    db = workdir / "M-serve.db"
    shutil.copy(source, db)
    store = Store(f"sqlite:///{db}")
    users = [u for u in store.user_list() if u.role == "manager"][:managers]
    store.close()
    port = free_port()
    env = {**os.environ, "VISITPLAN_SECRET_KEY": SECRET}
    proc = subprocess.Popen(
        [str(VISITPLAN), "serve", "--port", str(port), "--db", f"sqlite:///{db}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/login", timeout=2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    # The server reads the store ahead at start-up; let it finish, as a server running all
    # morning would have.
    time.sleep(5)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(len(users) + 1)
    go = threading.Event()
    weeks = [START, START + timedelta(days=7)]

    def browse(i: int) -> None:
        user = users[i]
        rng = random.Random(i)
        client = Browser(port)
        client.sign_in(user.name)
        client.request("GET", f"/teams/{user.teams[0]}/week?start={START.isoformat()}")
        ready.wait()
        go.wait()
        for _ in range(requests):
            path = f"/teams/{user.teams[0]}/week?start={rng.choice(weeks).isoformat()}"
            started = time.perf_counter()
            try:
                status, text = client.request("GET", path)
                ok = status == 200 and "Sign out" in text
                problem = str(status)
            except OSError as exc:
                ok, problem = False, repr(exc)
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)
                if not ok:
                    errors.append(problem)

    threads = [threading.Thread(target=browse, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    ready.wait()
    cpu_before = proc_cpu_s(proc.pid)
    wall = time.perf_counter()
    go.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - wall
    cpu = proc_cpu_s(proc.pid) - cpu_before
    proc.terminate()
    proc.wait(timeout=15)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))]

    table(
        f"{len(users)} signed-in managers loading boards at once (M, `visitplan serve`, "
        f"{requests} boards each, client threads on the same machine) - target p99 <= 500 ms, "
        "no error",
        ["requests", "errors", "p50", "p95", "p99", "slowest", "throughput", "server CPU"],
        [
            [
                str(len(latencies)),
                str(len(errors)),
                ms(pct(0.50)),
                ms(pct(0.95)),
                ms(pct(0.99)),
                ms(latencies[-1]),
                f"{len(latencies) / wall:.1f}/s",
                f"{cpu:.1f} s in {wall:.1f} s ({cpu / len(latencies) * 1000:.0f} ms a board)",
            ]
        ],
    )


def serve_restart(workdir: Path, managers: int, starts: int = 3) -> None:
    """A real `visitplan serve` on a copy of the L store, started `starts` times (stopped
    with Ctrl-C in between, as an operator would): from the process's start to the port
    answering, and the first `/due` of a signed-in admin (the start-up read-ahead may still
    be running). The first start finds nothing kept; the later ones find the rows the one
    before kept."""
    source = store_for("L", workdir, 1, managers)
    db = workdir / "L-serve.db"
    copy_store(source, db)
    forget = Store(f"sqlite:///{db}")
    forget_kept(forget)
    forget.close()
    env = {**os.environ, "VISITPLAN_SECRET_KEY": SECRET, "VISITPLAN_TODAY": str(NOW.date())}
    rows = []
    for n in range(starts):
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [str(VISITPLAN), "serve", "--port", str(port), "--db", f"sqlite:///{db}"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while True:
                try:
                    probe = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    probe.request("GET", "/login")
                    probe.getresponse().read()
                    break
                except OSError:
                    time.sleep(0.02)
            listening = time.perf_counter() - started
            browser = Browser(port)
            browser.sign_in("admin")
            asked = time.perf_counter()
            status, text = browser.request("GET", "/due")
            wall = time.perf_counter() - asked
            assert status == 200, status
            assert "Updating:" not in text
            total = time.perf_counter() - started
            cpu = proc_cpu_s(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=120)
        rows.append(
            [
                f"start {n + 1}" + (" (nothing kept)" if n == 0 else " (rows kept by the last)"),
                f"{listening:.2f} s",
                ms(wall),
                f"{total:.2f} s",
                f"{cpu:.2f} s",
            ]
        )
    table(
        "A real `visitplan serve` on L, started again and again: the first `/due` (target <= 1 s)",
        ["start", "port answers after", "first `/due`", "start to page", "server CPU"],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/visitplan-bench-web"))
    parser.add_argument("--skip-l", action="store_true", help="Leave out the L compliance page.")
    parser.add_argument("--managers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=15, help="Boards per manager.")
    parser.add_argument(
        "--only",
        default="board,compliance,split,preview,concurrency",
        help="Comma-separated: board, compliance, split (the cold L page in parts), preview, "
        "concurrency, restart (a real `serve` on L started three times); first-request (one "
        "first request of a fresh desk, for the restart row).",
    )
    parser.add_argument("--first-store", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--first-user", default="admin", help=argparse.SUPPRESS)
    parser.add_argument("--first-path", default="/due", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    only = set(args.only.split(","))
    if only == {"first-request"}:
        first_request(args.first_store, args.first_user, args.first_path)
        return
    print(f"bench/web.py on {os.cpu_count()} cores (shared with other jobs: figures are noisy)")
    if "board" in only:
        board(args.workdir, args.managers)
    if "compliance" in only and not args.skip_l:
        compliance(args.workdir, args.managers)
    if "split" in only and not args.skip_l:
        cold_split(args.workdir, args.managers)
    if "preview" in only:
        preview_vs_cli(args.workdir, args.managers)
    if "concurrency" in only:
        concurrency(args.workdir, args.managers, args.requests)
    if "restart" in only and not args.skip_l:
        serve_restart(args.workdir, args.managers)


if __name__ == "__main__":
    main()
