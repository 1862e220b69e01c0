"""What the desk's pages show and do, on a real store with a real CP-SAT plan.

Rule: no sockets; the app runs in memory. Dates: the plan starts Mon 30 Nov 2026 and the
desk's clock reads Wed 2 Dec 2026, 10:00 UTC.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any

import pytest

from scheduler import Visit, service
from scheduler.accounts import add_user
from scheduler.errors import StaleError
from scheduler.reports import child_teams
from scheduler.store import Store
from scheduler.web.absences import stale_words
from scheduler.web.board import build_board
from scheduler.web.snapshot import Snapshot, is_at_risk
from tests.web.conftest import (
    NOW,
    PASSWORD,
    START,
    TUESDAY,
    Desk,
    FakeCalendars,
    make_client,
    post_form,
    sign_in,
    token_of,
)

TODAY = NOW.date()


def text(html: str) -> str:
    """A page's words, tags removed."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def body_rows(html: str) -> list[list[str]]:
    """The cells' text of each row in the page's table bodies."""
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", html, flags=re.S):
        for row in re.findall(r"<tr>(.*?)</tr>", body, flags=re.S):
            rows.append(
                [text(c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)]
            )
    return rows


def snapshot(store: Store) -> Snapshot:
    return Snapshot(*store.snapshot())


def first_visit(store: Store, team: str, day: date, category: str | None = None) -> str:
    snap = snapshot(store)
    assert snap.plan is not None
    for v in snap.plan.visits:
        if v.day != day or snap.team_of(v) != team:
            continue
        if category and not any(snap.children[c].category == category for c in v.child_ids):
            continue
        return v.id
    raise AssertionError("no such visit")


def later_visit(store: Store, team: str) -> str:
    """The team's first visit after today."""
    snap = snapshot(store)
    return min(
        (v for v in snap.plan.visits if v.day > TODAY and snap.team_of(v) == team),
        key=lambda v: v.start,
    ).id


# ------------------------------------------------------------------------- board


def test_board_has_workers_as_rows_and_days_as_columns(client, desk: Desk, store: Store) -> None:
    sign_in(client, "mo")
    html = client.get(f"/teams/{desk.team_a}/week?start=2026-11-30").text
    snap = snapshot(store)
    team_workers = [w for w in snap.scenario.workers if w.team_id == desk.team_a]
    rows = [unescape(r) for r in re.findall(r'<th scope="row">([^<]+)<br>', html)]
    assert rows == [w.name for w in team_workers]
    days = re.findall(r'<th scope="col"[^>]*>([A-Z][a-z]{2} \d+ [A-Z][a-z]{2})', html)
    assert days == ["Mon 30 Nov", "Tue 1 Dec", "Wed 2 Dec", "Thu 3 Dec", "Fri 4 Dec"]
    assert snap.plan is not None
    expected = [
        v
        for v in snap.plan.visits
        if START <= v.day < START + timedelta(days=7)
        and (snap.workers[v.worker_id].team_id == desk.team_a)
    ]
    blocks = html.count('class="visit cat-')
    joint = sum(1 for v in expected if v.second_worker_id)
    assert blocks == len(expected) + joint, "a joint visit shows on both workers' rows"


def test_board_blocks_show_time_case_category_and_markers(client, desk: Desk, store: Store) -> None:
    sign_in(client, "mo")
    html = client.get(f"/teams/{desk.team_a}/week?start=2026-11-30").text
    snap = snapshot(store)
    joint = next(
        v for v in snap.plan.visits if v.second_worker_id and snap.team_of(v) == desk.team_a
    )
    second = snap.workers[joint.second_worker_id].name
    # The visit shows on both workers' rows; the first worker's block names the second.
    blocks = [part.split("</a>", 1)[0] for part in html.split(f'href="/visits/{joint.id}"')[1:]]
    block = next(b for b in blocks if f"Joint with {second}" in b)
    assert f"{joint.start.astimezone(snap.tz):%H:%M}" in block
    assert snap.children[joint.child_ids[0]].case_ref in block
    assert f"Joint with {second}" in block
    assert "cat-" in html
    assert "Child protection" in html


def test_awaiting_outcome_edge_pair(client, desk: Desk, store: Store) -> None:
    """Yesterday's visit awaits its outcome; today's is just planned (and Monday's, recorded,
    is completed)."""
    snap = snapshot(store)
    board = build_board(snap, desk.team_a, START, TODAY)
    states = {b.visit.day: b.state for r in board.rows for c in r.cells for b in c.blocks}
    assert states[START] == "completed"
    assert states[TUESDAY] == "awaiting outcome"
    board = build_board(snap, desk.team_b, START, TODAY)
    states = {b.visit.day: b.state for r in board.rows for c in r.cells for b in c.blocks}
    assert states[TODAY] == "planned"


