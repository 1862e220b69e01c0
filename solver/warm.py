"""A fast greedy first assignment for stage 1, used as CP-SAT's solution hint (warm start).

Rule: a heuristic, never trusted: CP-SAT repairs whatever the hint gets wrong (the energy
cuts, the look-ahead's pooled capacity), and every plan still passes stage 2. Earliest
deadline first over the clocks, each visit as late as its deadline allows (after the retry
buffer for deadlines inside the horizon) on the day, among the last CLUSTER_DAYS before it,
that adds least travel (a detour from a home the worker already visits that day, or a new
worker-day's round trip plus OPEN_DAY_MIN), the allocated worker first; then monthly counts.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from typing import Any

from solver.constraints import nearest_home_min, pool_capacity, pool_load, travel_estimate_min
from solver.problem import Clock, Problem
from solver.variables import Variables

_NEVER = 10**6
CLUSTER_DAYS = 4
"""Days before a deadline the greedy compares, to join a visit to a nearby booking."""
OPEN_DAY_MIN = 10
"""Minutes charged, on top of the round trip, for opening a worker-day with no visit yet."""


class _Load:
    """Visits and minutes booked per resource-day (horizon) and per day (look-ahead pool)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.nearest = nearest_home_min(problem)
        self.count: dict[tuple[int, int], int] = defaultdict(int)
        self.minutes: dict[tuple[int, int], int] = defaultdict(int)
        self.late: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        """(resource, day) -> (earliest start, minutes with travel) of each visit booked."""
        self.pool_count: dict[int, int] = defaultdict(int)
        self.pool_minutes: dict[int, int] = defaultdict(int)
        self.pool_cap = {
            d: pool_capacity(problem, d) for d in range(problem.horizon_days, problem.window_days)
        }

    def cost(self, t: int, d: int, r: int) -> int:
        option = self.problem.tasks[t].option(d)
        assert option is not None
        return option.duration_min + travel_estimate_min(self.problem, t, r, self.nearest)

    def earliest(self, t: int, d: int) -> int:
        option = self.problem.tasks[t].option(d)
        assert option is not None
        return min(lo for lo, _hi in option.windows)

    def fits(self, t: int, d: int, r: int) -> bool:
        """Room for the visit: count, minutes, and (with travel) after each window's start."""
        resource = self.problem.resources[r]
        shift = resource.shift(d)
        assert shift is not None
        cost = self.cost(t, d, r)
        if self.count[r, d] >= resource.max_visits_per_day:
            return False
        if self.minutes[r, d] + cost > shift.free_min:
            return False
        # Visits that cannot start before S must fit between S and the end of the day (as
        # `add_window_energy`, but with travel: two after-school visits rarely fit).
        items = [*self.late[r, d], (self.earliest(t, d), cost)]
        for threshold, _m in items:
            if threshold > shift.start_min:
                load = sum(m for e, m in items if e >= threshold)
                if load > shift.end_min - threshold:
                    return False
        return True

    def book(self, t: int, d: int, r: int) -> None:
        self.count[r, d] += 1
        self.minutes[r, d] += self.cost(t, d, r)
        self.late[r, d].append((self.earliest(t, d), self.cost(t, d, r)))

    def pool_fits(self, t: int, d: int, people: int, minutes: int) -> bool:
        visits, free = self.pool_cap[d]
        return self.pool_count[d] + people <= visits and self.pool_minutes[d] + minutes <= free


