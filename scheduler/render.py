"""Pure renderers: domain results to rich tables for people (JSON comes from the models)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from itertools import pairwise
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from rich.table import Table
from rich.text import Text

from policies import (
    BothHomesRule,
    ChecklistRule,
    EscalationRule,
    FirstVisitRule,
    IntervalRule,
    MonthlyCountRule,
    Pack,
    RetryRule,
    Rule,
    SchoolHoursRule,
    SeenAloneRule,
    WhoRule,
)
from scheduler.check import CheckReport
from scheduler.domain import Absence, Plan, Scenario, Visit
from scheduler.replan import ReplanReport, VisitChange
from scheduler.reports import id_pattern

if TYPE_CHECKING:
    from scheduler.accounts import User
    from scheduler.caseload import ChildHistory
    from scheduler.extracts.importing import ImportReport
    from scheduler.moves import MoveVerdict
    from scheduler.reports import DueReport, DueRow, PlanView, WorkerRow
    from scheduler.service import DueDateRequirement
    from scheduler.store import MergeReport

STATE_STYLE = {
    "overdue": "bold red",
    "awaiting outcome": "yellow",
    "awaiting": "yellow",
    "due soon": "cyan",
    "failed": "bold red",
    "not-seen": "bold red",
    "completed": "green",
    "cancelled": "dim",
}


def render_packs(packs: Sequence[Pack]) -> Table:
    """One row per pack: id, name, nation, base and rule count."""
    table = Table(title="Policy packs")
    for column in ("id", "name", "nation", "extends", "rules"):
        table.add_column(column)
    for pack in packs:
        table.add_row(pack.id, pack.name, pack.nation, pack.extends or "-", str(len(pack.rules)))
    return table


def describe_rule(rule: Rule) -> str:
    """What a rule asks for, in a few words."""
    if isinstance(rule, IntervalRule):
        if rule.every is None:
            return f"{rule.clock} as often as the child's plan or conference sets"
        text = f"{rule.clock} every {rule.every.describe()}"
        return text + (" (counting the visit day)" if rule.counting == "inclusive" else "")
    if isinstance(rule, FirstVisitRule):
        return f"{rule.clock} within {rule.within.describe()} of {rule.event}"
    if isinstance(rule, MonthlyCountRule):
        return f"{rule.count} {rule.clock} visits each calendar month"
    if isinstance(rule, RetryRule):
        parts = [f"retry within {rule.within.describe()}"] if rule.within else ["retry"]
        if rule.different_time_of_day:
            parts.append("at a different time of day")
        return " ".join(parts)
    if isinstance(rule, WhoRule):
        return "only " + " or ".join(rule.roles)
    if isinstance(rule, SeenAloneRule):
        return f"seen alone from age {rule.from_age_years}"
    if isinstance(rule, ChecklistRule):
        if rule.every_nth_visit:
            return f"{rule.item} every {rule.every_nth_visit}. visit"
        if rule.within:
            return f"{rule.item} within {rule.within.describe()}"
        return f"{rule.item} once between {rule.between_events}s"
    if isinstance(rule, EscalationRule):
        if rule.trigger == "successive_failures":
            if rule.count == 1:
                return "escalate after a failed visit"
            return f"escalate after {rule.count} successive failed visits"
        assert rule.within is not None
        return f"escalate when {rule.trigger.replace('_', ' ')} {rule.within.describe()}"
    if isinstance(rule, BothHomesRule):
        return f"each home every {rule.factor} x the interval"
    assert isinstance(rule, SchoolHoursRule)
    return f"not at school: start after {rule.not_before:%H:%M} on school days"


def render_pack(pack: Pack) -> Table:
    """Every rule of a pack with its scope, window and source."""
    table = Table(title=f"{pack.name} ({pack.id})", show_lines=True)
    for column in ("rule", "applies to", "requires", "source"):
        table.add_column(column, overflow="fold")
    for rule in pack.rules:
        scope = ", ".join(rule.scope.categories)
        if rule.scope.placement_types:
            scope += " [" + ", ".join(rule.scope.placement_types) + "]"
        if rule.scope.phase:
            phase = rule.scope.phase
            edges = []
            if phase.after:
                edges.append(f"after {phase.after.describe()}")
            if phase.before:
                edges.append(f"first {phase.before.describe()}")
            scope += f" ({' and '.join(edges)} of {phase.event})"
        source = f"{rule.source.document} {rule.source.section}: \u201c{rule.source.quote}\u201d"
        if rule.interpretation:
            source += f"\nOur reading: {rule.interpretation}"
        if rule.decision:
            source += f"\nProduct decision: {rule.decision}"
        requires = describe_rule(rule)
        if rule.severity == "practice":
            requires += "\n(local practice: a target, not a statutory deadline)"
        table.add_row(f"{rule.id}\n{rule.title}", scope, requires, source)
    for visit in pack.statutory_visits:
        table.add_row(
            "statutory visits at home",
            ", ".join(visit.categories),
            "every statutory clock worded 'seen' runs from the last home visit",
            f"{visit.source.document} {visit.source.section}: \u201c{visit.source.quote}\u201d",
        )
    return table


def render_due_summary(report: DueReport) -> str:
    """One line: how many children are in each state."""
    parts = [f"{n} {state}" for state, n in report.counts.items()]
    return f"{report.total} children as of {report.as_of:%a %d %b %Y}: " + ", ".join(parts)


def render_due(rows: Sequence[DueRow], as_of: date) -> Table:
    """Children by urgency: state, next requirement in words, worker name, escalations."""
    table = Table(title=f"Visits due as of {as_of:%a %d %b %Y}")
    for column in ("case", "category", "worker", "state", "next requirement", "due", "escalations"):
        table.add_column(column, overflow="fold")
    for row in rows:
        first = row.requirements[0] if row.requirements else None
        state: str = row.state
        if row.state == "overdue":
            state = f"overdue {row.overdue_days} d"
        elif row.awaiting_visit and row.awaiting_on:
            state = f"awaiting outcome of {row.awaiting_visit} ({row.awaiting_on:%a %d %b})"
        table.add_row(
            row.case_ref,
            row.category,
            row.worker_name or "unallocated",
            Text(state, style=STATE_STYLE.get(row.state, "")),
            first.title if first else "no visit requirement",
            f"{row.next_due:%a %d %b %Y}" if row.next_due else "-",
            "; ".join(row.escalations),
        )
    return table


def render_plan_view(view: PlanView) -> Table:
    """The current plan as a visit list with ids, names, states and rule titles."""
    counts = ", ".join(f"{n} {state}" for state, n in view.counts.items())
    first = min((row.day for row in view.visits), default=view.start)
    # A re-plan keeps the visits before its start (made, or awaiting an outcome): say so.
    span = (
        f"{day_span(first, view.end)}, re-planned from {view.start:%a %d %b}"
        if first < view.start
        else day_span(view.start, view.end)
    )
    table = Table(
        title=f"Plan {view.plan_id}: {span} as of {view.as_of:%a %d %b} ({counts or 'no visits'})"
    )
    for column in ("visit", "day", "time", "worker", "area", "children", "state", "serves"):
        table.add_column(column, overflow="fold")
    for row in view.visits:
        who = row.worker_name + (f" + {row.second_worker_name}" if row.second_worker_name else "")
        kind = "" if row.announced else " (unannounced)"
        pin = " [pinned]" if row.pinned else ""
        due = f"; due {row.due:%a %d %b}" if row.due else ""
        table.add_row(
            row.visit_id,
            f"{row.day:%a %d %b}",
            f"{row.start}-{row.end}",
            who,
            row.area,
            ", ".join(row.case_refs),
            Text(row.state + kind + pin, style=STATE_STYLE.get(row.state, "")),
            "; ".join(row.rules) + due,
        )
    return table


def render_merge(report: MergeReport, headline: str) -> str:
    """What a load or import added, changed and closed, in one paragraph."""
    from scheduler.store.merge import first_ten  # the report's own module is loaded already

    figures = ", ".join(f"{n} {what}" for what, n in report.counts().items() if n)
    text = f"{headline}: {figures or 'nothing changed'}."
    if report.closed:
        text += f"\nClosed (not in the source; history kept): {first_ten(report.closed)}."
    back = report.back_note()
    if back:
        text += "\n" + back
    return text


def render_workers(rows: Sequence[WorkerRow], left: bool = False) -> Table:
    """Workers by team: id, name, role, days, hours, caseload, absence today; or, for workers
    who have left, the day each left."""
    if left:
        table = Table(title=f"{len(rows)} worker(s) who have left")
        for column in ("id", "name", "role", "team", "left on"):
            table.add_column(column, overflow="fold")
        for r in rows:
            on = f"{r.left_on:%a %d %b %Y}" if r.left_on else ""
            table.add_row(r.id, r.name, r.role, r.team_name, on)
        return table
    table = Table(title=f"{len(rows)} worker(s)")
    for column in ("id", "name", "role", "team", "days", "hours", "children", "away today"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(
            r.id, r.name, r.role, r.team_name, r.days, r.hours, str(r.children), r.away_today or ""
        )
    return table


def _uk(moment: datetime) -> datetime:
    """A stored moment (UTC) as UK time, the way a manager reads it."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/London"))


