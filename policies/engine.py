"""The rule engine: which rules apply to a child, and when each is next due.

Rule: pure functions of their inputs. Dates only; working days through `BusinessCalendar`.
"""

from __future__ import annotations

import calendar as _monthcal
from bisect import bisect_right
from collections.abc import Sequence
from datetime import date, time, timedelta
from typing import Literal

from pydantic import Field

from policies.calendar import BusinessCalendar
from policies.errors import OverrideError
from policies.models import (
    PLAN_FREQUENCY_RULES,
    BothHomesRule,
    Category,
    ChecklistRule,
    Clock,
    Counting,
    EscalationRule,
    Event,
    FirstVisitRule,
    Flag,
    IntervalRule,
    MonthlyCountRule,
    Pack,
    Period,
    PlacementType,
    PolicyModel,
    RetryRule,
    Role,
    Rule,
    RuleId,
    RuleOverride,
    SchoolHoursRule,
    SeenAloneRule,
    Severity,
    WhoRule,
)

Outcome = Literal["completed", "failed", "not-seen"]
PartOfDay = Literal["morning", "afternoon", "evening"]


class ChildFacts(PolicyModel):
    """What the rules need to know about one child."""

    category: Category
    placement_type: PlacementType | None = None
    birth_date: date | None = None
    events: dict[Event, date] = Field(default_factory=dict)
    flags: tuple[Flag, ...] = ()
    overrides: tuple[RuleOverride, ...] = ()
    homes: tuple[str, ...] = ()


class Contact(PolicyModel):
    """One visit record reduced to what the rules need."""

    on: date
    outcome: Outcome = "completed"
    at_home: bool = True
    home_id: str | None = None
    announced: bool = True
    seen_alone: bool = False
    bedroom_seen: bool = False
    seen_awake: bool = False
    role: Role | None = None
    start: time | None = None


class Due(PolicyModel):
    """One requirement's next deadline."""

    rule_id: RuleId
    title: str
    kind: str
    clock: Clock | None = None
    due: date
    last: date | None = Field(default=None, description="Last date the clock was reset.")
    home_id: str | None = None
    count: int | None = Field(default=None, description="Visits still needed (monthly rules).")
    severity: Severity = "statutory"
    window: str = Field(description="The rule's window in words, e.g. 'every 10 working days'.")
    avoid_part_of_day: PartOfDay | None = Field(
        default=None,
        description="After a failed visit: the part of the day the next visit must avoid.",
    )

    @property
    def statutory(self) -> bool:
        """True for a minimum the source states (not local practice)."""
        return self.severity == "statutory"


class Escalation(PolicyModel):
    """A condition a team manager must see."""

    rule_id: RuleId
    title: str
    detail: str


