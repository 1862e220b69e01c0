"""Absence (or a leaver) -> re-plan preview -> Apply -> Publish, in three clicks.

Rule: a preview runs off the request path (`jobs`) and writes nothing; Apply stores it only if
nothing changed since (the revision check) and only if every team it changes is the user's.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from scheduler import service
from scheduler.domain import Absence, BusyTime
from scheduler.errors import InputError, NotFoundError, StaleError
from scheduler.planning import calendar_window
from scheduler.reasons import on_day
from scheduler.replan import ReplanReport, placed_before
from scheduler.web.board import DayError, read_day
from scheduler.web.context import (
    BusyReader,
    CalendarUnavailableError,
    ForbiddenError,
    PageNotFoundError,
    audit,
    desk_of,
    render_team,
    team_access,
    with_form,
)
from scheduler.web.jobs import Job, new_job_id
from scheduler.web.refusals import Field, field_messages
from scheduler.web.snapshot import Snapshot, case_refs
from scheduler.workforce import worker_leaves

if TYPE_CHECKING:
    from scheduler.store import Store

log = logging.getLogger("visitplan.desk")

FIELDS = {"from": Field("from", "First day away"), "to": Field("to", "Last day away")}
"""The absence form's dates by the names its checks give them."""
REASONS = ("sickness", "leave", "training", "court", "other")
KIND_LABEL = {
    "reassigned": "Reassigned",
    "moved": "Moved",
    "added": "Added",
    "removed": "Removed",
}


def absences_page(
    request: Request, error: str | None = None, status: int = 200, notice: str | None = None
) -> Response:
    """`/teams/{team}/absences`: add an absence; the team's absences; start a re-plan."""
    team_id = request.path_params["team"]
    _user, snapshot = team_access(request, team_id)
    today = desk_of(request).today(snapshot)
    workers = [w for w in snapshot.scenario.workers if w.team_id == team_id]
    ids = {w.id for w in workers}
    listed = sorted(
        (a for a in snapshot.scenario.absences if a.worker_id in ids and a.end >= today),
        key=lambda a: (a.start, a.worker_id),
    )
    return render_team(
        request,
        snapshot,
        team_id,
        "absences.html",
        "absences",
        status,
        workers=workers,
        names={w.id: w.name for w in workers},
        absences=listed,
        reasons=REASONS,
        today=today,
        replan_from=replan_start(snapshot, today),
        error=error,
        notice=notice,
        has_plan=snapshot.plan is not None,
        reads_calendars=desk_of(request).services.busy is not None,
    )


def replan_start(snapshot: Snapshot, today: date) -> date:
    """The later of today and the plan's first day (issue 9's default for `replan`)."""
    if snapshot.plan is None:
        return today
    return max(today, snapshot.plan.start)


