"""Domain model: the glossary of DESIGN.md section 1 as frozen pydantic models.

The scenario bundles one planning run's whole input; its JSON Schema is `visitplan schema`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from policies import (
    READ_BACK,
    Category,
    ChildFacts,
    Contact,
    Event,
    Flag,
    PlacementType,
    PlanPeriod,
    Role,
    RuleId,
    RuleOverride,
    Severity,
)

ID_MAX = 200
"""Longest id: what every store column holds, on SQLite and PostgreSQL alike."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _no_control(text: str, info: ValidationInfo) -> str:
    """An id or a reference holds no control character (a NUL, an escape, a line break):
    calendars allow none in their text (RFC 5545) and PostgreSQL no NUL in a string. Data
    read back from the store (context `READ_BACK`) is not judged again, so a store written
    before this check still opens."""
    if _CONTROL.search(text) and not _read_back(info):
        raise ValueError("no control characters (such as NUL or a line break)")
    return text


def _no_control_but_lines(text: str, info: ValidationInfo) -> str:
    """Text holds no control character but tabs and line breaks (see `_no_control`)."""
    if _CONTROL_BUT_LINES.search(text) and not _read_back(info):
        raise ValueError("no control characters (such as NUL)")
    return text


def _read_back(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and bool(info.context.get("read_back"))


Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX), AfterValidator(_no_control)]
ChildId = Id
HouseholdId = Id
WorkerId = Id
TeamId = Id
VisitId = Id
RecordId = Id
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)


def _sane_day(day: date) -> date:
    """A date inside any real caseload; far-off dates are typing mistakes."""
    if not EARLIEST <= day <= LATEST:
        raise ValueError(f"a date between {EARLIEST} and {LATEST}")
    return day


def _sane_moment(moment: datetime) -> datetime:
    _sane_day(moment.date())
    return moment


Day = Annotated[date, AfterValidator(_sane_day)]
"""A date between 1900 and 2100: checked before any arithmetic is done with it."""
Moment = Annotated[AwareDatetime, AfterValidator(_sane_moment)]
"""A time with its zone, on a day between 1900 and 2100."""
Text = Annotated[str, StringConstraints(max_length=500), AfterValidator(_no_control_but_lines)]

Outcome = Literal["completed", "failed", "not-seen"]
VisitStatus = Literal["planned", "awaiting", "completed", "failed", "not-seen", "cancelled", "done"]
"""A visit's state. `planned`: in the plan's horizon. `awaiting`: its day has passed and no
outcome is recorded (never shown as done). `completed`, `failed`, `not-seen`: the recorded
outcome. `cancelled`: no longer planned. `done` is read from plans made before outcomes had
states of their own and means the same as `awaiting` until a record says otherwise."""
Weekday = Literal[0, 1, 2, 3, 4, 5, 6]
SCHEMA_VERSION = 1
MAX_VISITS_PER_DAY = 12
"""No worker makes more home visits than this in a day; a larger cap is a typing mistake."""
MAX_VISIT_MIN = 24 * 60
"""No visit lasts longer than a day; a longer one in a plan file is a typing mistake."""
ROAD_FACTOR = 1.3
"""Road distance over straight-line distance for short trips (docs/decisions.md, travel)."""
_EASTING = Field(
    default=None,
    ge=0,
    le=700000,
    allow_inf_nan=False,
    description="British National Grid easting, m.",
)
_NORTHING = Field(
    default=None,
    ge=0,
    le=1300000,
    allow_inf_nan=False,
    description="British National Grid northing, m.",
)


def _check_grid_pair(easting: float | None, northing: float | None, what: str) -> None:
    """A grid reference has both halves or neither."""
    if (easting is None) != (northing is None):
        raise ValueError(f"{what}: give both easting and northing, or neither")