def age_years(birth_date: date | None, on: date) -> int | None:
    """Completed years of age on `on`, or None when the birth date is unknown."""
    if birth_date is None:
        return None
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def add_months(start: date, months: int) -> date:
    """The same day `months` later, or that month's last day where it has none."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last = _monthcal.monthrange(year, month)[1]
    return date(year, month, min(start.day, last))


def add_period(
    start: date, period: Period, calendar: BusinessCalendar, counting: Counting = "day0"
) -> date:
    """The last day allowed by `period` counted from `start`.

    With `day0` counting `start` is day 0; with `inclusive` counting `start` is day 1, so the
    result is one unit earlier. Hours round up to whole calendar days.
    """
    try:
        return _add_period(start, period, calendar, counting)
    except (OverflowError, ValueError):
        # A period past the last date Python holds (the models refuse one; a pack could
        # still hold one by mistake): no deadline within the calendar, never a crash.
        return date.max


def _add_period(
    start: date, period: Period, calendar: BusinessCalendar, counting: Counting
) -> date:
    """`add_period`, raising OverflowError or ValueError past the last date Python holds."""
    shift = 1 if counting == "inclusive" else 0
    if period.unit == "working_days":
        if period.amount > (date.max - start).days:  # fail fast rather than walk to year 9999
            raise OverflowError("more working days than the calendar holds")
        return calendar.add_working_days(start, period.amount - shift)
    if period.unit == "days":
        return start + timedelta(days=period.amount - shift)
    if period.unit == "hours":
        return start + timedelta(days=-(-period.amount // 24) - shift)
    if period.unit == "weeks":
        return start + timedelta(days=7 * period.amount - shift)
    return add_months(start, period.amount) - timedelta(days=shift)


def describe_window(period: Period, counting: Counting = "day0") -> str:
    """'every 10 working days', with the counting convention when it is not day 0."""
    text = f"every {period.describe()}"
    if counting == "inclusive":
        text += " (counting the visit day)"
    return text


def _event_on(child: ChildFacts, event: Event) -> date | None:
    return child.events.get(event)


def _in_scope(rule: Rule, child: ChildFacts, on: date) -> bool:
    return _in_fixed_scope(rule, child) and _in_scope_on(rule, child, on)


def _in_fixed_scope(rule: Rule, child: ChildFacts) -> bool:
    """The scope's tests on facts that do not change with the day: category, placement,
    flags and the child's own frequency."""
    scope = rule.scope
    if child.category not in scope.categories:
        return False
    if scope.placement_types and child.placement_type not in scope.placement_types:
        return False
    if child.placement_type is not None and child.placement_type in scope.exclude_placement_types:
        return False
    if any(flag not in child.flags for flag in scope.flags):
        return False
    if any(flag in child.flags for flag in scope.exclude_flags):
        return False
    needs_override = isinstance(rule, IntervalRule) and rule.every is None
    return not needs_override or any(overrides_rule(o, rule) for o in child.overrides)


def _in_scope_on(rule: Rule, child: ChildFacts, on: date) -> bool:
    """The scope's tests that depend on the day: age, validity, ending event and phase."""
    scope = rule.scope
    if scope.max_age_years is not None:
        age = age_years(child.birth_date, on)
        if age is None or age >= scope.max_age_years:
            return False
    if rule.valid_from and on < rule.valid_from:
        return False
    if rule.valid_until and on > rule.valid_until:
        return False
    if scope.until_event is not None:
        ended = _event_on(child, scope.until_event)
        if ended is not None and ended <= on:
            return False
    if scope.phase is not None:
        anchor = _event_on(child, scope.phase.event)
        if anchor is None:
            return False
        if scope.phase.after is not None and on < _phase_edge(anchor, scope.phase.after):
            return False
        if scope.phase.before is not None and on >= _phase_edge(anchor, scope.phase.before):
            return False
    return True


def _ended_by(rule: Rule, child: ChildFacts, as_of: date) -> bool:
    """True once the rule's ending event (e.g. the adoption order) has happened by `as_of`."""
    if rule.scope.until_event is None:
        return False
    ended = _event_on(child, rule.scope.until_event)
    return ended is not None and ended <= as_of


def _phase_edge(anchor: date, period: Period) -> date:
    """Phases are measured in calendar time (weeks, months, years as 12 months); an edge
    past the last date Python holds is that date."""
    try:
        return _calendar_edge(anchor, period)
    except (OverflowError, ValueError):
        return date.max


def _calendar_edge(anchor: date, period: Period) -> date:
    """`_phase_edge`, raising OverflowError or ValueError past the last date Python holds."""
    if period.unit == "months":
        return add_months(anchor, period.amount)
    if period.unit == "weeks":
        return anchor + timedelta(weeks=period.amount)
    return anchor + timedelta(days=period.amount)


_CATEGORY_INDEX: dict[int, tuple[tuple[Rule, ...], dict[str, tuple[Rule, ...]]]] = {}
"""id(pack.rules) -> (those rules, kept so the id stays theirs; category -> rules in order)."""


def _by_category(pack: Pack, category: str) -> tuple[Rule, ...]:
    """The pack's rules whose scope names `category`, in pack order (indexed once per pack)."""
    entry = _CATEGORY_INDEX.get(id(pack.rules))
    if entry is None or entry[0] is not pack.rules:
        if len(_CATEGORY_INDEX) > 64:
            _CATEGORY_INDEX.clear()
        index: dict[str, list[Rule]] = {}
        for rule in pack.rules:
            for c in rule.scope.categories:
                index.setdefault(c, []).append(rule)
        entry = (pack.rules, {c: tuple(rules) for c, rules in index.items()})
        _CATEGORY_INDEX[id(pack.rules)] = entry
    return entry[1].get(category, ())


