"""Benchmark: CalDAV publishing writes and ICS rendering time on generated authorities.

Usage: .venv/bin/python bench/calendars.py [--publish-size M] [--render-size L]

Starts its own Radicale on 127.0.0.1 (temporary storage, plain htpasswd) and stops it after.
Plans come from the greedy baseline (fast and checker-valid); the figures concern publishing,
not planning. Also reads one commitment from each worker's own calendar over a plan's days
and look-ahead, as a re-plan preview does. Prints one table.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = date(2026, 11, 30)
USER, PASSWORD = "bench", "bench-pass"


def main() -> None:
    """Measure publish writes on the publish size and ICS rendering on the render size."""
    from integrations import publish_plan
    from integrations.dav import DavConfig, connect
    from integrations.ics import write_ics
    from integrations.testing import RadicaleServer, free_port
    from scheduler.baseline import plan_greedy
    from scheduler.feed_source import store_event_context
    from scheduler.generate import generate
    from scheduler.store import Store

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--publish-size", default="M")
    parser.add_argument("--render-size", default="L")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="visitplan-bench-", dir="/dev/shm"))
    server = RadicaleServer(work, free_port(), {USER: PASSWORD})
    server.start(timeout_s=20)
    url = server.url
    try:
        scenario = generate(args.publish_size, seed=2, start=START)
        plan = plan_greedy(scenario, START, weeks=2)
        store = Store(f"sqlite:///{work / 'bench.db'}")
        store.replace_caseload(scenario)
        client = connect(DavConfig(url=url, username=USER, password=PASSWORD))
        now = datetime(2026, 11, 29, 18, tzinfo=UTC)
        t0 = time.perf_counter()
        context = store_event_context(store, scenario, plan.visits)
        first = publish_plan(client, store, plan.visits, scenario, now, context=context)
        rows.append(
            (
                f"{args.publish_size} first publish",
                f"{first.writes} writes",
                f"{time.perf_counter() - t0:.1f} s ({len(plan.visits)} visits)",
            )
        )
        t0 = time.perf_counter()
        again = publish_plan(
            client, store, plan.visits, scenario, now + timedelta(hours=1), context=context
        )
        rows.append(
            (
                f"{args.publish_size} re-publish unchanged",
                f"{again.writes} writes",
                f"{time.perf_counter() - t0:.1f} s",
            )
        )
        load = {w.id: sum(v.worker_id == w.id for v in plan.visits) for w in scenario.workers}
        busiest = max(scenario.workers, key=lambda w: load[w.id])
        colleague = next(
            w
            for w in scenario.workers
            if w.team_id == busiest.team_id and w.id != busiest.id and w.role == busiest.role
        )
        moved = [v for v in plan.visits if v.worker_id == busiest.id]
        reassigned = tuple(
            v.model_copy(update={"worker_id": colleague.id}) if v.worker_id == busiest.id else v
            for v in plan.visits
        )
        t0 = time.perf_counter()
        third = publish_plan(
            client,
            store,
            reassigned,
            scenario,
            now + timedelta(hours=2),
            context=store_event_context(store, scenario, reassigned),
        )
        rows.append(
            (
                f"{args.publish_size} after reassigning one worker's 2 weeks",
                f"{third.writes} writes ({len(third.created)} created, "
                f"{len(third.deleted)} deleted, {len(third.updated)} updated, "
                f"{len(third.cancelled)} cancelled)",
                f"{time.perf_counter() - t0:.1f} s ({len(moved)} visits moved)",
            )
        )
        rows.append(_commitments(client, store, scenario, plan.visits, args.publish_size))
    finally:
        server.stop()
    big = generate(args.render_size, seed=3, start=START)
    big_plan = plan_greedy(big, START, weeks=2)
    render_store = Store(f"sqlite:///{work / 'render.db'}")
    t0 = time.perf_counter()
    big_context = store_event_context(render_store, big, big_plan.visits)
    paths = write_ics(render_store, big_plan.visits, big, work / "ics", now, context=big_context)
    first_render = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_ics(render_store, big_plan.visits, big, work / "ics", now, context=big_context)
    rows.append(
        (
            f"{args.render_size} ICS for all workers (first, with ledger writes)",
            f"{len(paths)} files, {len(big_plan.visits)} visits",
            f"{first_render:.1f} s",
        )
    )
    rows.append(
        (
            f"{args.render_size} ICS again (ledger unchanged)",
            f"{len(paths)} files",
            f"{time.perf_counter() - t0:.1f} s",
        )
    )
    shutil.rmtree(work, ignore_errors=True)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in [("case", "result", "time"), *rows]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


def _commitments(
    client: Any, store: Any, scenario: Any, visits: Any, size: str
) -> tuple[str, str, str]:
    """Reading every worker's own calendar (one commitment each) over a plan's days and
    look-ahead, as a re-plan preview does (`busy_for_scenario`, visitplan's own events left
    out by the plan's visits and the ledger)."""
    import uuid

    from caldav import Calendar as DavCalendar

    from integrations import busy_for_scenario, on_calendars
    from scheduler.planning import calendar_window

    principal = client.principal()
    urls = {}
    for i, worker in enumerate(scenario.workers):
        url = str(principal.make_calendar(name=worker.id, cal_id=uuid.uuid4().hex).url)
        begin = datetime(2026, 12, 1 + i % 10, 9, tzinfo=UTC)
        stamp = "%Y%m%dT%H%M%SZ"
        DavCalendar(client=client, url=url).add_event(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\n"
            f"UID:court-{uuid.uuid4().hex}@example.org\r\nDTSTAMP:20261101T000000Z\r\n"
            f"DTSTART:{begin:{stamp}}\r\nDTEND:{begin + timedelta(hours=2):{stamp}}\r\n"
            "SUMMARY:court\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            increase_seqno=False,
        )
        urls[worker.id] = url
    with_calendars = scenario.model_copy(
        update={
            "workers": tuple(
                w.model_copy(update={"calendar_url": urls[w.id]}) for w in scenario.workers
            )
        }
    )
    own = [*visits, *on_calendars(store.ledger_all())]
    t0 = time.perf_counter()
    found = busy_for_scenario(
        with_calendars, *calendar_window(START, START + timedelta(days=13)), client=client, own=own
    )
    read = len(found.busy) - len(scenario.busy)
    return (
        f"{size} commitments read from every worker's own calendar",
        f"{read} commitments from {len(urls)} calendars",
        f"{time.perf_counter() - t0:.1f} s",
    )


if __name__ == "__main__":
    main()
