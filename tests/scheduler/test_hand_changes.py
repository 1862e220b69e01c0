"""A hand change (`visit move`, `visit pin`) is saved only onto the plan it was judged on.

The store's state is changed between the judging and the saving, as a re-plan or a second
manager stored at that moment would: the change is refused and what was stored meanwhile
stands; an unrelated change meanwhile does not stop it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from scheduler import moves, service
from scheduler.domain import Visit
from scheduler.errors import ChangedError
from scheduler.store import Store

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def _later_visits(store: Store) -> tuple[Visit, Visit]:
    """A visit of the current plan still to make after today, and one of today's."""
    plan = store.current_plan()
    assert plan is not None
    ordered = sorted(plan.visits, key=lambda v: (v.start, v.id))
    return (
        next(v for v in ordered if v.day > TODAY),
        next(v for v in ordered if v.day == TODAY),
    )


def _meanwhile(monkeypatch: pytest.MonkeyPatch, write: Callable[[], None]) -> None:
    """`write` runs between a hand change's judging and its saving, as another command's
    write landing at that moment would."""
    judge = moves.judge

    def judge_then_write(*args: object, **kwargs: object) -> object:
        found = judge(*args, **kwargs)  # type: ignore[arg-type]
        write()
        return found

    monkeypatch.setattr(moves, "judge", judge_then_write)


def _replan_stored(store: Store) -> None:
    """The current plan stored again under the same id, as a second re-plan the same day."""
    plan = store.current_plan()
    assert plan is not None
    store.save_plan(plan, NOW, by="other")


@pytest.mark.parametrize(
    "meanwhile", ["re-plan stored", "same visit moved", "other visit recorded"]
)
def test_a_move_is_saved_only_onto_the_plan_it_was_judged_on(
    planned: str, monkeypatch: pytest.MonkeyPatch, meanwhile: str
) -> None:
    """Between judging and saving a move: a re-plan stored, or the same visit changed, makes
    the move refuse (nothing of it saved, the other write kept); another visit's outcome
    recorded does not."""
    store = Store(planned)
    visit, other = _later_visits(store)

    def someone_writes() -> None:
        if meanwhile == "re-plan stored":
            _replan_stored(store)
        elif meanwhile == "same visit moved":
            store.update_visit(visit.model_copy(update={"pinned": True}), "visit pinned")
        else:
            service.record_outcome(store, other.id, "completed", today=TODAY, by="ann", now=NOW)

    _meanwhile(monkeypatch, someone_writes)
    to = visit.day
    if meanwhile == "other visit recorded":
        verdict = service.move_visit(store, visit.id, day=to, today=TODAY, by="sam", now=NOW)
        assert verdict.saved
        assert store.find_visit(visit.id) == verdict.visit
        return
    with pytest.raises(ChangedError, match="was not changed"):
        service.move_visit(store, visit.id, day=to, today=TODAY, by="sam", now=NOW)
    assert store.changes_since(store.revision() - 1)[-1].by != "sam", "nothing of it saved"
    if meanwhile == "same visit moved":
        stored = store.find_visit(visit.id)
        assert stored is not None
        assert stored.pinned
        assert stored.start == visit.start


@pytest.mark.parametrize("changed", [True, False], ids=["changed-meanwhile", "unchanged"])
def test_a_pin_is_saved_only_onto_the_visit_as_read(planned: str, changed: bool) -> None:
    """`update_visit(was=...)` refuses when the stored visit is no longer the one read."""
    store = Store(planned)
    visit, _ = _later_visits(store)
    if changed:
        moved = visit.model_copy(update={"worker_id": visit.worker_id, "start": visit.start})
        store.update_visit(moved.model_copy(update={"pinned": True}), "visit pinned")
        with pytest.raises(ChangedError):
            store.update_visit(visit.model_copy(update={"pinned": False}), "x", was=visit)
    else:
        store.update_visit(visit.model_copy(update={"pinned": True}), "visit pinned", was=visit)
        stored = store.find_visit(visit.id)
        assert stored is not None
        assert stored.pinned


def test_the_command_line_says_so_with_exit_1(
    planned: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`visit move` refused this way is a sentence and exit 1 (run it again), no traceback."""
    from tests.scheduler.test_cli import invoke

    store = Store(planned)
    visit, _ = _later_visits(store)
    _meanwhile(monkeypatch, lambda: _replan_stored(store))
    code, _, stderr = invoke(
        "visit",
        "move",
        visit.id,
        "--to",
        visit.day.isoformat(),
        "--db",
        planned,
        today=TODAY.isoformat(),
    )
    assert code == 1, stderr
    assert "was not changed" in " ".join(stderr.split())
    assert "Traceback" not in stderr