def test_at_risk_edge_pair() -> None:
    """A visit on its deadline day is at risk (no day left to retry); a day early is not."""
    from scheduler.domain import VisitReason
    from tests.integrations.conftest import make_visit

    on_the_day = make_visit(
        reasons=(VisitReason(child_id="c1", rule_id="r", due=date(2026, 12, 1), slack_days=0),)
    )
    day_early = make_visit(
        reasons=(VisitReason(child_id="c1", rule_id="r", due=date(2026, 12, 2), slack_days=1),)
    )
    assert is_at_risk(on_the_day)
    assert not is_at_risk(day_early)
    assert is_at_risk(on_the_day, "awaiting outcome")


@pytest.mark.parametrize("state", ["completed", "failed", "not seen", "cancelled"])
def test_a_visit_whose_outcome_is_in_is_no_longer_at_risk(state: str) -> None:
    """Once the visit on its deadline day is recorded (or cancelled), there is nothing left
    to retry for it: the board's "At risk" mark and count leave it."""
    from scheduler.domain import VisitReason
    from tests.integrations.conftest import make_visit

    on_the_day = make_visit(
        reasons=(VisitReason(child_id="c1", rule_id="r", due=date(2026, 12, 1), slack_days=0),)
    )
    assert not is_at_risk(on_the_day, state)


def test_board_shades_absences(client, desk: Desk, store: Store) -> None:
    snap = snapshot(store)
    away = snap.scenario.absences[0]
    worker = snap.workers[away.worker_id]
    sign_in(client, "ada")
    monday = away.start - timedelta(days=away.start.weekday())
    html = client.get(f"/teams/{worker.team_id}/week?start={monday.isoformat()}").text
    row = html[html.index(f'<th scope="row">{worker.name}') :].split("</tr>", 1)[0]
    assert 'class="away"' in row
    assert f"Away: {away.reason}" in row


def test_visit_details_show_rules_due_dates_and_slack(client, desk: Desk, store: Store) -> None:
    snap = snapshot(store)
    visit_id = first_visit(store, desk.team_a, START, "child-protection")
    visit = snap.visits[visit_id]
    sign_in(client, "mo")
    words = text(client.get(f"/visits/{visit_id}").text)
    reason = visit.reasons[0]
    assert snap.rule_titles[reason.rule_id] in words
    assert f"{reason.due:%a} {reason.due.day} {reason.due:%b}" in words
    days = abs(reason.slack_days)
    count = f"{days} day" if days == 1 else f"{days} days"
    slack = (
        f"{count} late"
        if reason.slack_days < 0
        else f"{count} to spare"
        if reason.slack_days
        else "on the day it is due"
    )
    assert slack in words
    for item in visit.checklist:
        assert item in words
    assert "History" in words


def test_visit_details_as_a_fragment_for_htmx(client, desk: Desk, store: Store) -> None:
    visit_id = first_visit(store, desk.team_a, START)
    sign_in(client, "mo")
    partial = client.get(f"/visits/{visit_id}", headers={"HX-Request": "true"}).text
    assert "<html" not in partial
    assert "<h2>Visit on" in partial
    full = client.get(f"/visits/{visit_id}").text
    assert "<html" in full
    assert "<h1>Visit on" in full


# -------------------------------------------------------------------- compliance


def test_compliance_lists_overdue_first_with_counts(client, desk: Desk, store: Store) -> None:
    sign_in(client, "mo")
    html = client.get(f"/teams/{desk.team_a}/due").text
    snap = snapshot(store)
    teams = child_teams(snap.scenario)
    team_children = [c for c in snap.scenario.children if teams[c.id] == desk.team_a]
    counts = {s: int(n) for n, s in re.findall(r"<strong>(\d+)</strong> ([a-z ]+)</a>", html)}
    assert sum(counts.values()) == len(team_children)
    states = re.findall(r'<td class="state-([a-z-]+)">', html)
    assert len(states) == len(team_children)
    overdue = [i for i, s in enumerate(states) if s == "overdue"]
    assert overdue == list(range(len(overdue))), "overdue children come first"


def test_compliance_filters(client, desk: Desk, store: Store) -> None:
    sign_in(client, "mo")
    base = f"/teams/{desk.team_a}/due"
    html = client.get(f"{base}?state=overdue").text
    assert set(re.findall(r'<td class="state-([a-z-]+)">', html)) <= {"overdue"}
    rows = body_rows(client.get(f"{base}?category=child-protection").text)
    assert rows
    assert {r[1] for r in rows} == {"Child protection"}
    snap = snapshot(store)
    worker = snap.workers[desk.worker]
    rows = body_rows(client.get(f"{base}?worker={desk.worker}").text)
    assert rows
    assert {r[2] for r in rows} == {worker.name}


def test_compliance_counts_an_awaiting_visit_apart(client, desk: Desk, store: Store) -> None:
    """A child whose clock rests on a visit with no outcome yet is 'awaiting outcome'; once
    the visit is recorded they are not."""
    snap = snapshot(store)
    visit = next(v for v in snap.plan.visits if v.day == TUESDAY and snap.team_of(v) == desk.team_a)
    sign_in(client, "mo")
    rows = body_rows(client.get(f"/teams/{desk.team_a}/due?state=awaiting+outcome").text)
    refs = {snap.children[c].case_ref for c in visit.child_ids}
    assert refs <= {r[0] for r in rows}
    service.record_outcome(store, visit.id, "completed", today=TODAY)
    rows = body_rows(client.get(f"/teams/{desk.team_a}/due?state=awaiting+outcome").text)
    assert not refs & {r[0] for r in rows}


def test_admin_sees_every_child(client, store: Store) -> None:
    sign_in(client, "ada")
    html = client.get("/due").text
    assert f"{len(store.read_scenario().children)} child(ren)" in html


# ---------------------------------------------------------------------- pictures


def test_outlook_has_svg_charts_and_the_same_numbers_in_tables(
    client, desk: Desk, store: Store
) -> None:
    from scheduler.outlook import outlook

    snap = snapshot(store)
    found = outlook(snap.scenario, snap.plan, desk.team_a, START)
    sign_in(client, "mo")
    html = client.get(f"/teams/{desk.team_a}/outlook?start=2026-11-30").text
    assert html.count('<svg class="chart"') == 2
    for week in found.weeks:
        hours = [f"{m / 60:.1f}" for m in (week.demand_min, week.planned_min, week.capacity_min)]
        assert "".join(f"<td>{h}</td>" for h in hours) in html
    for day in found.days:
        assert f"<td>{day.children}</td>" in html


# ------------------------------------------------------- absence -> re-plan -> apply


def wait_for_preview(client, url: str, timeout_s: float = 180) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        html = client.get(url).text
        if "Working out the re-plan" not in html:
            return html
        assert 'hx-trigger="every 1s"' in html, "the progress box polls itself"
        time.sleep(0.5)
    raise AssertionError("the preview did not finish")


@pytest.mark.slow
def test_absence_preview_apply_publish(desk: Desk, store: Store) -> None:
    calendars = FakeCalendars()
    client = make_client(store, publish=calendars)
    sign_in(client, "mo")
    plan_before = store.current_plan()
    absences = f"/teams/{desk.team_a}/absences"
    response = post_form(
        client,
        absences,
        absences,
        {"worker": desk.worker, "from": "2026-12-02", "to": "2026-12-04", "reason": "sickness"},
    )
    assert re.fullmatch(rf"/teams/{desk.team_a}/replan/[\w-]+", response.url.path)
    assert store.list_absences(desk.worker)[-1].reason == "sickness"
    assert store.current_plan() == plan_before, "a preview writes nothing"
    html = wait_for_preview(client, str(response.url))
    words = text(html)
    assert "What would change" in words
    assert "had to change (worker away, left or committed)" in words
    assert "Reassigned" in words
    moved_off = [
        v
        for v in plan_before.visits
        if v.worker_id == desk.worker and date(2026, 12, 2) <= v.day <= date(2026, 12, 4)
    ]
    assert moved_off
    applied = client.post(f"{response.url.path}/apply", data={"csrftoken": token_of(html)})
    assert "Applied." in applied.text
    plan_after = store.current_plan()
    assert plan_after is not None
    assert plan_after.id != plan_before.id
    assert not [
        v
        for v in plan_after.visits
        if v.worker_id == desk.worker
        and date(2026, 12, 2) <= v.day <= date(2026, 12, 4)
        and v.status == "planned"
    ]
    assert "mo" in {e.by for e in store.changes_since(0)}
    published = client.post(
        f"/teams/{desk.team_a}/publish", data={"csrftoken": token_of(applied.text)}
    )
    assert calendars.calls == 1
    assert f"{len(plan_after.visits)} created" in text(published.text)


