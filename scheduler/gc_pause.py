"""Cyclic garbage collection held off while a bulk read or computation builds many objects.

Rule: reference counting still frees everything as usual; only the cycle collector's passes
over the whole heap (which grow with an L authority's 40,000 objects, a third of a second
on a cold read) wait until the outermost pause ends. Nested and concurrent pauses count.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = True


@contextmanager
def paused_gc() -> Iterator[None]:
    """Hold off the cycle collector for the block; it runs again once every pause has ended
    (and only if it was on when the first began)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