class DomainModel(BaseModel):
    """Base of every domain model: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Privacy(DomainModel):
    """What an authority lets calendars and feeds show beyond the case reference."""

    show_names: bool = Field(default=False, description="Put children's names in events.")
    show_address: bool = Field(default=False, description="Put the household address in events.")


class SchoolTerm(DomainModel):
    """One stretch of term time (school days are its weekdays that are not bank holidays)."""

    start: Day = Field(description="First day of the term (or half term).")
    end: Day = Field(description="Last day of the term (or half term), inclusive.")
    name: str | None = Field(default=None, description="e.g. 'Autumn 1'.")

    @model_validator(mode="after")
    def check_ordered(self) -> SchoolTerm:
        """A term ends on or after its start."""
        if self.end < self.start:
            raise ValueError("a school term must end on or after its start")
        return self


class Authority(DomainModel):
    """The authority whose policy pack applies."""

    id: str = Field(description="Policy pack id, e.g. 'camden' (see `visitplan policies list`).")
    name: str | None = Field(default=None, description="Display name of the authority.")
    timezone: str = Field(default="Europe/London", description="IANA time zone of local times.")
    privacy: Privacy = Field(default_factory=Privacy, description="Calendar detail opt-ins.")
    cross_team_cover: bool = Field(
        default=False, description="Workers may cover neighbouring teams' households."
    )
    max_visits_per_day: PositiveInt = Field(
        default=4, le=MAX_VISITS_PER_DAY, description="Default cap on one worker's visits in a day."
    )
    travel_speed_kmh: float = Field(
        default=25.0,
        gt=0,
        le=120,
        allow_inf_nan=False,
        description="Average door-to-door speed for travel estimates.",
    )
    road_factor: float = Field(
        default=ROAD_FACTOR,
        ge=1.0,
        le=3.0,
        description="Road distance over straight-line distance (1.3: short urban trips).",
    )

    school_terms: tuple[SchoolTerm, ...] = Field(
        default=(),
        description="Term dates (`visitplan terms import`); school years they do not cover "
        "use the nation's typical terms (docs/school-terms.md).",
    )

    @field_validator("timezone")
    @classmethod
    def check_timezone(cls, value: str) -> str:
        """The time zone is one the IANA database knows."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("an IANA time zone such as Europe/London") from None
        return value


class ChildEvents(DomainModel):
    """Dated events in the child's plan that start or shape visiting clocks."""

    referral: Day | None = Field(default=None, description="Date of referral.")
    plan_start: Day | None = Field(default=None, description="Start of the current plan.")
    placement_start: Day | None = Field(default=None, description="Start of the placement.")
    care_order: Day | None = Field(default=None, description="Date of the care order.")
    notification: Day | None = Field(
        default=None, description="Private fostering: date the authority was notified."
    )
    conference: Day | None = Field(default=None, description="Latest child protection conference.")
    adoption_order: Day | None = Field(default=None, description="Adoption order, ends visits.")

    def as_policy_events(self) -> dict[Event, date]:
        """The events keyed as the policy engine names them."""
        pairs: list[tuple[Event, date | None]] = [
            ("referral", self.referral),
            ("plan-start", self.plan_start),
            ("placement-start", self.placement_start),
            ("care-order", self.care_order),
            ("notification", self.notification),
            ("conference", self.conference),
            ("adoption-order", self.adoption_order),
        ]
        return {event: day for event, day in pairs if day is not None}


PLAN_FREQUENCY_RULE: RuleId = "eng_plan_frequency"
"""The base rule a frequency set by the child's plan or conference overrides."""


class PlanFrequency(DomainModel):
    """How often the child's plan or conference says the child is seen."""

    every: PlanPeriod = Field(description="e.g. 10 working days; at most a year.")
    source: str | None = Field(default=None, description="e.g. 'CP conference 3 Dec 2026'.")

    def override(self) -> RuleOverride:
        """The frequency as the override of `eng_plan_frequency` the engine applies (checked
        when the frequency was, so one read back from the store stays readable)."""
        return RuleOverride.model_validate(
            {"rule_id": PLAN_FREQUENCY_RULE, "every": self.every, "source": self.source},
            context=READ_BACK,
        )


