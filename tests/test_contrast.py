"""The contrast card: the signs that best separate a declared metastasis-vs-mimic pair."""

from __future__ import annotations

import math
import shutil

import pytest

from ossdx.advice.contrast import contrast, is_mimic_pair, mimic_pairs
from ossdx.kb import load_knowledge_base
from ossdx.reasoning.cases import load_case, make_case
from ossdx.reasoning.diagnosis import Reasoner

from conftest import KB_DIR, MINI_KB


@pytest.fixture(scope="module")
def paired_mini(tmp_path_factory):
    """The mini KB with alpha declared a mimic of beta (in alpha's YAML)."""
    root = tmp_path_factory.mktemp("paired") / "kb"
    shutil.copytree(MINI_KB, root)
    path = root / "diagnoses" / "alpha.yaml"
    path.write_text(path.read_text().replace("group: malignant\n",
                                             "group: malignant\nmimics: [beta]\n"))
    return Reasoner(load_knowledge_base(root))


def test_pairs_come_from_the_mimics_lists(kb):
    """Every pair is declared by some diagnosis's `mimics:` list, and only those."""
    declared = {frozenset((d.id, m)) for d in kb.diagnoses.values() for m in d.mimics}
    assert mimic_pairs(kb) == declared
    for pair in declared:
        first, second = sorted(pair)
        assert is_mimic_pair(kb, first, second) and is_mimic_pair(kb, second, first)


def test_a_pair_declared_in_yaml_appears(mini_kb, paired_mini):
    """Adding `mimics: [beta]` to alpha's file makes (alpha, beta) a pair, in both orders."""
    assert not is_mimic_pair(mini_kb, "alpha", "beta")
    assert is_mimic_pair(paired_mini.kb, "beta", "alpha")


def test_factors_are_the_likelihood_ratios_of_the_rules(paired_mini):
    """A sign's factor for each diagnosis is the product of the LRs the rules give it."""
    kb = paired_mini.kb
    card = contrast(paired_mini, "alpha", "beta", limit=10)
    signs = {(s.finding, s.value): s for s in (*card.favour_first, *card.favour_second)}
    lytic = signs[("density", "lytic")]
    assert lytic.first_factor == pytest.approx(kb.rule("alpha.lytic").lr)
    assert lytic.second_factor == pytest.approx(1.0)
    sclerotic = signs[("density", "sclerotic")]
    assert sclerotic.second_factor == pytest.approx(kb.rule("beta.sclerotic").lr)
    breach = signs[("cortical_breach", "yes")]  # through the derived concept 'aggressive'
    assert breach.first_factor == pytest.approx(kb.rule("alpha.aggressive").lr)
    assert breach.second_factor == pytest.approx(kb.rule("beta.aggressive").lr)


def test_signs_are_on_the_side_they_favour_strongest_first(paired_mini):
    """Each side holds signs favouring it, sorted by discriminating power, one per finding."""
    card = contrast(paired_mini, "alpha", "beta", limit=10)
    assert card.favour_first and card.favour_second
    assert all(s.ratio >= 1.5 for s in card.favour_first)
    assert all(1 / s.ratio >= 1.5 for s in card.favour_second)
    for side in (card.favour_first, card.favour_second):
        powers = [abs(math.log(s.ratio)) for s in side]
        assert powers == sorted(powers, reverse=True)
        assert len({s.finding for s in side}) == len(side)
    assert card.favour_first[0].finding == "cortical_breach"  # LR 10 for, 1/10 against


def test_factors_agree_with_the_engine_of_record(kb, reasoner):
    """Each sign's factor equals the change in score experta gives when it is entered."""
    case = make_case(kb, {"region": "spine", "density": "lytic"}, modalities=["CT", "MRI"])
    card = contrast(reasoner, "metastasis", "hemangioma", case)
    assert card.favour_first and card.favour_second
    before = {e.id: e.log_score for e in reasoner.diagnose(case).entries}
    for sign in (*card.favour_first, *card.favour_second):
        if sign.modality or sign.finding in case.findings:
            continue
        after_case = case.with_findings({**case.findings, sign.finding: sign.value})
        after = {e.id: e.log_score for e in reasoner.diagnose(after_case).entries}
        assert math.exp(after["metastasis"] - before["metastasis"]) == \
            pytest.approx(sign.first_factor)
        assert math.exp(after["hemangioma"] - before["hemangioma"]) == \
            pytest.approx(sign.second_factor)


def test_entered_signs_are_marked(kb, reasoner):
    """In the enchondroma seed case the entered chondroid matrix is marked as entered."""
    case = load_case(KB_DIR / "cases" / "seed" / "seed-enchondroma-femur.yaml", kb)
    card = contrast(reasoner, "enchondroma", "metastasis", case)
    entered = [s for s in card.favour_first if s.entered]
    assert entered
    assert all(case.findings[s.finding] == s.value for s in entered)


def test_signs_needing_another_study_name_it(kb, reasoner):
    """With only a radiograph, an MRI sign carries the modality that shows it."""
    case = make_case(kb, {"region": "spine"}, modalities=["XR"])
    card = contrast(reasoner, "metastasis", "hemangioma", case, limit=20)
    signs = (*card.favour_first, *card.favour_second)
    mri = [s for s in signs if kb.findings[s.finding].needs == ["MRI"]]
    assert mri and all(s.modality == "MRI" for s in mri)