def render_history(found: ChildHistory) -> list[Table]:
    """A child's changes (who, when, what) and visit records with every version."""
    title = f"History of {found.child_id} ({found.case_ref})"
    if found.closed_on:
        title += f": closed {found.closed_on:%d %b %Y} ({found.close_reason})"
    changes = Table(title=title)
    for column in ("when", "by", "change"):
        changes.add_column(column, overflow="fold")
    for entry in found.changes:
        when = f"{_uk(entry.at):%d %b %Y %H:%M}" if entry.at else "-"
        changes.add_row(when, entry.by, entry.summary())
    records = Table(title="Visit records (every version)")
    for column in ("date", "outcome", "seen alone", "version", "recorded", "visit"):
        records.add_column(column, overflow="fold")
    for v in found.records:
        state = f"v{v.version}" + (
            f", replaced {_uk(v.superseded_at):%d %b %H:%M} by {v.superseded_by}"
            if v.superseded_at
            else (" (current)" if v.superseded_by is None else "")
        )
        recorded = (
            f"{_uk(v.recorded_at):%d %b %Y %H:%M} by {v.recorded_by}"
            if v.recorded_at
            else (v.recorded_by or "loaded")
        )
        records.add_row(
            f"{v.record.on:%a %d %b %Y}",
            v.record.outcome,
            "yes" if v.record.seen_alone else "no",
            state,
            recorded,
            v.record.visit_id or "",
        )
    return [changes, records]


def in_words(words: Mapping[str, str]) -> Callable[[str], str]:
    """A function putting each id of `words` in a text as the words a manager reads."""
    pattern = id_pattern(words)

    def said(text: str) -> str:
        return text if pattern is None else pattern.sub(lambda m: words[m[0]], text)

    return said


def render_move(
    verdict: MoveVerdict, words: Mapping[str, str] | None = None, tz: ZoneInfo | None = None
) -> str:
    """The checker's verdict on a hand change, and whether it was saved; with `words`
    (ids -> workers' names, children's case references) and `tz`, in a manager's words."""
    from scheduler.moves import of_a_move

    said = in_words(words or {})
    before, after = verdict.before, verdict.visit
    start, end = before.start.astimezone(tz), after.start.astimezone(tz)
    change = said(
        f"{before.id}: {start:%a %d %b %H:%M} {before.worker_id} -> "
        f"{end:%a %d %b %H:%M} {after.worker_id}"
    )
    if verdict.refused:
        lines = [f"Refused: {change}. It would break:"]
        lines += [f"  - {of_a_move(said(v.message))}" for v in verdict.problems]
        return "\n".join(lines)
    lines = [("Moved and pinned: " if verdict.saved else "The checker accepts: ") + change]
    lines += [f"  note: {said(v.message)}" for v in verdict.warnings]
    if not verdict.saved:
        lines.append("Nothing was saved (--dry-run).")
    return "\n".join(lines)