@pytest.mark.slow
def test_apply_refuses_a_stale_preview_and_offers_a_fresh_one(
    client, desk: Desk, store: Store
) -> None:
    sign_in(client, "mo")
    page = client.get(f"/teams/{desk.team_a}/absences")
    response = client.post(
        f"/teams/{desk.team_a}/replan",
        data={"from": "2026-12-02", "csrftoken": token_of(page.text)},
    )
    html = wait_for_preview(client, str(response.url))
    # Someone records an outcome meanwhile.
    visit = first_visit(store, desk.team_a, TUESDAY)
    outcomes = client.get(f"/teams/{desk.team_a}/outcomes?day=2026-12-01")
    client.post(
        f"/teams/{desk.team_a}/outcomes/{visit}",
        data={"outcome": "completed", "csrftoken": token_of(outcomes.text)},
    )
    plan_before = store.current_plan()
    refused = client.post(f"{response.url.path}/apply", data={"csrftoken": token_of(html)})
    words = text(refused.text)
    assert "Not applied: the caseload or plan changed since this preview was made: " in words
    assert re.search(r"record added v-\S+ by mo\.", words), words
    assert "['" not in words  # a sentence, not a Python list
    assert "Make a fresh preview" in words
    assert store.current_plan() == plan_before
    # The stale preview is offered no more, even when the page is opened again.
    assert "Apply this re-plan" not in words
    again = client.get(str(response.url))
    assert "Apply this re-plan" not in again.text
    assert "Not applied" in text(again.text)
    client.post(f"{response.url.path}/apply", data={"csrftoken": token_of(again.text)})
    assert store.current_plan() == plan_before


def test_a_stale_preview_says_what_changed_in_a_sentence(store: Store) -> None:
    """Each change since, in words with who made it, joined as a sentence (the page showed a
    Python list: "['child edited c-00030 (frequency) (by tester)']"), each child by case
    reference."""
    snap = snapshot(store)
    first, second = (c.id for c in snap.scenario.children[:2])
    revision = store.revision()
    service.edit_child(store, first, case_ref="CR-STALE-1", by="mo")
    service.edit_child(store, second, case_ref="CR-STALE-2", by="tess")
    refused = StaleError(store.changes_since(revision))
    assert stale_words(snapshot(store), refused) == (
        "the caseload or plan changed since this preview was made: "
        "child edited CR-STALE-1 (case_ref) by mo and child edited CR-STALE-2 (case_ref) by tess."
    )
    assert stale_words(snapshot(store), refused, most=1).endswith(
        "child edited CR-STALE-1 (case_ref) by mo and 1 more."
    )


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        pytest.param("2026-12-04", "2026-12-03", "last day away is before the first", id="order"),
        pytest.param(
            "9999-01-01",
            "9999-01-02",
            "First day away: give a date between the years 1900 and 2100.",
            id="year 9999",
        ),
        pytest.param(
            "31/02/2026",
            "31/02/2026",
            "First day away: 31/02/2026 is not a date: February 2026 has 28 days",
            id="no such day",
        ),
    ],
)
def test_absence_refused_with_a_message(
    client, desk: Desk, store: Store, first: str, last: str, message: str
) -> None:
    """Refused on the form with a 400 and nothing written, never a server error."""
    sign_in(client, "mo")
    before = store.revision()
    absences = f"/teams/{desk.team_a}/absences"
    response = post_form(
        client, absences, absences, {"worker": desk.worker, "from": first, "to": last}
    )
    assert response.status_code == 400
    assert message in response.text
    assert store.revision() == before


def test_absence_sharing_a_day_with_another_is_refused_in_words(
    client, desk: Desk, store: Store
) -> None:
    """A second absence of a worker sharing a day with the first is refused on the form (400),
    never a server error, and the first is kept as it was."""
    sign_in(client, "mo")
    absences = f"/teams/{desk.team_a}/absences"
    form = {"worker": desk.worker, "from": "2026-12-14", "to": "2026-12-15", "reason": "leave"}
    post_form(client, absences, absences, form)
    kept = store.list_absences(desk.worker)
    assert date(2026, 12, 14) in {a.start for a in kept}
    before = store.revision()
    response = post_form(
        client, absences, absences, {**form, "to": "2026-12-16", "reason": "sickness"}
    )
    assert response.status_code == 400
    assert "recorded as away on some of these days already" in unescape(response.text)
    assert store.revision() == before
    assert store.list_absences(desk.worker) == kept


