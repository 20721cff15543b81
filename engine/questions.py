"""Which finding to ask about next, and why; and which test not yet done would help most.

The answer model (stated in kb.yaml ``answer_model`` and in the README): for a diagnosis
*d* and a value *v* of the candidate finding, ``P(v | d)`` is proportional to
``P(v | other) * L_d(v)``, where ``L_d(v)`` is the factor by which answering *v* would
multiply *d*'s unnormalised score (the product of the likelihood ratios the answer adds,
computed by running the rules on the case plus the answer) and ``P(v | other)`` is uniform
over the finding's values. The expected entropy of the differential after the question is
``sum_v P(v | case) H(D | case, v)`` with ``P(v | case) = sum_d P(d | case) P(v | d)`` and
``P(d | case, v)`` the Bayesian posterior under that model, so the expected reduction is the
mutual information between the diagnosis and the answer (never negative). The best question
maximises the expected reduction of entropy per question asked: the gain times the chance
that the finding can be answered rather than 'not assessed' (a question answered 'not
assessed' brings nothing), ``sum_d P(d | case) r_d(finding)`` with the report rates ``r_d``
of ``knowledge_base/reporting.yaml``. Near-ties (within ``settings.near_tie`` of the best)
prefer the topic of the previous question, then knowledge-base order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .cases import Case, unmet_requirement
from .diagnosis import Reasoner
from .inference import Trace, WhatIf
from .kb import schema
from .kb.model import MODALITIES, KnowledgeBase
from .scoring import ScoreTable, softmax


def entropy(probabilities: Mapping[str, float]) -> float:
    """Shannon entropy in bits."""
    return -sum(p * math.log2(p) for p in probabilities.values() if p > 0)


@dataclass(frozen=True)
class Outcome:
    """One possible answer and where it would leave the differential."""

    value: Any
    label: str
    probability: float
    leader: str
    leader_probability: float
    posterior: Mapping[str, float]


@dataclass(frozen=True)
class Question:
    """A finding to ask about, with the expected information it brings."""

    finding: str
    text: str
    help: str
    topic: str
    gain: float
    outcomes: tuple[Outcome, ...]
    separates: tuple[tuple[str, float], ...]
    changes_leader: bool
    report_rate: float = 1.0

    @property
    def value(self) -> float:
        """Expected information per question asked (gain x chance of an answer)."""
        return self.gain * self.report_rate

    def why(self, kb: KnowledgeBase) -> str:
        """MYCIN's WHY: which diagnoses this question separates, and by how much."""
        parts = [f"{kb.name_of(d)} (by up to {swing:.0%})" for d, swing in self.separates]
        text = f"Expected to reduce uncertainty by {self.gain:.2f} bits; it separates " \
               + ", ".join(parts) + "."
        leaders = {o.leader for o in self.outcomes if o.probability >= 0.05}
        if len(leaders) > 1:
            text += " Depending on the answer the leader becomes " + " or ".join(
                kb.name_of(d) for d in sorted(leaders)) + "."
        return text

    def as_dict(self, kb: KnowledgeBase) -> dict[str, Any]:
        return {
            "finding": self.finding,
            "question": self.text,
            "gain_bits": round(self.gain, 4),
            "why": self.why(kb),
            "separates": [{"id": d, "swing": round(s, 4)} for d, s in self.separates],
            "outcomes": [{"value": o.value, "label": o.label,
                          "probability": round(o.probability, 4), "leader": o.leader,
                          "leader_probability": round(o.leader_probability, 4)}
                         for o in self.outcomes],
        }


@dataclass(frozen=True)
class TestSuggestion:
    """A modality not yet performed that would separate the leading diagnoses best."""

    modality: str
    name: str
    radiation: str
    effective_dose_msv: float | None
    gain: float
    findings: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"modality": self.modality, "name": self.name, "radiation": self.radiation,
                "effective_dose_msv": self.effective_dose_msv, "gain_bits": round(self.gain, 4),
                "findings": list(self.findings)}


@dataclass(frozen=True)
class Advice:
    """The next question (or why none), and the next best test."""

    question: Question | None
    stop_reason: str | None
    test: TestSuggestion | None
    ranked: tuple[Question, ...] = ()


def answer_values(spec: schema.Variable) -> list[tuple[Any, str]]:
    """The answers considered for a finding: its values, or one number per bin."""
    if spec.type in ("number", "integer"):
        low, high = spec.range or (0.0, 1.0)
        edges = [low, *[b for b in spec.bins if low < b < high], high]
        result = []
        for i in range(len(edges) - 1):
            lo, hi = edges[i], edges[i + 1]
            value = (lo + hi) / 2 if i == 0 else lo
            unit = f" {spec.unit}" if spec.unit else ""
            label = f"{lo:g}-{hi:g}{unit}" if i < len(edges) - 2 else f">= {lo:g}{unit}"
            if i == 0:
                label = f"< {hi:g}{unit}"
            result.append((value, label))
        return result
    return [(v, s.label) for v, s in spec.values.items()]


