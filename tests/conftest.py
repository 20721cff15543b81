"""Shared fixtures: the shipped knowledge base, the mini test KB, and KB copies to break."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from browser_support import browser, page  # noqa: F401  (fixtures of the browser tests)

from ossdx.kb import KnowledgeBase, load_knowledge_base
from ossdx.reasoning.diagnosis import Reasoner

ROOT = Path(__file__).resolve().parents[1]
# OSSDX_TEST_KB runs the knowledge tests against a working copy of the knowledge base
KB_DIR = Path(os.environ.get("OSSDX_TEST_KB") or ROOT / "knowledge_base")
MINI_KB = Path(__file__).resolve().parent / "fixtures" / "mini_kb"
SEED_CASES = sorted((KB_DIR / "cases" / "seed").glob("*.yaml"))


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base(KB_DIR)


@pytest.fixture(scope="session")
def reasoner(kb: KnowledgeBase) -> Reasoner:
    return Reasoner(kb)


@pytest.fixture(scope="session")
def mini_kb() -> KnowledgeBase:
    return load_knowledge_base(MINI_KB)


@pytest.fixture
def kb_copy(tmp_path: Path):
    """A function that copies a KB folder into tmp_path and returns the copy's path."""

    def make(source: Path = MINI_KB, name: str = "kb") -> Path:
        target = tmp_path / name
        shutil.copytree(source, target)
        return target

    return make