def test_far_dates_on_moves_and_weeks_are_refused_not_crashed(
    client, desk: Desk, store: Store
) -> None:
    sign_in(client, "mo")
    before = store.revision()
    visit = later_visit(store, desk.team_a)
    moved = post_form(
        client,
        f"/visits/{visit}/move",
        f"/visits/{visit}/move",
        {"day": "9999-01-01", "time": "10:00", "worker": desk.worker, "action": "check"},
    )
    assert moved.status_code == 400
    assert "Day: give a date between the years 1900 and 2100." in moved.text
    assert client.get(f"/teams/{desk.team_a}/week?start=9999-01-01").status_code == 200
    assert store.revision() == before


# ---------------------------------------------------------------------- outcomes


def test_failed_child_protection_visit_shows_retry_and_escalation(
    client, desk: Desk, store: Store
) -> None:
    visit = first_visit(store, desk.team_a, TUESDAY, "child-protection")
    sign_in(client, "mo")
    page = client.get(f"/teams/{desk.team_a}/outcomes?day=2026-12-01")
    response = client.post(
        f"/teams/{desk.team_a}/outcomes/{visit}",
        data={"outcome": "failed", "csrftoken": token_of(page.text)},
    )
    words = text(response.text)
    assert "follow up now" in words
    # North Somerset: a failed CP visit is retried within 48 hours (Thu 3 Dec) and brought to
    # the team manager's attention at once.
    assert "Retry due by Thursday 3 December 2026" in words
    assert "Escalate to the team manager" in words
    records = store.records_for_visits([visit])[visit]
    assert records
    assert {r.outcome for r in records} == {"failed"}
    assert "mo" in {e.by for e in store.changes_since(0) if e.action == "record added"}


def test_mark_the_rest_completed(client, desk: Desk, store: Store) -> None:
    snap = snapshot(store)
    tuesday = [
        v
        for v in snap.plan.visits
        if v.day == TUESDAY and snap.workers[v.worker_id].team_id == desk.team_a
    ]
    failed = tuesday[0].id
    sign_in(client, "mo")
    page = client.get(f"/teams/{desk.team_a}/outcomes?day=2026-12-01")
    client.post(
        f"/teams/{desk.team_a}/outcomes/{failed}",
        data={"outcome": "not-seen", "csrftoken": token_of(page.text)},
    )
    page = client.get(f"/teams/{desk.team_a}/outcomes?day=2026-12-01")
    assert f"Mark the other {len(tuesday) - 1} visit(s) completed" in page.text
    client.post(
        f"/teams/{desk.team_a}/outcomes/rest",
        data={"day": "2026-12-01", "csrftoken": token_of(page.text)},
    )
    records = store.records_for_visits([v.id for v in tuesday])
    assert {r.outcome for r in records[failed]} == {"not-seen"}
    for v in tuesday[1:]:
        assert {r.outcome for r in records[v.id]} == {"completed"}
    assert "Mark the other" not in client.get(f"/teams/{desk.team_a}/outcomes?day=2026-12-01").text


def test_outcome_edge_pair_today_yes_later_no(client, store: Store) -> None:
    """An outcome can be recorded on the visit's day, not before it."""
    snap = snapshot(store)
    today_visit = next(v for v in snap.plan.visits if v.day == TODAY)
    later_visit = min((v for v in snap.plan.visits if v.day > TODAY), key=lambda v: v.start)
    sign_in(client, "ada")
    token = token_of(client.get("/teams").text)
    ok = client.post(
        f"/teams/{snap.team_of(today_visit)}/outcomes/{today_visit.id}",
        data={"outcome": "completed", "csrftoken": token},
    )
    assert ok.status_code == 200
    assert store.records_for_visits([today_visit.id]).get(today_visit.id)
    early = client.post(
        f"/teams/{snap.team_of(later_visit)}/outcomes/{later_visit.id}",
        data={"outcome": "completed", "csrftoken": token},
    )
    assert early.status_code == 400
    # The service's refusal, in the form's words (never its command-line option).
    assert "The visit&#39;s day has not come yet: record its outcome on or after that day." in (
        early.text
    )
    assert "--on" not in early.text
    assert "command line" not in early.text
    assert not store.records_for_visits([later_visit.id]).get(later_visit.id)


# ------------------------------------------------------------------ hand changes


