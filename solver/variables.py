"""Stage-1 decision variables: which resource visits which task on which day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from solver.problem import GRAIN_MIN, Problem, Shift, TaskDay

Derivation = Callable[[Callable[[cp_model.IntVar], int]], tuple[int, ...]]
"""Values of auxiliary variables given a lookup of the decision literals' hinted values."""
FALLBACKS = 6
"""Colleagues besides the allocated worker who get lead variables for a household: the
nearest by travel from their base (ties by id); one more when no allocated worker is in the
team. With the school-term and both-homes rules, 2 cost 21 more breaches on generated M
(143 against 122), 4 cost 8, 6 none: breaches come first (docs/decisions.md)."""


@dataclass
class Variables:
    """The stage-1 variables, keyed by indices; built in a fixed order for determinism."""

    visit: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    """(task, day) -> the task is visited that day."""
    main: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    """(task, day, resource) -> the resource leads that visit."""
    second: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)
    """(task, day, resource) -> the resource attends that joint visit as second."""
    unannounced: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    """(task, day) -> the visit that day is unannounced."""
    join: dict[tuple[int, int, int, int], cp_model.IntVar] = field(default_factory=dict)
    """(task, joined task, day, resource) -> the visit joins the other's round trip
    (solver.travel); auxiliary, but re-solved with either task's neighbourhood."""
    staff: dict[tuple[int, int], tuple[tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=dict
    )
    """(task, day) -> (resources that could lead it, resources that could be second)."""

    derived: list[tuple[tuple[cp_model.IntVar, ...], Derivation]] = field(
        default_factory=list, repr=False
    )
    """Auxiliary variables with their values as a function of the decision literals' values
    (so a hint can be completed: `complete_hint`)."""
    _by_task: dict[bool, dict[int, list[tuple[int, cp_model.IntVar]]]] = field(
        default_factory=dict, repr=False
    )

    def visit_by_task(self) -> dict[int, list[tuple[int, cp_model.IntVar]]]:
        """Task -> (day, visit literal) in day order (built once, after the variables)."""
        return self._index(unannounced=False)

    def unannounced_by_task(self) -> dict[int, list[tuple[int, cp_model.IntVar]]]:
        """Task -> (day, unannounced literal) in day order (built once)."""
        return self._index(unannounced=True)

    def _index(self, unannounced: bool) -> dict[int, list[tuple[int, cp_model.IntVar]]]:
        if unannounced not in self._by_task:
            out: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
            for (t, d), lit in sorted((self.unannounced if unannounced else self.visit).items()):
                out[t].append((d, lit))
            self._by_task[unannounced] = dict(out)
        return self._by_task[unannounced]

    def derive(
        self, var: cp_model.IntVar, value: Callable[[Callable[[cp_model.IntVar], int]], int]
    ) -> None:
        """Records an auxiliary variable's value given a lookup of literal values."""
        self.derived.append(((var,), lambda lookup: (value(lookup),)))

    def derive_all(self, variables: tuple[cp_model.IntVar, ...], values: Derivation) -> None:
        """Records several auxiliary variables decided together (in order) from the literals."""
        self.derived.append((variables, values))

    def attends(self, task: int, day: int, resource: int) -> list[cp_model.IntVar]:
        """Literals true when `resource` is at `task`'s visit on `day` (lead or second)."""
        out = []
        if (task, day, resource) in self.main:
            out.append(self.main[task, day, resource])
        if (task, day, resource) in self.second:
            out.append(self.second[task, day, resource])
        return out


def can_visit_alone(problem: Problem, task: int, day: int, resource: int) -> bool:
    """Whether `resource` could make this one visit on `day`: grain, window, travel, busy."""
    option = problem.tasks[task].option(day)
    shift = problem.resources[resource].shift(day)
    if option is None or shift is None:
        return False
    return _fits_alone(problem, task, option, resource, shift)


def _fits_alone(problem: Problem, task: int, option: TaskDay, resource: int, shift: Shift) -> bool:
    base, home = problem.resources[resource].location, problem.tasks[task].location
    earliest = shift.start_min + problem.travel_min[base][home]
    latest = shift.end_min - problem.travel_min[home][base] - option.duration_min
    for lo, hi in option.windows:
        start = -(-max(lo, earliest) // GRAIN_MIN) * GRAIN_MIN
        while start <= min(hi, latest):
            end = start + option.duration_min
            if not any(s < end and start < e for s, e in shift.busy):
                return True
            start += GRAIN_MIN
    return False


def add_hints(model: cp_model.CpModel, items: Iterable[tuple[cp_model.IntVar, int]]) -> None:
    """`model.add_hint` for many variables at once: the same hint, appended in the same
    order, with one call into the solver's bindings instead of two per variable."""
    indices: list[int] = []
    values: list[int] = []
    for var, x in items:
        i = var.index
        if i >= 0:
            indices.append(i)
            values.append(int(x))
        else:  # a negated literal: hint its variable the other way
            indices.append(-i - 1)
            values.append(int(not x))
    model.proto.solution_hint.vars.extend(indices)
    model.proto.solution_hint.values.extend(values)


def complete_hint(model: cp_model.CpModel, v: Variables) -> None:
    """Hints every auxiliary variable from the hinted decision literals (unhinted ones count
    as 0), so CP-SAT starts from a complete solution instead of searching for the rest."""
    hint = model.proto.solution_hint
    values = dict(zip(hint.vars, hint.values, strict=True))
    hinted = set(values)
    # The derivations read the decision literals many times each; `index` is a call into the
    # solver's bindings, so look them up by object first (the same value either way).
    known = {
        id(lit): int(values.get(lit.index, 0))
        for store in (v.visit, v.main, v.second, v.unannounced)
        for lit in store.values()
    }

    def value(lit: cp_model.IntVar) -> int:
        found = known.get(id(lit))
        return int(values.get(lit.index, 0)) if found is None else found

    add_hints(
        model,
        (
            pair
            for variables, of in v.derived
            if variables[0].index not in hinted
            for pair in zip(variables, of(value), strict=True)
        ),
    )


def candidates(problem: Problem) -> list[tuple[int, ...]]:
    """Per task, the resources that get lead variables besides a day's rescue (`FALLBACKS`):
    the allocated resources first, then the nearest other eligible ones by travel from base."""
    rank = {r: i for i, r in enumerate(sorted(range(len(problem.resources)), key=_id_of(problem)))}
    out = []
    for task in problem.tasks:
        preferred = tuple(task.preferred_resources)
        eligible = sorted({r for o in task.days for r in o.resources} - set(preferred))
        home = task.location
        eligible.sort(
            key=lambda r: (problem.travel_min[problem.resources[r].location][home], rank[r])
        )
        extra = FALLBACKS if preferred else FALLBACKS + 1
        out.append(preferred + tuple(eligible[:extra]))
    return out


def _id_of(problem: Problem) -> Callable[[int], str]:
    return lambda r: problem.resources[r].id


def make_variables(model: cp_model.CpModel, problem: Problem) -> Variables:
    """Creates the visit, lead, second and unannounced variables.

    Leads are the task's `candidates` (allocated first, then `FALLBACKS` nearest colleagues)
    that can make the visit that day; on a day none of them can, the nearest who can
    (a rescue), so every day a visit was possible stays possible. Seconds of joint visits
    likewise, from the non-students who may attend.

    Look-ahead days (from `horizon_days`) are coarse: a visit there has no lead or second
    variable, only the day; the team's pooled capacity bounds it (`add_worker_day_capacity`).
    That keeps deadlines just past the horizon in view at a third of the model's size.
    """
    variables = Variables()
    unannounced_tasks = {t for c in problem.clocks if c.unannounced for t in c.tasks} | {
        t for q in problem.quotas if q.unannounced for t in q.tasks
    }
    shifts = {(r, s.day): s for r, res in enumerate(problem.resources) for s in res.shifts}
    chosen = candidates(problem)
    rank = {r: i for i, r in enumerate(sorted(range(len(problem.resources)), key=_id_of(problem)))}

    seen: dict[tuple[Any, ...], bool] = {}

    def able(t: int, option: TaskDay, r: int) -> bool:
        shift = shifts.get((r, option.day))
        if shift is None:
            return False
        # Workers of a team share a base and hours: judge each combination once.
        key = (
            problem.resources[r].location,
            problem.tasks[t].location,
            shift.start_min,
            shift.end_min,
            shift.busy,
            option.duration_min,
            option.windows,
        )
        if key not in seen:
            seen[key] = _fits_alone(problem, t, option, r, shift)
        return seen[key]

    def pick(t: int, option: TaskDay, pool: tuple[int, ...], wanted: int) -> list[int]:
        """The candidates in `pool` who can make it, or the nearest `wanted` who can."""
        mine = [r for r in chosen[t] if r in pool and able(t, option, r)]
        if len(mine) >= wanted:
            return mine
        home = problem.tasks[t].location
        rest = sorted(
            (r for r in pool if r not in mine and able(t, option, r)),
            key=lambda r: (problem.travel_min[problem.resources[r].location][home], rank[r]),
        )
        return mine + rest[: wanted - len(mine)]

    for t, task in enumerate(problem.tasks):
        for option in task.days:
            d = option.day
            leads = pick(t, option, option.resources, 1)
            if not leads:
                continue
            seconds = pick(t, option, option.second_resources, 2) if task.joint else []
            if task.joint and not [r for r in seconds if r != leads[0] or len(leads) > 1]:
                continue
            variables.visit[t, d] = model.new_bool_var(f"visit_t{t}_d{d}")
            variables.staff[t, d] = (tuple(leads), tuple(seconds))
            if t in unannounced_tasks:
                variables.unannounced[t, d] = model.new_bool_var(f"unann_t{t}_d{d}")
            if d >= problem.horizon_days:
                continue
            for r in leads:
                variables.main[t, d, r] = model.new_bool_var(f"main_t{t}_d{d}_r{r}")
            for r in seconds:
                variables.second[t, d, r] = model.new_bool_var(f"second_t{t}_d{d}_r{r}")
    return variables