def add_absence(request: Request, form: FormData) -> Response:
    """Record an absence for one of the team's workers, then start the re-plan preview."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    worker_id = str(form.get("worker", ""))
    worker = snapshot.workers.get(worker_id)
    if worker is None or worker.team_id != team_id:
        return absences_page(request, "Choose one of the team's workers.", 400)
    try:
        first = read_day(str(form.get("from", "")), FIELDS["from"].label)
        last = read_day(str(form.get("to") or form.get("from", "")), FIELDS["to"].label)
    except DayError as exc:
        return absences_page(request, str(exc), 400)
    if last < first:
        return absences_page(request, "The last day away is before the first.", 400)
    reason = str(form.get("reason", "leave"))
    if reason not in REASONS:
        reason = "other"
    desk = desk_of(request)
    absence = Absence(worker_id=worker_id, start=first, end=last, reason=reason)
    try:
        service.add_absences(
            desk.store, [absence], by=user.name, now=desk.now(), source="form", field="from"
        )
    except InputError as exc:
        return absences_page(request, " ".join(field_messages(exc, FIELDS).values()), 400)
    today = desk_of(request).today(snapshot)
    # From today, not from the first day away: the re-plan counts visits before its start as
    # made, and those between today and the absence have not happened yet.
    note = PAST_ABSENCE if last < today else None
    start = replan_start(snapshot, today)
    if (ended := _plan_ended(snapshot, start)) is not None:
        return absences_page(request, notice=f"The absence is recorded. {ended}")
    job = _start_preview(request, user.name, team_id, start, note)
    return RedirectResponse(f"/teams/{team_id}/replan/{job.id}", 303)


def _plan_ended(snapshot: Snapshot, start: date) -> str | None:
    """Why no re-plan from `start` can be previewed when the current plan ended before it
    (there is nothing published after its end to keep); None when one can."""
    plan = snapshot.plan
    if plan is None or start <= plan.end:
        return None
    return (
        f"No re-plan was previewed: the current plan ended on {on_day(plan.end)}, and "
        "the next plan (`visitplan plan`) takes this into account."
    )


PAST_ABSENCE = (
    "This absence ended before today, so it changes only how past days are read: a visit on "
    "those days with no outcome recorded is no longer taken as made. If a year was mistyped, "
    "ask an administrator to take it out (visitplan absence remove)."
)


def record_leaver(request: Request, form: FormData) -> Response:
    """A worker of the team has left: their children go to the colleague chosen, their feed
    and sign-in stop (`workforce.worker_leaves`, from the day given, today or earlier; today
    when none is), then the re-plan preview."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    worker = snapshot.workers.get(str(form.get("worker", "")))
    if worker is None or worker.team_id != team_id:
        return absences_page(request, "Choose one of the team's workers.", 400)
    if form.get("confirm") != "yes":
        return absences_page(request, f"Tick the box to confirm that {worker.name} has left.", 400)
    to = str(form.get("to", "")) or None
    colleague = snapshot.workers.get(to or "")
    if to is not None and (colleague is None or colleague.team_id != team_id or to == worker.id):
        return absences_page(
            request, "Choose another worker of the team to take over their children.", 400
        )
    desk = desk_of(request)
    today = desk.today(snapshot)
    typed = str(form.get("on", "")).strip()
    try:
        on = read_day(typed, "Left on") if typed else today
    except DayError as exc:
        return absences_page(request, str(exc), 400)
    if on > today:
        return absences_page(
            request,
            f"{worker.name} has not left yet: until they go, record the days they are away.",
            400,
        )
    try:
        worker_leaves(desk.store, worker.id, on, today, to=to, by=user.name, now=desk.now())
    except InputError:
        return absences_page(
            request, f"{worker.name} still has children: choose who takes them over.", 400
        )
    except NotFoundError:
        return absences_page(request, f"{worker.name} has already left.", 400)
    audit(user.name, f"recorded that {worker.id} left", team_id)
    start = replan_start(snapshot, today)
    if (ended := _plan_ended(snapshot, start)) is not None:
        return absences_page(request, notice=f"{worker.name}'s leaving is recorded. {ended}")
    job = _start_preview(request, user.name, team_id, start)
    return RedirectResponse(f"/teams/{team_id}/replan/{job.id}", 303)


def start_replan(request: Request, form: FormData) -> Response:
    """Start a re-plan preview from a chosen day."""
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    earliest = replan_start(snapshot, desk_of(request).today(snapshot))
    typed = str(form.get("from", "")).strip()
    try:
        from_date = read_day(typed, "Re-plan from") if typed else earliest
    except DayError as exc:
        return absences_page(request, str(exc), 400)
    plan = snapshot.plan
    if plan is not None and from_date > plan.end:
        return absences_page(
            request,
            f"Re-plan from: the current plan ends on {on_day(plan.end)}, so a re-plan "
            f"starts on or before that day; a plan from {from_date:%a} {from_date.day} "
            f"{from_date:%b} is a new plan.",
            400,
        )
    job = _start_preview(request, user.name, team_id, max(from_date, earliest))
    return RedirectResponse(f"/teams/{team_id}/replan/{job.id}", 303)