def _birthday(birth_date: date, years: int) -> date:
    """The first day on which the child is `years` old (1 March for 29 February births in
    other years, as `age_years` counts)."""
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:
        return date(birth_date.year + years, 3, 1)


def scope_changes(pack: Pack, child: ChildFacts) -> tuple[date, ...]:
    """Days on which one of the pack's rules may start or stop applying to the child.

    Between two consecutive days of the result (and before the first, and from the last on)
    `applicable_rules` gives the same answer every day, so callers may compute it once per
    stretch: scopes change only with age (a birthday), a rule's validity dates, an ending
    event and a phase's edges; category, placement and flags are fixed facts.
    """
    return _changes_of(_by_category(pack, child.category), child)


def _changes_of(rules: Sequence[Rule], child: ChildFacts) -> tuple[date, ...]:
    """`scope_changes` over some of the pack's rules."""
    out: set[date] = set()
    for rule in rules:
        scope = rule.scope
        if scope.max_age_years is not None and child.birth_date is not None:
            out.add(_birthday(child.birth_date, scope.max_age_years))
        if rule.valid_from is not None:
            out.add(rule.valid_from)
        if rule.valid_until is not None:
            out.add(rule.valid_until + timedelta(days=1))
        if scope.until_event is not None:
            ended = _event_on(child, scope.until_event)
            if ended is not None:
                out.add(ended)
        if scope.phase is not None:
            anchor = _event_on(child, scope.phase.event)
            if anchor is not None:
                for edge in (scope.phase.after, scope.phase.before):
                    if edge is not None:
                        out.add(_phase_edge(anchor, edge))
    return tuple(sorted(out))


def rules_in_scope(pack: Pack, child: ChildFacts, on: date) -> tuple[Rule, ...]:
    """The pack's rules that apply to `child` on `on`, after `supersedes` is honoured, judged
    rule by rule (the reference that `applicable_rules` remembers)."""
    in_scope = [rule for rule in _by_category(pack, child.category) if _in_scope(rule, child, on)]
    superseded = {rid for rule in in_scope for rid in rule.supersedes}
    return tuple(rule for rule in in_scope if rule.id not in superseded)


_FIXED_SCOPES: dict[tuple[object, ...], tuple[tuple[Rule, ...], tuple[Rule, ...]]] = {}
"""(id of the pack's rules, category, placement, flags, overridden rule ids) -> (those rules,
kept so the id stays theirs; the category's rules whose fixed scope tests pass)."""


def _fixed_scope(pack: Pack, child: ChildFacts) -> tuple[Rule, ...]:
    """The category's rules whose day-independent scope tests pass for this child, in pack
    order (shared by every child with the same category, placement, flags and overrides)."""
    key = (
        id(pack.rules),
        child.category,
        child.placement_type,
        child.flags,
        tuple(sorted({o.rule_id for o in child.overrides})),
    )
    entry = _FIXED_SCOPES.get(key)
    if entry is None or entry[0] is not pack.rules:
        if len(_FIXED_SCOPES) > 4096:
            _FIXED_SCOPES.clear()
        fixed = tuple(r for r in _by_category(pack, child.category) if _in_fixed_scope(r, child))
        entry = _FIXED_SCOPES[key] = (pack.rules, fixed)
    return entry[1]


class _Stretches:
    """One child's applicable rules, remembered per stretch between `scope_changes` days."""

    __slots__ = ("by_stretch", "changes", "child", "fixed", "rules")

    def __init__(self, pack: Pack, child: ChildFacts) -> None:
        self.rules = pack.rules
        self.child = child
        self.fixed = _fixed_scope(pack, child)
        # Rules outside the fixed scope never apply: their edges change nothing.
        self.changes = _changes_of(self.fixed, child)
        self.by_stretch: dict[int, tuple[Rule, ...]] = {}

    def on(self, day: date) -> tuple[Rule, ...]:
        """`rules_in_scope` on `day`: the fixed-scope rules tested for the day, then
        `supersedes` honoured."""
        stretch = bisect_right(self.changes, day)
        rules = self.by_stretch.get(stretch)
        if rules is None:
            child = self.child
            in_scope = [rule for rule in self.fixed if _in_scope_on(rule, child, day)]
            superseded = {rid for rule in in_scope for rid in rule.supersedes}
            rules = tuple(rule for rule in in_scope if rule.id not in superseded)
            self.by_stretch[stretch] = rules
        return rules


