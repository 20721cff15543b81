"""The install works on a fresh interpreter: experta imports despite its frozendict pin."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_experta_imports_in_a_fresh_interpreter():
    """Importing the compiler (and so experta 1.9.4 with frozendict 1.2) works on Python 3.11+."""
    code = ("import ossdx.reasoning.compiler, experta, frozendict; "
            "print(experta.__version__, frozendict.__version__ if hasattr(frozendict, "
            "'__version__') else 'ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1.9.4")


def test_experta_import_leaves_root_logger_alone():
    """experta's import-time logging.basicConfig() does not attach a handler for us."""
    code = "import logging, ossdx.reasoning.compiler; print(len(logging.getLogger().handlers))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_installed_requirements_are_consistent():
    """pip check finds no broken requirement (the compatibility fix needs no override)."""
    result = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_console_script_runs():
    """The 'ossdx' entry point answers --version."""
    result = subprocess.run([sys.executable, "-m", "ossdx.cli.main", "--version"],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0
    assert result.stdout.startswith("ossdx ")
