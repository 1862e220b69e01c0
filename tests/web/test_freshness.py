"""The desk keeps up with changes made elsewhere: due dates kept between revisions are the due
engine's own, and a warm desk serves the previous page, marked as updating, while it reads a
change in.

Rule: real generated authorities and a real SQLite store; the due engine's `scenario_due` is
the proof that kept rows equal fresh ones.
"""

from __future__ import annotations

import time
import warnings
from datetime import date, timedelta

import pytest

from scheduler import caseload, service
from scheduler.domain import Absence, VisitRecord
from scheduler.due import scenario_due
from scheduler.generate import generate
from scheduler.store import Store
from scheduler.web import context
from scheduler.web.app import create_app
from scheduler.web.due_memory import DueMemory
from scheduler.web.patch import patched
from scheduler.web.snapshot import Snapshot
from tests.web.conftest import NOW, SECRET, TUESDAY, Desk, post_form, sign_in

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

AS_OF = date(2026, 12, 2)
UPDATING = "Updating: a change made elsewhere"


def test_kept_due_dates_equal_the_engine_and_only_changed_children_are_worked_out() -> None:
    scenario = generate("S", seed=19, start=date(2026, 11, 30), children=150)
    snapshot = Snapshot(0, scenario, None)
    memory = DueMemory()
    assert memory.scenario_due(scenario, snapshot.pack, AS_OF) == scenario_due(scenario, AS_OF)
    assert memory.worked_out == len(scenario.children)
    # Nothing changed: nothing worked out again.
    assert memory.scenario_due(scenario, snapshot.pack, AS_OF) == scenario_due(scenario, AS_OF)
    assert memory.worked_out == 0
    # One child's category changes and another is visited: those two, and only them.
    first, second = scenario.children[0], scenario.children[1]
    other = "child-in-need" if first.category != "child-in-need" else "child-protection"
    visitor = next(w for w in scenario.workers if w.role == "social-worker")
    record = VisitRecord(
        id="r-fresh",
        child_id=second.id,
        household_id=second.household_ids[0],
        worker_id=visitor.id,
        on=AS_OF - timedelta(days=1),
        outcome="completed",
        seen_alone=True,
    )
    changed = scenario.model_copy(
        update={
            "children": (first.model_copy(update={"category": other}), *scenario.children[1:]),
            "records": (*scenario.records, record),
        }
    )
    assert memory.scenario_due(changed, snapshot.pack, AS_OF) == scenario_due(changed, AS_OF)
    assert memory.worked_out == 2
    # A visiting worker's role is an input too (a visit by a social worker counts).
    roles = tuple(
        w.model_copy(update={"role": "family-support-worker"}) if w.id == visitor.id else w
        for w in changed.workers
    )
    recast = changed.model_copy(update={"workers": roles})
    assert memory.scenario_due(recast, snapshot.pack, AS_OF) == scenario_due(recast, AS_OF)
    assert memory.worked_out >= 1
    # Another day: every child again.
    later = AS_OF + timedelta(days=1)
    assert memory.scenario_due(recast, snapshot.pack, later) == scenario_due(recast, later)
    assert memory.worked_out == len(scenario.children)