class Child(DomainModel):
    """A child open to the service."""

    id: ChildId = Field(description="Unique id of the child within the scenario.")
    case_ref: Id = Field(description="Case reference shown on calendars instead of the name.")
    name: Text | None = Field(default=None, description="Name; shown only where opted in.")
    birth_date: Day | None = Field(default=None, description="Date of birth.")
    category: Category = Field(description="Child's category, which chooses the rules.")
    placement_type: PlacementType | None = Field(
        default=None, description="For a child in care: the placement type."
    )
    events: ChildEvents = Field(default_factory=ChildEvents, description="Plan events.")
    household_ids: tuple[HouseholdId, ...] = Field(
        min_length=1, max_length=2, description="One home, or two for shared care."
    )
    allocated_worker: WorkerId | None = Field(default=None, description="Allocated worker.")
    flags: tuple[Flag, ...] = Field(default=(), description="Facts some rules depend on.")
    overrides: tuple[RuleOverride, ...] = Field(
        default=(), description="The child's own plan tightening an interval rule."
    )
    frequency: PlanFrequency | None = Field(
        default=None,
        description="A frequency set by the plan or conference, on top of the pack's rules.",
    )

    @model_validator(mode="after")
    def check_placement_only_in_care(self) -> Child:
        """Only a child in care has a placement type."""
        if self.placement_type and self.category != "child-in-care":
            raise ValueError(f"child {self.id}: placement_type is only for child-in-care")
        return self

    @model_validator(mode="after")
    def check_distinct_homes(self) -> Child:
        """A shared-care child's two homes are different households."""
        if len(set(self.household_ids)) != len(self.household_ids):
            raise ValueError(f"child {self.id}: the same household is listed twice")
        return self

    def facts(self) -> ChildFacts:
        """What the policy engine needs to know about this child."""
        return ChildFacts(
            category=self.category,
            placement_type=self.placement_type,
            birth_date=self.birth_date,
            events=self.events.as_policy_events(),
            flags=self.flags,
            overrides=self.all_overrides(),
            homes=self.household_ids,
        )

    def all_overrides(self) -> tuple[RuleOverride, ...]:
        """The child's overrides, with the plan's frequency as one of `eng_plan_frequency`."""
        if self.frequency is None:
            return self.overrides
        return (*self.overrides, self.frequency.override())


class FamilyWindow(DomainModel):
    """When a family can be visited on one weekday."""

    weekday: Weekday = Field(description="0 = Monday ... 6 = Sunday.")
    start: time = Field(description="Earliest start, local time.")
    end: time = Field(description="Latest end, local time.")

    @model_validator(mode="after")
    def check_start_before_end(self) -> FamilyWindow:
        """A window starts before it ends."""
        if self.start >= self.end:
            raise ValueError("family window must start before it ends")
        return self


class Household(DomainModel):
    """One home."""

    id: HouseholdId = Field(description="Unique id of the household.")
    area: Text = Field(description="Area shown on calendars (e.g. a patch or postcode district).")
    address: Text | None = Field(default=None, description="Address; shown only where opted in.")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="Latitude in degrees.")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="Longitude in degrees.")
    team_id: TeamId | None = Field(default=None, description="Team whose patch this is.")
    windows: tuple[FamilyWindow, ...] = Field(
        default=(), description="When the family can be visited; empty means working hours."
    )
    joint_visit: bool = Field(default=False, description="Risk: two workers must attend.")
    school_day_start: time | None = Field(
        default=None, description="Override of the after-school start on school days."
    )
    postcode: str | None = Field(default=None, description="Postcode; shown only where opted in.")
    uprn: str | None = Field(default=None, description="Unique Property Reference Number.")
    easting: float | None = _EASTING
    northing: float | None = _NORTHING

    @model_validator(mode="after")
    def check_grid(self) -> Household:
        """Easting and northing come together."""
        _check_grid_pair(self.easting, self.northing, f"household {self.id}")
        return self


class Team(DomainModel):
    """A team of workers with a patch."""

    id: TeamId = Field(description="Unique id of the team.")
    name: Text = Field(description="Team name.")
    neighbours: tuple[TeamId, ...] = Field(
        default=(), description="Teams whose workers may cover when cross-team cover is allowed."
    )


class Worker(DomainModel):
    """A member of staff who visits."""

    id: WorkerId = Field(description="Unique id of the worker.")
    name: Text = Field(description="Name (staff names are not sensitive).")
    role: Role = Field(description="Role, which decides which visits count.")
    team_id: TeamId = Field(description="Team the worker belongs to.")
    days: tuple[Weekday, ...] = Field(
        default=(0, 1, 2, 3, 4), description="Contracted weekdays, 0 = Monday."
    )
    day_start: time = Field(default=time(9, 0), description="Start of the working day.")
    day_end: time = Field(default=time(17, 0), description="End of the working day.")
    base_lat: float = Field(
        ge=-90, le=90, allow_inf_nan=False, description="Latitude of the base office."
    )
    base_lon: float = Field(
        ge=-180, le=180, allow_inf_nan=False, description="Longitude of the base office."
    )
    base_easting: float | None = _EASTING
    base_northing: float | None = _NORTHING
    max_visits_per_day: PositiveInt | None = Field(
        default=None,
        le=MAX_VISITS_PER_DAY,
        description="Cap on visits per day; the authority default when absent.",
    )
    calendar_url: str | None = Field(default=None, description="The worker's CalDAV calendar.")

    @model_validator(mode="after")
    def check_hours(self) -> Worker:
        """The working day starts before it ends."""
        if self.day_start >= self.day_end:
            raise ValueError(f"worker {self.id}: day_start must be before day_end")
        _check_grid_pair(self.base_easting, self.base_northing, f"worker {self.id}")
        return self


