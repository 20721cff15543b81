"""Hypothesis strategies that generate valid cases from a knowledge base's vocabulary."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ossdx.kb.case import Case, infer_modalities, unmet_requirement
from ossdx.kb.model import KnowledgeBase


def value_strategy(spec: Any) -> st.SearchStrategy[Any]:
    if spec.type in ("number", "integer"):
        low, high = spec.range
        edges = sorted({low, high, *spec.bins})
        return st.sampled_from(edges) | st.floats(min_value=low, max_value=high,
                                                  allow_nan=False, allow_infinity=False)
    return st.sampled_from(sorted(spec.values))


@st.composite
def cases(draw: Any, kb: KnowledgeBase, max_findings: int = 12) -> Case:
    """A valid case: a random subset of findings with random allowed values."""
    ids = draw(st.lists(st.sampled_from(sorted(kb.findings)), unique=True,
                        max_size=max_findings))
    findings: dict[str, Any] = {}
    for finding in ids:
        value = draw(value_strategy(kb.findings[finding]))
        if unmet_requirement(kb.vocabulary, finding, {**findings, finding: value}) is None:
            findings[finding] = value
    # drop any finding whose requirement a later finding contradicted
    findings = {f: v for f, v in findings.items()
                if unmet_requirement(kb.vocabulary, f, findings) is None}
    patient: dict[str, Any] = {}
    if draw(st.booleans()):
        patient["patient.primary"] = draw(st.sampled_from(
            sorted(kb.vocabulary.patient["primary"].values)))
    if draw(st.booleans()):
        patient["patient.age"] = draw(st.integers(min_value=18, max_value=95))
    if draw(st.booleans()):
        patient["patient.known_bone_metastases"] = draw(st.sampled_from(["yes", "no"]))
    if draw(st.booleans()):
        patient["patient.treatment"] = frozenset(draw(st.lists(st.sampled_from(
            sorted(kb.vocabulary.patient["treatment"].values)), min_size=1, max_size=3)))
    patient = {k[len("patient."):]: v for k, v in patient.items()}
    return Case(findings=findings, patient=patient,
                modalities=infer_modalities(findings, kb.vocabulary))