def warm_client(store: Store) -> TestClient:
    """A desk that keeps its snapshot current in the background, as `visitplan serve` runs."""
    services = context.DeskServices(lambda *a: "", lambda *a: False, None)
    app = create_app(store, lambda: NOW, SECRET, services, "http://testserver", warm=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TestClient(app, follow_redirects=True)


def wait_until_current(client: TestClient) -> None:
    desk: context.Desk = client.app.state.desk  # type: ignore[attr-defined]
    deadline = time.monotonic() + 60
    while desk.cache.behind():
        assert time.monotonic() < deadline, "the desk never read the change in"
        time.sleep(0.05)


def test_a_change_made_elsewhere_is_served_as_updating_then_read_in(
    desk: Desk, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The watcher looks only when asked, so the first page after the change is the old one.
    monkeypatch.setattr(context, "WATCH_SECONDS", 600.0)
    with warm_client(store) as client:
        sign_in(client, "ada")
        wait_until_current(client)
        before = client.get(f"/teams/{desk.team_a}/due")
        assert before.status_code == 200
        assert UPDATING not in before.text
        child = next(
            c
            for c in Snapshot(*store.snapshot()).scenario.children
            if c.allocated_worker is not None
        )
        # As the command line would: another connection to the same file.
        elsewhere = Store(f"sqlite:///{desk.path}")
        caseload.edit_child(elsewhere, child.id, case_ref="CR-ELSEWHERE-1", by="cli")
        elsewhere.close()
        started = time.perf_counter()
        stale = client.get(f"/teams/{desk.team_a}/due?state=")
        assert time.perf_counter() - started < 5
        assert stale.status_code == 200
        assert UPDATING in stale.text
        assert "CR-ELSEWHERE-1" not in stale.text
        wait_until_current(client)
        fresh = client.get("/due")
        assert UPDATING not in fresh.text
        assert "CR-ELSEWHERE-1" in client.get(f"/due?worker={child.allocated_worker}").text


def test_a_change_made_at_the_desk_shows_at_once(
    desk: Desk, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(context, "WATCH_SECONDS", 600.0)
    snapshot = Snapshot(*store.snapshot())
    visit = next(
        v
        for v in snapshot.plan.visits  # type: ignore[union-attr]
        if v.day == TUESDAY
        and snapshot.team_of(v) == desk.team_a
        and snapshot.state(v, NOW.date()) == "awaiting outcome"
    )
    with warm_client(store) as client:
        sign_in(client, "mo")
        wait_until_current(client)
        page = f"/teams/{desk.team_a}/outcomes?day={TUESDAY.isoformat()}"
        assert client.get(page).status_code == 200
        response = post_form(
            client, page, f"/teams/{desk.team_a}/outcomes/{visit.id}", {"outcome": "completed"}
        )
        assert response.status_code == 200
        assert UPDATING not in response.text
        desk_state: context.Desk = client.app.state.desk  # type: ignore[attr-defined]
        assert not desk_state.cache.behind()
        assert desk_state.cache.latest is not None
        assert desk_state.cache.latest.state(visit, NOW.date()) == "completed"


@pytest.mark.slow
def test_an_applied_replan_shows_at_once(
    desk: Desk, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page after Apply is the new plan, not the old one marked "a change made
    elsewhere is being read in" (the apply route did not read the store it had changed)."""
    from tests.web.conftest import token_of
    from tests.web.test_pages import wait_for_preview

    monkeypatch.setattr(context, "WATCH_SECONDS", 600.0)
    with warm_client(store) as client:
        sign_in(client, "mo")
        wait_until_current(client)
        absences = f"/teams/{desk.team_a}/absences"
        away = {"worker": desk.worker, "from": "02/12/2026", "to": "03/12/2026"}
        preview = post_form(client, absences, absences, away)
        html = wait_for_preview(client, str(preview.url))
        applied = client.post(f"{preview.url.path}/apply", data={"csrftoken": token_of(html)})
        assert "Applied." in applied.text
        assert "What changed" in applied.text
        assert UPDATING not in applied.text
        desk_state: context.Desk = client.app.state.desk  # type: ignore[attr-defined]
        assert not desk_state.cache.behind()


def test_a_snapshot_patched_from_the_audit_equals_a_whole_read(desk: Desk, store: Store) -> None:
    """Every kind of change read one by one gives what reading the whole store gives; any
    other change is not patched (the whole store is read)."""
    snap = Snapshot(*store.snapshot())
    assert snap.plan is not None
    child = next(c for c in snap.scenario.children if c.allocated_worker)
    awaiting = next(
        v
        for v in snap.plan.visits
        if v.day == TUESDAY and snap.state(v, NOW.date()) == "awaiting outcome"
    )
    later = next(v for v in snap.plan.visits if v.day > NOW.date() and not v.pinned)
    closing = next(c for c in snap.scenario.children if c.id != child.id)
    changes = [
        lambda: caseload.edit_child(store, child.id, case_ref="CR-PATCH-1", by="t"),
        lambda: service.record_outcome(store, awaiting.id, "completed", today=NOW.date()),
        lambda: service.record_outcome(store, awaiting.id, "failed", amend=True, today=NOW.date()),
        lambda: service.set_pinned(store, later.id, True, by="t"),
        lambda: caseload.close_child(
            store, closing.id, NOW.date(), "moved away", today=NOW.date(), by="t"
        ),
    ]
    revision, scenario, plan = store.snapshot()
    for change in changes:
        change()
        found = patched(store, revision, scenario, plan)
        assert found is not None
        assert found == store.snapshot()
        revision, scenario, plan = found
    # Several at once, too.
    caseload.edit_child(store, child.id, case_ref="CR-PATCH-2", by="t")
    service.set_pinned(store, later.id, False, by="t")
    found = patched(store, revision, scenario, plan)
    assert found == store.snapshot()
    # Absences: added, changed (removed, then added longer: one never replaces another),
    # removed.
    worker = child.allocated_worker or ""
    for end in (later.day, later.day + timedelta(days=1)):
        revision, scenario, plan = store.snapshot()
        store.remove_absence(worker, later.day)
        service.add_absences(store, [Absence(worker_id=worker, start=later.day, end=end)])
        assert patched(store, revision, scenario, plan) == store.snapshot()
    revision, scenario, plan = store.snapshot()
    assert store.remove_absence(worker, later.day)
    assert patched(store, revision, scenario, plan) == store.snapshot()
    # A new plan (a re-plan applied, `visitplan plan`).
    revision, scenario, plan = store.snapshot()
    assert plan is not None
    store.save_plan(plan.model_copy(update={"id": "plan-patch-test"}), NOW)
    assert patched(store, revision, scenario, plan) == store.snapshot()
    # Not a kind it reads one by one (a new child): None, and the whole store is read.
    revision, scenario, plan = store.snapshot()
    newcomer = child.model_copy(update={"id": "c-patch-new", "case_ref": "CR-PATCH-NEW"})
    caseload.add_child(store, newcomer, by="t")
    assert patched(store, revision, scenario, plan) is None
    # Nothing changed: None (nothing to do).
    revision, scenario, plan = store.snapshot()
    assert patched(store, revision, scenario, plan) is None
