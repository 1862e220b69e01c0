"""The import rule of DESIGN.md section 2, checked on the source: each package's allowed imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {"policies", "scheduler", "solver", "integrations"}
FORBIDDEN = {
    "policies": OURS - {"policies"} | {"holidays", "ortools", "caldav", "icalendar", "sqlalchemy"},
    "solver": OURS - {"solver"} | {"holidays", "caldav", "icalendar", "sqlalchemy"},
    "integrations": {"solver", "policies"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_it_may(package: str) -> None:
    """policies imports nothing of ours; solver only CP-SAT; integrations not solver/policies."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("package", sorted(OURS))
def test_every_module_has_a_docstring(package: str) -> None:
    """Every module opens with a docstring saying what it owns."""
    missing = [
        str(path.relative_to(ROOT))
        for path in (ROOT / package).rglob("*.py")
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert missing == []