_last_stretches: _Stretches | None = None
"""The last child asked about (the due engine asks about one child many times in a row)."""


def applicable_rules(pack: Pack, child: ChildFacts, on: date) -> tuple[Rule, ...]:
    """The pack's rules that apply to `child` on `on`, after `supersedes` is honoured.

    The same as `rules_in_scope`, worked out once per stretch of days on which no rule's scope
    can change for the child (`scope_changes`) and remembered for the last child asked about
    (by identity: facts are immutable).
    """
    global _last_stretches
    kept = _last_stretches
    if kept is None or kept.child is not child or kept.rules is not pack.rules:
        kept = _last_stretches = _Stretches(pack, child)
    return kept.on(on)


def allowed_roles(pack: Pack, child: ChildFacts, on: date) -> tuple[Role, ...] | None:
    """Roles whose visits count for this child's clocks, or None when any role counts."""
    allowed: set[Role] | None = None
    for rule in applicable_rules(pack, child, on):
        if isinstance(rule, WhoRule):
            roles = set(rule.roles)
            allowed = roles if allowed is None else allowed & roles
    return None if allowed is None else tuple(sorted(allowed))


def overrides_rule(override: RuleOverride, rule: Rule) -> bool:
    """The override is of this rule; a plan's frequency (an override of any nation's plan
    frequency rule, `PLAN_FREQUENCY_RULES`) is of whichever of them the pack has."""
    if override.rule_id == rule.id:
        return True
    return override.rule_id in PLAN_FREQUENCY_RULES and rule.id in PLAN_FREQUENCY_RULES


def effective_period(rule: IntervalRule, child: ChildFacts) -> Period:
    """The rule's period, tightened by the child's own plan where it says so.

    Raises:
        OverrideError: the override is in another unit or would loosen the rule, or the rule
            has no period of its own and the child no override of it.
    """
    for override in child.overrides:
        if not overrides_rule(override, rule):
            continue
        check_override(rule, override)
        return override.every
    if rule.every is None:
        raise OverrideError(f"rule {rule.id} needs the child's own frequency (an override)")
    return rule.every


def interval_period(rule: IntervalRule, child: ChildFacts) -> Period | None:
    """`effective_period`, or None when the rule has no period for this child (the plan's
    frequency for a child whose plan sets none)."""
    if rule.every is None and not any(overrides_rule(o, rule) for o in child.overrides):
        return None
    return effective_period(rule, child)


def override_source(rule: IntervalRule, child: ChildFacts) -> str | None:
    """Who set the child's own frequency for this rule (e.g. a conference), if anyone did."""
    return next((o.source for o in child.overrides if overrides_rule(o, rule)), None)


def check_override(rule: IntervalRule, override: RuleOverride) -> None:
    """A per-child override may only tighten: same unit, no larger amount. A rule with no
    period of its own (the plan's frequency) takes any period.

    Raises:
        OverrideError: the override would loosen the rule or changes its unit.
    """
    if rule.every is None:
        return
    if override.every.unit != rule.every.unit:
        raise OverrideError(
            f"override of {rule.id} must be in {rule.every.unit}, not {override.every.unit}"
        )
    if override.every.amount > rule.every.amount:
        raise OverrideError(
            f"override of {rule.id} ({override.every.describe()}) would loosen "
            f"the rule ({rule.every.describe()}); overrides only tighten"
        )


def clock_of(pack: Pack, rule: Rule, child: ChildFacts) -> Clock | None:
    """Which sightings restart this rule's clock for this child.

    A statutory interval or first-visit rule worded as "seen" runs from the last home visit
    where the pack's document defines its statutory visit as a home visit for the child's
    category (`Pack.statutory_visits`, e.g. 001); otherwise the rule's own clock.
    """
    clock: Clock | None = getattr(rule, "clock", None)
    if clock != "seen" or not rule.statutory:
        return clock
    if not isinstance(rule, IntervalRule | FirstVisitRule):
        return clock
    for visit in pack.statutory_visits:
        if child.category in visit.categories:
            return visit.clock
    return clock