def render_due_dates(requirements: Sequence[DueDateRequirement]) -> Table:
    """The one-off calculator's answer: each requirement with its due date."""
    table = Table(title="Requirements")
    for column in ("due", "rule", "window", "last reset"):
        table.add_column(column, overflow="fold")
    for due in requirements:
        window = due.window
        if due.home:
            window += f" ({due.home.replace('-', ' ')})"
        if due.avoid_part_of_day:
            window += f"; avoid the {due.avoid_part_of_day}"
        rule = f"{due.title} ({due.rule})"
        if due.severity == "practice":
            rule += " - local practice, not a statutory deadline"
        table.add_row(
            f"{due.due:%a %d %b %Y}", rule, window, f"{due.last:%d %b %Y}" if due.last else "-"
        )
    return table


def render_plan(plan: Plan, scenario: Scenario) -> list[Table]:
    """Each worker's visits (date, start, end, area, children, type, checklist)."""
    workers = {w.id: w for w in scenario.workers}
    homes = {h.id: h for h in scenario.households}
    cases = {c.id: c.case_ref for c in scenario.children}
    by_worker: dict[str, list[Visit]] = defaultdict(list)
    for visit in plan.visits:
        by_worker[visit.worker_id].append(visit)
        if visit.second_worker_id:
            by_worker[visit.second_worker_id].append(visit)
    tables = []
    for worker_id in sorted(by_worker):
        worker = workers.get(worker_id)
        title = f"{worker.name} ({worker_id}, {worker.role})" if worker else worker_id
        table = Table(title=title)
        for column in ("date", "start", "end", "area", "children", "type", "checklist"):
            table.add_column(column, overflow="fold")
        for visit in sorted(by_worker[worker_id], key=lambda v: v.start):
            kind = "announced" if visit.announced else "UNANNOUNCED"
            if visit.second_worker_id:
                kind += " joint"
            home = homes.get(visit.household_id)
            table.add_row(
                f"{visit.start:%a %d %b}",
                f"{visit.start:%H:%M}",
                f"{visit.end:%H:%M}",
                home.area if home else visit.household_id,
                ", ".join(cases.get(c, c) for c in visit.child_ids),
                kind,
                "; ".join(visit.checklist),
            )
        tables.append(table)
    return tables


def render_breaches(
    plan: Plan,
    scenario: Scenario,
    titles: dict[str, str] | None = None,
    limit: int | None = None,
) -> Table:
    """The breaches the plan could not avoid, with reasons and rule titles.

    Statutory breaches come first, soonest due first; with `limit`, only that many rows are
    shown and the caption says how many more there are and how to see them.
    """
    titles = titles or {}
    cases = {c.id: c.case_ref for c in scenario.children}
    statutory = [b for b in plan.breaches if b.severity == "statutory"]
    practice = [b for b in plan.breaches if b.severity == "practice"]
    title = f"Compliance: {len(statutory)} statutory breach(es)"
    if practice:
        title += f"; {len(practice)} local practice target(s) missed, listed after them"
    table = Table(title=title)
    for column in ("case", "rule", "due", "late", "reason"):
        table.add_column(column, overflow="fold")
    ordered = [
        *sorted(statutory, key=lambda b: (b.due, b.child_id, b.rule_id)),
        *sorted(practice, key=lambda b: (b.due, b.child_id, b.rule_id)),
    ]
    if limit is not None and len(ordered) > limit:
        table.caption = (
            f"... and {len(ordered) - limit} more: `visitplan plan show --breaches` lists every "
            "one (or add --all)"
        )
        ordered = ordered[:limit]
    for breach in ordered:
        late = "not met" if breach.days_late is None else f"{breach.days_late} d"
        rule = titles.get(breach.rule_id, breach.rule_id)
        if breach.severity == "practice":
            rule += " (local practice target)"
        table.add_row(
            cases.get(breach.child_id, breach.child_id),
            rule,
            f"{breach.due:%a %d %b}",
            late,
            breach.reason,
        )
    return table


