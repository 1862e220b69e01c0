"""Test helpers for determinism under load: busy-loop processes on every core, and a
wall-clock safety net so tight that any solve meets it (real solves, really stopped)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest

import solver.params

_F = TypeVar("_F", bound=Callable[..., Any])


@contextmanager
def busy_cores(count: int = 2) -> Iterator[None]:
    """`count` processes spinning in a busy loop (the machine's other work) while inside."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def with_tight_safety_net(monkeypatch: pytest.MonkeyPatch, fn: _F) -> _F:
    """`fn`, made to run with a safety net of a microsecond: every CP-SAT solve inside
    it is stopped by the net (in this process only; a process pool's workers keep the real
    net). Everything outside `fn` keeps the real net."""

    def tight(*args: Any, **kwargs: Any) -> Any:
        with monkeypatch.context() as m:
            m.setattr(solver.params, "SAFETY_NET_MIN_S", 1e-6)
            m.setattr(solver.params, "SAFETY_NET_FACTOR", 0)
            return fn(*args, **kwargs)

    return tight  # type: ignore[return-value]