def _start_preview(
    request: Request, owner: str, team_id: str, from_date: date, note: str | None = None
) -> Job:
    desk = desk_of(request)
    store = desk.store
    job = Job(new_job_id(), owner, team_id, from_date, note=note)
    params = service.solve_params(0.5, 0)
    now = desk.now()
    user = request.state.user
    # A manager re-plans their own teams: another team's pending changes (a failed visit
    # recorded there, a child added) wait for its own manager, and never block this one.
    teams = None if user.role == "admin" else user.teams
    read_busy = desk.services.busy
    return desk.jobs.start(
        job,
        lambda j: service.propose_replan(
            store,
            params,
            today=j.from_date,
            from_date=j.from_date,
            progress=j.say,
            now=now,
            teams=teams,
            busy=() if read_busy is None else _calendars_busy(j, store, read_busy),
        ),
    )


def _calendars_busy(job: Job, store: Store, read_busy: BusyReader) -> tuple[BusyTime, ...]:
    """Workers' commitments in their own calendars over the re-plan's days and look-ahead;
    if the calendars cannot be read, none, and the preview says so."""
    current = store.current_plan()
    if current is None:
        return ()
    job.say("reading workers' calendars")
    try:
        busy = read_busy(store, *calendar_window(current.start, current.end))
    except CalendarUnavailableError as exc:
        log.warning("re-plan preview without calendars: %s", exc)
        job.note = _joined(
            job.note,
            f"Workers' calendars could not be read ({exc}), so this preview does not plan "
            "around their own commitments.",
        )
        return ()
    if busy:
        job.note = _joined(
            job.note, f"Planned around {len(busy)} commitment(s) in workers' own calendars."
        )
    return busy


def _joined(note: str | None, more: str) -> str:
    return more if not note else f"{note} {more}"


@dataclass(frozen=True)
class ChangeLine:
    """One change in the preview, as a manager reads it."""

    kind: str
    cases: str
    area: str
    before: str
    after: str
    forced: bool
    reason: str


def _when(
    iso: str | None, crew: tuple[str | None, str | None], snapshot: Snapshot, tz: ZoneInfo
) -> str:
    """'Tue 8 Dec 16:45, Ben Kaur' (and 'with George Taylor' for a joint visit)."""
    if iso is None:
        return "\u2013"
    moment = datetime.fromisoformat(iso).astimezone(tz)
    lead, second = crew
    name = snapshot.worker_name(lead, lead or "")
    if second:
        name += f" with {snapshot.worker_name(second, second)}"
    return f"{moment:%a} {moment.day} {moment:%b %H:%M}, {name}"


def teams_touched(snapshot: Snapshot, report: ReplanReport) -> set[str]:
    """Teams whose households or workers a re-plan changes."""
    teams: set[str] = set()
    for change in report.changes:
        home = snapshot.households.get(change.household_id)
        if home and home.team_id:
            teams.add(home.team_id)
        for worker_id in (
            change.worker_before,
            change.worker_after,
            change.second_worker_before,
            change.second_worker_after,
        ):
            worker = snapshot.workers.get(worker_id or "")
            if worker:
                teams.add(worker.team_id)
    return teams


def preview_lines(snapshot: Snapshot, report: ReplanReport, team_id: str) -> list[ChangeLine]:
    """The changes touching the team, in the order of the report."""
    tz = ZoneInfo(snapshot.scenario.authority.timezone)
    lines = []
    for change in report.changes:
        home = snapshot.households.get(change.household_id)
        workers = {
            snapshot.workers[w].team_id
            for w in (change.worker_before, change.worker_after)
            if w in snapshot.workers
        }
        if (home is None or home.team_id != team_id) and team_id not in workers:
            continue
        lines.append(
            ChangeLine(
                kind=KIND_LABEL[change.kind],
                cases=case_refs(snapshot, change.child_ids),
                area=home.area if home else change.household_id,
                before=_when(
                    change.start_before,
                    (change.worker_before, change.second_worker_before),
                    snapshot,
                    tz,
                ),
                after=_when(
                    change.start_after,
                    (change.worker_after, change.second_worker_after),
                    snapshot,
                    tz,
                ),
                forced=change.forced,
                reason=snapshot.readable(change.reason),
            )
        )
    return lines


def _job(request: Request) -> tuple[str, Snapshot, Job, str]:
    team_id = request.path_params["team"]
    user, snapshot = team_access(request, team_id)
    job = desk_of(request).jobs.get(request.path_params["job"], user.name)
    if job is None or job.team_id != team_id:
        raise PageNotFoundError
    return team_id, snapshot, job, user.name


