"""The next question: the most informative, relevant to the case, explained; and when to stop."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ossdx.advice.questions import QuestionAdvisor, answer_values, entropy
from ossdx.kb.case import unmet_requirement
from ossdx.reasoning.cases import make_case, read_case_folder
from ossdx.reasoning.scoring import softmax

from conftest import KB_DIR
from strategies import cases

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


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
    assert all(0 < q.report_rate <= 1 for q in ranked)
    assert all(q.value == (q.pair_value if q.for_pair else q.gain * q.report_rate) > 0
               for q in ranked)


def test_stops_when_confident(kb, advisor):
    """When the leader passes the threshold no question is asked, with the reason (the
    threshold set just below this case's leader, in a copy of the knowledge base)."""
    from dataclasses import replace

    from ossdx.reasoning.diagnosis import Reasoner

    case = make_case(kb, {"region": "sacrum", "si_joint_centered": "yes", "bilateral": "yes",
                          "marrow_edema": "yes", "si_joint_erosions": "yes",
                          "t2_signal": "hyper"},
                     {"age": 41, "sex": "F", "primary": "breast_idc",
                      "symptoms": ["inflammatory_back_pain"]}, modalities=["MRI"])
    leader, probs = _leader(advisor, case)
    top = probs[leader]
    assert top > 0.5
    settings = kb.settings.model_copy(update={"confidence_threshold": top - 0.01})
    manifest = kb.manifest.model_copy(update={"settings": settings})
    confident = QuestionAdvisor(Reasoner(replace(kb, manifest=manifest)))
    advice = confident.advise(case)
    assert advice.question is None
    assert "threshold" in advice.stop_reason and kb.name_of(leader) in advice.stop_reason


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


def _leader(advisor, case):
    probs = softmax(advisor.table.log_scores(advisor.reasoner.python.run(
        advisor.reasoner.facts(case))))
    return max(probs, key=lambda d: (probs[d], d)), probs


def test_not_assessed_findings_are_not_asked_again(kb, advisor):
    """A finding marked 'not assessed' leaves the candidates, the ranking and the advice."""
    case = make_case(kb, {"region": "spine"}, modalities=["CT", "MRI"])
    first = advisor.advise(case).question
    assert first is not None
    later = advisor.advise(case, None, {first.finding})
    assert first.finding not in advisor.candidates(case, None, {first.finding})
    assert first.finding not in {q.finding for q in later.ranked}
    assert later.question is None or later.question.finding != first.finding


def test_reporting_posterior_learns_from_what_is_not_reported(kb, advisor):
    """Q equals the differential before anything is reported; marking a finding 'not
    assessed' lowers Q for the diagnosis whose reports mention it most (and the chance of
    an answer is the Q-weighted report rate)."""
    case = make_case(kb, {}, {"primary": "breast_idc"}, modalities=["CT", "MRI"])
    _, probs = _leader(advisor, case)
    assert advisor.reporting_posterior(case, probs) == pytest.approx(probs)
    finding = "trabecular_pattern"
    most = max(probs, key=lambda d: kb.report_rate(finding, d))
    least = min(probs, key=lambda d: kb.report_rate(finding, d))
    assert kb.report_rate(finding, most) > kb.report_rate(finding, least)
    q = advisor.reporting_posterior(case, probs, {finding})
    assert q[most] / probs[most] < q[least] / probs[least]
    assert sum(q.values()) == pytest.approx(1.0)
    assert advisor.answerable(finding, q) < advisor.answerable(finding, probs)


def test_reporting_posterior_learns_from_what_is_reported(kb, advisor):
    """A reported finding raises Q for the diagnoses whose reports mention it most: Q is
    the differential times r_d of each reported finding (and 1 - r_d of each not assessed),
    normalised, as the answer model in kb.yaml states."""
    finding = "trabecular_pattern"
    case = make_case(kb, {finding: "coarse_vertical"}, {"primary": "breast_idc"},
                     modalities=["CT", "MRI"])
    _, probs = _leader(advisor, case)
    q = advisor.reporting_posterior(case, probs, {"matrix"})
    weights = {d: p * kb.report_rate(finding, d) * (1 - kb.report_rate("matrix", d))
               for d, p in probs.items()}
    assert q == pytest.approx({d: w / sum(weights.values()) for d, w in weights.items()})
    most = max(probs, key=lambda d: kb.report_rate(finding, d))
    assert advisor.reporting_posterior(case, probs)[most] > probs[most]


def _seed_states(kb):
    """Every seed case with its first k findings, for k = 0, 1, ... (in file order)."""
    for entry in read_case_folder(KB_DIR / "cases" / "seed", kb):
        order = list(entry.case.findings)
        for k in range(len(order) + 1):
            yield entry.case.with_findings({f: entry.case.findings[f] for f in order[:k]})


def test_pairs_that_complete_a_rule_are_valued_together(kb, advisor):
    """A question worth asking mainly with its partner (found on the seed cases) carries
    the partner, says so in WHY, and its joint gain equals the mutual information computed
    from full experta runs of every pair of answers."""
    found = next(((case, q) for case in _seed_states(kb) for q in advisor.rank(case)
                  if q.partner is not None and q.for_pair), None)
    assert found is not None, "no question on the seed cases completes a rule with another"
    case, q = found
    assert q.pair_gain > q.gain
    assert kb.name_of(q.partner) in q.why(kb)
    base = advisor.table.log_scores(advisor.reasoner.python.run(advisor.reasoner.facts(case)))
    prior = softmax(base)
    afters = []
    for a, _ in answer_values(kb.findings[q.finding]):
        for b, _ in answer_values(kb.findings[q.partner]):
            given = {**case.findings, q.finding: a, q.partner: b}
            if any(unmet_requirement(kb.vocabulary, f, given) is not None
                   for f in (q.finding, q.partner)):
                continue
            afters.append(advisor.table.log_scores(advisor.reasoner.experta.run(
                advisor.reasoner.facts(case.with_findings(given)))))
    expected = entropy(prior)
    for i in range(len(afters)):
        weights = {d: prior[d] * math.exp(afters[i][d] - base[d])
                   / sum(math.exp(after[d] - base[d]) for after in afters) for d in prior}
        p_v = sum(weights.values())
        expected -= p_v * entropy({d: w / p_v for d, w in weights.items()})
    assert q.pair_gain == pytest.approx(expected, abs=1e-9)


def _cannot_change_holds(kb, advisor, case, remaining, assignments) -> bool | None:
    """None if the bound allows a change; else whether every assignment keeps the leader."""
    facts = advisor.reasoner.facts(case)
    leader, _ = _leader(advisor, case)
    if advisor.leader_can_change(facts, advisor.reasoner.python.run(facts), remaining):
        return None
    return all(_leader(advisor, case.with_findings({**case.findings, **extra}))[0] == leader
               for extra in assignments)


@SETTINGS
@given(data=st.data())
def test_a_leader_that_cannot_change_does_not(data, kb, advisor):
    """When the stopping bound says no answers to some findings could change the leader,
    no answers to them (drawn at random, any of them together) change it."""
    case = data.draw(cases(kb, max_findings=14))
    candidates = advisor.candidates(case)
    if not candidates:
        return
    remaining = data.draw(st.lists(st.sampled_from(candidates), min_size=1, max_size=3,
                                   unique=True))
    choices = [[None, *{v for v, _ in answer_values(kb.findings[f])},
                *advisor.distinct_answers(f)] for f in remaining]
    assignments = [{f: v for f, v in zip(remaining, combo, strict=True) if v is not None}
                   for combo in itertools.product(*choices)]
    assert _cannot_change_holds(kb, advisor, case, remaining, assignments) in (None, True)


def test_the_stopping_bound_holds_on_the_seed_cases(kb, advisor):
    """For every seed case and every pair of its findings: where the bound says answering
    that pair cannot change the leader, no combination of their values does (and the
    bound does say so for some pairs, so this checks something)."""
    stopped = pairs = 0
    for entry in read_case_folder(KB_DIR / "cases" / "seed", kb):
        full = entry.case
        assert full is not None
        names = sorted(full.findings)
        for i, first in enumerate(names):
            for second in names[i + 1:]:
                case = full.with_findings({k: v for k, v in full.findings.items()
                                           if k not in (first, second)})
                assignments = [
                    {first: a, second: b}
                    for a, _ in answer_values(kb.findings[first])
                    for b, _ in answer_values(kb.findings[second])
                    if all(unmet_requirement(kb.vocabulary, f, {**case.findings, first: a,
                                                                second: b}) is None
                           for f in (first, second))]
                held = _cannot_change_holds(kb, advisor, case, [first, second], assignments)
                assert held in (None, True), (full.id, first, second)
                stopped += held is True
                pairs += 1
    assert stopped >= pairs / 3  # 92 of 191 pairs on 2026-12-06


def test_the_stopping_bound_sees_rules_that_need_two_answers(kb, advisor):
    """Where no single answer to either of two findings moves the leader but both together
    do (found on the seed cases), the bound with only those two left must not stop."""
    for case in _seed_states(kb):
        leader, _ = _leader(advisor, case)
        facts = advisor.reasoner.facts(case)
        for first, second in sorted(advisor.pairs(facts, set(advisor.candidates(case)))):
            singles = [case.with_findings({**case.findings, f: v}) for f in (first, second)
                       for v, _ in answer_values(kb.findings[f])]
            if any(_leader(advisor, alone)[0] != leader for alone in singles):
                continue
            together = [case.with_findings({**case.findings, first: a, second: b})
                        for a, _ in answer_values(kb.findings[first])
                        for b, _ in answer_values(kb.findings[second])]
            if any(_leader(advisor, both)[0] != leader for both in together):
                assert advisor.leader_can_change(facts, advisor.reasoner.python.run(facts),
                                                 [first, second])
                return
    pytest.fail("no pair on the seed cases changes the leader only together")


def test_adaptive_questions_settle_seed_cases_sooner_than_kb_order(kb, advisor):
    """On the seed cases the advisor's questions settle the final leader in well under the
    number of questions that knowledge-base order needs (it is what the advisor is for)."""
    from benchmarks.questions import adaptive, fixed, leader, run_strategy, settled_at

    seeds = [e.case for e in read_case_folder(KB_DIR / "cases" / "seed", kb)
             if e.case and e.case.findings]
    kb_order = list(kb.findings)
    totals = {"adaptive": 0, "kb_order": 0}
    for case in seeds:
        final = leader(advisor, case)
        for name, choose in (("adaptive", adaptive(advisor)),
                             ("kb_order", fixed(advisor, kb_order))):
            leaders, _ = run_strategy(advisor, case, choose)
            totals[name] += settled_at(leaders, final)
    assert totals["adaptive"] <= 0.7 * totals["kb_order"], totals
