"""The cycle collector's pause: nested and concurrent pauses end with it as it was.

Rule: the real `gc` module; every test leaves the collector as it found it.
"""

from __future__ import annotations

import gc
import threading

from scheduler.gc_pause import paused_gc


def test_nested_pauses_restart_the_collector_only_after_the_outermost() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause ended, the outer has not
    assert gc.isenabled()


def test_a_pause_ended_by_an_error_restarts_the_collector() -> None:
    try:
        with paused_gc():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()


def test_a_collector_already_off_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_overlapping_pauses_in_two_threads_leave_the_collector_on() -> None:
    inside, release = threading.Event(), threading.Event()

    def other() -> None:
        with paused_gc():
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=other)
    with paused_gc():
        thread.start()
        assert inside.wait(5)
    assert not gc.isenabled()  # the other thread's pause is still on
    release.set()
    thread.join(5)
    assert gc.isenabled()