def _counts(contact: Contact, roles: tuple[Role, ...] | None) -> bool:
    """A contact counts when the child was seen, by a role allowed for the child."""
    if contact.outcome != "completed":
        return False
    return roles is None or contact.role is None or contact.role in roles


def _matches_clock(contact: Contact, clock: Clock, home_id: str | None = None) -> bool:
    if clock == "seen":
        return True
    if clock == "home":
        return contact.at_home
    if clock == "unannounced":
        return contact.at_home and not contact.announced
    return contact.at_home and contact.home_id == home_id


def last_contact(
    contacts: Sequence[Contact],
    clock: Clock,
    roles: tuple[Role, ...] | None,
    home_id: str | None = None,
    on_or_before: date | None = None,
) -> date | None:
    """The latest date a contact reset this clock."""
    dates = [
        c.on
        for c in contacts
        if _counts(c, roles)
        and _matches_clock(c, clock, home_id)
        and (on_or_before is None or c.on <= on_or_before)
    ]
    return max(dates) if dates else None


def _interval_anchor(rule: IntervalRule, child: ChildFacts) -> date | None:
    for event in (rule.anchor, "plan-start", "placement-start", "referral"):
        anchor = _event_on(child, event)
        if anchor is not None:
            return anchor
    return None


def _part_of_day(start: time | None) -> PartOfDay | None:
    if start is None:
        return None
    if start < time(12, 0):
        return "morning"
    if start < time(17, 0):
        return "afternoon"
    return "evening"


def interval_due(
    rule: IntervalRule,
    child: ChildFacts,
    contacts: Sequence[Contact],
    calendar: BusinessCalendar,
    roles: tuple[Role, ...] | None,
    home_id: str | None = None,
    clock: Clock | None = None,
) -> Due | None:
    """Next due date of one interval rule, or None when it has no starting point.

    `clock` is the rule's clock for this child (`clock_of`); the rule's own by default.
    """
    clock = clock or rule.clock
    last = last_contact(contacts, clock, roles, home_id)
    start = last if last is not None else _interval_anchor(rule, child)
    if start is None:
        return None
    return _interval_due_from(rule, child, calendar, clock, home_id, last, start)


def _interval_due_from(
    rule: IntervalRule,
    child: ChildFacts,
    calendar: BusinessCalendar,
    clock: Clock,
    home_id: str | None,
    last: date | None,
    start: date,
) -> Due:
    """`interval_due` once the clock's last reset and its starting day are known."""
    period = effective_period(rule, child)
    window = describe_window(period, rule.counting)
    source = override_source(rule, child)
    if source:
        window += f" (set by {source})"
    return Due(
        rule_id=rule.id,
        title=rule.title,
        kind=rule.kind,
        clock=clock,
        due=add_period(start, period, calendar, rule.counting),
        last=last,
        home_id=home_id,
        severity=rule.severity,
        window=window,
    )


