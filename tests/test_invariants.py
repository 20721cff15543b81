"""Invariants of the scoring model, as properties over generated cases."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ossdx.kb.build as build
from ossdx.kb import Kind, load_knowledge_base
from ossdx.reasoning.diagnosis import Reasoner

from conftest import KB_DIR, ROOT
from strategies import cases, value_strategy

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
SCHMORL = KB_DIR / "cases" / "seed" / "seed-schmorl-l4.yaml"


@SETTINGS
@given(data=st.data())
def test_probabilities_are_a_distribution(data, kb, reasoner):
    """Every probability is in [0, 1] and they sum to 1."""
    entries = reasoner.diagnose(data.draw(cases(kb))).entries
    assert all(0.0 <= e.probability <= 1.0 for e in entries)
    assert math.isclose(sum(e.probability for e in entries), 1.0, abs_tol=1e-9)


@SETTINGS
@given(data=st.data())
def test_a_finding_that_only_supports_x_never_lowers_x(data, kb, reasoner):
    """If adding a finding only makes rules for X fire (none stop), P(X) does not drop."""
    case = data.draw(cases(kb, max_findings=8))
    finding = data.draw(st.sampled_from(sorted(set(kb.findings) - set(case.findings))))
    value = data.draw(value_strategy(kb.findings[finding]))
    more = case.with_findings({**case.findings, finding: value})
    before, after = reasoner.trace(case, fast=True), reasoner.trace(more, fast=True)
    gained = set(after.fired) - set(before.fired)
    lost = set(before.fired) - set(after.fired)
    scoring = [kb.rule(r) for r in gained if kb.rule(r).kind in (Kind.PRIOR, Kind.EVIDENCE)]
    targets = {r.target for r in scoring}
    if lost or len(targets) != 1 or any(r.lr <= 1 for r in scoring):
        return  # the premise does not hold for this draw
    (x,) = targets
    p_before = reasoner.diagnose(case).entry(x).probability
    p_after = reasoner.diagnose(more).entry(x).probability
    assert p_after >= p_before - 1e-12


@SETTINGS
@given(data=st.data())
def test_entries_above_other_cite_their_basis(data, kb, reasoner):
    """Every entry ranked above 'other' cites a fired rule with a reference, and every
    evidence rule it cites names the findings that fired it."""
    differential = reasoner.diagnose(data.draw(cases(kb)))
    for entry in differential.entries:
        if entry.id == kb.other:
            break
        reasons = [*entry.prior_factors, *entry.evidence_for, *entry.evidence_against]
        assert reasons, f"{entry.id} is above 'other' with no fired rule"
        assert all(r.references for r in reasons)
        assert all(r.findings for r in [*entry.evidence_for, *entry.evidence_against])


def diagnose_json(kb_dir: Path, case: Path) -> str:
    reasoner = Reasoner(load_knowledge_base(kb_dir))
    from ossdx.reasoning.cases import load_case

    return json.dumps(reasoner.diagnose(load_case(case, reasoner.kb)).as_dict(),
                      sort_keys=True)


def test_same_json_when_kb_files_are_read_in_another_order(monkeypatch):
    """Reading the KB's files in reverse order gives byte-identical JSON."""
    forward = diagnose_json(KB_DIR, SCHMORL)
    original = build.iter_yaml_files
    monkeypatch.setattr(build, "iter_yaml_files", lambda root: reversed(list(original(root))))
    assert diagnose_json(KB_DIR, SCHMORL) == forward


@pytest.mark.parametrize("hash_seed", ["1", "4242"])
def test_same_json_across_processes_and_hash_seeds(hash_seed):
    """Two interpreters with different hash seeds print byte-identical JSON."""
    outputs = []
    for seed in ("0", hash_seed):
        result = subprocess.run(
            [sys.executable, "-m", "ossdx.cli.main", "diagnose", str(SCHMORL), "--json"],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
    assert outputs[0] == outputs[1]
