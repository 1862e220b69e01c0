"""The desk's re-plan preview plans around workers' own calendar commitments.

Rule: `visitplan serve`'s own calendar reader (the composition root's, reading
VISITPLAN_CALDAV_*) against a real Radicale on 127.0.0.1, a real store and real solves. The
command line has `--busy-from-caldav`; on the desk, with a CalDAV server configured, every
preview reads the calendars.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integrations.testing import RadicaleServer
from scheduler.store import Store
from tests.integrations.conftest import (
    PASSWORD,
    USER,
    add_commitment,
    dav_client,
    own_radicale,
)
from tests.web.conftest import NOW, Desk, make_client, post_form, sign_in, token_of
from tests.web.test_pages import text, wait_for_preview

pytestmark = [pytest.mark.slow, pytest.mark.integration, pytest.mark.allow_hosts(["127.0.0.1"])]
__all__ = ["own_radicale"]


def _caldav_env(monkeypatch: pytest.MonkeyPatch, server: RadicaleServer, password: str) -> None:
    """VISITPLAN_CALDAV_* as `visitplan serve` reads them, for `server`."""
    monkeypatch.setenv("VISITPLAN_CALDAV_URL", server.url)
    monkeypatch.setenv("VISITPLAN_CALDAV_USERNAME", USER)
    monkeypatch.setenv("VISITPLAN_CALDAV_PASSWORD", password)


def _court_all_day(server: RadicaleServer, store: Store, worker_id: str, day: Any) -> None:
    """A calendar of the worker's own on the server, holding a day in court."""
    client = dav_client(server)
    calendar = client.get_principal().make_calendar(name=worker_id, cal_id=uuid.uuid4().hex)
    add_commitment(client, str(calendar.url), datetime.combine(day, time(7), UTC), hours=11)
    worker = store.worker(worker_id)
    assert worker is not None
    store.update_workers([worker.model_copy(update={"calendar_url": str(calendar.url)})])


def _preview_absence(client: Any, desk: Desk, day: Any) -> tuple[str, str]:
    absences = f"/teams/{desk.team_a}/absences"
    form = {"worker": desk.worker, "from": day.isoformat(), "to": day.isoformat()}
    response = post_form(client, absences, absences, form | {"reason": "sickness"})
    return wait_for_preview(client, str(response.url)), response.url.path


def test_a_preview_does_not_hand_visits_to_a_colleague_in_court(
    desk: Desk, store: Store, own_radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker is off sick tomorrow, and the colleague who shares their patch is in court
    all day (in their own calendar, not in the store). The preview says it planned around
    that, hands the sick worker's visits to no one in court, and moves the colleague's own
    visits that day; applied, the plan holds no visit for either of them tomorrow."""
    from scheduler.cli.calendars import _busy_reader

    _caldav_env(monkeypatch, own_radicale, PASSWORD)
    tomorrow = NOW.date() + timedelta(days=1)
    plan = store.current_plan()
    assert plan is not None
    theirs = [v for v in plan.visits if v.day == tomorrow and v.worker_id == desk.other_worker]
    assert theirs, "the colleague has visits tomorrow"
    _court_all_day(own_radicale, store, desk.other_worker, tomorrow)
    client = make_client(store, busy=_busy_reader)
    sign_in(client, "mo")
    page = text(client.get(f"/teams/{desk.team_a}/absences").text)
    assert "commitments workers have added to their own calendars" in page
    html, path = _preview_absence(client, desk, tomorrow)
    words = text(html)
    assert "Planned around 1 commitment(s) in workers' own calendars." in words
    assert "Apply this re-plan" in words
    colleague = store.worker(desk.other_worker)
    assert colleague is not None
    # The colleague's own visits that day had to change, and the preview says why.
    clash = f"{colleague.name} has a commitment in their own calendar at that time"
    assert words.count(clash) == len(theirs), words
    applied = client.post(f"{path}/apply", data={"csrftoken": token_of(html)})
    assert "Applied." in applied.text
    after = store.current_plan()
    assert after is not None
    on_the_day = [
        v
        for v in after.visits
        if v.day == tomorrow
        and {desk.worker, desk.other_worker} & {v.worker_id, v.second_worker_id}
        and v.status == "planned"
    ]
    assert not on_the_day


def test_calendars_that_cannot_be_read_are_named_and_the_preview_made(
    desk: Desk, store: Store, own_radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the wrong password the preview is still made, without the commitments, and it
    says so; the password never reaches the page."""
    from scheduler.cli.calendars import _busy_reader

    _caldav_env(monkeypatch, own_radicale, "not-the-password")
    tomorrow = NOW.date() + timedelta(days=1)
    _court_all_day(own_radicale, store, desk.other_worker, tomorrow)
    client = make_client(store, busy=_busy_reader)
    sign_in(client, "mo")
    html, _path = _preview_absence(client, desk, tomorrow)
    words = text(html)
    assert "Workers' calendars could not be read" in words
    assert "does not plan around their own commitments" in words
    assert "What would change" in words
    assert "not-the-password" not in html


def test_a_hand_move_into_a_colleagues_court_date_is_refused(
    desk: Desk, store: Store, own_radicale: RadicaleServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Giving a visit by hand to a colleague who is in court then (in their own calendar) is
    refused with the reason; the same move checked without calendars is not refused for it."""
    from scheduler.cli.calendars import _busy_reader

    _caldav_env(monkeypatch, own_radicale, PASSWORD)
    tomorrow = NOW.date() + timedelta(days=1)
    plan = store.current_plan()
    assert plan is not None
    visit = min(
        (
            v
            for v in plan.visits
            if v.day == tomorrow and v.worker_id == desk.worker and not v.second_worker_id
        ),
        key=lambda v: v.start,
    )
    _court_all_day(own_radicale, store, desk.other_worker, tomorrow)
    colleague = store.worker(desk.other_worker)
    assert colleague is not None
    at = visit.start.astimezone(ZoneInfo("Europe/London"))
    form = {
        "day": tomorrow.isoformat(),
        "time": f"{at:%H:%M}",
        "worker": desk.other_worker,
        "action": "check",
    }
    page = f"/visits/{visit.id}/move"
    with_calendars = make_client(store, busy=_busy_reader)
    sign_in(with_calendars, "mo")
    words = text(post_form(with_calendars, page, page, form).text)
    assert "Checked against the workers' own calendars too." in words
    assert "This move cannot be saved" in words
    assert f"{colleague.name} is busy" in words
    without = make_client(store)
    sign_in(without, "mo")
    absences = text(without.get(f"/teams/{desk.team_a}/absences").text)
    assert "own calendars" not in absences
    words = text(post_form(without, page, page, form).text)
    assert "The checker's verdict" in words
    assert f"{colleague.name} is busy" not in words
    assert "own calendars" not in words
