"""Architecture boundaries hold: the engine is pure, its layers import only downwards, and
each third-party library stays in its one module (docs/ARCHITECTURE.md draws the map)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from conftest import ROOT

ENGINE = sorted((ROOT / "engine").rglob("*.py"))

# What each direct child of the ossdx package may import from ossdx (besides itself).
ALLOWED = {
    "core": set(),
    "kb": {"core"},
    "imaging": {"core"},
    "reasoning": {"core", "kb", "imaging"},
    "advice": {"core", "kb", "reasoning"},
    "response": {"core", "kb", "reasoning"},
    "teaching": {"core", "kb", "reasoning", "advice"},
    "authoring": {"core", "kb", "reasoning", "advice", "response"},
    "cli": {"core", "kb", "imaging", "reasoning", "advice", "response", "teaching",
            "authoring", "ui"},
}


def imports(path: Path) -> list[str]:
    """Absolute module names imported by one file (also inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: use absolute imports (from ossdx.<layer> ...)"
            names.append(node.module)
    return names


def top_levels(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imports(path)}


def layer_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "engine").parts
    return parts[0] if len(parts) > 1 else ""


def layer_imports() -> dict[str, set[str]]:
    """For each layer, the other ossdx layers it imports."""
    used: dict[str, set[str]] = {}
    for path in ENGINE:
        layer = layer_of(path)
        for name in imports(path):
            parts = name.split(".")
            if parts[0] == "ossdx" and len(parts) > 1 and parts[1] != layer:
                used.setdefault(layer, set()).add(parts[1])
    return used


@pytest.mark.parametrize("path", ENGINE, ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_never_imports_a_user_interface(path: Path):
    """No module of engine/ except the CLI imports streamlit or the ui package."""
    assert "streamlit" not in top_levels(path)
    if layer_of(path) != "cli":
        assert not any(name.startswith("ossdx.ui") for name in imports(path))


def test_each_layer_imports_only_the_layers_below_it():
    """core <- kb <- reasoning <- advice/response <- teaching/authoring <- cli."""
    used = layer_imports()
    wrong = {layer: sorted(deps - ALLOWED[layer]) for layer, deps in used.items()
             if layer in ALLOWED and deps - ALLOWED[layer]}
    assert wrong == {}
    assert set(used) - {""} <= set(ALLOWED), "a new layer must be added to ALLOWED and the map"


def test_no_import_cycle_between_the_layers():
    """The graph of imports between the package's direct children has no cycle."""
    graph = nx.DiGraph((layer, dep) for layer, deps in layer_imports().items() if layer
                       for dep in deps)
    assert list(nx.simple_cycles(graph)) == []


def test_the_package_init_is_lazy():
    """Importing the errors, the YAML reader or the knowledge base does not load experta."""
    code = ("import sys, ossdx.core.errors, ossdx.core.loader, ossdx.kb, ossdx.teaching.storage;"
            "print(sorted(m for m in ('experta', 'streamlit', 'ossdx.reasoning.compiler')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT.parent)
    assert out.stdout.strip() == "[]"


def test_only_the_loader_imports_yaml():
    """YAML is read in exactly one place (engine/core/loader.py)."""
    users = [p.relative_to(ROOT).as_posix() for p in ENGINE if "yaml" in top_levels(p)]
    assert users == ["engine/core/loader.py"]


def test_only_the_compat_module_imports_experta():
    """experta is imported only by engine/reasoning/_experta.py (which fixes its import)."""
    users = [p.relative_to(ROOT).as_posix() for p in ENGINE if "experta" in top_levels(p)]
    assert users == ["engine/reasoning/_experta.py"]


def test_only_the_imaging_layer_reads_images():
    """pydicom, the de-identification table and Pillow are used only under engine/imaging/."""
    users = [p.relative_to(ROOT).as_posix() for p in ENGINE
             if top_levels(p) & {"pydicom", "dicomanonymizer", "PIL"}]
    assert users and all(u.startswith("engine/imaging/") for u in users)


def test_cli_code_lives_only_in_the_cli():
    """argparse is used only under engine/cli/."""
    users = [p.relative_to(ROOT).as_posix() for p in ENGINE if "argparse" in top_levels(p)]
    assert users and all(u.startswith("engine/cli/") for u in users)


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