def replan_page(request: Request, notice: str | None = None) -> Response:
    """`/teams/{team}/replan/{job}`: progress while it runs, then the preview and Apply."""
    team_id, snapshot, job, _user_name = _job(request)
    # The job's thread sets the report before the status, so a status read first is never
    # ahead of the report read after it: the page shows one moment of the job, not the
    # status of one moment and the report of an earlier one.
    status = job.status
    report = job.report
    context: dict[str, Any] = {"status": status, "report": report}
    if report is not None:
        kinds: Counter[str] = Counter(c.kind for c in report.changes)
        touched = teams_touched(snapshot, report)
        user = request.state.user
        context |= {
            "kinds": {KIND_LABEL[k]: kinds.get(k, 0) for k in KIND_LABEL},
            "lines": preview_lines(snapshot, report, team_id),
            "at_risk": [
                (
                    case_refs(snapshot, (b.child_id,)),
                    snapshot.rule_titles.get(b.rule_id, b.rule_id),
                    b.due,
                    b.days_late,
                    snapshot.readable(b.reason),
                )
                for b in report.at_risk
            ],
            "before_now": len(report.before_now),
            "other_teams": sorted(snapshot.team_names.get(t, t) for t in touched - {team_id}),
            "may_apply": all(user.sees_team(t) for t in touched),
        }
    return render_team(
        request,
        snapshot,
        team_id,
        "replan.html",
        "absences",
        job=job,
        notice=notice,
        stale=job.refusal if status == "stale" else None,
        can_publish=desk_of(request).services.publish is not None,
        **context,
    )


def apply_replan(request: Request, _form: FormData) -> Response:
    """Store the previewed plan if nothing changed since; otherwise offer a fresh preview."""
    team_id, snapshot, job, user_name = _job(request)
    if job.status == "stale":
        return replan_page(request)  # refused already: it says why and offers a fresh one
    if job.report is None or job.status != "done":
        return replan_page(request, notice="This preview is not ready to apply.")
    if not all(request.state.user.sees_team(t) for t in teams_touched(snapshot, job.report)):
        raise ForbiddenError
    desk = desk_of(request)
    now = desk.now()
    refusal = None
    passed = placed_before(job.report.changes, now)
    if passed:
        # Made earlier, it placed visits at times that have gone by since: not the plan
        # from "now" that a fresh preview would make.
        refusal = (
            f"{len(passed)} of the visits this preview places start at a time that has "
            "passed since it was made."
        )
    else:
        try:
            service.apply_replan(desk.store, job.report, by=user_name, now=now)
        except StaleError as exc:
            refusal = stale_words(snapshot, exc)
    if refusal is not None:
        # Stale for good: the page no longer offers to apply it, only a fresh preview.
        job.refusal, job.status = refusal, "stale"
        return replan_page(request)
    job.status = "applied"
    return RedirectResponse(f"/teams/{team_id}/replan/{job.id}", 303)


def stale_words(snapshot: Snapshot, exc: StaleError, most: int = 8) -> str:
    """What changed since a preview was made, as a sentence ("child edited c-1 by mo; ...")."""
    said = [f"{snapshot.readable(c.summary())} by {c.by}" for c in exc.changes[:most]]
    if len(exc.changes) > most:
        said.append(f"{len(exc.changes) - most} more")
    changed = "the caseload or plan changed since this preview was made"
    if not said:
        return f"{changed}."
    listed = "; ".join(said[:-1]) + (" and " if len(said) > 1 else "") + said[-1]
    return f"{changed}: {listed}."


routes = [
    Route("/teams/{team}/absences", absences_page, methods=["GET"]),
    Route("/teams/{team}/absences", with_form(add_absence), methods=["POST"]),
    Route("/teams/{team}/leaver", with_form(record_leaver), methods=["POST"]),
    Route("/teams/{team}/replan", with_form(start_replan), methods=["POST"]),
    Route("/teams/{team}/replan/{job}", replan_page, methods=["GET"]),
    Route("/teams/{team}/replan/{job}/apply", with_form(apply_replan), methods=["POST"]),
]
