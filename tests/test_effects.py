"""The next-question speed-ups change no answer: the remembered effects of answers, the
re-run of only the rules whose tests changed, and the guard on a work-up without studies."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossdx.advice.questions import QuestionAdvisor, answer_values
from ossdx.kb.case import unmet_requirement
from ossdx.reasoning.cases import make_case
from ossdx.reasoning.inference import PythonEngine, WhatIf

from strategies import cases

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@pytest.fixture(scope="module")
def advisor(reasoner):
    return QuestionAdvisor(reasoner)


def _summary(advice):
    """What a user sees of an advice: the question, why it stops, the test, the ranking."""
    return (advice.question.finding if advice.question else None, advice.stop_reason,
            advice.test.modality if advice.test else None, advice.missing,
            [(q.finding, round(q.gain, 9), round(q.pair_gain, 9), q.partner)
             for q in advice.ranked])


@SETTINGS
@given(data=st.data())
def test_remembered_effects_give_the_same_advice(data, kb, reasoner, advisor):
    """Advice after a sequence of answers is the same whether the advisor remembers the
    effects of earlier answers or computes every one afresh."""
    full = data.draw(cases(kb, max_findings=8))
    fresh = QuestionAdvisor(reasoner)
    fresh.effects.max_entries = 0  # remembers nothing
    answered = {}
    for finding, value in full.findings.items():
        answered[finding] = value
        case = full.with_findings(dict(answered))
        assert _summary(advisor.advise(case)) == _summary(fresh.advise(case))


@SETTINGS
@given(data=st.data())
def test_rerunning_only_changed_tests_equals_a_full_run(data, kb):
    """The trace after one more answer, from re-running only the rules whose tests of it
    changed truth, equals a full run of every rule."""
    case = data.draw(cases(kb, max_findings=10))
    python, whatif = PythonEngine(kb), WhatIf(kb)
    facts = {**{f: v for f, v in case.findings.items()},
             **{f"patient.{k}": v for k, v in case.patient.items()},
             "modalities": kb.vocabulary.expand_modalities(case.modalities)}
    base = python.run(facts)
    open_findings = [f for f in kb.findings if f not in case.findings]
    finding = data.draw(st.sampled_from(open_findings))
    values = [v for v, _ in answer_values(kb.findings[finding])
              if unmet_requirement(kb.vocabulary, finding, {**case.findings, finding: v})
              is None]
    if not values:
        return
    value = data.draw(st.sampled_from(values))
    after = {**facts, finding: value}
    expected = python.run(after)
    flipped = whatif.flips(base, after, frozenset({finding}), facts)
    assert set(base.fired) ^ flipped == set(expected.fired)
    assert whatif.update(base, after, frozenset({finding})) == expected


def test_no_study_means_not_done(kb, advisor):
    """Three answers and no study chosen: the advice never says that nothing could change
    the leader; it says that the studies are missing."""
    case = make_case(kb, {"region": "spine", "vertebral_location": "endplate",
                          "lesion_count": "solitary"}, {}, modalities=[])
    advice = advisor.advise(case)
    assert "modalities" in [m for m, _ in advice.missing]
    assert advice.stop_reason is None or "could change" not in advice.stop_reason
    if advice.question is None:
        assert "stud" in advice.stop_reason


def test_with_studies_and_context_nothing_is_missing(kb, advisor):
    """With the studies chosen and, one by one, each patient field reported missing given,
    nothing is missing any more (a field once given is never asked for again)."""
    patient: dict = {}
    for _ in range(len(advisor.context_fields()) + 1):
        case = make_case(kb, {"region": "spine"}, _nested(patient), modalities=["CT"])
        missing = [m for m, _ in advisor.advise(case).missing]
        assert "modalities" not in missing
        assert not set(missing) & {f"patient.{k}" for k in patient}
        if not missing:
            return
        field = missing[0].removeprefix("patient.")
        patient[field] = next(iter(kb.vocabulary.patient[field].values))
    pytest.fail(f"still missing after every field was given: {missing}")


def _nested(values: dict) -> dict:
    nested: dict = {}
    for key, value in values.items():
        *groups, last = key.split(".")
        target = nested
        for group in groups:
            target = target.setdefault(group, {})
        target[last] = value
    return nested