class Absence(DomainModel):
    """A worker unavailable for whole days."""

    worker_id: WorkerId = Field(description="The absent worker.")
    start: Day = Field(description="First day absent.")
    end: Day = Field(description="Last day absent (inclusive).")
    reason: Text = Field(default="leave", description="Leave, sickness, training, court ...")

    @model_validator(mode="after")
    def check_ordered(self) -> Absence:
        """An absence ends on or after its start."""
        if self.end < self.start:
            raise ValueError(f"absence of {self.worker_id}: end before start")
        return self

    def covers(self, day: date) -> bool:
        """True when the worker is away on `day`."""
        return self.start <= day <= self.end

    def overlaps(self, other: Absence) -> bool:
        """True when `other` is an absence of the same worker with a day in common."""
        return (
            self.worker_id == other.worker_id
            and self.start <= other.end
            and other.start <= self.end
        )


class BusyTime(DomainModel):
    """A worker's existing commitment that visits must avoid."""

    worker_id: WorkerId = Field(description="The busy worker.")
    start: Moment = Field(description="Start, with time zone.")
    end: Moment = Field(description="End, with time zone.")


class VisitRecord(DomainModel):
    """What happened at a visit."""

    id: RecordId = Field(description="Unique id of the record.")
    child_id: ChildId = Field(description="The child the record is about.")
    household_id: HouseholdId | None = Field(default=None, description="Where, if at a home.")
    on: Day = Field(description="Date of the visit.")
    start: time | None = Field(default=None, description="Local start time.")
    worker_id: WorkerId | None = Field(default=None, description="Who visited.")
    outcome: Outcome = Field(description="completed (child seen), failed or not-seen.")
    at_home: bool = Field(default=True, description="Seen at home (not school or elsewhere).")
    announced: bool = Field(default=True, description="False for an unannounced visit.")
    seen_alone: bool = Field(default=False, description="The child was seen alone.")
    bedroom_seen: bool = Field(default=False, description="The child's bedroom was seen.")
    seen_awake: bool = Field(default=False, description="A baby was seen awake.")
    visit_id: VisitId | None = Field(default=None, description="The planned visit, if any.")
    worker_role: Role | None = Field(
        default=None,
        description="Role of the visiting worker when the visit was made (history keeps it "
        "after the worker leaves); the worker's current role when absent.",
    )

    def contact(self, role: Role | None) -> Contact:
        """The record as the policy engine sees it."""
        return Contact(
            on=self.on,
            outcome=self.outcome,
            at_home=self.at_home,
            home_id=self.household_id,
            announced=self.announced,
            seen_alone=self.seen_alone,
            bedroom_seen=self.bedroom_seen,
            seen_awake=self.seen_awake,
            role=self.worker_role or role,
            start=self.start,
        )