def plan_statistics(plan: Plan, scenario: Scenario) -> dict[str, float | int | str]:
    """Headline figures of a plan: visits, continuity, unannounced, travel, breaches."""
    from scheduler.visiting import place_of, travel_between

    children = {c.id: c for c in scenario.children}
    workers = {w.id: w for w in scenario.workers}
    homes = {h.id: h for h in scenario.households}
    allocated = sum(
        1
        for v in plan.visits
        if any(children[c].allocated_worker == v.worker_id for c in v.child_ids if c in children)
    )
    travel = 0
    days: dict[tuple[str, date], list[Visit]] = defaultdict(list)
    for visit in plan.visits:
        for worker_id in filter(None, (visit.worker_id, visit.second_worker_id)):
            days[(worker_id, visit.day)].append(visit)
    for (worker_id, _), visits in days.items():
        worker = workers[worker_id]
        points = [place_of(worker)]
        points += [place_of(homes[v.household_id]) for v in sorted(visits, key=lambda v: v.start)]
        points.append(place_of(worker))
        travel += sum(travel_between(a, b, scenario.authority) for a, b in pairwise(points))
    loads = [len(v) for v in days.values()]
    return {
        "visits": len(plan.visits),
        "children_seen": len({c for v in plan.visits for c in v.child_ids}),
        "by_allocated_worker_pct": round(100 * allocated / len(plan.visits), 1)
        if plan.visits
        else 0.0,
        "unannounced": sum(1 for v in plan.visits if not v.announced),
        "joint": sum(1 for v in plan.visits if v.second_worker_id),
        "travel_min": travel,
        "max_visits_in_a_day": max(loads, default=0),
        "breaches": sum(1 for b in plan.breaches if b.severity == "statutory"),
        "practice_targets_missed": sum(1 for b in plan.breaches if b.severity == "practice"),
        "status": plan.status,
    }


SUMMARY_WORDS = {
    "visits": "visits planned",
    "children_seen": "children visited",
    "by_allocated_worker_pct": "by the allocated worker (%)",
    "unannounced": "unannounced visits",
    "joint": "joint visits",
    "travel_min": "travel (minutes)",
    "max_visits_in_a_day": "most visits in one day",
    "breaches": "deadlines the plan cannot meet",
}


