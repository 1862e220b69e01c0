"""Policy pack models: the closed vocabulary of visiting rules, each citing its source.

Rule: pure data, no arithmetic here (that is `policies.engine`), no package of ours imported.
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationInfo,
    model_validator,
)

RuleId = str
PackId = str

PLAN_FREQUENCY_RULES: tuple[RuleId, ...] = (
    "eng_plan_frequency",
    "wls_plan_frequency",
    "sct_plan_frequency",
)
"""The base rules, one per nation, for a frequency the child's plan or conference sets (no
period of their own). The scheduler records a plan's frequency as an override of the first;
it applies to whichever of them the child's pack has."""

Category = Literal[
    "early-help",
    "child-in-need",
    "child-protection",
    "child-in-care",
    "care-leaver",
    "private-fostering",
]
CATEGORIES: tuple[Category, ...] = get_args(Category)

PlacementType = Literal[
    "foster",
    "long-term-foster",
    "residential",
    "adoption",
    "care-proceedings",
    "placement-with-parents-ico",
    "placement-with-parents-care-order",
    "connected-person-temporary",
    "connected-person-expired",
    "unregulated-fostering",
    "unregulated-residential",
    "short-breaks",
]
PLACEMENT_TYPES: tuple[PlacementType, ...] = get_args(PlacementType)

Role = Literal["social-worker", "family-support-worker", "student", "manager"]
ROLES: tuple[Role, ...] = get_args(Role)

Event = Literal[
    "referral",
    "plan-start",
    "placement-start",
    "care-order",
    "notification",
    "conference",
    "adoption-order",
]
EVENTS: tuple[Event, ...] = get_args(Event)

Unit = Literal["working_days", "days", "weeks", "months", "hours"]
Counting = Literal["day0", "inclusive"]
"""`day0`: the visit day is day 0. `inclusive`: the visit day is day 1 (pack 003)."""

Clock = Literal["seen", "home", "unannounced", "each_home"]
"""Which visits reset the clock: any seen visit, a seen visit at home, an unannounced seen
visit, or a seen visit at each of a shared-care child's homes (one clock per home)."""

Severity = Literal["statutory", "practice"]
"""`statutory`: a minimum a document (or statute) states; missing it is a breach.
`practice`: local practice with no source number, planned as a soft target and reported apart."""
SEVERITIES: tuple[Severity, ...] = get_args(Severity)

Nation = Literal["ENG", "WLS", "SCT", "NIR"]
Flag = Literal[
    "under-5-missing-school",
    "agrees-less-frequent-visits",
    "not-in-education",
    "section-47",
    "home-educated",
    "not-in-school",
    "placed-by-fostering-service",
]
FLAGS: tuple[Flag, ...] = get_args(Flag)


class PolicyModel(BaseModel):
    """Base of every policy model: immutable, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Period(PolicyModel):
    """A length of time in one unit."""

    amount: PositiveInt = Field(description="How many units.")
    unit: Unit = Field(description="working_days, days, weeks, months or hours.")

    @classmethod
    def parse(cls, text: str) -> Period:
        """A period from words such as '10 working days', '2 weeks' or '1 month'.

        Raises:
            ValueError: not a whole number followed by a unit.
        """
        amount, _, rest = text.strip().partition(" ")
        unit = " ".join(rest.lower().split()).removesuffix("s").replace(" ", "_")
        units: dict[str, Unit] = {
            "working_day": "working_days",
            "day": "days",
            "week": "weeks",
            "month": "months",
        }
        if not amount.isdigit() or int(amount) < 1 or unit not in units:
            raise ValueError(
                f"expected a period like '10 working days', '3 weeks' or '1 month', got {text!r}"
            )
        return cls(amount=int(amount), unit=units[unit])

    def describe(self) -> str:
        """Human wording, e.g. '10 working days'."""
        label = self.unit.replace("_", " ")
        if self.amount == 1:
            label = label.removesuffix("s")
        return f"{self.amount} {label}"


PLAN_PERIOD_MAX: dict[Unit, int] = {
    "months": 12,
    "weeks": 52,
    "days": 365,
    "working_days": 260,
    "hours": 365 * 24,
}
"""The longest frequency a child's own plan may set, per unit: one year. The plan only
tightens the pack's rules, whose longest interval is months (docs/decisions.md)."""


