"""The README opens with two commands that work; CI runs the README's test command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text, flags=re.S)[:2]


def test_readme_opens_with_demo_and_test_commands() -> None:
    """The first command installs and runs the demo; the second installs and runs the tests."""
    demo, tests = readme_commands()
    assert "pip install" in demo
    assert demo.endswith("visitplan demo")
    assert "pip install" in tests
    assert tests.endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    """`.ci/run` calls the README's test command verbatim."""
    _, tests = readme_commands()
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.slow
def test_readme_demo_command_runs(tmp_path: Path) -> None:
    """The demo part of the README's first command runs in a fresh folder and exits 0."""
    demo, _ = readme_commands()
    command = demo.split("&&")[-1].strip()
    assert command == "visitplan demo"
    executable = Path(sys.executable).with_name("visitplan")
    env = {**os.environ, "COLUMNS": "120"}
    env.pop("VISITPLAN_DB", None)
    result = subprocess.run(
        [str(executable), "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Compliance" in result.stdout
    assert (tmp_path / "visitplan.db").exists() or any(tmp_path.iterdir())