class Scenario(DomainModel):
    """The whole input of one planning run."""

    schema_version: int = Field(default=SCHEMA_VERSION, description="Scenario format version.")
    authority: Authority = Field(description="The authority and its options.")
    as_of: Day = Field(description="The date the caseload and history are correct to.")
    teams: tuple[Team, ...] = Field(default=(), description="Teams.")
    workers: tuple[Worker, ...] = Field(default=(), description="Workers.")
    households: tuple[Household, ...] = Field(default=(), description="Households.")
    children: tuple[Child, ...] = Field(default=(), description="Open children.")
    absences: tuple[Absence, ...] = Field(default=(), description="Worker absences.")
    busy: tuple[BusyTime, ...] = Field(default=(), description="Workers' calendar commitments.")
    records: tuple[VisitRecord, ...] = Field(default=(), description="Visit history.")

    @model_validator(mode="after")
    def check_unique_ids(self) -> Scenario:
        """Ids are unique within each collection."""
        for label, items in (
            ("team", self.teams),
            ("worker", self.workers),
            ("household", self.households),
            ("child", self.children),
            ("record", self.records),
        ):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ValueError(f"duplicate {label} id {item.id!r}")
                seen.add(item.id)
        return self

    @model_validator(mode="after")
    def check_references(self) -> Scenario:
        """Every id a model refers to exists in the scenario."""
        teams = {t.id for t in self.teams}
        workers = {w.id for w in self.workers}
        homes = {h.id for h in self.households}
        children = {c.id for c in self.children}
        for worker in self.workers:
            if worker.team_id not in teams:
                raise ValueError(f"worker {worker.id}: unknown team {worker.team_id!r}")
        for child in self.children:
            for home in child.household_ids:
                if home not in homes:
                    raise ValueError(f"child {child.id}: unknown household {home!r}")
            if child.allocated_worker and child.allocated_worker not in workers:
                raise ValueError(f"child {child.id}: unknown worker {child.allocated_worker!r}")
        for household in self.households:
            if household.team_id and household.team_id not in teams:
                raise ValueError(f"household {household.id}: unknown team {household.team_id!r}")
        worker_items: tuple[Absence | BusyTime, ...] = (*self.absences, *self.busy)
        for item in worker_items:
            if item.worker_id not in workers:
                raise ValueError(f"absence or busy time: unknown worker {item.worker_id!r}")
        for record in self.records:
            if record.child_id not in children:
                raise ValueError(f"record {record.id}: unknown child {record.child_id!r}")
            # A record's worker may have left, its household may be gone: records are history.
        return self

    def with_busy(self, busy: Iterable[BusyTime]) -> Scenario:
        """This scenario with workers' commitments from elsewhere (their calendars) added;
        those it holds already are not repeated."""
        known = {(b.worker_id, b.start, b.end) for b in self.busy}
        extra = tuple(b for b in busy if (b.worker_id, b.start, b.end) not in known)
        return self.model_copy(update={"busy": (*self.busy, *extra)}) if extra else self


class Requirement(DomainModel):
    """One clock for one child."""

    child_id: ChildId = Field(description="The child.")
    rule_id: RuleId = Field(description="The pack rule that sets the clock.")
    title: str = Field(description="The rule's title.")
    kind: str = Field(description="Rule kind (interval, first_visit, monthly_count, retry ...).")
    clock: str | None = Field(default=None, description="seen, home, unannounced or each_home.")
    due: date = Field(description="Latest date the requirement is met on time.")
    last: date | None = Field(default=None, description="When the clock last reset.")
    household_id: HouseholdId | None = Field(default=None, description="For each-home clocks.")
    count: int | None = Field(default=None, description="Visits still needed this month.")
    overdue_days: int = Field(default=0, description="Days past due as of the as-of date.")
    severity: Severity = Field(
        default="statutory",
        description="statutory (a breach when missed) or practice (a soft target).",
    )
    window: str = Field(description="The rule's window in words.")
    avoid_part_of_day: str | None = Field(
        default=None, description="Retry at a different time of day from the failed attempt."
    )


class ChildDue(DomainModel):
    """A child's requirements and escalations as of a date."""

    child_id: ChildId
    case_ref: str
    category: Category
    allocated_worker: WorkerId | None = None
    requirements: tuple[Requirement, ...] = ()
    escalations: tuple[str, ...] = ()
    next_due: date | None = None
    overdue_days: int = 0


class VisitReason(DomainModel):
    """One requirement a planned visit serves."""

    child_id: ChildId = Field(description="The child.")
    rule_id: RuleId = Field(description="The rule whose clock the visit meets.")
    due: date = Field(description="The deadline the visit meets (or is late for).")
    slack_days: int = Field(description="Days from the visit to the deadline; negative if late.")


