"""The solver's input: a planning problem in integers with units (days, minutes), no dates.

Rule: imports nothing of ours and no calendar library; day 0 is the first day of the window.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, model_validator

GRAIN_MIN = 15
"""Visits start on a 15-minute grain: workers and families book in quarter hours."""


class SolverModel(BaseModel):
    """Base of every solver model: immutable, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Shift(SolverModel):
    """One resource's working day: minutes after local midnight."""

    day: NonNegativeInt = Field(description="Day index in the window.")
    start_min: NonNegativeInt = Field(description="Start of the working day.")
    end_min: PositiveInt = Field(description="End of the working day.")
    busy: tuple[tuple[int, int], ...] = Field(
        default=(), description="Fixed commitments as (start_min, end_min), sorted."
    )

    @property
    def free_min(self) -> int:
        """Minutes of the shift not taken by busy times."""
        taken = sum(max(0, min(e, self.end_min) - max(s, self.start_min)) for s, e in self.busy)
        return self.end_min - self.start_min - taken


class Resource(SolverModel):
    """A worker as the solver sees it."""

    id: str = Field(description="Opaque id, used for deterministic tie-breaks.")
    location: NonNegativeInt = Field(description="Index of the base in the travel matrix.")
    shifts: tuple[Shift, ...] = Field(default=(), description="Working days, by day index.")
    max_visits_per_day: PositiveInt = 4

    def shift(self, day: int) -> Shift | None:
        """The shift on `day`, if the resource works that day."""
        for shift in self.shifts:
            if shift.day == day:
                return shift
        return None


class TaskDay(SolverModel):
    """One day on which a task may be done, and how."""

    day: NonNegativeInt
    duration_min: PositiveInt
    windows: tuple[tuple[int, int], ...] = Field(
        min_length=1, description="Allowed start ranges (earliest_min, latest_min), inclusive."
    )
    resources: tuple[int, ...] = Field(description="Resources that may lead the task.")
    second_resources: tuple[int, ...] = Field(
        default=(), description="Resources that may attend as second (joint tasks)."
    )


class Task(SolverModel):
    """A household to visit: at most one visit a day, on one of its days."""

    id: str
    location: NonNegativeInt = Field(description="Index of the home in the travel matrix.")
    joint: bool = Field(default=False, description="Needs a second resource at the same time.")
    days: tuple[TaskDay, ...] = ()
    preferred_resources: tuple[int, ...] = Field(
        default=(), description="Allocated resources (continuity)."
    )
    first_avoid: tuple[int, int] | None = Field(
        default=None,
        description="Start range [from_min, to_min) the first visit in the horizon avoids.",
    )

    def option(self, day: int) -> TaskDay | None:
        """How the task may be done on `day`, if at all."""
        for option in self.days:
            if option.day == day:
                return option
        return None


class Clock(SolverModel):
    """A deadline that visits to any of `tasks` meet, and that restarts at each visit."""

    id: str
    subject: str = Field(description="Whose clock (a child id), for penalties.")
    tasks: tuple[int, ...] = Field(min_length=1)
    unannounced: bool = Field(default=False, description="Only unannounced visits count.")
    first_due_day: int = Field(description="Latest day of the next visit; negative if overdue.")
    next_due_day: tuple[int, ...] | None = Field(
        default=None,
        description="Per window day d: latest day of the visit after one on d; None: no chain.",
    )
    weight_per_day: PositiveInt = Field(description="Cost of each day late.")
    buffer_days: NonNegativeInt = Field(
        default=0, description="Slack wanted before the first deadline (a retry could fit)."
    )


class Quota(SolverModel):
    """At least `count` visits to any of `tasks` between two days (a monthly count)."""

    id: str
    subject: str
    tasks: tuple[int, ...] = Field(min_length=1)
    first_day: int
    last_day: int
    count: PositiveInt
    unannounced: bool = False
    weight: PositiveInt = Field(description="Cost of each missing visit.")