class _Greedy:
    def __init__(self, problem: Problem, v: Variables) -> None:
        self.problem = problem
        self.v = v
        self.load = _Load(problem)
        self.lead: dict[tuple[int, int], tuple[int, int | None]] = {}
        self.days: dict[int, list[int]] = defaultdict(list)
        self.unannounced: set[tuple[int, int]] = set()
        self.booked: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.sunk: dict[str, int] = {}
        """Clock id -> day of a late visit: lateness up to it is given up, not chased."""
        self.rank = {
            r: i
            for i, r in enumerate(
                sorted(range(len(problem.resources)), key=lambda r: problem.resources[r].id)
            )
        }

    def extra(self, t: int, d: int, r: int) -> int:
        """Travel a visit adds to r's day: the detour from the nearest home r already visits
        that day, or a round trip from base if r has no visit that day yet."""
        tt = self.problem.travel_min
        home = self.problem.tasks[t].location
        booked = self.booked[r, d]
        if booked:
            return min(
                tt[self.problem.tasks[u].location][home] + tt[home][self.problem.tasks[u].location]
                for u in booked
            )
        base = self.problem.resources[r].location
        return tt[base][home] + tt[home][base] + OPEN_DAY_MIN

    def staff(self, t: int, d: int) -> tuple[tuple[int, int], tuple[int, int | None]] | None:
        """(score, (lead, second)): allocated lead first, then the least added travel."""
        leads, seconds = self.v.staff[t, d]
        preferred = set(self.problem.tasks[t].preferred_resources)
        order = sorted(
            leads,
            key=lambda r: (r not in preferred, self.extra(t, d, r), self.load.count[r, d], r),
        )
        for r in order:
            if not self.load.fits(t, d, r):
                continue
            score = (int(r not in preferred), self.extra(t, d, r))
            if not self.problem.tasks[t].joint:
                return score, (r, None)
            for s in sorted(seconds, key=lambda s: (self.extra(t, d, s), self.rank[s])):
                if s != r and self.load.fits(t, d, s):
                    return score, (r, s)
        return None

    def place(self, t: int, d: int) -> bool:
        """Books a visit of task t on day d if someone has room."""
        if (t, d) in self.lead or (t, d) not in self.v.visit:
            return False
        if d >= self.problem.horizon_days:
            people, minutes = pool_load(self.problem, self.v, t, d, self.load.nearest)
            if not self.load.pool_fits(t, d, people, minutes):
                return False
            self.load.pool_count[d] += people
            self.load.pool_minutes[d] += minutes
            self.lead[t, d] = (self.v.staff[t, d][0][0], None)
        else:
            found = self.staff(t, d)
            if found is None:
                return False
            r, s = who = found[1]
            self.load.book(t, d, r)
            self.booked[r, d].append(t)
            if s is not None:
                self.load.book(t, d, s)
                self.booked[s, d].append(t)
            self.lead[t, d] = who
        self.days[t].append(d)
        return True

    def due(self, clock: Clock) -> int:
        """The clock's next deadline given the visits booked so far (`_NEVER`: none left).

        As stage 1 counts lateness: day e is covered by a visit on d < e whose next deadline
        is on or after e; the next deadline is the day before the first uncovered day (after
        days already given up to a late visit).
        """
        days = sorted(
            d
            for t in clock.tasks
            for d in self.days[t]
            if not clock.unannounced or (t, d) in self.unannounced
        )
        chain = clock.next_due_day
        start = max(0, clock.first_due_day + 1, self.sunk.get(clock.id, -1) + 1)
        for e in range(start, self.problem.window_days + 1):
            if not any(d < e and (chain is None or chain[d] >= e) for d in days):
                return e - 1
        return _NEVER

    def serve(self, clock: Clock, due: int) -> bool:
        """Books (or, for an unannounced clock, converts) a visit on or before `due`."""
        if clock.unannounced:
            booked = [(d, t) for t in clock.tasks for d in self.days[t] if d <= due]
            for d, t in sorted(booked, reverse=True):
                if (t, d) in self.v.unannounced and (t, d) not in self.unannounced:
                    self.unannounced.add((t, d))
                    return True
        latest = min(due, self.problem.window_days - 1)
        if clock.first_due_day == due and clock.buffer_days and due < self.problem.horizon_days:
            # The retry buffer only for deadlines inside the horizon (`penalise_late_visits`).
            latest = max(0, latest - clock.buffer_days)
        # Within the last few days before the deadline, the day (and task) adding least travel
        # (a colleague's visit nearby); then earlier days, latest first; then late days.
        # A deadline past the horizon is met on a look-ahead day, not pulled into the horizon.
        # Earlier days too when the visit's next deadline would still fall past the horizon
        # (no extra visit), so visits join a day the worker is already nearby.
        horizon = self.problem.horizon_days
        chain = clock.next_due_day
        span = [
            (found[0], -d, t)
            for d in range(latest, -1, -1)
            if latest < horizon
            and (d > latest - CLUSTER_DAYS or chain is None or chain[d] >= horizon)
            for t in clock.tasks
            if (t, d) in self.v.visit
            and (t, d) not in self.lead
            and (not clock.unannounced or (t, d) in self.v.unannounced)
            and (found := self.staff(t, d)) is not None
        ]
        if span:
            _score, d, t = min(span)
            if self.place(t, -d):
                if clock.unannounced:
                    self.unannounced.add((t, -d))
                return True
        days = [*range(latest, -1, -1), *range(latest + 1, due + 1)]
        days += list(range(due + 1, self.problem.window_days))
        for d in days:
            for t in clock.tasks:
                if clock.unannounced and (t, d) not in self.v.unannounced:
                    continue
                if self.place(t, d):
                    if clock.unannounced:
                        self.unannounced.add((t, d))
                    if d > due:
                        self.sunk[clock.id] = d
                    return True
        return False

    def run(self) -> None:
        clocks = list(self.problem.clocks)
        heap = [(max(c.first_due_day, 0), -c.weight_per_day, i) for i, c in enumerate(clocks)]
        heapq.heapify(heap)
        while heap:
            due, _w, i = heapq.heappop(heap)
            current = self.due(clocks[i])
            if current >= self.problem.window_days:
                continue
            if current != due:
                heapq.heappush(heap, (current, -clocks[i].weight_per_day, i))
                continue
            if self.serve(clocks[i], current) and self.due(clocks[i]) > current:
                heapq.heappush(heap, (self.due(clocks[i]), -clocks[i].weight_per_day, i))
        for quota in self.problem.quotas:
            inside = range(quota.first_day, quota.last_day + 1)
            have = sum(
                1
                for t in quota.tasks
                for d in self.days[t]
                if d in inside and (not quota.unannounced or (t, d) in self.unannounced)
            )
            for d in reversed(inside):
                if have >= quota.count:
                    break
                for t in quota.tasks:
                    if quota.unannounced and (t, d) not in self.v.unannounced:
                        continue
                    if self.place(t, d):
                        if quota.unannounced:
                            self.unannounced.add((t, d))
                        have += 1
                        break


def greedy_hint(problem: Problem, v: Variables) -> dict[tuple[Any, ...], int]:
    """Hint values for every decision literal, keyed as `_Stage1.all_literals` keys them."""
    greedy = _Greedy(problem, v)
    greedy.run()
    out: dict[tuple[Any, ...], int] = {}
    for key in v.visit:
        out[("visit", *key)] = int(key in greedy.lead)
    for key in v.unannounced:
        out[("unannounced", *key)] = int(key in greedy.unannounced)
    for t, d, r in v.main:
        out[("main", t, d, r)] = int(greedy.lead.get((t, d), (None,))[0] == r)
    for t, d, r in v.second:
        who = greedy.lead.get((t, d))
        out[("second", t, d, r)] = int(who is not None and who[1] == r)
    return out
