"""Answering, changing or withdrawing answers gives exactly what a fresh run gives, and the
incremental what-if evaluator agrees with full runs of both engines."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossdx.advice.workup import Workup
from ossdx.kb.case import Case, infer_modalities, unmet_requirement
from ossdx.reasoning.inference import WhatIf

from strategies import cases, value_strategy

SETTINGS = settings(max_examples=80, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


@SETTINGS
@given(data=st.data())
def test_whatif_update_equals_full_run(data, kb, reasoner):
    """Changing or removing one finding: the cone re-run equals a full run (both engines)."""
    whatif = WhatIf(kb)
    case = data.draw(cases(kb))
    facts = reasoner.facts(case)
    base = reasoner.python.run(facts)
    if case.findings and data.draw(st.booleans()):  # withdraw an answer
        finding = data.draw(st.sampled_from(sorted(case.findings)))
        new_facts = {k: v for k, v in facts.items() if k != finding}
    else:  # give or change one
        finding = data.draw(st.sampled_from(sorted(kb.findings)))
        new_facts = {**facts, finding: data.draw(value_strategy(kb.findings[finding]))}
    incremental = whatif.update(base, new_facts, frozenset({finding}))
    assert incremental == reasoner.python.run(new_facts)
    assert incremental == reasoner.experta.run(new_facts)


@SETTINGS
@given(data=st.data())
def test_answer_sequences_match_a_fresh_run(data, kb, reasoner):
    """Any sequence of answers, changes, withdrawals and 'not assessed' ends where a fresh
    run with the remaining answers starts."""
    target = data.draw(cases(kb, max_findings=8))
    workup = Workup(patient=target.patient, modalities=infer_modalities(target.findings,
                                                                        kb.vocabulary))
    findings = sorted(target.findings)
    answers: dict = {}  # what the answers should be, kept apart from the Workup under test
    not_assessed: set[str] = set()
    for _ in range(data.draw(st.integers(min_value=1, max_value=12))):
        if not findings:
            break
        finding = data.draw(st.sampled_from(findings))
        action = data.draw(st.sampled_from(["answer", "change", "withdraw", "skip"]))
        if action == "withdraw":
            workup = workup.withdraw(finding)
            answers.pop(finding, None)
            not_assessed.discard(finding)
        elif action == "skip":
            workup = workup.skip(finding)
            answers.pop(finding, None)
            not_assessed.add(finding)
        else:
            value = target.findings[finding] if action == "answer" else data.draw(
                value_strategy(kb.findings[finding]))
            after = {**answers, finding: value}
            if any(unmet_requirement(kb.vocabulary, f, after) for f in after):
                continue
            workup = workup.answer(finding, value)
            answers = after
            not_assessed.discard(finding)
        assert dict(workup.answers) == answers and workup.not_assessed == not_assessed
    fresh = Case(findings=answers, patient=target.patient, modalities=workup.modalities)
    stepped = reasoner.diagnose(workup.case(reasoner)).as_dict()
    expected = reasoner.diagnose(fresh).as_dict()
    stepped.pop("case")
    expected.pop("case")
    assert json.dumps(stepped, sort_keys=True) == json.dumps(expected, sort_keys=True)