def render_plan_summary(plan: Plan, scenario: Scenario, verbose: bool = False) -> Table:
    """The plan's headline figures in a manager's words (solver figures with `verbose`)."""
    stats = plan_statistics(plan, scenario)
    table = Table(title=f"Plan {plan.start:%d %b} to {plan.end:%d %b %Y} (seed {plan.seed})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in stats.items():
        if key in SUMMARY_WORDS:
            table.add_row(SUMMARY_WORDS[key], str(value))
    if verbose:
        table.add_row("solver status", str(stats["status"]))
        if plan.runtime_s is not None:
            table.add_row("solve time", f"{plan.runtime_s:.1f} s")
        if plan.objective is not None:
            table.add_row("objective / bound", f"{plan.objective:.0f} / {plan.bound or 0:.0f}")
    return table


def render_check(report: CheckReport, scenario: Scenario | None = None) -> Table:
    """The checker's verdict: every violation, hard ones first; with `scenario`, a child is
    named by case reference and a worker by name, in the columns and the messages alike."""
    verdict = "plan accepted" if report.ok else f"{len(report.hard)} hard violation(s)"
    table = Table(title=f"Independent check: {verdict}")
    if not report.violations:
        table.add_column("result")
        table.add_row(
            "The checker judged every visit (workers, hours, windows, travel) and every "
            f"deadline: the plan keeps every rule, and {_missed(len(report.breaches_found))}"
        )
        return table
    words: dict[str, str] = {}
    if scenario is not None:
        words = {c.id: c.case_ref for c in scenario.children if c.case_ref}
        words |= {w.id: w.name for w in scenario.workers}
    said = in_words(words)

    for column in ("severity", "code", "visit", "case" if words else "child", "message"):
        table.add_column(column, overflow="fold")
    for v in sorted(report.violations, key=lambda v: (not v.hard, v.code)):
        table.add_row(
            "HARD" if v.hard else "warning",
            v.code,
            v.visit_id or "",
            said(v.child_id or ""),
            said(v.message),
        )
    return table


def _missed(breaches: int) -> str:
    """What an accepted plan's verdict says of the deadlines it misses (none listed here)."""
    if not breaches:
        return "misses no deadline."
    return (
        f"the {breaches} deadline(s) it misses are each reported by the plan as a breach "
        "(for the store's plan, `visitplan plan show --breaches` lists them)."
    )


def day_span(start: date, end: date) -> str:
    """'Mon 07 Dec to Tue 08 Dec 2026'; the start's year too when the years differ."""
    first = f"{start:%a %d %b}" if start.year == end.year else f"{start:%a %d %b %Y}"
    return f"{first} to {end:%a %d %b %Y}"


def render_absences(absences: Sequence[Absence]) -> Table:
    """Absences by start date."""
    table = Table(title=f"{len(absences)} absence(s)")
    for column in ("worker", "from", "to", "reason"):
        table.add_column(column)
    for a in absences:
        table.add_row(a.worker_id, f"{a.start:%a %d %b %Y}", f"{a.end:%a %d %b %Y}", a.reason)
    return table


def render_changes(
    changes: Sequence[VisitChange], scenario: Scenario, names: dict[str, str] | None = None
) -> Table:
    """Every change, one row each: a reassignment reads "from Ann (w-1) to Bo (w-2)"."""
    names = names or {}
    said = in_words(names)
    cases = {c.id: c.case_ref for c in scenario.children}
    homes = {h.id: h.area for h in scenario.households}

    def when(iso: str | None) -> str:
        return "" if iso is None else datetime.fromisoformat(iso).strftime("%a %d %b %H:%M")

    def person(worker_id: str | None) -> str:
        if worker_id is None:
            return ""
        return f"{names[worker_id]} ({worker_id})" if worker_id in names else worker_id

    table = Table(title=f"{len(changes)} change(s) to the published plan")
    for column in ("change", "visit", "children", "when", "worker", "reason"):
        table.add_column(column, overflow="fold")
    for change in sorted(changes, key=lambda c: (not c.forced, c.kind, c.visit_id)):
        who = ", ".join(cases.get(c, c) for c in change.child_ids)
        area = homes.get(change.household_id, change.household_id)
        if change.kind == "added":
            span, worker = when(change.start_after), person(change.worker_after)
        elif change.kind == "removed":
            span, worker = when(change.start_before), person(change.worker_before)
        else:
            span = when(change.start_before)
            if change.start_after != change.start_before:
                span += f" -> {when(change.start_after)}"
            worker = _crew(person, change)
        table.add_row(
            change.kind + (" (forced)" if change.forced else ""),
            change.visit_id,
            f"{area}: {who}",
            span,
            worker,
            # A manager reads "Aisha Ahmed is away", not "w-0033 is away".
            said(change.reason),
        )
    return table


def _crew(person: Callable[[str | None], str], change: VisitChange) -> str:
    """Who makes a moved or reassigned visit, in words: 'from A to B', the second worker of a
    joint visit with them ('A; second worker C -> D' when only the second changed)."""
    lead_before, lead_after = change.worker_before, change.worker_after
    second_before, second_after = change.second_worker_before, change.second_worker_after
    if change.kind != "reassigned":
        return person(lead_after) + (f" with {person(second_after)}" if second_after else "")
    if lead_before == lead_after:
        was = person(second_before) if second_before else "none"
        now = person(second_after) if second_after else "none"
        return f"{person(lead_after)}; second worker {was} -> {now}"
    with_ = f" with {person(second_after)}" if second_after else ""
    return f"from {person(lead_before)} to {person(lead_after)}{with_}"


def render_replan_summary(
    report: ReplanReport, scenario: Scenario, titles: dict[str, str] | None = None
) -> Table:
    """Disruption figures and the children whose deadline is now at risk."""
    titles = titles or {}
    cases = {c.id: c.case_ref for c in scenario.children}
    table = Table(title=f"Re-plan from {report.from_date:%a %d %b %Y}")
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    table.add_row("visits of workers away, left or committed", str(report.affected_visits))
    table.add_row("changes that had to happen", str(report.forced_changes))
    table.add_row("other changes", str(report.other_changes))
    table.add_row("visits awaiting an outcome", str(report.awaiting_visits))
    table.add_row("deadlines the plan cannot meet", str(len(report.plan.breaches)))
    table.add_row("children now at risk", _at_risk_words(report, cases, titles) or "none")
    return table


def _at_risk_words(report: ReplanReport, cases: dict[str, str], titles: dict[str, str]) -> str:
    """Each child once, by case reference, with the rules now at risk by due date: 'CR-1
    (seen every 20 working days and seen at home every 28 days, due 08 Dec)'."""
    by_child: dict[str, dict[date, list[str]]] = {}
    for b in report.at_risk:
        rules = by_child.setdefault(b.child_id, {}).setdefault(b.due, [])
        title = titles.get(b.rule_id, b.rule_id)
        if title not in rules:
            rules.append(title)
    return ", ".join(
        f"{cases.get(child, child)} ("
        + "; ".join(f"{' and '.join(rules)}, due {due:%d %b}" for due, rules in dues.items())
        + ")"
        for child, dues in by_child.items()
    )


def render_users(users: Sequence[User]) -> Table:
    """The desk's users: name, role, teams, worker and whether they may sign in."""
    table = Table(title=f"{len(users)} user(s)")
    for column in ("name", "role", "teams", "worker", "status"):
        table.add_column(column)
    for user in users:
        table.add_row(
            user.name,
            user.role,
            ", ".join(user.teams) or "-",
            user.worker_id or "-",
            "disabled" if user.disabled else "active",
        )
    return table


def render_import(report: ImportReport) -> list[str]:
    """What an extract import did, in a manager's words."""
    lines = [
        f"Imported {report.source} as of {report.as_of:%d %B %Y}: "
        + ", ".join(f"{n} {k}" for k, n in report.counts.items())
        + ".",
        f"Children added: {len(report.added)}; changed: {len(report.changed)}; "
        f"closed (not in this extract): {len(report.closed)}.",
    ]
    if report.closed:
        lines.append(
            "Closed: " + ", ".join(report.closed[:20]) + (" ..." if len(report.closed) > 20 else "")
        )
    if report.skipped_orphans:
        lines.append(f"Skipped {report.skipped_orphans} orphan row(s) (--skip-orphans).")
    if report.skipped_unknown_codes:
        lines.append(
            f"Left out {len(report.skipped_unknown_codes)} child(ren) whose code could not be "
            "read (--skip-unknown-codes); they are not planned for: "
            + "; ".join(report.skipped_unknown_codes)
        )
    if report.visits_assumed_at_home:
        lines.append(
            f"{report.visits_assumed_at_home} visit(s) do not say where they happened and were "
            f"taken as at home; {report.clocks_on_home_assumption} 'seen at home' clock(s) rest "
            "on that (use --visit-place unknown to not assume it)."
        )
    lines += [f"Warning: {w}" for w in report.warnings]
    return lines