_LONGEST = [Period(amount=n, unit=unit).describe() for unit, n in PLAN_PERIOD_MAX.items()]
PLAN_PERIOD_EXPECTED = (
    f"a frequency of at most a year ({', '.join(_LONGEST[:-1])} or {_LONGEST[-1]})"
)
"""What a child's own frequency must be, as an error message says it."""


def check_plan_period(period: Period) -> Period:
    """A child's own frequency is at most a year, so its dates stay in the calendar.

    Raises:
        ValueError: the period is longer than `PLAN_PERIOD_MAX` allows for its unit.
    """
    if period.amount > PLAN_PERIOD_MAX[period.unit]:
        raise ValueError(PLAN_PERIOD_EXPECTED)
    return period


READ_BACK: dict[str, bool] = {"read_back": True}
"""Validation context of data read back after it was accepted once (the store's rows): a
bound added since (a child's frequency at most a year) leaves it readable, and the due engine
gives a date past the calendar no deadline instead of crashing."""


def _check_plan_period_unless_read_back(period: Period, info: ValidationInfo) -> Period:
    """`check_plan_period`, except on data read back (context `READ_BACK`)."""
    if info.context and info.context.get("read_back"):
        return period
    return check_plan_period(period)


PlanPeriod = Annotated[Period, AfterValidator(_check_plan_period_unless_read_back)]
"""A period a child's plan or conference sets: at most a year (`PLAN_PERIOD_MAX`), except
when read back from the store (`READ_BACK`)."""


class Source(PolicyModel):
    """Where a rule comes from: the document, its section and the line quoted."""

    document: str = Field(description="Document id (a seed number such as '002') or statute.")
    section: str = Field(description="Section or heading within the document.")
    quote: str = Field(min_length=10, description="The line the rule encodes, verbatim.")
    url: str | None = Field(default=None, description="Public address of the source.")
    statute: str | None = Field(default=None, description="Statutory instrument and regulation.")


class Phase(PolicyModel):
    """A window relative to a plan event in which a rule applies (e.g. the first year)."""

    event: Event = Field(description="The event the phase is measured from.")
    after: Period | None = Field(default=None, description="Applies from event + after.")
    before: Period | None = Field(default=None, description="Applies until event + before.")


class Scope(PolicyModel):
    """Which children a rule applies to."""

    categories: tuple[Category, ...] = Field(min_length=1, description="Child categories.")
    placement_types: tuple[PlacementType, ...] = Field(
        default=(), description="Placement types; empty means any."
    )
    exclude_placement_types: tuple[PlacementType, ...] = Field(
        default=(), description="Placement types the rule does not apply to."
    )
    flags: tuple[Flag, ...] = Field(default=(), description="Flags the child must all have.")
    exclude_flags: tuple[Flag, ...] = Field(
        default=(), description="Flags any one of which takes the child out of the rule."
    )
    max_age_years: int | None = Field(
        default=None, description="Applies only below this age in completed years."
    )
    phase: Phase | None = Field(default=None, description="Time window relative to an event.")
    until_event: Event | None = Field(
        default=None, description="The rule stops applying once this event has happened."
    )


