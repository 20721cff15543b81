"""The next question: the most informative, relevant to the case, explained; and when to stop."""

from __future__ import annotations

import pytest

from engine.cases import make_case
from engine.questions import QuestionAdvisor, entropy


@pytest.fixture(scope="module")
def advisor(reasoner):
    return QuestionAdvisor(reasoner)


def test_entropy_of_certainty_and_of_a_coin():
    """Entropy is 0 for certainty and 1 bit for a fair coin."""
    assert entropy({"a": 1.0}) == 0
    assert entropy({"a": 0.5, "b": 0.5}) == pytest.approx(1.0)


def test_only_performed_modalities_are_asked(kb, advisor):
    """With only a radiograph, no MRI or PET question is asked."""
    case = make_case(kb, {"region": "long_bone", "density": "lytic"}, modalities=["XR"])
    asked = set(advisor.candidates(case))
    assert "t1_signal" not in asked and "fdg_uptake" not in asked
    assert "matrix" in asked


def test_spine_questions_are_not_asked_for_a_rib(kb, advisor):
    """vertebral_location is asked only for the spine."""
    rib = make_case(kb, {"region": "rib"}, modalities=["CT"])
    spine = make_case(kb, {"region": "spine"}, modalities=["CT"])
    assert "vertebral_location" not in advisor.candidates(rib)
    assert "vertebral_location" in advisor.candidates(spine)


def test_best_question_separates_the_leaders(kb, advisor):
    """For an endplate lesion (Schmorl vs metastasis) the chosen question separates them."""
    case = make_case(kb, {"region": "spine", "vertebral_location": "endplate",
                          "density": "lytic", "fdg_uptake": "moderate"},
                     {"primary": "breast_idc"}, modalities=["CT", "PET_CT", "MRI"])
    advice = advisor.advise(case)
    assert advice.question is not None
    separated = {d for d, _ in advice.question.separates}
    assert {"schmorl_node", "metastasis"} & separated
    assert "schmorl_node" in advice.question.why(kb) or "Schmorl" in advice.question.why(kb)


def test_questions_are_ranked_by_expected_gain(kb, advisor):
    """The ranking is by expected information per question (gain x report rate)."""
    case = make_case(kb, {"region": "spine"}, modalities=["CT", "MRI"])
    ranked = advisor.rank(case)
    values = [q.value for q in ranked]
    assert values == sorted(values, reverse=True)
    assert all(q.gain > 0 and 0 < q.report_rate <= 1 and q.value == q.gain * q.report_rate
               for q in ranked)


def test_stops_when_confident(kb, advisor):
    """When the leader passes the threshold no question is asked, with the reason."""
    case = make_case(kb, {"region": "spine", "endplate_defect_with_disc_contiguity": "yes",
                          "vertebral_location": "endplate", "sclerotic_rim": "yes",
                          "cortical_breach": "no", "soft_tissue_mass": "no"},
                     modalities=["CT"])
    advice = advisor.advise(case)
    assert advice.question is None
    assert "threshold" in advice.stop_reason


def test_next_best_test_for_marrow_lesion(kb, advisor):
    """A lesion invisible on CT, with the CT questions answered: another modality is
    suggested, and it beats every question the CT can still answer."""
    findings = {"region": "spine", "vertebral_location": "central_body",
                "density": "not_visible", "cortical_breach": "no", "soft_tissue_mass": "no",
                "trabecular_pattern": "normal", "sclerotic_rim": "no", "expansile": "no",
                "fracture": "none", "posterior_elements_involved": "no",
                "endplate_defect_with_disc_contiguity": "no", "lesion_count": "solitary"}
    case = make_case(kb, findings, {"primary": "breast_idc"}, modalities=["CT"])
    advice = advisor.advise(case)
    assert advice.test is not None
    assert advice.test.modality in {"MRI", "PET_CT", "bone_scan"}
    best_ct = max((q.gain for q in advice.ranked), default=0.0)
    assert advice.test.gain > best_ct
