"""Feeds as subscribers see them: `visitplan serve` as its own process on 127.0.0.1, read by a
real calendar client library (vdirsyncer's HTTP storage) and by many connections at once.

Rule: integration tests; loopback only. vdirsyncer is the client that keeps one event when a
feed carries a calendar-level UID (it splits a feed into items by UID), so it is the one that
proves every event arrives.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from integrations.feeds import FeedParams, issue_token
from integrations.testing import free_port
from scheduler.store import Store
from tests.integrations.conftest import NOW, make_plan, make_scenario, make_visit

WORKERS = tuple(f"w{i}" for i in range(1, 21))
# A URL is served once the server has looked at the store after it was issued: within
# `unknown_token_recheck_s` of the first request that does not know it.
SERVED_AFTER_S = FeedParams().unknown_token_recheck_s * 1.5
pytestmark = [pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]


def visits() -> tuple:
    """Three visits for w1 (one joint with w2) and one for w2."""
    return (
        make_visit("v1"),
        make_visit("v2", hour=14, household="h2", children=("c3",)),
        make_visit("v3", hour=11, second_worker_id="w2", day=NOW.date().replace(day=30)),
        make_visit("v4", "w2", hour=9, household="h2", children=("c3",)),
    )


@pytest.fixture
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Store, int]]:
    """A store with a plan, and `visitplan serve` on it (its own process, a free port; extra
    options from the test's indirect parameter)."""
    extra: tuple[str, ...] = getattr(request, "param", ())
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    store = Store(db)
    store.replace_caseload(make_scenario(workers=WORKERS))
    store.save_plan(make_plan(visits()), NOW)
    port = free_port()
    exe = Path(sys.executable).with_name("visitplan")
    proc = subprocess.Popen(
        [str(exe), "serve", "--db", db, "--host", "127.0.0.1", "--port", str(port), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("visitplan serve did not start")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", store, port
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
        assert b"Traceback" not in stderr


def test_vdirsyncer_subscribes_and_sees_every_event(served: tuple[str, Store, int]) -> None:
    """vdirsyncer's HTTP storage lists one item per event: three on w1's feed, two on w2's."""
    import aiohttp
    from vdirsyncer.storage.http import HttpStorage

    base, store, _ = served

    async def items(url: str) -> list[str]:
        connector = aiohttp.TCPConnector()
        try:
            storage = HttpStorage(url=url, connector=connector)
            found = [href async for href, _ in storage.list()]
            uids = []
            for href in found:
                item, _ = await storage.get(href)
                uids.append(item.uid)
            return uids
        finally:
            await connector.close()

    urls = [issue_token(store, w, NOW, base) for w in ("w1", "w2")]
    time.sleep(SERVED_AFTER_S)
    w1, w2 = (asyncio.run(items(url)) for url in urls)
    assert len(w1) == 3
    assert len(w2) == 2


@pytest.mark.slow
def test_forty_concurrent_subscribers_get_no_errors(served: tuple[str, Store, int]) -> None:
    """400 polls over 40 connections to 20 workers' feeds: every one a 200, one body per feed."""
    base, store, _ = served
    urls = [issue_token(store, w, NOW, base) for w in WORKERS]
    time.sleep(SERVED_AFTER_S)

    async def poll() -> list[tuple[int, str]]:
        limits = httpx.Limits(max_connections=40)
        async with httpx.AsyncClient(limits=limits, timeout=30) as http:
            todo = iter(range(400))
            seen: list[tuple[int, str]] = []

            async def client() -> None:
                for i in todo:
                    r = await http.get(urls[i % len(urls)])
                    seen.append((r.status_code, f"{i % len(urls)} {r.headers.get('etag')}"))

            await asyncio.gather(*(client() for _ in range(40)))
            return seen

    seen = asyncio.run(poll())
    assert len(seen) == 400
    assert {code for code, _ in seen} == {200}
    assert len({feed_etag for _, feed_etag in seen}) == len(WORKERS)


@pytest.mark.parametrize("served", [("--feed-rate", "2")], indirect=True)
def test_serve_feed_rate_limits_each_url(served: tuple[str, Store, int]) -> None:
    """`serve --feed-rate 2`: two requests of one URL go through, the third is a 429."""
    base, store, _ = served
    url = issue_token(store, "w1", NOW, base)
    other = issue_token(store, "w2", NOW, base)
    time.sleep(SERVED_AFTER_S)
    with httpx.Client() as http:
        codes = [http.get(url).status_code for _ in range(3)]
        refused = http.get(url)
        assert http.get(other).status_code == 200
    assert codes == [200, 200, 429]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1


def test_the_first_poll_after_a_change_sees_it(served: tuple[str, Store, int]) -> None:
    """A calendar polls hourly (Google every 8 to 24 hours): the first poll after a new plan
    must carry it. The server read the store only when a request came and served that request
    the previous version, so every change reached a phone one poll late (a day, on Google).
    Now it looks at the store every second and prepares the new version before anyone asks;
    the edge pair's other half: the poll made before the change has the old plan."""
    base, store, _ = served
    url = issue_token(store, "w1", NOW, base)
    time.sleep(SERVED_AFTER_S)
    before = httpx.get(url, timeout=10)
    assert before.status_code == 200
    assert b"DTSTART:20261201T100000Z" in before.content
    store.save_plan(make_plan((make_visit("v1", hour=15),)), NOW)
    time.sleep(4)  # no request meanwhile, as between two polls of a calendar app
    after = httpx.get(url, timeout=10)
    assert after.status_code == 200
    assert b"DTSTART:20261201T150000Z" in after.content
    assert b"DTSTART:20261201T100000Z" not in after.content