class Cut(SolverModel):
    """A set of (task, resource) pairs on one day that cannot all be sequenced together."""

    day: NonNegativeInt
    pairs: tuple[tuple[int, int], ...] = Field(min_length=1)


class PreviousVisit(SolverModel):
    """A published visit a re-plan keeps where it is unless moving it avoids a breach."""

    task: NonNegativeInt
    day: NonNegativeInt
    resource: NonNegativeInt | None = Field(
        description="Lead resource; None when the worker is no longer in this problem."
    )
    second_resource: NonNegativeInt | None = None
    start_min: NonNegativeInt = Field(description="Published start, minutes after midnight.")
    duration_min: PositiveInt
    unannounced: bool = False
    pinned: bool = Field(
        default=False,
        description="Fixed by hand: kept (day, lead, second, start, announced) whenever its "
        "workers can still make it, whatever it costs.",
    )


class Problem(SolverModel):
    """Everything one solve needs."""

    horizon_days: PositiveInt = Field(description="Days 0..horizon_days-1 are sequenced.")
    window_days: PositiveInt = Field(description="Days modelled, horizon plus look-ahead.")
    travel_min: tuple[tuple[int, ...], ...] = Field(description="Minutes between locations.")
    resources: tuple[Resource, ...] = ()
    tasks: tuple[Task, ...] = ()
    clocks: tuple[Clock, ...] = ()
    quotas: tuple[Quota, ...] = ()
    cuts: tuple[Cut, ...] = ()
    previous: tuple[PreviousVisit, ...] = Field(
        default=(), description="Published visits in the horizon (re-planning), kept if possible."
    )
    keep_previous: bool = Field(
        default=False,
        description="Re-planning repair: published visits still possible are fixed, not weighed.",
    )
    not_before: tuple[NonNegativeInt, NonNegativeInt] | None = Field(
        default=None,
        description="A plan or re-plan made during the day: (day, minute) before which nothing "
        "is placed but a published visit kept as it is (same day, start and workers); None: no "
        "limit.",
    )

    def placeable(self, day: int, start_min: int) -> bool:
        """Whether a visit that is not a published one kept as it is may start then."""
        if self.not_before is None:
            return True
        first_day, minute = self.not_before
        return day > first_day or (day == first_day and start_min >= minute)

    @model_validator(mode="after")
    def check_horizon_inside_window(self) -> Problem:
        """The sequenced horizon lies inside the modelled window."""
        if self.horizon_days > self.window_days:
            raise ValueError("horizon_days exceeds window_days")
        return self

    @model_validator(mode="after")
    def check_indices(self) -> Problem:
        """Every index points at an existing task, resource, location or day."""
        n_loc, n_res, n_task = len(self.travel_min), len(self.resources), len(self.tasks)
        if any(len(row) != n_loc for row in self.travel_min):
            raise ValueError("travel_min is not square")
        for resource in self.resources:
            if resource.location >= n_loc:
                raise ValueError(f"resource {resource.id}: unknown location")
        for task in self.tasks:
            if task.location >= n_loc:
                raise ValueError(f"task {task.id}: unknown location")
            for option in task.days:
                if option.day >= self.window_days:
                    raise ValueError(f"task {task.id}: day {option.day} outside the window")
                if any(r >= n_res for r in (*option.resources, *option.second_resources)):
                    raise ValueError(f"task {task.id}: unknown resource")
        for clock in self.clocks:
            if any(t >= n_task for t in clock.tasks):
                raise ValueError(f"clock {clock.id}: unknown task")
            if clock.next_due_day is not None and len(clock.next_due_day) != self.window_days:
                raise ValueError(f"clock {clock.id}: next_due_day must cover the window")
        for quota in self.quotas:
            if any(t >= n_task for t in quota.tasks):
                raise ValueError(f"quota {quota.id}: unknown task")
        return self
