"""Travel polish after stage 1: drop surplus visits, move visits to days that route shorter.

Rule: only travel improves. A visit is dropped or moved, or two of a worker's visits trade
days, only when no clock's lateness or retry buffer and no monthly count gets worse, the
allocated worker keeps it, and the receiving worker-day still sequences exactly (stage 2);
savings are judged on each worker-day's shortest round trip (no time windows), and stage 2
routes the result exactly; a day with a joint visit is sequenced with the colleagues the
joint visits tie to it. Deterministic: a fixed order and at most `MAX_PASSES` passes, no
clock. Joint visits themselves, visits that must avoid a part of the day and re-plans
(every change there is disruption) are left alone.

Why: stage 1 sees travel only through the zone estimate (solver.travel) and, at the time
limits a weekly plan can afford, stays close to its greedy warm start (docs/performance.md).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import cache

from solver.constraints import nearest_home_min, pool_capacity, pool_load
from solver.params import SolveParams
from solver.problem import Clock, Problem, Quota
from solver.sequence import DayVisit, SafetyNet, sequence_day
from solver.solution import Assignment
from solver.variables import Variables

MAX_PASSES = 3
"""Passes over every visit; a pass that changes nothing ends the polish sooner."""
MAX_ROUTE_STOPS = 7
"""Worker-days with more stops than this are not polished (the route bound is exhaustive)."""


@dataclass
class _State:
    """The assignment being polished, indexed for the moves."""

    problem: Problem
    v: Variables
    params: SolveParams
    first_days: dict[int, int]
    """Task -> day of its first visit in the horizon (fixed: tasks that avoid a part of the
    day on their first visit are never moved, so it does not change)."""
    visits: dict[tuple[int, int], Assignment] = field(default_factory=dict)
    """(task, day) -> the visit, horizon and look-ahead alike."""
    day_of: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    """Task -> days it is visited."""
    route: dict[tuple[int, int], list[int]] = field(default_factory=lambda: defaultdict(list))
    """(resource, day) -> tasks the resource attends that day (horizon only)."""
    clocks_of: dict[int, list[Clock]] = field(default_factory=lambda: defaultdict(list))
    quotas_of: dict[int, list[Quota]] = field(default_factory=lambda: defaultdict(list))


def shortest_round_trip(travel: Sequence[Sequence[int]], base: int, stops: Sequence[int]) -> int:
    """Minutes of the shortest round trip from `base` through every stop, trying every order
    (no time windows); 0 with no stops."""
    if not stops:
        return 0
    return min(
        travel[base][p[0]]
        + sum(travel[a][b] for a, b in itertools.pairwise(p))
        + travel[p[-1]][base]
        for p in itertools.permutations(stops)
    )


def _clock_cost(problem: Problem, clock: Clock, covered: Collection[int], retry_buffer: int) -> int:
    """Stage 1's lateness and retry-buffer cost of one clock for the days that count.

    As `solver.objective` counts them: day e after the deadline is covered by a visit on
    d < e with `next_due_day[d] >= e` (or no chain); each uncovered day up to the window's end
    costs a day late; before the deadline (inside the horizon), each day of the retry buffer
    with no visit yet costs `retry_buffer`.
    """
    days = sorted(covered)
    window, due = problem.window_days, clock.first_due_day
    first = max(0, due - clock.buffer_days + 1)
    cost = 0
    if retry_buffer and due < problem.horizon_days:
        earliest = days[0] if days else window + 1
        # Days e in [first, due] with no visit before e: e <= earliest.
        cost += retry_buffer * max(0, min(due, window, earliest) - first + 1)
    start = max(first, due + 1)
    reach = start - 1
    """Last day covered so far, scanning visits in day order."""
    uncovered = 0
    for d in days:
        end = window if clock.next_due_day is None else min(window, clock.next_due_day[d])
        if d + 1 > reach + 1:
            uncovered += max(0, min(d + 1, window + 1) - max(reach + 1, start))
        reach = max(reach, end)
    uncovered += max(0, window + 1 - max(reach + 1, start))
    return cost + clock.weight_per_day * uncovered


def _quota_short(quota: Quota, covered: Collection[int]) -> int:
    return max(0, quota.count - sum(1 for d in covered if quota.first_day <= d <= quota.last_day))


class Polisher:
    """Holds a stage-1 assignment and improves its travel move by move."""

    def __init__(
        self,
        problem: Problem,
        v: Variables,
        assignments: list[Assignment],
        first_days: dict[int, int],
        params: SolveParams,
        net: SafetyNet | None = None,
    ) -> None:
        self.s = _State(problem, v, params, dict(first_days))
        self.net = net
        for a in assignments:
            self.s.visits[a.task, a.day] = a
            self.s.day_of[a.task].add(a.day)
            if a.day < problem.horizon_days:
                for r in (a.resource, a.second_resource):
                    if r is not None:
                        self.s.route[r, a.day].append(a.task)
        for clock in problem.clocks:
            for t in clock.tasks:
                self.s.clocks_of[t].append(clock)
        for quota in problem.quotas:
            for t in quota.tasks:
                self.s.quotas_of[t].append(quota)
        self.nearest = nearest_home_min(problem)
        self.pool_used: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
        self.pool_cost: dict[tuple[int, int], tuple[int, int]] = {}
        self.pool_cap: dict[int, tuple[int, int]] = {}
        for a in assignments:
            if a.day >= problem.horizon_days:
                self._pool_add(a.task, a.day, 1)

        @cache
        def bound(base: int, stops: tuple[int, ...]) -> int:
            return shortest_round_trip(problem.travel_min, base, stops)

        self._bound = bound

    # -- costs -------------------------------------------------------------------------------

    def _route_bound(self, r: int, tasks: list[int]) -> int:
        problem = self.s.problem
        stops = tuple(sorted(problem.tasks[t].location for t in tasks))
        return self._bound(problem.resources[r].location, stops)

    def _sequences(self, r: int, day: int, tasks: list[int]) -> bool:
        """Whether r's day with `tasks` can be sequenced exactly (stage 2): r alone, or with
        every colleague a joint visit ties to r's day, and theirs in turn."""
        if not tasks:
            return True
        visits = [self._day_visit(t, day, r) for t in tasks]
        joined = any(x.second_resource is not None for x in visits)
        if joined:
            visits = self._tied(day, visits)
        first = {x.task for x in visits if self.s.first_days.get(x.task) == day}
        seq = sequence_day(
            self.s.problem,
            day,
            visits,
            first,
            self.s.params,
            only_resource=None if joined else r,
            net=self.net,
        )
        return seq is not None

    def _day_visit(self, t: int, day: int, r: int | None) -> DayVisit:
        """t's visit on `day` as stage 2 sees it, or, when t has none that day yet (the
        visit being moved in), led by r."""
        a = self.s.visits.get((t, day))
        if a is None:
            if r is None:
                raise ValueError("solver.polish: a visit moved in needs the worker it goes to")
            return DayVisit(t, r)
        return DayVisit(t, a.resource, a.second_resource)

    def _tied(self, day: int, visits: list[DayVisit]) -> list[DayVisit]:
        """`visits` and every visit that day of the colleagues their joint visits share."""
        out = {x.task: x for x in visits}
        people = {p for x in visits for p in x.attendees()}
        todo = sorted(people)
        while todo:
            for t in self.s.route[todo.pop(), day]:
                if t in out:
                    continue
                x = self._day_visit(t, day, None)  # on a route: made that day
                out[t] = x
                for p in x.attendees():
                    if p not in people:
                        people.add(p)
                        todo.append(p)
        return [out[t] for t in sorted(out)]

    def _requirements_hold(self, t: int, old: int, new: int | None) -> bool:
        """Moving t's visit from day `old` to `new` (None: dropped) worsens no clock or count
        (tried on the state and undone)."""
        a = self.s.visits[t, old]
        before = self._standing(t)
        self._apply(t, old, new, a.resource)
        after = self._standing(t)
        if new is None:
            self._restore(a)
        else:
            self._apply(t, new, old, a.resource)
        return all(after[k] <= before[k] for k in before)

    def _counts(self, t: int, d: int, unannounced: bool) -> bool:
        return not unannounced or self.s.visits[t, d].unannounced

    def _covered_list(self, tasks: tuple[int, ...], unannounced: bool) -> list[int]:
        return [
            d for t in tasks for d in sorted(self.s.day_of[t]) if self._counts(t, d, unannounced)
        ]

    # -- moves -------------------------------------------------------------------------------

    def _movable(self, t: int, d: int) -> bool:
        problem = self.s.problem
        task = problem.tasks[t]
        a = self.s.visits[t, d]
        return (
            d < problem.horizon_days
            and not task.joint
            and task.first_avoid is None
            and a.second_resource is None
            and len(self.s.route[a.resource, d]) <= MAX_ROUTE_STOPS
        )

    def _apply(self, t: int, old: int, new: int | None, r: int | None) -> None:
        s = self.s
        horizon = s.problem.horizon_days
        a = s.visits.pop((t, old))
        s.day_of[t].discard(old)
        if old < horizon:
            s.route[a.resource, old].remove(t)
        else:
            self._pool_add(t, old, -1)
        if new is not None and r is not None:
            s.visits[t, new] = a.model_copy(update={"day": new, "resource": r})
            s.day_of[t].add(new)
            if new < horizon:
                s.route[r, new].append(t)
            else:
                self._pool_add(t, new, 1)

    def _pool_load(self, t: int, day: int) -> tuple[int, int]:
        key = (t, day)
        if key not in self.pool_cost:
            self.pool_cost[key] = pool_load(self.s.problem, self.s.v, t, day, self.nearest)
        return self.pool_cost[key]

    def _pool_add(self, t: int, day: int, sign: int) -> None:
        people, minutes = self._pool_load(t, day)
        used = self.pool_used[day]
        self.pool_used[day] = (used[0] + sign * people, used[1] + sign * minutes)

    def _pool_fits(self, t: int, day: int) -> bool:
        people, minutes = self._pool_load(t, day)
        if day not in self.pool_cap:
            self.pool_cap[day] = pool_capacity(self.s.problem, day)
        used, cap = self.pool_used[day], self.pool_cap[day]
        return used[0] + people <= cap[0] and used[1] + minutes <= cap[1]

    def _standing(self, t: int) -> dict[str, int]:
        """Cost of every clock and shortfall of every count that t's visits serve."""
        s = self.s
        retry = s.params.weights.retry_buffer
        out = {}
        for clock in s.clocks_of[t]:
            covered = self._covered_list(clock.tasks, clock.unannounced)
            out["clock " + clock.id] = _clock_cost(s.problem, clock, covered, retry)
        for quota in s.quotas_of[t]:
            covered_list = self._covered_list(quota.tasks, quota.unannounced)
            out["count " + quota.id] = _quota_short(quota, covered_list)
        return out

    def _try_drop(self, t: int, d: int) -> bool:
        """Drops a visit nothing needs (every clock and count is as well off without it), if
        need be bringing one of the household's look-ahead visits earlier in its place."""
        if self._requirements_hold(t, d, None):
            self._apply(t, d, None, None)
            return True
        s = self.s
        horizon = s.problem.horizon_days
        before = self._standing(t)
        # The household's first look-ahead visit, as late as it can still make up for it.
        for later in sorted(x for x in s.day_of[t] if x >= horizon)[:1]:
            a = s.visits[t, later]
            for day in range(later - 1, horizon - 1, -1):
                if not self._open_day(t, day, a.unannounced) or not self._pool_fits(t, day):
                    continue
                dropped = s.visits[t, d]
                self._apply(t, d, None, None)
                self._apply(t, later, day, a.resource)
                after = self._standing(t)
                if all(after[k] <= before[k] for k in before):
                    return True
                self._apply(t, day, later, a.resource)
                self._restore(dropped)
        return False

    def _restore(self, a: Assignment) -> None:
        """Puts a dropped horizon visit back."""
        s = self.s
        s.visits[a.task, a.day] = a
        s.day_of[a.task].add(a.day)
        s.route[a.resource, a.day].append(a.task)

    def _candidates(self, t: int, d: int) -> list[tuple[int, int, int]]:
        """(estimated saving, day, resource) of each place t's visit could move to, best first."""
        s = self.s
        problem = s.problem
        a = s.visits[t, d]
        preferred = problem.tasks[t].preferred_resources
        keep_allocated = a.resource in preferred
        here = [u for u in s.route[a.resource, d] if u != t]
        saving_here = self._route_bound(a.resource, s.route[a.resource, d]) - self._route_bound(
            a.resource, here
        )
        out = []
        for day in range(problem.horizon_days):
            if not self._open_day(t, day, a.unannounced):
                continue  # (t's own day d among them: it has its visit then)
            leads = s.v.staff[t, day][0]
            for r in leads:
                if keep_allocated and r not in preferred:
                    continue
                stops = s.route[r, day]
                resource = problem.resources[r]
                if len(stops) >= min(resource.max_visits_per_day, MAX_ROUTE_STOPS):
                    continue
                added = self._route_bound(r, [*stops, t]) - self._route_bound(r, stops)
                gain = saving_here - added
                if gain > 0:
                    out.append((-gain, day, r))
        return [(-g, day, r) for g, day, r in sorted(out)]

    def _try_move(self, t: int, d: int) -> bool:
        """Moves t's visit on day d to the day (and allowed worker) that saves most travel.

        Savings are judged on the routes' bounds (no time windows); the receiving day must
        sequence exactly, and the final plan is routed exactly by stage 2.
        """
        s = self.s
        for _saving, day, r in self._candidates(t, d):
            if not self._requirements_hold(t, d, day):
                continue
            if not self._sequences(r, day, [*s.route[r, day], t]):
                continue
            self._apply(t, d, day, r)
            return True
        return False

    def _swaps(self, t: int, d: int) -> list[tuple[int, int, int]]:
        """(estimated saving, day, task) of each visit on another day of the same worker that
        t's visit could trade days with, best first: both stay with that worker and both days'
        routes are shorter in sum (two days at their visit cap, say, each with a visit nearer
        the other's households)."""
        s = self.s
        problem = s.problem
        a = s.visits[t, d]
        r = a.resource
        mine = s.route[r, d]
        out = []
        for day in range(problem.horizon_days):
            if not self._fits_day(t, day, r, a.unannounced):
                continue
            theirs = s.route[r, day]
            before = self._route_bound(r, mine) + self._route_bound(r, theirs)
            for u in theirs:
                b = s.visits[u, day]
                if b.resource != r or not self._movable(u, day):
                    continue
                if not self._fits_day(u, d, r, b.unannounced):
                    continue
                after = self._route_bound(r, [*(x for x in mine if x != t), u])
                after += self._route_bound(r, [*(x for x in theirs if x != u), t])
                if before - after > 0:
                    out.append((after - before, day, u))
        return [(-g, day, u) for g, day, u in sorted(out)]

    def _open_day(self, t: int, day: int, unannounced: bool) -> bool:
        """t may be visited that day (unannounced, if its visit is) and has no visit then."""
        s = self.s
        if (t, day) not in s.v.visit or (t, day) in s.visits:
            return False
        return not unannounced or (t, day) in s.v.unannounced

    def _fits_day(self, t: int, day: int, r: int, unannounced: bool) -> bool:
        """`_open_day`, and r may lead t's visit that day."""
        return self._open_day(t, day, unannounced) and r in self.s.v.staff[t, day][0]

    def _try_swap(self, t: int, d: int) -> bool:
        """Trades t's visit on day d with another of the same worker's visits on another day,
        the best saving first, when no clock or count of either gets worse and both days
        still sequence exactly."""
        s = self.s
        r = s.visits[t, d].resource
        for _saving, day, u in self._swaps(t, d):
            before = self._standing(t) | self._standing(u)
            self._apply(t, d, day, r)
            self._apply(u, day, d, r)
            after = self._standing(t) | self._standing(u)
            if all(after[k] <= before[k] for k in before) and all(
                self._sequences(r, x, s.route[r, x]) for x in (d, day)
            ):
                return True
            self._apply(u, d, day, r)
            self._apply(t, day, d, r)
        return False

    def run(self) -> list[Assignment]:
        """Polishes and returns the assignments, in (task, day) order."""
        s = self.s
        if s.problem.previous:
            return [s.visits[k] for k in sorted(s.visits)]
        for _ in range(MAX_PASSES):
            changed = False
            for t, d in sorted(s.visits):
                if (t, d) in s.visits and self._movable(t, d) and self._try_drop(t, d):
                    changed = True
            for t, d in sorted(s.visits):
                if (t, d) in s.visits and self._movable(t, d) and self._try_move(t, d):
                    changed = True
            for t, d in sorted(s.visits):
                if (t, d) in s.visits and self._movable(t, d) and self._try_swap(t, d):
                    changed = True
            if not changed:
                break
        return [s.visits[k] for k in sorted(s.visits)]


def polish(
    problem: Problem,
    v: Variables,
    assignments: list[Assignment],
    first_days: dict[int, int],
    params: SolveParams,
    net: SafetyNet | None = None,
) -> list[Assignment]:
    """The assignments with less travel and nothing else worse (see the module's rule);
    `net` records a day sequencing stopped by its wall-clock safety net."""
    return Polisher(problem, v, assignments, first_days, params, net).run()
