"""The scripts under studies/ and benchmarks/ run outside the test suite, so a name they import
from the package and that the package no longer has would surface only when someone runs them.
Every ``from methods... / analysis... import name`` in them must resolve."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("methods", "analysis")
SCRIPTS = sorted(p for folder in ("studies", "benchmarks") for p in (ROOT / folder).rglob("*.py"))


def package_imports(path: Path) -> list[tuple[str, str, int]]:
    """(module, name, line) of every ``from <package>... import name`` in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [(node.module, alias.name, node.lineno) for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
            and node.module.split(".")[0] in PACKAGES for alias in node.names]  # fmt: skip


def test_there_are_scripts_to_check():
    assert any(package_imports(path) for path in SCRIPTS)


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_script_imports_resolve(path):
    missing = []
    for module, name, line in package_imports(path):
        if hasattr(importlib.import_module(module), name):
            continue
        try:
            importlib.import_module(f"{module}.{name}")  # a submodule
        except ModuleNotFoundError:
            missing.append(f"line {line}: {module}.{name}")
    assert not missing, f"{path.relative_to(ROOT)} imports names that do not exist: {missing}"