def test_move_into_an_absence_is_refused_with_the_reason(client, desk: Desk, store: Store) -> None:
    snap = snapshot(store)
    # An absence still to come, and a visit still to be made on another day (today counts:
    # with half of each team on late shifts, seed 19's team-02 has none after today): the
    # away worker's own if they have one, else a team-mate's (moved to them), so the data
    # need not oblige.
    away = next(a for a in snap.scenario.absences if a.start > TODAY)
    worker = snap.workers[away.worker_id]
    later = [v for v in snap.plan.visits if v.day >= TODAY and v.day != away.start]
    visit = next((v for v in later if v.worker_id == worker.id), None) or next(
        v for v in later if snap.workers[v.worker_id].team_id == worker.team_id
    )
    sign_in(client, "ada")
    local = visit.start.astimezone(snap.tz)
    data = move_form(client, visit.id, away.start.isoformat(), f"{local:%H:%M}", worker.id)
    checked = client.post(f"/visits/{visit.id}/move", data={**data, "action": "check"})
    words = text(checked.text)
    assert "This move cannot be saved" in words
    assert (
        f"is away on {away.start:%a} {away.start.day} {away.start:%b %Y} ({away.reason})" in words
    )
    before = store.revision()
    saved = client.post(f"/visits/{visit.id}/move", data={**data, "action": "save"})
    assert saved.status_code == 409
    assert store.revision() == before


def test_a_refused_move_names_children_homes_and_visits_as_a_manager_does(
    client, desk: Desk, store: Store
) -> None:
    """The checker's verdict on the desk names children by case reference, homes by area and
    visits by their children (it said 'c-00029 is at school until 15:30', 'cannot get from
    base to h-00023', 'visits v-h-00023-20261201 and v-h-00079-20261202 overlap'): moved onto
    a colleague's visit at its very time, a visit overlaps it."""
    snap = snapshot(store)
    later = sorted(
        (v for v in snap.plan.visits if v.day > TODAY and snap.team_of(v) == desk.team_a),
        key=lambda v: v.start,
    )
    moved, other = next(
        (a, b) for a in later for b in later if a.day != b.day and a.worker_id != b.worker_id
    )
    sign_in(client, "mo")
    local = other.start.astimezone(snap.tz)
    data = move_form(client, moved.id, f"{local:%d/%m/%Y}", f"{local:%H:%M}", other.worker_id)
    checked = client.post(f"/visits/{moved.id}/move", data={**data, "action": "check"})
    words = text(checked.text)
    assert "This move cannot be saved" in words
    verdict = words[words.index("The checker's verdict") :]
    refs = ", ".join(snap.children[c].case_ref for c in other.child_ids)
    assert f"the visit to {refs}" in verdict
    ids = {*snap.children, *snap.households, *(v.id for v in snap.plan.visits)}
    assert not [i for i in ids if re.search(rf"(?<![\w-]){re.escape(i)}(?![\w-])", verdict)]


def move_form(client: Any, visit_id: str, day: str, at: str, worker: str) -> dict[str, str]:
    """The visit's move form filled in (day, time, worker) with its CSRF token; the caller
    adds the action (check or save)."""
    token = token_of(client.get(f"/visits/{visit_id}/move").text)
    return {"day": day, "time": at, "worker": worker, "csrftoken": token}


def movable_later(store: Store, team: str, not_worker: str | None = None) -> tuple[Visit, datetime]:
    """A team's visit after today (one worker, not `not_worker`'s) that may move 15 minutes
    later, and that later start."""
    snap = snapshot(store)
    for visit in snap.plan.visits:
        if (
            visit.day <= TODAY
            or snap.team_of(visit) != team
            or visit.second_worker_id
            or visit.worker_id == not_worker
        ):
            continue
        later = visit.start.astimezone(snap.tz) + timedelta(minutes=15)
        verdict = service.move_visit(
            store, visit.id, day=later.date(), at=later.time(), today=TODAY, save=False
        )
        if not verdict.refused:
            return visit, later
    raise AssertionError("no movable visit")


def test_two_managers_move_the_same_visit_the_second_is_told(desk: Desk, store: Store) -> None:
    """Both open the visit's move page; one saves a move 15 minutes later, then the other saves
    the visit back at its old time: the second is told the visit was changed since their page
    was opened and nothing is saved (it was saved, undoing the first move unseen). The other
    half of the edge pair: from a page opened after the first move, the same save goes
    through."""
    from tests.web.conftest import make_client

    visit, later = movable_later(store, desk.team_a)
    snap = snapshot(store)
    was = visit.start.astimezone(snap.tz)
    mo, ada = make_client(store), make_client(store)
    sign_in(mo, "mo")
    sign_in(ada, "ada")
    page = f"/visits/{visit.id}/move"
    mine, theirs = mo.get(page).text, ada.get(page).text

    def fields(html: str, when: datetime) -> dict[str, str]:
        hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))
        return {**hidden, "day": f"{when:%d/%m/%Y}", "time": f"{when:%H:%M}", "action": "save"}

    saved = mo.post(page, data={**fields(mine, later), "worker": visit.worker_id})
    assert saved.status_code == 200
    moved = store.find_visit(visit.id)
    assert moved is not None
    assert moved.start == later
    before = store.revision()
    late = ada.post(page, data={**fields(theirs, was), "worker": visit.worker_id})
    assert late.status_code == 409
    words = text(late.text)
    assert "This visit was changed since this page was opened" in words
    assert f"now {later:%a} {later.day} {later:%b} at {later:%H:%M}" in words
    assert store.revision() == before
    fresh = ada.get(page).text
    again = ada.post(page, data={**fields(fresh, was), "worker": visit.worker_id})
    assert again.status_code == 200
    back = store.find_visit(visit.id)
    assert back is not None
    assert back.start == was


def test_a_move_that_breaks_no_rule_is_saved(client, desk: Desk, store: Store) -> None:
    """Same day and worker, 15 minutes later where the worker's day allows it."""
    visit, later = movable_later(store, desk.team_a)
    sign_in(client, "mo")
    data = move_form(client, visit.id, later.date().isoformat(), f"{later:%H:%M}", visit.worker_id)
    checked = client.post(f"/visits/{visit.id}/move", data={**data, "action": "check"})
    assert "This move breaks no rule" in checked.text
    client.post(f"/visits/{visit.id}/move", data={**data, "action": "save"})
    stored = store.find_visit(visit.id)
    assert stored is not None
    assert stored.start == later
    assert stored.pinned, "a visit moved by hand is pinned"
    assert any(e.action == "visit moved" and e.by == "mo" for e in store.changes_since(0))


def test_move_off_the_quarter_hour_is_refused(client, desk: Desk, store: Store) -> None:
    visit = later_visit(store, desk.team_a)
    sign_in(client, "mo")
    data = move_form(client, visit, "2026-12-03", "10:10", desk.worker)
    response = client.post(f"/visits/{visit}/move", data={**data, "action": "check"})
    assert response.status_code == 400
    assert "quarter hour" in response.text


def test_pin_and_unpin(client, desk: Desk, store: Store) -> None:
    visit = later_visit(store, desk.team_a)
    sign_in(client, "mo")
    token = token_of(client.get(f"/visits/{visit}").text)
    page = client.post(f"/visits/{visit}/pin", data={"csrftoken": token})
    assert store.find_visit(visit).pinned
    assert "Fixed here by hand" in page.text
    client.post(f"/visits/{visit}/pin", data={"csrftoken": token, "pinned": "no"})
    assert not store.find_visit(visit).pinned


# --------------------------------------------------------------------------- me


def test_worker_page_names_the_colleague_on_a_joint_visit(client, store: Store) -> None:
    """Both workers of a joint visit see it on their week with the other's name, so each
    knows whom to meet there; a visit made alone has no such mark."""
    snap = snapshot(store)
    joint = next(
        v
        for v in snap.plan.visits
        if v.second_worker_id and START <= v.day < START + timedelta(days=7)
    )
    assert joint.second_worker_id is not None
    lead, second = joint.worker_id, joint.second_worker_id
    add_user(store, "lead", "worker", PASSWORD, NOW, worker_id=lead)
    add_user(store, "second", "worker", PASSWORD, NOW, worker_id=second)
    pages = {}
    for name, other in (("lead", second), ("second", lead)):
        client.cookies.clear()
        sign_in(client, name)
        html = pages[name] = client.get("/me?start=2026-11-30").text
        item = html.split(f'href="/visits/{joint.id}"', 1)[1].split("</li>", 1)[0]
        assert f"Joint with {snap.workers[other].name}" in unescape(item)
    alone = next(
        v
        for v in snap.plan.visits
        if v.worker_id == lead
        and v.second_worker_id is None
        and START <= v.day < START + timedelta(days=7)
    )
    item = pages["lead"].split(f'href="/visits/{alone.id}"', 1)[1].split("</li>", 1)[0]
    assert "Joint" not in item