class QuestionAdvisor:
    """Selects questions and tests for a case, using the fast rule evaluator."""

    def __init__(self, reasoner: Reasoner):
        self.reasoner = reasoner
        self.kb = reasoner.kb
        self.whatif = WhatIf(self.kb)
        self.table = ScoreTable(self.kb)

    def relevant(self, finding: str, facts: Mapping[str, Any]) -> bool:
        """Whether asking ``finding`` makes sense given the answers so far."""
        return self.kb.is_relevant(finding, facts)

    def candidates(self, case: Case, performed: frozenset[str] | None = None) -> list[str]:
        performed = self.kb.vocabulary.expand_modalities(
            case.modalities if performed is None else performed)
        facts = self.reasoner.facts(case)
        result = []
        for finding, spec in self.kb.findings.items():
            if finding in case.findings:
                continue
            if spec.needs and not performed & set(spec.needs):
                continue
            if not self.relevant(finding, facts):
                continue
            result.append(finding)
        return result

    # ------------------------------------------------------------------ scoring
    def _context(self, facts: Mapping[str, Any]) -> tuple[dict[str, Any], Trace,
                                                          dict[str, float]]:
        facts = dict(facts)
        trace = self.reasoner.python.run(facts)
        return facts, trace, self.table.log_scores(trace)

    def evaluate(self, case: Case, finding: str,
                 context: tuple[dict[str, Any], Trace, dict[str, float]] | None = None,
                 ) -> Question | None:
        """The expected information of asking ``finding`` (None if no answer can matter)."""
        kb = self.kb
        spec = kb.findings[finding]
        facts, base_trace, base = context or self._context(self.reasoner.facts(case))
        prior = softmax(base)
        h0 = entropy(prior)
        values = [(v, label) for v, label in answer_values(spec)
                  if unmet_requirement(kb.vocabulary, finding, {**case.findings, finding: v})
                  is None]
        if len(values) < 2:
            return None
        changed = frozenset({finding})
        outcomes_raw = []
        for value, label in values:
            trace = self.whatif.update(base_trace, {**facts, finding: value}, changed)
            outcomes_raw.append((value, label, self.table.log_scores(trace)))
        # P(v | d) proportional to L_d(v) (uniform P(v | other)); P(v | case) = sum_d ...
        likelihood: dict[str, list[float]] = {}
        for d in base:
            factors = [math.exp(after[d] - base[d]) for _, _, after in outcomes_raw]
            total = sum(factors)
            likelihood[d] = [f / total for f in factors]
        outcomes = []
        expected_h = 0.0
        for i, (value, label, after) in enumerate(outcomes_raw):
            p_v = sum(prior[d] * likelihood[d][i] for d in base)
            if p_v > 0:  # the Bayesian posterior under the answer model: gain = I(D; V) >= 0
                expected_h += p_v * entropy({d: prior[d] * likelihood[d][i] / p_v for d in base})
            posterior = softmax(after)  # what the user will see after answering v
            leader = max(posterior, key=lambda d: (posterior[d], d))
            outcomes.append(Outcome(value, label, p_v, leader, posterior[leader], posterior))
        swings = {d: max(o.posterior[d] for o in outcomes) - min(o.posterior[d] for o in outcomes)
                  for d in base}
        separates = tuple(sorted(((d, s) for d, s in swings.items() if s >= 0.01),
                                 key=lambda x: (-x[1], x[0]))[:3])
        current_leader = max(prior, key=lambda d: (prior[d], d))
        changes = any(o.leader != current_leader and o.probability > 0 for o in outcomes)
        answerable = sum(p * kb.report_rate(finding, d) for d, p in prior.items())
        return Question(finding, spec.question, spec.help, kb.finding_topics[finding],
                        max(0.0, h0 - expected_h), tuple(outcomes), separates, changes,
                        answerable)

    def rank(self, case: Case, performed: frozenset[str] | None = None) -> list[Question]:
        context = self._context(self.reasoner.facts(case))
        questions = []
        for finding in self.candidates(case, performed):
            q = self.evaluate(case, finding, context)
            if q is not None and q.gain > 1e-9:
                questions.append(q)
        order = {f: i for i, f in enumerate(self.kb.findings)}
        return sorted(questions, key=lambda q: (-q.value, order[q.finding]))

    def advise(self, case: Case, last_topic: str | None = None) -> Advice:
        """The next question, or why to stop; and the best test not yet performed."""
        kb = self.kb
        ranked = self.rank(case)
        probs = softmax(self._context(self.reasoner.facts(case))[2])
        leader = max(probs, key=lambda d: (probs[d], d))
        threshold = kb.settings.confidence_threshold
        test = self.next_test(case, ranked[0].gain if ranked else 0.0)
        if probs[leader] >= threshold:
            return Advice(None, f"{kb.name_of(leader)} has reached {probs[leader]:.0%} "
                          f"(threshold {threshold:.0%}).", test, tuple(ranked))
        if not self._leader_can_change(probs, leader, ranked):
            return Advice(None, "No remaining answers, even all together, could change the "
                          f"leading diagnosis ({kb.name_of(leader)}).", test, tuple(ranked))
        best = ranked[0]
        near = [q for q in ranked if q.value >= best.value * (1 - kb.settings.near_tie)]
        chosen = next((q for q in near if last_topic and q.topic == last_topic), best)
        return Advice(chosen, None, test, tuple(ranked))

    @staticmethod
    def _leader_can_change(probs: Mapping[str, float], leader: str,
                           ranked: Sequence[Question]) -> bool:
        """Whether some combination of remaining answers could overtake the leader.

        An optimistic bound: for each rival, add up, over the remaining questions, the best
        gain in log-odds against the leader any single answer gives. If even that sum cannot
        close the gap for any rival, nothing left can change the leader.
        """
        for rival, p in probs.items():
            if rival == leader or p <= 0:
                continue
            gap = math.log(probs[leader] / p)
            reach = 0.0
            for question in ranked:
                best = 0.0
                for outcome in question.outcomes:
                    after = outcome.posterior
                    if after[rival] > 0 and after[leader] > 0:
                        best = max(best, math.log(after[rival] / after[leader]) + gap)
                reach += best
                if reach > gap:
                    return True
        return False

    def next_test(self, case: Case, best_gain: float) -> TestSuggestion | None:
        """A bone-imaging modality not yet performed whose findings would separate best."""
        kb = self.kb
        performed = kb.vocabulary.expand_modalities(case.modalities)
        facts, base_trace, _ = self._context(self.reasoner.facts(case))
        current = set(self.candidates(case))
        best: TestSuggestion | None = None
        for mod_id, modality in kb.vocabulary.modalities.items():
            if mod_id in performed or modality.bone_imaging != "yes":
                continue
            with_mod = kb.vocabulary.expand_modalities(case.modalities | {mod_id})
            new_findings = [f for f in self.candidates(case, with_mod) if f not in current]
            mod_facts = {**facts, MODALITIES: with_mod}
            mod_trace = self.whatif.update(base_trace, mod_facts, frozenset({MODALITIES}))
            gains = []
            for finding in new_findings:
                q = self.evaluate(case, finding,
                                  (mod_facts, mod_trace, self.table.log_scores(mod_trace)))
                if q is not None:
                    gains.append((q.gain, finding))
            if not gains:
                continue
            gains.sort(key=lambda g: (-g[0], g[1]))
            gain = gains[0][0]
            suggestion = TestSuggestion(mod_id, modality.name, modality.radiation,
                                        modality.effective_dose_msv, gain,
                                        tuple(f for _, f in gains[:3]))
            if best is None or (gain, -_RADIATION[modality.radiation]) > (
                    best.gain, -_RADIATION[best.radiation]):
                best = suggestion
        if best is None or best.gain <= max(best_gain, 0.05):
            return None
        return best


_RADIATION = {"none": 0, "low": 1, "moderate": 2, "high": 3}


def simulate(advisor: QuestionAdvisor, start: Case, answers: Mapping[str, Any],
             order: Sequence[str] | None = None) -> list[str]:
    """Ask questions until the advisor stops, answering from ``answers``.

    With ``order`` the questions are asked in that fixed order instead of adaptively.
    Returns the findings asked, in order (answers missing from ``answers`` count as
    'not assessed' and are skipped).
    """
    case = start
    asked: list[str] = []
    skipped: set[str] = set()
    topic = None
    while True:
        if order is None:
            advice = advisor.advise(case, topic)
            pool = [q for q in advice.ranked if q.finding not in skipped]
            if advice.question is None or not pool:
                break
            question = advice.question if advice.question.finding not in skipped else pool[0]
            finding = question.finding
            topic = question.topic
        else:
            remaining = [f for f in order if f not in case.findings and f not in skipped
                         and f in advisor.candidates(case)]
            if not remaining:
                break
            finding = remaining[0]
        asked.append(finding)
        if finding in answers:
            case = case.with_findings({**case.findings, finding: answers[finding]})
        else:
            skipped.add(finding)
    return asked