class RuleBase(PolicyModel):
    """Fields every rule carries."""

    id: RuleId = Field(pattern=r"^[a-z0-9_]+$", description="Stable snake_case id.")
    title: str = Field(description="Human title.")
    source: Source
    scope: Scope
    severity: Severity = Field(
        default="statutory",
        description="statutory: a minimum the source states (a breach when missed); practice: "
        "local practice, a soft target reported apart.",
    )
    interpretation: str | None = Field(
        default=None, description="Our reading where the source is not explicit."
    )
    decision: str | None = Field(
        default=None,
        description="The product decision (DESIGN.md) behind a number no source line states.",
    )
    supersedes: tuple[RuleId, ...] = Field(
        default=(), description="Rules that do not apply while this one does."
    )
    valid_from: date | None = None
    valid_until: date | None = None

    @property
    def statutory(self) -> bool:
        """True for a minimum the source states (severity `statutory`)."""
        return self.severity == "statutory"

    @model_validator(mode="after")
    def check_validity_ordered(self) -> RuleBase:
        """valid_from comes before valid_until."""
        if self.valid_from and self.valid_until and self.valid_from > self.valid_until:
            raise ValueError(f"rule {self.id}: valid_from after valid_until")
        return self


class IntervalRule(RuleBase):
    """The next qualifying visit is due within `every` of the last one."""

    kind: Literal["interval"] = "interval"
    every: Period | None = Field(
        default=None,
        description="The interval; None when the child's own plan sets it (the rule then "
        "applies only to children with an override of it).",
    )
    clock: Clock = "seen"
    counting: Counting = "day0"
    anchor: Event = Field(
        default="plan-start", description="Where the clock starts when no visit qualifies."
    )


class FirstVisitRule(RuleBase):
    """A first visit is due within `within` of an event."""

    kind: Literal["first_visit"] = "first_visit"
    event: Event
    within: Period
    clock: Clock = "seen"


class MonthlyCountRule(RuleBase):
    """At least `count` qualifying visits in each calendar month."""

    kind: Literal["monthly_count"] = "monthly_count"
    count: PositiveInt
    clock: Clock = "seen"


class RetryRule(RuleBase):
    """After a failed visit (child not seen) another is due within `within`."""

    kind: Literal["retry"] = "retry"
    within: Period | None = Field(default=None, description="None: no own deadline.")
    different_time_of_day: bool = False


class WhoRule(RuleBase):
    """Only visits by these roles count for the child's statutory clocks."""

    kind: Literal["who"] = "who"
    roles: tuple[Role, ...] = Field(min_length=1)


class SeenAloneRule(RuleBase):
    """Children of at least `from_age_years` are seen alone at every visit."""

    kind: Literal["seen_alone"] = "seen_alone"
    from_age_years: int = Field(ge=0)


class ChecklistRule(RuleBase):
    """A visit content item due every n-th visit or within a period."""

    kind: Literal["checklist"] = "checklist"
    item: Literal["bedroom", "seen-awake"]
    every_nth_visit: PositiveInt | None = None
    within: Period | None = None
    between_events: Event | None = Field(
        default=None, description="Due at least once between successive events of this kind."
    )

    @model_validator(mode="after")
    def check_has_cadence(self) -> ChecklistRule:
        """A checklist item says how often it is due."""
        if not (self.every_nth_visit or self.within or self.between_events):
            raise ValueError(f"rule {self.id}: needs every_nth_visit, within or between_events")
        return self


class EscalationRule(RuleBase):
    """A condition the team manager must be told about."""

    kind: Literal["escalation"] = "escalation"
    trigger: Literal["successive_failures", "not_seen_within", "not_seen_alone_within"]
    count: PositiveInt | None = None
    within: Period | None = None

    @model_validator(mode="after")
    def check_trigger_parameters(self) -> EscalationRule:
        """successive_failures needs a count; the others a period."""
        if self.trigger == "successive_failures" and not self.count:
            raise ValueError(f"rule {self.id}: successive_failures needs count")
        if self.trigger != "successive_failures" and not self.within:
            raise ValueError(f"rule {self.id}: {self.trigger} needs within")
        return self