def test_worker_page_shows_their_week_and_feed(client, desk: Desk, store: Store) -> None:
    sign_in(client, "wes")
    html = client.get("/me?start=2026-11-30").text
    snap = snapshot(store)
    mine = [
        v
        for v in snap.plan.visits
        if desk.worker in (v.worker_id, v.second_worker_id)
        and START <= v.day < START + timedelta(days=7)
    ]
    assert html.count('<li><a href="/visits/') == len(mine)
    for word in ("Outlook", "Google Calendar", "iPhone", "Android"):
        assert word in html
    issued = client.post("/me/feed", data={"csrftoken": token_of(html)})
    url = re.search(r'<p class="feedurl mono">([^<]+)</p>', issued.text).group(1)
    assert url.startswith("http://testserver/feeds/")
    feed = client.get(url.removeprefix("http://testserver"))
    assert feed.status_code == 200
    assert "BEGIN:VCALENDAR" in feed.text
    assert feed.text.count("BEGIN:VEVENT") >= len(mine)
    client.post("/me/feed/revoke", data={"csrftoken": token_of(issued.text)})
    assert client.get(url.removeprefix("http://testserver")).status_code == 404


def test_footer_carries_the_attribution_when_given(store: Store) -> None:
    client = make_client(store, attribution="Contains OS data (c) Crown copyright 2026")
    assert "Contains OS data" in client.get("/login").text


@pytest.mark.slow
def test_a_visit_moved_at_the_desk_stays_through_a_replan(desk: Desk, store: Store) -> None:
    """Move a visit by hand (pinned), then a colleague's absence -> preview -> apply: the
    moved visit keeps its day, time and worker, and stays pinned."""
    visit, later = movable_later(store, desk.team_a, not_worker=desk.worker)
    client = make_client(store)
    sign_in(client, "mo")
    data = move_form(client, visit.id, later.date().isoformat(), f"{later:%H:%M}", visit.worker_id)
    client.post(f"/visits/{visit.id}/move", data={**data, "action": "save"})
    absences = f"/teams/{desk.team_a}/absences"
    response = post_form(
        client,
        absences,
        absences,
        {"worker": desk.worker, "from": "2026-12-02", "to": "2026-12-04", "reason": "sickness"},
    )
    html = wait_for_preview(client, str(response.url))
    applied = client.post(f"{response.url.path}/apply", data={"csrftoken": token_of(html)})
    assert "Applied." in applied.text
    kept = store.find_visit(visit.id)
    assert kept is not None
    assert (kept.start, kept.worker_id, kept.pinned) == (later, visit.worker_id, True)
    page = text(client.get(f"/visits/{visit.id}").text)
    assert "Re-plans keep it here" in page


def test_a_preview_read_as_it_finishes_shows_progress_not_an_error(client, desk: Desk) -> None:
    """The page reads the job's status before its report: a preview that finishes between
    the two reads shows the progress box (the next poll shows the preview), where reading
    the report first showed a finished status with no report and answered with an error."""
    import threading

    from scheduler.errors import VisitplanError
    from scheduler.web.jobs import Job, new_job_id

    class FinishesAsItIsRead(Job):
        """Marked done by its thread the moment its (empty) report is read."""

        def __getattribute__(self, name: str) -> Any:
            value = object.__getattribute__(self, name)
            if name == "report" and object.__getattribute__(self, "status") == "running":
                object.__setattr__(self, "status", "done")
            return value

    sign_in(client, "mo")
    release = threading.Event()

    def work(job: Job) -> Any:
        release.wait(30)
        raise VisitplanError("stopped by the test")

    job = FinishesAsItIsRead(
        id=new_job_id(), owner="mo", team_id=desk.team_a, from_date=date(2026, 12, 2)
    )
    client.app.state.desk.jobs.start(job, work)
    deadline = time.monotonic() + 10
    while object.__getattribute__(job, "status") != "running" and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        page = client.get(f"/teams/{desk.team_a}/replan/{job.id}")
    finally:
        release.set()
    assert page.status_code == 200
    assert "Working out the re-plan" in text(page.text)


@pytest.mark.parametrize(("n", "words"), [(1, "1 day"), (2, "2 days"), (0, "0 days")])
def test_days_are_counted_in_words(n: int, words: str) -> None:
    """ "1 day", "2 days": the desk's counts of days read as a manager writes them."""
    from scheduler.web.app import _templates

    assert _templates().env.filters["days"](n) == words