def due_dates(
    pack: Pack,
    child: ChildFacts,
    contacts: Sequence[Contact],
    calendar: BusinessCalendar,
    as_of: date,
) -> tuple[Due, ...]:
    """Every outstanding requirement of one child as of `as_of`, earliest first.

    Interval and both-homes clocks run from the last qualifying contact; rules with phases
    are chosen by the date the clock started. First visits are outstanding until a
    qualifying contact on or after their event. Monthly counts cover the month of `as_of`.
    A failed visit resets nothing and adds a retry deadline.
    """
    contacts = sorted(contacts, key=lambda c: (c.on, c.start or time(0)))
    roles = allowed_roles(pack, child, as_of)
    out: list[Due] = []
    strictest: dict[str, Due] = {}
    lasts: dict[tuple[Clock, str | None], date | None] = {}
    for rule in _by_category(pack, child.category):
        if not isinstance(rule, IntervalRule):
            continue
        clock = clock_of(pack, rule, child) or rule.clock
        homes: tuple[str | None, ...] = child.homes if clock == "each_home" else (None,)
        for home in homes:
            # Phases and supersedes are judged on the day the clock started.
            if (clock, home) not in lasts:
                lasts[clock, home] = last_contact(contacts, clock, roles, home)
            last = lasts[clock, home]
            start = last if last is not None else _interval_anchor(rule, child)
            if start is None or not any(r is rule for r in applicable_rules(pack, child, start)):
                continue
            if _ended_by(rule, child, as_of):
                continue
            due = _interval_due_from(rule, child, calendar, clock, home, last, start)
            out.append(due)
            if clock in ("seen", "home"):
                previous = strictest.get(clock)
                if previous is None or due.due < previous.due:
                    strictest[clock] = due
    out.extend(_both_homes(pack, child, contacts, calendar, roles, as_of, strictest))
    for rule in applicable_rules(pack, child, as_of):
        if isinstance(rule, FirstVisitRule):
            out.extend(_first_visit(pack, rule, child, contacts, calendar, roles))
        elif isinstance(rule, MonthlyCountRule):
            out.extend(_monthly(rule, contacts, roles, as_of))
    latest_failure = _failed_since_seen(contacts)
    out.extend(_retries(pack, child, latest_failure, calendar))
    avoid = _avoid_after(pack, child, latest_failure)
    if avoid is not None:
        out = [d.model_copy(update={"avoid_part_of_day": avoid}) for d in out]
    return tuple(sorted(out, key=lambda d: (d.due, d.rule_id, d.home_id or "")))


def _both_homes(
    pack: Pack,
    child: ChildFacts,
    contacts: Sequence[Contact],
    calendar: BusinessCalendar,
    roles: tuple[Role, ...] | None,
    as_of: date,
    strictest: dict[str, Due],
) -> list[Due]:
    if len(child.homes) < 2:
        return []
    base = strictest.get("home") or strictest.get("seen")
    if base is None:
        return []
    base_rule = pack.rule(base.rule_id)
    assert isinstance(base_rule, IntervalRule)
    period = effective_period(base_rule, child)
    out: list[Due] = []
    for rule in applicable_rules(pack, child, as_of):
        if not isinstance(rule, BothHomesRule):
            continue
        stretched = Period(amount=period.amount * rule.factor, unit=period.unit)
        for home in child.homes:
            last = last_contact(contacts, "each_home", roles, home)
            start = last if last is not None else _interval_anchor(base_rule, child)
            if start is None:
                continue
            out.append(
                Due(
                    rule_id=rule.id,
                    title=rule.title,
                    kind=rule.kind,
                    clock="each_home",
                    due=add_period(start, stretched, calendar, base_rule.counting),
                    last=last,
                    home_id=home,
                    severity=rule.severity,
                    window=describe_window(stretched, base_rule.counting) + " at each home",
                )
            )
    return out


def _first_visit(
    pack: Pack,
    rule: FirstVisitRule,
    child: ChildFacts,
    contacts: Sequence[Contact],
    calendar: BusinessCalendar,
    roles: tuple[Role, ...] | None,
) -> list[Due]:
    event = _event_on(child, rule.event)
    if event is None:
        return []
    clock = clock_of(pack, rule, child) or rule.clock
    met = any(c.on >= event and _counts(c, roles) and _matches_clock(c, clock) for c in contacts)
    if met:
        return []
    return [
        Due(
            rule_id=rule.id,
            title=rule.title,
            kind=rule.kind,
            clock=clock,
            due=add_period(event, rule.within, calendar),
            last=None,
            severity=rule.severity,
            window=f"within {rule.within.describe()} of {rule.event.replace('-', ' ')}",
        )
    ]


def month_end(day: date) -> date:
    """The last day of `day`'s month."""
    return date(day.year, day.month, _monthcal.monthrange(day.year, day.month)[1])


