"""Fuzzing in CI (fixed seed): every mutated input loads or gives our error with a real
file and line; nothing else escapes."""

from __future__ import annotations

from pathlib import Path

from benchmarks.fuzz import fuzz_cases, fuzz_files, fuzz_kb
from ossdx.core.loader import iter_yaml_files

from conftest import KB_DIR, MINI_KB

N = 1000


def test_fuzzed_knowledge_base_files_never_crash():
    """1,000 mutated KB files: each KB loads or reports problems at a line inside the file."""
    tally = fuzz_kb(MINI_KB, N, seed=11)
    assert tally.tried == N
    assert tally.crashes == []
    assert tally.rejected > N // 2  # most mutations really are mistakes


def test_fuzzed_case_files_never_crash():
    """1,000 mutated case files: each loads or reports problems at a line inside the file."""
    tally = fuzz_cases(KB_DIR, KB_DIR / "cases" / "seed", N, seed=12)
    assert tally.tried == N
    assert tally.crashes == []
    assert tally.rejected > N // 2


def test_fuzzed_response_files_never_crash(kb, tmp_path: Path):
    """1,000 mutated response files: each loads or reports problems at a line inside it."""
    from ossdx.response.assess import load_response_criteria
    from ossdx.response.files import load_response_file

    criteria = load_response_criteria(kb)
    sources = sorted(iter_yaml_files(KB_DIR / "response_cases"))
    tally = fuzz_files(sources, lambda p, name: load_response_file(p, kb, criteria, name=name),
                       N, seed=13, workdir=tmp_path)
    assert tally.tried == N
    assert tally.crashes == []
    assert tally.rejected > N // 2
