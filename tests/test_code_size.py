"""Small modules and short functions: no module over 300 lines, no function over 60, in the
three libraries and suite/ (the bar a newcomer reads the code by)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("driftguard", "schemasense", "datareflex", "suite")
MODULES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_small(module: Path) -> None:
    source = module.read_text()
    assert len(source.splitlines()) <= 300, f"{module.name}: {len(source.splitlines())} lines"
    long = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > 60
    ]
    assert not long, f"{module.name}: {long}"


def test_architecture_names_every_module() -> None:
    """ARCHITECTURE.md's table is how a newcomer finds a step: it names every module."""
    text = (ROOT / "ARCHITECTURE.md").read_text()
    unnamed = [
        str(p.relative_to(ROOT))
        for p in MODULES
        if p.name not in ("__init__.py", "__main__.py") and p.name not in text
    ]
    assert not unnamed, f"ARCHITECTURE.md does not name {unnamed}"