def _monthly(
    rule: MonthlyCountRule,
    contacts: Sequence[Contact],
    roles: tuple[Role, ...] | None,
    as_of: date,
) -> list[Due]:
    first = as_of.replace(day=1)
    done = sum(
        1
        for c in contacts
        if first <= c.on <= as_of and _counts(c, roles) and _matches_clock(c, rule.clock)
    )
    if done >= rule.count:
        return []
    return [
        Due(
            rule_id=rule.id,
            title=rule.title,
            kind=rule.kind,
            clock=rule.clock,
            due=month_end(as_of),
            last=None,
            count=rule.count - done,
            severity=rule.severity,
            window=f"{rule.count} visits each calendar month",
        )
    ]


def _failed_since_seen(contacts: Sequence[Contact]) -> Contact | None:
    """The latest failed visit after the last one where the child was seen, if any."""
    last_seen = max((c.on for c in contacts if c.outcome == "completed"), default=None)
    failed = [
        c for c in contacts if c.outcome != "completed" and (last_seen is None or c.on > last_seen)
    ]
    return failed[-1] if failed else None


def _retry_rules(pack: Pack, child: ChildFacts, latest: Contact) -> list[RetryRule]:
    return [r for r in applicable_rules(pack, child, latest.on) if isinstance(r, RetryRule)]


def retry_part_of_day(
    pack: Pack, child: ChildFacts, contacts: Sequence[Contact]
) -> PartOfDay | None:
    """The part of the day the next visit must avoid after a failed one, or None.

    Any retry rule in scope that asks for a different time of day applies, with or without a
    deadline of its own (004: "attempts will take place at different times"); the failed
    visit's start time must be known.
    """
    ordered = sorted(contacts, key=lambda c: (c.on, c.start or time(0)))
    return _avoid_after(pack, child, _failed_since_seen(ordered))


def _avoid_after(pack: Pack, child: ChildFacts, latest: Contact | None) -> PartOfDay | None:
    if latest is None or latest.start is None:
        return None
    if not any(r.different_time_of_day for r in _retry_rules(pack, child, latest)):
        return None
    return _part_of_day(latest.start)


def retry_rule_id(pack: Pack, child: ChildFacts, contacts: Sequence[Contact]) -> RuleId | None:
    """The id of the retry rule asking for another time of day after the latest failure."""
    latest = _failed_since_seen(sorted(contacts, key=lambda c: (c.on, c.start or time(0))))
    if latest is None:
        return None
    return next((r.id for r in _retry_rules(pack, child, latest) if r.different_time_of_day), None)


def _retries(
    pack: Pack, child: ChildFacts, latest: Contact | None, calendar: BusinessCalendar
) -> list[Due]:
    if latest is None:
        return []
    out: list[Due] = []
    for rule in _retry_rules(pack, child, latest):
        if rule.within is None:
            continue
        out.append(
            Due(
                rule_id=rule.id,
                title=rule.title,
                kind=rule.kind,
                clock="seen",
                due=add_period(latest.on, rule.within, calendar),
                last=latest.on,
                severity=rule.severity,
                window=f"within {rule.within.describe()} of a failed visit",
            )
        )
    return out


def successive_failures(contacts: Sequence[Contact]) -> int:
    """How many visits in a row, counting back from the latest, failed to see the child."""
    count = 0
    for contact in sorted(contacts, key=lambda c: (c.on, c.start or time(0)), reverse=True):
        if contact.outcome == "completed":
            break
        count += 1
    return count


def escalations(
    pack: Pack,
    child: ChildFacts,
    contacts: Sequence[Contact],
    calendar: BusinessCalendar,
    as_of: date,
) -> tuple[Escalation, ...]:
    """Conditions a team manager must be told about as of `as_of`."""
    out: list[Escalation] = []
    seen = [c for c in contacts if c.outcome == "completed" and c.on <= as_of]
    age = age_years(child.birth_date, as_of)
    for rule in applicable_rules(pack, child, as_of):
        if not isinstance(rule, EscalationRule):
            continue
        if rule.trigger == "successive_failures":
            failures = successive_failures([c for c in contacts if c.on <= as_of])
            if rule.count is not None and failures >= rule.count:
                out.append(
                    Escalation(
                        rule_id=rule.id,
                        title=rule.title,
                        detail="1 failed visit"
                        if failures == 1
                        else f"{failures} successive failed visits",
                    )
                )
            continue
        assert rule.within is not None
        if rule.trigger == "not_seen_alone_within":
            if age is not None and age < seen_alone_age(pack, child, as_of, default=0):
                continue
            pool = [c for c in seen if c.seen_alone]
        else:
            pool = seen
        last = max((c.on for c in pool), default=None)
        anchor = last or child.events.get("plan-start")
        if anchor is None:
            continue
        limit = add_period(anchor, rule.within, calendar)
        if as_of > limit:
            what = "seen alone" if rule.trigger == "not_seen_alone_within" else "seen"
            since = f"since {last.isoformat()}" if last else "at all"
            out.append(
                Escalation(
                    rule_id=rule.id,
                    title=rule.title,
                    detail=f"not {what} {since} (limit {limit.isoformat()})",
                )
            )
    return tuple(out)


