"""Each lesion the seed exhibit asks its reader to diagnose leads with its proven diagnosis."""

from __future__ import annotations

import pytest

from ossdx.reasoning.cases import load_case

from conftest import SEED_CASES


def test_there_is_a_case_for_every_seed_lesion():
    """The exhibit's teaching cases are all present (at least 20 lesions)."""
    assert len(SEED_CASES) >= 20


@pytest.mark.parametrize("path", SEED_CASES, ids=lambda p: p.stem)
def test_seed_case_leader_is_its_truth(path, kb, reasoner):
    """The top-ranked diagnosis is the case's truth (or an accepted alternative)."""
    case = load_case(path, kb)
    assert case.truth is not None
    leader = reasoner.diagnose(case).leader.id
    assert leader == case.truth or leader in case.acceptable


@pytest.mark.parametrize("path", SEED_CASES, ids=lambda p: p.stem)
def test_seed_case_leader_is_explained(path, kb, reasoner):
    """The leader cites at least one fired rule with the findings it used and a reference."""
    leader = reasoner.diagnose(load_case(path, kb)).leader
    reasons = [*leader.evidence_for, *leader.prior_factors]
    assert reasons
    assert all(r.references for r in reasons)
    assert any(r.findings for r in leader.evidence_for)


def test_seed_quizzes_have_their_answers(kb):
    """The exhibit's two quick quizzes are in the KB with the answers it gives."""
    assert kb.quizzes["seed.quiz.destruction_pattern"].answer == "D"
    assert kb.quizzes["seed.quiz.destruction_pattern"].options["D"] == "All of the above"
    assert kb.quizzes["seed.quiz.sre"].answer == "D"
    assert kb.quizzes["seed.quiz.sre"].options["D"] == "Bone pain"
