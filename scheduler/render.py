"""Pure renderers: domain results to rich tables for people (JSON comes from the models)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from itertools import pairwise
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from policies import Pack
from policies.models import (
    BothHomesRule,
    ChecklistRule,
    EscalationRule,
    FirstVisitRule,
    IntervalRule,
    MonthlyCountRule,
    RetryRule,
    Rule,
    SchoolHoursRule,
    SeenAloneRule,
    WhoRule,
)
from scheduler.check import CheckReport
from scheduler.domain import Absence, ChildDue, Plan, Scenario
from scheduler.replan import ReplanReport

if TYPE_CHECKING:
    from scheduler.service import DueDateRequirement


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


def render_due(rows: Sequence[ChildDue], as_of: date) -> Table:
    """Every child's next deadline, overdue first."""
    table = Table(title=f"Visits due as of {as_of:%a %d %b %Y}")
    for column in ("case", "category", "worker", "next due", "overdue", "rule", "escalations"):
        table.add_column(column, overflow="fold")
    for row in rows:
        first = row.requirements[0] if row.requirements else None
        overdue = Text(f"{row.overdue_days} d", style="bold red") if row.overdue_days else Text("")
        table.add_row(
            row.case_ref,
            row.category,
            row.allocated_worker or "unallocated",
            f"{row.next_due:%a %d %b %Y}" if row.next_due else "-",
            overdue,
            first.title if first else "no visit requirement",
            "; ".join(row.escalations),
        )
    return table


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
    by_worker: dict[str, list] = defaultdict(list)
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


def render_breaches(plan: Plan, scenario: Scenario) -> Table:
    """The breaches the plan could not avoid, with reasons."""
    cases = {c.id: c.case_ref for c in scenario.children}
    statutory = [b for b in plan.breaches if b.severity == "statutory"]
    practice = [b for b in plan.breaches if b.severity == "practice"]
    title = f"Compliance: {len(statutory)} statutory breach(es)"
    if practice:
        title += f"; {len(practice)} local practice target(s) missed, listed after them"
    table = Table(title=title)
    for column in ("case", "rule", "due", "late", "reason"):
        table.add_column(column, overflow="fold")
    for breach in (*statutory, *practice):
        late = "not met" if breach.days_late is None else f"{breach.days_late} d"
        rule = breach.rule_id
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
    from scheduler.visiting import travel_min

    children = {c.id: c for c in scenario.children}
    workers = {w.id: w for w in scenario.workers}
    homes = {h.id: h for h in scenario.households}
    speed = scenario.authority.travel_speed_kmh
    allocated = sum(
        1
        for v in plan.visits
        if any(children[c].allocated_worker == v.worker_id for c in v.child_ids if c in children)
    )
    travel = 0
    days: dict[tuple[str, date], list] = defaultdict(list)
    for visit in plan.visits:
        for worker_id in filter(None, (visit.worker_id, visit.second_worker_id)):
            days[(worker_id, visit.day)].append(visit)
    for (worker_id, _), visits in days.items():
        worker = workers[worker_id]
        points = [(worker.base_lat, worker.base_lon)]
        points += [
            (homes[v.household_id].lat, homes[v.household_id].lon)
            for v in sorted(visits, key=lambda v: v.start)
        ]
        points.append((worker.base_lat, worker.base_lon))
        travel += sum(travel_min(*a, *b, speed) for a, b in pairwise(points))
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


def render_plan_summary(plan: Plan, scenario: Scenario) -> Table:
    """The plan's headline figures and the solver's status."""
    stats = plan_statistics(plan, scenario)
    table = Table(title=f"Plan {plan.start:%d %b} to {plan.end:%d %b %Y} (seed {plan.seed})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key, value in stats.items():
        table.add_row(key.replace("_", " "), str(value))
    if plan.runtime_s is not None:
        table.add_row("solve time", f"{plan.runtime_s:.1f} s")
    if plan.objective is not None:
        table.add_row("objective / bound", f"{plan.objective:.0f} / {plan.bound or 0:.0f}")
    return table


def render_check(report: CheckReport) -> Table:
    """The checker's verdict: every violation, hard ones first."""
    verdict = "plan accepted" if report.ok else f"{len(report.hard)} hard violation(s)"
    table = Table(title=f"Independent check: {verdict}")
    if not report.violations:
        table.add_column("result")
        table.add_row("No violations: every visit and every deadline checks out.")
        return table
    for column in ("severity", "code", "visit", "child", "message"):
        table.add_column(column, overflow="fold")
    for v in sorted(report.violations, key=lambda v: (not v.hard, v.code)):
        table.add_row(
            "HARD" if v.hard else "warning", v.code, v.visit_id or "", v.child_id or "", v.message
        )
    return table


def render_absences(absences: Sequence[Absence]) -> Table:
    """Absences by start date."""
    table = Table(title=f"{len(absences)} absence(s)")
    for column in ("worker", "from", "to", "reason"):
        table.add_column(column)
    for a in absences:
        table.add_row(a.worker_id, f"{a.start:%a %d %b %Y}", f"{a.end:%a %d %b %Y}", a.reason)
    return table


def render_changes(report: ReplanReport, scenario: Scenario) -> list[Table]:
    """Per worker: what is added, moved and removed, and why."""
    cases = {c.id: c.case_ref for c in scenario.children}
    homes = {h.id: h.area for h in scenario.households}
    per_worker: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)

    def when(iso: str | None) -> str:
        return "" if iso is None else datetime.fromisoformat(iso).strftime("%a %d %b %H:%M")

    for change in report.changes:
        who = ", ".join(cases.get(c, c) for c in change.child_ids)
        where = f"{homes.get(change.household_id, change.household_id)}: {who}"
        if change.worker_before and change.worker_before != change.worker_after:
            per_worker[change.worker_before].append(
                ("removed", where, when(change.start_before), change.reason)
            )
        if change.worker_after:
            verb = "added" if change.worker_before != change.worker_after else "moved"
            span = when(change.start_after)
            if verb == "moved":
                span = f"{when(change.start_before)} -> {when(change.start_after)}"
            per_worker[change.worker_after].append((verb, where, span, change.reason))
    tables = []
    for worker_id in sorted(per_worker):
        table = Table(title=f"Changes for {worker_id}")
        for column in ("change", "visit", "when", "reason"):
            table.add_column(column, overflow="fold")
        for row in per_worker[worker_id]:
            table.add_row(*row)
        tables.append(table)
    return tables


def render_replan_summary(report: ReplanReport, scenario: Scenario) -> Table:
    """Disruption figures and the children whose deadline is now at risk."""
    cases = {c.id: c.case_ref for c in scenario.children}
    table = Table(title=f"Re-plan from {report.from_date:%a %d %b %Y}")
    table.add_column("measure")
    table.add_column("value", overflow="fold")
    table.add_row("visits of absent workers", str(report.affected_visits))
    table.add_row("changes that had to happen", str(report.forced_changes))
    table.add_row("other changes", str(report.other_changes))
    at_risk = ", ".join(
        f"{cases.get(b.child_id, b.child_id)} ({b.rule_id}, due {b.due:%d %b})"
        for b in report.at_risk
    )
    table.add_row("children now at risk", at_risk or "none")
    return table