def seen_alone_age(pack: Pack, child: ChildFacts, on: date, default: int = 99) -> int:
    """The youngest age at which this child must be seen alone under the pack."""
    ages = [
        r.from_age_years for r in applicable_rules(pack, child, on) if isinstance(r, SeenAloneRule)
    ]
    return min(ages, default=default)


def checklist(
    pack: Pack, child: ChildFacts, contacts: Sequence[Contact], on: date
) -> tuple[str, ...]:
    """Visit content due at a visit on `on`: seen alone, bedroom, seen awake."""
    items: list[str] = []
    age = age_years(child.birth_date, on)
    if age is not None and age >= seen_alone_age(pack, child, on):
        items.append("seen-alone")
    done = sorted(
        (c for c in contacts if c.outcome == "completed" and c.on < on), key=lambda c: c.on
    )
    for rule in applicable_rules(pack, child, on):
        if not isinstance(rule, ChecklistRule):
            continue
        flag = "bedroom_seen" if rule.item == "bedroom" else "seen_awake"
        ticked = [c.on for c in done if getattr(c, flag)]
        last = max(ticked, default=None)
        due = last is None
        if rule.every_nth_visit is not None and last is not None:
            since = sum(1 for c in done if c.on > last)
            due = due or since + 1 >= rule.every_nth_visit
        if rule.within is not None and last is not None:
            due = due or on + timedelta(days=14) >= last + _as_timedelta(rule.within)
        if rule.between_events is not None:
            event = child.events.get(rule.between_events)
            due = due or (event is not None and last is not None and last < event)
        item = "bedroom" if rule.item == "bedroom" else "seen-awake"
        if due and item not in items:
            items.append(item)
    return tuple(items)


def _as_timedelta(period: Period) -> timedelta:
    """A calendar approximation of a period, for checklist look-ahead only."""
    days = {"working_days": 7 / 5, "days": 1, "weeks": 7, "months": 30, "hours": 1 / 24}
    return timedelta(days=round(period.amount * days[period.unit]))


def school_year_start(on: date) -> date:
    """1 September of the school year (September to August) that `on` falls in."""
    return date(on.year if on.month >= 9 else on.year - 1, 9, 1)


def leaving_date(school_year_end: int) -> date:
    """The last Friday of June of the school year ending in `school_year_end`."""
    day = date(school_year_end, 6, 30)
    return day - timedelta(days=(day.weekday() - 4) % 7)


def is_school_age(birth_date: date | None, on: date, from_age: int, until_age: int) -> bool:
    """True from the school year in which the child turns `from_age` to the leaving date of
    the school year in which the child turns `until_age` (unknown birth date: False)."""
    if birth_date is None:
        return False
    first = school_year_start(_birthday(birth_date, from_age))
    last = leaving_date(school_year_start(_birthday(birth_date, until_age)).year + 1)
    return first <= on <= last


def school_start(pack: Pack, child: ChildFacts, on: date, *, school_day: bool) -> time | None:
    """Earliest start of a home visit on `on` for this child, or None when school does not
    bind: not a school day (the caller's term dates decide), not of school age, or a flag
    that takes the child out of the rule (home-educated, not in school)."""
    if not school_day:
        return None
    starts = [
        r.not_before
        for r in applicable_rules(pack, child, on)
        if isinstance(r, SchoolHoursRule)
        and is_school_age(child.birth_date, on, r.from_age_years, r.until_age_years)
    ]
    return max(starts, default=None)
