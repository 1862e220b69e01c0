"""A plan stopped with Ctrl-C, or by a planning process dying, ends in words and exit 1."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

import pytest
import typer

from scheduler.cli.output import handled


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