class Visit(DomainModel):
    """A planned household visit."""

    id: VisitId = Field(description="Stable id, also the calendar UID's stem.")
    household_id: HouseholdId = Field(description="The household visited.")
    child_ids: tuple[ChildId, ...] = Field(min_length=1, description="Children the visit covers.")
    worker_id: WorkerId = Field(description="The visiting worker.")
    second_worker_id: WorkerId | None = Field(default=None, description="For joint visits.")
    start: Moment = Field(description="Start, with time zone.")
    duration_min: PositiveInt = Field(le=MAX_VISIT_MIN, description="Length in minutes.")
    announced: bool = Field(default=True, description="False for an unannounced visit.")
    checklist: tuple[str, ...] = Field(default=(), description="Content due at the visit.")
    rule_ids: tuple[RuleId, ...] = Field(default=(), description="Rules the visit serves.")
    due: date | None = Field(default=None, description="Earliest deadline the visit serves.")
    reasons: tuple[VisitReason, ...] = Field(
        default=(), description="The requirements the visit serves, with their slack."
    )
    status: VisitStatus = Field(
        default="planned",
        description="planned, awaiting (day passed, no outcome recorded), completed, failed, "
        "not-seen or cancelled.",
    )
    pinned: bool = Field(default=False, description="Fixed by hand: re-plans keep it where it is.")

    @property
    def day(self) -> date:
        """The visit's local date."""
        return self.start.date()

    @property
    def end(self) -> AwareDatetime:
        """End of the visit (arithmetic on an aware datetime; start carries its offset)."""
        return self.start + timedelta(minutes=self.duration_min)


class Breach(DomainModel):
    """A requirement the plan does not meet."""

    child_id: ChildId = Field(description="The child.")
    rule_id: RuleId = Field(description="The rule not met.")
    due: date = Field(description="The deadline.")
    days_late: int | None = Field(
        default=None, description="Days late, or None when not met within the horizon."
    )
    reason: str = Field(description="Why, in words a manager can act on.")
    category: Category | None = None
    severity: Severity = Field(
        default="statutory",
        description="statutory, or practice: a soft target reported apart from breaches.",
    )


class Plan(DomainModel):
    """Visits for a horizon, with the breaches it could not avoid."""

    id: str = Field(description="Plan id.")
    authority: str = Field(description="Policy pack id.")
    start: Day = Field(description="First day of the horizon.")
    end: Day = Field(description="Last day of the horizon (inclusive).")
    lookahead_end: date | None = Field(default=None, description="Last day looked ahead to.")
    seed: NonNegativeInt = Field(default=0, description="Solver seed.")
    visits: tuple[Visit, ...] = Field(default=(), description="Planned visits.")
    breaches: tuple[Breach, ...] = Field(default=(), description="Unavoidable breaches.")
    status: str = Field(default="UNKNOWN", description="Solver status.")
    objective: float | None = None
    bound: float | None = None
    runtime_s: float | None = Field(
        default=None,
        description="Unused: timing is reported on stderr, never in the plan (kept so plans "
        "stored with it still load).",
    )
    safety_net: bool = Field(
        default=False,
        description="A solve was stopped by its wall-clock safety net (a very busy machine): "
        "the plan may differ from one made on a quieter machine.",
    )
    revision: int | None = Field(
        default=None,
        description="The store revision the plan was computed from; a plan replaces the "
        "current one only while the store is still at that revision.",
    )
    assume_missed: bool = Field(
        default=False,
        description="Visits before the start with no recorded outcome were planned as missed "
        "(otherwise as made).",
    )
    team_inputs: dict[str, str] = Field(
        default_factory=dict,
        description="Team group ('+'-joined team ids) -> fingerprint of the inputs its visits "
        "were planned from; a re-plan from the same start keeps a group whose fingerprint is "
        "unchanged without translating it. Empty in plans made before fingerprints existed.",
    )


class LedgerEntry(DomainModel):
    """What was last published for one visit's calendar event."""

    uid: str = Field(description="The event's UID, fixed for the visit's life.")
    worker_id: str = Field(description="Whose calendar holds the event.")
    href: str | None = Field(default=None, description="The event's URL on the CalDAV server.")
    etag: str | None = Field(default=None, description="The server's ETag after our last write.")
    held_by: str | None = Field(
        default=None,
        description="Whose calendar holds the event at `href`: until publishing moves a visit "
        "given to another worker, the old worker's, while `worker_id` names the new one.",
    )
    sequence: NonNegativeInt = Field(default=0, description="The event's SEQUENCE.")
    content_hash: str = Field(description="Hash of the content last published.")
    status: str = Field(default="published", description="published, cancelled or pending.")
    revised_at: datetime | None = Field(
        default=None, description="UTC time of the event's current revision (its DTSTAMP)."
    )
    visit: Visit | None = Field(
        default=None, description="The visit as last revised, to render its cancellation."
    )
