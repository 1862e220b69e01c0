"""A plan stopped with Ctrl-C, or by a planning process dying, ends in words and exit 1."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
import typer

from scheduler.cli.output import handled

VISITPLAN = str(Path(sys.executable).with_name("visitplan"))
TODAY, START = "2026-12-02", "2026-12-07"


@pytest.mark.parametrize(
    ("raised", "words"),
    [
        pytest.param(KeyboardInterrupt(), "stopped (Ctrl-C)", id="ctrl-c"),
        pytest.param(BrokenProcessPool("gone"), "a planning process stopped", id="pool"),
    ],
)
def test_an_interruption_is_a_message_and_exit_1(
    raised: BaseException, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C reaches the planning processes too; either way the user reads what happened."""
    with pytest.raises(typer.Exit) as caught, handled():
        raise raised
    assert caught.value.exit_code == 1
    err = " ".join(capsys.readouterr().err.split())
    assert words in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def five_teams(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stored authority of five teams (so `plan` runs a pool of processes)."""
    folder = tmp_path_factory.mktemp("interrupted")
    env = {**os.environ, "VISITPLAN_TODAY": TODAY}
    scenario, db = folder / "scenario.json", folder / "base.db"
    for args in (
        ["generate", "--size", "M", "--children", "500", "--start", START, "-o", str(scenario)],
        ["load", str(scenario), "--db", str(db)],
    ):
        subprocess.run([VISITPLAN, *args], env=env, check=True, capture_output=True, timeout=120)
    return db


@pytest.mark.slow
@pytest.mark.parametrize("after", ["team 1 of", "team 4 of"], ids=["all-busy", "one-idle"])
def test_ctrl_c_ends_the_real_command_in_words(
    five_teams: Path, tmp_path: Path, after: str
) -> None:
    """Ctrl-C to the command's process group while its planning processes work (or one waits
    for work): the command says so and ends with exit 1 within seconds, with no traceback
    (Python 3.11's pool could hang at exit or print one), and the store has no plan."""
    db = tmp_path / "visits.db"
    shutil.copy(five_teams, db)
    command = [VISITPLAN, "plan", "--start", START, "--weeks", "2", "--db", str(db), "--verbose"]
    env = {**os.environ, "VISITPLAN_TODAY": TODAY}
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if after in line:
            break
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        pytest.fail("the command hung after Ctrl-C")
    err = "".join(seen) + process.stderr.read()
    assert process.returncode == 1, err
    assert "stopped (Ctrl-C)" in " ".join(err.split())
    assert "Traceback" not in err
    assert "Exception" not in err
    assert "leaked" not in err, "no resource tracker's warning either"
    from scheduler.store import Store

    with Store(f"sqlite:///{db}") as store:
        assert store.current_plan() is None


_INTERRUPTED_CLEANUP = """
import _multiprocessing
from multiprocessing import util
from scheduler.planning import process_pool

pool = process_pool(1)
pool.submit(int, "1").result()
calls = pool._call_queue
name = calls._rlock._semlock.name
pool.shutdown()
# What Ctrl-C can leave behind in Python 3.11: the semaphore unlinked, the tracker not told.
_multiprocessing.sem_unlink(name)
for finaliser in list(util._finalizer_registry.values()):
    finaliser.cancel()
"""


def test_the_resource_trackers_warning_never_reaches_the_user() -> None:
    """The pool's resource tracker still cleans up, but its developer warning about a
    semaphore it finds already gone is not printed on the manager's screen."""
    done = subprocess.run(
        [sys.executable, "-c", _INTERRUPTED_CLEANUP], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "leaked" not in done.stderr
    assert "resource_tracker" not in done.stderr