class BothHomesRule(RuleBase):
    """Each home of a shared-care child is seen at least every `factor` x the interval."""

    kind: Literal["both_homes"] = "both_homes"
    factor: PositiveInt = 2


class SchoolHoursRule(RuleBase):
    """School-age children are at school on school days: home visits start after school.

    School age runs from the school year (1 September to 31 August) in which the child turns
    `from_age_years` to the school-leaving date (the last Friday of June) of the school year
    in which the child turns `until_age_years`. Which days are school days is the caller's
    (term dates); the rule only says when school ends.
    """

    kind: Literal["school_hours"] = "school_hours"
    not_before: time
    from_age_years: int = Field(default=5, ge=0)
    until_age_years: int = Field(default=16, ge=1)


Rule = Annotated[
    IntervalRule
    | FirstVisitRule
    | MonthlyCountRule
    | RetryRule
    | WhoRule
    | SeenAloneRule
    | ChecklistRule
    | EscalationRule
    | BothHomesRule
    | SchoolHoursRule,
    Field(discriminator="kind"),
]


DocumentKind = Literal["statute", "guidance", "decision"]


class Document(PolicyModel):
    """A source document a pack cites."""

    id: str
    title: str
    publisher: str | None = None
    url: str | None = None
    file: str | None = Field(default=None, description="Seed file name in shared/seeds.")
    kind: DocumentKind | None = Field(
        default=None,
        description="What a document without a seed file is: a statute (the default), national "
        "guidance (cited by its public address) or the product decisions (DESIGN.md).",
    )


class StatutoryVisit(PolicyModel):
    """Where a document defines its statutory visit as seeing the child at a place.

    For the listed categories every statutory interval and first-visit rule whose clock is
    `seen` runs on `clock` instead (001: "see the child in their home environment").
    """

    categories: tuple[Category, ...] = Field(min_length=1, description="Child categories.")
    clock: Clock = Field(default="home", description="The clock statutory visits run on.")
    source: Source


class Pack(PolicyModel):
    """One authority's visiting rules as data (before inheritance is resolved)."""

    id: PackId = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    nation: Nation = "ENG"
    extends: PackId | None = None
    omit: tuple[RuleId, ...] = Field(default=(), description="Base rules this pack drops.")
    closure_days: tuple[date, ...] = Field(default=(), description="Authority closure days.")
    visit_minutes: PositiveInt = Field(default=60, description="Base length of a visit.")
    per_child_minutes: PositiveInt = Field(
        default=15, description="Extra minutes for each additional child seen alone."
    )
    both_homes_factor: PositiveInt | None = Field(
        default=None,
        description="Each home of a shared-care child is seen every this many times the "
        "child's interval; overrides the base rule's factor (the authority's own setting).",
    )
    statutory_visits: tuple[StatutoryVisit, ...] = Field(
        default=(), description="Where the document's statutory visit is a home visit."
    )
    documents: tuple[Document, ...] = ()
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def check_unique_rule_ids(self) -> Pack:
        """Rule ids are unique within a pack."""
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"pack {self.id}: duplicate rule id {rule.id}")
            seen.add(rule.id)
        return self

    def rule(self, rule_id: RuleId) -> Rule:
        """The rule with this id.

        Raises:
            KeyError: no such rule.
        """
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


class RuleOverride(PolicyModel):
    """A child's own plan tightens one interval rule ("or more frequently if in the plan").

    An override keeps the rule's unit and may not be longer (it is refused otherwise). The
    base rule `eng_plan_frequency` has no interval of its own: an override of it is the
    frequency the plan or conference sets, in any unit, on top of every other rule.
    """

    rule_id: RuleId = Field(description="The interval rule the child's plan tightens.")
    every: PlanPeriod = Field(description="The child's own interval, at most a year.")
    source: str | None = Field(
        default=None, description="Who set it, e.g. 'CP conference 3 Dec 2026'."
    )
