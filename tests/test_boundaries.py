"""Architecture boundaries hold: the engine is pure and each library stays in its module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

ENGINE = sorted((ROOT / "engine").rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_a_user_interface(path: Path):
    """No module of engine/ imports streamlit or the ui package."""
    assert not imported_modules(path) & {"streamlit", "ui"}


def test_only_the_loader_imports_yaml():
    """YAML is read in exactly one place (engine/loader.py)."""
    users = [p.relative_to(ROOT).as_posix() for p in ENGINE if "yaml" in imported_modules(p)]
    assert users == ["engine/loader.py"]


def test_only_the_compat_module_imports_experta():
    """experta is imported only by engine/_experta.py (which fixes its import)."""
    users = [p.relative_to(ROOT).as_posix() for p in ENGINE if "experta" in imported_modules(p)]
    assert users == ["engine/_experta.py"]


def test_no_unsafe_yaml_loading_anywhere():
    """No yaml.load(, unsafe_load or full_load in the source tree."""
    offenders = []
    for path in [*ROOT.glob("*.py"), *(ROOT / "engine").rglob("*.py"), *(ROOT / "ui").rglob("*.py"),
                 *(ROOT / "benchmarks").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        for needle in ("yaml.load(", "unsafe_load", "full_load"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []
