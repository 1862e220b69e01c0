"""Dates on every page are written the British way: "Tue 1 Dec", "Tuesday 1 December 2026"
or 01/12/2026, never 2026-12-01 (which stays only in links and form values).

Rule: real pages of a real store; the words a person reads are the page's text without tags.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from scheduler.reports import child_teams
from scheduler.store import Store
from scheduler.web.board import DayError, parse_day, read_day
from scheduler.web.snapshot import Snapshot
from tests.web.conftest import NOW, TUESDAY, Desk, post_form, sign_in, token_of
from tests.web.test_pages import later_visit, text

ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
US = re.compile(r"\b(0?[1-9]|1[0-2])/(1[3-9]|2\d|3[01])/\d{4}\b")
"""A month-first date (12/31/2026) where the day cannot be a month."""


def words_of(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return text(response.text)


def test_no_page_shows_a_date_the_american_or_iso_way(client, desk: Desk, store: Store) -> None:
    snap = Snapshot(*store.snapshot())
    visit = later_visit(store, desk.team_a)
    teams = child_teams(snap.scenario)
    child = next(c.id for c in snap.scenario.children if teams[c.id] == desk.team_a)
    sign_in(client, "mo")
    # A history with an edit, and a move the checker refuses with a reason naming a day.
    post_form(
        client,
        f"/children/{child}",
        f"/children/{child}/edit",
        {
            "category": snap.children[child].category,
            "placement_type": snap.children[child].placement_type or "",
            "worker": snap.children[child].allocated_worker or "",
            "case_ref": "CR-DATES-1",
        },
    )
    pages = [
        f"/teams/{desk.team_a}/week",
        f"/teams/{desk.team_a}/week?start=2026-12-07",
        f"/visits/{visit}",
        f"/visits/{visit}/move",
        f"/teams/{desk.team_a}/due",
        f"/teams/{desk.team_a}/outlook",
        f"/teams/{desk.team_a}/absences",
        f"/teams/{desk.team_a}/outcomes?day={TUESDAY.isoformat()}",
        f"/children/{child}",
    ]
    seen = {path: words_of(client, path) for path in pages}
    verdict = post_form(
        client,
        f"/visits/{visit}/move",
        f"/visits/{visit}/move",
        {"day": "2026-12-05", "time": "10:00", "worker": desk.worker, "action": "check"},
    )
    seen["move verdict"] = text(verdict.text)
    client.post("/logout", data={"csrftoken": token_of(verdict.text)})
    sign_in(client, "wes")
    seen["/me"] = words_of(client, "/me")
    for path, words in seen.items():
        assert not ISO.search(words), (path, ISO.search(words))
        assert not US.search(words), (path, US.search(words))
    assert "Wednesday 2 December 2026" in seen[f"/teams/{desk.team_a}/due"]
    assert f"{NOW:%d/%m/%Y}" in seen[f"/children/{child}"]


def test_date_boxes_read_and_take_dates_the_british_way(client, desk: Desk, store: Store) -> None:
    """Date boxes show dd/mm/yyyy whatever the browser's language, and take it back; the
    edge pair: 12/01/2027 is the 12th of January, 01/12/2026 the 1st of December."""
    sign_in(client, "mo")
    page = client.get(f"/teams/{desk.team_a}/outcomes?day=01/12/2026")
    assert page.status_code == 200
    assert 'value="01/12/2026"' in page.text
    assert "Tuesday 1 December 2026" in text(page.text)
    assert "Tuesday 12 January 2027" in text(
        client.get(f"/teams/{desk.team_a}/outcomes?day=12/01/2027").text
    )
    assert 'type="date"' not in client.get(f"/teams/{desk.team_a}/absences").text


def date_forms(store: Store, desk: Desk) -> list[tuple[str, str, dict[str, str], str]]:
    """Every form with a date box: its page, its action, the rest of a valid form, the box."""
    team = f"/teams/{desk.team_a}"
    visit = later_visit(store, desk.team_a)
    snap = Snapshot(*store.snapshot())
    teams = child_teams(snap.scenario)
    child = next(c.id for c in snap.scenario.children if teams[c.id] == desk.team_a)
    absence = {"worker": desk.worker, "from": "02/12/2026", "to": "04/12/2026"}
    leaver = {"worker": desk.worker, "to": desk.other_worker, "confirm": "yes"}
    move = {"time": "10:00", "worker": desk.worker, "action": "check"}
    return [
        (f"{team}/absences", f"{team}/absences", absence, "from"),
        (f"{team}/absences", f"{team}/absences", absence, "to"),
        (f"{team}/absences", f"{team}/leaver", leaver, "on"),
        (f"{team}/absences", f"{team}/replan", {}, "from"),
        (f"/visits/{visit}/move", f"/visits/{visit}/move", move, "day"),
        (f"/children/{child}", f"/children/{child}/close", {"reason": "moved away"}, "on"),
    ]


def test_a_day_no_calendar_has_is_not_a_date_in_any_form(client, desk: Desk, store: Store) -> None:
    """31/02/2026 is said to be no date (not a year out of range), in every form with a date
    box; a typed "Re-plan from" was silently replaced by today. Nothing is written."""
    sign_in(client, "mo")
    before = store.revision()
    for page, action, form, box in date_forms(store, desk):
        refused = post_form(client, page, action, {**form, box: "31/02/2026"})
        words = text(refused.text)
        assert refused.status_code == 400, (action, box)
        assert "31/02/2026 is not a date: February 2026 has 28 days" in words, (action, box)
        assert "1900 and 2100" not in words
    assert store.revision() == before
    assert not store.list_absences(desk.worker)


def test_a_day_no_calendar_has_on_the_outcomes_page_is_said_under_its_box(
    client, desk: Desk
) -> None:
    """The outcomes page's Day box (a GET form) said nothing about 31/11/2026 and showed
    today's visits, so a manager took them for the 31st's. The other half of the edge pair: a
    real day shows that day, a blank box today."""
    sign_in(client, "mo")
    page = f"/teams/{desk.team_a}/outcomes"
    refused = client.get(f"{page}?day=31/11/2026")
    assert refused.status_code == 400
    assert 'aria-invalid="true" aria-describedby="e-day"' in refused.text
    assert "Day: 31/11/2026 is not a date: November 2026 has 30 days" in text(refused.text)
    shown = client.get(f"{page}?day=30/11/2026")
    assert shown.status_code == 200
    assert "outcomes for Monday 30 November 2026" in text(shown.text)
    assert "aria-invalid" not in shown.text
    assert client.get(f"{page}?day=").status_code == 200


def test_reasons_from_the_planner_are_written_without_a_leading_zero(store: Store) -> None:
    """The re-plan's reasons ("w-0003 is away (sickness) on Tue 01 Dec") read as the rest of
    the desk: "Ben Davies is away (sickness) on Tue 1 Dec"; a two-digit day is left whole."""
    snap = Snapshot(*store.snapshot())
    worker = snap.scenario.workers[0]
    said = snap.readable(f"{worker.id} is away (sickness) on Tue 01 Dec")
    assert said == f"{worker.name} is away (sickness) on Tue 1 Dec"
    assert snap.readable("planned 5 days late on Mon 07 Dec 2026") == (
        "planned 5 days late on Mon 7 Dec 2026"
    )
    assert snap.readable("due Thu 10 Dec") == "due Thu 10 Dec"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/02/2026", "Day: 31/02/2026 is not a date: February 2026 has 28 days"),
        ("12/31/2026", "Day: 12/31/2026 is not a date: there is no month 31"),
        ("2026-11-31", "Day: 2026-11-31 is not a date: November 2026 has 30 days"),
        ("01/01/9999", "Day: give a date between the years 1900 and 2100."),
        ("next Tuesday", "Day: give a date as dd/mm/yyyy, for example 01/12/2026."),
        ("", "Day: give a date as dd/mm/yyyy, for example 01/12/2026."),
    ],
)
def test_a_typed_date_refused_says_why(typed: str, message: str) -> None:
    with pytest.raises(DayError) as refused:
        read_day(typed, "Day")
    assert str(refused.value).startswith(message)
    assert parse_day(typed) is None


def test_a_typed_date_read_day_first() -> None:
    assert read_day("29/02/2028", "Day") == date(2028, 2, 29)
    assert read_day(" 1.12.2026 ", "Day") == date(2026, 12, 1)
    assert read_day("2026-12-01", "Day") == date(2026, 12, 1)


def test_a_re_plan_from_after_the_plans_last_day_is_refused(
    client, desk: Desk, store: Store
) -> None:
    """A re-plan typed to start after the current plan's last day (a mistyped 25 for 15) is
    refused under the form, with nothing started; it used to make a one-day plan of that day,
    taking every visit before it as made. The other half of the edge pair: the last day
    itself starts a preview."""
    plan = store.current_plan()
    assert plan is not None
    sign_in(client, "mo")
    page = f"/teams/{desk.team_a}/absences"
    after = plan.end + timedelta(days=1)
    refused = post_form(client, page, f"/teams/{desk.team_a}/replan", {"from": f"{after:%d/%m/%Y}"})
    assert refused.status_code == 400
    words = text(refused.text)
    last = f"{plan.end:%a} {plan.end.day} {plan.end:%b %Y}"
    assert f"Re-plan from: the current plan ends on {last}" in words
    assert "/replan/" not in str(refused.url)
    started = post_form(
        client, page, f"/teams/{desk.team_a}/replan", {"from": f"{plan.end:%d/%m/%Y}"}
    )
    assert "/replan/" in str(started.url)


@pytest.mark.parametrize("days_after", [0, 1])
def test_an_absence_after_the_plan_has_ended_is_recorded_with_no_preview(
    desk: Desk, store: Store, days_after: int
) -> None:
    """On the plan's last day an absence starts a re-plan preview; the day after, there is
    nothing published to re-plan: the absence is recorded and the page says the next plan
    takes it into account (the preview used to fail, pointing to the command line)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.web.conftest import make_client

    plan = store.current_plan()
    assert plan is not None
    day = plan.end + timedelta(days=days_after)
    moment = datetime.combine(day, datetime.min.time(), ZoneInfo("Europe/London"))
    client = make_client(store, clock=lambda: moment.replace(hour=9))
    sign_in(client, "mo")
    page = f"/teams/{desk.team_a}/absences"
    form = {"worker": desk.worker, "from": f"{day:%d/%m/%Y}", "to": f"{day:%d/%m/%Y}"}
    response = post_form(client, page, page, form | {"reason": "sickness"})
    assert response.status_code == 200
    assert len(store.list_absences(desk.worker)) == 1
    words = text(response.text)
    if days_after:
        assert "The absence is recorded. No re-plan was previewed" in words
        assert "/replan/" not in str(response.url)
    else:
        assert "/replan/" in str(response.url)
